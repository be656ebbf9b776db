"""Binary cross-entropy, on probabilities (BCELoss) or on logits (BCEWithLogitsLoss).

For a predicted probability ``p`` of the positive class and a target
``y`` in [0, 1] (0/1 labels or soft labels), element by element::

    loss = -(y log p + (1 - y) log(1 - p))

``reduction='mean'`` divides by the number of elements.

Shape: input any shape, target the same shape; the gradient has the input's
shape and float dtype.
"""
import numpy as np

from .base import Loss

# PyTorch keeps BCELoss's gradient denominator above this: 1e-12 stored as a float32.
_MIN_DENOMINATOR = float(np.float32(1e-12))


class BCELoss(Loss):
    """Binary cross-entropy on probabilities ``x`` in [0, 1] (e.g. a Sigmoid's output).

    As in PyTorch, each log is clamped at -100 so ``x = 0`` or ``x = 1``
    gives a finite loss, and the gradient's denominator is kept >= 1e-12::

        loss = -(y max(log x, -100) + (1 - y) max(log(1 - x), -100))
        dloss/dx = (x - y) / max(x (1 - x), 1e-12)

    Prefer ``BCEWithLogitsLoss`` on the logits: it is exact where this clamps.

    Raises:
        ValueError: when an input value is outside [0, 1] (or NaN).

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
            raise ValueError(f"BCELoss: input must be probabilities in [0, 1] (e.g. a Sigmoid's "
                             f"output), got {found}; for logits use BCEWithLogitsLoss")
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        losses = -(y * log_x + (1 - y) * log_1mx)
        return self._reduce(losses, (x - y) / np.maximum(x * (1 - x), _MIN_DENOMINATOR))


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy on logits ``x``, with ``p = sigmoid(x)`` folded in::

        loss = -(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x)))
             = max(x, 0) - x y + log(1 + exp(-|x|))
        dloss/dx = sigmoid(x) - y

    The second form never exponentiates a positive number, so any logit
    (+-1000) gives a finite, exact loss; ``sigmoid`` is computed the same way.

    Example:
        >>> loss = BCEWithLogitsLoss()(np.array([0.0, 2.0]), np.array([1.0, 0.0]))
        >>> loss.value            # (log 2 + log(1 + e^2)) / 2
        1.4100375...
    """

    def forward(self, input, target):
        x = self._float_input(input)
        y = self._same_shape_target(x, target)
        e = np.exp(-np.abs(x))
        losses = np.maximum(x, 0) - x * y + np.log1p(e)
        sigmoid = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return self._reduce(losses, sigmoid - y)
