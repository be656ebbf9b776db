"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""
import numpy as np

from .optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012), PyTorch's formula and defaults.

    For each Parameter ``p`` with gradient ``g``::

        g = g + weight_decay * p                        if weight_decay != 0
        s = alpha * s + (1 - alpha) * g**2              mean square,  s_0 = 0
        a = sqrt(s) + eps
        if centered:                                    subtract the mean's square
            c = alpha * c + (1 - alpha) * g             mean gradient, c_0 = 0
            a = sqrt(s - c**2) + eps
        b = momentum * b + g / a;  p = p - lr * b       if momentum > 0 (b_0 = 0)
        p = p - lr * g / a                              otherwise

    State per Parameter: ``step``, ``square_avg`` (s), ``grad_avg`` (c, if
    centered) and ``momentum_buffer`` (b, if momentum > 0).

    Args:
        params: a Layer/Module, an iterable of Parameters, or parameter groups.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant in [0, 1] (default 0.99).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty factor (default 0).
        momentum: momentum factor in [0, 1) (default 0).
        centered: normalise by the estimated variance instead of the mean square.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    _state_arrays = ("square_avg", "grad_avg", "momentum_buffer")

    def _required_state(self, group):
        return {"step", "square_avg"}

    def _validate(self, group):
        super()._validate(group)
        self._real(group, "alpha", minimum=0, maximum=1)
        self._real(group, "momentum", minimum=0, maximum=1, open_max=True)
        self._bool(group, "centered")

    def _update(self, p, state, group):
        alpha, momentum, weight_decay = group["alpha"], group["momentum"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p.data)
        state["step"] += 1
        g = self._decayed_grad(p, weight_decay)
        work = np.square(g)
        work *= 1 - alpha
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += work
        if group["centered"]:
            if "grad_avg" not in state:
                state["grad_avg"] = np.zeros_like(p.data)
            grad_avg = state["grad_avg"]
            np.multiply(g, 1 - alpha, out=work)
            grad_avg *= alpha
            grad_avg += work
            np.square(grad_avg, out=work)
            np.subtract(square_avg, work, out=work)
            np.sqrt(work, out=work)
        else:
            np.sqrt(square_avg, out=work)
        work += group["eps"]
        np.divide(g, work, out=work)
        if momentum > 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = np.zeros_like(p.data)
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += work
            p.data -= float(group["lr"]) * buf
        else:
            work *= float(group["lr"])
            p.data -= work
