"""Assignment 8: a recurrent layer and backpropagation through time (BPTT).

    python -m mtorch.testing rnn.py::RNN --spec ../specs.py
"""
import numpy as np

import mtorch
from mtorch import Layer, Parameter


class RNN(Layer):
    """One Elman RNN layer over a sequence, tanh cell, as PyTorch's ``RNN(input_size, hidden_size)``.

    Forward, for t = 1..T with h_0 = 0::

        a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
        h_t = tanh(a_t)
        output = (h_1, ..., h_T)

    Keep every step's values (h_t for all t, not only the last): backward needs them all.

    Backward through time, given ``g_t = dL/dh_t`` from the output, for t = T..1::

        dh_t = g_t + (what step t+1 sent back to h_t)
        da_t = dh_t * (1 - h_t^2)
        step t sends da_t W_hh back to h_{t-1}

    Derive the parameter gradients: W_ih, W_hh, b_ih and b_hh are used at
    every step, so their gradients are sums over t (and over the batch).
    Return dL/dx, ``da_t W_ih`` at every t.

    Shape: x ``(T, N, input_size)``, output ``(T, N, hidden_size)``.
    Parameters (PyTorch's names): ``weight_ih_l0`` ``(H, input_size)``, ``weight_hh_l0`` ``(H, H)``,
    ``bias_ih_l0``, ``bias_hh_l0`` ``(H,)``, all ~ U(-1/sqrt(H), 1/sqrt(H)).
    """

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        bound = 1 / np.sqrt(hidden_size)
        rng = mtorch.random.generator()
        self.weight_ih_l0 = Parameter(rng.uniform(-bound, bound, (hidden_size, input_size)))
        self.weight_hh_l0 = Parameter(rng.uniform(-bound, bound, (hidden_size, hidden_size)))
        self.bias_ih_l0 = Parameter(rng.uniform(-bound, bound, hidden_size))
        self.bias_hh_l0 = Parameter(rng.uniform(-bound, bound, hidden_size))
        self._cache = None

    def forward(self, x):
        """Return the hidden states of every step; cache them (and x)."""
        raise NotImplementedError("RNN.forward")

    def backward(self, grad_out):
        """Backpropagate through time: add the parameter gradients; return dL/dx."""
        raise NotImplementedError("RNN.backward")
