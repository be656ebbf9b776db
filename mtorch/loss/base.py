"""Loss base class, the result object a loss call returns, and the input checks losses share."""
import numbers
import operator

import numpy as np

from ..errors import ShapeError
from ..validation import as_real_array, check_choice, check_real
from . import _checks


def _each(grad, fn):
    """``fn`` applied to a gradient, or to each gradient of a tuple (a loss of several inputs)."""
    return tuple(fn(g) for g in grad) if isinstance(grad, tuple) else fn(grad)


class LossResult:
    """What calling a loss returns.

    Attributes:
        value: the loss, a float (an array of per-element losses for ``reduction='none'``).
        grad: ``dL/d(input)``, the input's shape (for ``'none'``: the gradient of the sum of
            the values). A loss of several inputs gives a tuple, one gradient per
            differentiable input in argument order, e.g. ``(dL/dx1, dL/dx2)``.

    ``backward()`` hands ``grad`` to the loss's ``backward_func`` and returns what it
    returns: ``backward_func(*grads)`` for one function, or, for a tuple of them,
    each called with its own input's gradient (a tuple of their results).

    ``loss / k``, ``loss * k`` and ``k * loss`` (``k`` a number) give a new result
    with the value and every gradient scaled by the same factor and the same
    ``backward_func``: PyTorch's ``(loss / k).backward()`` for a batch split into
    ``k`` micro-batches whose gradients add up.
    """

    __array_ufunc__ = None          # ``array * loss`` is refused, ``np.float64(2) * loss`` scales

    def __init__(self, value, grad, backward_func=None):
        self.value, self.grad = value, grad
        self._backward_func = backward_func

    def backward(self):
        if self._backward_func is None:
            raise RuntimeError("this loss has no backward hook: construct it with "
                               "backward_func=module.backward (or the module itself)")
        grads = self.grad if isinstance(self.grad, tuple) else (self.grad,)
        if isinstance(self._backward_func, tuple):
            return tuple(None if func is None else func(g) for func, g in zip(self._backward_func, grads))
        return self._backward_func(*grads)

    def item(self):
        """The loss as a Python float (as ``torch.Tensor.item``)."""
        return float(self.value)

    def __float__(self):
        return self.item()

    def _scaled(self, k, op):
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Real):
            return NotImplemented
        return LossResult(op(self.value, float(k)), _each(self.grad, lambda g: op(g, g.dtype.type(k))),
                          self._backward_func)

    def __mul__(self, k):
        return self._scaled(k, operator.mul)

    __rmul__ = __mul__

    def __truediv__(self, k):
        if not isinstance(k, (bool, np.bool_)) and isinstance(k, numbers.Real) and k == 0:
            raise ZeroDivisionError("LossResult: cannot divide a loss by 0")
        return self._scaled(k, operator.truediv)

    def __repr__(self):
        return f"LossResult(value={self.value})"


def _backward_entry(owner, name, func):
    """What ``result.backward()`` calls for ``func``: a Layer's ``backward`` (which fires the
    Layer's backward hooks), or ``func`` itself (a bound ``module.backward``, any function)."""
    entry = getattr(func, "backward", func)
    if not callable(entry):
        raise TypeError(f"{owner}: {name} must be callable or a Layer, got {func!r} ({type(func).__name__})")
    return entry


class Loss:
    """Base class: subclasses implement ``forward(input, target) -> (value, grad)`` (a loss of
    several inputs takes its own arguments, e.g. ``forward(input1, input2, target)``, and
    returns a tuple of gradients), usually ending with ``self._reduce(losses, grad)``.

    Args:
        backward_func: what ``result.backward()`` calls with ``dL/d(input)``: a
            function such as ``module.backward``, or a Layer (its ``backward`` is
            called). A loss of several inputs takes one function, called as
            ``backward_func(*grads)``, or a tuple with one function or Layer (or
            None to skip) per differentiable input.
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``, as in PyTorch.

    Class attributes:
        differentiable_inputs: the names of the arguments the loss differentiates, in
            order (``('input',)`` for most); ``result.grad`` is a tuple when there are several.
        reductions: the accepted values of ``reduction``.
    """

    differentiable_inputs = ("input",)
    reductions = ("mean", "sum", "none")

    def __init__(self, backward_func=None, reduction="mean"):
        self.reduction = check_choice(self, "reduction", reduction, self.reductions)
        self.backward_func = self._backward_funcs(backward_func)

    @property
    def _name(self):
        return type(self).__name__

    def _backward_funcs(self, backward_func):
        if not isinstance(backward_func, (tuple, list)):
            return None if backward_func is None else _backward_entry(self._name, "backward_func", backward_func)
        names = self.differentiable_inputs
        if len(backward_func) != len(names):
            raise ValueError(f"{self._name}: backward_func has {len(backward_func)} entries, expected "
                             f"{len(names)} (one per differentiable input: {', '.join(names)})")
        return tuple(None if f is None else _backward_entry(self._name, f"backward_func[{i}]", f)
                     for i, f in enumerate(backward_func))

    def __call__(self, *args, **kwargs):
        with np.errstate(all="ignore"):      # NaN and inf propagate silently, as in PyTorch
            value, grad = self.forward(*args, **kwargs)
        return LossResult(value, grad, self.backward_func)

    def forward(self, input, target):
        raise NotImplementedError(f"{self._name} must implement forward(input, target)")

    def _reduce(self, losses, grad, total=None):
        """Reduce per-element ``losses`` and scale their gradient ``grad`` (or tuple of them) to match.

        ``grad`` is d(sum of losses)/d(input); for 'mean' both are divided by
        ``total`` (default ``losses.size``; class-weighted losses pass the sum
        of the weights). A zero ``total`` (nothing to average, e.g. an empty
        batch) gives a NaN value and a zero gradient, as in PyTorch. Returns ``(value, grad)``.
        """
        if self.reduction == "none":
            return losses, grad
        if self.reduction == "sum":
            return float(losses.sum()), grad
        n = losses.size if total is None else total
        if n == 0:
            return float("nan"), _each(grad, np.zeros_like)
        return float(losses.sum() / n), _each(grad, lambda g: g / g.dtype.type(n))

    # ------------------------------------------------- checks shared by losses
    def _float_input(self, input, name="input"):
        """``input`` as a floating array (its own float dtype; bools and integers become float32)."""
        return _checks.float_array(self._name, name, input)

    def _inputs(self, names, *inputs):
        """Several inputs (named ``names``) of one shape, as arrays of their common float dtype."""
        xs = [self._float_input(x, name) for name, x in zip(names, inputs)]
        dtype = np.result_type(*xs)
        for name, x in zip(names[1:], xs[1:]):
            _checks.check_shape(self._name, name, x, xs[0].shape, f" ({names[0]}'s shape)")
        return [x.astype(dtype, copy=False) for x in xs]

    def _same_shape_target(self, x, target, name="target"):
        """``target`` as an array of ``x``'s shape and dtype, or ``ShapeError``."""
        t = as_real_array(self, target, name)
        _checks.check_shape(self._name, name, t, x.shape, " (the input's shape)")
        return t.astype(x.dtype, copy=False)

    def _sign_target(self, x, target, shape=None):
        """A target of 1s and -1s (``shape``, default ``x``'s) in ``x``'s dtype, or ``ValueError``."""
        t = as_real_array(self, target, "target")
        _checks.check_shape(self._name, "target", t, x.shape if shape is None else shape)
        _checks.first_outside(self._name, "target", t, (t != 1) & (t != -1), "be 1 or -1 (not 0/1 labels)")
        return t.astype(x.dtype, copy=False)

    def _class_weight(self, weight):
        """The constructor's per-class ``weight`` as a float64 ``(C,)`` array (None stays None)."""
        if weight is None:
            return None
        weight = _checks.float_array(self._name, "weight", weight, np.float64)
        if weight.ndim != 1:
            raise ShapeError(f"{self._name}: weight must be 1-D (one per class), got shape {weight.shape}")
        return weight

    def _check_class_count(self, x, class_axis):
        """For losses with a per-class ``self.weight``: ``ShapeError`` unless it (if given)
        has one entry per class of ``x``."""
        if self.weight is not None and self.weight.size != x.shape[class_axis]:
            raise ShapeError(f"{self._name}: weight has {self.weight.size} entries but the "
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
        n_classes = x.shape[class_axis]
        expected = x.shape[:class_axis] + x.shape[class_axis + 1:]
        t = as_real_array(self, target, "target")
        _checks.check_shape(self._name, "target", t, expected,
                            f" (class indices){alternative} for input of shape {x.shape}")
        t = _checks.integer_array(self._name, "target", t)
        keep = np.ones(t.shape, dtype=bool) if ignore_index is None else t != ignore_index
        _checks.first_outside(self._name, "target", t, keep & ((t < 0) | (t >= n_classes)),
                              f"be a class index in [0, {n_classes}) for {n_classes} classes")
        return np.expand_dims(np.where(keep, t, 0), class_axis), np.expand_dims(keep, class_axis)

    def _margin(self, margin):
        """A margin (a gap the loss asks for) as a float, or an error unless it is a number >= 0."""
        return check_real(self, "margin", margin, minimum=0)

    def extra_repr(self):
        """Constructor arguments beyond ``reduction`` for ``repr``; subclasses override."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        return f"{self._name}(reduction={self.reduction!r}{', ' + extra if extra else ''})"
