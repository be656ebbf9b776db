"""Hinge losses on scores: multi-class (a linear SVM's loss), multi-label, for pairs
judged similar or not, and for ranking two scores.

Each asks a score to beat another by a ``margin`` and is zero once it does:
``max(0, h)`` for a shortfall ``h``, with gradient ``[h > 0] dh/dx``. At ``h = 0``
exactly the gradient is PyTorch's: 0 for the multi-class and multi-label
losses (their kernels test ``h > 0``), ``dh/dx`` for HingeEmbeddingLoss and
MarginRankingLoss (built on ``clamp_min``, which passes it).
"""
import numpy as np

from ..errors import ShapeError
from ..validation import as_real_array, check_int
from ._checks import check_shape, first_outside, integer_array
from .base import Loss


class MultiMarginLoss(Loss):
    """Multi-class hinge loss on scores ``x`` with target class ``y`` (PyTorch's MultiMarginLoss).

    Every wrong class ``i`` whose score comes within ``margin`` of the
    target's score pays ``h_i = margin - x_y + x_i``; per sample::

        loss = w_y sum_{i != y} max(0, h_i)^p / C
        dloss/dx_i = w_y [h_i > 0] p h_i^(p-1) / C      for i != y
        dloss/dx_y = -sum_{i != y} dloss/dx_i

    ``w_y`` is the target class's ``weight`` (1 without weights; as in
    PyTorch it scales the whole term). ``reduction='mean'`` divides by the
    number of samples N.

    Args:
        p: 1 (hinge, default) or 2 (squared hinge).
        margin: the score gap the target class should keep (default 1.0).
        weight: optional ``(C,)`` weight per class.

    Shape:
        input ``(N, C)`` or ``(C,)`` scores; target class indices ``(N,)`` or ``()``;
        ``'none'`` gives ``(N,)`` / ``()``; grad has the input's shape.

    Example:
        >>> loss = MultiMarginLoss()(np.array([[0.5, 0.0, 2.0]]), np.array([0]))
        >>> loss.value            # (max(0, 1 - 0.5 + 0) + max(0, 1 - 0.5 + 2)) / 3
        1.0
    """

    def __init__(self, backward_func=None, reduction="mean", p=1, margin=1.0, weight=None):
        super().__init__(backward_func, reduction)
        self.p = check_int(self, "p", p, minimum=1, maximum=2)
        self.margin, self.weight = self._margin(margin), self._class_weight(weight)

    def forward(self, input, target):
        x = self._float_input(input)
        if x.ndim not in (1, 2):
            raise ShapeError(f"{self._name}: expected input of shape (N, C) or (C,), got {x.shape}")
        axis = x.ndim - 1
        n_classes = x.shape[axis]
        self._check_class_count(x, axis)
        y, _ = self._class_indices(x, target, axis)
        h = self.margin - np.take_along_axis(x, y, axis) + x
        active = h > 0
        np.put_along_axis(active, y, False, axis)
        h = np.where(active, h, 0)
        if self.p == 1:
            losses, grad = h.sum(axis=axis) / n_classes, active / x.dtype.type(n_classes)
        else:
            losses, grad = (h * h).sum(axis=axis) / n_classes, 2 * h / n_classes
        np.put_along_axis(grad, y, -grad.sum(axis=axis, keepdims=True), axis)
        if self.weight is not None:
            w_y = self.weight.astype(x.dtype)[y]
            losses, grad = losses * w_y.squeeze(axis), grad * w_y
        return self._reduce(losses, grad)

    def extra_repr(self):
        weight = "" if self.weight is None else f", weight={self.weight.tolist()}"
        return f"p={self.p}, margin={self.margin}{weight}"


class MultiLabelMarginLoss(Loss):
    """Multi-label hinge loss: each of a sample's classes should score 1 above every other class.

    A target row lists the sample's classes and ends at the first -1
    (``[3, 0, -1, 1]`` means {3, 0}; what follows the -1 is ignored). For a
    listed class ``j`` and a class ``i`` not in the set, ``h_ji = 1 - (x_j - x_i)``;
    per sample::

        loss = sum_{j listed} sum_{i not in set} max(0, h_ji) / C
        dloss/dx_i = sum_j [h_ji > 0] / C          (i not in the set)
        dloss/dx_j = -sum_i [h_ji > 0] / C         (j listed)

    A class listed twice counts twice, as in PyTorch. ``reduction='mean'``
    divides by the number of samples N.

    Shape:
        input ``(N, C)`` or ``(C,)`` scores (``()``: one class); target class indices of
        the input's shape, each in ``[-1, C)``; ``'none'`` gives ``(N,)`` / ``()``.

    Example:
        >>> loss = MultiLabelMarginLoss()(np.array([0.1, 0.2, 0.4, 0.8]), np.array([3, 0, -1, 1]))
        >>> loss.value    # set {3, 0}: (1 - 0.8 + 0.2) + (1 - 0.8 + 0.4) + (1 - 0.1 + 0.2) + (1 - 0.1 + 0.4), / 4
        0.85...
    """

    def forward(self, input, target):
        x = self._float_input(input)
        if x.ndim > 2:
            raise ShapeError(f"{self._name}: expected input of shape (N, C) or (C,), got {x.shape}")
        xs, ts = np.atleast_1d(x), np.atleast_1d(self._label_lists(x, target))
        n_classes = xs.shape[-1]
        listed = np.cumprod(ts != -1, axis=-1).astype(bool)                   # the slots before the first -1
        y = np.where(listed, ts, 0)
        one_hot = (y[..., :, None] == np.arange(n_classes)) & listed[..., :, None]   # (..., slot j, class)
        outside = ~one_hot.any(axis=-2)                                        # (..., class i): not in the set
        h = 1 - np.take_along_axis(xs, y, -1)[..., :, None] + xs[..., None, :]      # (..., slot j, class i)
        active = (h > 0) & listed[..., :, None] & outside[..., None, :]
        losses = np.where(active, h, 0).sum(axis=(-2, -1)) / n_classes
        pushes = (active.sum(axis=-2) - (one_hot * active.sum(axis=-1)[..., None]).sum(axis=-2))
        return self._reduce(losses, (pushes / n_classes).astype(x.dtype).reshape(x.shape))

    def _label_lists(self, x, target):
        t = as_real_array(self, target, "target")
        check_shape(self._name, "target", t, x.shape, " (the input's shape: class indices, ended by -1)")
        t = integer_array(self._name, "target", t)
        n_classes = x.shape[-1] if x.ndim else 1
        first_outside(self._name, "target", t, (t < -1) | (t >= n_classes),
                      f"be a class index in [0, {n_classes}) or -1 (end of the list)")
        return t


class HingeEmbeddingLoss(Loss):
    """Hinge loss for pairs judged similar (``y = 1``) or dissimilar (``y = -1``) from a distance ``x``.

    Element by element::

        loss = x                      if y = 1     (similar: make the distance small)
        loss = max(0, margin - x)     if y = -1    (dissimilar: push it past the margin)
        dloss/dx = 1 if y = 1,   -[margin - x >= 0] if y = -1

    ``x`` is typically a distance between two embeddings, e.g. their L1
    distance. Targets must be 1 or -1: PyTorch silently adds both terms for
    any other value, and 0/1 labels are a common mistake.

    Args:
        margin: the distance dissimilar pairs should keep (>= 0, default 1.0).

    Shape: input any shape, target the same shape; ``'none'`` gives that shape.

    Example:
        >>> loss = HingeEmbeddingLoss()(np.array([0.3, 0.4, 2.0]), np.array([1, -1, -1]))
        >>> loss.value, loss.grad        # (0.3 + 0.6 + 0) / 3, [1, -1, 0] / 3
        (0.3, array([ 0.33333333, -0.33333333,  0.        ]))
    """

    def __init__(self, backward_func=None, reduction="mean", margin=1.0):
        super().__init__(backward_func, reduction)
        self.margin = self._margin(margin)

    def forward(self, input, target):
        x = self._float_input(input)
        similar = self._sign_target(x, target) == 1
        pushed = ~similar & (self.margin - x >= 0)
        losses = np.where(similar, x, np.maximum(0, self.margin - x))
        return self._reduce(losses, similar.astype(x.dtype) - pushed)

    def extra_repr(self):
        return f"margin={self.margin}"


class MarginRankingLoss(Loss):
    """Asks ``x1`` to score ``margin`` above ``x2`` where ``y = 1``, below where ``y = -1``.

    Element by element, with the shortfall ``h = margin - y (x1 - x2)``::

        loss = max(0, h)
        dloss/dx1 = -y [h >= 0],    dloss/dx2 = y [h >= 0]

    Both inputs are differentiated: ``result.grad`` is ``(dL/dx1, dL/dx2)``,
    e.g. ``MarginRankingLoss(backward_func=(tower_a, tower_b))`` sends each
    tower its own gradient. As in PyTorch ``y`` is used as a number (a 0
    makes the pair cost ``margin`` and pull nothing).

    Args:
        margin: the gap asked for (>= 0, default 0).

    Shape: input1 any shape, input2 and target the same shape; ``'none'`` gives that shape.

    Example:
        >>> loss = MarginRankingLoss(margin=1.0)(np.array([2.0, 0.5]), np.array([0.0, 1.0]), np.array([1, 1]))
        >>> loss.value, loss.grad[1]     # (max(0, 1 - 2) + max(0, 1 + 0.5)) / 2;  y [h >= 0] / 2
        (0.75, array([0. , 0.5]))
    """

    differentiable_inputs = ("input1", "input2")

    def __init__(self, backward_func=None, reduction="mean", margin=0.0):
        super().__init__(backward_func, reduction)
        self.margin = self._margin(margin)

    def forward(self, input1, input2, target):
        x1, x2 = self._inputs(self.differentiable_inputs, input1, input2)
        y = self._same_shape_target(x1, target)
        h = self.margin - y * (x1 - x2)
        pulled = y * (h >= 0)
        return self._reduce(np.maximum(0, h), (-pulled, pulled))

    def extra_repr(self):
        return f"margin={self.margin}"
