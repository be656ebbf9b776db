"""check_layer: run a battery of checks on any Layer and print what is right and what is wrong.

Every check runs on a fresh deep copy of the layer (without hooks), so the
layer you pass in is never changed, and mtorch's random generator is seeded
for the checks and restored afterwards. The checks, in order (one report line each):

- forward: returns an array (of ``expected_output_shape`` if given) in the
  dtype the layer computes in, all finite.
- double(): after ``layer.double()`` a float64 input gives a float64 output.
- input unchanged / grad_out unchanged: forward and backward do not edit
  their arguments in place.
- backward before forward: a fresh layer refuses backward (any exception; ``check_grad_out``
  raises the clearest, ``BackwardBeforeForwardError``).
- backward shape: dL/dx has the input's shape and dtype.
- backward stores grads: backward leaves the parameters as they were.
- step(lr): each parameter becomes ``p - lr * p.grad``.
- gradient of <input or parameter>: against float64 central differences
  (``mtorch.gradcheck.compare_gradients``): the relative error of the array,
  the worst entry with its index, and a hint when it fails.
- backward uses latest forward: forward(x_other), forward(x), backward(g)
  gives x's gradients (a layer must cache on every forward).
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
from . import checks
from .report import CheckResult, LayerReport

_CHECKS = (checks.double, checks.inputs_unchanged, checks.backward_before_forward,
           checks.backward_and_step, checks.gradients, checks.latest_forward,
           checks.layers_used_once, checks.registered, checks.state_dict,
           checks.batch_independence, checks.train_eval)


class _Context:
    """What every check needs: fresh copies of the layer, the inputs, the settings."""

    def __init__(self, layer, x64, other_x64, dtype, batch_axis, seed, **settings):
        self.layer, self.seed = layer, seed
        self.x64, self.other_x64 = x64, other_x64
        self.x = x64.astype(dtype)
        self.batch_axis = batch_axis
        self.batch_size = x64.shape[batch_axis] if x64.ndim > batch_axis else None
        self.y_shape = None
        self.__dict__.update(settings)

    def fresh(self):
        return detached_copy(self.layer)

    def upstream(self, shape, dtype):
        """The fixed random upstream gradient dL/dy used by the checks."""
        return np.random.default_rng(self.seed + 7).standard_normal(shape).astype(dtype)


def _leaves(layer):
    return [sub for _, sub in layer.leaves()]


def _guess_input_shape(layer):
    """A small input shape from the first layer's size attributes, and what it was guessed from."""
    first = _leaves(layer)[0]
    if hasattr(first, "input_size"):
        seq_batch = (3, 5) if getattr(first, "batch_first", False) else (5, 3)
        return seq_batch + (first.input_size,), f"input_size={first.input_size}"
    if hasattr(first, "in_channels"):
        return (2, first.in_channels, 7, 7), f"in_channels={first.in_channels}"
    if hasattr(first, "in_features"):
        return (4, first.in_features), f"in_features={first.in_features}"
    if hasattr(first, "num_features"):
        spatial = (5, 5) if "2d" in type(first).__name__ else ()
        return (4, first.num_features) + spatial, f"num_features={first.num_features}"
    return (4, 5), None


def _batch_axis(layer):
    for sub in _leaves(layer):
        if hasattr(sub, "batch_first"):
            return 0 if sub.batch_first else 1
    return 0


def _run(check, ctx):
    try:
        result = check(ctx)
    except Exception as error:
        return [CheckResult(check.label, False, checks.describe(error))]
    return result if isinstance(result, list) else [result]


def check_layer(layer, x=None, input_shape=None, *, expected_output_shape=None, batch_axis=None,
                seed=0, eps=1e-6, atol=1e-5, rtol=1e-3, max_entries=500, lr=0.1,
                raise_on_failure=False, verbose=True, file=None):
    """Check a layer's forward, backward, gradients, step, state and modes; print and return a report.

    Args:
        layer: any ``Layer`` (your own, a built-in, a ``Sequential``); it is not modified.
        x: the input to use; or
        input_shape: the shape of a random normal input (default: guessed from the first
            layer's ``in_features``/``in_channels``/``input_size``/``num_features``).
            Recurrent layers take ``(seq, batch, feature)``, convolutions ``(N, C, H, W)``.
        expected_output_shape: the shape forward should return (checked when given).
        batch_axis: the axis of the samples (default 0; 1 for recurrent layers
            with ``batch_first=False``).
        seed: seeds the input, the upstream gradient and mtorch's generator.
        eps, atol, rtol: finite-difference step and tolerances; an entry passes when
            ``|analytic - numeric| <= atol + rtol * |numeric|``.
        max_entries: difference at most this many entries per array (a random sample).
        lr: learning rate for the ``step`` check.
        raise_on_failure: raise ``LayerCheckError`` (an AssertionError) with the report.
        verbose: print the report (to ``file``, default stdout).

    Returns:
        ``LayerReport``: truthy when no check failed; ``.checks``, ``.failures``, ``.text``.

    Example:
        >>> report = check_layer(Linear(3, 2))
        >>> bool(report)
        True
    """
    if not isinstance(layer, Layer):
        raise TypeError(f"check_layer takes a Layer, got {type(layer).__name__}")
    rng = np.random.default_rng(seed)
    if x is None:
        source = f"random normal, seed {seed}"
        if input_shape is None:
            input_shape, guessed = _guess_input_shape(layer)
            source += (f"; shape from {guessed}" if guessed else "; a default shape") + \
                ", pass x= or input_shape= to choose"
        x64 = rng.standard_normal(tuple(input_shape))
    else:
        x64 = np.array(x, dtype=np.float64)
        source = "given"
    other_x64 = rng.standard_normal(x64.shape)
    given = np.asarray(x) if x is not None else None
    first = next(layer.parameters(), None)
    if first is not None:
        dtype = first.dtype
    elif given is not None and np.issubdtype(given.dtype, np.floating):
        dtype = given.dtype
    else:
        dtype = np.dtype(np.float32)
    ctx = _Context(layer, x64, other_x64, dtype, _batch_axis(layer) if batch_axis is None else batch_axis,
                   seed, expected_output_shape=expected_output_shape, eps=eps, atol=atol, rtol=rtol,
                   max_entries=max_entries, lr=lr)
    report = LayerReport(repr(layer).replace("\n", "\n  "), header=[
        f"input: {x64.shape} {np.dtype(dtype)} ({source})",
        f"gradients: float64 central differences, eps={eps:g}; an entry passes when "
        f"|analytic - numeric| <= {atol:g} + {rtol:g} * |numeric|",
    ])
    saved_rng = mrandom.get_rng_state()
    try:
        mrandom.manual_seed(seed)
        report.checks += _run(checks.forward, ctx)
        if ctx.y_shape is None:
            report.checks.append(CheckResult("other checks", None, "not run: they need a working forward"))
        else:
            for check in _CHECKS:
                report.checks += _run(check, ctx)
    finally:
        mrandom.set_rng_state(saved_rng)
    if verbose:
        print(report.text, file=file)
    if raise_on_failure:
        report.raise_if_failed()
    return report


def assert_layer_ok(layer, x=None, input_shape=None, **kwargs):
    """``check_layer`` for tests: silent when every check passes, else raises ``LayerCheckError`` with the report."""
    kwargs.setdefault("verbose", False)
    return check_layer(layer, x, input_shape, raise_on_failure=True, **kwargs)
