"""Random parameter values for checks: a backward that forgets ``* gamma`` is right while gamma is 1.

Layers start with special values: normalisation scales at one, biases at
zero, sometimes an identity matrix. At those values some wrong backward
passes give the right numbers (``dL/dx = g`` instead of ``g * gamma``, a
missing transpose of a symmetric matrix), so the checks first move every
parameter to random values near its own.

A layer whose parameters must stay in a range says so with the class
attribute ``parameter_constraints``, a dict from the name of one of its own
parameters to a rule:

- ``"positive"``: values stay > 0 (each is multiplied by a random factor in [0.5, 2]; a value
  that is not positive yet becomes such a factor);
- ``"nonnegative"``: values stay >= 0;
- ``"fixed"``: the value is kept as it is (a mask, a frozen table);
- ``(low, high)``: uniform random values inside the open interval;
- a function ``f(data, rng) -> new data`` for anything else.

Example::

    class Temperature(Layer):
        parameter_constraints = {"tau": "positive"}      # forward divides by tau
"""
import numpy as np


def _moved(data, rng):
    """``data + N(0, s^2)`` with ``s`` half the array's root mean square (0.5 for an all-zero array)."""
    rms = float(np.sqrt(np.mean(np.square(data, dtype=np.float64)))) if data.size else 0.0
    return data + rng.standard_normal(data.shape) * (0.5 * rms if rms > 0 else 0.5)


def _constrained(data, rule, rng, where):
    if rule is None or rule == "any":
        return _moved(data, rng)
    if rule == "fixed":
        return data
    if rule == "positive":
        factor = np.exp(np.clip(0.35 * rng.standard_normal(data.shape), -np.log(2), np.log(2)))
        return np.where(data > 0, data, 1.0) * factor
    if rule == "nonnegative":
        return np.abs(_moved(data, rng))
    if callable(rule):
        return np.asarray(rule(data.copy(), rng))
    if isinstance(rule, (tuple, list)) and len(rule) == 2 and rule[0] < rule[1]:
        low, high = float(rule[0]), float(rule[1])
        margin = 0.1 * (high - low)
        return rng.uniform(low + margin, high - margin, data.shape)
    raise ValueError(f"{where}: parameter_constraints rule must be 'positive', 'nonnegative', 'fixed', "
                     f"'any', a (low, high) pair or a function f(data, rng), got {rule!r}")


def randomize_parameters(layer, seed=0):
    """Move every floating Parameter of ``layer`` (in place) to random values near its own.

    Each Parameter becomes ``data + N(0, s^2)`` entry by entry, ``s`` half the
    array's root mean square (0.5 for an all-zero array), unless its layer's
    ``parameter_constraints`` (see this module) gives another rule. A Parameter
    shared by several layers is moved once. The dtype is kept. Returns ``layer``.
    """
    rng = np.random.default_rng([seed, 7919])
    seen = set()
    for prefix, sub in layer.named_layers():
        rules = getattr(sub, "parameter_constraints", None) or {}
        own = dict(sub.named_parameters(recurse=False))
        unknown = [name for name in rules if name not in own]
        if unknown:
            raise ValueError(f"{type(sub).__name__}.parameter_constraints names {unknown}, which are not "
                             f"its parameters {list(own)}")
        for name, p in own.items():
            if id(p) in seen or p.data.dtype.kind != "f":
                continue
            seen.add(id(p))
            new = _constrained(p.data.astype(np.float64), rules.get(name), rng, type(sub).__name__)
            if np.shape(new) != p.data.shape:
                raise ValueError(f"{type(sub).__name__}.parameter_constraints[{name!r}] returned shape "
                                 f"{np.shape(new)} for a parameter of shape {p.data.shape}")
            p.data = np.asarray(new).astype(p.data.dtype)
    return layer
