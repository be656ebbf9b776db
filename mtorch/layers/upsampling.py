"""Upsample: resize images (or signals) by interpolation, PyTorch's ``nn.Upsample``.

Every mode is separable: the image is resized along W, then along H, and
along one axis each output cell is a weighted sum of a few input cells
(taps), ``y[p] = sum_t w_t[p] * x[idx_t[p]]``, from the cell's position in
the input, ``src(p)``:

=============  ==========================================  ===========================================
mode           taps ``idx_t[p]``                           weights ``w_t[p]``
=============  ==========================================  ===========================================
nearest        ``min(floor(p * scale), L - 1)``            1
nearest-exact  ``min(floor((p + 0.5) * scale), L - 1)``    1
(bi)linear     ``i = floor(src)``, ``min(i + 1, L - 1)``   ``1 - f``, ``f`` with ``f = src - i``
bicubic        ``i - 1 .. i + 2`` clipped to ``0 .. L-1``  Keys' cubic convolution of ``f``, a = -0.75
=============  ==========================================  ===========================================

``src(p) = p * (L - 1) / (L_out - 1)`` with ``align_corners=True``, else
``(p + 0.5) * scale - 0.5`` (clipped at 0 for linear), where ``scale`` is
``1 / scale_factor`` when a scale factor was given, else ``L / L_out``.

Backward, the adjoint of each axis's map: input cell k receives
``sum of w_t[p] * dL/dy[p]`` over the taps ``(p, t)`` that read it.
"""
import math

import numpy as np

from ..errors import ShapeError
from ..layer import Layer
from ..validation import check_bool, check_choice, check_int, check_real
from ._windows import take_adjoint

MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic")


def _cubic_weights(f):
    """Keys' cubic convolution weights (a = -0.75, PyTorch's) of the 4 taps ``i - 1 .. i + 2`` at offset ``f``."""
    a = -0.75

    def near(d):                       # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):                        # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return [far(f + 1), near(f), near(1 - f), far(2 - f)]


def interpolation_taps(size, out, mode, align_corners, scale_factor):
    """``[(idx_t, w_t), ...]``: the taps of one axis of length ``size`` resized to ``out`` (module docstring)."""
    p = np.arange(out, dtype=np.float64)
    if align_corners:
        scale = (size - 1) / (out - 1) if out > 1 else 0.0
    else:
        scale = 1 / scale_factor if scale_factor is not None else size / out
    if mode.startswith("nearest"):
        src = (p + 0.5) * scale if mode == "nearest-exact" else p * scale
        return [(np.minimum(np.floor(src).astype(np.int64), size - 1), None)]
    src = p * scale if align_corners else (p + 0.5) * scale - 0.5
    if mode != "bicubic":
        src = np.maximum(src, 0)
    i = np.floor(src).astype(np.int64)
    f = src - i
    if mode == "bicubic":
        return [(np.clip(i + t, 0, size - 1), w) for t, w in zip((-1, 0, 1, 2), _cubic_weights(f))]
    return [(np.minimum(i, size - 1), 1 - f), (np.minimum(i + 1, size - 1), f)]


def _along(w, axis, ndim, dtype):
    """Weights ``(out,)`` shaped to broadcast along ``axis``."""
    return w.reshape((-1,) + (1,) * (ndim - 1 - axis)).astype(dtype)


class Upsample(Layer):
    """Resize ``(N, C, L)`` signals or ``(N, C, H, W)`` images, PyTorch's ``nn.Upsample``.

    Forward, one spatial axis after the other (W, then H), with the taps of
    the module docstring::

        y[..., p] = sum_t w_t[p] * x[..., idx_t[p]]          (nearest: y[..., p] = x[..., idx[p]])

    Backward, the adjoint, axis by axis in reverse::

        dL/dx[..., k] = sum over the taps (p, t) with idx_t[p] = k of w_t[p] * dL/dy[..., p]

    Args:
        size: the output's spatial size, ``L_out`` or ``(H_out, W_out)``.
        scale_factor: or a factor (per axis, or one for all): ``H_out = floor(H * scale_factor)``.
            Give exactly one of ``size`` and ``scale_factor``.
        mode: ``'nearest'`` (default), ``'nearest-exact'``, ``'linear'`` (3-d input),
            ``'bilinear'`` or ``'bicubic'`` (4-d input).
        align_corners: for the interpolating modes, map the corner pixels' centres onto each
            other (True) or the corners' edges (False, the default).
        recompute_scale_factor: True computes the positions from the output size instead of
            ``scale_factor`` (default None: use the factor, as PyTorch).

    Shape: ``(N, C, L) -> (N, C, L_out)`` or ``(N, C, H, W) -> (N, C, H_out, W_out)``.

    Cached: the input shape and each axis's taps.

    Example:
        >>> Upsample(scale_factor=2)(np.array([[[1.0, 2.0]]]))
        array([[[1., 1., 2., 2.]]])
        >>> Upsample(scale_factor=2, mode="linear")(np.array([[[1.0, 2.0]]]))
        array([[[1.  , 1.25, 1.75, 2.  ]]])
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        name = "Upsample"
        if (size is None) == (scale_factor is None):
            raise ValueError(f"{name}: give exactly one of size and scale_factor, got size={size!r}, "
                             f"scale_factor={scale_factor!r}")
        self.size = self._per_axis(size, lambda v: check_int(name, "size", v, minimum=1))
        self.scale_factor = self._per_axis(
            scale_factor, lambda v: check_real(name, "scale_factor", v, minimum=0, open_min=True))
        self.mode = check_choice(name, "mode", mode, MODES)
        if align_corners is not None and self.mode.startswith("nearest"):
            raise ValueError(f"{name}: align_corners can only be set with the interpolating modes "
                             f"(linear, bilinear, bicubic), got mode={mode!r}")
        self.align_corners = None if align_corners is None else check_bool(name, "align_corners", align_corners)
        self.recompute_scale_factor = None if recompute_scale_factor is None else \
            check_bool(name, "recompute_scale_factor", recompute_scale_factor)
        self._cache = None

    @staticmethod
    def _per_axis(value, check):
        if value is None:
            return None
        return tuple(check(v) for v in value) if isinstance(value, (tuple, list)) else check(value)

    def forward(self, x):
        x = self.check_input(x, (...,))
        x = self.check_input(x, ("N", "C", "H", "W") if x.ndim == 4 else ("N", "C", "L"))
        dims = x.ndim - 2
        if {"linear": 1, "bilinear": 2, "bicubic": 2}.get(self.mode, dims) != dims:
            raise ShapeError(f"{self._short_repr()}: mode {self.mode!r} needs a "
                             f"{'3' if self.mode == 'linear' else '4'}-d input, got shape {x.shape}")
        if 0 in x.shape[2:]:
            raise ShapeError(f"{self._short_repr()}: the input's spatial size {x.shape[2:]} has nothing to "
                             f"interpolate from")
        taps = [interpolation_taps(x.shape[axis], out, self.mode, bool(self.align_corners), scale)
                for axis, out, scale in zip(range(2, x.ndim), *self._sizes_and_scales(x.shape[2:]))]
        y = x
        for axis, axis_taps in reversed(list(zip(range(2, x.ndim), taps))):         # W first, then H
            y = _resize(y, axis, axis_taps)
        self._cache = (x.shape, taps, y.shape)
        return y

    def backward(self, grad_out):
        in_shape, taps, out_shape = self._cache or (None,) * 3
        g = self.check_grad_out(grad_out, out_shape)
        for axis, axis_taps in zip(range(2, g.ndim), taps):                          # H first, then W
            g = _resize_adjoint(g, axis, axis_taps, in_shape[axis])
        return g

    def _sizes_and_scales(self, in_sizes):
        """The output sizes, and the scale factors the positions use (None: from the sizes)."""
        dims = len(in_sizes)
        if self.size is not None:
            sizes = self.size if isinstance(self.size, tuple) else (self.size,) * dims
            if len(sizes) != dims:
                raise ShapeError(f"{self._short_repr()}: size has {len(sizes)} entries for {dims} spatial axes")
            return sizes, (None,) * dims
        factors = self.scale_factor if isinstance(self.scale_factor, tuple) else (self.scale_factor,) * dims
        if len(factors) != dims:
            raise ShapeError(f"{self._short_repr()}: scale_factor has {len(factors)} entries for {dims} spatial axes")
        sizes = tuple(math.floor(size * f) for size, f in zip(in_sizes, factors))
        if min(sizes) < 1:
            raise ShapeError(f"{self._short_repr()}: the input's spatial size {tuple(in_sizes)} gives no output")
        return sizes, (None,) * dims if self.recompute_scale_factor else factors

    def extra_repr(self):
        what = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return what + f", mode={self.mode!r}" + ("" if self.align_corners is None else
                                               f", align_corners={self.align_corners}")


def _resize(x, axis, taps):
    """``y[..., p] = sum_t w_t[p] * x[..., idx_t[p]]`` along ``axis``."""
    (index, weight), rest = taps[0], taps[1:]
    if weight is None:                                     # nearest: a plain gather
        return np.take(x, index, axis=axis)
    y = np.take(x, index, axis=axis) * _along(weight, axis, x.ndim, x.dtype)
    for index, weight in rest:
        y += np.take(x, index, axis=axis) * _along(weight, axis, x.ndim, x.dtype)
    return y


def _resize_adjoint(g, axis, taps, size):
    """The adjoint of ``_resize``: ``dL/dx[..., k] = sum of w_t[p] * g[..., p]`` over the taps with ``idx_t[p] = k``."""
    index = np.concatenate([idx for idx, _ in taps])
    if taps[0][1] is None:
        return take_adjoint(g, index, size, axis)
    weighted = np.concatenate([g * _along(w, axis, g.ndim, g.dtype) for _, w in taps], axis=axis)
    return take_adjoint(weighted, index, size, axis)
