"""Fuzz the data classes (see tests/fuzzing.py for what a trial is).

``DATA`` lists a trial per public class of ``mtorch.data`` and ``mtorch.datasets``;
``NOT_FUZZED`` the classes left out and why. ``test_every_public_data_class_is_covered``
fails for a class in neither.

- ``TensorDataset`` + ``DataLoader``: random arrays (dtypes, forms, mismatched lengths)
  and loader arguments; batches against ``torch.utils.data.DataLoader`` (without
  shuffling: the same batches; with: each epoch a permutation of the samples).
- ``DataLoader`` over a list of samples (``default_collate``): tuples, dicts, plain
  arrays; one sample may differ in shape or structure, or be None.
- Indexing ``TensorDataset``, ``SineWaves``, ``CharDataset``, ``Iris`` with ints, slices,
  arrays, out-of-range and non-integer indices: torch's tensor indexing (or Python's)
  is the reference; an IndexError is documented for an index out of range.
- ``SineWaves``, ``CharDataset``, ``Normalize``, ``stratified_split``: arguments spoiled
  or not; results checked against their documented formulas.
- The file datasets (MNIST, ...): a spoiled constructor argument is refused before any file is read.
"""
import collections
import tempfile
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtorch.data as mdata
import mtorch.datasets as mdatasets

from fuzzing import (BAD_VALUES, BOOL, DTYPES_BAD, DTYPES_REAL, SEED, Arr, attempt, bad_value_kind, build,
                     check_coverage,
                     differences, fuzz_settings, judge, reference, shapes, torch)

FAMILY = "data"


def public_data_classes():
    found = {}
    for module in (mdata, mdatasets):
        for name, obj in vars(module).items():
            if isinstance(obj, type) and not issubclass(obj, BaseException) and not name.startswith("_"):
                found[name] = obj
    return found


# ---------------------------------------------------------------- TensorDataset + DataLoader
ARRAY_DTYPES = st.sampled_from(("float64", "float32", "int64", "uint8", "bool", "float64"))


@dataclass(frozen=True)
class LoaderCase:
    arrays: tuple                 # Arr per array (or junk)
    loader: dict                  # DataLoader's arguments
    epochs: int = 1
    key: str = "valid"


@st.composite
def loader_cases(draw):
    n = draw(st.integers(0, 7))
    arrays = tuple(Arr((n,) + draw(shapes(0, 2, 0, 3)), draw(st.sampled_from(("normal", "integers"))),
                       draw(ARRAY_DTYPES), "array", draw(SEED)) for _ in range(draw(st.integers(1, 3))))
    loader = dict(batch_size=draw(st.integers(1, 4)), shuffle=draw(BOOL), drop_last=draw(BOOL),
                  seed=draw(st.sampled_from((None, 0, 7))))
    key = "valid"
    kind = draw(st.sampled_from(("valid", "valid", "array", "length", "loader")))
    if kind == "array":
        i = draw(st.integers(0, len(arrays) - 1))
        a = arrays[i]
        how = draw(st.sampled_from(DTYPES_BAD + ("list", "none", "ragged", "scalar")))
        spoiled = Arr(a.shape, a.values, how, "array", a.seed) if how in DTYPES_BAD else \
            Arr(a.shape, a.values, "float64", how, a.seed)
        arrays, key = arrays[:i] + (spoiled,) + arrays[i + 1:], f"array:{how}"
    elif kind == "length" and len(arrays) > 1:
        a = arrays[-1]
        arrays = arrays[:-1] + (Arr((a.shape[0] + 1,) + a.shape[1:], a.values, a.dtype, "array", a.seed),)
        key = "array:length"
    elif kind == "loader":
        arg, value = draw(st.sampled_from(sorted(loader))), draw(st.sampled_from(BAD_VALUES))
        loader, key = dict(loader, **{arg: value}), f"ctor:{arg}={bad_value_kind(value)}"
    return LoaderCase(arrays, loader, draw(st.integers(1, 2)), key)


def run_loader_mtorch(case):
    dataset = attempt("ctor", mdata.TensorDataset, *build(case.arrays))
    loader = attempt("ctor", mdata.DataLoader, dataset, **case.loader)
    epochs = [attempt("iterate", lambda: [tuple(np.array(b) for b in batch) for batch in loader])
              for _ in range(case.epochs)]
    return {"len": attempt("len", len, loader), "epochs": epochs, "n": len(dataset)}


def run_loader_torch(case):
    tensors = [reference("ctor", _tensor, a) for a in build(case.arrays)]
    if len({len(t) for t in tensors}) > 1:
        reference("ctor", _raise, "Size mismatch between tensors")
    kw = dict(case.loader)
    seed = kw.pop("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        reference("ctor", _raise, f"seed must be None or an int >= 0, got {seed!r}")   # mtorch's own argument
    dataset = torch.utils.data.TensorDataset(*tensors)
    loader = reference("ctor", torch.utils.data.DataLoader, dataset, **dict(kw, shuffle=False))
    batches = reference("iterate", lambda: [tuple(t.numpy() for t in batch) for batch in loader])
    if kw["shuffle"] not in (True, False):
        reference("ctor", _raise, f"shuffle must be a bool, got {kw['shuffle']!r}")  # torch: any truthy value
    return {"len": len(loader), "batches": batches}


def _tensor(a):
    array = np.asarray(a)
    if a is None or array.dtype.kind not in "biuf" or array.ndim == 0:
        raise TypeError(f"not an array of real numbers with a first axis: {type(a).__name__}")
    return torch.from_numpy(np.array(array))


def _raise(message):
    raise ValueError(message)


def compare_loader(case, got, expected):
    problems = [] if got["len"] == expected["len"] else [f"len(loader) {got['len']}, torch {expected['len']}"]
    for epoch in got["epochs"]:
        if len(epoch) != len(expected["batches"]):
            return problems + [f"{len(epoch)} batches, torch {len(expected['batches'])}"]
        if case.loader["shuffle"]:
            problems += _permutation_problems(case, epoch, expected["batches"])
            continue
        for i, (mine, theirs) in enumerate(zip(epoch, expected["batches"])):
            if len(mine) != len(theirs):
                problems.append(f"batch {i}: {len(mine)} arrays, torch {len(theirs)}")
            for j, (a, b) in enumerate(zip(mine, theirs)):
                if a.dtype != b.dtype and not (a.dtype.kind == b.dtype.kind == "b"):
                    problems.append(f"batch {i}, array {j}: dtype {a.dtype}, torch {b.dtype}")
                problems += differences(a, b, f"batch {i}, array {j}")
    return problems


def _permutation_problems(case, epoch, expected):
    """A shuffled epoch: batches of the same sizes as torch's, every sample (its rows of all the
    arrays, kept together) once, or at most once with drop_last."""
    if [len(b[0]) for b in epoch] != [len(b[0]) for b in expected]:
        return [f"batch sizes {[len(b[0]) for b in epoch]}, torch {[len(b[0]) for b in expected]}"]
    full = [np.asarray(build(a)) for a in case.arrays]
    mine = [np.concatenate([b[j] for b in epoch]) if epoch else a[:0] for j, a in enumerate(full)]
    drawn, every = _samples(mine), _samples(full)
    if drawn == every or (case.loader["drop_last"] and not drawn - every):
        return []
    return ["a shuffled epoch is not a permutation of the samples (rows of the arrays kept together)"]


def _samples(arrays):
    """How often each sample occurs: a sample is the bytes of its row in every array."""
    rows = [np.ascontiguousarray(a.reshape(len(a), -1) if a.size else a.reshape(len(a), 0)) for a in arrays]
    return collections.Counter(tuple(bytes(r[i]) for r in rows) for i in range(len(rows[0])))


def check_loader_case(case, tolerate_known=True):
    return judge(FAMILY, "DataLoader", case.key, case, lambda: run_loader_mtorch(case), lambda: run_loader_torch(case),
                 lambda got, expected: compare_loader(case, got, expected), names=("DataLoader", "TensorDataset"),
                 tolerate_known=tolerate_known)


# ---------------------------------------------------------------- DataLoader over a list (default_collate)
@dataclass(frozen=True)
class CollateCase:
    samples: tuple                # per sample: ("tuple", Arr, label) | ("dict", Arr, label) | ("array", Arr) | junk
    batch_size: int
    key: str = "valid"


@st.composite
def collate_cases(draw):
    kind = draw(st.sampled_from(("tuple", "dict", "array", "number")))
    shape = draw(shapes(0, 2, 0, 3))
    samples = [(kind, Arr(shape, "normal", draw(st.sampled_from(("float64", "float32", "int64"))), "array",
                          draw(SEED)), draw(st.integers(0, 9))) for _ in range(draw(st.integers(1, 5)))]
    key = "valid"
    spoil = draw(st.sampled_from(("valid", "valid", "shape", "structure", "none", "str")))
    if spoil != "valid":
        i = draw(st.integers(0, len(samples) - 1))
        k, a, label = samples[i]
        samples[i] = {"shape": (k, Arr(a.shape + (2,), a.values, a.dtype, "array", a.seed), label),
                      "structure": ("tuple" if k in ("array", "number") else "array", a, label),
                      "none": ("none", a, label), "str": ("str", a, label)}[spoil]
        key = f"sample:{spoil}"
    return CollateCase(tuple(samples), draw(st.integers(1, 3)), key)


def _sample(entry):
    kind, a, label = entry
    return {"tuple": lambda: (a.build(), label), "dict": lambda: {"x": a.build(), "y": label},
            "array": a.build, "number": lambda: float(label), "none": lambda: None, "str": lambda: "text"}[kind]()


def run_collate_mtorch(case):
    samples = [_sample(s) for s in case.samples]
    loader = attempt("ctor", mdata.DataLoader, samples, batch_size=case.batch_size)
    return [_flat(b) for b in attempt("iterate", list, loader)]


def run_collate_torch(case):
    samples = [_torch_sample(_sample(s)) for s in case.samples]
    loader = torch.utils.data.DataLoader(samples, batch_size=case.batch_size)
    return [_flat(b) for b in reference("iterate", list, loader)]


def _torch_sample(sample):
    if isinstance(sample, (np.ndarray, np.generic)):
        return torch.from_numpy(np.array(sample))
    if isinstance(sample, tuple):
        return tuple(_torch_sample(s) for s in sample)
    if isinstance(sample, dict):
        return {k: _torch_sample(v) for k, v in sample.items()}
    return sample


def _flat(batch):
    """A batch as a list of arrays (structure flattened: tuple order, dict keys sorted); text as a list
    of str (torch collates text into a list, mtorch into an array of str)."""
    if isinstance(batch, dict):
        return [_part(batch[k]) for k in sorted(batch)]
    if isinstance(batch, tuple) or (isinstance(batch, list) and not all(isinstance(b, str) for b in batch)):
        return [_part(b) for b in batch]
    return [_part(batch)]


def _part(values):
    array = np.asarray(values)
    return array.tolist() if array.dtype.kind == "U" else array.astype(np.float64)


def compare_collate(got, expected):
    if len(got) != len(expected):
        return [f"{len(got)} batches, torch {len(expected)}"]
    problems = []
    for i, (mine, theirs) in enumerate(zip(got, expected)):
        if len(mine) != len(theirs):
            return [f"batch {i} has {len(mine)} parts, torch's {len(theirs)}"]
        for a, b in zip(mine, theirs):
            if isinstance(a, list) or isinstance(b, list):
                problems += [] if a == b else [f"batch {i}: {a!r}, torch {b!r}"]
            else:
                problems += differences(a, b, f"batch {i}")
    return problems


def check_collate_case(case, tolerate_known=True):
    return judge(FAMILY, "DataLoader", case.key, case, lambda: run_collate_mtorch(case),
                 lambda: run_collate_torch(case), compare_collate, tolerate_known=tolerate_known)


# ---------------------------------------------------------------- indexing
INDICES = st.one_of(st.integers(-9, 9), st.sampled_from((slice(1, None), slice(None, None, -1), slice(0, 0))),
                    st.lists(st.integers(-4, 4), max_size=3).map(np.array), st.sampled_from(
                        (2.5, "1", None, True, np.array([0.5]), np.array([[0, 1]]), (0, 0), np.int64(1))))


@dataclass(frozen=True)
class IndexCase:
    name: str                     # "TensorDataset", "SineWaves", "CharDataset", "Iris"
    size: int
    index: object
    key: str = "valid"


@st.composite
def index_cases(draw, name):
    index = draw(INDICES)
    key = f"index:{type(index).__name__}"
    return IndexCase(name, draw(st.integers(1, 5)), index, key)


def _indexed_dataset(case):
    if case.name == "TensorDataset":
        a = np.arange(case.size * 2.0).reshape(case.size, 2)
        return mdata.TensorDataset(a, np.arange(case.size)), (a, np.arange(case.size))
    if case.name == "SineWaves":
        data = mdatasets.SineWaves(case.size, seq_len=3, seed=0)
        return data, (data.inputs, data.targets)
    if case.name == "Iris":
        data = IRIS_DATA
        return data, (data.features, data.labels)
    data = mdatasets.CharDataset("abcdefgh" * 3, block_size=16 - case.size)
    windows = np.stack([data.data[i:i + data.block_size] for i in range(len(data))])
    targets = np.stack([data.data[i + 1:i + 1 + data.block_size] for i in range(len(data))])
    return data, (windows, targets)


def run_index_mtorch(case):
    dataset, _ = _indexed_dataset(case)
    return attempt("index", lambda: [np.array(v) for v in dataset[case.index]])


def run_index_torch(case):
    _, arrays = _indexed_dataset(case)
    index = case.index
    if case.name == "CharDataset" and (isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer))):
        reference("index", _raise, "a window is taken by an int")         # a sequence of windows: ints only
    if isinstance(index, bool) or isinstance(index, str) or index is None:
        reference("index", _raise, f"not an index: {index!r}")              # torch would read True/None as axes
    if isinstance(index, slice):                     # ALLOWED_DIFFERENCES["numpy-indexing"]
        return [np.array(a[index]) for a in arrays]
    if isinstance(index, tuple):
        reference("index", _raise, "a dataset takes one index")    # numpy would index several axes
    tensors = [torch.from_numpy(np.array(a)) for a in arrays]
    if isinstance(index, np.ndarray):
        index = reference("index", torch.from_numpy, index)
    return reference("index", lambda: [t[index].numpy() for t in tensors])


def compare_index(got, expected):
    problems = [] if len(got) == len(expected) else [f"a sample of {len(got)} arrays, torch {len(expected)}"]
    for a, b in zip(got, expected):
        problems += differences(a, b, "sample")
    return problems


def check_index_case(case, tolerate_known=True):
    return judge(FAMILY, case.name, case.key, case, lambda: run_index_mtorch(case), lambda: run_index_torch(case),
                 compare_index, extra=(IndexError,), tolerate_known=tolerate_known)


# ---------------------------------------------------------------- generated data and transforms
@dataclass(frozen=True)
class ArgsCase:
    name: str
    kwargs: dict
    call: object = None           # what the object is then called or indexed with
    key: str = "valid"


def _spoil(draw, kwargs, params):
    if draw(st.sampled_from(("valid", "valid", "ctor"))) == "valid":
        return kwargs, "valid"
    arg, value = draw(st.sampled_from(sorted(params))), draw(st.sampled_from(BAD_VALUES))
    return dict(kwargs, **{arg: value}), f"ctor:{arg}={bad_value_kind(value)}"


@st.composite
def sine_cases(draw):
    kw = dict(n_sequences=draw(st.integers(1, 4)), seq_len=draw(st.integers(1, 6)),
              dt=draw(st.sampled_from((0.1, 1.0, 0.01))),
              freq_range=draw(st.sampled_from((1.0, (0.5, 2.0), [1.0, 1.0], 3))),
              seed=draw(st.sampled_from((None, 0, 5))))
    kw, key = _spoil(draw, kw, kw)
    return ArgsCase("SineWaves", kw, key=key)


def run_sine(case):
    data = attempt("ctor", mdatasets.SineWaves, **case.kwargs)
    return data


def check_sine(data):
    """inputs/targets are sin/cos of freq * j * dt + phase, float32, (n, seq_len, 1)."""
    kw = data
    angle = kw.freqs[:, None] * (np.arange(kw.seq_len) * kw.dt) + kw.phases[:, None]
    problems = differences(kw.inputs[..., 0], np.sin(angle), "inputs")
    problems += differences(kw.targets[..., 0], np.cos(angle), "targets")
    if kw.inputs.dtype != np.float32 or kw.inputs.shape != (len(kw), kw.seq_len, 1):
        problems.append(f"inputs are {kw.inputs.dtype} {kw.inputs.shape}")
    return problems


TEXTS = st.one_of(st.text(min_size=0, max_size=40), st.sampled_from(("hello world, hello text", "ab" * 20)))


@st.composite
def char_cases(draw):
    kw = dict(text=draw(TEXTS), block_size=draw(st.integers(1, 6)), train=draw(BOOL),
              train_fraction=draw(st.sampled_from((0.9, 0.5, 0.99))))
    kw, key = _spoil(draw, kw, kw)
    return ArgsCase("CharDataset", kw, draw(st.one_of(st.text(max_size=5), st.sampled_from((None, 3, b"ab")))), key)


def run_char(case):
    data = attempt("ctor", mdatasets.CharDataset, **case.kwargs)
    encoded = attempt("encode", data.encode, case.call) if isinstance(case.call, str) and set(case.call) <= set(
        data.chars) else None
    decoded = None if encoded is None else attempt("decode", data.decode, encoded)
    batch = attempt("get_batch", data.get_batch, np.arange(len(data)))
    return data, case.call if encoded is not None else None, decoded, batch


def check_char(result):
    data, text, decoded, (x, y) = result
    problems = [] if text is None or decoded == text else [f"decode(encode({text!r})) is {decoded!r}"]
    if not (np.array_equal(x[:, 1:], y[:, :-1]) and x.shape == (len(data), data.block_size)):
        problems.append("get_batch: the targets are not the windows shifted by one")
    if len(data) and not np.array_equal(data[len(data) - 1][0], x[-1]):
        problems.append("dataset[i] differs from get_batch([i])")
    return problems


IMAGES = st.builds(Arr, shapes(0, 4, 0, 4), st.sampled_from(("counts", "normal", "large", "nan")),
                   st.sampled_from(DTYPES_REAL + DTYPES_BAD), st.sampled_from(("array", "array", "list", "none")), SEED)


@st.composite
def normalize_cases(draw):
    kw = dict(mean=draw(st.sampled_from((0.0, 0.1307, -1.0))), std=draw(st.sampled_from((1.0, 0.3081, 2.0))),
              flatten=draw(BOOL))
    kw, key = _spoil(draw, kw, kw)
    images = draw(IMAGES)
    return ArgsCase("Normalize", kw, images, key + f"/{images.dtype}/{images.form}")


def run_normalize(case):
    transform = attempt("ctor", mdatasets.Normalize, **case.kwargs)
    return transform, case.call, attempt("call", transform, case.call.build())


def check_normalize(result):
    transform, images, y = result
    x = np.asarray(images.build(), dtype=np.float64)
    if x.ndim < 2:
        return [f"accepted images of shape {x.shape} (expected (..., H, W))"]
    expected = (x / 255 - transform.mean) / transform.std
    expected = expected.reshape(x.shape[:-2] + (x.shape[-2] * x.shape[-1],)) if transform.flatten else expected
    problems = [] if y.dtype == np.float32 else [f"dtype {y.dtype}"]
    return problems + differences(y, expected, "normalized")


@st.composite
def split_cases(draw):
    labels = Arr((draw(st.integers(0, 12)),), f"index:{draw(st.integers(1, 4))}", draw(st.sampled_from(
        ("int64", "int64", "uint8", "float64", "bool", "str"))), draw(st.sampled_from(("array", "array", "list"))),
        draw(SEED))
    kw = dict(labels=labels, test_fraction=draw(st.sampled_from((0.25, 0.5, 1 / 3, 0.9))),
              seed=draw(st.sampled_from((None, 0, 3))))
    kw, key = _spoil(draw, kw, {"test_fraction", "seed", "labels"})
    return ArgsCase("stratified_split", kw, key=key)


def run_split(case):
    return build(case.kwargs["labels"]), case.kwargs["test_fraction"], attempt(
        "call", mdata.stratified_split, **build(case.kwargs))


def check_split(result):
    labels, fraction, (train, test) = result
    labels = np.asarray(labels)
    n = len(labels)
    both = np.concatenate([train, test])
    problems = []
    if sorted(both.tolist()) != list(range(n)) or list(train) != sorted(train) or list(test) != sorted(test):
        problems.append("train and test are not sorted, disjoint and together 0..N-1")
    if len(test) != int(round(fraction * n)):
        problems.append(f"{len(test)} test samples, expected round({fraction} * {n})")
    for c in np.unique(labels):
        share = np.sum(labels[test] == c)
        exact = np.sum(labels == c) * len(test) / n
        if abs(share - exact) >= 1:
            problems.append(f"class {c}: {share} test samples, its share is {exact:.2f}")
    return problems


FILE_DATASETS = {"MNIST": ("root", "train", "download", "transform"),
                 "FashionMNIST": ("root", "train", "download", "transform"),
                 "CIFAR10": ("root", "train", "download", "transform"),
                 "TinyShakespeare": ("root", "train", "block_size", "download"),
                 "Iris": ("root",)}
ALWAYS_BAD = (3, 2.5, [1], object, complex(1, 1), b"x")


@st.composite
def file_cases(draw, name):
    arg, value = draw(st.sampled_from(FILE_DATASETS[name])), draw(st.sampled_from(ALWAYS_BAD))
    return ArgsCase(name, {arg: value}, key=f"ctor:{arg}={bad_value_kind(value)}")


def run_file_dataset(case):
    with tempfile.TemporaryDirectory() as empty:      # nothing is there and nothing is downloaded
        kw = {"root": empty, **({"download": False} if "download" in FILE_DATASETS[case.name] else {})}
        kw.update(case.kwargs)
        return attempt("ctor", getattr(mdatasets, case.name), **kw)


def _must_refuse(result):
    return [f"accepted a spoiled argument: {result!r}"]


TRIALS = {   # class -> (strategy of cases, run, check of the result or None)
    "SineWaves": (sine_cases(), run_sine, check_sine),
    "CharDataset": (char_cases(), run_char, check_char),
    "Normalize": (normalize_cases(), run_normalize, check_normalize),
}
for _name in FILE_DATASETS:
    TRIALS[_name] = (file_cases(_name), run_file_dataset, _must_refuse)

DATA = sorted(set(TRIALS) | {"DataLoader", "TensorDataset", "Dataset"})
NOT_FUZZED = {"ImageDataset": "the base of MNIST, Fashion-MNIST and CIFAR-10, fuzzed through them"}


def check_args_case(case, tolerate_known=True):
    _, run, check = TRIALS.get(case.name) or (None, run_split, check_split)
    extra = (FileNotFoundError,) if case.name in FILE_DATASETS else ()
    return judge(FAMILY, case.name, case.key, case, lambda: run(case), lambda: None, lambda got, _: check(got),
                 extra=extra, tolerate_known=tolerate_known, needs_torch=False)



PUBLIC = public_data_classes()
IRIS_DATA = None


def _iris():
    global IRIS_DATA
    if IRIS_DATA is None:
        try:
            IRIS_DATA = mdatasets.Iris()
        except mdatasets.DatasetNotFoundError:
            pytest.skip("Iris's iris.csv is not in the data folder")
    return IRIS_DATA


# ---------------------------------------------------------------- tests
def test_every_public_data_class_is_covered():
    check_coverage(PUBLIC, DATA, "TRIALS (or NOT_FUZZED)", NOT_FUZZED)


@fuzz_settings
@given(case=loader_cases())
def test_fuzz_tensor_dataset_loader(case):
    check_loader_case(case)


@fuzz_settings
@given(case=collate_cases())
def test_fuzz_default_collate(case):
    check_collate_case(case)


@pytest.mark.parametrize("name", ["TensorDataset", "SineWaves", "CharDataset", "Iris"])
@fuzz_settings
@given(data=st.data())
def test_fuzz_indexing(name, data):
    if name == "Iris":
        _iris()
    check_index_case(data.draw(index_cases(name)))


@pytest.mark.parametrize("name", sorted(TRIALS))
@fuzz_settings
@given(data=st.data())
def test_fuzz_data_class(name, data):
    check_args_case(data.draw(TRIALS[name][0]))


@fuzz_settings
@given(case=split_cases())
def test_fuzz_stratified_split(case):
    check_args_case(case)

