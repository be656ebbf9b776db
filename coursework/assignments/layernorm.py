"""Assignment 10: layer normalisation.

    python -m mtorch.testing layernorm.py::LayerNorm --spec ../specs.py
"""
import numpy as np

from mtorch import Layer, Parameter


class LayerNorm(Layer):
    """Normalise each sample over its last axis, then scale and shift (PyTorch's LayerNorm).

    Forward, over the D = normalized_shape entries of the last axis::

        mu = mean(x),  var = mean((x - mu)^2)          (biased: divide by D)
        x_hat = (x - mu) / sqrt(var + eps)
        y = gamma * x_hat + beta                       (gamma = weight, beta = bias)

    Backward, with ``g = dL/dy``: derive ``dL/dgamma`` and ``dL/dbeta`` (sums
    over every axis but the last) and ``dL/dx``. Do not forget gamma on the
    way to x: dL/dx_hat = g * gamma. (It starts at ones, so a check at the
    initial values would not notice; the grader's will.)

    Shape: x and y ``(..., normalized_shape)``: any leading axes.
    Parameters: ``weight`` (ones), ``bias`` (zeros), ``(normalized_shape,)``.
    """

    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.normalized_shape, self.eps = normalized_shape, eps
        self.weight = Parameter(np.ones(normalized_shape))
        self.bias = Parameter(np.zeros(normalized_shape))
        self._cache = None

    def forward(self, x):
        """Return y; cache what backward needs."""
        raise NotImplementedError("LayerNorm.forward")

    def backward(self, grad_out):
        """Add dL/dgamma and dL/dbeta; return dL/dx."""
        raise NotImplementedError("LayerNorm.backward")
