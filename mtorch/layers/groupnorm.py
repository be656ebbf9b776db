"""Group normalization (GroupNorm), as torch/nn/modules/normalization.py."""
import numpy as np

from ..errors import ShapeError
from ..validation import check_int
from .batchnorm import _Normalization
from .instancenorm import standardize, standardize_backward


class GroupNorm(_Normalization):
    """Split the channels into ``num_groups`` groups; normalise each group of each sample, then
    scale and shift each channel.

    For sample n and group k, over the m = (C / num_groups) x positions values of ``x[n, group k]``::

        mu = mean,  var = mean((x - mu)^2)         (biased)
        x_hat = (x - mu) / sqrt(var + eps)
        y[n, c] = gamma_c * x_hat[n, c] + beta_c

    ``num_groups=1`` normalises each whole sample (LayerNorm over C and the positions);
    ``num_groups=C`` each channel of each sample (InstanceNorm). No running
    statistics: training and eval compute the same. Backward, with ``g = dL/dy``::

        dL/dgamma_c = sum over n and positions of g * x_hat,   dL/dbeta_c = sum of g
        dL/dx = 1 / sqrt(var + eps) * (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat)),
            g_hat = gamma * g, means over each (sample, group)

    Args:
        num_groups: number of groups; must divide num_channels.
        num_channels: C.
        eps: added to the variance, >= 0 (default 1e-5).
        affine: learn gamma (``weight``, init 1) and beta (``bias``, init 0) per channel (default True).
        bias: keyword-only; False learns gamma alone (default True).

    Shape: input ``(N, C, *)``; output the same.

    Example:
        >>> GroupNorm(2, 6)(np.random.randn(4, 6, 5)).shape
        (4, 6, 5)
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, *, bias=True):
        groups = check_int(self, "num_groups", num_groups, minimum=1)
        channels = check_int(self, "num_channels", num_channels, minimum=1)
        if channels % groups:
            raise ValueError(f"GroupNorm: num_channels must be divisible by num_groups, got "
                             f"num_groups={num_groups}, num_channels={num_channels}")
        super().__init__(channels, eps, affine, bias)
        self.num_groups, self.num_channels = groups, channels
        self._x_hat = self._inv_std = None

    def _groups(self, a):
        """The ``(N, num_groups, values per group)`` view of a ``(N, C, *)`` array."""
        per_group = self.num_channels // self.num_groups * int(np.prod(a.shape[2:]))
        return a.reshape(a.shape[0], self.num_groups, per_group)

    def forward(self, x):
        x = self.check_input(x, (...,))
        if x.ndim < 2:
            raise ShapeError(f"{self._short_repr()}: expected input of shape (N, {self.num_channels}, ...), "
                             f"got {x.shape}")
        x = self.check_input(x, ("N", self.num_channels) + ("*",) * (x.ndim - 2))
        if x.size == self.num_groups:                  # x_hat would be 0 (PyTorch refuses too)
            raise ValueError(f"{self._short_repr()}: expected more than 1 value per group, got input of "
                             f"shape {x.shape}")
        x_hat, _, _, self._inv_std = standardize(self._groups(x), 2, self.eps)
        self._x_hat = x_hat.reshape(x.shape)
        return self._scale_shift(self._x_hat)

    def backward(self, grad_out):
        x_hat = self._x_hat
        g = self.check_grad_out(grad_out, None if x_hat is None else x_hat.shape)
        g_hat = self._scale_shift_backward(g, x_hat)
        return standardize_backward(self._groups(g_hat), self._groups(x_hat), self._inv_std, 2).reshape(g.shape)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={self.bias is not None}"
