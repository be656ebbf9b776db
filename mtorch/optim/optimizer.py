"""Optimizer: the base class of every update rule in ``mtorch.optim``.

An optimizer holds the Parameters to train, split into *parameter groups*
(dicts with ``"params"`` and the hyper-parameters such as ``"lr"``), and a
*state* per Parameter (moment estimates, step counts)::

    optimizer = Adam(model, lr=1e-3)         # a Layer/Module, or an iterable of Parameters
    for x, y in loader:
        loss = loss_func(model(x), y)
        loss.backward()                      # every layer adds its gradients to p.grad
        optimizer.step()                     # p.data <- update(p.data, p.grad, state[p]); p.grad = None

Parameter groups use different hyper-parameters for different Parameters,
exactly as in PyTorch::

    Adam([{"params": model[0].parameters(), "lr": 1e-2},
          {"params": model[2].parameters()}], lr=1e-3)

Learning-rate schedulers change ``group["lr"]`` between steps.
"""
import numbers

import numpy as np

from ..errors import StateDictError
from ..layer import Layer
from ..parameter import Parameter
from ..validation import check_bool, check_int, check_real


class Optimizer:
    """Base class: subclasses set their defaults and implement ``_update``.

    Args:
        params: a Layer (its ``parameters()`` are used), an iterable of
            Parameters, or an iterable of dicts (parameter groups) each with a
            ``"params"`` entry and optional per-group hyper-parameters.
        defaults: the hyper-parameters every group gets unless it sets its own.

    Attributes:
        param_groups (list of dict): ``group["params"]`` is a list of
            Parameters; the other keys are hyper-parameters (``"lr"``, ...).
        state (dict): Parameter -> dict of that Parameter's state (e.g.
            ``{"step": 3, "exp_avg": array}``), created at its first update.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = {}
        self._group_layers = []
        if isinstance(params, (Layer, Parameter)):
            groups = [{"params": params}]
        else:
            groups = self._listed(params, "params")
            if groups and not isinstance(groups[0], dict):
                groups = [{"params": groups}]
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self):
        return type(self).__name__

    def _listed(self, items, what):
        if isinstance(items, (np.ndarray, str, bytes, dict)):
            raise TypeError(f"{self._name}: {what} must be a Layer or an iterable of Parameters, "
                            f"got {type(items).__name__}")
        try:
            return list(items)
        except TypeError:
            raise TypeError(f"{self._name}: {what} must be a Layer or an iterable of Parameters, "
                            f"got {type(items).__name__}") from None

    def add_param_group(self, param_group):
        """Add a group ``{"params": Layer or Parameters, **hyper_parameters}``.

        Missing hyper-parameters are taken from ``defaults``; every value is
        validated (``TypeError`` for a wrong type, ``ValueError`` for a value
        out of range, naming the optimizer, the hyper-parameter and the value).
        """
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise TypeError(f"{self._name}: a parameter group is a dict with a 'params' entry, "
                            f"got {param_group!r}")
        source = param_group["params"]
        layer = source if isinstance(source, Layer) else None
        if layer is not None:           # parameters() lists a Parameter shared by two layers once
            params = list(layer.parameters())
        elif isinstance(source, Parameter):
            params = [source]
        else:
            params = self._listed(source, "params")
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"{self._name}: can only optimize Parameters, got {type(p).__name__}")
            if p.dtype.kind != "f":
                raise TypeError(f"{self._name}: can only optimize floating-point Parameters, got "
                                f"{p!r} (an update of integers would be rounded away)")
        if not params:
            raise ValueError(f"{self._name}: got an empty parameter list")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if len({id(p) for p in params}) != len(params) or seen & {id(p) for p in params}:
            raise ValueError(f"{self._name}: a Parameter appears more than once (in one group "
                             "or in several groups)")
        unknown = set(param_group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(f"{self._name}: unknown hyper-parameters {sorted(unknown)}; "
                             f"known: {sorted(self.defaults)}")
        group = dict(self.defaults)
        group.update((k, v) for k, v in param_group.items() if k != "params")
        self._validate(group)
        group["params"] = params
        self.param_groups.append(group)
        self._group_layers.append(layer)

    # ------------------------------------------------------------ validation
    def _validate(self, group):
        """Check the hyper-parameters in ``group`` and store them in their plain form (floats,
        bools); ``TypeError``/``ValueError`` from ``mtorch.validation``. Subclasses add theirs."""
        self._real(group, "lr", minimum=0)
        for name in ("weight_decay", "eps"):
            if name in group:
                self._real(group, name, minimum=0)

    def _real(self, group, name, **limits):
        """``group[name]`` checked as a number within ``limits`` (see ``check_real``), as a float."""
        group[name] = check_real(self._name, name, group[name], **limits)

    def _bool(self, group, name):
        group[name] = check_bool(self._name, name, group[name])

    # ------------------------------------------------------------------ step
    def step(self):
        """Update every Parameter that has a gradient, then clear its gradient (it has been used).

        Parameters with ``grad is None`` (not used since the last step) are skipped.
        """
        for group in self.param_groups:
            self._step_group(group)

    def _step_group(self, group):
        with np.errstate(all="ignore"):          # NaN and inf propagate silently, as in PyTorch
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, self.state.setdefault(p, {}), group)
                    p.grad = None

    @staticmethod
    def _decayed_grad(p, weight_decay):
        """``g + weight_decay * p``: the gradient with the L2 penalty's gradient added (a new
        array), or ``p.grad`` itself when ``weight_decay`` is 0."""
        if weight_decay == 0:
            return p.grad
        return p.grad + weight_decay * p.data

    def _update(self, p, state, group):
        """Apply the update rule to one Parameter: ``p.data`` in place (views of it stay valid),
        from ``p.grad``, ``state`` (this Parameter's dict, its arrays replaced by new ones) and
        ``group``. Written as the docstring's formula; ``p.grad`` is never modified (it may be
        shared)."""
        raise NotImplementedError(f"{self._name} must implement _update(p, state, group)")

    def zero_grad(self, set_to_none=True):
        """Clear every gradient (``p.grad = None``), or set it to zeros (``set_to_none=False``).

        ``step()`` already clears the gradients it has used, so the usual loop
        needs no ``zero_grad()``; call it to drop gradients that were
        accumulated but must not be applied (e.g. a GAN's discriminator
        gradients from the generator's step).
        """
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad = np.zeros_like(p.grad)

    # ------------------------------------------------------------ state dict
    def state_dict(self):
        """The optimizer's state as plain data (PyTorch's layout), with copies of all arrays.

        ``{"state": {index: {"step": 3, "exp_avg": array, ...}},
        "param_groups": [{"lr": 0.001, ..., "params": [0, 1, ...]}]}``, where
        Parameters are numbered in group order. ``mtorch.save`` can write it.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: v.copy() if isinstance(v, np.ndarray) else v
                                           for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    # Per-Parameter state: the arrays an update keeps (each of its Parameter's shape) and the
    # keys an existing entry must have (e.g. Adam's "step", "exp_avg", "exp_avg_sq").
    _state_arrays = ()

    def _required_state(self, group):
        return set()

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and per-Parameter state saved by ``state_dict``.

        The optimizer must have been built over the same Parameters, in the
        same order and groups. All or nothing: every value is checked and
        converted first (arrays copied and cast to their Parameter's dtype,
        hyper-parameters validated as in the constructor), and only then is
        anything written; on an error (``StateDictError``) nothing changes.
        """
        groups, state = self._converted(state_dict)
        for group, new in zip(self.param_groups, groups):
            group.update(new)
        self.state = state

    def _fail(self, problem):
        raise StateDictError(f"{self._name}.load_state_dict: {problem} (nothing was loaded)")

    def _converted(self, state_dict):
        """``(hyper-parameters per group, new state)`` from a state dict, or ``StateDictError``."""
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            self._fail(f"expected a dict with keys 'state' and 'param_groups', got {_kind(state_dict)}")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)) or not all(isinstance(g, dict) for g in saved_groups):
            self._fail(f"'param_groups' must be a list of dicts, got {_kind(saved_groups)}")
        if len(saved_groups) != len(self.param_groups):
            self._fail(f"it has {len(saved_groups)} parameter groups, this optimizer has {len(self.param_groups)}")
        params, groups, group_of = {}, [], {}
        for number, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            indices = saved.get("params")
            if (not isinstance(indices, (list, tuple))
                    or any(isinstance(i, bool) or not isinstance(i, numbers.Integral) for i in indices)):
                self._fail(f"group {number}'s 'params' must be a list of Parameter indices (ints), "
                           f"got {_kind(indices)}")
            if len(indices) != len(group["params"]):
                self._fail(f"its parameter group {number} holds {len(indices)} Parameters, this "
                           f"optimizer's holds {len(group['params'])}")
            merged = {k: v for k, v in group.items() if k != "params"}
            merged.update((k, v) for k, v in saved.items() if k != "params")
            if not all(isinstance(k, str) for k in merged):
                self._fail(f"group {number} has hyper-parameter names that are not strings")
            try:
                self._validate(merged)
            except (TypeError, ValueError) as error:
                self._fail(f"group {number}: {error}")
            groups.append(merged)
            for i, p in zip(indices, group["params"]):
                params[int(i)], group_of[int(i)] = p, merged
        if len(params) != sum(len(g["params"]) for g in self.param_groups):
            self._fail("a Parameter index appears more than once in 'param_groups'")
        if not isinstance(saved_state, dict):
            self._fail(f"'state' must be a dict, got {_kind(saved_state)}")
        state = {}
        for i, entry in saved_state.items():
            if isinstance(i, bool) or not isinstance(i, numbers.Integral) or int(i) not in params:
                self._fail(f"'state' has an entry for Parameter index {i!r}, which no group holds")
            state[params[int(i)]] = self._converted_entry(int(i), entry, params[int(i)], group_of[int(i)])
        return groups, state

    def _converted_entry(self, i, entry, p, group):
        """One Parameter's state, checked against what this optimizer keeps, with arrays copied."""
        required = self._required_state(group)
        if not isinstance(entry, dict):
            self._fail(f"the state of Parameter {i} must be a dict, got {_kind(entry)}")
        unknown = set(entry) - required - set(self._state_arrays)
        missing = required - set(entry)
        if unknown or missing:
            self._fail(f"the state of Parameter {i} has " + ", ".join(
                f"{what} keys {sorted(map(str, keys))}" for what, keys in (("unknown", unknown), ("missing", missing))
                if keys) + f"; {self._name} keeps {sorted(required | set(self._state_arrays))}")
        converted = {}
        for key, value in entry.items():
            if key == "step":
                try:
                    converted[key] = check_int(self._name, f"state {i} step", value, minimum=0)
                except (TypeError, ValueError) as error:
                    self._fail(str(error))
                continue
            try:
                array = np.array(value)
            except (TypeError, ValueError) as error:
                self._fail(f"state {key!r} of Parameter {i} is not an array ({error})")
            if array.dtype.kind not in "biuf" or array.shape != p.shape:
                self._fail(f"state {key!r} of Parameter {i} must be an array of real numbers of shape "
                           f"{p.shape} (the Parameter's), got {array.dtype} of shape {array.shape}")
            converted[key] = array.astype(p.dtype, copy=False)
        return converted

    def __repr__(self):
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines + [")"])


def _kind(value):
    return f"{type(value).__name__} {value!r}" if isinstance(value, (int, float, str)) else type(value).__name__
