"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""
import numpy as np

from ..validation import check_real
from .optimizer import Optimizer


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), PyTorch's formula and defaults.

    For each Parameter ``p`` with gradient ``g`` at step ``t = 1, 2, ...``::

        g = g + weight_decay * p                       (L2 penalty, Adam)
        m = beta1 * m + (1 - beta1) * g                first moment,  m_0 = 0
        v = beta2 * v + (1 - beta2) * g**2             second moment, v_0 = 0
        v_max = max(v_max, v);  use v_max for v        if amsgrad
        m_hat = m / (1 - beta1**t)                     bias corrections
        v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    The factors ``1 - beta**t`` undo the bias of ``m`` and ``v`` towards
    their zero start. State per Parameter: ``step`` (t), ``exp_avg`` (m),
    ``exp_avg_sq`` (v) and, with amsgrad, ``max_exp_avg_sq`` (v_max).

    Args:
        params: a Layer/Module, an iterable of Parameters, or parameter groups.
        lr: learning rate (default 1e-3).
        betas: ``(beta1, beta2)``, each in [0, 1) (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty factor (default 0).
        amsgrad: use the running maximum of ``v`` (default False).

    Example (the first step moves every weight by ``lr``, against its gradient's sign):
        >>> w = Parameter([1.0, -2.0])
        >>> optimizer = Adam([w], lr=0.1)
        >>> w.grad = np.array([0.5, 4.0])
        >>> optimizer.step()                  # m_hat = g, v_hat = g**2
        >>> w.data
        array([ 0.9, -2.1], dtype=float32)
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    _state_arrays = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def _required_state(self, group):
        return {"step", "exp_avg", "exp_avg_sq"} | ({"max_exp_avg_sq"} if group["amsgrad"] else set())

    def _validate(self, group):
        super()._validate(group)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{self._name}: betas must be a pair (beta1, beta2) of numbers in [0, 1), "
                            f"got {betas!r} ({type(betas).__name__})")
        group["betas"] = tuple(check_real(self._name, f"betas[{i}]", beta, minimum=0, maximum=1, open_max=True)
                               for i, beta in enumerate(betas))
        self._bool(group, "amsgrad")

    def _update(self, p, state, group):
        lr, (beta1, beta2), eps, weight_decay = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(p.data), exp_avg_sq=np.zeros_like(p.data))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p.data)
        if self._decoupled:                             # AdamW: shrink the weights, not the gradient
            if weight_decay:
                p.data *= 1 - lr * weight_decay
            g = p.grad
        else:
            g = self._decayed_grad(p, weight_decay)
        t, m, v = state["step"] + 1, state["exp_avg"], state["exp_avg_sq"]
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        state.update(step=t, exp_avg=m, exp_avg_sq=v)
        if group["amsgrad"]:
            v_max = np.maximum(state["max_exp_avg_sq"], v)
            state["max_exp_avg_sq"] = v = v_max         # use v_max for v
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p.data -= lr * m_hat / (np.sqrt(v_hat) + eps)


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay.

    Same as ``Adam`` except that weight decay shrinks the Parameter directly
    instead of being added to the gradient, before the moment updates::

        p = p * (1 - lr * weight_decay)
        (then Adam's update with the raw gradient g)

    Args: as ``Adam``, but ``weight_decay`` defaults to 1e-2 (PyTorch's default).

    Example (the weights shrink by ``1 - 0.1 * 0.5``, then move by ``lr`` as in Adam):
        >>> w = Parameter([1.0, -2.0])
        >>> optimizer = AdamW([w], lr=0.1, weight_decay=0.5)
        >>> w.grad = np.array([0.5, 4.0])
        >>> optimizer.step()                  # [0.95, -1.9] - 0.1 * [1, 1]
        >>> w.data.round(6)
        array([ 0.85, -2.  ], dtype=float32)
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
