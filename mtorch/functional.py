"""Numerically stable functions shared by layers and losses: plain numpy, no state, no backward.

Both are written so that no ``exp`` ever sees a large positive argument,
which is what makes logits of +-1000 safe.
"""
import numpy as np


def sigmoid(x):
    """``1 / (1 + exp(-x))``, as ``exp(x) / (1 + exp(x))`` where x < 0, so no exp overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def log_softmax(x, axis=-1):
    """``x - log sum_j exp(x_j)`` along ``axis``, computed as ``s - log sum_j exp(s_j)`` with
    ``s = x - max(x)``: every exponent is <= 0, so nothing overflows, and the sum is >= 1,
    so its log is finite."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
