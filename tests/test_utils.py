"""mtorch.utils: weights to and from PyTorch, checkpoints, evaluation in batches, history,
progress bars and command-line argument types."""
import argparse
import io
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import mtorch
from mtorch import Sequential, layers
from mtorch.data import DataLoader, TensorDataset
from mtorch.errors import CheckpointError, StateDictError
from mtorch.loss import CrossEntropyLoss
from mtorch.optim import SGD, Adam
from mtorch.optim.lr_scheduler import StepLR
from mtorch.utils import (History, evaluate, fraction, from_torch_state_dict, load_checkpoint, nonnegative_float,
                          nonnegative_int, positive_float, positive_int, progress, save_checkpoint, shows_bars,
                          to_torch_state_dict, writable_dir)


# ------------------------------------------------------------ PyTorch bridge
def _mtorch_net():
    return Sequential([layers.Conv2d(1, 2, 3), layers.BatchNorm2d(2), layers.ReLU(), layers.Flatten(),
                       layers.Linear(8, 3)])


def _torch_net(torch):
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))


def _trained_a_little(net, rng):
    net(rng.standard_normal((6, 1, 4, 4)).astype(np.float32))          # moves BatchNorm's running stats
    net.eval()
    return net


def test_mtorch_weights_run_the_same_in_torch(rng):
    torch = pytest.importorskip("torch")
    net = _trained_a_little(_mtorch_net(), rng)
    state = to_torch_state_dict(net.state_dict())
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    assert state["1.num_batches_tracked"].dtype == torch.int64 and state["0.weight"].dtype == torch.float32
    tnet = _torch_net(torch)
    tnet.load_state_dict(state)                                           # strict: every key matches
    tnet.eval()
    x = rng.standard_normal((5, 1, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(tnet(torch.from_numpy(x)).detach().numpy(), net(x), rtol=1e-5, atol=1e-6)
    state["0.weight"] += 1                                                # copies: the model is untouched
    assert not np.array_equal(state["0.weight"].numpy(), net[0].weight.data)


@pytest.mark.parametrize("how", ["direct", "keep_vars", "from_torch_state_dict"])
def test_torch_weights_run_the_same_in_mtorch(how, rng):
    torch = pytest.importorskip("torch")
    tnet = _torch_net(torch)
    tnet(torch.randn(6, 1, 4, 4))
    tnet.eval()
    state = {"direct": lambda: tnet.state_dict(),
             "keep_vars": lambda: tnet.state_dict(keep_vars=True),            # Parameters that require grad
             "from_torch_state_dict": lambda: from_torch_state_dict(tnet.state_dict())}[how]()
    net = _mtorch_net().eval()
    net.load_state_dict(state)
    x = rng.standard_normal((5, 1, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(net(x), tnet(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert net[0].weight.data.dtype == np.float32 and net[1].num_batches_tracked == 1
    with torch.no_grad():
        next(tnet.parameters()).add_(1.0)                                 # no memory shared with torch
    assert not np.array_equal(net[0].weight.data, tnet[0].weight.detach().numpy())


def test_a_torch_state_dict_of_another_model_changes_nothing(rng):
    torch = pytest.importorskip("torch")
    net = _mtorch_net()
    before = net.state_dict()
    state = _torch_net(torch).state_dict()
    state["4.weight"] = torch.zeros(3, 9)
    with pytest.raises(StateDictError, match=r"4.weight.*shape \(3, 9\), expected \(3, 8\)"):
        net.load_state_dict(state)
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_from_torch_state_dict_keeps_dtypes_and_refuses_other_things():
    torch = pytest.importorskip("torch")
    state = from_torch_state_dict({"w": torch.ones(2, dtype=torch.float64, requires_grad=True),
                                   "n": torch.tensor(3)})
    assert state["w"].dtype == np.float64 and state["n"].dtype == np.int64 and state["n"].shape == ()
    with pytest.raises(TypeError, match="from_torch_state_dict: expected a state dict"):
        from_torch_state_dict([torch.ones(2)])
    with pytest.raises(TypeError, match="'w' must hold real numbers"):
        from_torch_state_dict({"w": torch.ones(2, dtype=torch.complex64)})
    with pytest.raises(TypeError, match="names"):
        to_torch_state_dict({0: np.zeros(2)})


def test_to_torch_state_dict_says_when_torch_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"needs PyTorch \(pip install torch\)"):
        to_torch_state_dict({"w": np.zeros(2)})


# ------------------------------------------------------------- checkpoints
def _run(seed):
    mtorch.manual_seed(seed)
    model = Sequential([layers.Linear(3, 4), layers.ReLU(), layers.Linear(4, 2)])
    optimizer = Adam(model, lr=0.01)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
    model(np.ones((2, 3), np.float32))
    model.backward(np.ones((2, 2), np.float32))
    optimizer.step()
    scheduler.step()
    return model, optimizer, scheduler


def _states(model, optimizer, scheduler):
    return model.state_dict(), optimizer.state_dict(), scheduler.state_dict(), mtorch.random.get_rng_state()


def _assert_same(a, b):
    np.testing.assert_equal(a, b)


def test_checkpoint_round_trip_restores_everything(tmp_path):
    model, optimizer, scheduler = _run(0)
    path = save_checkpoint(tmp_path / "sub" / "c.npz", model, optimizer, scheduler, epoch=3,
                           history={"loss": [1.0, 0.5]})
    expected = _states(model, optimizer, scheduler)
    mtorch.random.generator().random(5)
    other = _run(1)
    extra = load_checkpoint(path, *other)
    assert extra == {"epoch": 3, "history": {"loss": [1.0, 0.5]}}
    _assert_same(_states(*other), expected)
    with pytest.raises(TypeError, match="'model'"):
        save_checkpoint(tmp_path / "x.npz", model, model=1)
    with pytest.raises(TypeError, match="^checkpoint: optimizer must have state_dict"):
        save_checkpoint(tmp_path / "x.npz", model, 0.1)
    with pytest.raises(TypeError, match="^checkpoint: model must have state_dict"):
        load_checkpoint(path, "model")


def test_load_checkpoint_is_all_or_nothing(tmp_path):
    model, optimizer, scheduler = _run(0)
    path = save_checkpoint(tmp_path / "c.npz", model, optimizer, scheduler)
    target = _run(1)
    before = _states(*target)
    wrong_optimizer = SGD(target[0], lr=0.1, momentum=0.5)           # the model fits, the optimizer does not
    with pytest.raises(StateDictError, match="SGD.load_state_dict"):
        load_checkpoint(path, target[0], wrong_optimizer)
    _assert_same(_states(*target), before)
    with pytest.raises(CheckpointError, match=r"not the entries \['model', 'optimizer', 'scheduler'\]"):
        load_checkpoint(save_checkpoint(tmp_path / "m.npz", model), *target)
    _assert_same(_states(*target), before)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 4
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError):
        load_checkpoint(path, *target)
    _assert_same(_states(*target), before)


# --------------------------------------------------------------- evaluate
def test_evaluate_in_batches_equals_one_pass(rng):
    model = Sequential([layers.Linear(4, 3), layers.Dropout(0.5)])
    x = rng.standard_normal((10, 4)).astype(np.float32)
    y = rng.integers(0, 3, 10)
    loss_func = CrossEntropyLoss()
    loss, out = evaluate(model, TensorDataset(x, y), loss_func, batch_size=4)      # batches of 4, 4, 2
    model.eval()
    np.testing.assert_allclose(out, model(x), rtol=1e-6)
    assert loss == pytest.approx(loss_func(model(x), y).value, rel=1e-6)
    model.train()
    evaluate(model, DataLoader(TensorDataset(x, y), batch_size=3))
    assert model.training                                                # the mode is restored
    model.eval()
    assert evaluate(model, TensorDataset(x, y))[0] is None and not model.training
    with pytest.raises(ValueError, match="empty"):
        evaluate(model, TensorDataset(x[:0], y[:0]))
    with pytest.raises(TypeError, match=r"^evaluate: data must give \(input, target\) pairs"):
        evaluate(model, TensorDataset(x))


def test_history_records_saves_and_plots(tmp_path):
    history = History()
    for epoch in range(3):
        history.add(train_loss=1.0 / (epoch + 1), test_loss=1.2 / (epoch + 1), test_acc=0.5 + epoch / 10)
    assert len(history) == 3 and history["test_acc"] == [0.5, 0.6, 0.7] and history.last("train_loss") == 1 / 3
    other = History()
    other.load_state_dict(mtorch.load(mtorch.save(history.state_dict(), tmp_path / "h.npz") or tmp_path / "h.npz"))
    assert other.state_dict() == history.state_dict() and "test_acc" in other
    fig = history.plot(tmp_path / "curves.png")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "acc"]
    assert (tmp_path / "curves.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="History.load_state_dict"):
        other.load_state_dict({"loss": 1.0})


# --------------------------------------------------------------- progress
class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_draws_a_bar_only_on_a_terminal():
    log = io.StringIO()
    bar = progress(range(50), desc="epoch", file=log)
    assert list(bar) == list(range(50)) and len(bar) == 50
    bar.set_postfix(loss="0.1")
    bar.close()
    assert log.getvalue() == ""
    terminal = _Terminal()
    assert list(progress(range(50), desc="epoch", file=terminal)) == list(range(50))
    assert "epoch:   0%" in terminal.getvalue()                          # drawn (leave=False wipes it at the end)
    quiet = _Terminal()
    list(progress(range(5), file=quiet, quiet=True))
    assert quiet.getvalue() == ""


def test_bars_are_shown_in_a_jupyter_notebook(monkeypatch):
    class ZMQInteractiveShell:                       # the shell a Jupyter kernel runs
        pass

    fake_ipython = types.ModuleType("IPython")
    fake_ipython.get_ipython = ZMQInteractiveShell
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython)
    assert shows_bars(file=io.StringIO()) and not shows_bars(quiet=True, file=io.StringIO())
    fake_ipython.get_ipython = lambda: None          # plain Python with IPython merely imported
    assert not shows_bars(file=io.StringIO())


# ------------------------------------------------------ command-line types
@pytest.mark.parametrize("kind, good, bad", [
    (positive_int, [("1", 1), ("128", 128)], ["0", "-3", "2.5", "ten", ""]),
    (nonnegative_int, [("0", 0), ("7", 7)], ["-1", "1e3"]),
    (positive_float, [("0.1", 0.1), ("1e-3", 1e-3), ("2", 2.0)], ["0", "-0.1", "nan", "inf", "x"]),
    (nonnegative_float, [("0", 0.0), ("5", 5.0)], ["-1e-9", "nan", "-inf"]),
    (fraction, [("0", 0.0), ("0.1", 0.1), ("0.999", 0.999)], ["1", "-0.1", "1.5", "nan", "x"]),
])
def test_number_types(kind, good, bad):
    for text, value in good:
        assert kind(text) == value and type(kind(text)) is type(value)
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError, match=f"must be .*, got {text!r}"):
            kind(text)
    with pytest.raises(TypeError, match=f"^{kind.__name__}: expected the command-line text"):
        kind(3)


def test_writable_dir_tries_for_real_and_leaves_nothing(tmp_path):
    assert writable_dir(str(tmp_path)) == str(tmp_path)
    assert writable_dir(tmp_path) == tmp_path
    with pytest.raises(TypeError, match="^writable_dir: expected the command-line text"):
        writable_dir(5)
    assert writable_dir(str(tmp_path / "new" / "deeper")) == str(tmp_path / "new" / "deeper")
    assert os.listdir(tmp_path) == []                                   # nothing made by the test
    (tmp_path / "file").write_text("")
    with pytest.raises(argparse.ArgumentTypeError, match="is not a folder"):
        writable_dir(str(tmp_path / "file" / "runs"))
    with pytest.raises(argparse.ArgumentTypeError, match="cannot write to '/proc/mtorch-runs'"):
        writable_dir("/proc/mtorch-runs")                               # refused even to root
    parser = argparse.ArgumentParser(prog="train.py")
    parser.add_argument("--out", type=writable_dir)
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["--out", str(tmp_path / "file")])
    assert info.value.code == 2


def test_every_name_resolves_and_import_mtorch_loads_none_of_them():
    import mtorch.utils as utils

    for name in utils.__all__:
        assert callable(getattr(utils, name)) and name in dir(utils)
    with pytest.raises(AttributeError, match="no attribute 'fit'"):
        utils.fit
    code = "import sys, mtorch; print(sorted(m for m in sys.modules if m in ('tqdm', 'mtorch.data', 'torch')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr
