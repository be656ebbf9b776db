"""mtorch.save / mtorch.load: exact round trips, atomic writes, bit-identical resumption,
and clear refusals of files that are not complete mtorch checkpoints or hold pickles."""
import math
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import mtorch
from mtorch import CheckpointError, Sequential
from mtorch.data import DataLoader, TensorDataset
from mtorch.layers import Dropout, Linear, ReLU
from mtorch.optim import SGD, Adam, AdamW
from mtorch.optim.lr_scheduler import CosineAnnealingLR, OneCycleLR, StepLR


def test_state_dict_round_trip(tmp_path):
    net = Sequential(Linear(4, 3), ReLU(), Linear(3, 2))
    state = net.state_dict()
    mtorch.save(state, tmp_path / "model.npz")
    back = mtorch.load(tmp_path / "model.npz")
    assert type(back) is OrderedDict and list(back) == list(state)
    for k in state:
        assert back[k].dtype == np.float32
        np.testing.assert_array_equal(back[k], state[k])
    other = Sequential(Linear(4, 3), ReLU(), Linear(3, 2))
    other.load_state_dict(back)
    np.testing.assert_array_equal(other[2].weight.data, net[2].weight.data)


def test_nested_values_come_back_exactly(tmp_path):
    obj = {
        "arrays": [np.arange(6, dtype=np.int64).reshape(2, 3), np.array([True, False]),
                   np.array(["ab", "c"]), np.zeros((0, 3), np.float16), np.array(2.5, np.float64),
                   np.arange(4, dtype=">i4"), np.ones((2, 2), np.uint8)],
        "python": (1, 2.0, -0.1, True, None, "text", 2 ** 100, math.inf, [[], {}, ()]),
        "scalars": [np.float32(0.1), np.int8(-3), np.bool_(True)],
        7: {"a/b": 1, "a": {"b": 2}},
        "": "empty key",
    }
    path = tmp_path / "checkpoint.ckpt"
    mtorch.save(obj, path)
    assert os.listdir(tmp_path) == ["checkpoint.ckpt"]            # exactly this name, no temp files
    back = mtorch.load(str(path))
    assert list(back) == list(obj) and type(back) is dict
    for a, b in zip(back["arrays"], obj["arrays"]):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    python = back["python"]
    assert python == obj["python"][:7] + (math.inf, [[], {}, ()])
    assert [type(v) for v in python] == [type(v) for v in obj["python"]]
    assert [type(v) for v in python[8]] == [list, dict, tuple]
    assert [(type(s), s) for s in back["scalars"]] == [(type(s), s) for s in obj["scalars"]]
    assert back[7] == {"a/b": 1, "a": {"b": 2}} and back[""] == "empty key"
    nan = mtorch.load(_saved(tmp_path, {"x": math.nan}))["x"]
    assert isinstance(nan, float) and math.isnan(nan)


def _saved(directory, obj, name="c.npz"):
    path = directory / name
    mtorch.save(obj, path)
    return path


def test_file_is_a_readable_npz(tmp_path):
    path = _saved(tmp_path, {"model": {"w": np.ones(3, np.float32)}})
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["__mtorch__", "model/w"]
        np.testing.assert_array_equal(npz["model/w"], 1)


@pytest.mark.parametrize("obj, fragment", [
    (Linear(2, 2), "state_dict"),
    ({"w": np.array([{}, 1], dtype=object)}, "Python objects"),
    ({(1, 2): np.zeros(1)}, "keys must be str or int"),
    ({"f": lambda x: x}, "function"),
])
def test_unsavable_objects(obj, fragment, tmp_path):
    with pytest.raises(TypeError, match=fragment):
        mtorch.save(obj, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------- atomicity
def test_a_crash_while_writing_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = _saved(tmp_path, {"epoch": 1, "w": np.zeros(1000, np.float32)})
    before = path.read_bytes()
    write_array = np.lib.format.write_array
    calls = []

    def crash_on_second_array(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("power cut")
        return write_array(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", crash_on_second_array)
    with pytest.raises(KeyboardInterrupt):
        mtorch.save({"epoch": 2, "w": np.ones(1000, np.float32), "v": np.ones(5)}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["c.npz"]
    monkeypatch.setattr(np.lib.format, "write_array", write_array)

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        mtorch.save({"epoch": 3}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["c.npz"]
    monkeypatch.undo()
    assert mtorch.load(path)["epoch"] == 1


# --------------------------------------------------------------- bad files
def test_truncated_checkpoint(tmp_path):
    data = _saved(tmp_path, {"w": np.arange(1000.0)}).read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 30):
        broken = tmp_path / f"cut{cut}.npz"
        broken.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="truncated or damaged"):
            mtorch.load(broken)


def test_corrupted_array_bytes_are_detected(tmp_path):
    path = _saved(tmp_path, {"w": np.zeros(1000)})
    data = bytearray(path.read_bytes())
    data[data.index(b"\x00" * 64) + 32] = 1                       # flip a byte inside the array
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="damaged"):
        mtorch.load(path)


@pytest.mark.parametrize("content, fragment", [
    (b"", "empty"),
    (b"epoch,loss\n1,0.5\n", "not a zip"),
])
def test_not_a_checkpoint(content, fragment, tmp_path):
    path = tmp_path / "file.npz"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=fragment):
        mtorch.load(path)


def test_other_numpy_files_are_not_checkpoints(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros(3))
    with pytest.raises(CheckpointError, match=r"single \.npy"):
        mtorch.load(tmp_path / "a.npy")
    np.savez(tmp_path / "plain.npz", w=np.zeros(3))
    with pytest.raises(CheckpointError, match="not an mtorch checkpoint.*numpy.load"):
        mtorch.load(tmp_path / "plain.npz")
    with pytest.raises(FileNotFoundError):
        mtorch.load(tmp_path / "missing.npz")


class _Trap:
    """Unpickling this creates a file: the proof that a loader unpickled."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (self.path, "w")


def test_pickles_are_refused_and_never_run(tmp_path):
    trap = str(tmp_path / "unpickled")
    (tmp_path / "p.pkl").write_bytes(pickle.dumps({"w": _Trap(trap)}))
    with pytest.raises(CheckpointError, match="pickle"):
        mtorch.load(tmp_path / "p.pkl")
    np.savez(tmp_path / "objects.npz", w=np.array([_Trap(trap)], dtype=object))
    with pytest.raises(CheckpointError):
        mtorch.load(tmp_path / "objects.npz")
    # an mtorch checkpoint whose array member was replaced by a pickled object array
    path = _saved(tmp_path, {"w": np.zeros(2)})
    with zipfile.ZipFile(path) as archive:
        header = archive.read("__mtorch__.npy")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("__mtorch__.npy", header)
        with archive.open("w.npy", "w") as member:
            np.lib.format.write_array(member, np.array([_Trap(trap)], dtype=object), allow_pickle=True)
    with pytest.raises(CheckpointError, match="pickled Python objects"):
        mtorch.load(path)
    assert not os.path.exists(trap)


def test_a_torch_save_file_is_explained(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.zeros(2)}, tmp_path / "t.pt")
    with pytest.raises(CheckpointError, match="torch.save"):
        mtorch.load(tmp_path / "t.pt")


def test_damaged_or_newer_header(tmp_path):
    path = _saved(tmp_path, {"w": np.zeros(2)})
    for header, fragment in ((b'{"format": "mtorch.checkpoint", "version": 99, "tree": null}', "newer"),
                             (b'{"format": "other", "version": 1, "tree": null}', "format 'other'"),
                             (b"not json", "damaged"),
                             (b'{"format": "mtorch.checkpoint", "version": 1, "tree": {"array": "nope"}}',
                              "does not match")):
        with zipfile.ZipFile(path, "w") as archive:
            with archive.open("__mtorch__.npy", "w") as member:
                np.lib.format.write_array(member, np.frombuffer(header, np.uint8))
        with pytest.raises(CheckpointError, match=fragment):
            mtorch.load(path)


# ------------------------------------------------------------- resumption
def make_run(kind, seed):
    mtorch.manual_seed(seed)
    model = Sequential(Linear(5, 16), ReLU(), Dropout(0.2), Linear(16, 2))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5)).astype(np.float32)
    y = np.stack([x[:, 0] * x[:, 1], np.sin(x[:, 2])], axis=1).astype(np.float32)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
    if kind == "sgd":
        optimizer = SGD(model, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)
        scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
    elif kind == "adam":
        optimizer = Adam(model, lr=0.01, amsgrad=True)
        scheduler = OneCycleLR(optimizer, max_lr=0.05, epochs=6, steps_per_epoch=len(loader))
    else:
        optimizer = AdamW(model, lr=0.01)
        scheduler = CosineAnnealingLR(optimizer, T_max=6)
    return model, optimizer, scheduler, loader


def train(model, optimizer, scheduler, loader, epochs):
    per_batch = isinstance(scheduler, OneCycleLR)
    for _ in range(epochs):
        for xb, yb in loader:
            out = model(xb)
            model.backward(2 * (out - yb) / out.size)          # mean squared error, by hand
            optimizer.step()
            if per_batch:
                scheduler.step()
        if not per_batch:
            scheduler.step()


@pytest.mark.parametrize("kind", ["sgd", "adam", "adamw"])
def test_resuming_from_a_checkpoint_is_bit_identical(kind, tmp_path):
    model, optimizer, scheduler, loader = make_run(kind, seed=0)
    train(model, optimizer, scheduler, loader, 6)
    expected = model.state_dict()

    model, optimizer, scheduler, loader = make_run(kind, seed=0)
    train(model, optimizer, scheduler, loader, 3)
    mtorch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                 "scheduler": scheduler.state_dict(), "epoch": 3,
                 "rng": mtorch.random.get_rng_state()}, tmp_path / "checkpoint.npz")

    model, optimizer, scheduler, loader = make_run(kind, seed=1)   # a different start, then restore
    checkpoint = mtorch.load(tmp_path / "checkpoint.npz")
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    mtorch.random.set_rng_state(checkpoint["rng"])
    assert checkpoint["epoch"] == 3
    train(model, optimizer, scheduler, loader, 6 - checkpoint["epoch"])
    for name, value in model.state_dict().items():
        assert value.dtype == np.float32
        np.testing.assert_array_equal(value, expected[name], err_msg=name)
    assert not np.array_equal(expected["0.weight"], make_run(kind, seed=0)[0].state_dict()["0.weight"])
