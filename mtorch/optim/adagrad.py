"""Adagrad: per-coordinate learning rates that shrink with the sum of past squared gradients."""
import numpy as np

from .optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), PyTorch's formula and defaults.

    For each Parameter ``p`` with gradient ``g`` at step ``t = 1, 2, ...``::

        g = g + weight_decay * p                 if weight_decay != 0
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g**2                             s_0 = initial_accumulator_value
        p = p - clr * g / (sqrt(s) + eps)

    State per Parameter: ``step`` (t) and ``sum`` (s). A parameter group may
    set its own ``initial_accumulator_value`` (PyTorch starts every group
    from the constructor's).

    Args:
        params: a Layer/Module, an iterable of Parameters, or parameter groups.
        lr: learning rate (default 1e-2).
        lr_decay: learning-rate decay per step (default 0).
        weight_decay: L2 penalty factor (default 0).
        initial_accumulator_value: starting value of ``s`` (default 0).
        eps: added to the denominator (default 1e-10).

    Example (two steps with the same gradient: ``s = g**2``, then ``2 * g**2``):
        >>> w = Parameter([1.0, -2.0])
        >>> optimizer = Adagrad([w], lr=0.1)
        >>> for _ in range(2):
        ...     w.grad = np.array([0.5, 4.0])
        ...     optimizer.step()              # w -= 0.1 * g / sqrt(s)
        >>> w.data.round(4)                   # [1, -2] - 0.1 * (1 + 1 / sqrt(2)) * [1, -1]
        array([ 0.8293, -2.1707], dtype=float32)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    _state_arrays = ("sum",)

    def _required_state(self, group):
        return {"step", "sum"}

    def _validate(self, group):
        super()._validate(group)
        self._real(group, "lr_decay", minimum=0)
        self._real(group, "initial_accumulator_value", minimum=0)

    def _update(self, p, state, group):
        lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
        if not state:
            state.update(step=0, sum=np.full_like(p.data, group["initial_accumulator_value"]))
        g = self._decayed_grad(p, group["weight_decay"])
        t, s = state["step"] + 1, state["sum"]
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g**2
        state.update(step=t, sum=s)
        p.data -= clr * g / (np.sqrt(s) + eps)
