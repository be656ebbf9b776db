"""Padding layers: ``ZeroPad``, ``ConstantPad``, ``ReflectionPad``, ``ReplicationPad``, ``CircularPad`` (1-d and 2-d).

Padding adds ``before`` and ``after`` entries along each padded axis.
Constant padding writes a value there (a negative amount crops instead).
The other modes copy input entries: padded position ``m`` along an axis
of length L holds ``x[idx(m)]`` for ``m = -before .. L + after - 1``::

    reflect:    idx(m) = |m| reflected at L - 1   (... x2 x1 | x0 x1 x2 ... | x_{L-2} ...)
    replicate:  idx(m) = clip(m, 0, L - 1)         (... x0 x0 | x0 x1 ...)
    circular:   idx(m) = m mod L                   (... x_{L-1} | x0 x1 ...)

so padding is a gather ``y = x[..., idx_h[:, None], idx_w]``, and its
backward the adjoint of a gather: each input entry receives the sum of the
gradients of every padded position that copied it (``take_adjoint``).
Constant padding's backward is the crop of the gradient to the input.

``pad`` and ``pad_backward`` are also what ``Conv1d``/``Conv2d`` use for
their ``padding_mode``.
"""
import math

import numpy as np

from ..errors import ShapeError
from ..layer import Layer
from ..validation import check_ints, check_real
from ._windows import Images, take_adjoint

MODES = ("constant", "reflect", "replicate", "circular")


def pad_index(size, before, after, mode):
    """The input index each padded position copies along one axis of length ``size`` (modes other than constant)."""
    m = np.arange(-before, size + after)
    if mode == "reflect":
        m = np.abs(m)
        return np.where(m > size - 1, 2 * (size - 1) - m, m)
    if mode == "replicate":
        return np.clip(m, 0, size - 1)
    return m % size


def pad(x, pads, mode="constant", value=0.0, owner=None, least=1):
    """``x`` padded on its last ``len(pads)`` axes by ``pads = ((before, after), ...)``.

    Constant padding keeps ``x``'s memory layout and may crop (negative amounts).
    Reflection needs ``padding < size``, circular ``padding <= size``, replication
    a non-empty axis, a crop must leave ``least`` entries: else ``ShapeError``
    naming ``owner`` (a layer).
    """
    axes = range(x.ndim - len(pads), x.ndim)
    for size, (before, after) in zip(x.shape[-len(pads):], pads):
        limit = {"reflect": size - 1, "circular": size, "replicate": math.inf if size else 0}.get(mode)
        if size + before + after < least or (limit is not None and max(before, after) > limit):
            need = {"reflect": "smaller than", "circular": "at most"}.get(mode, "compatible with")
            name = "pad" if owner is None else owner._short_repr()
            raise ShapeError(f"{name}: {mode} padding {(before, after)} must be {need} the input size {size} "
                             f"along that axis")
    if mode != "constant":
        for axis, (before, after) in zip(axes, pads):
            x = np.take(x, pad_index(x.shape[axis], before, after, mode), axis=axis)
        return x
    if all(before <= 0 and after <= 0 for before, after in pads):       # a crop: a view
        return x[(...,) + tuple(slice(-b, x.shape[a] + e) for a, (b, e) in zip(axes, pads))]
    shape = x.shape[:len(x.shape) - len(pads)] + tuple(x.shape[a] + b + e for a, (b, e) in zip(axes, pads))
    out = np.full_like(x, value, shape=shape)
    source = (...,) + tuple(slice(max(-b, 0), x.shape[a] - max(-e, 0)) for a, (b, e) in zip(axes, pads))
    target = (...,) + tuple(slice(max(b, 0), out.shape[a] - max(e, 0)) for a, (b, e) in zip(axes, pads))
    out[target] = x[source]
    return out


def pad_backward(g, pads, mode, shape):
    """The gradient of ``pad`` for an input of ``shape``, given ``g`` = dL/d(padded output).

    Constant padding's adjoint is padding by minus the amounts (``shape`` is not needed).
    """
    axes = range(g.ndim - len(pads), g.ndim)
    if mode != "constant":
        for axis, (before, after) in zip(axes, pads):
            g = take_adjoint(g, pad_index(shape[axis], before, after, mode), shape[axis], axis)
        return g
    return pad(g, tuple((-b, -e) for b, e in pads), least=0)   # crop what was padded, zeros where x was cropped


class _PadNd(Layer):
    """Shared forward and backward; subclasses set ``dims`` and ``mode``.

    Shape: ``(N, C, L)`` or ``(C, L)`` (1-d), ``(N, C, H, W)`` or ``(C, H, W)``
    (2-d) -> the same with ``L + left + right``, ``H + top + bottom``, ``W + left + right``.
    """

    dims, mode, value = 2, "constant", 0.0

    def __init__(self, padding):
        super().__init__()
        name = type(self).__name__
        minimum = None if self.mode == "constant" else 0
        self.padding = check_ints(name, "padding", padding, 2 * self.dims, minimum)
        p = self.padding                             # PyTorch's order: last axis first (left, right, top, bottom)
        self._pads = ((p[0], p[1]),) if self.dims == 1 else ((p[2], p[3]), (p[0], p[1]))
        self._images = None

    def forward(self, x):
        images = Images(self, x, self.dims)
        x = images.x if self.dims == 2 else images.x[:, :, 0]
        y = pad(x, self._pads, self.mode, self.value, owner=self)
        self._images, self._out_shape = images, y.shape
        return y.reshape(images.shape[:-self.dims] + y.shape[-self.dims:])

    def backward(self, grad_out):
        images = self._images
        g = self.check_grad_out(grad_out, None if images is None else
                                images.shape[:-self.dims] + self._out_shape[-self.dims:])
        in_shape = images.x.shape if self.dims == 2 else images.x.shape[:2] + images.x.shape[3:]
        return pad_backward(g.reshape(self._out_shape), self._pads, self.mode, in_shape).reshape(images.shape)

    def extra_repr(self):
        return f"{self.padding}" + (f", value={self.value}" if self.mode == "constant" and self.value else "")


class ZeroPad1d(_PadNd):
    """Pad the last axis with zeros: ``y`` is ``x`` with zeros around it (negative amounts crop).
    PyTorch's ``nn.ZeroPad1d``.

    Forward: ``y`` is ``x`` surrounded by zeros; backward: ``dL/dx`` is ``dL/dy``
    cropped back to the input (zero where the input itself was cropped).

    Args:
        padding: an int (every side) or ``(left, right)``.

    Shape: see ``_PadNd``.

    Example:
        >>> ZeroPad1d((1, 2))(np.ones((2, 3, 4))).shape
        (2, 3, 7)
    """

    dims, mode = 1, "constant"

    def __init__(self, padding):
        super().__init__(padding)


class ZeroPad2d(_PadNd):
    """Pad the last two axes with zeros: ``y`` is ``x`` with zeros around it (negative amounts crop).
    PyTorch's ``nn.ZeroPad2d``.

    Forward: ``y`` is ``x`` surrounded by zeros; backward: ``dL/dx`` is ``dL/dy``
    cropped back to the input (zero where the input itself was cropped).

    Args:
        padding: an int (every side) or ``(left, right, top, bottom)``.

    Shape: see ``_PadNd``.

    Example:
        >>> ZeroPad2d((1, 1, 2, 0))(np.ones((2, 3, 4, 4))).shape
        (2, 3, 6, 6)
    """

    dims, mode = 2, "constant"

    def __init__(self, padding):
        super().__init__(padding)


class ConstantPad1d(_PadNd):
    """Pad the last axis with ``value`` (negative amounts crop).
    PyTorch's ``nn.ConstantPad1d``.

    Forward: ``y`` is ``x`` surrounded by ``value``; backward: ``dL/dx`` is ``dL/dy``
    cropped back to the input (zero where the input itself was cropped).

    Args:
        padding: an int (every side) or ``(left, right)``.
        value: the number written into the padding.

    Shape: see ``_PadNd``.

    Example:
        >>> ConstantPad1d((1, 2), 3.5)(np.ones((2, 3, 4))).shape
        (2, 3, 7)
    """

    dims, mode = 1, "constant"

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = check_real("ConstantPad1d", "value", value, allow_inf=True)


class ConstantPad2d(_PadNd):
    """Pad the last two axes with ``value`` (negative amounts crop).
    PyTorch's ``nn.ConstantPad2d``.

    Forward: ``y`` is ``x`` surrounded by ``value``; backward: ``dL/dx`` is ``dL/dy``
    cropped back to the input (zero where the input itself was cropped).

    Args:
        padding: an int (every side) or ``(left, right, top, bottom)``.
        value: the number written into the padding.

    Shape: see ``_PadNd``.

    Example:
        >>> ConstantPad2d((1, 1, 2, 0), 3.5)(np.ones((2, 3, 4, 4))).shape
        (2, 3, 6, 6)
    """

    dims, mode = 2, "constant"

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = check_real("ConstantPad2d", "value", value, allow_inf=True)


class ReflectionPad1d(_PadNd):
    """Pad by reflection at the edges, the edge itself not repeated (padding < input size).
    PyTorch's ``nn.ReflectionPad1d``.

    Forward: ``y[..., m] = x[..., idx(m)]`` (reflect, see the module docstring);
    backward: ``dL/dx[k] = sum of dL/dy[m] over the m with idx(m) = k``.

    Args:
        padding: an int (every side) or ``(left, right)``.

    Shape: see ``_PadNd``.

    Example:
        >>> ReflectionPad1d((1, 2))(np.ones((2, 3, 4))).shape
        (2, 3, 7)
    """

    dims, mode = 1, "reflect"

    def __init__(self, padding):
        super().__init__(padding)


class ReflectionPad2d(_PadNd):
    """Pad by reflection at the edges, the edge itself not repeated (padding < input size).
    PyTorch's ``nn.ReflectionPad2d``.

    Forward: ``y[..., m] = x[..., idx(m)]`` (reflect, see the module docstring);
    backward: ``dL/dx[k] = sum of dL/dy[m] over the m with idx(m) = k``.

    Args:
        padding: an int (every side) or ``(left, right, top, bottom)``.

    Shape: see ``_PadNd``.

    Example:
        >>> ReflectionPad2d((1, 1, 2, 0))(np.ones((2, 3, 4, 4))).shape
        (2, 3, 6, 6)
    """

    dims, mode = 2, "reflect"

    def __init__(self, padding):
        super().__init__(padding)


class ReplicationPad1d(_PadNd):
    """Pad by repeating the edge entry.
    PyTorch's ``nn.ReplicationPad1d``.

    Forward: ``y[..., m] = x[..., idx(m)]`` (replicate, see the module docstring);
    backward: ``dL/dx[k] = sum of dL/dy[m] over the m with idx(m) = k``.

    Args:
        padding: an int (every side) or ``(left, right)``.

    Shape: see ``_PadNd``.

    Example:
        >>> ReplicationPad1d((1, 2))(np.ones((2, 3, 4))).shape
        (2, 3, 7)
    """

    dims, mode = 1, "replicate"

    def __init__(self, padding):
        super().__init__(padding)


class ReplicationPad2d(_PadNd):
    """Pad by repeating the edge entry.
    PyTorch's ``nn.ReplicationPad2d``.

    Forward: ``y[..., m] = x[..., idx(m)]`` (replicate, see the module docstring);
    backward: ``dL/dx[k] = sum of dL/dy[m] over the m with idx(m) = k``.

    Args:
        padding: an int (every side) or ``(left, right, top, bottom)``.

    Shape: see ``_PadNd``.

    Example:
        >>> ReplicationPad2d((1, 1, 2, 0))(np.ones((2, 3, 4, 4))).shape
        (2, 3, 6, 6)
    """

    dims, mode = 2, "replicate"

    def __init__(self, padding):
        super().__init__(padding)


class CircularPad1d(_PadNd):
    """Pad by wrapping around, as if the input were periodic (padding <= input size).
    PyTorch's ``nn.CircularPad1d``.

    Forward: ``y[..., m] = x[..., idx(m)]`` (circular, see the module docstring);
    backward: ``dL/dx[k] = sum of dL/dy[m] over the m with idx(m) = k``.

    Args:
        padding: an int (every side) or ``(left, right)``.

    Shape: see ``_PadNd``.

    Example:
        >>> CircularPad1d((1, 2))(np.ones((2, 3, 4))).shape
        (2, 3, 7)
    """

    dims, mode = 1, "circular"

    def __init__(self, padding):
        super().__init__(padding)


class CircularPad2d(_PadNd):
    """Pad by wrapping around, as if the input were periodic (padding <= input size).
    PyTorch's ``nn.CircularPad2d``.

    Forward: ``y[..., m] = x[..., idx(m)]`` (circular, see the module docstring);
    backward: ``dL/dx[k] = sum of dL/dy[m] over the m with idx(m) = k``.

    Args:
        padding: an int (every side) or ``(left, right, top, bottom)``.

    Shape: see ``_PadNd``.

    Example:
        >>> CircularPad2d((1, 1, 2, 0))(np.ones((2, 3, 4, 4))).shape
        (2, 3, 6, 6)
    """

    dims, mode = 2, "circular"

    def __init__(self, padding):
        super().__init__(padding)
