"""The individual checks run by ``check_layer``.

Each check takes the shared ``Context`` (the layer, a way to get fresh
copies of it, the input and the settings) and returns one ``CheckResult`` or
a list of them. ``check_layer`` turns an exception raised inside a check into
a failed line naming the exception and where it was raised.
"""
import os
import traceback

import numpy as np

from .. import random as mrandom
from ..errors import BackwardBeforeForwardError, GradientError
from ..gradcheck import compare_gradients
from ..layer import Layer
from ..parameter import Parameter
from .report import CheckResult

_PLUMBING = (os.path.join("mtorch", "layer", ""), os.path.join("mtorch", "parameter.py"),
             os.path.join("mtorch", "gradcheck.py"), os.path.join("mtorch", "testing", "checks.py"))


def _label(label):
    """Name a check for the report (used when the check itself raises)."""
    def attach(check):
        check.label = label
        return check
    return attach


def _index(index):
    return "[" + ", ".join(str(i) for i in index) + "]"


def _first_difference(before, after):
    """``'3 of 12 entries, first at [0, 1]: 0.5 -> 0'`` for two arrays of one shape."""
    changed = before != after
    first = tuple(int(i) for i in np.argwhere(changed)[0])
    return (f"{int(changed.sum())} of {changed.size} entries, first at {_index(first)}: "
            f"{before[first]:.4g} -> {after[first]:.4g}")


def describe(error):
    """``'ValueError: message (in forward, my_layer.py:12)'`` at the innermost frame outside mtorch's plumbing."""
    frames = traceback.extract_tb(error.__traceback__)
    user = [f for f in frames if not any(own in f.filename for own in _PLUMBING)]
    frame = (user or frames)[-1]
    return (f"raised {type(error).__name__}: {error} "
            f"(in {frame.name}, {os.path.basename(frame.filename)}:{frame.lineno})")


def _max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)), initial=0.0))


def _replay(state, layer, inputs):
    """Run ``layer(*inputs)`` with mtorch's random generator set to ``state`` (same dropout masks)."""
    mrandom.set_rng_state(state)
    return layer(*inputs)


@_label("forward")
def forward(ctx):
    """The output is an array of the expected shape, finite."""
    y = ctx.fresh()(*ctx.inputs())
    if not isinstance(y, np.ndarray):
        return CheckResult("forward", False, f"returned {type(y).__name__}, expected a numpy array")
    ctx.y_shape = y.shape
    problems = []
    if ctx.expected_output_shape is not None and y.shape != tuple(ctx.expected_output_shape):
        problems.append(f"expected shape {tuple(ctx.expected_output_shape)}")
    if y.dtype.kind != "f":
        problems.append(f"expected floating-point values, got dtype {y.dtype}")
    elif not np.all(np.isfinite(y)):
        problems.append(f"{int(np.sum(~np.isfinite(y)))} entries are not finite")
    message = f"output {y.shape} {y.dtype}"
    if ctx.expected_output_shape is not None and not problems:
        message += ", as expected"
    return CheckResult("forward", not problems, "; ".join([message] + problems))


_PROMOTION = ("a float64 value promoted the {dtype} arrays: under NumPy 2 a float64 NumPy scalar does "
              "(x / np.sqrt(d), np.float64(...), np.exp(1.0)), and so does an array made without "
              "dtype= (np.zeros(shape), np.ones(shape)). Use math.sqrt(d) or x.dtype.type(...), and "
              "dtype=x.dtype")


@_label("dtype")
def dtype(ctx):
    """In the layer's dtype (float32) the output and the input gradients stay in that dtype."""
    layer, inputs = ctx.fresh(), ctx.inputs()
    y = layer(*inputs)
    wrong = [] if y.dtype == ctx.dtype else [f"the output is {y.dtype}"]
    numbers = {"output": str(y.dtype)}
    try:
        grads = ctx.input_grads(layer.backward(ctx.upstream(y.shape, y.dtype)))
    except Exception:
        grads = []
    for name, a, g, r in zip(ctx.input_names(), inputs, grads, ctx.requires):
        if r and isinstance(g, np.ndarray):
            numbers[f"dL/d({name})"] = str(g.dtype)
            if g.dtype != a.dtype:
                wrong.append(f"dL/d({name}) is {g.dtype}")
    if wrong:
        return CheckResult("dtype", False, f"{' and '.join(wrong)} for {ctx.dtype} input and parameters: "
                                           + _PROMOTION.format(dtype=ctx.dtype), numbers)
    if not any(ctx.requires):
        return CheckResult("dtype", True, f"{ctx.dtype} out, the parameters' dtype", numbers)
    return CheckResult("dtype", True, f"{ctx.dtype} in, {ctx.dtype} out and back", numbers)


@_label("double()")
def double(ctx):
    """After ``double()`` a float64 input gives a float64 output (gradient checks need it)."""
    y = ctx.fresh().double()(*ctx.inputs64())
    if y.dtype != np.float64:
        return CheckResult("double()", False, f"float64 input gave {y.dtype} output: compute in the "
                                              f"parameters' dtype (check_input does) so gradient checks "
                                              f"can use float64")
    return CheckResult("double()", True, "float64 input, float64 output")


@_label("input unchanged")
def inputs_unchanged(ctx):
    """Neither forward nor backward edits the arrays passed to them."""
    layer, xs, original = ctx.fresh(), ctx.inputs(), ctx.inputs()
    y = layer(*xs)
    results = []
    changed = _changed_input(xs, original)
    if changed:
        results.append(CheckResult("input unchanged", False,
                                   f"forward changed {changed}; compute a new array instead "
                                   f"(np.maximum(x, 0), x * mask, not x[...] = ...)"))
    g = ctx.upstream(y.shape, y.dtype)
    g_before = g.copy()
    try:
        layer.backward(g)
    except Exception:
        return results or [CheckResult("input unchanged", True, "forward leaves x as it was "
                                                                "(backward raised: see the backward line)")]
    changed = _changed_input(xs, original)
    if not results and changed:
        results.append(CheckResult("input unchanged", False, f"backward changed {changed} (the array "
                                                             f"forward cached)"))
    if not results:
        results.append(CheckResult("input unchanged", True, "forward and backward leave x as it was"))
    if np.array_equal(g, g_before):
        results.append(CheckResult("grad_out unchanged", True, "backward leaves grad_out as it was"))
    else:
        results.append(CheckResult("grad_out unchanged", False,
                                   f"backward changed grad_out in place at {_first_difference(g_before, g)}; "
                                   f"the caller may still need it"))
    return results


def _changed_input(inputs, original):
    """``'x in place at 3 of 12 entries, ...'`` for the first input that differs from its original, or ''."""
    for i, (a, b) in enumerate(zip(inputs, original)):
        if not np.array_equal(a, b):
            name = "x" if len(inputs) == 1 else f"input {i}"
            return f"{name} in place at {_first_difference(b, a)}"
    return ""


def _attributes(layer):
    """``{(sub-layer name, attribute): value}`` for the plain attributes of every sub-layer."""
    return {(prefix, attr): value for prefix, sub in layer.named_layers()
            for attr, value in sub.attributes().items()}


def forward_writes(ctx):
    """The attributes a forward assigns (the caches), and the plain attributes it leaves alone."""
    layer = ctx.fresh()
    before = _attributes(layer)
    layer(*ctx.inputs())
    after = _attributes(layer)
    written = {k: before.get(k) for k, v in after.items() if k not in before or before[k] is not v}
    kept = {k: v for k, v in before.items() if k not in written}
    return written, kept


def _dotted(key):
    prefix, attr = key
    return f"{prefix}.{attr}" if prefix else attr


@_label("backward before forward")
def backward_before_forward(ctx):
    """A fresh layer refuses backward (best with ``BackwardBeforeForwardError``, whose message says why)."""
    name = "backward before forward"
    written, _ = forward_writes(ctx)
    stale = [_dotted(k) for k, v in written.items() if v is not None]
    if stale:
        return CheckResult(name, None, f"not checked: the layer has run before (it holds a cache in "
                                       f"{', '.join(stale[:3])}); check a new instance for this")
    try:
        ctx.fresh().backward(ctx.upstream(ctx.y_shape, ctx.dtype))
    except BackwardBeforeForwardError:
        return CheckResult(name, True, "refused with BackwardBeforeForwardError")
    except Exception as error:
        return CheckResult(name, True, f"refused with {type(error).__name__}: {error}; tip: begin backward "
                                       f"with self.check_grad_out(grad_out, None if nothing is cached else "
                                       f"the output's shape) so the error says what is wrong")
    return CheckResult(name, False, "backward ran on a fresh layer: it must raise BackwardBeforeForwardError")


@_label("backward")
def backward_and_step(ctx):
    """dL/dx has x's shape; backward stores gradients without applying them; step applies them."""
    layer, xs = ctx.fresh(), ctx.inputs()
    y = layer(*xs)
    before = {name: p.data.copy() for name, p in layer.named_parameters()}
    try:
        dx = layer.backward(ctx.upstream(y.shape, y.dtype))
    except BackwardBeforeForwardError as error:
        return CheckResult("backward", False, describe(error) + " <- right after a forward: does forward "
                                                                "cache what backward needs (self._x = x)?")
    results = [_backward_shape(ctx, xs, dx)]
    if not before:
        return results + [CheckResult("backward stores grads", None, "no parameters"),
                          CheckResult("step(lr)", None, "no parameters")]
    params = dict(layer.named_parameters())
    moved = [n for n, p in params.items() if not np.array_equal(p.data, before[n])]
    if moved:
        results.append(CheckResult("backward stores grads", False,
                                   f"backward changed {', '.join(moved)}: backward only stores p.grad, "
                                   f"step(lr) or an optimizer applies it"))
    else:
        results.append(CheckResult("backward stores grads", True,
                                   f"{len(params)} parameters unchanged by backward"))
    start = {n: p.data.copy() for n, p in params.items()}
    grads = {n: p.grad for n, p in params.items() if p.grad is not None}
    try:
        layer.step(ctx.lr)
    except Exception as error:
        return results + [CheckResult("step(lr)", False, describe(error))]
    wrong = [n for n in params if n in grads and
             not np.allclose(params[n].data, start[n] - ctx.lr * grads[n], rtol=1e-4, atol=1e-6)]
    unmoved = [n for n in params if n not in grads]
    if wrong or unmoved:
        parts = [f"{n} did not become p - lr * p.grad" for n in wrong]
        parts += [f"{n} has no gradient (p.grad is None)" for n in unmoved]
        results.append(CheckResult("step(lr)", False, "; ".join(parts)))
    else:
        results.append(CheckResult("step(lr)", True, f"every parameter moved by -lr * grad (lr={ctx.lr:g})"))
    return results


def _backward_shape(ctx, xs, dx):
    """One gradient per input, each of its input's shape; None (or zeros) where no gradient is needed."""
    try:
        grads = ctx.input_grads(dx)
    except TypeError as error:
        return CheckResult("backward shape", False, str(error))
    problems, shown = [], []
    for name, a, g, r in zip(ctx.input_names(), xs, grads, ctx.requires):
        if not r:
            if g is not None and not (np.shape(g) == a.shape and not np.any(g)):
                why = f"{a.dtype} input" if a.dtype.kind != "f" else "an input with requires_grad False"
                problems.append(f"dL/d({name}) should be None: {why} has no gradient")
            shown.append(f"no dL/d({name}), as it should")
        elif not isinstance(g, np.ndarray):
            problems.append(f"dL/d({name}) is {type(g).__name__}: backward must return dL/d({name}), an array")
        elif g.shape != a.shape:
            problems.append(f"dL/d({name}) has shape {g.shape}, the input {a.shape}")
        else:
            shown.append(f"dL/d({name}) {g.shape}, like the input")
    if problems:
        return CheckResult("backward shape", False, "; ".join(problems))
    return CheckResult("backward shape", True, "; ".join(shown).replace("d(input)", "dx"))


def _hint(cmp, batch):
    """A guess at what is wrong with a failed gradient."""
    if cmp.problem:
        return cmp.problem
    checked = np.isfinite(cmp.numeric)
    a, n = cmp.analytic[checked], cmp.numeric[checked]
    if not np.any(a):
        return "the analytic gradient is all zeros"
    hint = f"wrong at {cmp.wrong} of {cmp.checked} entries"
    nn = float(n @ n)
    if nn > 0:
        scale = float(a @ n) / nn
        if np.linalg.norm(a - scale * n) <= 1e-3 * np.linalg.norm(a) and abs(scale - 1) >= 1e-3:
            if abs(scale + 1) < 1e-3:
                hint += "; the sign is flipped"
            elif batch and (abs(scale - batch) < 1e-3 * batch or abs(scale * batch - 1) < 1e-3):
                hint += f"; analytic = {scale:.4g} x numeric: a factor of the batch size N={batch}"
            else:
                hint += f"; analytic = {scale:.4g} x numeric"
    return hint


@_label("gradients")
def gradients(ctx):
    """Input and parameter gradients against float64 central differences (``compare_gradients``)."""
    x = ctx.inputs64()
    comparisons = compare_gradients(ctx.fresh(), x[0] if ctx.single else x, eps=ctx.eps, atol=ctx.atol,
                                    rtol=ctx.rtol, seed=ctx.seed, max_entries=ctx.max_entries,
                                    requires_grad=ctx.requires, randomize=False)
    results = []
    for cmp in comparisons:
        name = f"gradient of {cmp.name}"
        if cmp.problem:
            fix = ("backward must return dL/dx with the input's shape" if cmp.name.startswith("input") else
                   "p.grad must have the parameter's shape: summed over the wrong axis?")
            results.append(CheckResult(name, False, f"{cmp.problem} <- {fix}"))
            continue
        if cmp.numeric.size == 0:
            results.append(CheckResult(name, None, "empty array"))
            continue
        i = cmp.worst_index
        message = (f"rel err {cmp.rel_err:.1e}; worst at {_index(i)}: analytic {cmp.analytic[i] + 0:.6g}, "
                   f"numeric {cmp.numeric[i] + 0:.6g}")
        if cmp.checked < cmp.numeric.size:
            message += f" ({cmp.checked} of {cmp.numeric.size} entries sampled)"
        if not cmp.ok:
            message += " <- " + _hint(cmp, ctx.batch_size)
        numbers = {"rel_err": cmp.rel_err, "max_abs_err": cmp.max_abs_err, "worst_index": i,
                   "analytic": float(cmp.analytic[i]), "numeric": float(cmp.numeric[i]),
                   "wrong": cmp.wrong, "checked": cmp.checked}
        results.append(CheckResult(name, cmp.ok, message, numbers))
    return results


@_label("backward uses latest forward")
def latest_forward(ctx):
    """forward(x_other), forward(x), backward(g) gives the gradients of forward(x), backward(g)."""
    state = mrandom.get_rng_state()
    g = ctx.upstream(ctx.y_shape, np.float64)
    reused, fresh = ctx.fresh().double(), ctx.fresh().double()
    _replay(state, reused, ctx.others64())
    _replay(state, reused, ctx.inputs64())
    _replay(state, fresh, ctx.inputs64())
    diffs = {}
    pairs = zip(ctx.input_names(), ctx.input_grads(reused.backward(g)), ctx.input_grads(fresh.backward(g)))
    for name, a, b in pairs:
        if a is not None and b is not None:
            diffs[name] = _max_diff(a, b)
    for (name, p), (_, q) in zip(reused.named_parameters(), fresh.named_parameters()):
        if p.grad is not None and q.grad is not None:
            diffs[name] = _max_diff(p.grad, q.grad)
    bad = {n: d for n, d in diffs.items() if d > 1e-8}
    if bad:
        return CheckResult("backward uses latest forward", False,
                           "after forward(x_other), forward(x), backward gives other gradients than "
                           "forward(x), backward (" + ", ".join(f"{n} differs by {d:.3g}" for n, d in bad.items())
                           + "): backward must use what the latest forward cached")
    return CheckResult("backward uses latest forward", True,
                       "forward(x_other), forward(x), backward: the gradients of x")


def _param_grads(layer):
    return {name: None if p.grad is None else p.grad.copy() for name, p in layer.named_parameters()}


@_label("shared weights add up")
def shared_weights(ctx):
    """Two instances sharing Parameters (``layer.share()``) end backward with the sum of both gradients."""
    name = "shared weights add up"
    if next(ctx.layer.parameters(), None) is None:
        return CheckResult(name, None, "no parameters")
    state = mrandom.get_rng_state()
    g1, g2 = ctx.upstream(ctx.y_shape, np.float64), ctx.upstream(ctx.y_shape, np.float64, offset=11)
    alone = []
    for inputs, g in ((ctx.inputs64(), g1), (ctx.others64(), g2)):
        layer = ctx.fresh().double()
        _replay(state, layer, inputs)
        layer.backward(g)
        alone.append(_param_grads(layer))
    first = ctx.fresh().double()
    second = first.share()
    _replay(state, first, ctx.inputs64())
    _replay(state, second, ctx.others64())
    first.backward(g1)
    try:
        second.backward(g2)
    except GradientError as error:
        return CheckResult(name, False, f"the second use's backward {describe(error)}")
    problems = []
    for key, got in _param_grads(first).items():
        a, b = alone[0][key], alone[1][key]
        if a is None or b is None or got is None:
            continue
        if np.allclose(got, a + b, rtol=1e-7, atol=1e-10):
            continue
        if np.allclose(got, b, rtol=1e-7, atol=1e-10):
            problems.append(f"{key}.grad holds only the second use's gradient (the first was overwritten)")
        elif np.allclose(got, a, rtol=1e-7, atol=1e-10):
            problems.append(f"{key}.grad holds only the first use's gradient")
        else:
            problems.append(f"{key}.grad is not the sum of both uses' gradients (off by {_max_diff(got, a + b):.3g})")
    if problems:
        return CheckResult(name, False, "; ".join(problems) + " <- backward must add: p.add_grad(g), "
                                                              "not p.grad = g")
    return CheckResult(name, True, "layer and layer.share() on two inputs: each parameter's gradient "
                                   "is the sum of both")


@_label("layers used once")
def layers_used_once(ctx):
    """In a container, no layer instance appears twice (its cache would be overwritten)."""
    places = {}
    for name, sub in ctx.layer.named_layers(remove_duplicate=False):
        places.setdefault(id(sub), (sub, []))[1].append(name or "(top)")
    if len(places) == 1:
        return []
    repeated = [(sub, names) for sub, names in places.values() if len(names) > 1]
    if repeated:
        parts = [f"{sub._short_repr()} is used at {' and '.join(names)}" for sub, names in repeated]
        return CheckResult("layers used once", False,
                           "; ".join(parts) + ": each call overwrites the cache of the one before, so "
                           "backward through the earlier use reads the later input. Create one instance per use")
    return CheckResult("layers used once", True, f"{len(places) - 1} sub-layers, each used once")


@_label("parameters registered")
def registered(ctx):
    """No float array attribute outside the caches (what forward assigns) is left unregistered."""
    _, kept = forward_writes(ctx)
    problems = []
    for key, value in kept.items():
        if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating) and value.size > 0:
            problems.append(f"{_dotted(key)} is a plain array: wrap weights in Parameter(...) "
                            f"(or register_buffer for statistics)")
        elif isinstance(value, (list, tuple, dict)) and any(
                isinstance(v, (Parameter, Layer)) for v in (value.values() if isinstance(value, dict) else value)):
            problems.append(f"{_dotted(key)} holds Parameters/Layers in a {type(value).__name__}: they are "
                            f"not registered; assign each as its own attribute")
    if problems:
        return CheckResult("parameters registered", False, "; ".join(problems))
    names = [n for n, _ in ctx.layer.named_parameters()]
    return CheckResult("parameters registered", True,
                       f"{len(names)} parameters: {', '.join(names)}" if names else "no parameters")


@_label("state_dict round trip")
def state_dict(ctx):
    """``state_dict`` holds every parameter and buffer; loading it into a changed copy restores the output."""
    source, target = ctx.fresh(), ctx.fresh()
    state = source.state_dict()
    missing = [n for n, _ in source.named_parameters() if n not in state]
    if missing:
        return CheckResult("state_dict round trip", False, f"state_dict misses {', '.join(missing)}")
    for p in target.parameters():
        p.data = p.data + 1.0
    for _, b in target.named_buffers():
        if np.issubdtype(b.dtype, np.floating):
            b += 1.0
    target.load_state_dict(state)
    differ = [k for k, v in target.state_dict().items() if not np.array_equal(v, state[k])]
    source.eval(), target.eval()
    rng_state = mrandom.get_rng_state()
    out_diff = _max_diff(_replay(rng_state, source, ctx.inputs()), _replay(rng_state, target, ctx.inputs()))
    if differ or out_diff > 0:
        return CheckResult("state_dict round trip", False,
                           f"after load_state_dict, {', '.join(differ) or 'the output'} differ "
                           f"(output differs by {out_diff:.3g})")
    return CheckResult("state_dict round trip", True,
                       f"{len(state)} entries loaded into a changed copy give the same output")


@_label("batch independence")
def batch_independence(ctx):
    """Changing the other samples leaves sample 0's output unchanged (eval mode; train mode unless declared)."""
    name = "batch independence"
    if ctx.batch_size is None or ctx.batch_size < 2:
        return CheckResult(name, None, "batch of 1 sample")
    independent = all(sub.batch_independent for _, sub in ctx.layer.named_layers())
    modes = ["train", "eval"] if independent else ["eval"]
    mixed = []
    for a, other in zip(ctx.inputs64(), ctx.others64()):
        if a.ndim > ctx.batch_axis and a.shape[ctx.batch_axis] == ctx.batch_size:
            rest = [slice(None)] * a.ndim
            rest[ctx.batch_axis] = slice(1, None)
            a[tuple(rest)] = other[tuple(rest)]
        mixed.append(a)
    state = mrandom.get_rng_state()
    diffs = {}
    for mode in modes:
        layer = ctx.fresh().double().train(mode == "train")
        first = _replay(state, layer, ctx.inputs64()).take(0, axis=ctx.batch_axis)
        second = _replay(state, layer, mixed).take(0, axis=ctx.batch_axis)
        diffs[mode] = _max_diff(first, second)
    bad = [m for m, d in diffs.items() if d > 1e-10]
    n_other = ctx.batch_size - 1
    if bad:
        return CheckResult(name, False,
                           f"sample 0's output changes by {max(diffs[m] for m in bad):.3g} when the other "
                           f"{n_other} samples change ({' and '.join(bad)} mode); if the layer mixes the "
                           f"batch on purpose, set the class attribute batch_independent = False")
    message = f"sample 0's output unchanged when the other {n_other} change ({' and '.join(modes)} mode)"
    if not independent:
        message += "; train mode not checked: the layer declares batch_independent = False"
    return CheckResult(name, True, message)


@_label("train/eval")
def train_eval(ctx):
    """Whether train and eval outputs differ; eval is deterministic and changes no state."""
    state = mrandom.get_rng_state()
    layer = ctx.fresh()
    y_train = _replay(state, layer.train(), ctx.inputs())
    layer.eval()
    saved = layer.state_dict()
    y_eval = _replay(state, layer, ctx.inputs())
    mrandom.generator().random(17)
    y_eval2 = layer(*ctx.inputs())
    changed = [k for k, v in layer.state_dict().items() if not np.array_equal(v, saved[k])]
    problems = []
    if not np.array_equal(y_eval, y_eval2):
        problems.append(f"two eval forwards differ by {_max_diff(y_eval, y_eval2):.3g} "
                        f"(randomness in eval mode? check self.training)")
    if changed:
        problems.append(f"an eval forward changed {', '.join(changed)} (state must only change in training)")
    diff = _max_diff(y_train, y_eval)
    mode = f"train and eval outputs differ (max {diff:.3g})" if diff > 0 else "same output in train and eval mode"
    if problems:
        return CheckResult("train/eval", False, "; ".join([mode] + problems))
    return CheckResult("train/eval", True, mode + "; eval is deterministic and changes no state")
