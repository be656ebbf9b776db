"""What the window layers share: image shapes (batched or not, 1-d or 2-d), window geometry, index adjoints.

Convolution, pooling, padding and upsampling work on ``(N, C, H, W)``
images internally. A 1-d layer's ``(N, C, L)`` input is the image
``(N, C, 1, L)``, and an unbatched ``(C, H, W)`` or ``(C, L)`` input is a
batch of one: ``Images`` converts (views, never copies) and converts back.

A window ``(p, q)`` of a padded image covers rows ``p*sH + i*dH`` and
columns ``q*sW + j*dW`` for the kernel offsets ``i < kH, j < kW``
(s = stride, d = dilation); along one axis::

    out = floor((size + pad_before + pad_after - d*(k - 1) - 1) / s) + 1
"""
import numpy as np

from ..errors import ShapeError
from ..validation import check_ints


def sizes(owner, name, value, dims, minimum=1):
    """An int or ``dims`` ints, as a 2-tuple for the ``(H, W)`` axes (a 1-d layer's H entry is 1, or 0 for padding)."""
    value = check_ints(owner, name, value, dims, minimum)
    return value if dims == 2 else (0 if minimum == 0 else 1,) + value


class Images:
    """The shape bookkeeping of a window layer's input and output.

    ``Images(layer, x, dims, channels)`` checks ``x`` against
    ``(N, C, *spatial)`` or the unbatched ``(C, *spatial)`` (``channels``:
    the required C, or None) and holds it as ``.x``, an ``(N, C, H, W)``
    view. ``output(y)`` reshapes an ``(N, C', H', W')`` result back to the
    caller's form, ``grad(g)`` does the reverse for a gradient.
    """

    def __init__(self, layer, x, dims, channels=None):
        spatial = ("H", "W") if dims == 2 else ("L",)
        pattern = ("C" if channels is None else channels,) + spatial
        x = layer.check_input(x, (...,))
        batched = x.ndim != dims + 1
        x = layer.check_input(x, ("N",) + pattern if batched else pattern)
        self.dims, self.batched, self.shape = dims, batched, x.shape
        self.x = x.reshape((x.shape[0] if batched else 1,) + x.shape[-dims - 1:-dims] + (1,) * (2 - dims)
                           + x.shape[-dims:])

    def output_shape(self, channels, hw):
        """The caller's shape of an ``(N, channels, *hw)`` result: 1-d drops H, unbatched drops N."""
        return (self.x.shape[:1] if self.batched else ()) + (channels,) + tuple(hw)[2 - self.dims:]

    def output(self, y):
        """``y (N, C', H', W')`` in the input's form (a view)."""
        return y.reshape(self.output_shape(y.shape[1], y.shape[2:]))

    def grad(self, g):
        """A gradient in the output's form, as ``(N, C', H', W')``."""
        g = g if self.batched else g[None]
        return g if self.dims == 2 else g[:, :, None, :]

    def input_grad(self, dx):
        """``dx (N, C, H, W)`` in the input's shape."""
        return dx.reshape(self.shape)


def output_size(layer, size, kernel, stride, pads, dilation, ceil_mode=False):
    """Number of windows along one axis; raise ``ShapeError`` naming ``layer`` when none fits.

    ``ceil_mode`` (pooling) rounds up, counting a last window that runs past
    the end as long as it starts inside the input or its leading padding.
    """
    extent = dilation * (kernel - 1) + 1
    span = size + pads[0] + pads[1] - extent
    if span < 0:
        raise ShapeError(f"{layer._short_repr()}: input size {size} (padded by {pads}) is smaller than the "
                         f"kernel's extent {extent}")
    out = -(-span // stride) + 1 if ceil_mode else span // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pads[0]:
        out -= 1
    return out


def take_adjoint(g, index, size, axis):
    """The adjoint of ``np.take(x, index, axis)`` for an ``x`` with ``size`` entries along ``axis``.

    ``out[..., k, ...] = sum of g[..., m, ...] over the m with index[m] == k``
    (zero where no m picks k): the gradient of a gather, computed as sums
    of sorted segments, so exact for any values (no ``0 * inf``).
    """
    order = np.argsort(index, kind="stable")
    starts = np.searchsorted(index[order], np.arange(size))
    picked = np.bincount(index, minlength=size) > 0
    sums = np.add.reduceat(np.take(g, order, axis=axis), np.minimum(starts, len(index) - 1), axis=axis)
    shape = [1] * g.ndim
    shape[axis] = size
    return np.where(picked.reshape(shape), sums, 0).astype(g.dtype, copy=False)
