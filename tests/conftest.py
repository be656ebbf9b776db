import hashlib
import sys

import numpy as np
import pytest

import mtorch
from mtorch.datasets import MNIST, sha256_file, write_idx
from mtorch.datasets.mnist import TEST_FILES, TRAIN_FILES


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same mtorch seed, so results never depend on test order."""
    mtorch.manual_seed(0)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


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


def pytest_terminal_summary(terminalreporter):
    """The fuzz tests' trial counts (tests/fuzzing.py), when they ran."""
    fuzzing = sys.modules.get("fuzzing")
    lines = fuzzing.summary_lines() if fuzzing is not None else []
    if lines:
        terminalreporter.write_sep("=", "fuzz trials (tests/test_fuzz_*.py)")
        for line in lines:
            terminalreporter.write_line(line)
