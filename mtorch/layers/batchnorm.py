"""Batch normalization (BatchNorm1d, BatchNorm2d), as torch/nn/modules/batchnorm.py.

Also what InstanceNorm and GroupNorm share with it: the checked arguments and
the learned per-channel scale and shift (``_Normalization``).
"""
import math

import numpy as np

from ..errors import ShapeError
from ..layer import Layer
from ..parameter import Parameter
from ..validation import check_bool, check_int, check_real


def channel_sum(a, b=None):
    """``sum(a)`` (or ``sum(a * b)``) over every axis but the channel axis 1: ``(N, C, ...) -> (C,)``.

    einsum sums in one pass whatever the memory layout, and multiplies without
    a temporary; numpy's ``a.sum(axis=(0, 2, 3))`` is 8 times slower on the
    channels-last arrays a convolution returns.
    """
    def positions(array):                  # (N, C, M): a view for the usual memory layouts
        return array.reshape(array.shape[:2] + (math.prod(array.shape[2:]),))
    return np.einsum("ncm->c", positions(a)) if b is None else np.einsum("ncm,ncm->c", positions(a), positions(b))


def _per_channel(vector, ndim):
    """A ``(C,)`` vector shaped ``(1, C, 1, ...)`` to broadcast over an array of ``ndim`` dimensions."""
    return vector.reshape((1, -1) + (1,) * (ndim - 2))


class _Normalization(Layer):
    """What the normalization layers share: their arguments, and ``y = gamma * x_hat + beta`` per channel.

    ``gamma`` (``weight``, init 1) and ``beta`` (``bias``, init 0) have one value per channel
    (axis 1) when ``affine``; their gradients sum over every other axis:
    ``dL/dgamma = sum(g * x_hat)``, ``dL/dbeta = sum(g)``, and ``dL/dx_hat = gamma * g``.
    """

    def __init__(self, channels, eps, affine, bias):
        super().__init__()
        self.eps = check_real(self, "eps", eps, minimum=0)
        self.affine = check_bool(self, "affine", affine)
        has_bias = check_bool(self, "bias", bias)
        self.weight = Parameter(np.ones(channels)) if self.affine else None
        self.bias = Parameter(np.zeros(channels)) if self.affine and has_bias else None

    def _scale_shift(self, x_hat):
        if self.weight is None:
            return x_hat
        y = x_hat * _per_channel(self.weight.data, x_hat.ndim)
        if self.bias is not None:
            y += _per_channel(self.bias.data, x_hat.ndim)
        return y

    def _scale_shift_backward(self, g, x_hat):
        """Add dL/dgamma and dL/dbeta; return dL/dx_hat."""
        if self.weight is None:
            return g
        self.weight.add_grad(channel_sum(g, x_hat))
        if self.bias is not None:
            self.bias.add_grad(channel_sum(g))
        return g * _per_channel(self.weight.data, g.ndim)


class _BatchNorm(_Normalization):
    """Normalise each channel over the batch (and the positions), then scale and shift.

    Forward, per channel c, over the m = N (x L, or x H x W) values of that channel::

        mu = mean(x),  var = mean((x - mu)^2)        (biased: divide by m)
        x_hat = (x - mu) / sqrt(var + eps)
        y = gamma * x_hat + beta                      (gamma = weight, beta = bias)

    Training mode uses the batch's mu and var and updates the running
    statistics as PyTorch does (``f = momentum``, or ``1 / num_batches_tracked``
    when ``momentum=None``, a cumulative average)::

        running_mean = (1 - f) * running_mean + f * mu
        running_var  = (1 - f) * running_var  + f * var * m / (m - 1)     (unbiased)

    Eval mode uses ``running_mean`` and ``running_var`` instead (or the batch's
    statistics when ``track_running_stats=False``).

    Backward, with ``g = dL/dy`` and means over the same m values::

        dL/dgamma = sum(g * x_hat),   dL/dbeta = sum(g)
        batch statistics:  dL/dx = gamma / sqrt(var + eps) * (g - mean(g) - x_hat * mean(g * x_hat))
        running statistics (constants): dL/dx = gamma / sqrt(var + eps) * g

    (the first follows because mu and var depend on every x of the channel).

    Args:
        num_features: C, the number of channels.
        eps: added to the variance for stability, >= 0 (default 1e-5); > 0 where batch statistics are taken.
        momentum: weight of the new batch in the running statistics, in [0, 1] (default 0.1);
            None: cumulative average.
        affine: learn gamma (``weight``, init 1) and beta (``bias``, init 0) (default True).
        track_running_stats: keep the buffers ``running_mean`` (init 0), ``running_var`` (init 1)
            and ``num_batches_tracked`` (default True).
        bias: keyword-only; False learns gamma alone (default True).

    Cached: x_hat, 1 / sqrt(var + eps) per channel, and which statistics were used.
    """

    batch_independent = False

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, *, bias=True):
        num_features = check_int(self, "num_features", num_features, minimum=1)
        super().__init__(num_features, eps, affine, bias)
        self.num_features = num_features
        self.momentum = None if momentum is None else check_real(self, "momentum", momentum, 0, 1)
        self.track_running_stats = check_bool(self, "track_running_stats", track_running_stats)
        tracked = self.track_running_stats
        self.register_buffer("running_mean", np.zeros(self.num_features, np.float32) if tracked else None)
        self.register_buffer("running_var", np.ones(self.num_features, np.float32) if tracked else None)
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64) if tracked else None)
        self._cache = None

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean = np.zeros_like(self.running_mean)
            self.running_var = np.ones_like(self.running_var)
            self.num_batches_tracked = np.array(0, dtype=np.int64)

    def forward(self, x):
        x = self._check(x)
        shape = (1, -1) + (1,) * (x.ndim - 2)               # broadcasts a (C,) vector over x
        batch_stats = self.training or not self.track_running_stats
        m = x.size // self.num_features
        if batch_stats:
            if m == 1:                                              # x_hat would be 0 (PyTorch refuses too)
                raise ValueError(f"{self._short_repr()}: expected more than 1 value per channel for batch "
                                 f"statistics, got input of shape {x.shape}")
            if self.eps == 0:
                raise ValueError(f"{self._short_repr()}: eps must be positive for batch statistics (a constant "
                                 f"channel has variance 0), got eps=0")
            mean = channel_sum(x) / max(m, 1)                       # an empty batch: 0, nothing tracked
            centred = x - mean.reshape(shape)
            var = channel_sum(centred, centred) / max(m, 1)
            if self.training and self.track_running_stats:
                self._update_running_stats(mean, var, m)
        else:
            mean, var = self.running_mean.astype(x.dtype), self.running_var.astype(x.dtype)
            centred = x - mean.reshape(shape)
        inv_std = 1 / np.sqrt(var + x.dtype.type(self.eps))
        x_hat = centred * inv_std.reshape(shape)
        self._cache = (x_hat, inv_std, batch_stats, shape)
        return self._scale_shift(x_hat)

    def _update_running_stats(self, mean, var, m):
        self.num_batches_tracked = self.num_batches_tracked + 1
        if m == 0:
            return
        f = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        self._blend_running_stats(mean, var, m, f)

    def _blend_running_stats(self, mean, var, m, f):
        """``running = (1 - f) running + f batch``, the batch variance made unbiased (m values each)."""
        dtype = self.running_mean.dtype
        self.running_mean = ((1 - f) * self.running_mean + f * mean).astype(dtype)
        self.running_var = ((1 - f) * self.running_var + f * var * (m / (m - 1))).astype(dtype)

    def backward(self, grad_out):
        cache = self._cache
        g = self.check_grad_out(grad_out, None if cache is None else cache[0].shape)
        x_hat, inv_std, batch_stats, shape = cache
        g_sum, gx_sum = channel_sum(g), channel_sum(g, x_hat)
        scale = inv_std
        if self.affine:
            self.weight.add_grad(gx_sum)
            if self.bias is not None:
                self.bias.add_grad(g_sum)
            scale = inv_std * self.weight.data
        if not batch_stats:
            return g * scale.reshape(shape)
        m = max(g.size // self.num_features, 1)
        return scale.reshape(shape) * (g - (g_sum / m).reshape(shape) - x_hat * (gx_sum / m).reshape(shape))

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of ``(N, C)`` features or ``(N, C, L)`` sequences, per channel C.

    See ``_BatchNorm`` for the math. Shape: input ``(N, C)`` or ``(N, C, L)``; output the same.

    Example:
        >>> bn = BatchNorm1d(128)
        >>> bn(np.random.randn(32, 128)).shape
        (32, 128)
    """

    def _check(self, x):
        x = self.check_input(x, (...,))
        if x.ndim not in (2, 3):
            raise ShapeError(f"{self._short_repr()}: expected input of shape (N, {self.num_features}) "
                             f"or (N, {self.num_features}, L), got {x.shape}")
        return self.check_input(x, ("N", self.num_features) + (("L",) if x.ndim == 3 else ()))


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of ``(N, C, H, W)`` images, per channel over N, H and W.

    See ``_BatchNorm`` for the math. Shape: input ``(N, C, H, W)``; output the same.

    Example:
        >>> bn = BatchNorm2d(16)
        >>> bn(np.random.randn(8, 16, 28, 28)).shape
        (8, 16, 28, 28)
    """

    def _check(self, x):
        return self.check_input(x, ("N", self.num_features, "H", "W"))
