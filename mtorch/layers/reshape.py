"""Layers that only change an array's shape: Flatten and Reshape.

Backward reshapes the gradient back to the input's shape; nothing else
changes, because reshaping moves no values.
"""
import numpy as np

from ..errors import ShapeError
from ..layer import Layer


class _ShapeOnly(Layer):
    """Forward reshapes with ``_target(shape)``; backward undoes it."""

    def __init__(self):
        super().__init__()
        self._in_shape = self._out_shape = None

    def forward(self, x):
        x = np.asarray(x)
        try:
            y = x.reshape(self._target(x.shape))
        except (ValueError, IndexError, ZeroDivisionError):
            raise ShapeError(f"{self._short_repr()}: cannot reshape input of shape {x.shape}") from None
        self._in_shape, self._out_shape = x.shape, y.shape
        return y

    def backward(self, grad_out):
        return self.check_grad_out(grad_out, self._out_shape).reshape(self._in_shape)


class Flatten(_ShapeOnly):
    """Merge dimensions ``start_dim..end_dim`` into one (PyTorch's defaults: 1 and -1).

    Shape: ``(N, C, H, W) -> (N, C*H*W)`` with the defaults.
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def _target(self, shape):
        n = len(shape)
        if not (-n <= self.start_dim < n and -n <= self.end_dim < n):
            raise IndexError
        start, end = self.start_dim % n, self.end_dim % n
        if start > end:
            raise ValueError
        return shape[:start] + (int(np.prod(shape[start:end + 1])),) + shape[end + 1:]

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Reshape(_ShapeOnly):
    """Reshape each sample to ``shape``, keeping the batch dimension.

    ``Reshape((1, 28, 28))`` turns ``(N, 784)`` into ``(N, 1, 28, 28)``; one
    entry may be -1 (inferred from the sample's size).
    """

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(int(s) for s in np.atleast_1d(shape))

    def _target(self, shape):
        return shape[:1] + self.shape

    def extra_repr(self):
        return f"shape={self.shape}"
