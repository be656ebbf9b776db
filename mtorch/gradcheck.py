"""Check a layer's (or loss's) backward against finite differences, in float64.

For a layer f and a fixed random upstream gradient g, the scalar
``s(x, params) = sum(f(x) * g)`` has ``ds/dx = backward(g)`` and
``ds/dparam = param.grad``. Each entry is compared with the central difference::

    ds/dz[i] ~ (s(z[i] + eps) - s(z[i] - eps)) / (2 eps)

whose error is O(eps^2) from truncation plus O(1e-16 / eps) from rounding,
about 1e-10 in float64 with eps = 1e-6. An entry passes when
``|analytic - numeric| <= atol + rtol * |numeric|`` (as ``numpy.allclose``).

For a loss, ``s = sum(loss(x, target).value)`` and the analytic gradient is ``.grad``;
for a loss of several inputs ``x`` is a tuple of them, in the order of the
loss's ``differentiable_inputs`` (``(x1, x2)`` for MarginRankingLoss,
``(input, var)`` for GaussianNLLLoss), and each is checked.
A layer with several inputs (``layer(a, b)``) is checked for each floating input.

Each gradient also gets one summary number, the relative error of the whole
array, ``||analytic - numeric|| / max(||analytic||, ||numeric||)`` (CS231n's
formula with norms): about 1e-8 or less when backward is right, near 1 when it
is wrong. With ``max_entries`` only a random sample of a large array's
entries is differenced (central differences cost two forwards per entry).

A layer's parameters are first moved to random values near their own (on
the copy that is checked; see ``mtorch.testing.randomize_parameters``): at a
LayerNorm's initial gamma of ones, a backward that forgets ``* gamma`` is
still right.
"""
import copy
import inspect
from dataclasses import dataclass

import numpy as np

from . import random as mrandom
from .errors import GradcheckError
from .layer import Layer


@dataclass
class GradientComparison:
    """One gradient's analytic values against finite differences.

    ``worst_index`` is where ``|analytic - numeric|`` exceeds its tolerance
    the most (or is largest, when all pass). ``rel_err`` is the relative
    error of the whole (checked part of the) array; ``checked`` counts the
    entries differenced (``numeric`` is NaN at the others), ``wrong`` those
    outside the tolerance.
    """
    name: str
    analytic: np.ndarray
    numeric: np.ndarray
    max_abs_err: float
    worst_index: tuple
    ok: bool
    problem: str = ""
    rel_err: float = float("inf")
    checked: int = 0
    wrong: int = 0

    def describe(self):
        mark = "ok  " if self.ok else "FAIL"
        if self.problem:
            return f"{mark} {self.name}: {self.problem}"
        i = self.worst_index
        return (f"{mark} {self.name}: rel err {self.rel_err:.2e}, max abs err {self.max_abs_err:.2e}, "
                f"{self.wrong} of {self.checked} entries wrong; worst at index {i}: analytic {self.analytic[i]:.6g}, numeric {self.numeric[i]:.6g}")


def _compare(name, analytic, numeric, checked, atol, rtol):
    """Compare ``analytic`` with ``numeric`` at the flat indices ``checked``."""
    if analytic is None:
        return GradientComparison(name, None, numeric, np.inf, (), False,
                                  "no gradient stored (still None after backward)")
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != numeric.shape:
        return GradientComparison(name, analytic, numeric, np.inf, (), False,
                                  f"gradient has shape {analytic.shape}, expected {numeric.shape}")
    if numeric.size == 0:
        return GradientComparison(name, analytic, numeric, 0.0, (), True, rel_err=0.0)
    a, n = analytic.reshape(-1)[checked], numeric.reshape(-1)[checked]
    err = np.abs(a - n)
    excess = err - (atol + rtol * np.abs(n))
    worst = tuple(int(i) for i in np.unravel_index(int(checked[np.argmax(excess)]), numeric.shape))
    norm = max(np.linalg.norm(a), np.linalg.norm(n))
    rel_err = float(np.linalg.norm(a - n) / norm) if norm > 0 else 0.0
    wrong = int(np.sum(~(excess <= 0)))                 # NaN or inf in the analytic gradient counts as wrong
    return GradientComparison(name, analytic, numeric, float(err.max()), worst, wrong == 0,
                              rel_err=rel_err, checked=int(checked.size), wrong=wrong)


def _entries_to_check(size, max_entries, rng):
    """All flat indices, or a sorted random sample of ``max_entries`` of them."""
    if max_entries is None or size <= max_entries:
        return np.arange(size)
    return np.sort(rng.choice(size, size=max_entries, replace=False))


def _numeric_gradient(scalar_fn, array, eps, entries):
    """Central differences of ``scalar_fn()`` with respect to ``array``'s flat ``entries``
    (perturbed in place); NaN at the entries not checked."""
    grad = np.full(array.shape, np.nan)
    flat, out = array.reshape(-1), grad.reshape(-1)
    for i in entries:
        original = flat[i]
        flat[i] = original + eps
        plus = scalar_fn()
        flat[i] = original - eps
        minus = scalar_fn()
        flat[i] = original
        out[i] = (plus - minus) / (2 * eps)
    return grad


def detached_copy(layer):
    """A deep copy of ``layer`` with no hooks (checks do not fire the user's hooks), no stored
    gradients, and every input gradient computed (``input_grad=True``), so all can be checked."""
    model = copy.deepcopy(layer)
    if isinstance(model, Layer):
        model.remove_hooks()
        model.zero_grad()
        for _, sub in model.named_layers():
            sub.input_grad = None
        model.input_grad = True
    return model


def _as_inputs(x, requires_grad):
    """The inputs as a tuple (float64 copies of the differentiable ones), and which those are.

    ``x`` is one array or a tuple/list of arrays (a layer with several inputs). By
    default an input is differentiated when it holds floats; integer and bool inputs
    (indices, masks) are passed as they are.
    """
    several = isinstance(x, (tuple, list))
    raw = [np.asarray(a) for a in (x if several else (x,))]
    if requires_grad is None:
        requires_grad = [a.dtype.kind == "f" for a in raw]
    elif isinstance(requires_grad, bool):
        requires_grad = [requires_grad] * len(raw)
    if len(requires_grad) != len(raw):
        raise ValueError(f"gradcheck: requires_grad has {len(requires_grad)} entries for {len(raw)} inputs")
    inputs = tuple(np.array(a, dtype=np.float64) if r else a for a, r in zip(raw, requires_grad))
    names = ["input"] if not several else [f"input {i}" for i in range(len(raw))]
    return inputs, list(requires_grad), names


def _input_grads(grad_in, n_inputs, names):
    """Backward's return value as one entry per input, or a ``GradientComparison`` problem text."""
    if n_inputs == 1:
        return [grad_in], None
    if not isinstance(grad_in, (tuple, list)) or len(grad_in) != n_inputs:
        got = f"a tuple of {len(grad_in)}" if isinstance(grad_in, (tuple, list)) else type(grad_in).__name__
        return [None] * n_inputs, (f"backward must return a tuple of {n_inputs} gradients, one per input "
                                   f"(None for an input that needs none), got {got}")
    return list(grad_in), None


def _loss_call(loss, x, target):
    """The float64 inputs ``loss`` differentiates, by name, and a function calling ``loss`` on them.

    ``x`` is the input, called as ``loss(x, target)``, or for a loss of several inputs a
    tuple in the order of ``loss.differentiable_inputs``, passed by name with the target
    (when the loss's ``forward`` takes one).
    """
    names, loss_name = loss.differentiable_inputs, type(loss).__name__
    takes_target = len(names) == 1 or "target" in inspect.signature(loss.forward).parameters
    if takes_target and target is None:
        raise ValueError(f"gradcheck of the loss {loss_name} needs its target: gradcheck(loss, x, target=t)")
    if len(names) == 1:
        inputs = {names[0]: np.array(x, dtype=np.float64)}
        return inputs, lambda: loss(inputs[names[0]], target)
    if not isinstance(x, (tuple, list)) or len(x) != len(names):
        raise ValueError(f"gradcheck of the loss {loss_name} takes x as a tuple ({', '.join(names)})")
    inputs = {name: np.array(a, dtype=np.float64) for name, a in zip(names, x)}
    if takes_target:
        return inputs, lambda: loss(**inputs, target=target)
    return inputs, lambda: loss(**inputs)


def compare_gradients(layer, x, eps=1e-6, atol=1e-5, rtol=1e-3, *, target=None, seed=0, max_entries=None,
                      requires_grad=None, randomize=True):
    """Compare every gradient of ``layer`` at input ``x``; returns a list of ``GradientComparison``.

    Works on a float64 deep copy without hooks, so ``layer`` itself is not
    changed. The global random state is replayed before every forward so
    dropout masks stay fixed, and restored at the end. ``max_entries``
    (default: all) caps how many entries of each array are differenced;
    the sample is drawn with ``seed``. ``x``, ``requires_grad`` and ``randomize``: see ``gradcheck``.
    """
    from .loss.base import Loss
    is_loss = isinstance(layer, Loss)
    if not is_loss and not isinstance(layer, Layer):
        raise TypeError(f"gradcheck takes a Layer or a Loss, got {type(layer).__name__}")
    rng_state = mrandom.get_rng_state()  # a new dict on every call
    try:
        if is_loss:
            model = copy.copy(layer)
            model.backward_func = None       # a deep copy would copy the whole model behind the hook
            inputs, call_loss = _loss_call(model, x, target)
            grads = call_loss().grad
            grads = grads if isinstance(grads, tuple) else (grads,)
            analytic = [(name, grad, array) for (name, array), grad in zip(inputs.items(), grads)]

            def scalar():
                mrandom.set_rng_state(rng_state)
                return float(np.sum(call_loss().value))
        else:
            model = detached_copy(layer).double()
            if randomize:
                from .testing.randomize import randomize_parameters
                randomize_parameters(model, seed)
            inputs, requires, names = _as_inputs(x, requires_grad)
            out = model(*inputs)
            upstream = np.random.default_rng(seed).standard_normal(np.shape(out))
            grads, problem = _input_grads(model.backward(upstream), len(inputs), names)
            analytic = [(name, grad, a) for name, grad, a, r in zip(names, grads, inputs, requires) if r]
            analytic += [(name, None if p.grad is None else p.grad.copy(), p.data)
                         for name, p in _unique(model.named_parameters())]

            def scalar():
                mrandom.set_rng_state(rng_state)
                return float(np.sum(model(*inputs) * upstream))
        sampler = np.random.default_rng(seed + 1)
        results = []
        for name, grad, array in analytic:
            entries = _entries_to_check(array.size, max_entries, sampler)
            numeric = _numeric_gradient(scalar, array, eps, entries)
            result = _compare(name, grad, numeric, entries, atol, rtol)
            if not is_loss and problem and name in names:
                result = GradientComparison(name, None, numeric, np.inf, (), False, problem)
            results.append(result)
        return results
    finally:
        mrandom.set_rng_state(rng_state)


def _unique(named_parameters):
    """``(name, Parameter)`` pairs with a Parameter shared under several names kept once (first name)."""
    seen = set()
    for name, p in named_parameters:
        if id(p) not in seen:
            seen.add(id(p))
            yield name, p


def gradcheck(layer, x, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, *, target=None, seed=0,
              max_entries=None, requires_grad=None, randomize=True):
    """Check the input gradient(s) and every parameter gradient of ``layer`` by finite differences.

    Args:
        layer: a Layer (any subclass, including your own) or a Loss.
        x: an input the layer accepts, or a tuple of inputs for a layer with several
            (``layer(*x)``; its backward returns one gradient per input) or for a loss of
            several inputs (in the order of its ``differentiable_inputs``).
        eps: finite-difference step.
        atol, rtol: an entry passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.
        raise_exception: raise ``GradcheckError`` on failure (default) instead of returning False.
        target: the target, when ``layer`` is a Loss that takes one (keyword only).
        seed: seed of the random upstream gradient.
        max_entries: difference at most this many entries of each array (default: all).
        requires_grad: which inputs to differentiate: a bool, or one per input. Default:
            the floating inputs; integer and bool inputs (an Embedding's indices, a mask)
            are passed unchanged and their gradient is not checked.
        randomize: check at random parameter values near the layer's own (default), where
            a forgotten scale shows; False checks at the layer's values. A layer limits the
            values with ``parameter_constraints`` (see ``mtorch.testing.randomize_parameters``).

    Returns:
        True when every gradient passes (False on failure if ``raise_exception=False``).

    Example:
        >>> mtorch.gradcheck(layers.Linear(3, 2), np.random.randn(4, 3))
        True
    """
    results = compare_gradients(layer, x, eps, atol, rtol, target=target, seed=seed, max_entries=max_entries,
                                requires_grad=requires_grad, randomize=randomize)
    if all(r.ok for r in results):
        return True
    if raise_exception:
        failed = ", ".join(r.name for r in results if not r.ok)
        lines = [f"gradcheck failed for {type(layer).__name__}: wrong gradient of {failed} "
                 f"(tolerance |a - n| <= {atol:g} + {rtol:g} * |n|)"]
        lines += ["  " + r.describe() for r in results]
        raise GradcheckError("\n".join(lines))
    return False
