"""Multi-class losses on scores: cross-entropy on logits and negative log-likelihood.

Classes lie along axis 1 of the input, as in PyTorch: ``(N, C)``, or
``(N, C, d1, d2, ...)`` for a class score per position (e.g. per pixel),
or ``(C,)`` for one unbatched sample. Class-index targets drop that axis:
``(N,)``, ``(N, d1, d2, ...)`` or ``()``.
"""
import numpy as np

from .base import Loss


def log_softmax(x, axis):
    """``log softmax(x) = x - log sum_j exp(x_j)`` along ``axis``, computed as
    ``s - log sum_j exp(s_j)`` with ``s = x - max(x)``: every exponent is <= 0,
    so nothing overflows, and the sum is >= 1, so its log is finite."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _class_axis(loss, x):
    if x.ndim == 0:
        raise ValueError(f"{type(loss).__name__}: expected input of shape (N, C), (N, C, d1, ...) "
                         f"or (C,), got a scalar")
    return 1 if x.ndim > 1 else 0


class CrossEntropyLoss(Loss):
    """Cross-entropy between ``softmax(x)`` and a target distribution ``q``, from logits ``x``.

    With ``log p = log_softmax(x)`` over the C classes, per sample::

        loss = -sum_c q_c log p_c
        dloss/dx = p * sum_c q_c - q          (= p - q when q sums to 1)

    Class-index target ``y``: ``q = (1 - eps) onehot(y) + eps / C``, so
    ``loss = -(1 - eps) log p_y - eps/C sum_c log p_c`` and ``dloss/dx = p - q``.
    Probability target ``t`` (the input's shape, e.g. one-hot rows):
    ``q = (1 - eps) t + eps / C``. ``eps`` is ``label_smoothing``.

    ``log_softmax`` subtracts each row's maximum first, so logits of any
    size (+-1000) give finite losses and gradients. ``reduction='mean'``
    divides by the number of samples (N, times d1 * d2 ... for spatial input).

    Args:
        backward_func: ``result.backward()`` calls it with ``dL/dx`` (e.g. ``module.backward``).
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        label_smoothing: ``eps`` in [0, 1] (default 0: no smoothing).

    Shape:
        input ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)`` logits; target class indices
        ``(N,)``, ``(N, d1, ...)`` or ``()``, or probabilities of the input's shape;
        ``'none'`` gives ``(N,)`` / ``(N, d1, ...)`` / ``()``; grad has the input's shape.

    Example:
        >>> loss_func = CrossEntropyLoss(backward_func=module.backward)
        >>> loss = loss_func(np.array([[2.0, 0.0, 0.0]]), np.array([0]))
        >>> loss.value            # -log(e^2 / (e^2 + 2))
        0.2395447...
        >>> loss.backward()       # runs module.backward(loss.grad)
    """

    def __init__(self, backward_func=None, reduction="mean", label_smoothing=0.0):
        super().__init__(backward_func, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.label_smoothing = float(label_smoothing)

    def forward(self, input, target):
        x = self._float_input(input)
        axis = _class_axis(self, x)
        n_classes, eps = x.shape[axis], self.label_smoothing
        log_p = log_softmax(x, axis)
        p = np.exp(log_p)
        target = np.asarray(target)
        if target.shape == x.shape:
            q = self._same_shape_target(x, target)
            if eps:
                q = (1 - eps) * q + eps / n_classes
            losses = -(q * log_p).sum(axis=axis)
            return self._reduce(losses, p * q.sum(axis=axis, keepdims=True) - q)
        y = self._class_indices(x, target, axis, alternative=f" or {x.shape} (class probabilities)")
        losses = -(1 - eps) * np.take_along_axis(log_p, y, axis).squeeze(axis)
        grad = p
        if eps:
            losses -= eps / n_classes * log_p.sum(axis=axis)
            grad -= eps / n_classes
        np.put_along_axis(grad, y, np.take_along_axis(grad, y, axis) - (1 - eps), axis)
        return self._reduce(losses, grad)

    def extra_repr(self):
        return f"label_smoothing={self.label_smoothing}" if self.label_smoothing else ""


class NLLLoss(Loss):
    """Negative log-likelihood of the target class, from log-probabilities ``x``.

    Per sample ``loss = -x_y``; ``dloss/dx_c = -1`` for ``c = y``, else 0.
    ``NLLLoss()(LogSoftmax(dim=1)(z), y)`` equals ``CrossEntropyLoss()(z, y)``.
    ``reduction='mean'`` divides by the number of samples.

    Shape:
        input ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)`` log-probabilities; target class
        indices ``(N,)``, ``(N, d1, ...)`` or ``()``; ``'none'`` gives the target's shape.

    Example:
        >>> loss = NLLLoss()(np.log(np.array([[0.5, 0.5], [0.9, 0.1]])), np.array([0, 1]))
        >>> loss.value            # (log 2 + log 10) / 2
        1.4978661...
    """

    def forward(self, input, target):
        x = self._float_input(input)
        axis = _class_axis(self, x)
        y = self._class_indices(x, target, axis)
        grad = np.zeros_like(x)
        np.put_along_axis(grad, y, -1, axis)
        return self._reduce(-np.take_along_axis(x, y, axis).squeeze(axis), grad)
