"""mtorch.save / mtorch.load: exact round trips, atomic writes, bit-identical resumption,
and clear refusals of files that are not complete mtorch checkpoints or hold pickles."""
import hashlib
import io
import json
import math
import os
import pickle
import signal
import subprocess
import sys
import time
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import mtorch
from mtorch import CheckpointError, Sequential, serialization
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
                              "refers to an array 'nope'")):
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


# ------------------------------------------------------------- file objects
def test_save_and_load_file_objects(tmp_path):
    obj = {"w": np.arange(5.0), "epoch": 2}
    buffer = io.BytesIO()
    mtorch.save(obj, buffer)
    buffer.seek(0)
    back = mtorch.load(buffer)
    np.testing.assert_array_equal(back["w"], obj["w"]) and back["epoch"] == 2
    with open(tmp_path / "f.npz", "wb") as f:
        mtorch.save(obj, f)
    with open(tmp_path / "f.npz", "rb") as f:
        assert mtorch.load(f)["epoch"] == 2
    assert mtorch.load(tmp_path / "f.npz")["epoch"] == 2

    class Stream:                                     # readable, not seekable (a pipe, a socket)
        def __init__(self, data):
            self._f = io.BytesIO(data)

        def read(self, n=-1):
            return self._f.read(n)

        def seekable(self):
            return False

    assert mtorch.load(Stream(buffer.getvalue()))["epoch"] == 2
    with pytest.raises(CheckpointError, match="the file object is truncated or damaged"):
        mtorch.load(io.BytesIO(buffer.getvalue()[:-100]))


def test_a_stale_temporary_file_is_removed_by_the_next_save(tmp_path):
    path = tmp_path / "c.npz"
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    dead = int(child.stdout)                          # a process that has ended
    stale = tmp_path / f".c.npz.{dead}.0123456789ab.tmp"
    stale.write_bytes(b"half a checkpoint")
    busy = tmp_path / f".c.npz.{os.getpid()}.0123456789ab.tmp"   # a save still running (this process)
    busy.write_bytes(b"")
    other = tmp_path / f".d.npz.{dead}.0123456789ab.tmp"           # another checkpoint's
    other.write_bytes(b"")
    mtorch.save({"x": 1}, path)
    assert sorted(os.listdir(tmp_path)) == sorted(["c.npz", busy.name, other.name])


def _killed_saves(path, state_size, trials, seed):
    """Fork a process that saves checkpoints to ``path`` in a loop and SIGKILL it after a random
    delay, ``trials`` times; returns how many kills left a temporary file behind."""
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    mtorch.save({"version": 0, "w": np.zeros(state_size, np.float32)}, path)
    one_save = time.perf_counter() - start
    interrupted = 0
    for trial in range(trials):
        pid = os.fork()
        if pid == 0:                                  # the child: save, save, save ... until killed
            try:
                version = 1000 * (trial + 1)
                while True:
                    version += 1
                    mtorch.save({"version": version, "w": np.full(state_size, version, np.float32)}, path)
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0, 3 * one_save))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        checkpoint = mtorch.load(path)                # the old or the new one, complete
        assert checkpoint["w"].shape == (state_size,)
        assert np.all(checkpoint["w"] == checkpoint["version"]), trial
        interrupted += len(os.listdir(path.parent)) > 1
        mtorch.save(checkpoint, path)                 # the next save removes the dead one's file
        assert os.listdir(path.parent) == [path.name], trial
    return interrupted


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_save_killed_at_a_random_moment_leaves_a_complete_checkpoint(tmp_path):
    interrupted = _killed_saves(tmp_path / "c.npz", state_size=1_000_000, trials=24, seed=0)
    assert interrupted >= 5                           # most kills hit a save in progress


def _resume(path, model, optimizer):
    """The documented resume path."""
    checkpoint = mtorch.load(path)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])


def test_every_bit_flip_and_truncation_is_refused_and_changes_nothing(tmp_path):
    model, optimizer, scheduler, loader = make_run("adam", seed=0)
    train(model, optimizer, scheduler, loader, 1)
    path = _saved(tmp_path, {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 1})
    data = path.read_bytes()
    target, target_optimizer, _, _ = make_run("adam", seed=1)
    train(target, target_optimizer, *make_run("adam", seed=1)[2:], 1)
    model_before, optimizer_before = target.state_dict(), target_optimizer.state_dict()
    _resume(path, *make_run("adam", seed=2)[:2])      # the intact file loads

    rng = np.random.default_rng(0)
    positions = np.concatenate([rng.integers(0, len(data), 100),            # anywhere
                                rng.integers(len(data) - 600, len(data), 40),   # zip directory
                                np.arange(0, 40, 4)])                       # first local header
    broken = tmp_path / "broken.npz"
    for position in positions:
        damaged = bytearray(data)
        damaged[position] ^= 1 << int(rng.integers(8))
        broken.write_bytes(bytes(damaged))
        with pytest.raises(CheckpointError, match="truncated or damaged|not an mtorch checkpoint"):
            _resume(broken, target, target_optimizer)
    for length in np.concatenate([rng.integers(0, len(data), 40), [len(data) - 1, len(data) - 64, 4, 22]]):
        broken.write_bytes(data[:length])
        with pytest.raises(CheckpointError):
            _resume(broken, target, target_optimizer)

    for key, value in target.state_dict().items():
        np.testing.assert_array_equal(value, model_before[key])
    after = target_optimizer.state_dict()
    assert after["param_groups"] == optimizer_before["param_groups"]
    for i, entry in optimizer_before["state"].items():
        for key, value in entry.items():
            np.testing.assert_array_equal(after["state"][i][key], value)


# ---------------------------------------------------------- crafted files
def _crafted(path, members, header=None, version=2, compress_type=zipfile.ZIP_STORED, flag_bits=0):
    """A hand-made archive: ``members`` (name -> bytes, or a list of pairs) plus an mtorch header for ``header``
    (a tree), sealed with the SHA-256 comment ``mtorch.save`` writes, so that only what is
    crafted is wrong."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.comment = serialization._DIGEST_PREFIX + b"0" * 64
        if header is not None:
            text = header if isinstance(header, bytes) else json.dumps(
                {"format": "mtorch.checkpoint", "version": version, "tree": header}).encode()
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.frombuffer(text, np.uint8))
            archive.writestr("__mtorch__.npy", buffer.getvalue())
        for name, content in (members.items() if isinstance(members, dict) else members):
            info = zipfile.ZipInfo(name)
            info.compress_type = compress_type
            archive.writestr(info, content)
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):     # general purpose flags
        start = data.find(signature)
        while flag_bits and start >= 0:
            data[start + offset] |= flag_bits
            start = data.find(signature, start + 1)
    data[-64:] = hashlib.sha256(data[:-len(serialization._DIGEST_PREFIX) - 64]).hexdigest().encode()
    path.write_bytes(bytes(data))
    return path


def _npy(array=None, header=None):
    buffer = io.BytesIO()
    if header is None:
        np.lib.format.write_array(buffer, array)
    else:
        np.lib.format.write_array_header_1_0(buffer, header)
        buffer.write(b"\0" * 64)
    return buffer.getvalue()


@pytest.mark.parametrize("members, tree, kwargs, fragment", [
    ({"w.npy": _npy(np.zeros(3))}, {"array": "w"}, {}, None),                     # well-formed: loads
    ({"w.npy": _npy(np.zeros(3))}, {"array": "w"}, {"flag_bits": 1}, "encrypted"),
    ({"w.npy": _npy(np.zeros(3))}, {"array": "w"}, {"compress_type": zipfile.ZIP_DEFLATED}, "compressed"),
    ({"w.npy": _npy(np.zeros(3))}, {"array": "w"}, {"compress_type": zipfile.ZIP_LZMA}, "compressed"),
    ({"w.npy": _npy(header={"descr": "<f8", "fortran_order": False, "shape": (1 << 39,)})},
     {"array": "w"}, {}, r"announces shape \(549755813888,\)"),                   # 4 TiB of float64
    ({"w.npy": _npy(header={"descr": "<f8", "fortran_order": False, "shape": (-5,)})},
     {"array": "w"}, {}, "damaged"),
    ({"w.npy": _npy(header={"descr": "|O", "fortran_order": False, "shape": (1,)})},
     {"array": "w"}, {}, "pickled Python objects"),
    ({"w.npy": b"\x93NUMPY\x09\x00junk"}, {"array": "w"}, {}, "damaged"),
    ({"w.npy": b"not npy"}, {"array": "w"}, {}, "damaged"),
    ({"w.npy": _npy(np.zeros(3))}, {"array": "v"}, {}, "refers to an array 'v'"),
    ({"w.npy": _npy(np.zeros(3)), "v.npy": _npy(np.zeros(1))}, {"array": "w"}, {}, "does not use"),
    ({"w.npy": _npy(np.zeros(3))}, {"scalar": "w"}, {}, "damaged"),
    ({"w.npy": _npy(np.zeros(3))}, {"array": "w", "list": []}, {}, "malformed node"),
    ({}, {"dict": [[True, 1]]}, {}, "damaged"),
    ({}, {"dict": [["a", 1], ["a", 2]]}, {}, "twice"),
    ({}, {"list": {"a": 1}}, {}, "damaged"),
    ({}, {"set": [1]}, {}, "unknown node kind"),
    ({}, [1, 2], {}, "malformed node"),
    ({}, {"list": [{"list": []}]}, {"version": 0}, "damaged '__mtorch__' header"),
    ({}, {"list": []}, {"version": "2"}, "damaged '__mtorch__' header"),
])
def test_crafted_archives(members, tree, kwargs, fragment, tmp_path):
    path = _crafted(tmp_path / "c.npz", members, tree, **kwargs)
    if fragment is None:
        np.testing.assert_array_equal(mtorch.load(path), np.zeros(3))
        return
    with pytest.raises(CheckpointError, match=fragment):
        mtorch.load(path)


def test_deep_nesting_is_refused_both_ways(tmp_path):
    deep = []
    for _ in range(serialization.MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper than 100"):
        mtorch.save(deep, tmp_path / "deep.npz")
    assert os.listdir(tmp_path) == []
    tree = {"list": []}
    for _ in range(150):                                  # within json's limit, beyond MAX_DEPTH
        tree = {"list": [tree]}
    with pytest.raises(CheckpointError, match="nested deeper than 100"):
        mtorch.load(_crafted(tmp_path / "a.npz", {}, tree))
    text = b'{"format": "mtorch.checkpoint", "version": 2, "tree": ' + b"[" * 100000 + b"]" * 100000 + b"}"
    with pytest.raises(CheckpointError, match="damaged '__mtorch__' header"):   # RecursionError in json
        mtorch.load(_crafted(tmp_path / "b.npz", {}, text))


def test_a_duplicated_member_is_refused(tmp_path):
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = _crafted(tmp_path / "c.npz", [("w.npy", _npy(np.zeros(3))), ("w.npy", _npy(np.ones(3)))],
                        {"array": "w"})
    with pytest.raises(CheckpointError, match="'w.npy' appears twice"):
        mtorch.load(path)


def test_a_version_1_checkpoint_without_digest_still_loads(tmp_path):
    path = tmp_path / "old.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in (("__mtorch__", np.frombuffer(json.dumps(
                {"format": "mtorch.checkpoint", "version": 1, "tree": {"array": "w"}}).encode(), np.uint8)),
                            ("w", np.arange(3))):
            with archive.open(name + ".npy", "w") as member:
                np.lib.format.write_array(member, array)
    np.testing.assert_array_equal(mtorch.load(path), np.arange(3))
    data = bytearray(path.read_bytes())
    data[data.index(np.arange(3).tobytes()) + 8] ^= 1             # the member's CRC still guards it
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="truncated or damaged"):
        mtorch.load(path)
