"""SGD: stochastic gradient descent, with optional momentum, Nesterov and weight decay."""
from .optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent (PyTorch's formula and defaults).

    For each Parameter ``p`` with gradient ``g`` (step ``t = 1, 2, ...``)::

        g = g + weight_decay * p                       if weight_decay != 0
        b = g                                          at t = 1       (momentum != 0)
        b = momentum * b + (1 - dampening) * g         at t > 1
        g = g + momentum * b    if nesterov   else   g = b
        p = p - lr * g

    Plain SGD (``momentum == 0`` and ``weight_decay == 0``) given a Layer or
    Module calls ``layer.step(lr)``, the Layer's own ``p -= lr * p.grad``, so
    a Layer subclass that overrides ``step`` is honoured. Otherwise the rule
    above runs per Parameter; ``state[p]["momentum_buffer"]`` holds ``b``.

    Args:
        params: a Layer/Module, an iterable of Parameters, or parameter groups.
        lr: learning rate (default 1e-3, as in PyTorch).
        momentum: momentum factor in [0, 1) (default 0).
        dampening: dampening for momentum in [0, 1] (default 0).
        weight_decay: L2 penalty factor (default 0).
        nesterov: Nesterov momentum; needs momentum > 0 and dampening 0.

    Example (two steps with the same gradient g: ``b = g``, then ``b = 0.9 * g + g``):
        >>> w = Parameter([1.0, -2.0])
        >>> optimizer = SGD([w], lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     w.grad = np.array([0.5, 4.0])
        ...     optimizer.step()                      # w -= 0.1 * b;  w.grad becomes None
        >>> w.data                                    # [1, -2] - 0.1 * (1 + 1.9) * [0.5, 4]
        array([ 0.855, -3.16 ], dtype=float32)
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    _state_arrays = ("momentum_buffer",)

    def _validate(self, group):
        super()._validate(group)
        self._real(group, "momentum", minimum=0, maximum=1, open_max=True)
        self._real(group, "dampening", minimum=0, maximum=1)
        self._bool(group, "nesterov")
        if group["nesterov"] and (group["momentum"] == 0 or group["dampening"] != 0):
            raise ValueError(f"{self._name}: nesterov=True needs momentum > 0 and dampening = 0, "
                             f"got momentum={group['momentum']!r}, dampening={group['dampening']!r}")

    def step(self):
        """Update every Parameter that has a gradient (plain SGD on a Layer: ``layer.step(lr)``)."""
        for group, layer in zip(self.param_groups, self._group_layers):
            if layer is not None and group["momentum"] == 0 and group["weight_decay"] == 0:
                layer.step(float(group["lr"]))
            else:
                self._step_group(group)

    def _update(self, p, state, group):
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        g = self._decayed_grad(p, group["weight_decay"])
        if momentum != 0:
            b = state.get("momentum_buffer")
            b = g.copy() if b is None else momentum * b + (1 - dampening) * g
            state["momentum_buffer"] = b
            g = g + momentum * b if group["nesterov"] else b
        p.data -= lr * g
