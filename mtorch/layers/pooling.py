"""2-d pooling: MaxPool2d, AvgPool2d and AdaptiveAvgPool2d over ``(N, C, H, W)`` images.

MaxPool2d and AvgPool2d slide a ``kH x kW`` window (see ``_windows``) and
loop over the kernel's offsets, never over pixels: offset ``(i, j)`` of every
window at once is the strided view ``x_pad[:, :, rows_i, cols_j]`` of shape
``(N, C, H_out, W_out)``.
"""
import numpy as np

from ..layer import Layer
from ._windows import offset_slices, output_size, pair


def _same_layout(array, like):
    """``array`` copied into ``like``'s memory order (element-wise numpy is slow on mixed orders)."""
    if [s // array.itemsize for s in array.strides] == [s // like.itemsize for s in like.strides]:
        return array
    out = np.empty_like(like, dtype=array.dtype)
    out[...] = array
    return out


class _Pool2d(Layer):
    """Shared arguments, padding and output size of the sliding-window pools."""

    pad_value = 0.0

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = pair(kernel_size, "kernel_size", name)
        self.stride = self.kernel_size if stride is None else pair(stride, "stride", name)
        self.padding = pair(padding, "padding", name, minimum=0)
        self.dilation = pair(dilation, "dilation", name)
        if any(p > (d * (k - 1) + 1) // 2
               for p, k, d in zip(self.padding, self.kernel_size, self.dilation)):
            raise ValueError(f"{name}: padding must be between 0 and half the kernel's extent, "
                             f"got padding={self.padding} for kernel_size={self.kernel_size}")
        self._overlapping = any(s < d * (k - 1) + 1 for s, k, d in zip(self.stride, self.kernel_size, self.dilation))
        self._cache = None

    def _padded(self, x):
        """Check ``x``; return it padded with ``pad_value`` and the output's ``(H_out, W_out)``."""
        x = self.check_input(x, ("N", "C", "H", "W"))
        out_hw = tuple(output_size(size, k, s, (p, p), d, self) for size, k, s, p, d in
                       zip(x.shape[2:], self.kernel_size, self.stride, self.padding, self.dilation))
        ph, pw = self.padding
        if ph or pw:
            x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=self.pad_value)
        return x, out_hw

    def _windows(self, out_hw):
        return offset_slices(self.kernel_size, self.stride, self.dilation, out_hw)

    def _unpad(self, grad_padded):
        ph, pw = self.padding
        return grad_padded[:, :, ph:grad_padded.shape[2] - ph, pw:grad_padded.shape[3] - pw]

    def extra_repr(self):
        s = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        return s + (f", dilation={self.dilation}" if self.dilation != (1, 1) else "")


class MaxPool2d(_Pool2d):
    """Maximum over each window, PyTorch's ``nn.MaxPool2d``.

    Forward: ``y[n, c, p, q] = max_{i, j} x_pad[n, c, p*sH + i*dH, q*sW + j*dW]``
    (padding adds -inf, so it is never the maximum).

    Backward: the gradient of a max flows only to the element that was the
    maximum (the first one in row-major window order on ties, as PyTorch)::

        dL/dx[winner of window (p, q)] += dL/dy[p, q]

    Overlapping windows (stride < kernel) can add several gradients to one pixel.

    Args:
        kernel_size: ``k`` or ``(kH, kW)``.
        stride: default ``kernel_size`` (non-overlapping windows).
        padding: implicit -inf on both sides, at most half the kernel (default 0).
        dilation: spacing between window taps (default 1).

    Shape: ``(N, C, H, W) -> (N, C, H_out, W_out)``,
    ``H_out = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1``.

    Forward keeps a running maximum over the kernel offsets; offset t replaces
    it only where it is strictly larger, and since t only grows,
    ``winner = max(winner, t * (x_t > running_max))`` records the first winner.

    Cached: the padded input's shape and dtype, and the
    offset index of each window's maximum (one byte per output when ``kH*kW <= 256``).
    """

    pad_value = -np.inf

    def forward(self, x):
        xp, out_hw = self._padded(x)
        windows = list(self._windows(out_hw))
        _, (rows, cols) = windows[0]
        y = xp[:, :, rows, cols].copy(order="K")
        winner = np.zeros_like(y, dtype=np.min_scalar_type(len(windows) - 1))
        for t, (_, (rows, cols)) in enumerate(windows[1:], start=1):
            candidate = xp[:, :, rows, cols]
            better = candidate > y
            np.maximum(y, candidate, out=y)
            np.maximum(winner, np.multiply(better, t, dtype=winner.dtype), out=winner)
        self._cache = (xp.shape, xp.dtype, winner)
        return y

    def backward(self, grad_out):
        cache = self._cache
        g = self.check_grad_out(grad_out, None if cache is None else cache[2].shape)
        padded_shape, dtype, winner = cache
        g = _same_layout(g, winner)
        grad = np.zeros_like(winner, dtype=dtype, shape=padded_shape)     # keeps the memory order
        for t, (_, (rows, cols)) in enumerate(self._windows(winner.shape[2:])):
            if self._overlapping:
                grad[:, :, rows, cols] += g * (winner == t)
            else:                                     # each pixel is in one window: write in place
                np.multiply(g, winner == t, out=grad[:, :, rows, cols])
        return self._unpad(grad)


class AvgPool2d(_Pool2d):
    """Mean over each window, PyTorch's ``nn.AvgPool2d``.

    Forward: ``y[n, c, p, q] = (1 / D) sum_{i, j} x_pad[n, c, p*sH + i, q*sW + j]``
    with ``D = kH * kW`` (``count_include_pad=True``, padding zeros count) or
    ``D`` = the number of real pixels in the window (``count_include_pad=False``).

    Backward: every pixel of a window receives ``dL/dy[p, q] / D``.

    Args:
        kernel_size, stride (default ``kernel_size``), padding (zeros, at most half the kernel),
        count_include_pad: divide by the full window size (default True).

    Shape: ``(N, C, H, W) -> (N, C, H_out, W_out)``, ``H_out = floor((H + 2 pH - kH) / sH) + 1``.

    Cached: the padded input's shape, the output and the divisor.
    """

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad=True):
        super().__init__(kernel_size, stride, padding)
        self.count_include_pad = bool(count_include_pad)

    def forward(self, x):
        xp, out_hw = self._padded(x)
        windows = list(self._windows(out_hw))
        _, (rows, cols) = windows[0]
        y = xp[:, :, rows, cols].copy(order="K")           # keeps the input's memory order
        for _, (rows, cols) in windows[1:]:
            y += xp[:, :, rows, cols]
        divisor = self._divisor(xp.shape[2:], out_hw, xp.dtype)
        y /= divisor
        self._cache = (xp.shape, y, divisor)
        return y

    def _divisor(self, padded_hw, out_hw, dtype):
        """``kH*kW``, or per output pixel the count of non-padding pixels in its window."""
        if self.count_include_pad or self.padding == (0, 0):
            return dtype.type(self.kernel_size[0] * self.kernel_size[1])
        ph, pw = self.padding
        real = np.pad(np.ones((padded_hw[0] - 2 * ph, padded_hw[1] - 2 * pw), dtype=dtype), ((ph, ph), (pw, pw)))
        counts = np.zeros(out_hw, dtype=dtype)
        for _, (rows, cols) in self._windows(out_hw):
            counts += real[rows, cols]
        return counts

    def backward(self, grad_out):
        cache = self._cache
        g = self.check_grad_out(grad_out, None if cache is None else cache[1].shape)
        padded_shape, y, divisor = cache
        share = _same_layout(g, y) / divisor
        grad = np.zeros_like(y, shape=padded_shape)                        # keeps the memory order
        for _, (rows, cols) in self._windows(g.shape[2:]):
            grad[:, :, rows, cols] += share
        return self._unpad(grad)

    def extra_repr(self):
        return super().extra_repr() + ("" if self.count_include_pad else ", count_include_pad=False")


def _adaptive_matrix(size, out, dtype):
    """``(out, size)`` averaging matrix: row p is ``1/len`` on input cells ``floor(p*size/out) .. ceil((p+1)*size/out) - 1``."""
    starts = (np.arange(out) * size) // out
    ends = -((-(np.arange(out) + 1) * size) // out)
    cells = np.arange(size)
    inside = (cells >= starts[:, None]) & (cells < ends[:, None])
    return (inside / (ends - starts)[:, None]).astype(dtype)


class AdaptiveAvgPool2d(Layer):
    """Average over ``output_size`` regions that tile the image, PyTorch's ``nn.AdaptiveAvgPool2d``.

    Output cell p of an axis of length H averages input cells
    ``floor(p H / H_out) .. ceil((p + 1) H / H_out) - 1``. Averaging regions
    is separable, so with the averaging matrices ``A_h (H_out, H)`` and
    ``A_w (W_out, W)``::

        y = A_h @ x @ A_w.T            dL/dx = A_h.T @ dL/dy @ A_w

    (matrix products over the last two axes, for every n and c).
    ``AdaptiveAvgPool2d(1)`` is global average pooling.

    Args:
        output_size: ``s`` or ``(H_out, W_out)``; None keeps that axis's input size.

    Shape: ``(N, C, H, W) -> (N, C, H_out, W_out)``. Cached: the output shape and the two matrices.
    """

    def __init__(self, output_size):
        super().__init__()
        sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
        if len(sizes) != 2 or any(s is not None and int(s) < 1 for s in sizes):
            raise ValueError(f"AdaptiveAvgPool2d: output_size must be a positive int or a pair "
                             f"(None keeps the input size), got {output_size!r}")
        self.output_size = tuple(None if s is None else int(s) for s in sizes)
        self._cache = None

    def forward(self, x):
        x = self.check_input(x, ("N", "C", "H", "W"))
        h, w = x.shape[2:]
        out_h, out_w = (size if out is None else out for size, out in zip((h, w), self.output_size))
        a_h, a_w = _adaptive_matrix(h, out_h, x.dtype), _adaptive_matrix(w, out_w, x.dtype)
        self._cache = (x.shape[:2] + (out_h, out_w), a_h, a_w)
        return a_h @ x @ a_w.T

    def backward(self, grad_out):
        cache = self._cache
        g = self.check_grad_out(grad_out, None if cache is None else cache[0])
        _, a_h, a_w = cache
        return a_h.T @ g @ a_w

    def extra_repr(self):
        return f"output_size={self.output_size}"
