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

    Example (first step: ``s = 0.01 * g**2``, so every weight moves by ``lr / 0.1``):
        >>> w = Parameter([1.0, -2.0])
        >>> optimizer = RMSprop([w], lr=0.01)
        >>> w.grad = np.array([0.5, 4.0])
        >>> optimizer.step()
        >>> w.data.round(6)
        array([ 0.9, -2.1], dtype=float32)
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
        lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
        if not state:
            state.update(step=0, square_avg=np.zeros_like(p.data))
        g = self._decayed_grad(p, group["weight_decay"])
        s = state["square_avg"]
        s = alpha * s + (1 - alpha) * g**2
        state.update(step=state["step"] + 1, square_avg=s)
        if group["centered"]:
            c = state.get("grad_avg", 0)                # c_0 = 0
            c = alpha * c + (1 - alpha) * g
            state["grad_avg"] = c
            a = np.sqrt(s - c**2) + eps
        else:
            a = np.sqrt(s) + eps
        if momentum > 0:
            b = state.get("momentum_buffer", 0)         # b_0 = 0
            b = momentum * b + g / a
            state["momentum_buffer"] = b
            p.data -= lr * b
        else:
            p.data -= lr * g / a
