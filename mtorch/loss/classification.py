"""Multi-class losses on scores: cross-entropy on logits and negative log-likelihood.

Classes lie along axis 1 of the input, as in PyTorch: ``(N, C)``, or
``(N, C, d1, d2, ...)`` for a class score per position (e.g. per pixel),
or ``(C,)`` for one unbatched sample. Class-index targets drop that axis:
``(N,)``, ``(N, d1, d2, ...)`` or ``()``.

Both losses are ``-sum_c a_c s_c`` per sample, for log-probabilities ``s``
and a coefficient per class ``a``: for a class-index target ``y``, its
one-hot row times the class weight ``w_y`` (zero for an ignored sample,
``y == ignore_index``); CrossEntropyLoss adds label smoothing to ``a`` or
takes a probability target as ``a``. With class indices,
``reduction='mean'`` divides by ``sum_n w_{y_n}`` over the samples not
ignored (the number of them when there are no weights).
"""
import numpy as np

from ..errors import ShapeError
from ..functional import log_softmax
from ..validation import as_real_array, check_int, check_real
from .base import Loss


class _ClassLoss(Loss):
    """Shared by CrossEntropyLoss and NLLLoss: class weights, ignore_index, the class axis."""

    def __init__(self, backward_func=None, reduction="mean", weight=None, ignore_index=-100):
        super().__init__(backward_func, reduction)
        self.weight = self._class_weight(weight)
        self.ignore_index = check_int(self, "ignore_index", ignore_index)

    def _class_axis(self, x):
        if x.ndim == 0:
            raise ShapeError(f"{self._name}: expected input of shape (N, C), (N, C, d1, ...) "
                             f"or (C,), got a scalar")
        axis = 1 if x.ndim > 1 else 0
        if x.shape[axis] == 0:
            raise ShapeError(f"{self._name}: expected at least one class (axis {axis} of the input), "
                             f"got input of shape {x.shape}")
        self._check_class_count(x, axis)
        return axis

    def _class_weights(self, x, axis):
        """``w`` of shape ``(C, 1, ..., 1)``, broadcasting along ``x``'s class axis (ones without weights)."""
        n_classes = x.shape[axis]
        w = np.ones(n_classes, x.dtype) if self.weight is None else self.weight.astype(x.dtype)
        return w.reshape((n_classes,) + (1,) * (x.ndim - axis - 1))

    def _weighted_one_hot(self, x, y, keep, axis):
        """``a`` of ``x``'s shape: ``w_y`` at each target class, 0 elsewhere and for ignored
        samples; and ``w_y * keep`` itself (class axis of size 1)."""
        w_y = self._class_weights(x, axis).reshape(-1)[y] * keep
        a = np.zeros_like(x)
        np.put_along_axis(a, y, w_y, axis)
        return a, w_y

    def extra_repr(self):
        extra = [] if self.weight is None else [f"weight={self.weight.tolist()}"]
        return ", ".join(extra + ([] if self.ignore_index == -100 else [f"ignore_index={self.ignore_index}"]))


class CrossEntropyLoss(_ClassLoss):
    """Cross-entropy between ``softmax(x)`` and a target distribution, from logits ``x``.

    With ``log p = log_softmax(x)`` over the C classes and a coefficient
    ``a_c`` per class (below), per sample::

        loss = -sum_c a_c log p_c
        dloss/dx = p * sum_c a_c - a          (= p - a when a sums to 1)

    Class-index target ``y``: ``a = (1 - eps) w_y onehot(y) + eps/C w``, i.e.
    ``loss = -(1 - eps) w_y log p_y - eps/C sum_c w_c log p_c``; ignored samples
    (``y == ignore_index``) have ``a = 0``; 'mean' divides by ``sum_n w_{y_n}``
    over the samples not ignored.
    Probability target ``t`` (the input's shape, e.g. one-hot rows):
    ``a = w * ((1 - eps) t + eps/C)``; 'mean' divides by the number of samples.
    ``eps`` is ``label_smoothing``; ``w`` is ``weight`` (all ones by default).

    ``log_softmax`` subtracts each row's maximum first, so logits of any
    size (+-1000) give finite losses and gradients.

    Args:
        backward_func: ``result.backward()`` calls it with ``dL/dx`` (e.g. ``module.backward``).
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``.
        label_smoothing: ``eps`` in [0, 1] (default 0: no smoothing).
        weight: optional ``(C,)`` weight per class (e.g. for imbalanced classes).
        ignore_index: a class-index target value that contributes nothing (default -100).

    Shape:
        input ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)`` logits; target class indices
        ``(N,)``, ``(N, d1, ...)`` or ``()``, or probabilities of the input's shape;
        ``'none'`` gives ``(N,)`` / ``(N, d1, ...)`` / ``()``; grad has the input's shape.

    Example:
        >>> loss = CrossEntropyLoss()(np.array([[2.0, 0.0, 0.0]]), np.array([0]))
        >>> loss.value            # -log(e^2 / (e^2 + 2))
        0.2395447...
        >>> loss.grad             # softmax(x) - onehot(y)
        array([[-0.21301396,  0.10650698,  0.10650698]])
    """

    def __init__(self, backward_func=None, reduction="mean", label_smoothing=0.0, weight=None,
                 ignore_index=-100):
        super().__init__(backward_func, reduction, weight, ignore_index)
        self.label_smoothing = check_real(self, "label_smoothing", label_smoothing, minimum=0, maximum=1)

    def forward(self, input, target):
        x = self._float_input(input)
        axis = self._class_axis(x)
        eps_c = self.label_smoothing / x.shape[axis]
        w = self._class_weights(x, axis)
        target = as_real_array(self, target, "target")
        if target.shape == x.shape:
            if self.ignore_index >= 0:
                raise ValueError(f"{self._name}: ignore_index={self.ignore_index} needs class-index "
                                 f"targets, got probabilities of shape {x.shape}")
            a = w * ((1 - self.label_smoothing) * self._same_shape_target(x, target) + eps_c)
            total = None
        else:
            y, keep = self._class_indices(x, target, axis, f" or {x.shape} (class probabilities)",
                                          self.ignore_index)
            a, w_y = self._weighted_one_hot(x, y, keep, axis)
            a *= 1 - self.label_smoothing
            if eps_c:
                a += eps_c * w * keep
            total = w_y.sum()
        log_p = log_softmax(x, axis)
        terms = a * log_p
        if not np.isfinite(log_p).all():                 # a -inf logit: a class of weight 0 counts 0
            terms = np.where(a == 0, 0, terms)
        losses = -terms.sum(axis=axis)
        grad = np.exp(log_p) * a.sum(axis=axis, keepdims=True) - a
        if total is not None and not keep.all():     # ignored samples add exactly 0, even from NaN logits
            losses, grad = np.where(keep.squeeze(axis), losses, 0), np.where(keep, grad, 0)
        return self._reduce(losses, grad, total)

    def extra_repr(self):
        parts = [f"label_smoothing={self.label_smoothing}"] if self.label_smoothing else []
        shared = super().extra_repr()
        return ", ".join(parts + ([shared] if shared else []))


class NLLLoss(_ClassLoss):
    """Negative log-likelihood of the target class, from log-probabilities ``x``.

    Per sample ``loss = -w_y x_y`` (0 if ``y == ignore_index``);
    ``dloss/dx_c = -w_y`` for ``c = y``, else 0. 'mean' divides by ``sum_n w_{y_n}``
    over the samples not ignored (their number without weights).
    ``NLLLoss()(LogSoftmax(dim=1)(z), y)`` equals ``CrossEntropyLoss()(z, y)``.

    Args:
        weight: optional ``(C,)`` weight per class.
        ignore_index: a target value that contributes nothing (default -100).

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
        axis = self._class_axis(x)
        y, keep = self._class_indices(x, target, axis, ignore_index=self.ignore_index)
        a, w_y = self._weighted_one_hot(x, y, keep, axis)
        losses = -(w_y * np.where(keep, np.take_along_axis(x, y, axis), 0)).squeeze(axis)
        return self._reduce(losses, -a, w_y.sum())
