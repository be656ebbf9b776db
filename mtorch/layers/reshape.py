"""Layers that only change an array's shape: Flatten, Unflatten and Reshape.

Backward reshapes the gradient back to the input's shape; nothing else
changes, because reshaping moves no values.
"""
import math
import numbers

import numpy as np

from ..errors import ShapeError
from ..layer import Layer
from ..validation import check_int


def _sizes(owner, name, value):
    """A tuple of ints >= -1 (at most one -1) from an int or a sequence of ints."""
    sizes = (value,) if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)) else value
    if not isinstance(sizes, (tuple, list)) or not all(
            isinstance(s, numbers.Integral) and not isinstance(s, (bool, np.bool_)) for s in sizes):
        raise TypeError(f"{owner}: {name} must be an int or a tuple of ints, got {value!r} ({type(value).__name__})")
    if any(s < -1 for s in sizes) or list(sizes).count(-1) > 1:
        raise ValueError(f"{owner}: {name} must hold sizes >= 0 and at most one -1, got {tuple(sizes)!r}")
    return tuple(int(s) for s in sizes)


class _ShapeOnly(Layer):
    """Forward reshapes with ``_target(shape)``; backward undoes it."""

    def __init__(self):
        super().__init__()
        self._in_shape = self._out_shape = None

    def forward(self, x):
        x = self.check_input(x, (...,))
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

    Example:
        >>> Flatten()(np.zeros((2, 3, 4, 4))).shape
        (2, 48)
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = check_int(self, "start_dim", start_dim)
        self.end_dim = check_int(self, "end_dim", end_dim)

    def _target(self, shape):
        n = max(len(shape), 1)                  # a scalar flattens to shape (1,), as in PyTorch
        if not (-n <= self.start_dim < n and -n <= self.end_dim < n):
            raise IndexError
        start, end = self.start_dim % n, self.end_dim % n
        if start > end:
            raise ValueError
        return shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:]

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(_ShapeOnly):
    """Split dimension ``dim`` into ``unflattened_size``, the inverse of Flatten.

    ``Unflatten(1, (1, 28, 28))`` turns ``(N, 784)`` into ``(N, 1, 28, 28)``; one
    size may be -1 (inferred). Shape: ``(*, S, *) -> (*, U1, ..., Un, *)`` with
    ``S = U1 * ... * Un``.

    Example:
        >>> Unflatten(1, (2, 5))(np.zeros((3, 10))).shape
        (3, 2, 5)
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim = check_int(self, "dim", dim)
        self.unflattened_size = _sizes("Unflatten", "unflattened_size", unflattened_size)

    def _target(self, shape):
        if not -len(shape) <= self.dim < len(shape):
            raise IndexError
        dim = self.dim % len(shape)
        sizes = self.unflattened_size
        if -1 not in sizes and math.prod(sizes) != shape[dim]:
            raise ValueError
        return shape[:dim] + sizes + shape[dim + 1:]

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Reshape(_ShapeOnly):
    """Reshape each sample to ``shape``, keeping the batch dimension.

    ``Reshape((1, 28, 28))`` turns ``(N, 784)`` into ``(N, 1, 28, 28)``; one
    entry may be -1 (inferred from the sample's size). (PyTorch has no such
    layer; ``Unflatten(1, shape)`` is its equivalent.)

    Example:
        >>> Reshape((1, 28, 28))(np.zeros((5, 784))).shape
        (5, 1, 28, 28)
    """

    def __init__(self, shape):
        super().__init__()
        self.shape = _sizes("Reshape", "shape", shape)

    def _target(self, shape):
        return (shape[0],) + self.shape                # a 0-d input has no batch axis: IndexError

    def extra_repr(self):
        return f"shape={self.shape}"
