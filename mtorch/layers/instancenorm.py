"""Instance normalization (InstanceNorm1d, InstanceNorm2d), as torch/nn/modules/instancenorm.py.

Also ``standardize`` and ``standardize_backward``, the normalisation of
groups of values along some axes, which GroupNorm and LayerNorm use too.
"""
import math

import numpy as np

from ..errors import ShapeError
from .batchnorm import _BatchNorm, _per_channel


def mean_over(a, axes):
    """The mean of ``a`` over ``axes``, keeping them (size 1): the sum divided by the count, so that
    a mean over no values is NaN (0 / 0) as in PyTorch, without numpy's 'Mean of empty slice' warning."""
    axes = (axes,) if isinstance(axes, int) else axes
    return a.sum(axis=axes, keepdims=True) / a.dtype.type(math.prod(a.shape[i] for i in axes))


def standardize(x, axes, eps):
    """``x_hat = (x - mu) / sqrt(var + eps)`` with mu and the biased var taken over ``axes``.

    Returns ``x_hat``, ``mu``, ``var`` and ``inv_std = 1 / sqrt(var + eps)``, the statistics
    keeping the reduced axes (size 1) so that they broadcast over x.
    """
    mu = mean_over(x, axes)
    centred = x - mu
    var = mean_over(centred * centred, axes)
    inv_std = 1 / np.sqrt(var + x.dtype.type(eps))
    return centred * inv_std, mu, var, inv_std


def standardize_backward(g_hat, x_hat, inv_std, axes):
    """dL/dx through ``standardize`` over ``axes``, given ``g_hat = dL/dx_hat``::

        dL/dx = inv_std * (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat))

    (mu and var depend on every x they were taken over, hence the two mean terms).
    """
    return inv_std * (g_hat - mean_over(g_hat, axes) - x_hat * mean_over(g_hat * x_hat, axes))


class _InstanceNorm(_BatchNorm):
    """Normalise each channel of each sample over its positions, then (``affine=True``) scale and shift.

    For sample n and channel c, over the m = L (or H x W) positions of ``x[n, c]``::

        mu = mean(x[n, c]),  var = mean((x[n, c] - mu)^2)       (biased)
        x_hat = (x[n, c] - mu) / sqrt(var + eps)
        y[n, c] = gamma_c * x_hat + beta_c

    BatchNorm's math with statistics per (sample, channel) instead of per channel,
    so each sample is normalised on its own (style transfer, small batches).
    With ``track_running_stats=True``, training blends the mean over the batch of the
    per-sample statistics into the running ones (var unbiased: times m / (m - 1))::

        running_mean = (1 - momentum) * running_mean + momentum * mean_n(mu[n])

    and eval mode normalises with them (``momentum=None`` leaves them as they are,
    as in PyTorch). Backward, with ``g = dL/dy`` and means over the positions of ``x[n, c]``::

        dL/dgamma = sum over n and positions of g * x_hat,   dL/dbeta = sum of g
        dL/dx = 1 / sqrt(var + eps) * (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat)),  g_hat = gamma * g

    Args:
        num_features: C, the number of channels.
        eps: added to the variance, >= 0 (default 1e-5).
        momentum: weight of the new statistics in the running ones (default 0.1).
        affine: learn gamma (``weight``, init 1) and beta (``bias``, init 0) (default False).
        track_running_stats: keep ``running_mean``, ``running_var`` and ``num_batches_tracked``
            (which stays 0, as in PyTorch) and use them in eval mode (default False).
        bias: keyword-only; False learns gamma alone (default True).

    Shape: ``(N, C, *positions)`` or, without a batch dimension, ``(C, *positions)``.
    """

    batch_independent = True

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias=bias)
        self._unbatched = False

    def forward(self, x):
        x = self.check_input(x, (...,))
        if x.ndim not in (self._spatial_dims + 1, self._spatial_dims + 2):
            positions = ("L",) if self._spatial_dims == 1 else ("H", "W")
            shape = ", ".join((str(self.num_features),) + positions)
            raise ShapeError(f"{self._short_repr()}: expected input of shape (N, {shape}) or ({shape}), got {x.shape}")
        self._unbatched = x.ndim == self._spatial_dims + 1
        x = self.check_input(x[None] if self._unbatched else x, ("N", self.num_features) + ("*",) * self._spatial_dims)
        positions = tuple(range(2, x.ndim))
        batch_stats = self.training or not self.track_running_stats
        if batch_stats:
            if math.prod(x.shape[2:]) == 1:                   # x_hat would be 0 (PyTorch refuses too)
                raise ValueError(f"{self._short_repr()}: expected more than 1 position per channel, "
                                 f"got input of shape {x.shape}")
            x_hat, mean, var, inv_std = standardize(x, positions, self.eps)
            if self.training and self.track_running_stats and self.momentum is not None:
                self._blend_running_stats(mean_over(mean, 0).ravel(), mean_over(var, 0).ravel(),
                                          math.prod(x.shape[2:]), self.momentum)
        else:
            mean, var = (_per_channel(v.astype(x.dtype), x.ndim) for v in (self.running_mean, self.running_var))
            inv_std = 1 / np.sqrt(var + x.dtype.type(self.eps))
            x_hat = (x - mean) * inv_std
        self._cache = (x_hat, inv_std, batch_stats)
        y = self._scale_shift(x_hat)
        return y[0] if self._unbatched else y

    def backward(self, grad_out):
        cache = self._cache
        shape = None if cache is None else cache[0].shape[self._unbatched:]
        g = self.check_grad_out(grad_out, shape)
        x_hat, inv_std, batch_stats = cache
        g_hat = self._scale_shift_backward(g[None] if self._unbatched else g, x_hat)
        if batch_stats:
            grad_in = standardize_backward(g_hat, x_hat, inv_std, tuple(range(2, g_hat.ndim)))
        else:
            grad_in = g_hat * inv_std
        return grad_in[0] if self._unbatched else grad_in


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of ``(N, C, L)`` sequences, each (sample, channel) over its L positions.

    See ``_InstanceNorm`` for the math. Shape: input ``(N, C, L)`` or ``(C, L)``; output the same.

    Example:
        >>> InstanceNorm1d(4)(np.random.randn(2, 4, 10)).shape
        (2, 4, 10)
    """

    _spatial_dims = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of ``(N, C, H, W)`` images, each (sample, channel) over its H x W positions.

    See ``_InstanceNorm`` for the math. Shape: input ``(N, C, H, W)`` or ``(C, H, W)``; output the same.

    Example:
        >>> InstanceNorm2d(3)(np.random.randn(2, 3, 8, 8)).shape
        (2, 3, 8, 8)
    """

    _spatial_dims = 2
