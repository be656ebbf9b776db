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

    Example:
        >>> optimizer = SGD(module, lr=0.1)
        >>> loss_func(module(x), y).backward()
        >>> optimizer.step()
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
        momentum, dampening, weight_decay = group["momentum"], group["dampening"], group["weight_decay"]
        d_p = self._decayed_grad(p, weight_decay)
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = d_p.copy()
            else:
                buf *= momentum
                buf += d_p if dampening == 0 else (1 - dampening) * d_p
            if group["nesterov"]:
                nesterov_d_p = buf * momentum
                nesterov_d_p += d_p
                d_p = nesterov_d_p
            else:
                d_p = buf
        p.data -= float(group["lr"]) * d_p
