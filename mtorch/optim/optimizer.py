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


def check_number(owner, name, value, ok, expected, integer=False):
    """Raise ``ValueError`` naming ``owner`` unless ``value`` is a real number (an int if
    ``integer``) for which ``ok(value)`` holds. ``expected`` describes the valid values."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not ok(value):
        raise ValueError(f"{owner}: invalid {name}={value!r}, expected {expected}")


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
        validated (``ValueError`` naming the optimizer and the value).
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
        """Raise ``ValueError`` for an invalid hyper-parameter in ``group``; subclasses add checks."""
        self._check("lr", group["lr"], lambda v: v >= 0, "a number >= 0")
        if "weight_decay" in group:
            self._check("weight_decay", group["weight_decay"], lambda v: v >= 0, "a number >= 0")
        if "eps" in group:
            self._check("eps", group["eps"], lambda v: v >= 0, "a number >= 0")

    def _check(self, name, value, ok, expected):
        check_number(self._name, name, value, ok, expected)

    # ------------------------------------------------------------------ step
    def step(self):
        """Update every Parameter that has a gradient, then clear its gradient (it has been used).

        Parameters with ``grad is None`` (not used since the last step) are skipped.
        """
        for group in self.param_groups:
            self._step_group(group)

    def _step_group(self, group):
        for p in group["params"]:
            if p.grad is not None:
                self._update(p, self.state.setdefault(p, {}), group)
                p.grad = None

    @staticmethod
    def _decayed_grad(p, weight_decay):
        """``p.grad + weight_decay * p.data`` (the L2 penalty's gradient added; a new array),
        or ``p.grad`` itself when ``weight_decay`` is 0."""
        if weight_decay == 0:
            return p.grad
        g = p.data * weight_decay
        g += p.grad
        return g

    def _update(self, p, state, group):
        """Update ``p.data`` in place from ``p.grad``, ``state`` (this Parameter's dict) and ``group``."""
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

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and per-Parameter state saved by ``state_dict``.

        The optimizer must have been built over the same Parameters, in the
        same order and groups. Everything is checked first: on an error
        (``StateDictError``) nothing changes. Arrays are copied and cast to
        their Parameter's dtype.
        """
        problem = None
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            problem = "expected a dict with keys 'state' and 'param_groups'"
        elif len(state_dict["param_groups"]) != len(self.param_groups):
            problem = (f"it has {len(state_dict['param_groups'])} parameter groups, "
                       f"this optimizer has {len(self.param_groups)}")
        else:
            sizes = [len(g["params"]) for g in state_dict["param_groups"]]
            mine = [len(g["params"]) for g in self.param_groups]
            if sizes != mine:
                problem = f"its groups hold {sizes} Parameters, this optimizer's hold {mine}"
        if problem is None:
            params = {}
            for saved, group in zip(state_dict["param_groups"], self.param_groups):
                params.update(zip(saved["params"], group["params"]))
            new_state = {}
            for i, saved in state_dict["state"].items():
                if i not in params:
                    problem = f"state for Parameter index {i!r}, which no group holds"
                    break
                p = params[i]
                entry = {}
                for k, v in saved.items():
                    if isinstance(v, np.ndarray):
                        if v.shape != p.data.shape:
                            problem = (f"state {k!r} of Parameter {i} has shape {v.shape}, "
                                       f"the Parameter has shape {p.data.shape}")
                        v = np.array(v, dtype=p.data.dtype)
                    entry[k] = v
                new_state[p] = entry
        if problem is None:
            merged = [dict(group, **{k: v for k, v in saved.items() if k != "params"})
                      for saved, group in zip(state_dict["param_groups"], self.param_groups)]
            try:
                for group in merged:
                    self._validate(group)
            except ValueError as error:
                problem = str(error)
        if problem is not None:
            raise StateDictError(f"{self._name}.load_state_dict: {problem} (nothing was loaded)")
        for group, new in zip(self.param_groups, merged):
            group.update(new)
        self.state = new_state

    def __repr__(self):
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines + [")"])
