"""Activations, as torch/nn/modules/activation.py: element-wise ones, PReLU, GLU and the (log-)softmax.

An element-wise activation ``y = f(x)`` has backward ``dL/dx = dL/dy * f'(x)``.
Shapes: any input shape, scalars included; output and gradients have the input's shape.

Piecewise functions are written with ``min``, ``max``, ``clip`` and 0/1 masks
such as ``(x > 0)``: ``np.where`` branches on every element and is about 20
times slower on inputs of random sign. At a kink the derivative is the one
PyTorch uses, and so is its value at NaN (ReLU passes the gradient of a NaN
input, ReLU6 and Hardsigmoid stop it, ELU makes it NaN, ...).

``inplace`` is accepted where PyTorch has it, so that code written for
PyTorch runs, and changes nothing: an mtorch layer never overwrites its input
(the backward pass may need it), so the output is always a new array.
"""
import math

import numpy as np

from ..errors import ShapeError
from ..functional import erfc, log_softmax, sigmoid, softmax, softplus
from ..layer import Layer
from ..parameter import Parameter
from ..validation import check_bool, check_choice, check_int, check_real


class _Elementwise(Layer):
    """``y = f(x)`` element by element (``_f``); ``dL/dx = dL/dy * f'(x)`` (``_df(x, y)``).

    Caches x and y. ``inplace`` is PyTorch's flag, accepted and shown by repr only.
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = check_bool(self, "inplace", inplace)
        self._x = self._y = None

    def forward(self, x):
        self._x = self.check_input(x, (...,))
        self._y = self._f(self._x)
        return self._y

    def backward(self, grad_out):
        g = self.check_grad_out(grad_out, None if self._y is None else self._y.shape)
        return g * self._df(self._x, self._y)

    def _with_inplace(self, text=""):
        return ", ".join(part for part in (text, "inplace=True" if self.inplace else "") if part)

    def extra_repr(self):
        return self._with_inplace()


class ReLU(_Elementwise):
    """``y = max(x, 0)``; ``dy/dx = 1 where x > 0, else 0`` (a NaN input passes the gradient, as in PyTorch).

    Example:
        >>> ReLU()(np.array([-1.0, 0.0, 2.0]))
        array([0., 0., 2.])
    """

    def _f(self, x):
        return np.maximum(x, 0)

    def _df(self, x, y):
        return ~(x <= 0)


class LeakyReLU(_Elementwise):
    """``y = max(x, 0) + negative_slope * min(x, 0)``; ``dy/dx = 1 where x > 0, else negative_slope``.

    Example:
        >>> LeakyReLU(0.1)(np.array([-1.0, 2.0]))
        array([-0.1,  2. ])
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__(inplace)
        self.negative_slope = check_real(self, "negative_slope", negative_slope)

    def _f(self, x):
        return np.maximum(x, 0) + self.negative_slope * np.minimum(x, 0)

    def _df(self, x, y):
        slope = x.dtype.type(self.negative_slope)
        return slope + (1 - slope) * (x > 0)

    def extra_repr(self):
        return self._with_inplace(f"negative_slope={self.negative_slope}")


class PReLU(Layer):
    """LeakyReLU with a learned slope: ``y = max(x, 0) + a * min(x, 0)``, one ``a`` per channel.

    ``a`` (``weight``, shape ``(num_parameters,)``, init ``init``) is shared by all
    channels when ``num_parameters=1``, else indexed by axis 1, the channel axis.
    Backward, with ``g = dL/dy``::

        dL/dx = g * (1 where x > 0, else a)
        dL/da = sum of g * min(x, 0) over every axis but the channel axis

    Shape: any; with ``num_parameters > 1``, ``(N, num_parameters, ...)``.

    Example:
        >>> PReLU()(np.array([-1.0, 2.0]))
        array([-0.25,  2.  ], dtype=float32)
    """

    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        self.num_parameters = check_int(self, "num_parameters", num_parameters, minimum=1)
        self.init = check_real(self, "init", init)
        self.weight = Parameter(np.full(self.num_parameters, self.init))
        self._x = None

    def _slope(self, x):
        """``a`` shaped to broadcast over x: along axis 1, or one value."""
        if self.num_parameters == 1:
            return self.weight.data[0]
        return self.weight.data.reshape((-1,) + (1,) * (x.ndim - 2))

    def forward(self, x):
        x = self.check_input(x, (...,))
        if self.num_parameters > 1:
            x = self.check_input(x, ("N", self.num_parameters) + ("*",) * (x.ndim - 2))
        self._x = x
        return np.maximum(x, 0) + self._slope(x) * np.minimum(x, 0)

    def backward(self, grad_out):
        x = self._x
        g = self.check_grad_out(grad_out, None if x is None else x.shape)
        other_axes = tuple(i for i in range(x.ndim) if i != 1 or self.num_parameters == 1)
        self.weight.add_grad((g * np.minimum(x, 0)).sum(axis=other_axes).reshape(self.num_parameters))
        a = self._slope(x)
        return g * (a + (1 - a) * (x > 0))

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class Hardtanh(_Elementwise):
    """``y = clip(x, min_val, max_val)``; ``dy/dx = 1 where min_val < x < max_val, else 0``.

    Example:
        >>> Hardtanh()(np.array([-2.0, 0.5, 2.0]))
        array([-1. ,  0.5,  1. ])
    """

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__(inplace)
        self.min_val = check_real(self, "min_val", min_val, allow_inf=True)
        self.max_val = check_real(self, "max_val", max_val, allow_inf=True)
        if not self.max_val > self.min_val:
            raise ValueError(f"{type(self).__name__}: max_val must be greater than min_val, "
                             f"got min_val={min_val!r}, max_val={max_val!r}")

    def _f(self, x):
        return np.clip(x, self.min_val, self.max_val)

    def _df(self, x, y):
        return (x > self.min_val) & (x < self.max_val)

    def extra_repr(self):
        return self._with_inplace(f"min_val={self.min_val}, max_val={self.max_val}")


class ReLU6(Hardtanh):
    """``y = min(max(x, 0), 6)``; ``dy/dx = 1 where 0 < x < 6, else 0``.

    Example:
        >>> ReLU6()(np.array([-1.0, 3.0, 9.0]))
        array([0., 3., 6.])
    """

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return self._with_inplace()


class Threshold(_Elementwise):
    """``y = x where x > threshold, else value``; ``dy/dx = 1 where x > threshold, else 0``.

    Example:
        >>> Threshold(0.5, -1.0)(np.array([0.2, 0.9]))
        array([-1. ,  0.9])
    """

    def __init__(self, threshold, value, inplace=False):
        super().__init__(inplace)
        self.threshold = check_real(self, "threshold", threshold, allow_inf=True)
        self.value = check_real(self, "value", value, allow_inf=True)

    def _f(self, x):
        return np.where(x <= self.threshold, x.dtype.type(self.value), x)

    def _df(self, x, y):
        return ~(x <= self.threshold)

    def extra_repr(self):
        return self._with_inplace(f"threshold={self.threshold}, value={self.value}")


class ELU(_Elementwise):
    """Exponential linear unit: ``y = max(x, 0) + alpha * (exp(min(x, 0)) - 1)``.

    ``dy/dx = 1 where x > 0, else alpha * exp(x)``. SELU and CELU are the same
    curve scaled: ``y = scale * (max(x, 0) + alpha * (exp(s * min(x, 0)) - 1))``,
    ``dy/dx = scale`` or ``scale * alpha * s * exp(s x)``.

    Example:
        >>> ELU()(np.array([-1.0, 2.0]))
        array([-0.63212056,  2.        ])
    """

    _scale, _input_scale = 1.0, 1.0

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__(inplace)
        self.alpha = check_real(self, "alpha", alpha)

    def _f(self, x):
        return self._scale * (np.maximum(x, 0) + self.alpha * np.expm1(self._input_scale * np.minimum(x, 0)))

    def _df(self, x, y):
        slope = self.alpha * self._input_scale * np.exp(self._input_scale * np.minimum(x, 0))
        return self._scale * ((x > 0) + (x <= 0) * slope)

    def extra_repr(self):
        return self._with_inplace(f"alpha={self.alpha}")


class SELU(ELU):
    """Scaled ELU, ``y = scale * ELU_alpha(x)`` with ``alpha = 1.6732632...`` and
    ``scale = 1.0507009...`` (Klambauer et al., 2017), which keep activations near mean 0
    and variance 1. ``dy/dx = scale where x > 0, else scale * alpha * exp(x)``.

    Example:
        >>> SELU()(np.array([-1.0, 2.0]))
        array([-1.11133074,  2.10140197])
    """

    _scale = 1.0507009873554804934193349852946

    def __init__(self, inplace=False):
        super().__init__(1.6732632423543772848170429916717, inplace)

    def extra_repr(self):
        return self._with_inplace()


class CELU(ELU):
    """Continuously differentiable ELU: ``y = max(x, 0) + alpha * (exp(min(x, 0) / alpha) - 1)``.

    ``dy/dx = 1 where x > 0, else exp(x / alpha)`` (continuous at 0 for any alpha != 0).

    Example:
        >>> CELU(2.0)(np.array([-1.0, 2.0]))
        array([-0.78693868,  2.        ])
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__(alpha, inplace)
        if self.alpha == 0:
            raise ValueError("CELU: alpha must not be 0 (it divides x), got 0.0")
        self._input_scale = 1 / self.alpha


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

    def _df(self, x, y):
        if self.approximate == "tanh":
            t = 2 * self._gate - 1                                  # tanh(u)
            du = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
            return self._gate + 0.5 * x * (1 - t * t) * du
        phi = np.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))    # x^2 = inf: phi = 0
        return self._gate + x * phi

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(_Elementwise):
    """Sigmoid linear unit (swish), ``y = x * sigmoid(x)``.

    ``dy/dx = s + x s (1 - s) = s (1 + x (1 - s))`` with ``s = sigmoid(x)``.

    Example:
        >>> SiLU()(np.array([-1.0, 0.0, 1.0]))
        array([-0.26894142,  0.        ,  0.73105858])
    """

    def _f(self, x):
        self._s = sigmoid(x)
        return x * self._s

    def _df(self, x, y):
        s = self._s
        return s * (1 + x * (1 - s))


class Mish(_Elementwise):
    """``y = x * tanh(softplus(x))``, ``softplus(x) = log(1 + exp(x))``.

    With ``t = tanh(softplus(x))`` and ``softplus' = sigmoid``:
    ``dy/dx = t + x * (1 - t^2) * sigmoid(x)``.

    Example:
        >>> Mish()(np.array([-1.0, 1.0]))
        array([-0.30340146,  0.86509839])
    """

    def _f(self, x):
        self._t = np.tanh(softplus(x))
        return x * self._t

    def _df(self, x, y):
        t = self._t
        return t + x * (1 - t * t) * sigmoid(x)


class Hardsigmoid(_Elementwise):
    """``y = clip(x + 3, 0, 6) / 6``; ``dy/dx = 1/6 where -3 < x < 3, else 0``.

    Example:
        >>> Hardsigmoid()(np.array([-4.0, 0.0, 1.5]))
        array([0.  , 0.5 , 0.75])
    """

    def _f(self, x):
        return np.clip(x + 3, 0, 6) / 6

    def _df(self, x, y):
        return ((x > -3) & (x < 3)) / x.dtype.type(6)


class Hardswish(_Elementwise):
    """``y = x * clip(x + 3, 0, 6) / 6`` (MobileNetV3).

    ``dy/dx = 0 where x <= -3, 1 where x >= 3, else x / 3 + 1/2``.

    Example:
        >>> Hardswish()(np.array([-4.0, 1.0, 4.0]))
        array([-0.        ,  0.66666667,  4.        ])
    """

    def _f(self, x):
        return x * np.clip(x + 3, 0, 6) / 6

    def _df(self, x, y):
        return np.where(x <= -3, 0, np.where(x >= 3, 1, x / 3 + 0.5)).astype(x.dtype)


class Sigmoid(_Elementwise):
    """``y = 1 / (1 + exp(-x))``; ``dy/dx = y (1 - y)``.

    Computed as ``exp(x) / (1 + exp(x))`` for negative x so no exp overflows.

    Example:
        >>> Sigmoid()(np.array([0.0]))
        array([0.5])
    """

    def __init__(self):                  # no inplace flag: PyTorch's has none
        super().__init__()

    def _f(self, x):
        return sigmoid(x)

    def _df(self, x, y):
        return y * (1 - y)


class LogSigmoid(_Elementwise):
    """``y = log sigmoid(x) = -softplus(-x) = -log(1 + exp(-x))``; ``dy/dx = 1 - sigmoid(x) = sigmoid(-x)``.

    Example:
        >>> LogSigmoid()(np.array([0.0]))
        array([-0.69314718])
    """

    def __init__(self):                  # no inplace flag: PyTorch's has none
        super().__init__()

    def _f(self, x):
        return -softplus(-x)

    def _df(self, x, y):
        return sigmoid(-x)


class Tanh(_Elementwise):
    """``y = tanh(x)``; ``dy/dx = 1 - y^2``.

    Example:
        >>> Tanh()(np.array([0.0]))
        array([0.])
    """

    def __init__(self):                  # no inplace flag: PyTorch's has none
        super().__init__()

    def _f(self, x):
        return np.tanh(x)

    def _df(self, x, y):
        return 1 - y * y


class Tanhshrink(_Elementwise):
    """``y = x - tanh(x)``; ``dy/dx = tanh(x)^2``.

    Example:
        >>> Tanhshrink()(np.array([0.0]))
        array([0.])
    """

    def __init__(self):                  # no inplace flag: PyTorch's has none
        super().__init__()

    def _f(self, x):
        return x - np.tanh(x)

    def _df(self, x, y):
        return np.square(np.tanh(x))


class Softsign(_Elementwise):
    """``y = x / (1 + |x|)``; ``dy/dx = 1 / (1 + |x|)^2``.

    Example:
        >>> Softsign()(np.array([-1.0, 3.0]))
        array([-0.5 ,  0.75])
    """

    def __init__(self):                  # no inplace flag: PyTorch's has none
        super().__init__()

    def _f(self, x):
        return x / (1 + np.abs(x))

    def _df(self, x, y):
        return np.square(1 / (1 + np.abs(x)))


class Softplus(_Elementwise):
    """``y = log(1 + exp(beta x)) / beta``, and ``y = x`` where ``beta x > threshold``.

    ``dy/dx = sigmoid(beta x)`` (1 in the linear region).

    Example:
        >>> Softplus()(np.array([0.0]))
        array([0.69314718])
    """

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = check_real(self, "beta", beta)
        if self.beta == 0:
            raise ValueError("Softplus: beta must not be 0 (it divides), got 0.0")
        self.threshold = check_real(self, "threshold", threshold, allow_inf=True)

    def _f(self, x):
        bx = self.beta * x
        return np.where(bx > self.threshold, x, softplus(bx) / self.beta)

    def _df(self, x, y):
        bx = self.beta * x
        return np.where(bx > self.threshold, 1, sigmoid(bx)).astype(x.dtype)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardshrink(_Elementwise):
    """``y = x where |x| > lambd, else 0``; ``dy/dx = 1 where |x| > lambd, else 0``.

    Example:
        >>> Hardshrink()(np.array([-2.0, 0.2, 2.0]))
        array([-2.,  0.,  2.])
    """

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = check_real(self, "lambd", lambd)

    def _f(self, x):
        return x * (np.abs(x) > self.lambd)

    def _df(self, x, y):
        return np.abs(x) > self.lambd

    def extra_repr(self):
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """``y = x - clip(x, -lambd, lambd)``: ``x - lambd``, ``x + lambd``, or 0 where ``|x| <= lambd``.

    ``dy/dx = 1 where |x| > lambd, else 0``, as Hardshrink's.

    Example:
        >>> Softshrink()(np.array([-2.0, 0.2, 2.0]))
        array([-1.5,  0. ,  1.5])
    """

    def __init__(self, lambd=0.5):
        super().__init__(check_real(self, "lambd", lambd, minimum=0))

    def _f(self, x):
        return x - np.clip(x, -self.lambd, self.lambd)


def _axis(layer, dim, x):
    """``dim`` as an axis of x (a 0-d x counts as 1-d, as in PyTorch), or a ShapeError naming the layer."""
    ndim = max(x.ndim, 1)
    if not -ndim <= dim < ndim:
        raise ShapeError(f"{layer._short_repr()}: dim={dim} is out of range for input of shape {x.shape} "
                         f"(expected dim in [{-ndim}, {ndim - 1}])")
    return dim % ndim


class Softmax(Layer):
    """``y_i = exp(x_i) / sum_j exp(x_j)`` along ``dim``.

    Backward (Jacobian-vector product): ``dL/dx = y * (g - sum(g * y, dim))``.
    Computed with ``x - max(x)`` so large inputs do not overflow. Caches y.

    Args:
        dim: the axis to normalise over, required. PyTorch guesses an axis when
            dim is omitted and warns that this is deprecated; mtorch asks for it.

    Shape: any (a scalar counts as one value); output the same.

    Example:
        >>> Softmax(dim=-1)(np.array([[0.0, 0.0]]))
        array([[0.5, 0.5]])
    """

    _sign = 1                      # Softmin: softmax(-x)

    def __init__(self, dim=None):
        super().__init__()
        if dim is None:
            raise TypeError(f"{type(self).__name__}: pass dim, the axis to normalise over: dim=-1 for "
                            f"the last axis, dim=1 for the classes of (N, C) scores (PyTorch's guess "
                            f"when dim is omitted is deprecated)")
        self.dim = check_int(self, "dim", dim)
        self._y = self._shape = None

    def forward(self, x):
        x = self.check_input(x, (...,))
        self._axis, self._shape = _axis(self, self.dim, x), x.shape
        x = np.atleast_1d(self._sign * x)
        self._y = self._normalise(x, self._axis) if x.size else x      # an empty input: nothing to normalise
        return self._y.reshape(self._shape)

    def _normalise(self, x, axis):
        return softmax(x, axis)

    def backward(self, grad_out):
        y = self._y
        g = self.check_grad_out(grad_out, self._shape).reshape(y.shape)
        return (self._sign * self._input_grad(g, y, self._axis)).reshape(self._shape)

    def _input_grad(self, g, y, axis):
        return y * (g - (g * y).sum(axis=axis, keepdims=True))

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmin(Softmax):
    """``y = softmax(-x)`` along ``dim``: ``y_i = exp(-x_i) / sum_j exp(-x_j)``.

    Backward: ``dL/dx = -y * (g - sum(g * y, dim))``.

    Example:
        >>> Softmin(dim=0)(np.array([0.0, np.log(3.0)]))
        array([0.75, 0.25])
    """

    _sign = -1


class LogSoftmax(Softmax):
    """``y_i = x_i - log sum_j exp(x_j)`` along ``dim`` (log-sum-exp stable).

    Backward: ``dL/dx = g - softmax(x) * sum(g, dim)``, with ``softmax = exp(y)``. Caches y.

    Example:
        >>> LogSoftmax(dim=-1)(np.array([0.0, 0.0]))
        array([-0.69314718, -0.69314718])
    """

    def _normalise(self, x, axis):
        return log_softmax(x, axis)

    def _input_grad(self, g, y, axis):
        return g - np.exp(y) * g.sum(axis=axis, keepdims=True)


class Softmax2d(Softmax):
    """Softmax over the channels at every position: ``Softmax(dim=-3)`` on ``(N, C, H, W)`` or ``(C, H, W)``.

    Example:
        >>> Softmax2d()(np.zeros((1, 2, 1, 1))).ravel()
        array([0.5, 0.5])
    """

    def __init__(self):
        super().__init__(dim=-3)

    def forward(self, x):
        x = self.check_input(x, (...,))
        if x.ndim not in (3, 4):
            raise ShapeError(f"Softmax2d: expected input of shape (N, C, H, W) or (C, H, W), got {x.shape}")
        return super().forward(x)

    def extra_repr(self):
        return ""


class GLU(Layer):
    """Gated linear unit: split x in halves ``a, b`` along ``dim``; ``y = a * sigmoid(b)``.

    Backward, with ``s = sigmoid(b)``: ``dL/da = g * s``, ``dL/db = g * a * s * (1 - s)``,
    joined back along ``dim``.

    Shape: ``(*, 2M, *)`` with the even size at ``dim``; output ``(*, M, *)``.

    Example:
        >>> GLU()(np.array([2.0, 0.0]))
        array([1.])
    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = check_int(self, "dim", dim)
        self._a = self._s = None

    def forward(self, x):
        x = self.check_input(x, (...,))
        if x.ndim == 0:
            raise ShapeError(f"{self._short_repr()}: cannot halve a scalar input")
        self._axis = _axis(self, self.dim, x)
        if x.shape[self._axis] % 2:
            raise ShapeError(f"{self._short_repr()}: the size of dim {self.dim} must be even to halve it, "
                             f"got input of shape {x.shape}")
        self._a, b = np.split(x, 2, axis=self._axis)
        self._s = sigmoid(b)
        return self._a * self._s

    def backward(self, grad_out):
        a, s = self._a, self._s
        g = self.check_grad_out(grad_out, None if a is None else a.shape)
        return np.concatenate([g * s, g * a * s * (1 - s)], axis=self._axis)

    def extra_repr(self):
        return f"dim={self.dim}"
