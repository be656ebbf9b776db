"""SineWaves dataset and a short run of examples/RNN_sin_to_cos.py."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from mtorch.data import DataLoader
from mtorch.datasets import SineWaves

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "RNN_sin_to_cos.py"


def test_values_are_sine_and_cosine_of_the_stored_phases():
    data = SineWaves(5, seq_len=7, dt=0.25, freq_range=(0.5, 2.0), seed=3)
    assert data.inputs.shape == data.targets.shape == (5, 7, 1)
    assert data.inputs.dtype == np.float32
    t = np.arange(7) * 0.25
    for k in range(5):
        angle = data.freqs[k] * t + data.phases[k]
        np.testing.assert_allclose(data.inputs[k, :, 0], np.sin(angle), atol=1e-6)
        np.testing.assert_allclose(data.targets[k, :, 0], np.cos(angle), atol=1e-6)
    assert np.all((data.freqs >= 0.5) & (data.freqs <= 2.0)) and np.ptp(data.freqs) > 0
    assert np.all((data.phases >= 0) & (data.phases < 2 * np.pi))


def test_seeds_reproduce_and_differ():
    a, b, c = SineWaves(50, seed=0), SineWaves(50, seed=0), SineWaves(50, seed=1)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    assert not np.isin(a.phases, c.phases).any()
    np.testing.assert_array_equal(a.freqs, np.ones(50))


def test_indexing_and_loader():
    data = SineWaves(10, seq_len=4, seed=0)
    x, y = data[2]
    assert x.shape == y.shape == (4, 1)
    batches = list(DataLoader(data, batch_size=4, shuffle=True))
    assert [b[0].shape for b in batches] == [(4, 4, 1), (4, 4, 1), (2, 4, 1)]
    assert len(data) == 10 and "n_sequences=10" in repr(data)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(n_sequences=0), ValueError, "^SineWaves: n_sequences must be an int >= 1, got 0"),
    (dict(n_sequences=2, seq_len=1.5), TypeError, "seq_len must be an int"),
    (dict(n_sequences=2, dt=0), ValueError, "dt must be a number > 0"),
    (dict(n_sequences=2, dt=True), TypeError, "dt must be a number > 0, got True"),
    (dict(n_sequences=2, freq_range=(2, 1)), ValueError, "low <= high"),
    (dict(n_sequences=2, freq_range=("1", 2)), TypeError, r"freq_range\[0\] must be a number"),
    (dict(n_sequences=2, freq_range=[1, 2, 3]), TypeError, "a pair"),
    (dict(n_sequences=2, seed=-1), ValueError, "seed must be an int >= 0")])
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        SineWaves(**kwargs)


def test_example_runs_and_learns(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("rnn_sin_to_cos_example", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    mse = example.main(["--cell", "gru", "--epochs", "5", "--train-size", "256", "--batch-size", "16",
                        "--lr", "0.03", "--test-size", "32", "--seq-len", "20", "--hidden", "16",
                        "--out", str(tmp_path)])
    assert mse < 0.05                      # predicting 0 everywhere gives about 0.5
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"test mse: {mse:.6g}"
    assert (tmp_path / "RNN_sin_to_cos_gru.png").stat().st_size > 10_000
