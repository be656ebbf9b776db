"""Learning-rate schedulers: change ``group["lr"]`` of an optimizer as training goes on.

PyTorch's semantics: build the scheduler after the optimizer, call
``scheduler.step()`` once per epoch (or per batch for ``OneCycleLR``),
*after* ``optimizer.step()``::

    optimizer = SGD(model, lr=0.1, momentum=0.9)
    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(model, optimizer)
        scheduler.step()                  # lr = 0.1, then 0.01 from epoch 30, 0.001 from 60 ...
    scheduler.get_last_lr()               # [0.0001]

``last_epoch`` counts the ``step()`` calls (it is 0 right after
construction). Building a scheduler stores each group's starting
learning rate as ``group["initial_lr"]`` (the ``base_lrs``). Like PyTorch's,
the rules are *chainable*: each step multiplies or shifts the current
``group["lr"]``, so they compose with changes made from outside.

``state_dict()`` / ``load_state_dict()`` save and restore everything but the
optimizer, for ``mtorch.save`` checkpoints.
"""
import copy
import math

from ..errors import StateDictError
from .optimizer import Optimizer, check_number


class LRScheduler:
    """Base class: subclasses implement ``get_lr()`` -> the new lr of every group.

    Args:
        optimizer: the Optimizer whose ``param_groups[i]["lr"]`` are scheduled.
        last_epoch: the index of the last epoch, -1 to start afresh (default).
            To continue a run without a state dict, pass the epoch reached;
            the groups must then hold ``"initial_lr"``.
    """

    def __init__(self, optimizer, last_epoch=-1):
        self.optimizer = self._checked_optimizer(optimizer)
        self._check("last_epoch", last_epoch, lambda v: v >= -1, "an int >= -1", integer=True)
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        elif any("initial_lr" not in group for group in optimizer.param_groups):
            raise ValueError(f"{self._name}: last_epoch={last_epoch} continues a schedule, but the "
                             "optimizer's param_groups have no 'initial_lr' (load the optimizer's "
                             "state dict first, or start with last_epoch=-1)")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial = True
        self.step()
        self._initial = False

    @property
    def _name(self):
        return type(self).__name__

    def _check(self, what, value, ok, expected, integer=False):
        check_number(self._name, what, value, ok, expected, integer)

    def _per_group(self, what, value, groups):
        """``value`` (one number >= 0, or one per parameter group) as a list with one per group."""
        values = list(value) if isinstance(value, (list, tuple)) else [value] * len(groups)
        if len(values) != len(groups):
            raise ValueError(f"{self._name}: {what} has {len(values)} values for "
                             f"{len(groups)} parameter groups")
        for v in values:
            self._check(what, v, lambda x: x >= 0, "a number >= 0")
        return values

    def _checked_optimizer(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{self._name}: expected an mtorch Optimizer, got {type(optimizer).__name__}")
        return optimizer

    def get_lr(self):
        """The learning rate of each group for epoch ``self.last_epoch``; subclasses implement it."""
        raise NotImplementedError(f"{self._name} must implement get_lr()")

    def _current_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self):
        """Advance one epoch and write the new learning rates into the optimizer."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = float(lr)
        self._last_lr = self._current_lrs()

    def get_last_lr(self):
        """The learning rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self):
        """Everything the scheduler knows except the optimizer (copied), as plain data."""
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()`` of the same kind of scheduler (``StateDictError`` otherwise)."""
        expected = set(self.state_dict())
        if not isinstance(state_dict, dict) or set(state_dict) != expected:
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise StateDictError(f"{self._name}.load_state_dict: expected keys {sorted(expected)}, "
                                 f"got {got} (nothing was loaded)")
        self.__dict__.update(copy.deepcopy(state_dict))


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    ``lr(epoch) = base_lr * gamma ** (epoch // step_size)``

    Args:
        optimizer: the Optimizer to schedule.
        step_size: the period of the decay, in epochs (an int >= 1).
        gamma: the multiplicative factor (default 0.1).
        last_epoch: see ``LRScheduler``.
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self._check("step_size", step_size, lambda v: v >= 1, "an int >= 1", integer=True)
        self._check("gamma", gamma, lambda v: v > 0, "a number > 0")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each milestone epoch.

    ``lr(epoch) = base_lr * gamma ** (number of milestones <= epoch)``

    Args:
        optimizer: the Optimizer to schedule.
        milestones: increasing epoch indices (ints); a milestone listed twice
            multiplies by ``gamma**2``.
        gamma: the multiplicative factor (default 0.1).
        last_epoch: see ``LRScheduler``.
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        milestones = list(milestones)
        for m in milestones:
            self._check("milestone", m, lambda v: v >= 0, "ints >= 0", integer=True)
        if milestones != sorted(milestones):
            raise ValueError(f"{type(self).__name__}: milestones must be increasing, got {milestones}")
        self._check("gamma", gamma, lambda v: v > 0, "a number > 0")
        self.milestones, self.gamma = [int(m) for m in milestones], gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        hits = self.milestones.count(self.last_epoch)
        if hits == 0:
            return self._current_lrs()
        return [lr * self.gamma ** hits for lr in self._current_lrs()]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch: ``lr(epoch) = base_lr * gamma ** epoch``.

    Args:
        optimizer: the Optimizer to schedule.
        gamma: the multiplicative factor (> 0).
        last_epoch: see ``LRScheduler``.
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self._check("gamma", gamma, lambda v: v > 0, "a number > 0")
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    """Anneal the learning rate from ``base_lr`` to ``eta_min`` along half a cosine.

    ``lr(epoch) = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``

    reaching ``eta_min`` at ``epoch = T_max`` (beyond it the cosine continues
    and the rate rises again, as in PyTorch). Computed, like PyTorch, as the
    ratio of consecutive values times the current rate, so it chains with
    other changes.

    Args:
        optimizer: the Optimizer to schedule.
        T_max: epochs of the half period (an int >= 1).
        eta_min: the smallest learning rate (default 0).
        last_epoch: see ``LRScheduler``.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self._check("T_max", T_max, lambda v: v >= 1, "an int >= 1", integer=True)
        self._check("eta_min", eta_min, lambda v: v >= 0, "a number >= 0")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        epoch, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._initial:
            return self._current_lrs()
        if (epoch - 1 - T) % (2 * T) == 0:
            # the step after a minimum, where the ratio below would divide by zero
            return [lr + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for lr, base in zip(self._current_lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * epoch / T)) / (1 + math.cos(math.pi * (epoch - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in self._current_lrs()]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2018): warm up to ``max_lr``, then anneal far below.

    Stepped once per *batch*, for ``total_steps`` steps. With
    ``initial_lr = max_lr / div_factor`` and ``min_lr = initial_lr / final_div_factor``:

    - phase 1, steps 0 .. ``pct_start * total_steps - 1``: lr from initial_lr up
      to max_lr, momentum from max_momentum down to base_momentum;
    - phase 2, up to step ``total_steps - 1``: lr from max_lr down to min_lr,
      momentum back up to max_momentum.

    With ``three_phase=True`` phase 2 returns to initial_lr at
    ``2 * pct_start * total_steps - 2`` and a third phase anneals to min_lr.
    Each phase interpolates with ``anneal(start, end, pct)``: cosine
    ``end + (start - end) * (1 + cos(pi * pct)) / 2`` or linear.
    With ``cycle_momentum`` the momentum (SGD, RMSprop) or ``betas[0]`` (Adam)
    is scheduled too.

    Args:
        optimizer: the Optimizer to schedule.
        max_lr: peak learning rate, one number or one per group.
        total_steps: number of steps, or give ``epochs`` and ``steps_per_epoch``.
        pct_start: fraction of the steps spent warming up (default 0.3).
        anneal_strategy: ``"cos"`` (default) or ``"linear"``.
        cycle_momentum: also schedule the momentum (default True).
        base_momentum, max_momentum: momentum range (default 0.85, 0.95).
        div_factor: ``initial_lr = max_lr / div_factor`` (default 25).
        final_div_factor: ``min_lr = initial_lr / final_div_factor`` (default 1e4).
        three_phase: use the three-phase variant (default False).
        last_epoch: see ``LRScheduler``.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        optimizer = self._checked_optimizer(optimizer)
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError(f"{self._name}: give total_steps, or epochs and steps_per_epoch")
            self._check("epochs", epochs, lambda v: v >= 1, "an int >= 1", integer=True)
            self._check("steps_per_epoch", steps_per_epoch, lambda v: v >= 1, "an int >= 1", integer=True)
            total_steps = epochs * steps_per_epoch
        self._check("total_steps", total_steps, lambda v: v >= 1, "an int >= 1", integer=True)
        self._check("pct_start", pct_start, lambda v: 0 <= v <= 1, "a number in [0, 1]")
        self._check("div_factor", div_factor, lambda v: v > 0, "a number > 0")
        self._check("final_div_factor", final_div_factor, lambda v: v > 0, "a number > 0")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{self._name}: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.total_steps, self.anneal_strategy = total_steps, anneal_strategy
        warmup_end = float(pct_start * total_steps) - 1
        if three_phase:
            self.phases = [
                dict(end_step=warmup_end, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=float(2 * pct_start * total_steps) - 2, start_lr="max_lr",
                     end_lr="initial_lr", start_momentum="base_momentum", end_momentum="max_momentum"),
                dict(end_step=total_steps - 1, start_lr="initial_lr", end_lr="min_lr",
                     start_momentum="max_momentum", end_momentum="max_momentum"),
            ]
        else:
            self.phases = [
                dict(end_step=warmup_end, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=total_steps - 1, start_lr="max_lr", end_lr="min_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
            ]
        groups = optimizer.param_groups
        max_lrs = self._per_group("max_lr", max_lr, groups)
        if last_epoch == -1:
            for group, peak in zip(groups, max_lrs):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = bool(cycle_momentum)
        self.use_beta1 = "betas" in optimizer.defaults
        if self.cycle_momentum:
            if "momentum" not in optimizer.defaults and not self.use_beta1:
                raise ValueError(f"{self._name}: cycle_momentum=True needs an optimizer with momentum or "
                                 f"betas, {type(optimizer).__name__} has neither (pass cycle_momentum=False)")
            highs = self._per_group("max_momentum", max_momentum, groups)
            lows = self._per_group("base_momentum", base_momentum, groups)
            if last_epoch == -1:
                for group, high, low in zip(groups, highs, lows):
                    self._set_momentum(group, high)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group, momentum):
        if self.use_beta1:
            group["betas"] = (momentum,) + tuple(group["betas"][1:])
        else:
            group["momentum"] = momentum

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"{type(self).__name__}: stepped {step} times, but total_steps is "
                             f"{self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self.phases):
                if step <= phase["end_step"] or i == len(self.phases) - 1:
                    pct = (step - start) / (phase["end_step"] - start)
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[phase["start_momentum"]],
                                                               group[phase["end_momentum"]], pct))
                    break
                start = phase["end_step"]
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rate by ``factor`` when a metric stops improving.

    Call ``scheduler.step(metric)`` once per epoch with e.g. the validation
    loss. A value *improves* on the best so far when it is lower than
    ``best * (1 - threshold)`` (mode ``"min"``, threshold_mode ``"rel"``),
    lower than ``best - threshold`` (``"abs"``), or higher than
    ``best * (1 + threshold)`` / ``best + threshold`` in mode ``"max"``.
    After more than ``patience`` epochs without improvement,
    ``lr = max(lr * factor, min_lr)`` (skipped if the change is below
    ``eps``), then ``cooldown`` epochs pass before counting again.

    Args:
        optimizer: the Optimizer to schedule.
        mode: ``"min"`` (default) or ``"max"``.
        factor: multiplicative factor in [0, 1) (default 0.1).
        patience: epochs without improvement to tolerate (default 10).
        threshold: the smallest significant change (default 1e-4).
        threshold_mode: ``"rel"`` (default) or ``"abs"``.
        cooldown: epochs to wait after a reduction (default 0).
        min_lr: a lower bound, one number or one per group (default 0).
        eps: minimal change of lr worth applying (default 1e-8).
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        self.optimizer = self._checked_optimizer(optimizer)
        if mode not in ("min", "max"):
            raise ValueError(f"{self._name}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{self._name}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self._check("factor", factor, lambda v: 0 <= v < 1, "a number in [0, 1)")
        self._check("patience", patience, lambda v: v >= 0, "an int >= 0", integer=True)
        self._check("cooldown", cooldown, lambda v: v >= 0, "an int >= 0", integer=True)
        self._check("threshold", threshold, lambda v: v >= 0, "a number >= 0")
        self._check("eps", eps, lambda v: v >= 0, "a number >= 0")
        min_lrs = self._per_group("min_lr", min_lr, optimizer.param_groups)
        self.mode, self.factor, self.patience, self.threshold = mode, factor, patience, threshold
        self.threshold_mode, self.cooldown, self.min_lrs, self.eps = threshold_mode, cooldown, min_lrs, eps
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = self._current_lrs()

    def _is_better(self, value):
        if self.mode == "min":
            bound = self.best * (1 - self.threshold) if self.threshold_mode == "rel" else self.best - self.threshold
            return value < bound
        bound = self.best * (1 + self.threshold) if self.threshold_mode == "rel" else self.best + self.threshold
        return value > bound

    def step(self, metrics):
        """Record this epoch's metric (e.g. validation loss) and reduce the lr if it has plateaued."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, min_lr)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = self._current_lrs()
