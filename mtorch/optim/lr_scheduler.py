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
import numbers

import numpy as np

from ..errors import StateDictError
from ..validation import check_bool, check_choice, check_int, check_real
from .optimizer import Optimizer


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
        last_epoch = check_int(self._name, "last_epoch", last_epoch, minimum=-1)
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

    def _per_group(self, what, value, groups):
        """``value`` (one number >= 0, or one per parameter group) as a list with one per group."""
        values = list(value) if isinstance(value, (list, tuple)) else [value] * len(groups)
        if len(values) != len(groups):
            raise ValueError(f"{self._name}: {what} has {len(values)} values for "
                             f"{len(groups)} parameter groups")
        return [check_real(self._name, what, v, minimum=0) for v in values]

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
        """Restore a ``state_dict()`` of the same kind of scheduler, built with the same settings.

        All or nothing: the dict must have this scheduler's keys and, value by
        value, the same structure (numbers where it has numbers, lists of the
        same length, the same strings such as ``mode``); otherwise
        ``StateDictError`` and nothing changes.
        """
        expected = set(self.state_dict())
        if not isinstance(state_dict, dict) or set(state_dict) != expected:
            got = sorted(map(str, state_dict)) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise StateDictError(f"{self._name}.load_state_dict: expected keys {sorted(expected)}, "
                                 f"got {got} (nothing was loaded)")
        for key, value in self.state_dict().items():
            problem = _mismatch(value, state_dict[key], key)
            if problem:
                raise StateDictError(f"{self._name}.load_state_dict: {problem} (nothing was loaded)")
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
        self.step_size = check_int(self._name, "step_size", step_size, minimum=1)
        self.gamma = check_real(self._name, "gamma", gamma, minimum=0, open_min=True)
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
        if isinstance(milestones, (str, bytes, dict)) or not hasattr(milestones, "__iter__"):
            raise TypeError(f"{self._name}: milestones must be a list of ints >= 0, got {milestones!r}")
        milestones = [check_int(self._name, "milestones[]", m, minimum=0) for m in milestones]
        if milestones != sorted(milestones):
            raise ValueError(f"{self._name}: milestones must be increasing, got {milestones}")
        self.milestones = milestones
        self.gamma = check_real(self._name, "gamma", gamma, minimum=0, open_min=True)
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
        self.gamma = check_real(self._name, "gamma", gamma, minimum=0, open_min=True)
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
        self.T_max = check_int(self._name, "T_max", T_max, minimum=1)
        self.eta_min = check_real(self._name, "eta_min", eta_min, minimum=0)
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
            total_steps = (check_int(self._name, "epochs", epochs, minimum=1)
                           * check_int(self._name, "steps_per_epoch", steps_per_epoch, minimum=1))
        total_steps = check_int(self._name, "total_steps", total_steps, minimum=1)
        pct_start = check_real(self._name, "pct_start", pct_start, minimum=0, maximum=1)
        div_factor = check_real(self._name, "div_factor", div_factor, minimum=0, open_min=True)
        final_div_factor = check_real(self._name, "final_div_factor", final_div_factor, minimum=0, open_min=True)
        check_choice(self._name, "anneal_strategy", anneal_strategy, ("cos", "linear"))
        three_phase = check_bool(self._name, "three_phase", three_phase)
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
        self.cycle_momentum = check_bool(self._name, "cycle_momentum", cycle_momentum)
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
                    if phase["end_step"] == start:
                        raise ValueError(f"{self._name}: step {step} falls in phase {i + 1} of {len(self.phases)}, "
                                         f"which spans no steps (it ends at step {phase['end_step']:g} of "
                                         f"total_steps={self.total_steps}); choose pct_start so that every "
                                         f"phase spans at least one step")
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
        self.mode = check_choice(self._name, "mode", mode, ("min", "max"))
        self.threshold_mode = check_choice(self._name, "threshold_mode", threshold_mode, ("rel", "abs"))
        self.factor = check_real(self._name, "factor", factor, minimum=0, maximum=1, open_max=True)
        self.patience = check_int(self._name, "patience", patience, minimum=0)
        self.cooldown = check_int(self._name, "cooldown", cooldown, minimum=0)
        self.threshold = check_real(self._name, "threshold", threshold, minimum=0)
        self.eps = check_real(self._name, "eps", eps, minimum=0)
        self.min_lrs = self._per_group("min_lr", min_lr, optimizer.param_groups)
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
        current = _metric(self._name, metrics)
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


def _metric(owner, value):
    """The metric given to ``ReduceLROnPlateau.step`` as a float: a real number or a one-element array.

    NaN is accepted and, as in PyTorch, never counts as an improvement."""
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "biuf":
        value = value.reshape(()).item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}.step: metrics must be a number (e.g. the validation loss), "
                        f"got {value!r} ({type(value).__name__})")
    return float(value)


def _mismatch(mine, saved, where):
    """What makes ``saved`` unlike ``mine`` in structure (a description), or None when alike."""
    if isinstance(mine, (bool, np.bool_)):
        ok = isinstance(saved, (bool, np.bool_))
    elif isinstance(mine, numbers.Integral):
        ok = isinstance(saved, numbers.Integral) and not isinstance(saved, (bool, np.bool_))
    elif isinstance(mine, numbers.Real):
        ok = isinstance(saved, numbers.Real) and not isinstance(saved, (bool, np.bool_))
    elif isinstance(mine, str):
        if isinstance(saved, str) and saved != mine:
            return f"{where} is {saved!r}, this scheduler was built with {mine!r}"
        ok = isinstance(saved, str)
    elif isinstance(mine, (list, tuple, dict)):
        if type(saved) is not type(mine) or len(saved) != len(mine) or (
                isinstance(mine, dict) and set(saved) != set(mine)):
            return f"{where} must be a {type(mine).__name__} like {mine!r}, got {saved!r}"
        pairs = ((k, mine[k], saved[k]) for k in mine) if isinstance(mine, dict) else (
            (i, a, b) for i, (a, b) in enumerate(zip(mine, saved)))
        return next((p for p in (_mismatch(a, b, f"{where}[{k!r}]") for k, a, b in pairs) if p), None)
    else:
        ok = saved is None if mine is None else True
    return None if ok else f"{where} must be like {mine!r}, got {saved!r} ({type(saved).__name__})"
