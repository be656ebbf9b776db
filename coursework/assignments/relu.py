"""Assignment 2: the rectified linear unit, y = max(x, 0).

    python -m mtorch.testing relu.py::ReLU --input-shape 4,6
"""
import numpy as np

from mtorch import Layer


class ReLU(Layer):
    """``y = max(x, 0)``, element by element.

    Backward: derive ``dL/dx`` from ``g = dL/dy`` (what is ``dy/dx`` for x > 0,
    and for x < 0?). Never change ``x`` or ``grad_out`` in place: the layer
    before yours, or the data set, still holds them.

    Shape: any; y and dL/dx have x's shape.
    """

    def __init__(self):
        super().__init__()
        self._x = None

    def forward(self, x):
        """Return y; cache what backward needs. Start with ``x = self.check_input(x, (...,))``."""
        raise NotImplementedError("ReLU.forward")

    def backward(self, grad_out):
        """Return dL/dx."""
        raise NotImplementedError("ReLU.backward")
