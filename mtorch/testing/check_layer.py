"""check_layer: run a battery of checks on any Layer and print what is right and what is wrong.

Every check runs on a fresh deep copy of the layer (without hooks), so the
layer you pass in is never changed, and mtorch's random generator is seeded
for the checks and restored afterwards. Before the checks, the copy's
parameters are moved to random values near their own (see
``mtorch.testing.randomize_parameters``): a LayerNorm's gamma starts at ones,
where a backward that forgets ``* gamma`` is still right. The checks, in
order (one report line each):

- forward: returns an array (of ``expected_output_shape`` if given), all finite.
- dtype: float32 in, float32 out, and float32 input gradients (a float64
  NumPy scalar such as ``np.sqrt(d)`` promotes float32 arrays to float64).
- double(): after ``layer.double()`` a float64 input gives a float64 output.
- input unchanged / grad_out unchanged: forward and backward do not edit
  their arguments in place.
- backward before forward: a fresh layer refuses backward (any exception; ``check_grad_out``
  raises the clearest, ``BackwardBeforeForwardError``).
- backward shape: dL/dx has the input's shape (one gradient per input for several inputs;
  None, or zeros, for an integer input).
- backward stores grads: backward leaves the parameters as they were.
- step(lr): each parameter becomes ``p - lr * p.grad``.
- gradient of <input or parameter>: against float64 central differences
  (``mtorch.gradcheck.compare_gradients``): the relative error of the array,
  the worst entry with its index, and a hint when it fails.
- reference forward / gradients / buffers / eval (with ``reference=``): the
  same values as a reference implementation given the same parameters.
- backward uses latest forward: forward(x_other), forward(x), backward(g)
  gives x's gradients (a layer must cache on every forward).
- shared weights add up: two instances sharing Parameters (``layer.share()``)
  end a backward pass holding the sum of both gradients.
- layers used once: in a container, no layer instance appears twice.
- parameters registered: no weights hidden in plain arrays or lists.
- state_dict round trip: loading the state into a changed copy restores the output.
- batch independence: sample 0's output does not depend on the other samples
  (train mode is skipped when the layer sets ``batch_independent = False``).
- train/eval: whether the modes differ; eval is deterministic and changes no state.
"""
import numpy as np

from .. import random as mrandom
from ..gradcheck import detached_copy
from ..layer import Layer
from . import checks, reference as references
from .randomize import randomize_parameters
from .report import CheckResult, LayerReport, score_checks
from .timeout import CheckTimeout, time_limit

_CHECKS = (checks.dtype, checks.double, checks.inputs_unchanged, checks.backward_before_forward,
           checks.backward_and_step, checks.gradients, references.compare, checks.latest_forward,
           checks.shared_weights, checks.layers_used_once, checks.registered, checks.state_dict,
           checks.batch_independence, checks.train_eval)


class Context:
    """What every check needs: fresh copies of the layer, the inputs, the settings.

    ``inputs64`` and ``others64`` are tuples with one array per input (floating
    inputs in float64, integer and bool inputs as given); ``requires[i]`` says
    whether input i is differentiated; ``dtype`` is what the layer computes in.
    """

    def __init__(self, layer, inputs64, others64, requires, dtype, batch_axis, seed, **settings):
        self.layer, self.seed = layer, seed
        self._inputs64, self._others64, self.requires = inputs64, others64, requires
        self.dtype = np.dtype(dtype)
        self.batch_axis = batch_axis
        first = inputs64[0]
        self.batch_size = first.shape[batch_axis] if first.ndim > batch_axis else None
        self.y_shape = None
        self.__dict__.update(settings)

    @property
    def single(self):
        """True for a layer with one input (its backward returns an array, not a tuple)."""
        return len(self._inputs64) == 1

    def fresh(self):
        return detached_copy(self.layer)

    def inputs(self):
        """New copies of the inputs, floating ones in the layer's dtype."""
        return tuple(a.astype(self.dtype) if a.dtype.kind == "f" else a.copy() for a in self._inputs64)

    def inputs64(self):
        return tuple(a.copy() for a in self._inputs64)

    def others64(self):
        return tuple(a.copy() for a in self._others64)

    def upstream(self, shape, dtype, offset=7):
        """The fixed random upstream gradient dL/dy used by the checks."""
        return np.random.default_rng(self.seed + offset).standard_normal(shape).astype(dtype)

    def input_grads(self, grad_in):
        """Backward's return value as a list with one entry per input (raises ``TypeError`` if it is not)."""
        if self.single:
            return [grad_in]
        if not isinstance(grad_in, (tuple, list)) or len(grad_in) != len(self._inputs64):
            got = f"a {type(grad_in).__name__} of {len(grad_in)}" if isinstance(grad_in, (tuple, list)) \
                else type(grad_in).__name__
            raise TypeError(f"backward must return a tuple of {len(self._inputs64)} gradients, one per "
                            f"input (None for an input that needs none), got {got}")
        return list(grad_in)

    def input_names(self):
        return ["input"] if self.single else [f"input {i}" for i in range(len(self._inputs64))]


def _leaves(layer):
    return [sub for _, sub in layer.leaves()] or [layer]


def _guess_inputs(layer, rng):
    """Small random inputs from the first layer's size attributes: ``(inputs, kind, guessed from)``."""
    first = _leaves(layer)[0]
    if hasattr(first, "num_embeddings"):
        n = first.num_embeddings
        return (rng.integers(0, n, (4, 6)),), f"random integers in [0, {n})", f"num_embeddings={n}"
    if hasattr(first, "input_size"):
        seq_batch = (3, 5) if getattr(first, "batch_first", False) else (5, 3)
        shape, source = seq_batch + (first.input_size,), f"input_size={first.input_size}"
    elif hasattr(first, "in_channels"):
        shape, source = (2, first.in_channels, 7, 7), f"in_channels={first.in_channels}"
    elif hasattr(first, "in_features"):
        shape, source = (4, first.in_features), f"in_features={first.in_features}"
    elif hasattr(first, "num_features"):
        spatial = (5, 5) if "2d" in type(first).__name__ else ()
        shape, source = (4, first.num_features) + spatial, f"num_features={first.num_features}"
    elif hasattr(first, "normalized_shape"):
        shape = (4,) + tuple(np.atleast_1d(first.normalized_shape))
        source = f"normalized_shape={first.normalized_shape}"
    elif hasattr(first, "embed_dim"):
        seq_batch = (3, 5) if getattr(first, "batch_first", False) else (5, 3)
        shape, source = seq_batch + (first.embed_dim,), f"embed_dim={first.embed_dim}"
    else:
        shape, source = (4, 5), None
    return (rng.standard_normal(shape),), "random normal", source


def _other(a, rng):
    """Another input like ``a``: new random floats, new integers in ``a``'s range, the same bools."""
    if a.dtype.kind == "f":
        return rng.standard_normal(a.shape)
    if a.dtype.kind in "iu" and a.size:
        return rng.integers(a.min(), a.max() + 1, a.shape).astype(a.dtype)
    return a.copy()


def _inputs(layer, x, input_shape, input_shapes, seed):
    """The inputs (float64 for floating ones), other inputs like them, and where they came from."""
    rng = np.random.default_rng(seed)
    if x is not None:
        given = [np.asarray(a) for a in (x if isinstance(x, (tuple, list)) else (x,))]
        for a in given:
            if a.dtype.kind not in "biuf":
                raise TypeError(f"check_layer: inputs must hold real numbers, got dtype {a.dtype}")
        inputs, source = [a.astype(np.float64) if a.dtype.kind == "f" else a.copy() for a in given], "given"
    elif input_shapes is not None or input_shape is not None:
        shapes = input_shapes if input_shapes is not None else [input_shape]
        inputs, source = [rng.standard_normal(tuple(s)) for s in shapes], f"random normal, seed {seed}"
    else:
        inputs, kind, guessed = _guess_inputs(layer, rng)
        guessed = f"shape from {guessed}" if guessed else "a default shape"
        source = f"{kind}, seed {seed}; {guessed}, pass x= or input_shape= to choose"
    others = tuple(_other(a, rng) for a in inputs)
    return tuple(inputs), others, source


def _requires(inputs, requires_grad):
    """Which inputs to differentiate: by default the floating ones."""
    if requires_grad is None:
        return [a.dtype.kind == "f" for a in inputs]
    if isinstance(requires_grad, bool):
        requires_grad = [requires_grad] * len(inputs)
    requires_grad = [bool(r) for r in requires_grad]
    if len(requires_grad) != len(inputs):
        raise ValueError(f"check_layer: requires_grad has {len(requires_grad)} entries for {len(inputs)} inputs")
    bad = [i for i, (a, r) in enumerate(zip(inputs, requires_grad)) if r and a.dtype.kind != "f"]
    if bad:
        raise ValueError(f"check_layer: input {bad[0]} holds {inputs[bad[0]].dtype} values, which have "
                         f"no gradient; set requires_grad False for it")
    return requires_grad


def _batch_axis(layer):
    for sub in _leaves(layer):
        if hasattr(sub, "batch_first"):
            return 0 if sub.batch_first else 1
    return 0


def run_check(check, ctx, timeout=None):
    """Run one check (within ``timeout`` seconds when given); an exception becomes a failed line."""
    try:
        with time_limit(timeout):
            result = check(ctx)
    except CheckTimeout:
        return [CheckResult(check.label, False, f"timed out after {timeout:g} s (is there an endless loop, "
                                                f"or a loop over every entry?)")]
    except Exception as error:
        return [CheckResult(check.label, False, checks.describe(error))]
    return result if isinstance(result, list) else [result]


def _describe_inputs(inputs, requires, dtype):
    parts = []
    for a, r in zip(inputs, requires):
        shown = np.dtype(dtype) if a.dtype.kind == "f" else a.dtype
        parts.append(f"{a.shape} {shown}" + ("" if r or a.dtype.kind != "f" else " (no gradient)"))
    return ("input: " if len(parts) == 1 else "inputs: ") + ", ".join(parts)


def check_layer(layer, x=None, input_shape=None, *, input_shapes=None, requires_grad=None, reference=None,
                randomize=True, expected_output_shape=None, batch_axis=None, seed=0, eps=1e-6, atol=1e-5,
                rtol=1e-3, max_entries=500, lr=0.1, points=None, timeout=None, extra_checks=(),
                raise_on_failure=False, verbose=True, file=None):
    """Check a layer's forward, backward, gradients, step, state and modes; print and return a report.

    Args:
        layer: any ``Layer`` (your own, a built-in, a ``Sequential``, a ``Module``); it is not modified.
        x: the input to use, or a tuple of inputs for a layer called as ``layer(a, b)``.
            Integer and bool inputs (indices, masks) are passed as they are and not differentiated.
        input_shape: the shape of a random normal input (default: guessed from the first
            layer's ``in_features``/``in_channels``/``input_size``/``num_features``/
            ``normalized_shape``/``embed_dim``; integer indices for ``num_embeddings``).
            Recurrent layers take ``(seq, batch, feature)``, convolutions ``(N, C, H, W)``.
        input_shapes: a list of shapes, one random normal input each, for several inputs.
        requires_grad: which inputs backward must differentiate: a bool, or one per input.
            Default: the floating ones. For the others backward returns None (or zeros).
        reference: what the layer must compute, given the same parameters: an mtorch
            ``Layer`` instance or a ``torch.nn.Module`` (the layer's state dict is loaded
            into a copy of it; outputs, gradients, buffers and eval outputs are compared),
            or a function ``reference(state_dict, *inputs)`` returning the output (compared
            in training mode). See ``mtorch.testing.reference``.
        randomize: move the parameters to random values near their own before checking
            (default True; a layer states limits with ``parameter_constraints``, see
            ``randomize_parameters``).
        expected_output_shape: the shape forward should return (checked when given).
        batch_axis: the axis of the samples (default 0; 1 for recurrent layers
            with ``batch_first=False``).
        seed: seeds the input, the parameters, the upstream gradient and mtorch's generator.
        eps, atol, rtol: finite-difference step and tolerances; an entry passes when
            ``|analytic - numeric| <= atol + rtol * |numeric|`` (also for reference comparisons).
        max_entries: difference at most this many entries per array (a random sample).
        lr: learning rate for the ``step`` check.
        points: a dict from check name (``"gradient of *"`` matches several) to points;
            see ``mtorch.testing.report.score_checks``. Default: 1 per check.
        timeout: seconds each check may take (where signals allow: the main thread of a
            Unix process); a check that takes longer fails.
        extra_checks: more checks, each a function ``check(ctx) -> CheckResult`` (or a list)
            with a ``label`` attribute naming it; ``ctx`` is the ``Context``.
        raise_on_failure: raise ``LayerCheckError`` (an AssertionError) with the report.
        verbose: print the report (to ``file``, default stdout; ASCII marks where ✓ cannot be shown).

    Returns:
        ``LayerReport``: truthy when no check failed; ``.checks``, ``.failures``, ``.text``,
        ``.score``, ``.to_dict()``.

    Example:
        >>> report = check_layer(Linear(3, 2))
        >>> bool(report)
        True
    """
    if not isinstance(layer, Layer):
        raise TypeError(f"check_layer takes a Layer, got {type(layer).__name__}")
    guide = reference if isinstance(reference, Layer) and x is None and input_shape is None else layer
    inputs64, others64, source = _inputs(guide, x, input_shape, input_shapes, seed)
    if guide is not layer:
        source = source.replace("shape from ", "shape from the reference's ")
    requires = _requires(inputs64, requires_grad)
    first = next(layer.parameters(), None)
    floats = [a for a in (x if isinstance(x, (tuple, list)) else (x,)) if np.asarray(a).dtype.kind == "f"] \
        if x is not None else []
    dtype = first.dtype if first is not None else np.asarray(floats[0]).dtype if floats else np.float32
    copy = detached_copy(layer)
    if randomize:
        randomize_parameters(copy, seed)
    ctx = Context(copy, inputs64, others64, requires, dtype, _batch_axis(layer) if batch_axis is None
                  else batch_axis, seed, expected_output_shape=expected_output_shape, eps=eps, atol=atol,
                  rtol=rtol, max_entries=max_entries, lr=lr, reference=reference)
    header = [_describe_inputs(inputs64, requires, dtype) + f" ({source})",
              f"gradients: float64 central differences, eps={eps:g}; an entry passes when "
              f"|analytic - numeric| <= {atol:g} + {rtol:g} * |numeric|"]
    if randomize and first is not None:
        header.append(f"parameters: moved to random values near their own (seed {seed}; randomize=False keeps them)")
    report = LayerReport(repr(layer).replace("\n", "\n  "), header=header)
    return run_checks(report, ctx, checks.forward, lambda: ctx.y_shape is not None, _CHECKS + tuple(extra_checks),
                      seed=seed, timeout=timeout, points=points, verbose=verbose, file=file,
                      raise_on_failure=raise_on_failure)


def run_checks(report, ctx, first, worked, rest, *, seed, timeout, points, verbose, file, raise_on_failure):
    """Run ``first``, then (if ``worked()``) the ``rest``, with mtorch's generator seeded; score,
    print and return ``report``."""
    saved_rng = mrandom.get_rng_state()
    try:
        mrandom.manual_seed(seed)
        report.checks += run_check(first, ctx, timeout)
        if not worked():
            report.checks.append(CheckResult("other checks", None, "not run: they need a working forward"))
        else:
            for check in rest:
                report.checks += run_check(check, ctx, timeout)
    finally:
        mrandom.set_rng_state(saved_rng)
    report.score, report.max_score = score_checks(report.checks, points)
    if verbose:
        report.print(file)
    if raise_on_failure:
        report.raise_if_failed()
    return report


def assert_layer_ok(layer, x=None, input_shape=None, **kwargs):
    """``check_layer`` for tests: silent when every check passes, else raises ``LayerCheckError`` with the report."""
    kwargs.setdefault("verbose", False)
    return check_layer(layer, x, input_shape, raise_on_failure=True, **kwargs)
