"""Pooling: max and mean over sliding windows, or over regions that tile the input.

``MaxPool1d/2d`` and ``AvgPool1d/2d`` slide a ``kH x kW`` window (see
``_windows``) and loop over the kernel's offsets, never over pixels: offset
``(i, j)`` of every window at once is the strided view
``x_pad[:, :, rows_i, cols_j]`` of shape ``(N, C, H_out, W_out)``.
``AdaptiveAvgPool1d/2d`` and ``AdaptiveMaxPool1d/2d`` split each axis into
``out`` regions, region ``p`` of an axis of length ``L`` being the cells
``floor(p L / out) .. ceil((p + 1) L / out) - 1``.

1-d pools are the 2-d ones on an image of height 1; all accept an
unbatched input (no N axis), as PyTorch. NaN and infinities propagate as in
PyTorch: a NaN in a window wins the max (the last NaN gets the gradient),
and sums never multiply by zero.
"""
import numpy as np

from ..errors import ShapeError
from ..kernels.im2col import like_layout, offset_slices
from ..kernels.select import masked
from ..layer import Layer
from ..validation import check_bool, check_int, check_ints
from ._windows import Images, output_size, sizes, take_adjoint
from .padding import pad


class _WindowPool(Layer):
    """Arguments, padding and output size of the sliding-window pools (``dims``: 1 or 2 spatial axes)."""

    dims, pad_value = 2, 0.0

    def __init__(self, kernel_size, stride, padding, dilation, ceil_mode):
        super().__init__()
        name, dims = type(self).__name__, self.dims
        self.kernel_size = check_ints(name, "kernel_size", kernel_size, dims, minimum=1)
        no_stride = stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)
        self.stride = self.kernel_size if no_stride else check_ints(name, "stride", stride, dims, minimum=1)
        self.padding = check_ints(name, "padding", padding, dims, minimum=0)
        self.dilation = check_ints(name, "dilation", dilation, dims, minimum=1)
        self.ceil_mode = check_bool(name, "ceil_mode", ceil_mode)
        if any(p > k // 2 for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(f"{name}: padding must be at most half the kernel size, "
                             f"got padding={self.padding} for kernel_size={self.kernel_size}")
        self._kernel, self._stride, self._dilation = (sizes(name, a, getattr(self, a), dims) for a in
                                                      ("kernel_size", "stride", "dilation"))
        self._padding = sizes(name, "padding", self.padding, dims, minimum=0)
        self._cache = None

    def _padded(self, x):
        """``(x_pad, (H_out, W_out))``: ``x`` padded with ``pad_value`` on both sides (and, with
        ``ceil_mode``, at the end for a last window that runs past the input)."""
        out_hw = tuple(output_size(self, size, k, s, (p, p), d, self.ceil_mode) for size, k, s, p, d in
                       zip(x.shape[2:], self._kernel, self._stride, self._padding, self._dilation))
        pads = tuple((p, max(p, (out - 1) * s + d * (k - 1) + 1 - size - p)) for size, out, k, s, p, d in
                     zip(x.shape[2:], out_hw, self._kernel, self._stride, self._padding, self._dilation))
        return pad(x, pads, "constant", self.pad_value), out_hw

    def _offsets(self, out_hw):
        return offset_slices(self._kernel, self._stride, self._dilation, out_hw)

    def _unpad(self, grad_padded, shape):
        (ph, pw), (h, w) = self._padding, shape[2:]
        return grad_padded[:, :, ph:ph + h, pw:pw + w]

    def extra_repr(self):
        s = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            s += f", dilation={self.dilation}"
        return s + (", ceil_mode=True" if self.ceil_mode else "")


def _running_max(views):
    """Maximum over the views and the index of the view that holds it: view t replaces the
    running maximum where ``x_t > max``, so ties keep the first, or where ``x_t`` is NaN
    (PyTorch's rule: a NaN always wins, the last NaN gets the gradient)."""
    y = views[0].copy(order="K")                                   # keeps the input's memory order
    winner = np.zeros_like(y, dtype=np.min_scalar_type(len(views) - 1))
    for t, x_t in enumerate(views[1:], start=1):
        better = (x_t > y) | np.isnan(x_t)
        np.maximum(y, x_t, out=y)
        np.maximum(winner, np.multiply(better, t, dtype=winner.dtype), out=winner)    # t only grows
    return y, winner


class _MaxPoolNd(_WindowPool):
    """Forward and backward of MaxPool1d and MaxPool2d (the math is in ``MaxPool2d``'s docstring)."""

    pad_value = -np.inf

    def __init__(self, kernel_size, stride, padding, dilation, return_indices, ceil_mode):
        super().__init__(kernel_size, stride, padding, dilation, ceil_mode)
        self.return_indices = check_bool(type(self).__name__, "return_indices", return_indices)

    def forward(self, x):
        images = Images(self, x, self.dims)
        xp, out_hw = self._padded(images.x)
        views = [xp[(...,) + view] for _, view in self._offsets(out_hw)]
        y, winner = _running_max(views)
        if any(self._padding) and np.isneginf(y).any():    # a window of -inf: the padding must not win
            winner = np.where(np.isneginf(y), self._first_inside(images.x.shape, out_hw), winner).astype(winner.dtype)
        self._cache = (images, xp.shape, winner)
        if not self.return_indices:
            return images.output(y)
        return images.output(y), images.output(self._flat_indices(winner, images.x.shape))

    def backward(self, grad_out):
        images, padded_shape, winner = self._cache or (None,) * 3
        g = self.check_grad_out(grad_out, images and images.output_shape(winner.shape[1], winner.shape[2:]))
        g = like_layout(images.grad(g), winner)
        grad = np.zeros_like(winner, dtype=g.dtype, shape=padded_shape)   # keeps the memory order
        overlapping = any(s < d * (k - 1) + 1 for s, k, d in zip(self._stride, self._kernel, self._dilation))
        for t, (_, view) in enumerate(self._offsets(winner.shape[2:])):
            if overlapping:
                grad[(...,) + view] += masked(g, winner == t)
            else:                               # each pixel is in one window: write in place
                masked(g, winner == t, out=grad[(...,) + view])
        return images.input_grad(self._unpad(grad, images.x.shape))

    def _first_inside(self, shape, out_hw):
        """Each window's first view inside the input, ``(1, 1, H_out, W_out)``: PyTorch's maximum of a
        window that holds only -inf and padding."""
        inside = self._padded(np.ones((1, 1) + shape[2:]))[0] == 1
        return np.argmax(np.stack([inside[(...,) + view] for _, view in self._offsets(out_hw)]), axis=0)

    def _flat_indices(self, winner, shape):
        """PyTorch's indices: each maximum's position in its (unpadded) input plane, ``h * W + w``."""
        i, j = np.divmod(winner.astype(np.int64), self._kernel[1])
        rows = np.arange(winner.shape[2])[:, None] * self._stride[0] + i * self._dilation[0] - self._padding[0]
        cols = np.arange(winner.shape[3]) * self._stride[1] + j * self._dilation[1] - self._padding[1]
        return rows * shape[3] + cols

    def extra_repr(self):
        return super().extra_repr() + (", return_indices=True" if self.return_indices else "")


class MaxPool2d(_MaxPoolNd):
    """Maximum over each window, PyTorch's ``nn.MaxPool2d``.

    Forward: ``y[n, c, p, q] = max_{i, j} x_pad[n, c, p*sH + i*dH, q*sW + j*dW]``
    (padding is -inf, so it is never the maximum). Over the kernel offsets t
    in row-major order, a running maximum and the offset ``winner`` of each
    window's maximum: offset t replaces it where ``x_t > max``, so ties go
    to the first maximum, or where ``x_t`` is NaN (PyTorch's rule: a NaN
    always wins, the last one).

    Backward: the gradient of a max flows only to the element that won::

        dL/dx[winner of window (p, q)] += dL/dy[p, q]

    Overlapping windows (stride < kernel) can add several gradients to one pixel.

    Args:
        kernel_size: ``k`` or ``(kH, kW)``.
        stride: default ``kernel_size`` (non-overlapping windows).
        padding: implicit -inf on both sides, at most half the kernel (default 0).
        dilation: spacing between window taps (default 1).
        return_indices: also return where each maximum is (default False), see below.
        ceil_mode: round the output size up (a last, partial window), default False.

    ``return_indices=True``: forward returns ``(y, indices)`` as PyTorch, with
    ``indices`` (int64, y's shape) the flat position ``h * W + w`` of each
    maximum in its input plane; ``backward`` still takes dL/dy alone (the
    indices are integers and have no gradient).

    Shape: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``,
    ``H_out = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1`` (ceil with ``ceil_mode``, counting a last
    window only if it starts inside the input or the left padding).

    Cached: the padded input's shape and each window's winning offset (one byte per output).

    Example:
        >>> MaxPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4))
        array([[[[ 5.,  7.],
                 [13., 15.]]]])
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__(kernel_size, stride, padding, dilation, return_indices, ceil_mode)


class MaxPool1d(_MaxPoolNd):
    """Maximum over each window of a signal, PyTorch's ``nn.MaxPool1d``.

    Forward: ``y[n, c, p] = max_j x_pad[n, c, p*s + j*d]`` (-inf padding); backward:
    ``dL/dx[winner of window p] += dL/dy[p]``, the first maximum winning ties
    (a NaN always wins), as ``MaxPool2d`` with one spatial axis.

    Args: as ``MaxPool2d``, with ints (or 1-tuples). ``return_indices=True``
    returns ``(y, indices)``, indices the position ``l`` of each maximum.

    Shape: ``(N, C, L)`` or ``(C, L)`` -> ``(N, C, L_out)`` or ``(C, L_out)``,
    ``L_out = floor((L + 2 p - d (k - 1) - 1) / s) + 1`` (ceil with ``ceil_mode``).

    Example:
        >>> MaxPool1d(2)(np.array([[[1.0, 3.0, 2.0, 0.0]]]))
        array([[[3., 2.]]])
    """

    dims = 1

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__(kernel_size, stride, padding, dilation, return_indices, ceil_mode)


class _AvgPoolNd(_WindowPool):
    """Forward and backward of AvgPool1d and AvgPool2d (the math is in ``AvgPool2d``'s docstring)."""

    def __init__(self, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override=None):
        super().__init__(kernel_size, stride, padding, 1, ceil_mode)
        name = type(self).__name__
        self.count_include_pad = check_bool(name, "count_include_pad", count_include_pad)
        self.divisor_override = None if divisor_override is None else \
            check_int(name, "divisor_override", divisor_override, minimum=1)

    def forward(self, x):
        images = Images(self, x, self.dims)
        xp, out_hw = self._padded(images.x)
        offsets = [view for _, view in self._offsets(out_hw)]
        y = xp[(...,) + offsets[0]].copy(order="K")                       # keeps the input's memory order
        for view in offsets[1:]:
            y += xp[(...,) + view]
        divisor = self._divisor(images.x.shape[2:], out_hw, y.dtype)
        y /= divisor
        self._cache = (images, xp.shape, y, divisor)
        return images.output(y)

    def backward(self, grad_out):
        images, padded_shape, y, divisor = self._cache or (None,) * 4
        g = self.check_grad_out(grad_out, images and images.output_shape(y.shape[1], y.shape[2:]))
        share = like_layout(images.grad(g), y) / divisor
        grad = np.zeros_like(y, shape=padded_shape)                       # keeps the memory order
        for _, view in self._offsets(y.shape[2:]):
            grad[(...,) + view] += share
        return images.input_grad(self._unpad(grad, images.x.shape))

    def _divisor(self, in_hw, out_hw, dtype):
        """``D`` per output pixel: ``divisor_override``, else the window's size clipped to the padded
        input (``count_include_pad``) or to the input."""
        if self.divisor_override is not None:
            return dtype.type(self.divisor_override)
        counts = []
        for size, out, k, s, p in zip(in_hw, out_hw, self._kernel, self._stride, self._padding):
            start = np.arange(out) * s - p
            end = np.minimum(start + k, size + p)
            counts.append(end - start if self.count_include_pad else np.minimum(end, size) - np.maximum(start, 0))
        return np.outer(*counts).astype(dtype)

    def extra_repr(self):
        s = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        if self.ceil_mode:
            s += ", ceil_mode=True"
        if not self.count_include_pad:
            s += ", count_include_pad=False"
        return s + (f", divisor_override={self.divisor_override}" if self.divisor_override else "")


class AvgPool2d(_AvgPoolNd):
    """Mean over each window, PyTorch's ``nn.AvgPool2d``.

    Forward: ``y[n, c, p, q] = (1 / D[p, q]) sum_{i, j} x_pad[n, c, p*sH + i, q*sW + j]``
    with zero padding and ``D`` the window's size: ``kH * kW`` (clipped to the
    padded input where ``ceil_mode`` lets a window run past it) when
    ``count_include_pad`` (default), else the number of real input pixels in the
    window; ``divisor_override`` replaces D.

    Backward: every pixel of a window receives ``dL/dy[p, q] / D[p, q]``
    (added up where windows overlap).

    Args:
        kernel_size: ``k`` or ``(kH, kW)``.
        stride: default ``kernel_size``.
        padding: zeros on both sides, at most half the kernel (default 0).
        ceil_mode: round the output size up (default False).
        count_include_pad: count the padding zeros in D (default True).
        divisor_override: a fixed D (default None).

    Shape: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``,
    ``H_out = floor((H + 2 pH - kH) / sH) + 1`` (ceil with ``ceil_mode``).

    Cached: the padded input's shape, the output and D.

    Example:
        >>> AvgPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4))
        array([[[[ 2.5,  4.5],
                 [10.5, 12.5]]]])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


class AvgPool1d(_AvgPoolNd):
    """Mean over each window of a signal, PyTorch's ``nn.AvgPool1d``.

    Forward: ``y[n, c, p] = (1 / D[p]) sum_j x_pad[n, c, p*s + j]``, D as in
    ``AvgPool2d``; backward: each pixel of window p receives ``dL/dy[p] / D[p]``.

    Args: ``kernel_size``, ``stride`` (default ``kernel_size``), ``padding``,
    ``ceil_mode``, ``count_include_pad`` as ``AvgPool2d`` (ints or 1-tuples).

    Shape: ``(N, C, L)`` or ``(C, L)`` -> ``(N, C, L_out)`` or ``(C, L_out)``,
    ``L_out = floor((L + 2 p - k) / s) + 1``.

    Example:
        >>> AvgPool1d(2)(np.array([[[1.0, 3.0, 2.0, 0.0]]]))
        array([[[2., 1.]]])
    """

    dims = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)


def _regions(size, out):
    """Region p of an axis of length ``size`` split into ``out``: cells ``starts[p] .. starts[p] + lengths[p] - 1``,
    ``starts[p] = floor(p size / out)``, ending at ``ceil((p + 1) size / out) - 1``."""
    starts = np.arange(out) * size // out
    return starts, -(-(np.arange(out) + 1) * size // out) - starts


def _members(size, out):
    """``(members, owners)``: the cells of every region, one after the other, and the region of each."""
    starts, lengths = _regions(size, out)
    owners = np.repeat(np.arange(out), lengths)
    return starts[owners] + np.arange(len(owners)) - np.repeat(np.cumsum(lengths) - lengths, lengths), owners


class _AdaptivePool(Layer):
    """The ``output_size`` argument and the regions of the adaptive pools."""

    dims = 2

    def __init__(self, output_size):
        super().__init__()
        name = type(self).__name__
        sizes_ = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * self.dims
        if output_size is None or len(sizes_) != self.dims:
            raise TypeError(f"{name}: output_size must be an int or a tuple of {self.dims} (int or None), "
                            f"got {output_size!r}")
        self.output_size = tuple(None if s is None else check_int(name, "output_size", s, minimum=1)
                                 for s in sizes_)
        self._cache = None

    def _out_hw(self, in_hw):
        wanted = (1,) * (2 - self.dims) + self.output_size
        return tuple(size if out is None else out for size, out in zip(in_hw, wanted))

    def extra_repr(self):
        return f"output_size={self.output_size if self.dims == 2 else self.output_size[0]}"


class _AdaptiveAvgPoolNd(_AdaptivePool):
    """Forward and backward of AdaptiveAvgPool1d/2d (the math is in ``AdaptiveAvgPool2d``'s docstring)."""

    def forward(self, x):
        images = Images(self, x, self.dims)
        y = images.x
        for axis, out in zip((2, 3), self._out_hw(y.shape[2:])):
            members, owners = _members(y.shape[axis], out)
            y = take_adjoint(np.take(y, members, axis), owners, out, axis)     # sums over each region
            y /= _shaped(np.bincount(owners), axis).astype(y.dtype)
        self._cache = (images, y.shape)
        return images.output(y)

    def backward(self, grad_out):
        images, out_shape = self._cache or (None, None)
        g = self.check_grad_out(grad_out, images and images.output_shape(out_shape[1], out_shape[2:]))
        g = images.grad(g)
        for axis, size in zip((2, 3), images.x.shape[2:]):
            members, owners = _members(size, g.shape[axis])
            share = g / _shaped(np.bincount(owners), axis).astype(g.dtype)
            g = take_adjoint(np.take(share, owners, axis), members, size, axis)
        return images.input_grad(g)


def _shaped(v, axis):
    """A 1-d array ``v`` shaped to broadcast along ``axis`` of an ``(N, C, H, W)`` array."""
    return v.reshape((-1,) + (1,) * (3 - axis))


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Mean over ``output_size`` regions that tile the image, PyTorch's ``nn.AdaptiveAvgPool2d``.

    Output cell p of an axis of length H averages input cells
    ``floor(p H / H_out) .. ceil((p + 1) H / H_out) - 1``, regions that
    overlap when ``H_out`` does not divide H. The mean over a rectangle is
    separable: one axis after the other, each region's cells are gathered
    and summed, then divided by the region's length::

        y[p, q] = (1 / (|R_p| |R_q|)) sum_{h in R_p, w in R_q} x[h, w]

    Backward, the adjoint, again one axis at a time: every cell of region p
    receives ``dL/dy[p] / |R_p|`` (summed over the regions that contain it).
    Sums never multiply by zero, so an inf stays in its own regions.
    ``AdaptiveAvgPool2d(1)`` is global average pooling.

    Args:
        output_size: ``s`` or ``(H_out, W_out)``; None keeps that axis's input size.

    Shape: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``.

    Example:
        >>> AdaptiveAvgPool2d(1)(np.arange(8.0).reshape(1, 2, 2, 2))[:, :, 0, 0]
        array([[1.5, 5.5]])
    """

    def __init__(self, output_size):
        super().__init__(output_size)


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Mean over ``output_size`` regions that tile a signal, PyTorch's ``nn.AdaptiveAvgPool1d``.

    ``y[p] = (1 / |R_p|) sum_{l in R_p} x[l]`` with ``R_p = floor(p L / L_out) .. ceil((p + 1) L / L_out) - 1``;
    backward: every cell of ``R_p`` receives ``dL/dy[p] / |R_p|``.

    Args:
        output_size: ``L_out`` (an int).

    Shape: ``(N, C, L)`` or ``(C, L)`` -> ``(N, C, L_out)`` or ``(C, L_out)``.

    Example:
        >>> AdaptiveAvgPool1d(2)(np.array([[[1.0, 3.0, 2.0, 0.0]]]))
        array([[[2., 1.]]])
    """

    dims = 1

    def __init__(self, output_size):
        super().__init__(output_size)


class _AdaptiveMaxPoolNd(_AdaptivePool):
    """Forward and backward of AdaptiveMaxPool1d/2d (the math is in ``AdaptiveMaxPool2d``'s docstring)."""

    def __init__(self, output_size, return_indices):
        super().__init__(output_size)
        self.return_indices = check_bool(type(self).__name__, "return_indices", return_indices)

    def forward(self, x):
        images = Images(self, x, self.dims)
        (n, c, h, w), out_hw = images.x.shape, self._out_hw(images.x.shape[2:])
        if 0 in (h, w):
            raise ShapeError(f"{self._short_repr()}: an empty region has no maximum, got input of shape "
                             f"{images.shape}")
        rows, cols = (_region_table(size, out) for size, out in zip((h, w), out_hw))
        offsets = [(i, j) for i in range(rows.shape[1]) for j in range(cols.shape[1])]   # within each region
        cells = [rows[:, i, None] * w + cols[:, j] for i, j in offsets]          # flat positions h * W + w
        planes = images.x.reshape(n, c, h * w)
        y, winner = planes[:, :, cells[0]], np.broadcast_to(cells[0], (n, c) + out_hw).copy()
        for flat in cells[1:]:
            x_t = planes[:, :, flat]
            better = (x_t > y) | np.isnan(x_t)                     # PyTorch's rule: a NaN always wins
            y, winner = np.where(better, x_t, y), np.where(better, flat, winner)
        self._cache = (images, winner)
        y = images.output(y)
        return (y, images.output(winner)) if self.return_indices else y

    def backward(self, grad_out):
        images, winner = self._cache or (None, None)
        g = self.check_grad_out(grad_out, images and images.output_shape(winner.shape[1], winner.shape[2:]))
        n, c, h, w = images.x.shape
        planes = np.arange(n * c).reshape(n, c, 1, 1) * (h * w)
        grad = np.bincount((planes + winner).ravel(), weights=images.grad(g).ravel(), minlength=n * c * h * w)
        return images.input_grad(grad.astype(g.dtype).reshape(n, c, h, w))


def _region_table(size, out):
    """``cells (out, K)``: region p's cells, padded to the longest K by repeating its last cell."""
    starts, lengths = _regions(size, out)
    return starts[:, None] + np.minimum(np.arange(lengths.max()), lengths[:, None] - 1)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Maximum over ``output_size`` regions that tile the image, PyTorch's ``nn.AdaptiveMaxPool2d``.

    ``y[p, q] = max_{h in R_p, w in R_q} x[h, w]``, regions as in
    ``AdaptiveAvgPool2d``. The running maximum visits the cells of every region
    at once, offset by offset (a region shorter than the longest repeats its
    last cell, which cannot change the result); the first maximum wins ties,
    a NaN always wins, as PyTorch.

    Backward: ``dL/dx[winner of region (p, q)] += dL/dy[p, q]``.

    Args:
        output_size: ``s`` or ``(H_out, W_out)``; None keeps that axis's input size.
        return_indices: forward returns ``(y, indices)``, indices (int64) the flat position ``h * W + w``
            of each maximum in its input plane (default False); backward takes dL/dy alone.

    Shape: ``(N, C, H, W)`` or ``(C, H, W)`` -> ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``.

    Example:
        >>> AdaptiveMaxPool2d(1)(np.arange(8.0).reshape(1, 2, 2, 2))[:, :, 0, 0]
        array([[3., 7.]])
    """

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size, return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Maximum over ``output_size`` regions that tile a signal, PyTorch's ``nn.AdaptiveMaxPool1d``.

    ``y[p] = max_{l in R_p} x[l]`` (regions as ``AdaptiveAvgPool1d``); backward:
    ``dL/dx[winner of R_p] += dL/dy[p]``. ``return_indices`` as ``AdaptiveMaxPool2d``.

    Shape: ``(N, C, L)`` or ``(C, L)`` -> ``(N, C, L_out)`` or ``(C, L_out)``.

    Example:
        >>> AdaptiveMaxPool1d(2)(np.array([[[1.0, 3.0, 2.0, 0.0]]]))
        array([[[3., 2.]]])
    """

    dims = 1

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size, return_indices)
