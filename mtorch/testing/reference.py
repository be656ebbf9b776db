"""Compare a layer with a reference implementation that is given the same parameters.

Finite differences only say that backward is the derivative of forward; a
forward that computes the wrong function (RMSNorm handed in as LayerNorm)
with a matching backward passes them. A reference says what the function is.
``check_layer(layer, reference=...)`` accepts:

- an mtorch ``Layer`` instance (a built-in, or a teacher's solution): the
  layer's state dict (after ``randomize_parameters``) is loaded into a float64
  copy of it; outputs, input and parameter gradients, buffers after a training
  forward, and the eval output after it are compared;
- a ``torch.nn.Module`` (when torch is installed): the same, in float64, with
  PyTorch computing the gradients (a module returning a tuple is compared by
  its first element);
- a function ``reference(state_dict, *inputs)`` returning the output, in
  float64 (``state_dict`` maps the layer's parameter and buffer names to
  float64 arrays): the training-mode output is compared; the gradients then
  follow from the finite-difference checks.

Entries match when ``|layer - reference| <= atol + rtol * |reference|``, with
check_layer's tolerances. mtorch never imports torch: a torch module is
recognised by its class, and torch is used only when the caller has imported it.
"""
import copy
import sys

import numpy as np

from .. import random as mrandom
from ..errors import StateDictError
from ..layer import Layer
from .checks import _index, _label, _replay
from .report import CheckResult


def is_torch_module(obj):
    """Whether ``obj`` is a ``torch.nn.Module`` (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def _compare(got, expected, atol, rtol, what):
    """A ``CheckResult`` comparing two arrays entry by entry (``got`` is the layer's)."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    if got.shape != expected.shape:
        return None, f"{what} has shape {got.shape}, the reference's {expected.shape}", {}
    if got.size == 0:
        return True, "", {}
    err = np.abs(got - expected)
    excess = err - (atol + rtol * np.abs(expected))
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.nan_to_num(excess, nan=np.inf))), got.shape))
    wrong = int(np.sum(~(excess <= 0)))
    numbers = {"max_abs_err": float(np.max(err)), "worst_index": worst, "layer": float(got[worst]),
               "reference": float(expected[worst]), "wrong": wrong, "checked": int(got.size)}
    text = (f"{what}: max abs err {numbers['max_abs_err']:.2e}, {wrong} of {got.size} entries differ; worst at "
            f"{_index(worst)}: layer {got[worst]:.6g}, reference {expected[worst]:.6g}")
    return wrong == 0, text, numbers


class _Outcome:
    """What one run of the reference gave: output, input gradients, parameter gradients, state."""

    def __init__(self, output, input_grads=None, param_grads=None, state=None):
        self.output, self.input_grads, self.param_grads, self.state = output, input_grads, param_grads, state


class _MtorchReference:
    def __init__(self, reference, state):
        from ..gradcheck import detached_copy
        self.layer = detached_copy(reference).double()
        self.layer.load_state_dict(state)

    def run(self, inputs, upstream, training, rng_state, requires):
        self.layer.train(training)
        self.layer.zero_grad()
        y = _replay(rng_state, self.layer, inputs)
        if upstream is None:
            return _Outcome(y, state=self.layer.state_dict())
        grads = self.layer.backward(upstream)
        grads = [grads] if len(inputs) == 1 else list(grads)
        params = {n: p.grad for n, p in self.layer.named_parameters()}
        return _Outcome(y, grads, params, self.layer.state_dict())


class _TorchReference:
    def __init__(self, reference, state):
        self.torch = sys.modules["torch"]
        self.module = copy.deepcopy(reference).double()
        tensors = {k: self.torch.from_numpy(np.array(v, dtype=np.float64 if np.asarray(v).dtype.kind == "f"
                                                     else np.asarray(v).dtype)) for k, v in state.items()}
        try:
            self.module.load_state_dict(tensors, strict=True)
        except RuntimeError as error:
            raise StateDictError(str(error).replace("\n", " ").replace("\t", "")) from None

    def run(self, inputs, upstream, training, rng_state, requires):
        torch = self.torch
        self.module.train(training)
        self.module.zero_grad(set_to_none=True)
        tensors = []
        for a, r in zip(inputs, requires):
            t = torch.from_numpy(np.array(a, dtype=np.float64 if a.dtype.kind == "f" else
                                          (np.int64 if a.dtype.kind in "iu" else a.dtype)))
            tensors.append(t.requires_grad_(r))
        out = self.module(*tensors)
        out = out[0] if isinstance(out, (tuple, list)) else out
        state = {k: v.detach().numpy().copy() for k, v in self.module.state_dict().items()}
        y = out.detach().numpy().copy()
        if upstream is None:
            return _Outcome(y, state=state)
        out.backward(torch.from_numpy(np.asarray(upstream, np.float64)))
        grads = [t.grad.numpy().copy() if r and t.grad is not None else None for t, r in zip(tensors, requires)]
        params = {n: None if p.grad is None else p.grad.numpy().copy() for n, p in self.module.named_parameters()}
        return _Outcome(y, grads, params, state)


class _FunctionReference:
    def __init__(self, reference, state):
        self.function, self.state = reference, state

    def run(self, inputs, upstream, training, rng_state, requires):
        state = {k: v.copy() for k, v in self.state.items()}
        return _Outcome(np.asarray(self.function(state, *[a.copy() for a in inputs])))


def reference_runner(reference, state):
    """The object that runs ``reference`` with the parameters and buffers ``state`` loaded."""
    if isinstance(reference, type):
        raise TypeError(f"reference: pass an instance (e.g. {reference.__name__}(...) with the layer's "
                        f"arguments), not the class {reference.__name__}")
    if isinstance(reference, Layer):
        return _MtorchReference(reference, state)
    if is_torch_module(reference):
        return _TorchReference(reference, state)
    if callable(reference):
        return _FunctionReference(reference, state)
    raise TypeError(f"reference must be an mtorch Layer, a torch.nn.Module or a function "
                    f"reference(state_dict, *inputs), got {type(reference).__name__}")


def _state64(layer):
    return {k: v.astype(np.float64) if v.dtype.kind == "f" else v for k, v in layer.state_dict().items()}


def _lines(name, parts, ok_text):
    """One ``CheckResult`` from several ``(ok, text, numbers)`` comparisons: the worst one is shown."""
    failed = [(text, numbers) for ok, text, numbers in parts if ok is not True]
    if failed:
        return CheckResult(name, False, "; ".join(text for text, _ in failed), failed[0][1])
    numbers = {}
    for _, _, n in parts:
        numbers["max_abs_err"] = max(numbers.get("max_abs_err", 0.0), n.get("max_abs_err", 0.0))
    return CheckResult(name, True, ok_text.format(**numbers) if numbers else ok_text, numbers)


@_label("reference forward")
def compare(ctx):
    """Outputs, gradients, buffers and eval outputs equal the reference's, given the same parameters."""
    if ctx.reference is None:
        return []
    layer = ctx.fresh().double()
    state = _state64(layer)
    try:
        runner = reference_runner(ctx.reference, state)
    except StateDictError as error:
        return CheckResult("reference forward", False,
                           f"the layer's state_dict does not load into the reference: {error} <- name the "
                           f"parameters and buffers as the reference does (PyTorch's names)")
    rng_state = mrandom.get_rng_state()
    upstream = ctx.upstream(ctx.y_shape, np.float64, offset=13)
    y = _replay(rng_state, layer, ctx.inputs64())
    layer_grads = ctx.input_grads(layer.backward(upstream))
    ref = runner.run(ctx.inputs64(), upstream if not isinstance(runner, _FunctionReference) else None,
                     True, rng_state, ctx.requires)
    atol, rtol = ctx.atol, ctx.rtol
    ok, text, numbers = _compare(y, ref.output, atol, rtol, "output")
    results = [_lines("reference forward", [(ok, text, numbers)],
                      "output equals the reference's (max abs err {max_abs_err:.1e})")]
    if ref.input_grads is not None:
        parts = [_compare(g, r, atol, rtol, f"dL/d({n})") for n, g, r, req in
                 zip(ctx.input_names(), layer_grads, ref.input_grads, ctx.requires) if req and r is not None]
        parts += [_compare(p.grad, ref.param_grads[n], atol, rtol, f"dL/d({n})")
                  for n, p in layer.named_parameters() if ref.param_grads.get(n) is not None and p.grad is not None]
        parts = [(False, f"{t} (no gradient)", {}) if ok is None else (ok, t, nb) for ok, t, nb in parts]
        results.append(_lines("reference gradients", parts,
                              "input and parameter gradients equal the reference's (max abs err {max_abs_err:.1e})"))
    buffers = [k for k, _ in layer.named_buffers()]
    if ref.state is not None and buffers:
        after = _state64(layer)
        parts = [_compare(after[k], ref.state[k], atol, rtol, k) for k in buffers
                 if k in ref.state and np.asarray(after[k]).dtype.kind == "f"]
        results.append(_lines("reference buffers", parts,
                              f"{', '.join(buffers)} after a training forward equal the reference's"))
        layer.eval()
        y_eval = _replay(rng_state, layer, ctx.inputs64())
        ref_eval = runner.run(ctx.inputs64(), None, False, rng_state, ctx.requires)
        results.append(_lines("reference eval", [_compare(y_eval, ref_eval.output, atol, rtol, "eval output")],
                              "eval output after a training forward equals the reference's "
                              "(max abs err {max_abs_err:.1e})"))
    return results

