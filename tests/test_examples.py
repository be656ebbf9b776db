"""The example scripts: what they print and write, on small fake data."""
import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from mtorch.datasets import MNIST, sha256_file, write_idx
from mtorch.datasets.mnist import TEST_FILES, TRAIN_FILES

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name):
    """Import ``examples/<name>.py`` as a module (its ``main(argv)`` runs it in this process)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fake_mnist(tmp_path, rng, monkeypatch):
    """64 random images in the four canonical files under ``tmp_path/data/mnist``, with MNIST's
    checksums set to theirs; returns the data root."""
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    for image_name, label_name in (TRAIN_FILES, TEST_FILES):
        write_idx(folder / image_name, rng.integers(0, 256, (64, 28, 28), dtype=np.uint8))
        write_idx(folder / label_name, rng.integers(0, 10, 64).astype(np.uint8))
    monkeypatch.setattr(MNIST, "checksums", {p.name: (hashlib.md5(p.read_bytes()).hexdigest(), sha256_file(p))
                                             for p in folder.iterdir()})
    return tmp_path / "data"


def test_mnist_inspect_saves_activation_and_gradient_flow_figures(fake_mnist, tmp_path, capsys):
    """``--inspect`` on 64 fake images: both figures are written and the last line stays the accuracy."""
    load_example("MNIST_recognition").main(["--data-dir", str(fake_mnist), "--out", str(tmp_path / "runs"),
                                            "--epochs", "1", "--batch-size", "4", "--no-plots", "--inspect"])
    out = capsys.readouterr().out
    assert "inspection figures saved to" in out
    assert out.strip().splitlines()[-1].startswith("test accuracy: ")
    for suffix in ("_activations.png", "_gradient_flow.png"):
        assert (tmp_path / "runs" / f"mnist_mlp{suffix}").stat().st_size > 1000
