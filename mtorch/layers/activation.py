"""Element-wise activations and the (log-)softmax over one axis.

Each activation ``y = f(x)`` has backward ``dL/dx = dL/dy * f'(x)``, computed
from whichever of x or y it cached. Shapes: any input shape; output and
gradients have the input's shape.
"""
import math

import numpy as np

from ..functional import erfc, log_softmax, sigmoid
from ..layer import Layer
from ..validation import check_choice


class _Elementwise(Layer):
    """Shared plumbing: check and cache the input, check grad_out against it."""

    def __init__(self):
        super().__init__()
        self._x = None

    def forward(self, x):
        self._x = self.check_input(x, (...,))
        return self._f(self._x)

    def backward(self, grad_out):
        g = self.check_grad_out(grad_out, None if self._x is None else self._x.shape)
        return g * self._df(self._x)


class ReLU(_Elementwise):
    """``y = max(x, 0)``; ``dy/dx = 1 if x > 0 else 0``."""

    def _f(self, x):
        return np.maximum(x, 0)

    def _df(self, x):
        return x > 0


class LeakyReLU(_Elementwise):
    """``y = x if x > 0 else negative_slope * x``; ``dy/dx = 1 or negative_slope``."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def _f(self, x):
        return np.where(x > 0, x, x * self.negative_slope)

    def _df(self, x):
        return np.where(x > 0, 1, self.negative_slope).astype(x.dtype)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(_Elementwise):
    """``y = x if x > 0 else alpha * (exp(x) - 1)``; ``dy/dx = 1 or alpha * exp(x)``."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def _f(self, x):
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))

    def _df(self, x):
        return np.where(x > 0, 1, self.alpha * np.exp(np.minimum(x, 0))).astype(x.dtype)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class GELU(_Elementwise):
    """Gaussian error linear unit, ``y = x * Phi(x)`` with Phi the standard normal CDF.

    Both forms are ``y = x * gate(x)``, so ``dy/dx = gate(x) + x * gate'(x)``:

    ``approximate='none'``: ``gate = Phi(x) = erfc(-x / sqrt 2) / 2``,
    ``gate' = phi(x) = exp(-x^2/2) / sqrt(2 pi)`` (``mtorch.functional.erfc``:
    vectorised, accurate to about 1e-14 in float64).

    ``approximate='tanh'``: ``gate = (1 + tanh(u)) / 2`` with
    ``u = sqrt(2/pi) (x + 0.044715 x^3)``, ``gate' = (1 - tanh(u)^2) / 2 * du/dx``.

    Cached: x and the gate.

    Example:
        >>> GELU()(np.array([-1.0, 0.0, 1.0]))
        array([-0.15865525,  0.        ,  0.84134475])
    """

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = check_choice(self, "approximate", approximate, ("none", "tanh"))
        self._gate = None

    def _f(self, x):
        if self.approximate == "tanh":
            u = math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)
            self._gate = 0.5 * (1 + np.tanh(u))
        else:
            self._gate = 0.5 * erfc(x * -math.sqrt(0.5))
        return x * self._gate

    def _df(self, x):
        if self.approximate == "tanh":
            t = 2 * self._gate - 1                                  # tanh(u)
            du = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
            return self._gate + 0.5 * x * (1 - t * t) * du
        with np.errstate(over="ignore"):                            # x^2 = inf: phi = 0
            phi = np.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return self._gate + x * phi

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(_Elementwise):
    """Sigmoid linear unit (swish), ``y = x * sigmoid(x)``.

    ``dy/dx = s + x s (1 - s) = s (1 + x (1 - s))`` with ``s = sigmoid(x)``.

    Cached: x and s.

    Example:
        >>> SiLU()(np.array([-1.0, 0.0, 1.0]))
        array([-0.26894142,  0.        ,  0.73105858])
    """

    def __init__(self):
        super().__init__()
        self._s = None

    def _f(self, x):
        self._s = sigmoid(x)
        return x * self._s

    def _df(self, x):
        s = self._s
        return s * (1 + x * (1 - s))


class Sigmoid(Layer):
    """``y = 1 / (1 + exp(-x))``; ``dy/dx = y (1 - y)`` (caches y).

    Computed as ``exp(x) / (1 + exp(x))`` for negative x so no exp overflows.
    """

    def __init__(self):
        super().__init__()
        self._y = None

    def forward(self, x):
        self._y = sigmoid(self.check_input(x, (...,)))
        return self._y

    def backward(self, grad_out):
        y = self._y
        g = self.check_grad_out(grad_out, None if y is None else y.shape)
        return g * y * (1 - y)


class Tanh(Layer):
    """``y = tanh(x)``; ``dy/dx = 1 - y^2`` (caches y)."""

    def __init__(self):
        super().__init__()
        self._y = None

    def forward(self, x):
        self._y = np.tanh(self.check_input(x, (...,)))
        return self._y

    def backward(self, grad_out):
        y = self._y
        g = self.check_grad_out(grad_out, None if y is None else y.shape)
        return g * (1 - y * y)


class Softplus(_Elementwise):
    """``y = log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold``.

    ``dy/dx = sigmoid(beta x)`` (1 in the linear region).
    """

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def _f(self, x):
        bx = self.beta * x
        return np.where(bx > self.threshold, x, np.logaddexp(0, bx) / self.beta)

    def _df(self, x):
        bx = self.beta * x
        return np.where(bx > self.threshold, 1, sigmoid(bx)).astype(x.dtype)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Layer):
    """``y_i = exp(x_i) / sum_j exp(x_j)`` along ``dim``.

    Backward (Jacobian-vector product): ``dL/dx = y * (g - sum(g * y, dim))``.
    Computed with ``x - max(x)`` so large inputs do not overflow. Caches y.
    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim
        self._y = None

    def forward(self, x):
        x = self.check_input(x, (...,))
        e = np.exp(x - x.max(axis=self.dim, keepdims=True))
        self._y = e / e.sum(axis=self.dim, keepdims=True)
        return self._y

    def backward(self, grad_out):
        y = self._y
        g = self.check_grad_out(grad_out, None if y is None else y.shape)
        return y * (g - (g * y).sum(axis=self.dim, keepdims=True))

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Layer):
    """``y_i = x_i - log sum_j exp(x_j)`` along ``dim`` (log-sum-exp stable).

    Backward: ``dL/dx = g - softmax(x) * sum(g, dim)``, with ``softmax = exp(y)``. Caches y.
    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim
        self._y = None

    def forward(self, x):
        self._y = log_softmax(self.check_input(x, (...,)), self.dim)
        return self._y

    def backward(self, grad_out):
        y = self._y
        g = self.check_grad_out(grad_out, None if y is None else y.shape)
        return g - np.exp(y) * g.sum(axis=self.dim, keepdims=True)

    def extra_repr(self):
        return f"dim={self.dim}"
