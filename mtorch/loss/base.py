"""Loss base class, the result object a loss call returns, and the input checks losses share."""
import numpy as np

from ..errors import ShapeError

_REDUCTIONS = ("mean", "sum", "none")


class LossResult:
    """What calling a loss returns.

    Attributes:
        value: the loss, a float (an array of per-element losses for ``reduction='none'``).
        grad: ``dL/d(input)``, the input's shape (for ``'none'``: the gradient of the sum of the values).

    ``backward()`` hands ``grad`` to the loss's backward hook (usually
    ``module.backward``) and returns what the hook returns.
    """

    def __init__(self, value, grad, backward_func=None):
        self.value, self.grad = value, grad
        self._backward_func = backward_func

    def backward(self):
        if self._backward_func is None:
            raise RuntimeError("this loss has no backward hook: construct it with "
                               "backward_func=module.backward (or the module itself)")
        return self._backward_func(self.grad)

    def item(self):
        """The loss as a Python float (as ``torch.Tensor.item``)."""
        return float(self.value)

    def __float__(self):
        return self.item()

    def __repr__(self):
        return f"LossResult(value={self.value})"


def _backward_entry(func):
    """A Layer, or a Layer's bound ``backward``, becomes its ``run_backward`` so its backward hooks fire too."""
    owner = getattr(func, "__self__", None)
    if getattr(func, "__name__", "") == "backward" and hasattr(owner, "run_backward"):
        return owner.run_backward
    return getattr(func, "run_backward", None) or getattr(func, "backward", func)


class Loss:
    """Base class: subclasses implement ``forward(input, target) -> (value, grad)``.

    Args:
        backward_func: called with ``dL/d(input)`` by ``result.backward()``;
            a function such as ``module.backward``, or a Layer; a Layer (or its
            bound ``backward``) is called through ``run_backward`` so its backward hooks fire.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``, as in PyTorch.
    """

    def __init__(self, backward_func=None, reduction="mean"):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {_REDUCTIONS}, "
                             f"got {reduction!r}")
        if backward_func is not None and not callable(backward_func) and not hasattr(backward_func, "backward"):
            raise TypeError(f"{type(self).__name__}: backward_func must be callable or a Layer, "
                            f"got {type(backward_func).__name__}")
        self.backward_func = _backward_entry(backward_func)
        self.reduction = reduction

    def __call__(self, input, target):
        value, grad = self.forward(input, target)
        return LossResult(value, grad, self.backward_func)

    def forward(self, input, target):
        raise NotImplementedError(f"{type(self).__name__} must implement forward(input, target)")

    def _reduce(self, losses, grads, total=None):
        """Reduce per-element ``losses`` and scale their gradients ``grads`` to match.

        ``grads`` is d(sum of losses)/d(input); for 'mean' both are divided by
        ``total`` (default ``losses.size``; class-weighted losses pass the sum
        of the weights). A zero ``total`` (nothing to average, e.g. an empty
        batch) gives a NaN value and a zero gradient, as in PyTorch. Returns ``(value, grad)``.
        """
        if self.reduction == "none":
            return losses, grads
        if self.reduction == "sum":
            return float(losses.sum()), grads
        n = losses.size if total is None else total
        if n == 0:
            return float("nan"), np.zeros_like(grads)
        return float(losses.sum() / n), grads / grads.dtype.type(n)

    # ------------------------------------------------- checks shared by losses
    def _float_input(self, input):
        """``input`` as a floating array (its own float dtype; integers become float32)."""
        x = np.asarray(input)
        if np.issubdtype(x.dtype, np.floating):
            return x
        if x.dtype.kind in "biu":
            return x.astype(np.float32)
        raise TypeError(f"{type(self).__name__}: input must be a numeric array, got dtype {x.dtype}")

    def _same_shape_target(self, x, target):
        """``target`` as an array of ``x``'s shape and dtype, or ``ShapeError``."""
        t = np.asarray(target)
        if t.shape != x.shape:
            raise ShapeError(f"{type(self).__name__}: expected target of shape {x.shape} "
                             f"(the input's shape), got {t.shape}")
        if t.dtype.kind not in "biuf":
            raise TypeError(f"{type(self).__name__}: target must be a numeric array, got dtype {t.dtype}")
        return t.astype(x.dtype, copy=False)

    def _class_weight(self, weight):
        """The constructor's per-class ``weight`` as a float64 ``(C,)`` array (None stays None)."""
        if weight is None:
            return None
        weight = np.array(weight, dtype=np.float64)
        if weight.ndim != 1:
            raise ShapeError(f"{type(self).__name__}: weight must be 1-D (one per class), "
                             f"got shape {weight.shape}")
        return weight

    def _check_class_count(self, x, class_axis):
        """For losses with a per-class ``self.weight``: ``ShapeError`` unless it (if given)
        has one entry per class of ``x``."""
        if self.weight is not None and self.weight.size != x.shape[class_axis]:
            raise ShapeError(f"{type(self).__name__}: weight has {self.weight.size} entries but the "
                             f"input of shape {x.shape} has {x.shape[class_axis]} classes")

    def _class_indices(self, x, target, class_axis, alternative="", ignore_index=None):
        """Validate class-index targets for input ``x`` with classes along ``class_axis``.

        ``target`` must have ``x``'s shape without the class axis, hold
        integers (integer-valued floats are accepted) and lie in
        ``0 <= index < C``, except entries equal to ``ignore_index``.
        ``alternative`` is added to the shape error (e.g. the probabilities' shape).

        Returns ``(y, keep)``, both with the class axis kept as size 1 so that
        ``np.take_along_axis(x, y, class_axis)`` picks each target's score:
        ``y`` int64 indices (0 where ignored) and ``keep`` False where ignored.
        """
        name, n_classes = type(self).__name__, x.shape[class_axis]
        expected = x.shape[:class_axis] + x.shape[class_axis + 1:]
        t = np.asarray(target)
        if t.shape != expected:
            raise ShapeError(f"{name}: expected target of shape {expected} (class indices){alternative} "
                             f"for input of shape {x.shape}, got {t.shape}")
        if t.dtype.kind == "f":
            fractional = ~np.isfinite(t) | (t != np.round(t))
            if fractional.any():
                where = tuple(int(i) for i in np.argwhere(fractional)[0])
                raise ValueError(f"{name}: class targets must be integers, got {t[where]} "
                                 f"at position {where} (dtype {t.dtype})")
        elif t.dtype.kind not in "iu":
            raise ValueError(f"{name}: class targets must be integers, got dtype {t.dtype}")
        t = t.astype(np.int64, copy=False)
        keep = np.ones(t.shape, dtype=bool) if ignore_index is None else t != ignore_index
        outside = keep & ((t < 0) | (t >= n_classes))
        if outside.any():
            where = tuple(int(i) for i in np.argwhere(outside)[0])
            raise ValueError(f"{name}: class index {t[where]} at position {where} is out of range "
                             f"for {n_classes} classes (expected 0 <= index < {n_classes})")
        return np.expand_dims(np.where(keep, t, 0), class_axis), np.expand_dims(keep, class_axis)

    def extra_repr(self):
        """Constructor arguments beyond ``reduction`` for ``repr``; subclasses override."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        return f"{type(self).__name__}(reduction={self.reduction!r}{', ' + extra if extra else ''})"
