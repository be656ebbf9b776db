"""Normalisation over each sample's last axes: LayerNorm and RMSNorm (as in ``torch.nn``).

Both normalise over the trailing ``normalized_shape`` axes of every sample
(a token's features, in a Transformer), never across the batch, so they
behave the same in training and evaluation and keep no running statistics.
(BatchNorm, which normalises across the batch, lives in ``batchnorm.py``.)
"""
import numbers

import numpy as np

from ..layer import Layer
from ..parameter import Parameter
from ..validation import check_bool, check_int, check_real
from .instancenorm import mean_over, standardize, standardize_backward


def _normalized_shape(owner, value):
    """``normalized_shape`` (an int or a sequence of ints >= 1) as a tuple."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not value:
        raise TypeError(f"{owner}: normalized_shape must be an int or a non-empty tuple of ints, got "
                        f"{value!r} ({type(value).__name__})")
    return tuple(check_int(owner, "normalized_shape", v, minimum=1) for v in value)


class _Norm(Layer):
    """Shared plumbing: the affine parameters, and the input seen as rows of D = prod(normalized_shape)."""

    def _setup(self, owner, normalized_shape, elementwise_affine, bias):
        self.normalized_shape = _normalized_shape(owner, normalized_shape)
        self.elementwise_affine = check_bool(owner, "elementwise_affine", elementwise_affine)
        affine = self.elementwise_affine
        self.weight = Parameter(np.ones(self.normalized_shape)) if affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape)) if affine and bias else None
        self._xhat = self._rstd = self._shape = None

    def _rows(self, x):
        """The checked input and its samples as rows, ``(M, D)``."""
        x = self.check_input(x, (...,) + self.normalized_shape)
        self._shape = x.shape
        return x.reshape(-1, int(np.prod(self.normalized_shape)))

    def _affine(self, xhat):
        """``y = xhat * weight + bias``, in the input's shape."""
        y = xhat * self.weight.data.reshape(-1) if self.weight is not None else xhat.copy()
        if self.bias is not None:
            y += self.bias.data.reshape(-1)
        return y.reshape(self._shape)

    def _grad_rows(self, grad_out):
        g = self.check_grad_out(grad_out, None if self._xhat is None else self._shape)
        return g.reshape(self._xhat.shape)

    def _affine_backward(self, g):
        """Add dL/dweight = sum(g * xhat), dL/dbias = sum(g) over the rows; return dL/dxhat = g * weight."""
        if self.weight is None:
            return g
        self.weight.add_grad(np.einsum("md,md->d", g, self._xhat).reshape(self.normalized_shape))
        if self.bias is not None:
            self.bias.add_grad(np.einsum("md->d", g).reshape(self.normalized_shape))
        return g * self.weight.data.reshape(-1)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class LayerNorm(_Norm):
    """Layer normalisation (Ba et al., 2016): each sample is standardised over its last axes.

    Forward, with the mean and (biased) variance over the ``normalized_shape``
    axes of each sample (D entries)::

        mu = mean(x),  var = mean((x - mu)^2),  rstd = 1 / sqrt(var + eps)
        xhat = (x - mu) * rstd
        y = xhat * weight + bias

    Backward, with ``dxhat = dL/dy * weight`` and means over the same axes::

        dL/dweight = sum over samples of dL/dy * xhat,   dL/dbias = sum over samples of dL/dy
        dL/dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))

    (the two means remove what flows back through mu and through var).

    Args:
        normalized_shape: the trailing shape to normalise over (an int for the last axis).
        eps: added to the variance (default 1e-5).
        elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros) of that shape.
        bias: learn the bias too (default True; needs ``elementwise_affine``).

    Shape: input ``(*, *normalized_shape)``; output the same.

    Example:
        >>> norm = LayerNorm(8)
        >>> y = norm(np.random.randn(2, 5, 8))       # every y[i, j, :] has mean 0 and variance 1
        >>> y.shape, float(abs(y.mean(-1)).max()) < 1e-6
        ((2, 5, 8), True)
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True):
        super().__init__()
        self.eps = check_real("LayerNorm", "eps", eps, minimum=0)
        self._setup("LayerNorm", normalized_shape, elementwise_affine, check_bool("LayerNorm", "bias", bias))

    def forward(self, x):
        self._xhat, _, _, self._rstd = standardize(self._rows(x), 1, self.eps)   # rows (M, D), one per sample
        return self._affine(self._xhat)

    def backward(self, grad_out):
        dxhat = self._affine_backward(self._grad_rows(grad_out))
        return standardize_backward(dxhat, self._xhat, self._rstd, 1).reshape(self._shape)


class RMSNorm(_Norm):
    """Root-mean-square normalisation (Zhang & Sennrich, 2019): LayerNorm without the mean.

    Forward, with the mean over the ``normalized_shape`` axes of each sample::

        rstd = 1 / sqrt(mean(x^2) + eps),   xhat = x * rstd,   y = xhat * weight

    Backward, with ``dxhat = dL/dy * weight``::

        dL/dweight = sum over samples of dL/dy * xhat
        dL/dx = rstd * (dxhat - xhat * mean(dxhat * xhat))

    Args:
        normalized_shape: the trailing shape to normalise over (an int for the last axis).
        eps: added to the mean square; None (default) uses the machine epsilon
            of the dtype computed in (``np.finfo(dtype).eps``), as PyTorch.
        elementwise_affine: learn ``weight`` (ones) of that shape; there is no bias.

    Shape: input ``(*, *normalized_shape)``; output the same.

    Example:
        >>> norm = RMSNorm(8)
        >>> y = norm(np.random.randn(2, 8))          # every row has mean square 1
        >>> y.shape, float(abs(np.mean(y ** 2, axis=-1) - 1).max()) < 1e-3
        ((2, 8), True)
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True):
        super().__init__()
        self.eps = None if eps is None else check_real("RMSNorm", "eps", eps, minimum=0)
        self._setup("RMSNorm", normalized_shape, elementwise_affine, False)

    def forward(self, x):
        x = self._rows(x)
        eps = np.finfo(x.dtype).eps if self.eps is None else self.eps
        self._rstd = 1 / np.sqrt(mean_over(x * x, 1) + x.dtype.type(eps))
        self._xhat = x * self._rstd
        return self._affine(self._xhat)

    def backward(self, grad_out):
        dxhat = self._affine_backward(self._grad_rows(grad_out))
        dx = self._rstd * (dxhat - self._xhat * mean_over(dxhat * self._xhat, 1))
        return dx.reshape(self._shape)
