"""Regression losses: squared error, absolute error and their blends, Smooth L1 and Huber.

Each compares an input ``x`` with a target ``y`` of the same shape element by
element; with ``d = x - y``:

==============  =====================================  ==========================================
loss            l(d)                                   dl/dx
==============  =====================================  ==========================================
MSELoss         ``d^2``                                ``2 d``
L1Loss          ``|d|``                                ``sign(d)`` (0 at d = 0)
SmoothL1Loss    ``d^2 / (2 beta)`` if ``|d| < beta``   ``d / beta`` if ``|d| < beta``
                else ``|d| - beta / 2``                else ``sign(d)``
HuberLoss       ``d^2 / 2`` if ``|d| < delta``         ``clip(d, -delta, delta)``
                else ``delta (|d| - delta / 2)``
==============  =====================================  ==========================================

``reduction='mean'`` divides the sum (and every gradient) by the number of
elements, ``'sum'`` adds them up, ``'none'`` returns ``l`` per element.

Shape: input any shape, target the same shape; the gradient has the input's
shape and float dtype.
"""
import numpy as np

from ..validation import check_real
from .base import Loss


class MSELoss(Loss):
    """Mean squared error, ``L = mean((x - y)^2)``; ``dL/dx = 2 (x - y) / n``.

    ``SquareLoss`` is the same class.

    Example:
        >>> loss = MSELoss()(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
        >>> loss.value, loss.grad        # (1 + 4) / 2, 2 * [1, 2] / 2
        (2.5, array([1., 2.]))
    """

    def forward(self, input, target):
        x = self._float_input(input)
        d = x - self._same_shape_target(x, target)
        return self._reduce(d * d, 2 * d)


SquareLoss = MSELoss


class L1Loss(Loss):
    """Mean absolute error, ``L = mean(|x - y|)``; ``dL/dx = sign(x - y) / n``.

    Example:
        >>> loss = L1Loss()(np.array([1.0, -2.0]), np.array([0.0, 0.0]))
        >>> loss.value, loss.grad
        (1.5, array([ 0.5, -0.5]))
    """

    def forward(self, input, target):
        x = self._float_input(input)
        d = x - self._same_shape_target(x, target)
        return self._reduce(np.abs(d), np.sign(d))


class SmoothL1Loss(Loss):
    """Squared error near zero, absolute error beyond ``beta`` (PyTorch's SmoothL1Loss).

    ``l(d) = 0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``;
    ``dl/dx = d / beta`` or ``sign(d)``. Both pieces meet with equal value
    and slope at ``|d| = beta``; ``beta = 0`` gives L1Loss.

    Args:
        beta: where the loss turns from quadratic to linear (>= 0, default 1.0).

    Example:
        >>> loss = SmoothL1Loss()(np.array([0.5, 3.0]), np.array([0.0, 0.0]))
        >>> loss.value, loss.grad        # (0.125 + 2.5) / 2, [0.5, 1] / 2
        (1.3125, array([0.25, 0.5 ]))
    """

    def __init__(self, backward_func=None, reduction="mean", beta=1.0):
        super().__init__(backward_func, reduction)
        self.beta = check_real(self, "beta", beta, minimum=0)

    def forward(self, input, target):
        x = self._float_input(input)
        d = x - self._same_shape_target(x, target)
        abs_d = np.abs(d)
        if self.beta == 0:
            return self._reduce(abs_d, np.sign(d))
        quadratic = abs_d < self.beta
        losses = np.where(quadratic, 0.5 * d * d / self.beta, abs_d - 0.5 * self.beta)
        return self._reduce(losses, np.where(quadratic, d / self.beta, np.sign(d)))

    def extra_repr(self):
        return f"beta={self.beta}"


class HuberLoss(Loss):
    """Squared error near zero, absolute error scaled by ``delta`` beyond it (PyTorch's HuberLoss).

    ``l(d) = 0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``;
    ``dl/dx = d`` or ``delta sign(d)``, i.e. ``clip(d, -delta, delta)``: the
    gradient of an outlier is capped at ``delta``. Huber is ``delta`` times
    SmoothL1Loss with ``beta = delta``.

    Args:
        delta: where the loss turns from quadratic to linear (> 0, default 1.0).

    Example:
        >>> loss = HuberLoss(delta=2.0)(np.array([1.0, 4.0]), np.array([0.0, 0.0]))
        >>> loss.value, loss.grad        # (0.5 + 2 * (4 - 1)) / 2, [1, 2] / 2
        (3.25, array([0.5, 1. ]))
    """

    def __init__(self, backward_func=None, reduction="mean", delta=1.0):
        super().__init__(backward_func, reduction)
        self.delta = check_real(self, "delta", delta, minimum=0, open_min=True)

    def forward(self, input, target):
        x = self._float_input(input)
        d = x - self._same_shape_target(x, target)
        abs_d = np.abs(d)
        losses = np.where(abs_d < self.delta, 0.5 * d * d, self.delta * (abs_d - 0.5 * self.delta))
        return self._reduce(losses, np.clip(d, -self.delta, self.delta))

    def extra_repr(self):
        return f"delta={self.delta}"
