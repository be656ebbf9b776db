"""Assignment 1: the fully connected layer, y = x W^T + b.

Implement ``forward`` and ``backward``; ``__init__`` is written for you (PyTorch's
names, shapes and initialisation, so the grader can compare your layer with
``mtorch.layers.Linear`` given the same weights). Check your work any time with::

    python -m mtorch.testing linear.py::Linear --args 5,3
"""
import numpy as np

import mtorch
from mtorch import Layer, Parameter


class Linear(Layer):
    """Affine map of the last axis: ``y = x W^T + b``.

    Forward::

        y[n, j] = sum_i x[n, i] W[j, i] + b[j]

    Backward: given ``g = dL/dy`` of shape ``(N, out)``, derive and return
    ``dL/dx`` (the shape of x) and add ``dL/dW`` and ``dL/db`` to the
    parameters with ``self.weight.add_grad(...)`` and ``self.bias.add_grad(...)``.
    Hints: write one entry of y as a sum and differentiate it; a parameter's
    gradient has the parameter's shape; b is used by every sample, so its
    gradient is a sum over the batch.

    Args:
        in_features, out_features: sizes of x's and y's last axis.

    Shape: x ``(N, in_features)``, y ``(N, out_features)``.
    Parameters: ``weight`` ``(out_features, in_features)``, ``bias`` ``(out_features,)``,
    both ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).
    """

    def __init__(self, in_features, out_features):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / np.sqrt(in_features)
        rng = mtorch.random.generator()
        self.weight = Parameter(rng.uniform(-bound, bound, (out_features, in_features)))
        self.bias = Parameter(rng.uniform(-bound, bound, out_features))
        self._x = None                      # the cache: what backward will need

    def forward(self, x):
        """Return y; cache what backward needs. Start with ``x = self.check_input(x, ("N", self.in_features))``."""
        raise NotImplementedError("Linear.forward")

    def backward(self, grad_out):
        """Add dL/dW and dL/db to the parameters; return dL/dx. Start with ``self.check_grad_out(...)``."""
        raise NotImplementedError("Linear.backward")
