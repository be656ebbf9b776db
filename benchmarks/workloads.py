"""What both frameworks share for each workload: its batch, its block length and the MLP's sizes.

The networks are listed in benchmarks/README.md; the models themselves are in
``mtorch_workloads.py`` and ``torch_workloads.py``, one function per workload
and framework.
"""
import numpy as np

STEPS = {"mlp": 100, "cnn": 10, "rnn": 40, "lstm": 40, "gru": 40, "gpt": 5}   # training steps per timed block
WORKLOADS = tuple(STEPS)

MLP_BATCH, MLP_SIZES = 128, (784, 256, 128, 10)
GPT_VOCAB, GPT_BLOCK, GPT_BATCH = 65, 64, 12      # tiny shakespeare has 65 distinct characters
GPT_LAYERS, GPT_HEADS, GPT_WIDTH = 4, 4, 128


class NotAvailable(Exception):
    """A framework cannot run this workload (a layer it needs does not exist, or the framework is missing)."""


def data(name, rng):
    """The workload's inputs and targets, as numpy arrays: the numbers torch_ref.py draws from ``default_rng(0)``."""
    if name == "mlp":
        return rng.standard_normal((MLP_BATCH, MLP_SIZES[0]), dtype=np.float32), rng.integers(0, 10, MLP_BATCH)
    if name == "cnn":
        return rng.standard_normal((64, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 64)
    if name == "gpt":      # random tokens: the step's time does not depend on the text
        return (rng.integers(0, GPT_VOCAB, (GPT_BATCH, GPT_BLOCK)),
                rng.integers(0, GPT_VOCAB, (GPT_BATCH, GPT_BLOCK)))
    return (rng.standard_normal((50, 32, 1), dtype=np.float32),     # rnn, lstm, gru: (time, batch, feature)
            rng.standard_normal((50, 32, 1), dtype=np.float32))
