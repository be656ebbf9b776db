"""Losses between distributions: the KL divergence, and the negative log-likelihood of a
target under a Poisson or a Gaussian distribution whose parameters the network predicts.

Each compares an input with a target of the same shape element by element;
``reduction='mean'`` divides by the number of elements (KLDivLoss also has
``'batchmean'``: divide by the batch size).
"""
import numpy as np

from ..errors import ShapeError
from ..validation import check_bool, check_real
from ._checks import first_outside, float_array
from .base import Loss


class KLDivLoss(Loss):
    """Kullback-Leibler divergence ``KL(p || q)`` from log-probabilities ``x = log q`` and a target ``p``.

    Per element (the sum over classes is left to the reduction)::

        l = p (log p - x)       dl/dx = -p           (l = 0 where p = 0)
        l = e^t (t - x)         dl/dx = -e^t         with log_target=True: the target is t = log p

    Summed over a distribution, ``sum_c p_c log(p_c / q_c) = KL(p || q) >= 0``,
    zero when ``q = p``. ``reduction='batchmean'`` divides the sum by the batch
    size ``N = input.shape[0]``, the mean KL per sample, which is the
    divergence itself; ``'mean'`` (PyTorch's default, kept) divides by every
    element, ``N * C``. As in PyTorch the target is not checked: a negative
    ``p`` gives NaN.

    Args:
        reduction: ``'mean'`` (default), ``'batchmean'``, ``'sum'`` or ``'none'``.
        log_target: the target holds log-probabilities ``log p`` (default False).

    Shape:
        input any shape, usually ``(N, C)`` log-probabilities (e.g. a LogSoftmax's output);
        target the same shape; ``'none'`` gives that shape.

    Example:
        >>> q, p = np.array([[0.5, 0.5]]), np.array([[0.9, 0.1]])
        >>> KLDivLoss(reduction="batchmean")(np.log(q), p).value      # 0.9 log 1.8 + 0.1 log 0.2
        0.3680642...
    """

    reductions = ("mean", "batchmean", "sum", "none")

    def __init__(self, backward_func=None, reduction="mean", log_target=False):
        super().__init__(backward_func, reduction)
        self.log_target = check_bool(self, "log_target", log_target)

    def forward(self, input, target):
        x = self._float_input(input)
        t = self._same_shape_target(x, target)
        if self.log_target:
            p = np.exp(t)
            losses = p * (t - x)
        else:
            p = t
            losses = np.where(p == 0, 0, p * np.log(p)) - p * x
        batch = (x.shape[0] if x.ndim else 1) if self.reduction == "batchmean" else None
        return self._reduce(losses, -p, batch)

    def extra_repr(self):
        return "log_target=True" if self.log_target else ""


class PoissonNLLLoss(Loss):
    """Negative log-likelihood of counts ``y`` under a Poisson distribution of rate ``lambda``.

    ``-log P(y | lambda) = lambda - y log(lambda) + log(y!)``; the network
    predicts ``x = log(lambda)`` (``log_input=True``, the default: any real
    ``x`` is a valid rate) or the rate itself::

        log_input=True:   l = e^x - y x                  dl/dx = e^x - y
        log_input=False:  l = x - y log(x + eps)         dl/dx = 1 - y / (x + eps)

    ``log(y!)`` does not depend on ``x`` and is left out, unless ``full=True``
    adds Stirling's approximation ``y log y - y + 0.5 log(2 pi y)`` for
    ``y > 1`` (0 for ``y <= 1``), as PyTorch does. As in PyTorch, values are
    not checked: a negative rate with ``log_input=False`` gives NaN.

    Args:
        log_input: the input is ``log(lambda)`` (default True) or ``lambda``.
        full: add the Stirling term (default False).
        eps: keeps ``log(x + eps)`` finite at ``x = 0`` when ``log_input=False`` (> 0, default 1e-8).

    Shape: input any shape, target the same shape (counts); ``'none'`` gives that shape.

    Example:
        >>> loss = PoissonNLLLoss()(np.array([0.0, np.log(2.0)]), np.array([1.0, 3.0]))
        >>> loss.value, loss.grad      # (1 - 0 + 2 - 3 log 2) / 2, [1 - 1, 2 - 3] / 2
        (0.4602792..., array([ 0. , -0.5]))
    """

    def __init__(self, backward_func=None, reduction="mean", log_input=True, full=False, eps=1e-8):
        super().__init__(backward_func, reduction)
        self.log_input = check_bool(self, "log_input", log_input)
        self.full = check_bool(self, "full", full)
        self.eps = check_real(self, "eps", eps, minimum=0, open_min=True)

    def forward(self, input, target):
        x = self._float_input(input)
        y = self._same_shape_target(x, target)
        if self.log_input:
            losses, grad = np.exp(x) - y * x, np.exp(x) - y
        else:
            losses, grad = x - y * np.log(x + self.eps), 1 - y / (x + self.eps)
        if self.full:
            losses = losses + np.where(y > 1, y * np.log(y) - y + 0.5 * np.log(2 * np.pi * y), 0)
        return self._reduce(losses, grad)

    def extra_repr(self):
        return f"log_input={self.log_input}, full={self.full}, eps={self.eps}"


class GaussianNLLLoss(Loss):
    """Negative log-likelihood of ``y`` under a Gaussian whose mean ``x`` and variance ``var`` are predicted.

    ``-log N(y | x, var) = 0.5 (log var + (x - y)^2 / var) + 0.5 log(2 pi)``;
    with ``v = max(var, eps)`` and ``d = x - y``::

        l = 0.5 (log v + d^2 / v)            (+ 0.5 log(2 pi) with full=True)
        dl/dx   = d / v
        dl/dvar = 0.5 (1 / v - d^2 / v^2)

    The network learns its own uncertainty: a large error is cheaper under a
    large variance, which ``log v`` keeps from growing without bound. The
    clamp at ``eps`` keeps ``log v`` finite; as in PyTorch its gradient is
    passed through as if it were the identity, so a variance below ``eps``
    is still pushed up. Both ``input`` and ``var`` are differentiated:
    ``result.grad`` is ``(dL/dinput, dL/dvar)``.

    ``var`` has the input's shape (one variance per element) or is shared:
    one axis of size 1 (e.g. ``(N, 1)``: one per sample), the input's shape
    without its last axis (the same), or a single number. ``dL/dvar`` is
    summed over the entries sharing it, so it has ``var``'s shape.

    Args:
        full: add the constant ``0.5 log(2 pi)`` (default False).
        eps: the smallest variance used (> 0, default 1e-6).

    Raises:
        ValueError: when ``var`` has a negative entry (as in PyTorch).

    Shape:
        input any shape, target the same shape, var as above; ``'none'`` gives the input's shape.

    Example:
        >>> loss = GaussianNLLLoss()(np.array([1.0, 3.0]), np.array([0.0, 0.0]), np.array([1.0, 9.0]))
        >>> loss.value          # (0.5 (0 + 1) + 0.5 (log 9 + 1)) / 2
        1.0493061...
        >>> grad_input, grad_var = loss.grad
    """

    differentiable_inputs = ("input", "var")

    def __init__(self, backward_func=None, reduction="mean", full=False, eps=1e-6):
        super().__init__(backward_func, reduction)
        self.full = check_bool(self, "full", full)
        self.eps = check_real(self, "eps", eps, minimum=0, open_min=True)

    def forward(self, input, target, var):
        x = self._float_input(input)
        d = x - self._same_shape_target(x, target)
        var = float_array(self._name, "var", var, x.dtype)
        first_outside(self._name, "var", var, var < 0, "be a variance >= 0")
        v = np.maximum(self._shared_var(x, var), self.eps)
        losses = 0.5 * (np.log(v) + d * d / v)
        if self.full:
            losses = losses + 0.5 * np.log(2 * np.pi)
        grad_var = 0.5 * (1 / v - d * d / (v * v))
        shared = tuple(i for i, n in enumerate(v.shape) if n == 1 and x.shape[i] != 1)
        grad_var = grad_var.sum(axis=shared, keepdims=True).reshape(var.shape)
        return self._reduce(losses, (d / v, grad_var))

    def _shared_var(self, x, var):
        """``var`` reshaped to ``x``'s number of axes, each of its axes ``x``'s size or 1."""
        if var.ndim == 0:
            return var.reshape((1,) * x.ndim)
        if var.shape == x.shape[:-1] and x.ndim:
            return var[..., None]
        if var.ndim == x.ndim and [n for n, m in zip(var.shape, x.shape) if n != m] in ([], [1]):
            return var
        raise ShapeError(f"{self._name}: var of shape {var.shape} does not fit the input's shape "
                         f"{x.shape}: expected {x.shape}, {x.shape[:-1]}, {x.shape} with one axis "
                         f"of size 1, or a single number")

    def extra_repr(self):
        return f"full={self.full}, eps={self.eps}"
