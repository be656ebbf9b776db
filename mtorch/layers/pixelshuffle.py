"""PixelShuffle and PixelUnshuffle: moving numbers between channels and space, no arithmetic.

With factor r, channel ``c*r*r + i*r + j`` of a pixel ``(h, w)`` becomes
pixel ``(h*r + i, w*r + j)`` of channel c::

    shuffle:    y[..., c, h*r + i, w*r + j] = x[..., c*r*r + i*r + j, h, w]
    unshuffle:  the inverse permutation

A permutation's backward is the inverse permutation of the gradient, so
each layer's backward is the other one's forward.
"""
from ..errors import ShapeError
from ..layer import Layer
from ..validation import check_int


def pixel_shuffle(x, r):
    """``(*, C*r*r, H, W) -> (*, C, H*r, W*r)``, see the module docstring."""
    *lead, c, h, w = x.shape
    k = len(lead)
    x = x.reshape(*lead, c // (r * r), r, r, h, w)                               # (c, i, j, h, w)
    return x.transpose(*range(k), k, k + 3, k + 1, k + 4, k + 2).reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(x, r):
    """``(*, C, H*r, W*r) -> (*, C*r*r, H, W)``, the inverse of ``pixel_shuffle``."""
    *lead, c, h, w = x.shape
    k = len(lead)
    x = x.reshape(*lead, c, h // r, r, w // r, r)                                # (c, h, i, w, j)
    return x.transpose(*range(k), k, k + 2, k + 4, k + 1, k + 3).reshape(*lead, c * r * r, h // r, w // r)


class _Shuffle(Layer):
    """Shared plumbing: the factor, the input check and the cached shapes."""

    def __init__(self, factor, arg):
        super().__init__()
        setattr(self, arg, check_int(type(self).__name__, arg, factor, minimum=1))
        self._factor, self._arg, self._shapes = factor, arg, None

    def _checked(self, x, divisible):
        x = self.check_input(x, (..., "C", "H", "W"))
        if any(size % d for size, d in zip(x.shape[-3:], divisible)):
            raise ShapeError(f"{self._short_repr()}: the input's last three sizes {x.shape[-3:]} must be "
                             f"divisible by {divisible}")
        return x

    def extra_repr(self):
        return f"{self._arg}={self._factor}"


class PixelShuffle(_Shuffle):
    """Rearrange ``(*, C*r^2, H, W)`` into ``(*, C, H*r, W*r)``, PyTorch's ``nn.PixelShuffle``.

    Forward: ``y[..., c, h*r + i, w*r + j] = x[..., c*r*r + i*r + j, h, w]`` (sub-pixel
    convolution's upsampling step). Backward: the inverse permutation,
    ``dL/dx = pixel_unshuffle(dL/dy)``.

    Args:
        upscale_factor: r.

    Shape: ``(*, C*r^2, H, W) -> (*, C, H*r, W*r)`` (any number of leading axes, at least none).

    Example:
        >>> PixelShuffle(2)(np.zeros((1, 8, 3, 3))).shape
        (1, 2, 6, 6)
    """

    def __init__(self, upscale_factor):
        super().__init__(upscale_factor, "upscale_factor")

    def forward(self, x):
        r = self.upscale_factor
        y = pixel_shuffle(self._checked(x, (r * r, 1, 1)), r)
        self._shapes = y.shape
        return y

    def backward(self, grad_out):
        return pixel_unshuffle(self.check_grad_out(grad_out, self._shapes), self.upscale_factor)


class PixelUnshuffle(_Shuffle):
    """Rearrange ``(*, C, H*r, W*r)`` into ``(*, C*r^2, H, W)``, PyTorch's ``nn.PixelUnshuffle``.

    Forward: ``y[..., c*r*r + i*r + j, h, w] = x[..., c, h*r + i, w*r + j]``, the inverse of
    ``PixelShuffle``. Backward: ``dL/dx = pixel_shuffle(dL/dy)``.

    Args:
        downscale_factor: r.

    Shape: ``(*, C, H*r, W*r) -> (*, C*r^2, H, W)``.

    Example:
        >>> PixelUnshuffle(2)(np.zeros((1, 2, 6, 6))).shape
        (1, 8, 3, 3)
    """

    def __init__(self, downscale_factor):
        super().__init__(downscale_factor, "downscale_factor")

    def forward(self, x):
        r = self.downscale_factor
        y = pixel_unshuffle(self._checked(x, (1, r, r)), r)
        self._shapes = y.shape
        return y

    def backward(self, grad_out):
        return pixel_shuffle(self.check_grad_out(grad_out, self._shapes), self.downscale_factor)
