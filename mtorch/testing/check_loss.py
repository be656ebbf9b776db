"""check_loss: the checks of ``check_layer`` that make sense for a loss, plus its classic mistake.

A loss ``forward(input, target)`` returns the value and dL/d(input)
together. The checks, one report line each:

- forward: calling the loss gives a result whose ``.value`` is a finite number
  and whose ``.grad`` has the input's shape.
- dtype: a float32 input gives a float32 gradient.
- input unchanged: neither the input nor the target is edited in place.
- gradient of input: ``.grad`` against float64 central differences of ``.value``.
- reference value / reference gradient (with ``reference=``): the same value and
  gradient as a reference loss.
- large inputs: logits of size 1000 still give a finite value and gradient
  (``exp(1000)`` overflows: subtract the maximum first, and take the log
  of the probabilities as ``z - log(sum(exp(z)))``).
"""
import numpy as np

from ..gradcheck import compare_gradients
from ..loss.base import Loss
from .check_layer import run_checks
from .checks import _hint, _index, _label
from .reference import is_torch_module
from .report import CheckResult, LayerReport


class LossContext:
    """The loss, its input (float64) and target, and the settings the checks share."""

    def __init__(self, loss, x64, target, **settings):
        self.loss, self.x64, self.target = loss, x64, target
        self.batch_size = x64.shape[0] if x64.ndim else None
        self.__dict__.update(settings)

    def x(self):
        return self.x64.astype(np.float32)

    def call(self, x):
        return self.loss(x, np.array(self.target, copy=True))


@_label("forward")
def forward(ctx):
    result = ctx.call(ctx.x())
    value, grad = getattr(result, "value", None), getattr(result, "grad", None)
    problems = []
    if value is None or np.ndim(value) != 0 or not np.isfinite(value):
        problems.append(f".value is {value!r}: expected one finite number (reduction='mean')")
    if not isinstance(grad, np.ndarray) or grad.shape != ctx.x64.shape:
        problems.append(f".grad is {type(grad).__name__} {np.shape(grad)}: expected dL/d(input), an array of "
                        f"the input's shape {ctx.x64.shape}")
    if problems:
        return CheckResult("forward", False, "; ".join(problems))
    ctx.ran = True
    return CheckResult("forward", True, f"value {float(value):.6g}, grad {grad.shape} {grad.dtype}")


@_label("dtype")
def dtype(ctx):
    grad = ctx.call(ctx.x()).grad
    if grad.dtype != np.float32:
        return CheckResult("dtype", False, f"dL/d(input) is {grad.dtype} for float32 input: a float64 value "
                                           f"promoted it (under NumPy 2 a float64 NumPy scalar does, e.g. "
                                           f"np.float64(n); use math functions or x.dtype.type(...))")
    return CheckResult("dtype", True, "float32 in, float32 gradient")


@_label("input unchanged")
def input_unchanged(ctx):
    x, target = ctx.x(), np.array(ctx.target, copy=True)
    ctx.loss(x, target)
    changed = [name for name, a, b in (("input", x, ctx.x()), ("target", target, ctx.target))
               if not np.array_equal(a, b)]
    if changed:
        return CheckResult("input unchanged", False, f"the loss changed its {' and '.join(changed)} in place; "
                                                     f"compute new arrays instead")
    return CheckResult("input unchanged", True, "input and target are left as they were")


@_label("gradient of input")
def gradient(ctx):
    cmp, = compare_gradients(ctx.loss, ctx.x64, eps=ctx.eps, atol=ctx.atol, rtol=ctx.rtol, target=ctx.target,
                             seed=ctx.seed)
    if cmp.problem:
        return CheckResult("gradient of input", False, cmp.problem)
    i = cmp.worst_index
    message = (f"rel err {cmp.rel_err:.1e}; worst at {_index(i)}: analytic {cmp.analytic[i] + 0:.6g}, "
               f"numeric {cmp.numeric[i] + 0:.6g}")
    if not cmp.ok:
        message += " <- " + _hint(cmp, ctx.batch_size)
    return CheckResult("gradient of input", cmp.ok, message,
                       {"rel_err": cmp.rel_err, "max_abs_err": cmp.max_abs_err, "worst_index": i,
                        "analytic": float(cmp.analytic[i]), "numeric": float(cmp.numeric[i]),
                        "wrong": cmp.wrong, "checked": cmp.checked})


def _reference_value_and_grad(reference, x64, target):
    """The reference's value and gradient (None when it gives only a value)."""
    if isinstance(reference, type):
        raise TypeError(f"reference: pass an instance such as {reference.__name__}(), not the class")
    if isinstance(reference, Loss):
        result = reference(x64.copy(), np.array(target, copy=True))
        return float(result.value), np.asarray(result.grad, np.float64)
    if is_torch_module(reference):
        import sys
        torch = sys.modules["torch"]
        x = torch.tensor(x64, dtype=torch.float64, requires_grad=True)
        t = torch.from_numpy(np.array(target, dtype=np.int64 if np.asarray(target).dtype.kind in "iu"
                                      else np.float64))
        value = reference(x, t)
        value.backward()
        return float(value.detach()), x.grad.numpy().copy()
    return float(reference(x64.copy(), np.array(target, copy=True))), None


@_label("reference value")
def reference(ctx):
    if ctx.reference is None:
        return []
    value, grad = _reference_value_and_grad(ctx.reference, ctx.x64, ctx.target)
    result = ctx.loss(ctx.x64.copy(), np.array(ctx.target, copy=True))
    got = float(result.value)
    ok = abs(got - value) <= ctx.atol + ctx.rtol * abs(value)
    lines = [CheckResult("reference value", ok, f"value {got:.6g}, reference {value:.6g}",
                         {"layer": got, "reference": value, "abs_err": abs(got - value)})]
    if grad is not None:
        mine = np.asarray(result.grad, np.float64)
        err = np.abs(mine - grad)
        wrong = ~(err <= ctx.atol + ctx.rtol * np.abs(grad))
        i = tuple(int(k) for k in np.unravel_index(int(np.argmax(err)), err.shape))
        text = (f"max abs err {err.max():.2e}, {int(wrong.sum())} of {err.size} entries differ; worst at "
                f"{_index(i)}: loss {mine[i]:.6g}, reference {grad[i]:.6g}")
        lines.append(CheckResult("reference gradient", not wrong.any(), text,
                                 {"max_abs_err": float(err.max()), "worst_index": i, "layer": float(mine[i]),
                                  "reference": float(grad[i]), "wrong": int(wrong.sum())}))
    return lines


@_label("large inputs")
def large_inputs(ctx):
    x = (ctx.x64 * 1000).astype(np.float32)
    with np.errstate(all="ignore"):
        result = ctx.call(x)
    value, grad = result.value, np.asarray(result.grad)
    bad_grad = int(np.sum(~np.isfinite(grad)))
    if bad_grad:
        return CheckResult("large inputs", False, f"inputs of size 1000 give {bad_grad} non-finite gradient "
                                                  f"entries (value {value}): exp overflows; subtract each "
                                                  f"row's maximum before exp")
    if not np.isfinite(value):
        return CheckResult("large inputs", False, f"inputs of size 1000 give the value {value}: log of a "
                                                  f"probability that rounded to 0; compute log p = z - "
                                                  f"log(sum(exp(z))) with z = x - max(x), not log(softmax)")
    return CheckResult("large inputs", True, "inputs of size 1000 give a finite value and gradient")


_CHECKS = (dtype, input_unchanged, gradient, reference, large_inputs)


def check_loss(loss, x=None, target=None, input_shape=(4, 5), *, reference=None, seed=0, eps=1e-6, atol=1e-5,
               rtol=1e-3, points=None, timeout=None, raise_on_failure=False, verbose=True, file=None):
    """Check a loss's value and gradient; print and return a ``LayerReport``.

    Args:
        loss: a ``mtorch.loss.Loss`` (yours or a built-in) with ``reduction='mean'``.
        x: the input (logits); default random normal of ``input_shape`` (times 2).
        target: the target; default random class indices ``(N, ...)`` for ``C = x.shape[1]`` classes.
        reference: a Loss, a ``torch.nn`` loss module, or a function ``f(input, target) -> value``.
        seed, eps, atol, rtol, points, timeout, raise_on_failure, verbose, file: as ``check_layer``.

    Example:
        >>> check_loss(CrossEntropyLoss(), reference=CrossEntropyLoss())
    """
    if not isinstance(loss, Loss):
        raise TypeError(f"check_loss takes a mtorch.loss.Loss, got {type(loss).__name__}")
    rng = np.random.default_rng(seed)
    x64 = rng.standard_normal(tuple(input_shape)) * 2 if x is None else np.array(x, dtype=np.float64)
    if target is None:
        target = rng.integers(0, x64.shape[1], x64.shape[:1] + x64.shape[2:])
    ctx = LossContext(loss, x64, np.asarray(target), reference=reference, seed=seed, eps=eps, atol=atol,
                      rtol=rtol, ran=False)
    report = LayerReport(repr(loss), title="check_loss", header=[
        f"input: {x64.shape} float32, target: {np.shape(target)} {np.asarray(target).dtype} "
        f"({'given' if x is not None else f'random, seed {seed}'})",
        f"gradients: float64 central differences, eps={eps:g}; an entry passes when "
        f"|analytic - numeric| <= {atol:g} + {rtol:g} * |numeric|"])
    return run_checks(report, ctx, forward, lambda: ctx.ran, _CHECKS, seed=seed, timeout=timeout, points=points,
                      verbose=verbose, file=file, raise_on_failure=raise_on_failure)
