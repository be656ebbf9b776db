"""Assignment 9: the LSTM layer.

    python -m mtorch.testing lstm.py::LSTM --spec ../specs.py
"""
import numpy as np

import mtorch
from mtorch import Layer, Parameter


class LSTM(Layer):
    """One LSTM layer over a sequence, as PyTorch's ``LSTM(input_size, hidden_size)``.

    Forward, for t = 1..T with h_0 = c_0 = 0, gates in PyTorch's order i, f, g, o
    (rows ``[0:H]``, ``[H:2H]``, ``[2H:3H]``, ``[3H:4H]`` of the weights)::

        [a_i, a_f, a_g, a_o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
        i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)
        output = (h_1, ..., h_T)

    Backward through time: two states carry gradient from step t+1 back to
    step t, h and c. Derive dL/dc_t (from h_t = o tanh(c_t) and from c_{t+1}),
    then each gate's pre-activation gradient (sigmoid' = s (1 - s),
    tanh' = 1 - tanh^2), then the parameters' gradients (sums over t) and dL/dx.

    Shape: x ``(T, N, input_size)``, output ``(T, N, hidden_size)``.
    Parameters: ``weight_ih_l0`` ``(4H, input_size)``, ``weight_hh_l0`` ``(4H, H)``,
    ``bias_ih_l0``, ``bias_hh_l0`` ``(4H,)``, all ~ U(-1/sqrt(H), 1/sqrt(H)).
    """

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        bound = 1 / np.sqrt(hidden_size)
        rng = mtorch.random.generator()
        self.weight_ih_l0 = Parameter(rng.uniform(-bound, bound, (4 * hidden_size, input_size)))
        self.weight_hh_l0 = Parameter(rng.uniform(-bound, bound, (4 * hidden_size, hidden_size)))
        self.bias_ih_l0 = Parameter(rng.uniform(-bound, bound, 4 * hidden_size))
        self.bias_hh_l0 = Parameter(rng.uniform(-bound, bound, 4 * hidden_size))
        self._cache = None

    def forward(self, x):
        """Return the hidden states of every step; cache every step's gates and cell states."""
        raise NotImplementedError("LSTM.forward")

    def backward(self, grad_out):
        """Backpropagate through time: add the parameter gradients; return dL/dx."""
        raise NotImplementedError("LSTM.backward")
