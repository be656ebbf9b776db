"""Multi-class hinge loss (the loss of a linear SVM trained by gradient descent)."""
import numpy as np

from ..errors import ShapeError
from ._checks import check_int
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
        self.p = check_int(self._name, "p", p, lambda v: v in (1, 2), "1 or 2")
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
