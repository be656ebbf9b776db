"""Loss base class and the result object a loss call returns."""
import numpy as np

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


class Loss:
    """Base class: subclasses implement ``forward(input, target) -> (value, grad)``.

    Args:
        backward_func: called with ``dL/d(input)`` by ``result.backward()``;
            a function such as ``module.backward``, or a Layer (its ``backward`` is used).
        reduction: ``'mean'`` (default), ``'sum'`` or ``'none'``, as in PyTorch.
    """

    def __init__(self, backward_func=None, reduction="mean"):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {_REDUCTIONS}, "
                             f"got {reduction!r}")
        if backward_func is not None and not callable(backward_func) and not hasattr(backward_func, "backward"):
            raise TypeError(f"{type(self).__name__}: backward_func must be callable or a Layer, "
                            f"got {type(backward_func).__name__}")
        self.backward_func = getattr(backward_func, "backward", backward_func)
        self.reduction = reduction

    def __call__(self, input, target):
        value, grad = self.forward(input, target)
        return LossResult(value, grad, self.backward_func)

    def forward(self, input, target):
        raise NotImplementedError(f"{type(self).__name__} must implement forward(input, target)")

    def _reduce(self, losses, grads):
        """Reduce per-element ``losses`` and scale their gradients ``grads`` to match.

        ``grads[i]`` is d(losses[i])/d(input); for 'mean' both are divided by
        ``losses.size``. Returns ``(value, grad)``.
        """
        if self.reduction == "none":
            return losses, grads
        if self.reduction == "sum":
            return float(losses.sum()), grads
        n = max(losses.size, 1)
        return float(losses.sum() / n), grads / grads.dtype.type(n)

    def __repr__(self):
        return f"{type(self).__name__}(reduction={self.reduction!r})"
