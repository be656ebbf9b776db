"""Property-based fuzzing of the public API, with PyTorch as the reference (what tests/test_fuzz_*.py share).

A *trial* builds a public class from drawn arguments, feeds it drawn inputs
(and, for layers, a drawn ``grad_out``) and ends in exactly one of:

- ``equal``: mtorch returned, PyTorch accepted the same case, and values and
  gradients agree (float64: 1e-6 relative; float32/float16 results to their precision);
- ``accepted``: mtorch returned and there is no reference to compare with
  (torch not installed, or a class PyTorch has no counterpart for);
- ``refused``: mtorch raised a *clear error*: a TypeError/ValueError (or an
  ``mtorch.errors`` class, or NotImplementedError for a documented unsupported
  option) whose message names the public class;
- ``known``: one of the failures listed in ``tests/fuzz_known_failures.py`` (bugs in files
  being rewritten on other branches, each replayed as a strict xfail).

A NaN output (or loss) has no meaningful gradient (implementations differ on ``NaN * 0``), so
gradients are compared only when the output holds no NaN (and, for losses, when the inputs and
the loss are finite: ``inf - inf`` inside a loss is NaN in one formula and 0 in another). Inputs
reach torch rounded to the float dtype mtorch computes in (a float32 layer casts a float64 input to
float32 first); half-precision results are compared where both are finite.

Anything else fails the test: a raw numpy/Python error (IndexError,
AttributeError, ZeroDivisionError, numpy's AxisError or broadcast error, a
RuntimeWarning, ...), an error whose message does not name the class, a case
PyTorch refuses that mtorch accepted (a *silent acceptance*, unless
``ALLOWED_DIFFERENCES`` explains it), or a value or gradient that differs.

Cases are plain data (``Arr``, ``Grad`` and dicts of arguments) drawn by
Hypothesis and then run deterministically, so a failing case prints as a
literal that can be pasted into the table of known failures and replayed. The run is
derandomized and uses no example database; ``MTORCH_FUZZ_EXAMPLES`` sets the
examples per class (default 40) for a longer local run. The trial counts of a
session are printed at the end of ``pytest``'s report.
"""
import collections
import contextlib
import fnmatch
import math
import os
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mtorch import errors  # noqa: E402

try:
    import torch
except ImportError:                 # the value checks need torch; the error checks run without it
    torch = None

EXAMPLES = int(os.environ.get("MTORCH_FUZZ_EXAMPLES", "40"))
SURVEY = os.environ.get("MTORCH_FUZZ_SURVEY") == "1"     # list every failure instead of stopping at the first
fuzz_settings = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                         print_blob=False, suppress_health_check=list(HealthCheck))

# ---------------------------------------------------------------- the tables
# PyTorch refuses these, mtorch accepts them on purpose (documented conversions). The
# reference is run on the converted case, so each entry is applied where the case is
# converted for torch (the key is named there).
ALLOWED_DIFFERENCES = {
    "real-arrays": "An input or grad_out may be any array-like of real numbers (nested lists, ints, bools, "
                   "another float dtype): Layer.check_input/check_grad_out and the losses convert it with "
                   "np.asarray and cast it to the dtype computed in. torch wants a tensor of the module's "
                   "dtype; it is given that tensor.",
    "whole-float-indices": "Class-index targets may be floats that are whole numbers (loss._checks.integer_array "
                           "converts them); torch wants int64. torch is given int64.",
    "shared-var": "GaussianNLLLoss's var may be shared along any one axis (e.g. one variance per feature, "
                  "shape (1, D)) or be a single number (documented, tested); torch shares only along the last "
                  "axis. torch is given var expanded to the input's shape (its gradient summed back).",
    "loss-array-args": "A loss's weight/pos_weight may be any array-like of real numbers (converted like inputs); "
                       "torch wants a tensor; it is given one.",
    "numpy-indexing": "Datasets index like numpy arrays: a slice may have a negative step (torch tensors refuse "
                      "one); the expected samples are numpy's then.",
    "clip-nonfinite": "clip_grad_norm with a non-finite total norm (and error_if_nonfinite=False) leaves the "
                      "gradients unchanged (documented); torch scales them by max_norm / (nan or inf), to NaN "
                      "or 0. Only the total norm is compared then.",
    "inplace": "A layer's inplace=True (where PyTorch has the flag) is accepted and changes nothing: an mtorch "
               "layer never overwrites its input (documented in mtorch.layers.activation and Dropout). torch's "
               "in-place form refuses the trials' leaf tensors that require a gradient; it is given inplace=False.",
    "rmsnorm-eps": "RMSNorm(eps=None) adds the machine epsilon of the dtype it computes in, as torch; torch's "
                   "reference computes in float64, so it is given mtorch's epsilon (float32's for a float32 layer).",
    "empty-axes": "The window layers (pooling, padding, Upsample) accept a zero-size channel or spatial axis "
                  "wherever the result is defined, and return an empty output, as numpy does (and torch's "
                  "adaptive average pooling, constant and circular padding); several torch kernels refuse any "
                  "empty axis but the batch. Where torch refuses, there is nothing to compare with.",
    "one-element-metric": "ReduceLROnPlateau.step takes a one-element array as the metric (as float(tensor) does "
                          "in torch); torch is given the float.",
}


# Where PyTorch's value is wrong, the comparison takes the right one instead (checked by hand):
TORCH_WRONG = {
    "empty-margin": "MultiMarginLoss / MultiLabelMarginLoss reduced over an empty batch: torch returns "
                    "uninitialised memory (e.g. 6.9e-310); mtorch gives NaN for 'mean' (as torch's other losses "
                    "do for a mean over nothing) and 0 for 'sum'.",
    "infinite-logits": "BCEWithLogitsLoss / MultiLabelSoftMarginLoss with a +-inf logit: torch's formulas meet "
                       "0 * inf and give NaN for some target values (each loss for different ones); mtorch gives "
                       "the limit, 0 or inf. Where torch's value is NaN, it is not compared.",
    "soft-margin-overflow": "SoftMarginLoss: torch computes log(1 + exp(-y x)) directly, so |x| > ~709 overflows "
                            "to inf (and its gradient to NaN); mtorch's log-add-exp form stays finite and exact. "
                            "Where torch's value is not finite, only its finite entries are compared.",
    "full-label-smoothing": "CrossEntropyLoss(label_smoothing=1.0) with a -inf logit: torch multiplies the "
                            "infinite NLL term by 1 - label_smoothing = 0 and gets NaN; mtorch weighs each class "
                            "first and gets the limit, inf. A NaN from torch is not compared then.",
    "rmsprop-centered-zero-variance": "RMSprop(centered=True, alpha=0): the variance square_avg - grad_avg^2 is "
                                      "exactly 0; torch's fused addcmul leaves a rounding residue that can be "
                                      "negative, and sqrt gives NaN; mtorch gets 0. Centered trials use alpha > 0.",
    "adagrad-group-accumulator": "torch's Adagrad starts every group's accumulator at the constructor's "
                                 "initial_accumulator_value, ignoring a group's own; mtorch uses the group's. "
                                 "Groups do not override it in the trials.",
    "empty-pixel-shuffle": "PixelShuffle / PixelUnshuffle on a zero-size input: torch's PixelUnshuffle returns "
                           "the input's shape unchanged and PixelShuffle's backward refuses its own output's "
                           "gradient; mtorch gives the rearranged shape. The reference reshapes a zero-size input "
                           "to that shape after torch's own checks.",
    "empty-instance-norm": "InstanceNorm1d/2d(affine=True) on a zero-size input: torch's forward fails inside "
                           "(IndexError 'select(): index 0 out of range'); mtorch returns the empty output. The "
                           "reference then applies the scale and shift after torch's normalisation without them.",
    "instance-norm-momentum-none": "InstanceNorm1d/2d(momentum=None, track_running_stats=True) in training: "
                                   "torch blends with momentum 0, running + 0 * (batch statistic), which is NaN "
                                   "for an infinite batch statistic; mtorch leaves the running statistics as they "
                                   "are (documented). They are compared with the ones before the call.",
    "empty-group-norm": "GroupNorm(affine=True) on a zero-size input: torch's gradients of weight and bias are "
                        "NaN; a sum over no values is 0 (mtorch). They are not compared then.",
    "inf-norm-of-empty": "clip_grad_norm(norm_type=inf): torch cannot take the max of an empty gradient "
                         "(RuntimeError); it adds nothing to the norm (mtorch). torch is not given empty gradients "
                         "then.",
}


@dataclass(frozen=True)
class Known:
    """A failure the fuzz test found in a file that is being rewritten on another branch.

    ``cls`` and ``case`` are fnmatch patterns over the public class name and the
    trial's case key: what was spoiled, then the most special input values, e.g.
    ``ctor:in_features=str/normal``, ``input0:dtype=complex128/zeros``, ``grad:shape+/nan``,
    ``valid/inf``; ``kind`` is ``raw``, ``unnamed``, ``silent`` or ``value``. A fuzz
    trial that fails this way counts as ``known``; ``example`` is the minimal failing
    case, replayed by a ``strict`` xfail test, so the entry must go when the bug is fixed.
    """
    family: str
    cls: str
    case: str
    kind: str
    what: str
    example: object = field(compare=False, default=None)

    def matches(self, family, name, key, kind):
        return (family == self.family and fnmatch.fnmatchcase(name, self.cls)
                and fnmatch.fnmatchcase(key, self.case) and kind == self.kind)


def known_failures():
    """The table of known failures, ``tests/fuzz_known_failures.py``."""
    from fuzz_known_failures import KNOWN_FAILURES
    return KNOWN_FAILURES


def known_params(*families):
    """``pytest.param``s, each a strict xfail, for the known failures of ``families`` (those that only a
    comparison with torch shows are skipped without torch)."""
    return [pytest.param(k, id=f"{k.cls}-{k.case}-{k.kind}",
                         marks=[pytest.mark.xfail(strict=True, reason=f"{k.cls}: {k.what}"),
                                pytest.mark.skipif(torch is None and k.kind in ("silent", "value"),
                                                   reason="torch is the reference for this one")])
            for k in known_failures() if k.family in families]


def check_coverage(public, table, table_name, not_fuzzed=()):
    """Every public class has an entry in ``table`` (or in ``not_fuzzed``, with a reason), and no entry
    names a class that is not public: the test that makes a new class get a fuzz strategy."""
    missing = sorted(set(public) - set(table) - set(not_fuzzed))
    stale = sorted((set(table) | set(not_fuzzed)) - set(public))
    assert not missing, f"public classes without a fuzz strategy (add a line to {table_name}): {missing}"
    assert not stale, f"{table_name} has entries for classes that are not public: {stale}"


# ---------------------------------------------------------------- counting
COUNTS = collections.defaultdict(collections.Counter)


def record(family, outcome):
    COUNTS[family][outcome] += 1


OUTCOMES = ("equal", "accepted", "refused", "known", "failed")


def _counted(name, counts):
    return f"{name:>14}: {sum(counts.values()):6d} trials  " + "  ".join(
        f"{k} {counts[k]}" for k in OUTCOMES if counts[k])


def summary_lines():
    lines = []
    total = collections.Counter()
    for family in sorted(COUNTS):
        counts = COUNTS[family]
        total.update(counts)
        lines.append(_counted(family, counts))
    for (family, name, key, kind), (message, case) in sorted(FAILURES.items(), key=lambda kv: str(kv[0])):
        lines.append(f"FAILED {family} {name} [{key}] {kind}: {message[:400]}\n    {case!r}")
    if lines:
        lines.append(_counted("total", total))
    return lines


# ---------------------------------------------------------------- verdicts
class FuzzFailure(AssertionError):
    pass


class Raised(Exception):
    """mtorch raised ``error`` during ``stage`` (wrapped so the verdict can judge it)."""

    def __init__(self, stage, error):
        super().__init__(stage, error)
        self.stage, self.error = stage, error


class Refused(Exception):
    """The reference (torch) refused the case during ``stage``."""

    def __init__(self, stage, error):
        super().__init__(stage, error)
        self.stage, self.error = stage, error


def attempt(stage, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``; an exception (a RuntimeWarning too) becomes ``Raised(stage, error)``."""
    try:
        return fn(*args, **kwargs)
    except Exception as error:
        raise Raised(stage, error) from error


def reference(stage, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` on the torch side, warnings silenced; an exception becomes ``Refused``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    except Exception as error:
        raise Refused(stage, error) from error


_RAW = (np.exceptions.AxisError, np.exceptions.ComplexWarning, ArithmeticError, AttributeError, IndexError,
        KeyError, LookupError, MemoryError, RecursionError, Warning, AssertionError)
_DOCUMENTED = (TypeError, ValueError, NotImplementedError, errors.BackwardBeforeForwardError, errors.GradientError)


def unclear(error, names, extra=()):
    """None when ``error`` is a clear error naming one of ``names``, else what is wrong with it.

    ``extra``: exception classes documented for this call (e.g. IndexError for ``dataset[i]``,
    RuntimeError for ``clip_grad_norm(error_if_nonfinite=True)``).
    """
    kind = type(error).__name__
    if isinstance(error, tuple(extra)):
        pass
    elif isinstance(error, _RAW) or not isinstance(error, _DOCUMENTED) or type(error).__module__.startswith("numpy"):
        return f"raw {kind}: {error}"
    message = str(error)
    if not any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message) for n in names):
        return f"{kind} without the class name ({' or '.join(names)}): {message}"
    return None


def judge(family, name, key, case, run_mtorch, run_torch=None, compare=None, names=None, extra=(),
          tolerate_known=True, needs_torch=True):
    """Run one trial and record its outcome; raise ``FuzzFailure`` for a failure that is not a known one.

    ``run_mtorch()`` runs mtorch (its steps wrapped in ``attempt``) and returns what it
    produced; ``run_torch()`` (optional) runs the reference (its steps in ``reference``);
    ``compare(got, expected)`` returns a list of differences; ``run_torch`` returns None where torch
    refuses a case that an ``ALLOWED_DIFFERENCES`` entry lets mtorch accept. ``needs_torch=False``: the
    reference is the test's own (a documented formula), run without torch.
    """
    names = names or (name,)
    try:
        got = run_mtorch()
    except Raised as raised:
        problem = unclear(raised.error, names, extra)
        if problem is None:
            record(family, "refused")
            return "refused"
        kind = "unnamed" if "without the class name" in problem else "raw"
        return _fail(family, name, key, kind, f"{raised.stage}: {problem}", case, tolerate_known)
    if run_torch is None or (needs_torch and torch is None):
        record(family, "accepted")
        return "accepted"
    try:
        expected = run_torch()
    except Refused as refused:
        return _fail(family, name, key, "silent", f"mtorch accepted what torch refuses at {refused.stage} "
                     f"({type(refused.error).__name__}: {str(refused.error)[:300]})", case, tolerate_known)
    if expected is None:                # torch refused a case ALLOWED_DIFFERENCES lets mtorch accept
        record(family, "accepted")
        return "accepted"
    problems = compare(got, expected) if compare else []
    if problems:
        return _fail(family, name, key, "value", "; ".join(problems), case, tolerate_known)
    record(family, "equal")
    return "equal"


FAILURES = {}                      # (family, class, case key, kind) -> (message, case), in survey mode


def _fail(family, name, key, kind, message, case, tolerate_known):
    if tolerate_known and any(k.matches(family, name, key, kind) for k in known_failures()):
        record(family, "known")
        return "known"
    if SURVEY and tolerate_known:
        record(family, "failed")
        FAILURES.setdefault((family, name, key, kind), (message, case))
        return "failed"
    raise FuzzFailure(f"{name} [{key}] {kind}: {message}\n    case: {case!r}")


# ---------------------------------------------------------------- comparing
_TOLERANCES = {np.dtype(np.float64): (1e-6, 1e-9), np.dtype(np.float32): (1e-3, 1e-4),
               np.dtype(np.float16): (1e-2, 1e-2)}


def differences(got, expected, what, precision=None):
    """A list with one description when the array ``got`` differs from the float64 ``expected``.

    NaN and infinities must sit at the same places; elsewhere
    ``|got - expected| <= rtol |expected| + atol * max(1, max |expected|)`` with the
    tolerances of the dtype mtorch computed in: ``precision`` when given (e.g. float32 for a
    float32 layer whose result came out as float64), else the result's (float64: 1e-6 relative).
    """
    if got is None and expected is None:
        return []
    if got is None or expected is None:
        return [f"{what}: mtorch gave {'nothing' if got is None else 'a value'}, torch "
                f"{'nothing' if expected is None else 'a value'}"]
    got, expected = np.asarray(got), np.asarray(expected, dtype=np.float64)
    if got.dtype.kind not in "biuf":
        return [f"{what}: mtorch returned dtype {got.dtype}"]
    if got.shape != expected.shape:
        return [f"{what}: shape {got.shape}, torch {expected.shape}"]
    dtype = got.dtype if got.dtype.kind == "f" else np.dtype(np.float64)
    tolerance = np.dtype(precision) if precision is not None and np.dtype(precision).itemsize < dtype.itemsize \
        else dtype
    rtol, atol = _TOLERANCES.get(tolerance, (1e-6, 1e-9))
    with np.errstate(all="ignore"):
        expected = expected.astype(dtype).astype(np.float64)           # overflows where mtorch's dtype does
        got = got.astype(np.float64)
        if tolerance == np.float16:    # where half precision overflows depends on the order of operations
            both = np.isfinite(got) & np.isfinite(expected)
            got, expected = got[both], expected[both]
        finite = np.isfinite(expected)
        same_special = np.array_equal(got[~finite], expected[~finite], equal_nan=True)
        scale = max(1.0, float(np.max(np.abs(expected[finite]), initial=0.0)))
        err = np.abs(got - expected)
        bad = finite & ~(err <= rtol * np.abs(expected) + atol * scale)
    if not same_special or bad.any():
        special_differs = ~finite & ~((got == expected) | np.isnan(got) & np.isnan(expected))
        where = tuple(int(i) for i in np.argwhere(bad | special_differs)[0])
        return [f"{what}: at {where} mtorch {got[where]!r}, torch {expected[where]!r} "
                f"({int(bad.sum())} of {got.size} entries differ, compared as {tolerance})"]
    return []


# ---------------------------------------------------------------- test data
DTYPES_REAL = ("float64", "float32", "float16", "int64", "int32", "uint8", "bool")
DTYPES_BAD = ("complex128", "str", "object")


@dataclass(frozen=True)
class Arr:
    """A test array, described so that it prints short and builds the same every time.

    ``values``: ``normal``, ``integers`` (whole numbers in [-3, 3], kinks at 0), ``zeros``,
    ``large`` (normal * 1000), ``nan``/``inf`` (normal with some NaN/+-inf), ``unit`` (U[0, 1]),
    ``positive`` (|normal| + 0.1), ``sign`` (+-1), ``binary`` (0/1), ``counts`` (whole numbers in
    [0, 5)), ``index:C`` (class indices in [0, C), given to torch as int64),
    ``index:C:-1`` (ints in [-1, C)). ``form``: ``array``, ``list`` (nested Python lists),
    ``none`` (None itself), ``ragged`` (a ragged nested list), ``scalar`` (a Python float).
    """
    shape: tuple
    values: str = "normal"
    dtype: str = "float64"
    form: str = "array"
    seed: int = 0

    def array(self):
        rng = np.random.default_rng(self.seed)
        shape, kind = tuple(self.shape), self.values
        if kind == "normal":
            v = rng.standard_normal(shape)
        elif kind == "integers":
            v = rng.integers(-3, 4, shape).astype(np.float64)
        elif kind == "zeros":
            v = np.zeros(shape)
        elif kind == "large":
            v = rng.standard_normal(shape) * 1000
        elif kind in ("nan", "inf"):
            v = rng.standard_normal(shape)
            special = rng.random(shape) < 0.3
            v[special] = np.nan if kind == "nan" else np.where(rng.random(shape) < 0.5, np.inf, -np.inf)[special]
        elif kind == "unit":
            v = rng.random(shape)
        elif kind == "positive":
            v = np.abs(rng.standard_normal(shape)) + 0.1
        elif kind == "sign":
            v = np.where(rng.random(shape) < 0.5, -1.0, 1.0)
        elif kind == "binary":
            v = (rng.random(shape) < 0.5).astype(np.float64)
        elif kind == "counts":
            v = rng.integers(0, 5, shape).astype(np.float64)
        elif kind.startswith("index:"):
            parts = kind.split(":")
            low = int(parts[2]) if len(parts) > 2 else 0
            v = rng.integers(low, max(int(parts[1]), low + 1), shape).astype(np.float64)
        else:
            raise ValueError(f"unknown values kind {kind!r}")
        v = np.asarray(v)
        if self.dtype == "complex128":
            return v + 1j * rng.standard_normal(shape)
        if self.dtype == "str":
            return v.astype(str)
        if self.dtype == "object":
            return v.astype(object)
        with np.errstate(all="ignore"):
            if self.dtype in ("int64", "int32", "uint8"):
                v = np.asarray(np.nan_to_num(v, nan=0, posinf=7, neginf=-7))
            return v.astype(self.dtype)

    def build(self):
        if self.form == "none":
            return None
        if self.form == "ragged":
            return [[1.0, 2.0], [3.0]]
        a = self.array()
        if self.form == "list":
            return a.tolist()
        if self.form == "scalar":
            return a.reshape(-1)[0].item() if a.size else 0.0
        return a

    def __repr__(self):
        extra = "".join(f", {k}={getattr(self, k)!r}" for k, default in
                        (("values", "normal"), ("dtype", "float64"), ("form", "array"), ("seed", 0))
                        if getattr(self, k) != default)
        return f"Arr({tuple(self.shape)!r}{extra})"


_SPECIAL_FIRST = ("inf", "nan", "large", "zeros", "integers")


def value_kind(x):
    """The most special ``values`` among the ``Arr`` in ``x`` (``inf`` > ``nan`` > ``large`` > ...), for case keys."""
    kinds = set()

    def walk(v):
        if isinstance(v, Arr):
            kinds.add(v.values.split(":")[0])
        elif isinstance(v, (tuple, list)):
            for item in v:
                walk(item)
        elif isinstance(v, dict):
            for item in v.values():
                walk(item)
    walk(x)
    return next((k for k in _SPECIAL_FIRST if k in kinds), min(kinds, default="none"))


def build(x):
    """Build every ``Arr`` in ``x`` (an Arr, or a tuple/list/dict holding some)."""
    if isinstance(x, Arr):
        return x.build()
    if isinstance(x, tuple):
        return tuple(build(v) for v in x)
    if isinstance(x, list):
        return [build(v) for v in x]
    if isinstance(x, dict):
        return {k: build(v) for k, v in x.items()}
    return x


# ---------------------------------------------------------------- cases (plain data, printed as literals)
@dataclass(frozen=True)
class Grad:
    """How ``grad_out`` is made from the output: ``match`` (float64, the output's shape), another
    dtype or form (``float32``, ``int64``, ``list``, ``none``, ``complex128``, ``str``), another
    shape (``shape+``: an extra axis, ``size+``: the last axis one longer), or ``before``
    (backward called before forward)."""
    kind: str = "match"
    values: str = "normal"
    seed: int = 0

    def build(self, out):
        if isinstance(out, tuple):
            return tuple(Grad(self.kind, self.values, self.seed + i).build(o) for i, o in enumerate(out))
        shape = np.shape(out)
        if self.kind == "shape+":
            shape = shape + (2,)
        elif self.kind == "size+":
            shape = shape[:-1] + (shape[-1] + 1,) if shape else (1,)
        dtype = self.kind if self.kind in ("float32", "int64", "complex128", "str") else "float64"
        form = {"list": "list", "none": "none"}.get(self.kind, "array")
        return Arr(shape, self.values, dtype, form, self.seed).build()

    def __repr__(self):
        return f"Grad({self.kind!r}" + (f", {self.values!r}" if self.values != "normal" else "") + ")"


@dataclass(frozen=True)
class LayerCase:
    """A layer trial: constructor arguments, inputs (``Arr``, tuples of them, or None), how grad_out is
    made, the mode, and whether the layer is converted to float64 (``double``)."""
    name: str
    kwargs: dict
    inputs: tuple
    grad: Grad = Grad()
    training: bool = True
    double: bool = True
    key: str = "valid"

    def __repr__(self):
        flags = "".join(f", {k}={getattr(self, k)!r}" for k, default in (("training", True), ("double", True))
                        if getattr(self, k) != default)
        return (f"LayerCase({self.name!r}, {self.kwargs!r}, {self.inputs!r}, {self.grad!r}{flags}, "
                f"key={self.key!r})")


@dataclass(frozen=True)
class OptimCase:
    """An optimizer trial: hyper-parameters, Parameters, groups, gradients per step, one spoiled thing."""
    name: str
    kwargs: dict
    params: tuple                     # Arr per Parameter
    groups: tuple                     # per group: (number of Parameters, its own hyper-parameters)
    steps: tuple                      # per step: a gradient (Arr) or None per Parameter
    spoil: str = ""                   # a way to spoil the parameters (test_fuzz_optim.BAD_PARAMS), or ""
    key: str = "valid"


def as_reference(x, dtype=np.float64):
    """``x`` as the float64 array torch is given (ALLOWED_DIFFERENCES["real-arrays"]); ``Refused`` when
    it is not an array of real numbers (None, strings, objects, complex numbers, ragged lists)."""
    try:
        a = np.asarray(x)
    except ValueError as error:
        raise Refused("input", error) from None
    if x is None or a.dtype.kind not in "biuf":
        raise Refused("input", TypeError(f"not an array of real numbers: {type(x).__name__} {a.dtype}"))
    return a.astype(dtype)


def to_tensor(x, grad=False, precision=None):
    """``x`` as a float64 torch tensor (see ``as_reference``), rounded first to ``precision`` when
    given: the float dtype mtorch computes in, so that both start from the same numbers."""
    a = as_reference(x, precision or np.float64).astype(np.float64)
    t = torch.from_numpy(a)
    return t.requires_grad_() if grad else t


def to_indices(x):
    """Class or embedding indices as an int64 tensor (ALLOWED_DIFFERENCES["whole-float-indices"]);
    refused unless they are whole numbers."""
    a = np.asarray(x)
    if x is None or a.dtype.kind not in "iuf" or (a.dtype.kind == "f" and not np.all(a == np.round(a))):
        raise TypeError(f"not indices: {a.dtype}")
    return torch.from_numpy(a.astype(np.int64))


SIZE = st.integers(1, 4)
SIZE0 = st.integers(0, 4)
BOOL = st.booleans()
VALUES = st.sampled_from(("normal", "normal", "integers", "zeros", "large", "nan", "inf"))
FINITE = st.sampled_from(("normal", "normal", "integers", "zeros", "large"))
SEED = st.integers(0, 2**16)


def shapes(min_dims=0, max_dims=4, min_side=0, max_side=4):
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


def arr(shape, values=VALUES, dtype="float64"):
    """A strategy of ``Arr`` of a fixed ``shape`` (a tuple or a strategy of them)."""
    shape = shape if isinstance(shape, st.SearchStrategy) else st.just(tuple(shape))
    values = values if isinstance(values, st.SearchStrategy) else st.just(values)
    dtype = dtype if isinstance(dtype, st.SearchStrategy) else st.just(dtype)
    return st.builds(Arr, shape, values, dtype, st.just("array"), SEED)


def corrupted(a):
    """A strategy of ways to spoil the array ``a``: another dtype (real or not), another form or shape."""
    real = st.sampled_from(DTYPES_REAL[1:]).map(lambda d: (f"dtype={d}", Arr(a.shape, a.values, d, "array", a.seed)))
    bad = st.sampled_from(DTYPES_BAD).map(lambda d: (f"dtype={d}", Arr(a.shape, a.values, d, "array", a.seed)))
    form = st.sampled_from(("list", "none", "ragged", "scalar")).map(
        lambda f: (f, Arr(a.shape, a.values, a.dtype, f, a.seed)))
    shape = shapes().filter(lambda s: s != tuple(a.shape)).map(
        lambda s: ("shape", Arr(s, a.values, a.dtype, "array", a.seed)))
    return st.one_of(real, bad, form, shape)


# Values that are wrong for (almost) every constructor argument; torch decides which really are.
BAD_VALUES = (None, "3", "abc", 2.5, -1, 0, -2.5, float("nan"), float("inf"), True, False, 3, 1e-3,
              [2], (1, 2, 3), complex(1, 1), object)


def bad_value_kind(value):
    """A short label for a bad value, for case keys: ``str``, ``float``, ``nan``, ``negative``, ..."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "str"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else "inf" if math.isinf(value) else "negative" if value < 0 else "float"
    if isinstance(value, int):
        return "negative" if value < 0 else "zero" if value == 0 else "int"
    return type(value).__name__


def mutation(params):
    """A strategy of ``(key, name, value)``: one argument ``name`` (from ``params``) given a bad value."""
    return st.tuples(st.sampled_from(sorted(params)), st.sampled_from(BAD_VALUES)).map(
        lambda nv: (f"ctor:{nv[0]}={bad_value_kind(nv[1])}", nv[0], nv[1]))


@contextlib.contextmanager
def no_torch_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
