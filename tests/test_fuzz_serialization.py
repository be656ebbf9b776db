"""Fuzz saving and loading: mtorch.save/load, Layer/Optimizer/scheduler.load_state_dict, checkpoints.

- Round trips: random nestings of dicts (str/int keys, OrderedDict), lists, tuples, arrays of
  every dtype and layout, numpy scalars, ints, floats (NaN, inf, -0.0), text and None come
  back from ``mtorch.load`` exactly (types, key order, dtypes, shapes, values), through a
  file name or a file object. Objects a checkpoint cannot hold are refused by ``mtorch.save``
  with a clear error, and an existing file is left as it was (no temporary file either).
- Damage: a saved file with bits flipped, bytes cut off, appended, overwritten or inserted
  makes ``mtorch.load`` (and ``load_checkpoint``) raise ``CheckpointError``, nothing else,
  and ``load_checkpoint`` changes nothing.
- State dicts: a Layer's (against ``torch.nn``'s ``load_state_dict``), an optimizer's and a
  scheduler's state dict with one entry spoiled (missing, unexpected, wrong shape or
  dtype, junk) is either loaded exactly or refused with nothing changed (all or nothing).
"""
import io
import math
import os
import tempfile
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtorch
from mtorch import layers
from mtorch.errors import CheckpointError
from mtorch.optim import SGD, Adam, lr_scheduler
from mtorch.utils import load_checkpoint, save_checkpoint

from fuzzing import (BAD_VALUES, SEED, Raised, attempt, differences, fuzz_settings, judge,
                     reference, shapes, torch)

FAMILY = "save/load"


# ---------------------------------------------------------------- random checkpoints
DTYPES = st.sampled_from(("float64", "float32", "float16", "int64", "int8", "uint16", "bool", "complex64", "<U3",
                          "S2", ">f8", "<i4"))


@st.composite
def arrays(draw):
    dtype = np.dtype(draw(DTYPES))
    shape = draw(shapes(0, 3, 0, 3))
    rng = np.random.default_rng(draw(SEED))
    values = rng.standard_normal(shape) * 10
    if dtype.kind in "US":
        a = values.astype(int).astype(dtype)
    elif dtype.kind == "c":
        a = (values + 1j * values[::-1] if values.ndim else values + 0j).astype(dtype)
    else:
        with np.errstate(all="ignore"):
            a = values.astype(dtype)
    layout = draw(st.sampled_from(("C", "F", "view")))
    if layout == "F":
        a = np.asfortranarray(a)
    elif layout == "view" and a.ndim:
        a = a[::-1]
    return a


SCALARS = st.one_of(st.sampled_from((np.float32(1.5), np.int8(-3), np.bool_(True), np.float64("nan"), np.uint64(7),
                                     np.complex128(1 - 2j), np.str_("ab"))),)
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True),
                   st.text(max_size=8), arrays(), SCALARS)
KEYS = st.one_of(st.text(max_size=6), st.integers(-5, 5),
                 st.sampled_from(("\ud800", "a\x00b", "a\x00c", "/", "..", "__mtorch__", "x" * 300, "a/b", "")))


def _dicts(children):
    return st.lists(st.tuples(KEYS, children), max_size=4).map(
        lambda items: dict(items)) | st.lists(st.tuples(KEYS, children), max_size=3).map(OrderedDict)


CHECKPOINTS = st.recursive(LEAVES, lambda children: st.one_of(
    _dicts(children), st.lists(children, max_size=4), st.lists(children, max_size=3).map(tuple)), max_leaves=12)

UNSAVEABLE = st.sampled_from((
    {1, 2}, b"bytes", object(), np.array([None, 1], dtype=object), {(1, 2): 1}, {1.5: 2}, {True: 1}, {None: 1},
    [layers.Linear(2, 2)], {"f": len}, np.dtype("float32"), range(3), 1 + 2j, Ellipsis))


def same(a, b, where="/"):
    """None when ``b`` is exactly ``a`` (types, key order, dtypes, shapes, values), else where they differ."""
    if type(a) is not type(b):
        return f"{where}: {type(a).__name__} came back as {type(b).__name__}"
    if isinstance(a, np.ndarray) or isinstance(a, np.generic):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype != b.dtype or a.shape != b.shape:
            return f"{where}: {a.dtype}{a.shape} came back as {b.dtype}{b.shape}"
        equal = np.array_equal(a, b, equal_nan=a.dtype.kind in "fc") if a.dtype.kind in "fc" else np.array_equal(a, b)
        return None if equal else f"{where}: the values changed"
    if isinstance(a, float):
        return None if (a == b and math.copysign(1, a) == math.copysign(1, b)) or (a != a and b != b) else \
            f"{where}: {a!r} came back as {b!r}"
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{where}: keys {list(a)!r} came back as {list(b)!r}"
        return next((p for p in (same(a[k], b[k], f"{where}{k!r}/") for k in a) if p), None)
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return f"{where}: {len(a)} items came back as {len(b)}"
        return next((p for p in (same(x, y, f"{where}{i}/") for i, (x, y) in enumerate(zip(a, b))) if p), None)
    return None if a == b else f"{where}: {a!r} came back as {b!r}"


def _save_load(obj, to_file):
    if to_file:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "c.npz")
            attempt("save", mtorch.save, obj, path)
            leftovers = sorted(set(os.listdir(folder)) - {"c.npz"})
            if leftovers:
                raise AssertionError(f"mtorch.save left {leftovers}")
            return _must_load(path)
    buffer = io.BytesIO()
    attempt("save", mtorch.save, obj, buffer)
    buffer.seek(0)
    return _must_load(buffer)


def _must_load(file):
    try:
        return mtorch.load(file)
    except Exception as error:                  # what save wrote, load must read
        raise Raised("load", AssertionError(f"mtorch.load refused what mtorch.save wrote: {error}")) from error


def check_round_trip(obj, to_file, tolerate_known=True):
    return judge(FAMILY, "mtorch.save", "round-trip", obj, lambda: _save_load(obj, to_file), lambda: obj,
                 lambda got, expected: [p for p in [same(expected, got)] if p], names=("mtorch.save", "mtorch.load"),
                 tolerate_known=tolerate_known, needs_torch=False)


def check_unsaveable(obj, tolerate_known=True):
    def run():
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "c.npz")
            mtorch.save({"old": np.arange(3)}, path)
            before = open(path, "rb").read()
            try:
                attempt("save", mtorch.save, {"x": obj}, path)
            finally:
                if open(path, "rb").read() != before or os.listdir(folder) != ["c.npz"]:
                    raise AssertionError("a refused save changed the folder")
        return obj

    return judge(FAMILY, "mtorch.save", f"unsaveable:{type(obj).__name__}", obj, run,
                 lambda: reference("save", _raise, "not saveable"), names=("mtorch.save",),
                 tolerate_known=tolerate_known, needs_torch=False)


def _raise(message):
    raise TypeError(message)


# ---------------------------------------------------------------- damage
DAMAGE = st.one_of(
    st.tuples(st.just("flip"), st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 7)),
                                        min_size=1, max_size=3)),
    st.tuples(st.just("truncate"), st.floats(0, 1, exclude_max=True)),
    st.tuples(st.just("append"), st.binary(min_size=1, max_size=40)),
    st.tuples(st.just("insert"), st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=8))),
    st.tuples(st.just("overwrite"), st.tuples(st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=8))))


def damaged(data, damage):
    """``data`` changed as ``damage`` says (always changed: flips at one place are merged)."""
    kind, how = damage
    data = bytearray(data)
    if kind == "flip":
        masks = {}
        for where, bit in how:
            masks[int(where * len(data))] = masks.get(int(where * len(data)), 0) ^ (1 << bit)
        for at, mask in masks.items():
            data[at] ^= mask or 1
    elif kind == "truncate":
        del data[int(how * len(data)):]
    elif kind == "append":
        data += how
    elif kind == "insert":
        at = int(how[0] * len(data))
        data[at:at] = how[1]
    else:
        at = int(how[0] * len(data))
        old = bytes(data[at:at + len(how[1])])
        data[at:at + len(how[1])] = how[1] if how[1] != old else bytes(b ^ 0xFF for b in how[1])
    return bytes(data)


def _only_checkpoint_errors(fn, *args):
    try:
        return fn(*args)
    except CheckpointError:
        raise
    except Exception as error:
        raise AssertionError(f"not a CheckpointError: {type(error).__name__}: {error}") from error


def check_damage(obj, damage, tolerate_known=True):
    buffer = io.BytesIO()
    mtorch.save(obj, buffer)
    spoiled = damaged(buffer.getvalue(), damage)

    def run():
        return attempt("load", _only_checkpoint_errors, mtorch.load, io.BytesIO(spoiled))

    return judge(FAMILY, "mtorch.load", f"damage:{damage[0]}", (obj, damage), run,
                 lambda: reference("load", _raise, "a damaged file"), names=("mtorch.load",),
                 tolerate_known=tolerate_known, needs_torch=False)


# ---------------------------------------------------------------- Layer.load_state_dict
def load_all_or_nothing(target, given, **kwargs):
    """``target.load_state_dict(given)``; when it is refused, nothing of ``target``'s state may have changed."""
    before = target.state_dict()
    try:
        attempt("load", target.load_state_dict, given, **kwargs)
    except Raised:
        problem = same(before, target.state_dict())
        if problem:
            raise AssertionError(f"a refused load changed the {type(target).__name__}: {problem}") from None
        raise


MODELS = {
    "Linear": (lambda: layers.Linear(3, 2), lambda: torch.nn.Linear(3, 2)),
    "Sequential": (lambda: mtorch.Sequential(layers.Linear(3, 4), layers.BatchNorm1d(4), layers.Linear(4, 2)),
                   lambda: torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))),
    "LSTM": (lambda: layers.LSTM(2, 3), lambda: torch.nn.LSTM(2, 3)),
}
SPOILS = ("missing", "unexpected", "shape", "complex", "str", "object", "none", "ragged", "list", "int", "float16",
          "tensor", "scalar", "not-a-dict")


@dataclass(frozen=True)
class StateCase:
    model: str
    spoil: str
    which: int                    # the entry to spoil (modulo the number of entries)
    strict: bool
    seed: int = 0
    key: str = "valid"


@st.composite
def state_cases(draw):
    spoil = draw(st.sampled_from(("valid",) + SPOILS))
    return StateCase(draw(st.sampled_from(sorted(MODELS))), spoil, draw(st.integers(0, 20)), draw(st.booleans()),
                     draw(SEED), f"state:{spoil}")


def spoiled_state(case, state):
    """``state`` (numpy arrays, new values) with one entry spoiled as ``case.spoil`` says."""
    rng = np.random.default_rng(case.seed)
    state = OrderedDict((k, rng.standard_normal(v.shape).astype(v.dtype) if v.dtype.kind == "f" else v)
                        for k, v in state.items())
    key = list(state)[case.which % len(state)]
    value = state[key]
    spoil = case.spoil
    if spoil == "missing":
        del state[key]
    elif spoil == "unexpected":
        state["extra.weight"] = np.zeros(2)
    elif spoil == "not-a-dict":
        return list(state.values())
    else:
        state[key] = {
            "shape": lambda: np.zeros(value.shape + (2,)), "complex": lambda: value + 1j,
            "str": lambda: value.astype(str), "object": lambda: value.astype(object), "none": lambda: None,
            "ragged": lambda: [[1.0, 2.0], [3.0]], "list": lambda: value.tolist(),
            "int": lambda: np.round(value).astype(np.int64), "float16": lambda: value.astype(np.float16),
            "tensor": lambda: torch.from_numpy(np.array(value)) if torch is not None else value,
            "scalar": lambda: 1.5, "valid": lambda: value}[spoil]()
    return state


def run_state_mtorch(case):
    model = MODELS[case.model][0]()
    given = spoiled_state(case, model.state_dict())
    load_all_or_nothing(model, given, strict=case.strict)
    return model.state_dict(), given


def run_state_torch(case):
    model = MODELS[case.model][1]().double()
    given = spoiled_state(case, MODELS[case.model][0]().state_dict())
    if not isinstance(given, dict):
        reference("load", _raise, "not a dict")
    tensors = OrderedDict()
    for k, v in given.items():
        if isinstance(v, torch.Tensor):
            tensors[k] = v
            continue
        array = None if v is None or (isinstance(v, list) and not _regular(v)) else np.asarray(v)
        if array is None or array.dtype.kind not in "biuf":          # torch casts complex with a warning
            reference("load", _raise, f"{k} is not an array of real numbers")
        tensors[k] = torch.from_numpy(np.array(array))               # ALLOWED_DIFFERENCES["real-arrays"]
    reference("load", model.load_state_dict, tensors, strict=case.strict)
    return model.state_dict()


def _regular(v):
    try:
        np.asarray(v, dtype=np.float64)
        return True
    except (ValueError, TypeError):
        return False


def compare_state(got, expected):
    state, given = got
    problems = []
    for k, v in state.items():
        if k in given:                            # what was not given keeps each model's own initial value
            problems += differences(v, expected[k].numpy(), k, v.dtype)
    return problems


def check_state_case(case, tolerate_known=True):
    name = {"Linear": "Linear", "Sequential": "Sequential", "LSTM": "LSTM"}[case.model]
    return judge(FAMILY, name, case.key, case, lambda: run_state_mtorch(case), lambda: run_state_torch(case),
                 compare_state, tolerate_known=tolerate_known)


# ---------------------------------------------------------------- optimizer and scheduler state dicts
OPT_SPOILS = ("lr", "lr-junk", "drop-state-key", "unknown-state-key", "state-shape", "state-junk", "step-junk",
              "param-index", "groups-length", "group-params", "not-a-dict", "list-array")


@dataclass(frozen=True)
class OptimStateCase:
    optimizer: str
    spoil: str
    junk: object = None
    key: str = "valid"


@st.composite
def optim_state_cases(draw):
    spoil = draw(st.sampled_from(("valid",) + OPT_SPOILS))
    return OptimStateCase(draw(st.sampled_from(("SGD", "Adam"))), spoil, draw(st.sampled_from(BAD_VALUES)),
                          f"optimizer-state:{spoil}")


VALID_OPTIM_SPOILS = ("valid", "lr", "list-array")


def _trained_optimizer(name):
    params = [mtorch.Parameter(np.ones((2, 2)), dtype=np.float64), mtorch.Parameter(np.ones(3), dtype=np.float64)]
    optimizer = SGD(params, lr=0.1, momentum=0.9) if name == "SGD" else Adam(params, lr=0.1)
    for p in params:
        p.grad = np.full(p.shape, 0.5)
    optimizer.step()
    return optimizer


def spoiled_optim_state(case, state):
    groups, entries = state["param_groups"], state["state"]
    entry = entries[0]
    array_key = next(k for k, v in entry.items() if isinstance(v, np.ndarray))
    spoil = case.spoil
    if spoil == "lr":
        groups[0]["lr"] = 0.5
    elif spoil == "lr-junk":
        groups[0]["lr"] = case.junk
    elif spoil == "drop-state-key":
        del entry[array_key]
    elif spoil == "unknown-state-key":
        entry["bogus"] = np.zeros(2)
    elif spoil == "state-shape":
        entry[array_key] = np.zeros(7)
    elif spoil == "state-junk":
        entry[array_key] = case.junk
    elif spoil == "step-junk" and "step" in entry:
        entry["step"] = case.junk
    elif spoil == "param-index":
        entries[5] = entries.pop(0)
    elif spoil == "groups-length":
        groups.append(dict(groups[0]))
    elif spoil == "group-params":
        groups[0]["params"] = case.junk
    elif spoil == "not-a-dict":
        return [groups, entries]
    elif spoil == "list-array":
        entry[array_key] = entry[array_key].tolist()
    return state


def _junk_is_valid(case):
    """Whether the junk value put in is in fact valid (an lr of 3, a step of 0, ...)."""
    j = case.junk
    real = isinstance(j, (int, float)) and not isinstance(j, bool) and math.isfinite(j)
    if case.optimizer == "SGD" and case.spoil in ("step-junk", "drop-state-key"):
        return True                           # SGD keeps no step, and a missing momentum buffer starts afresh
    if case.spoil == "lr-junk":
        return real and j >= 0
    if case.spoil == "step-junk":
        return isinstance(j, int) and not isinstance(j, bool) and j >= 0
    return False


def run_optim_state(case):
    source, target = _trained_optimizer(case.optimizer), _trained_optimizer(case.optimizer)
    target.param_groups[0]["lr"] = 0.25
    given = spoiled_optim_state(case, source.state_dict())
    load_all_or_nothing(target, given)
    return target.state_dict(), given


def expected_optim_state(case):
    if case.spoil not in VALID_OPTIM_SPOILS and not _junk_is_valid(case):
        reference("load", _raise, f"{case.spoil}: not this optimizer's state")
    return None


def compare_optim_state(got, _):
    state, given = got
    problems = []
    for i, entry in given["state"].items():
        for k, v in entry.items():
            problems += differences(state["state"][i][k], np.asarray(v, dtype=np.float64), f"state {i} {k}")
    return problems + ([] if state["param_groups"][0]["lr"] == given["param_groups"][0]["lr"] else ["lr not loaded"])


def check_optim_state_case(case, tolerate_known=True):
    return judge(FAMILY, case.optimizer, case.key, case, lambda: run_optim_state(case),
                 lambda: expected_optim_state(case), compare_optim_state, tolerate_known=tolerate_known,
                 needs_torch=False)


SCHED_SPOILS = ("valid", "drop-key", "extra-key", "junk-value", "not-a-dict", "other-kind")


@dataclass(frozen=True)
class SchedStateCase:
    scheduler: str
    spoil: str
    junk: object = None
    key: str = "valid"


SCHEDULER_MAKERS = {
    "StepLR": lambda opt: lr_scheduler.StepLR(opt, step_size=2),
    "OneCycleLR": lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10),
    "ReduceLROnPlateau": lambda opt: lr_scheduler.ReduceLROnPlateau(opt, patience=1),
    "CosineAnnealingLR": lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=3),
}


@st.composite
def sched_state_cases(draw):
    spoil = draw(st.sampled_from(SCHED_SPOILS))
    return SchedStateCase(draw(st.sampled_from(sorted(SCHEDULER_MAKERS))), spoil, draw(st.sampled_from(BAD_VALUES)),
                          f"scheduler-state:{spoil}")


def _stepped_scheduler(name, steps):
    optimizer = SGD([mtorch.Parameter(np.zeros(2))], lr=0.1, momentum=0.9)
    scheduler = SCHEDULER_MAKERS[name](optimizer)
    for i in range(steps):
        scheduler.step(float(i)) if name == "ReduceLROnPlateau" else scheduler.step()
    return scheduler


def run_sched_state(case):
    given = _stepped_scheduler(case.scheduler, 3).state_dict()
    target = _stepped_scheduler(case.scheduler, 1)
    if case.spoil == "drop-key":
        given.pop(sorted(given)[0])
    elif case.spoil == "extra-key":
        given["bogus"] = 1
    elif case.spoil == "junk-value":
        given[sorted(given)[-1]] = case.junk
    elif case.spoil == "not-a-dict":
        given = list(given.items())
    elif case.spoil == "other-kind":
        other = "StepLR" if case.scheduler != "StepLR" else "CosineAnnealingLR"
        given = _stepped_scheduler(other, 2).state_dict()
    load_all_or_nothing(target, given)
    return target.state_dict(), given


def expected_sched_state(case):
    if case.spoil != "valid":
        if case.spoil == "junk-value":
            return "maybe"                        # junk of the right kind (a number for a number) loads
        reference("load", _raise, f"{case.spoil}: not this scheduler's state")
    return None


def compare_sched_state(got, expected):
    state, given = got
    return [p for p in [same(given, state)] if p]


def check_sched_state_case(case, tolerate_known=True):
    name = type(_stepped_scheduler(case.scheduler, 0)).__name__
    return judge(FAMILY, name, case.key, case, lambda: run_sched_state(case), lambda: expected_sched_state(case),
                 compare_sched_state, tolerate_known=tolerate_known, needs_torch=False)


# ---------------------------------------------------------------- checkpoints
def check_checkpoint_damage(damage, tolerate_known=True):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "run.npz")
        model = mtorch.Sequential(layers.Linear(3, 4), layers.BatchNorm1d(4))
        optimizer = Adam(model, lr=0.1)
        scheduler = lr_scheduler.StepLR(optimizer, step_size=1)
        save_checkpoint(path, model, optimizer, scheduler, epoch=3)
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(damaged(data, damage))
        model.load_state_dict({k: v + 1 for k, v in model.state_dict().items()})
        before = (model.state_dict(), optimizer.state_dict(), scheduler.state_dict(), mtorch.random.get_rng_state())

        def run():
            try:
                return attempt("load", _only_checkpoint_errors, load_checkpoint, path, model, optimizer, scheduler)
            finally:
                after = (model.state_dict(), optimizer.state_dict(), scheduler.state_dict(),
                         mtorch.random.get_rng_state())
                problem = same(before, after)
                if problem:
                    raise AssertionError(f"a refused load_checkpoint changed something: {problem}")

        return judge(FAMILY, "load_checkpoint", f"damage:{damage[0]}", damage, run,
                     lambda: reference("load", _raise, "a damaged file"), names=("mtorch.load", "load_checkpoint"),
                     tolerate_known=tolerate_known, needs_torch=False)




# ---------------------------------------------------------------- tests
@fuzz_settings
@given(obj=CHECKPOINTS, to_file=st.booleans())
def test_fuzz_save_load_round_trip(obj, to_file):
    check_round_trip(obj, to_file)


@fuzz_settings
@given(obj=UNSAVEABLE)
def test_fuzz_save_refuses_what_it_cannot_hold(obj):
    check_unsaveable(obj)


@fuzz_settings
@given(obj=CHECKPOINTS, damage=DAMAGE)
def test_fuzz_damaged_file(obj, damage):
    check_damage(obj, damage)


@fuzz_settings
@given(damage=DAMAGE)
def test_fuzz_damaged_checkpoint(damage):
    check_checkpoint_damage(damage)


@fuzz_settings
@given(case=state_cases())
def test_fuzz_layer_load_state_dict(case):
    check_state_case(case)


@fuzz_settings
@given(case=optim_state_cases())
def test_fuzz_optimizer_load_state_dict(case):
    check_optim_state_case(case)


@fuzz_settings
@given(case=sched_state_cases())
def test_fuzz_scheduler_load_state_dict(case):
    check_sched_state_case(case)


def test_nesting_deeper_than_the_limit_is_refused():
    deep = []
    for _ in range(mtorch.serialization.MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(ValueError, match="mtorch.save: the object is nested deeper than"):
        mtorch.save(deep, io.BytesIO())

