"""SineWaves: segments of sine waves with random phases; the target is the matching cosine.

Sequence k samples one wave at the times ``t_j = j * dt`` (j = 0 .. seq_len-1)::

    x_k[j] = sin(w_k t_j + phi_k)          input
    y_k[j] = cos(w_k t_j + phi_k)          target

with the phase ``phi_k ~ U(0, 2 pi)`` and the angular frequency ``w_k`` drawn
from ``U(freq_range)`` (a single value by default). Predicting y from x is a
small sequence task: the network has to infer where on the wave it is from
the values it has seen so far. (At j = 0 it has seen only ``sin(phi)``, which
fixes ``cos(phi)`` only up to its sign; from two samples on the answer is
determined.)

The samples are generated in memory, so nothing is downloaded or stored.
"""
import math
import numbers

import numpy as np

from .. import random as mrandom
from ..data.dataset import Dataset, check_index
from ..validation import check_int, check_real


class SineWaves(Dataset):
    """``n_sequences`` sine segments and their cosines, batch first.

    Args:
        n_sequences: number of sequences (>= 1).
        seq_len: time steps per sequence (>= 1, default 50).
        dt: time between steps (default 0.1).
        freq_range: ``(low, high)`` of the angular frequency, or one number
            for a fixed frequency (default 1.0).
        seed: an int gives the set its own generator, so the same seed gives
            the same waves; None (default) draws from ``mtorch.random.generator()``.
            Two sets drawn with different seeds have different phases, which is
            how the example holds out test phases.

    Attributes:
        inputs, targets: float32 arrays ``(n_sequences, seq_len, 1)``.
        phases, freqs: float64 arrays ``(n_sequences,)``, the waves' parameters.

    ``dataset[i]`` is ``(inputs[i], targets[i])``; ``get_batch(indices)`` gathers a
    batch in one indexing operation (see ``mtorch.data.Dataset``).

    Example:
        >>> train = SineWaves(1000, seq_len=50, seed=0)
        >>> x, y = train[0]                    # (50, 1), (50, 1)
        >>> loader = DataLoader(train, batch_size=32, shuffle=True)   # batches (32, 50, 1)
    """

    def __init__(self, n_sequences, seq_len=50, dt=0.1, freq_range=1.0, seed=None):
        n_sequences = check_int("SineWaves", "n_sequences", n_sequences, minimum=1)
        seq_len = check_int("SineWaves", "seq_len", seq_len, minimum=1)
        dt = check_real("SineWaves", "dt", dt, minimum=0, open_min=True)
        if isinstance(freq_range, numbers.Real) and not isinstance(freq_range, (bool, np.bool_)):
            freq_range = (freq_range, freq_range)
        if not isinstance(freq_range, (tuple, list)) or len(freq_range) != 2:
            raise TypeError(f"SineWaves: freq_range must be a number > 0 or a pair (low, high), "
                            f"got {freq_range!r}")
        low, high = (check_real("SineWaves", f"freq_range[{i}]", f, minimum=0, open_min=True)
                     for i, f in enumerate(freq_range))
        if low > high:
            raise ValueError(f"SineWaves: freq_range must have low <= high, got {tuple(freq_range)!r}")
        seed = None if seed is None else check_int("SineWaves", "seed", seed, minimum=0)
        rng = mrandom.generator() if seed is None else np.random.default_rng(seed)
        self.phases = rng.uniform(0, 2 * math.pi, n_sequences)
        self.freqs = rng.uniform(low, high, n_sequences) if low < high else np.full(n_sequences, float(low))
        self.seq_len, self.dt = seq_len, dt
        angle = self.freqs[:, None] * (np.arange(self.seq_len) * self.dt) + self.phases[:, None]
        self.inputs = np.sin(angle).astype(np.float32)[..., None]
        self.targets = np.cos(angle).astype(np.float32)[..., None]

    def __len__(self):
        return len(self.phases)

    def __getitem__(self, index):
        index = check_index("SineWaves", index, len(self))
        return self.inputs[index], self.targets[index]

    def get_batch(self, indices):
        indices = check_index("SineWaves.get_batch", indices, len(self))
        return self.inputs[indices], self.targets[indices]

    def __repr__(self):
        low, high = self.freqs.min(), self.freqs.max()
        freqs = f"{low:g}" if low == high else f"{low:g}..{high:g}"
        return f"SineWaves(n_sequences={len(self)}, seq_len={self.seq_len}, dt={self.dt:g}, freq={freqs})"
