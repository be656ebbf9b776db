"""Assignment 12: single-head causal self-attention (the heart of a GPT block).

    python -m mtorch.testing attention.py::CausalSelfAttention --spec ../specs.py
"""
import numpy as np

import mtorch
from mtorch import Layer, Parameter
from mtorch.layers import Linear


class CausalSelfAttention(Layer):
    """Each position attends to itself and the positions before it.

    Forward, for x ``(N, T, E)`` (batch first)::

        [Q, K, V] = x W_in^T + b_in                     split into three (N, T, E) blocks
        S = Q K^T / sqrt(E)                             (N, T, T) scores
        S[:, t, u] = -inf for u > t                     the causal mask: no peeking ahead
        P = softmax(S) over the last axis
        y = out_proj(P V)                               out_proj is a Linear(E, E)

    Backward, with ``g = dL/dy``: the Linear gives ``dL/d(PV)``; derive
    dL/dV, dL/dP, the softmax's backward (row by row: ``dS = P * (dP - sum(dP * P))``),
    dL/dQ and dL/dK (mind the transposes), then dL/dW_in, dL/db_in and dL/dx.
    Compute in x's dtype: ``/ np.sqrt(E)`` is a float64 NumPy scalar that turns
    float32 arrays into float64; ``x.dtype.type(1 / np.sqrt(E))`` does not.

    Shape: x and y ``(N, T, embed_dim)``.
    Parameters (PyTorch's MultiheadAttention names): ``in_proj_weight`` ``(3E, E)``,
    ``in_proj_bias`` ``(3E,)``, ``out_proj.weight`` ``(E, E)``, ``out_proj.bias`` ``(E,)``.
    """

    def __init__(self, embed_dim):
        super().__init__()
        self.embed_dim = embed_dim
        bound = np.sqrt(6 / (4 * embed_dim))
        self.in_proj_weight = Parameter(mtorch.random.generator().uniform(-bound, bound, (3 * embed_dim, embed_dim)))
        self.in_proj_bias = Parameter(np.zeros(3 * embed_dim))
        self.out_proj = Linear(embed_dim, embed_dim)
        self._cache = None

    def forward(self, x):
        """Return y; cache what backward needs. Call ``self.out_proj(...)`` for the last step."""
        raise NotImplementedError("CausalSelfAttention.forward")

    def backward(self, grad_out):
        """Add dL/dW_in and dL/db_in (``self.out_proj.backward`` adds its own); return dL/dx."""
        raise NotImplementedError("CausalSelfAttention.backward")
