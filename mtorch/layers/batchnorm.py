"""Batch normalization (BatchNorm1d, BatchNorm2d), as torch/nn/modules/batchnorm.py."""
import numpy as np

from ..errors import ShapeError
from ..layer import Layer
from ..parameter import Parameter


def _channel_sum(a):
    """Sum over every axis but the channel axis 1: ``(N, C, ...) -> (C,)``.

    numpy reduces slowly over several strided axes, so the sum runs on a
    ``(positions, C)`` view as one BLAS product when the memory is channels-last
    (as Conv2d's output is), else along the contiguous last axis first.
    """
    channels_last = np.moveaxis(a, 1, -1)
    if channels_last.flags.c_contiguous:
        rows = channels_last.reshape(-1, a.shape[1])
        return np.ones(len(rows), dtype=a.dtype) @ rows
    return a.reshape(a.shape[0], a.shape[1], -1).sum(axis=2).sum(axis=0)


class _BatchNorm(Layer):
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
        eps: added to the variance for stability (default 1e-5).
        momentum: weight of the new batch in the running statistics (default 0.1); None: cumulative average.
        affine: learn gamma (init 1) and beta (init 0) (default True).
        track_running_stats: keep the buffers ``running_mean`` (init 0), ``running_var`` (init 1)
            and ``num_batches_tracked`` (default True).

    Cached: x_hat, 1 / sqrt(var + eps) per channel, and which statistics were used.
    """

    batch_independent = False

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.weight = Parameter(np.ones(self.num_features)) if affine else None
        self.bias = Parameter(np.zeros(self.num_features)) if affine else None
        tracked = self.track_running_stats
        self.register_buffer("running_mean", np.zeros(self.num_features, np.float32) if tracked else None)
        self.register_buffer("running_var", np.ones(self.num_features, np.float32) if tracked else None)
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64) if tracked else None)
        self._cache = None

    def _check(self, x):
        """Return the checked input; subclasses accept their own shapes."""
        raise NotImplementedError

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean = np.zeros_like(self.running_mean)
            self.running_var = np.ones_like(self.running_var)
            self.num_batches_tracked = np.array(0, dtype=np.int64)

    def forward(self, x):
        x = self._check(x)
        shape = (1, -1) + (1,) * (x.ndim - 2)               # broadcasts a (C,) vector over x
        batch_stats = self.training or not self.track_running_stats
        if batch_stats:
            m = x.size // self.num_features
            if self.training and m < 2:
                raise ValueError(f"{self._short_repr()}: expected more than 1 value per channel when "
                                 f"training, got input of shape {x.shape}")
            mean = _channel_sum(x) / m
            centred = x - mean.reshape(shape)
            var = _channel_sum(centred * centred) / m
            if self.training and self.track_running_stats:
                self._update_running_stats(mean, var, m)
        else:
            mean, var = self.running_mean.astype(x.dtype), self.running_var.astype(x.dtype)
            centred = x - mean.reshape(shape)
        inv_std = 1 / np.sqrt(var + x.dtype.type(self.eps))
        x_hat = centred * inv_std.reshape(shape)
        self._cache = (x_hat, inv_std, batch_stats, shape)
        if not self.affine:
            return x_hat
        return x_hat * self.weight.data.reshape(shape) + self.bias.data.reshape(shape)

    def _update_running_stats(self, mean, var, m):
        self.num_batches_tracked = self.num_batches_tracked + 1
        f = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        dtype = self.running_mean.dtype
        self.running_mean = ((1 - f) * self.running_mean + f * mean).astype(dtype)
        self.running_var = ((1 - f) * self.running_var + f * var * (m / (m - 1))).astype(dtype)

    def backward(self, grad_out):
        cache = self._cache
        g = self.check_grad_out(grad_out, None if cache is None else cache[0].shape)
        x_hat, inv_std, batch_stats, shape = cache
        scale = inv_std if not self.affine else inv_std * self.weight.data
        g_sum, gx_sum = _channel_sum(g), _channel_sum(g * x_hat)
        if self.affine:
            self.weight.add_grad(gx_sum)
            self.bias.add_grad(g_sum)
        if not batch_stats:
            return g * scale.reshape(shape)
        m = g.size // self.num_features
        return scale.reshape(shape) * (g - (g_sum / m).reshape(shape) - x_hat * (gx_sum / m).reshape(shape))

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of ``(N, C)`` features or ``(N, C, L)`` sequences, per channel C.

    See ``_BatchNorm`` for the math. Shape: input ``(N, C)`` or ``(N, C, L)``; output the same.

    Example:
        >>> bn = BatchNorm1d(128)
        >>> bn(np.random.randn(32, 128)).shape
        (32, 128)
    """

    def _check(self, x):
        x = np.asarray(x)
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
