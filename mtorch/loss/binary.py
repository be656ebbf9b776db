"""Losses for yes/no labels: binary cross-entropy on probabilities or logits, its
multi-label form, and the soft margin loss for labels of 1 and -1.

For a predicted probability ``p`` of the positive class and a target
``y`` in [0, 1] (0/1 labels or soft labels), element by element::

    loss = -w (y log p + (1 - y) log(1 - p))

with an optional ``weight`` ``w`` that broadcasts to the input (1 by default).
On logits ``x`` (``p = sigmoid(x)``) the same loss is, with
``softplus(z) = log(1 + e^z)``::

    loss = (1 - y) x + softplus(-x)          dloss/dx = sigmoid(x) - y

``reduction='mean'`` divides by the number of elements (not by the weights),
except MultiLabelSoftMarginLoss, which averages over classes, then samples.

Shape: input any shape, target the same shape; the gradient has the input's
shape and float dtype.
"""
import numpy as np

from ..errors import ShapeError
from ..functional import sigmoid
from ._checks import first_outside, float_array
from .base import Loss

# PyTorch keeps BCELoss's gradient denominator above this: 1e-12 stored as a float32.
_MIN_DENOMINATOR = float(np.float32(1e-12))


def _logistic(x, y, pw_y=None):
    """Binary cross-entropy on logits ``x``, ``pw y softplus(-x) + (1 - y) softplus(x)``, and its gradient.

    Computed as ``(1 - y) x + (1 + pw y - y) softplus(-x)``, gradient ``(1 + pw y - y) sigmoid(x) - pw y``
    (``pw y`` is ``pos_weight * y``; without one, ``y``: the loss ``(1 - y) x + softplus(-x)``, the
    gradient ``sigmoid(x) - y``). ``softplus`` never exponentiates a positive number, so any finite
    logit (+-1000) gives a finite, exact loss; an infinite logit gives the limit, 0 or inf (a term
    whose weight is 0 counts 0), rather than the NaN of ``0 * inf``.
    """
    if pw_y is None:
        pw_y, losses, grad = y, (1 - y) * x + np.logaddexp(0, -x), sigmoid(x) - y
    else:
        scale = 1 + pw_y - y
        losses, grad = (1 - y) * x + scale * np.logaddexp(0, -x), scale * sigmoid(x) - pw_y
    infinite = np.isinf(x)
    if infinite.any():
        weight = np.where(x > 0, 1 - y, pw_y)            # of the term that grows without bound
        losses = np.where(infinite, np.where(weight == 0, 0, weight * np.inf), losses).astype(x.dtype)
    return losses, grad


class _BinaryLoss(Loss):
    """Shared by the cross-entropies on probabilities and logits: an optional ``weight`` broadcasting to the input."""

    def __init__(self, backward_func=None, reduction="mean", weight=None):
        super().__init__(backward_func, reduction)
        self.weight = None if weight is None else float_array(self._name, "weight", weight, np.float64)

    def _broadcast(self, name, array, x):
        """``array`` in ``x``'s dtype, or ``ShapeError`` if it does not broadcast to ``x``'s shape."""
        try:
            fits = np.broadcast_shapes(array.shape, x.shape) == x.shape
        except ValueError:
            fits = False
        if not fits:
            raise ShapeError(f"{self._name}: {name} of shape {array.shape} does not "
                             f"broadcast to the input's shape {x.shape}")
        return array.astype(x.dtype)

    def _weighted(self, x, losses, grad):
        """``losses`` and ``grad`` times the weight (unchanged without one)."""
        if self.weight is None:
            return losses, grad
        w = self._broadcast("weight", self.weight, x)
        return losses * w, grad * w

    def extra_repr(self):
        return "" if self.weight is None else f"weight={self.weight.tolist()}"


class BCELoss(_BinaryLoss):
    """Binary cross-entropy on probabilities ``x`` in [0, 1] (e.g. a Sigmoid's output).

    As in PyTorch, each log is clamped at -100 so ``x = 0`` or ``x = 1``
    gives a finite loss, and the gradient's denominator is kept >= 1e-12::

        loss = -w (y max(log x, -100) + (1 - y) max(log(1 - x), -100))
        dloss/dx = w (x - y) / max(x (1 - x), 1e-12)

    Prefer ``BCEWithLogitsLoss`` on the logits: it is exact where this clamps.

    Args:
        weight: optional weight per element, broadcasting to the input.

    Raises:
        ValueError: when an input value is outside [0, 1] (or NaN), or a target
            value outside [0, 1], as in PyTorch.

    Example:
        >>> loss = BCELoss()(np.array([0.8, 0.4]), np.array([1.0, 0.0]))
        >>> loss.value            # -(log 0.8 + log 0.6) / 2
        0.3669845...
    """

    def forward(self, input, target):
        x = self._float_input(input)
        y = self._same_shape_target(x, target)
        if x.size and not (x.min() >= 0 and x.max() <= 1):
            found = "NaN" if np.isnan(x).any() else f"values from {x.min():g} to {x.max():g}"
            raise ValueError(f"{self._name}: input must be probabilities in [0, 1] (e.g. a Sigmoid's "
                             f"output), got {found}; for logits use BCEWithLogitsLoss")
        first_outside(self._name, "target", y, (y < 0) | (y > 1), "be a probability in [0, 1]")
        log_x = np.maximum(np.log(x), -100)
        log_1mx = np.maximum(np.log1p(-x), -100)
        losses = -(y * log_x + (1 - y) * log_1mx)
        grad = (x - y) / np.maximum(x * (1 - x), _MIN_DENOMINATOR)
        return self._reduce(*self._weighted(x, losses, grad))


class BCEWithLogitsLoss(_BinaryLoss):
    """Binary cross-entropy on logits ``x``, with ``p = sigmoid(x)`` folded in.

    With ``softplus(z) = log(1 + e^z) = max(z, 0) + log(1 + e^-|z|)``, so that
    ``-log sigmoid(x) = softplus(-x)`` and ``-log(1 - sigmoid(x)) = softplus(x)``::

        loss = w (pw y softplus(-x) + (1 - y) softplus(x))
             = w ((1 - y) x + (1 + (pw - 1) y) softplus(-x))
        dloss/dx = w ((1 + (pw - 1) y) sigmoid(x) - pw y)      (= w (sigmoid(x) - y) for pw = 1)

    ``pw`` is ``pos_weight``: > 1 counts positives more (recall), < 1 less.
    ``softplus`` never exponentiates a positive number, so any logit (+-1000)
    gives a finite, exact loss; ``sigmoid`` is computed the same way.

    Args:
        weight: optional weight per element, broadcasting to the input.
        pos_weight: optional weight of the positive term, broadcasting to the input
            (e.g. ``(C,)`` for C independent labels per sample).

    Example:
        >>> loss = BCEWithLogitsLoss()(np.array([0.0, 2.0]), np.array([1.0, 0.0]))
        >>> loss.value            # (log 2 + log(1 + e^2)) / 2
        1.4100375...
    """

    def __init__(self, backward_func=None, reduction="mean", weight=None, pos_weight=None):
        super().__init__(backward_func, reduction, weight)
        self.pos_weight = None if pos_weight is None else float_array(self._name, "pos_weight", pos_weight,
                                                                      np.float64)

    def forward(self, input, target):
        x = self._float_input(input)
        y = self._same_shape_target(x, target)
        if self.pos_weight is None:
            return self._reduce(*self._weighted(x, *_logistic(x, y)))
        pw_y = self._broadcast("pos_weight", self.pos_weight, x) * y
        return self._reduce(*self._weighted(x, *_logistic(x, y, pw_y)))

    def extra_repr(self):
        extra = [super().extra_repr()] if self.weight is not None else []
        if self.pos_weight is not None:
            extra.append(f"pos_weight={self.pos_weight.tolist()}")
        return ", ".join(extra)


class MultiLabelSoftMarginLoss(_BinaryLoss):
    """Binary cross-entropy on logits for C independent yes/no labels, averaged over the labels.

    For logits ``x`` and targets ``y`` in [0, 1] (multi-hot rows), per sample::

        loss = 1/C sum_c w_c ((1 - y_c) x_c + softplus(-x_c))
        dloss/dx_c = w_c (sigmoid(x_c) - y_c) / C

    i.e. ``BCEWithLogitsLoss(reduction='none')`` averaged over the class (last)
    axis; ``reduction='mean'`` then divides by the number of samples.

    Args:
        weight: optional weight per class ``(C,)`` (anything broadcasting to the input).

    Shape:
        input ``(N, C)`` or ``(C,)`` logits (classes along the last axis); target the
        same shape; ``'none'`` gives ``(N,)`` / ``()``.

    Example:
        >>> loss = MultiLabelSoftMarginLoss()(np.array([[0.0, 2.0]]), np.array([[1.0, 0.0]]))
        >>> loss.value            # (log 2 + log(1 + e^2)) / 2
        1.4100375...
    """

    def forward(self, input, target):
        x = self._float_input(input)
        if x.ndim == 0:
            raise ShapeError(f"{self._name}: expected input of shape (N, C) or (C,), got a scalar")
        losses, grad = self._weighted(x, *_logistic(x, self._same_shape_target(x, target)))
        n_classes = x.shape[-1]
        return self._reduce(losses.sum(axis=-1) / n_classes, grad / n_classes)


class SoftMarginLoss(Loss):
    """Logistic loss for labels ``y`` of 1 and -1 on scores ``x``: a smooth hinge.

    Element by element, with ``softplus(z) = log(1 + e^z)``::

        loss = softplus(-y x) = log(1 + exp(-y x))
        dloss/dx = -y sigmoid(-y x)

    The loss falls towards 0 as ``y x`` grows (right side, confidently) and
    grows linearly when ``y x`` is negative. With labels ``(y + 1) / 2`` it is
    ``BCEWithLogitsLoss``. As in PyTorch ``y`` is used as a number (not checked).

    Shape: input any shape, target the same shape; ``'none'`` gives that shape.

    Example:
        >>> loss = SoftMarginLoss()(np.array([0.0, 2.0]), np.array([1.0, -1.0]))
        >>> loss.value            # (log 2 + log(1 + e^2)) / 2
        1.4100375...
    """

    def forward(self, input, target):
        x = self._float_input(input)
        y = self._same_shape_target(x, target)
        z = -y * x
        return self._reduce(np.logaddexp(0, z), -y * sigmoid(z))
