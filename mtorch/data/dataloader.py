"""DataLoader: iterate over a dataset in (shuffled) mini-batches of numpy arrays."""
import math
import numbers

import numpy as np

from .. import random as mrandom


def default_collate(samples):
    """Stack a list of samples into a batch.

    Tuple samples ``(x, y)`` give a tuple of stacked arrays ``(X, Y)`` with
    the batch on the first axis; dict samples a dict; anything else (arrays,
    numbers) one stacked array.
    """
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return tuple(np.stack([s[k] for s in samples]) for k in range(len(first)))
    if isinstance(first, dict):
        return {k: np.stack([s[k] for s in samples]) for k in first}
    return np.stack(samples)


class DataLoader:
    """Yield mini-batches of a dataset, reshuffled at the start of every epoch.

    Each ``for batch in loader`` is one epoch. A batch is what the dataset's
    ``get_batch(indices)`` returns when it has one (one vectorised gather, see
    ``Dataset``), otherwise the samples ``dataset[i]`` stacked by
    ``default_collate`` - for ``(x, y)`` samples a tuple ``(X, Y)`` of arrays
    with the batch on the first axis.

    Args:
        dataset: anything with ``__len__`` and ``__getitem__`` (e.g. a
            ``TensorDataset``).
        batch_size: samples per batch, an int >= 1 (default 1).
        shuffle: visit the samples in a new random order every epoch
            (default False: in order).
        drop_last: drop the last batch if it has fewer than ``batch_size``
            samples (default False).
        seed: an int gives the loader its own generator, so the sequence of
            epoch orders depends only on the seed; None (default) draws each
            epoch's order from ``mtorch.random.generator()``, so
            ``mtorch.manual_seed`` makes it reproducible.

    ``len(loader)`` is the number of batches per epoch.

    Example:
        >>> loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
        >>> for xb, yb in loader:              # xb: (64, ...) arrays, the last batch may be smaller
        ...     loss = loss_func(model(xb), yb)
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None):
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: dataset must have __len__ and __getitem__, "
                            f"got {type(dataset).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be an int >= 1, got {batch_size!r}")
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"DataLoader: {name} must be True or False, got {flag!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
            raise ValueError(f"DataLoader: seed must be None or an int >= 0, got {seed!r}")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last, self.seed = bool(shuffle), bool(drop_last), seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        """Start an epoch: the order is drawn now, the batches are gathered as they are requested."""
        n = len(self.dataset)
        if self.shuffle:
            order = (self._rng if self._rng is not None else mrandom.generator()).permutation(n)
        else:
            order = np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        return self._batches(order, stop)

    def _batches(self, order, stop):
        get_batch = getattr(self.dataset, "get_batch", None)
        for start in range(0, stop, self.batch_size):
            indices = order[start:start + self.batch_size]
            if get_batch is not None:
                yield get_batch(indices)
            else:
                yield default_collate([self.dataset[int(i)] for i in indices])

    def __repr__(self):
        return (f"DataLoader(dataset={self.dataset!r}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed})")
