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

    State per Parameter: ``step`` (t) and ``sum`` (s).

    Args:
        params: a Layer/Module, an iterable of Parameters, or parameter groups.
        lr: learning rate (default 1e-2).
        lr_decay: learning-rate decay per step (default 0).
        weight_decay: L2 penalty factor (default 0).
        initial_accumulator_value: starting value of ``s`` (default 0).
        eps: added to the denominator (default 1e-10).
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
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p.data, group["initial_accumulator_value"])
        state["step"] += 1
        g = self._decayed_grad(p, group["weight_decay"])
        clr = float(group["lr"]) / (1 + (state["step"] - 1) * group["lr_decay"])
        work = np.square(g)
        state["sum"] += work
        np.sqrt(state["sum"], out=work)
        work += group["eps"]
        np.divide(g, work, out=work)
        work *= clr
        p.data -= work
