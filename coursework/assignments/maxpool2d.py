"""Assignment 5: 2-d max pooling.

    python -m mtorch.testing maxpool2d.py::MaxPool2d --args 2 --input-shape 2,3,6,6 \
        --reference mtorch.layers.MaxPool2d
"""
import numpy as np

from mtorch import Layer


class MaxPool2d(Layer):
    """The maximum of each ``k x k`` window of every channel, windows ``stride`` apart.

    Forward::

        y[n, c, i, j] = max_{p, q < k} x[n, c, i*s + p, j*s + q]      (s = stride, default k)

    Backward: only the entry that was the maximum of its window influenced
    y[n, c, i, j], so it alone receives ``g[n, c, i, j]`` (windows may overlap
    when s < k: add). Cache where the maxima were.

    Shape: x ``(N, C, H, W)``, y ``(N, C, (H - k) // s + 1, (W - k) // s + 1)``.
    """

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self._cache = None

    def forward(self, x):
        """Return y; cache what backward needs."""
        raise NotImplementedError("MaxPool2d.forward")

    def backward(self, grad_out):
        """Return dL/dx."""
        raise NotImplementedError("MaxPool2d.backward")
