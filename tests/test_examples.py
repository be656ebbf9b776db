"""The example scripts: what they print and write, on small fake data."""
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import mtorch
from mtorch.datasets import MNIST

from example_scripts import EXAMPLES, load_example, run_script


def test_mnist_inspect_saves_activation_and_gradient_flow_figures(fake_mnist, tmp_path, capsys):
    """``--inspect`` on 64 fake images: both figures are written and the last line stays the accuracy."""
    load_example("MNIST_recognition").main(["--data-dir", str(fake_mnist), "--out", str(tmp_path / "runs"),
                                            "--epochs", "1", "--batch-size", "4", "--no-plots", "--inspect"])
    out = capsys.readouterr().out
    assert "inspection figures saved to" in out
    assert out.strip().splitlines()[-1].startswith("test accuracy: ")
    for suffix in ("_activations.png", "_gradient_flow.png"):
        assert (tmp_path / "runs" / f"mnist_mlp{suffix}").stat().st_size > 1000


@pytest.mark.parametrize("model", ["cnn", "resnet"])
def test_the_convolutional_models_train_an_epoch(model, fake_mnist, tmp_path, capsys):
    example = load_example("MNIST_recognition")
    accuracy = example.main(["--model", model, "--data-dir", str(fake_mnist), "--out", str(tmp_path / "runs"),
                             "--epochs", "1", "--batch-size", "16", "--no-plots", "--quiet"])
    assert 0 <= accuracy <= 1 and capsys.readouterr().out.startswith("test accuracy: ")
    saved = mtorch.load(str(tmp_path / "runs" / f"mnist_{model}.npz"))["model"]
    assert list(saved) == list(example.MODELS[model]().state_dict())


def test_the_residual_network_on_clothes_defaults_to_its_recipe():
    parse = load_example("MNIST_recognition").parse_args
    resnet = parse(["--model", "resnet", "--dataset", "fashion"])
    assert (resnet.epochs, resnet.lr, resnet.label_smoothing, resnet.flip) == (10, 2e-3, 0.1, True)
    assert parse(["--model", "resnet"]).flip is False                   # a mirrored digit is not a digit
    assert parse(["--model", "resnet", "--dataset", "fashion", "--no-flip"]).flip is False
    mlp = parse(["--dataset", "fashion"])
    assert (mlp.epochs, mlp.lr, mlp.label_smoothing, mlp.flip) == (10, 1e-3, 0.0, False)
    assert parse(["--model", "resnet", "--optimizer", "sgd"]).lr == 0.05


def test_mirror_half_mirrors_some_images_left_right_and_keeps_the_others():
    mirror_half = load_example("MNIST_recognition").mirror_half
    mtorch.manual_seed(0)
    rows = np.arange(64 * 6, dtype=np.float32).reshape(64, 6)          # 64 images of 2 x 3 pixels, as rows
    out = mirror_half(rows, (2, 3))
    images, mirrored = rows.reshape(64, 2, 3), out.reshape(64, 2, 3)
    flipped = np.array([np.array_equal(m, i[:, ::-1]) for m, i in zip(mirrored, images)])
    kept = np.array([np.array_equal(m, i) for m, i in zip(mirrored, images)])
    assert out.shape == rows.shape and np.all(flipped ^ kept) and 16 < flipped.sum() < 48
    assert np.array_equal(rows, np.arange(64 * 6, dtype=np.float32).reshape(64, 6))   # the batch is not changed


# ------------------------------------------------------------ command lines
def _bad_command_lines(tmp_path):
    """``(script, arguments, the error line's end)`` for each refused command line."""
    (tmp_path / "file").write_text("")
    no_data = ["--data-dir", str(tmp_path / "no-data")]          # reading data here would fail differently
    blocked = str(tmp_path / "file" / "runs")
    cases = []
    for script in ("MNIST_recognition.py", "cifar10.py"):
        cases += [(script, no_data + ["--epochs", "0"], "argument --epochs: must be an int >= 1, got '0'"),
                  (script, no_data + ["--epochs", "-3"], "argument --epochs: must be an int >= 1, got '-3'"),
                  (script, no_data + ["--batch-size", "0"], "argument --batch-size: must be an int >= 1, got '0'"),
                  (script, no_data + ["--lr", "0"], "argument --lr: must be a number > 0, got '0'"),
                  (script, no_data + ["--out", blocked], f"argument --out: {blocked!r} is not a folder "
                                                         f"({tmp_path / 'file'} is a file)")]
    cases += [("MNIST_recognition.py", no_data + ["--label-smoothing", "1.5"], "argument --label-smoothing: must be "
                                                                                "a number in [0, 1), got '1.5'"),
              ("MNIST_recognition.py", no_data + ["--label-smoothing", "-0.1"], "argument --label-smoothing: must be "
                                                                                 "a number in [0, 1), got '-0.1'"),
              ("MNIST_recognition.py", no_data + ["--lr", "nan"], "argument --lr: must be a number > 0, got 'nan'"),
              ("MNIST_recognition.py", no_data + ["--out", "/proc/mtorch-runs"], "argument --out: cannot write to "
                                                                                  "'/proc/mtorch-runs'"),
              ("MNIST_recognition.py", no_data + ["--resume", str(tmp_path / "none.npz")], "argument --resume: no file"),
              ("RNN_sin_to_cos.py", ["--epochs", "0"], "argument --epochs: must be an int >= 1, got '0'"),
              ("RNN_sin_to_cos.py", ["--hidden", "-1"], "argument --hidden: must be an int >= 1, got '-1'"),
              ("RNN_sin_to_cos.py", ["--train-size", "0"], "argument --train-size: must be an int >= 1, got '0'"),
              ("RNN_sin_to_cos.py", ["--lr", "-0.01"], "argument --lr: must be a number > 0, got '-0.01'"),
              ("RNN_sin_to_cos.py", ["--out", blocked], "is not a folder"),
              ("RNN_sin_to_cos.py", ["--warmup", "50"], "--warmup must be in [0, seq-len), got 50"),
              ("iris.py", no_data + ["--epochs", "0"], "argument --epochs: must be an int >= 1, got '0'"),
              ("iris.py", no_data + ["--lr", "0"], "argument --lr: must be a number > 0, got '0'"),
              ("iris.py", no_data + ["--weight-decay", "-1"], "argument --weight-decay: must be a number >= 0, got '-1'"),
              ("iris.py", no_data + ["--out", blocked], "is not a folder"),
              ("custom_layer.py", ["--steps", "0"], "argument --steps: must be an int >= 1, got '0'"),
              ("custom_layer.py", ["--lr", "0"], "argument --lr: must be a number > 0, got '0'")]
    return cases


def test_bad_command_lines_give_a_one_line_usage_error_before_anything_runs(tmp_path):
    cases = _bad_command_lines(tmp_path)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda case: run_script([str(EXAMPLES / case[0]), *case[1]]), cases))
    for (script, args, message), result in zip(cases, results):
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2, (script, args, result.stderr)
        assert lines[0].startswith(f"usage: {script} ") and lines[-1].startswith(f"{script}: error: "), lines
        assert message in lines[-1], (message, lines[-1])
        assert "Traceback" not in result.stderr and result.stdout == "", (script, args)
    assert not (tmp_path / "no-data").exists() and os.listdir(tmp_path) == ["file"]   # nothing read or made
    assert time.perf_counter() - start < 2.0 * len(cases)


@pytest.mark.parametrize("script", ["MNIST_recognition.py", "cifar10.py", "RNN_sin_to_cos.py", "iris.py",
                                    "custom_layer.py"])
def test_help(script):
    result = run_script([str(EXAMPLES / script), "--help"])
    assert result.returncode == 0 and result.stdout.startswith(f"usage: {script} ") and "--quiet" in result.stdout
    assert "Traceback" not in result.stderr


def test_output_to_a_file_is_a_line_per_epoch_and_quiet_is_one_line(tmp_path):
    common = [str(EXAMPLES / "RNN_sin_to_cos.py"), "--cell", "rnn", "--epochs", "3", "--train-size", "32",
              "--test-size", "8", "--seq-len", "10", "--hidden", "4", "--no-plots", "--out", str(tmp_path)]
    result = run_script(common)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stdout + result.stderr and result.stderr == ""
    lines = result.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines if line.startswith("epoch")] == ["epoch   1/3", "epoch   2/3",
                                                                                   "epoch   3/3"]
    assert lines[-1].startswith("test mse: ") and (tmp_path / "RNN_sin_to_cos_rnn.npz").is_file()
    quiet = run_script(common + ["--quiet"])
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert quiet.stdout.strip().splitlines() == [lines[-1]]


def test_mnist_quiet_prints_the_accuracy_only_and_no_bars(fake_mnist, tmp_path, capsys):
    accuracy = load_example("MNIST_recognition").main(["--data-dir", str(fake_mnist), "--out", str(tmp_path / "r"),
                                                       "--epochs", "2", "--batch-size", "16", "--quiet"])
    captured = capsys.readouterr()
    assert captured.out == f"test accuracy: {accuracy:.4f}\n" and captured.err == ""
    assert sorted(os.listdir(tmp_path / "r")) == ["mnist_mlp.npz", "mnist_mlp_confusion.png", "mnist_mlp_curves.png",
                                                  "mnist_mlp_misclassified.png"]


def test_mnist_refuses_a_checkpoint_of_another_run(fake_mnist, tmp_path, capsys):
    example = load_example("MNIST_recognition")
    argv = ["--data-dir", str(fake_mnist), "--out", str(tmp_path / "r"), "--epochs", "1", "--batch-size", "32",
            "--no-plots", "--quiet"]
    example.main(argv)
    with pytest.raises(SystemExit, match="the checkpoint was trained with --optimizer adam, not sgd"):
        example.main(argv + ["--optimizer", "sgd", "--resume", str(tmp_path / "r" / "mnist_mlp.npz")])
    (tmp_path / "r" / "mnist_mlp.npz").write_bytes(b"PK\x03\x04 damaged")
    with pytest.raises(SystemExit, match="--resume .*mnist_mlp.npz: mtorch.load: .* damaged"):
        example.main(argv + ["--resume", str(tmp_path / "r" / "mnist_mlp.npz")])


def test_mnist_without_data_says_so_without_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setattr(MNIST, "mirrors", ((tmp_path / "offline").as_uri() + "/",))
    with pytest.raises(SystemExit, match=r"^error: MNIST: missing train-images-idx3-ubyte.gz"):
        load_example("MNIST_recognition").main(["--data-dir", str(tmp_path / "data"), "--out", str(tmp_path)])
    assert not (tmp_path / "data").exists()
