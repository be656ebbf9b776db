"""Assignment 7: (inverted) dropout.

    python -m mtorch.testing dropout.py::Dropout --spec ../specs.py
"""
import numpy as np

import mtorch
from mtorch import Layer


class Dropout(Layer):
    """In training mode zero each entry with probability p and scale the others by 1 / (1 - p).

    Forward (training)::

        mask = (u >= p) / (1 - p),   u ~ U[0, 1) of x's shape
        y = x * mask

    Draw u from ``mtorch.random.generator()`` (``.random(x.shape)``), so that a
    seed fixes the masks (the gradient check replays them). The scaling keeps
    the expected output equal to x, so in eval mode (``self.training`` False)
    dropout is the identity. Backward: derive dL/dx.

    Shape: any; y and dL/dx have x's shape.
    """

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p
        self._mask = None

    def forward(self, x):
        """Return y; cache the mask."""
        raise NotImplementedError("Dropout.forward")

    def backward(self, grad_out):
        """Return dL/dx."""
        raise NotImplementedError("Dropout.backward")
