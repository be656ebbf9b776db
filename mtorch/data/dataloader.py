"""DataLoader: iterate over a dataset in (shuffled) mini-batches of numpy arrays."""
import math

import numpy as np

from .. import random as mrandom
from ..validation import check_bool, check_int


def default_collate(samples):
    """Stack a list of samples into a batch.

    Tuple samples ``(x, y)`` give a tuple of stacked arrays ``(X, Y)`` with
    the batch on the first axis; dict samples a dict; anything else (arrays,
    numbers) one stacked array. Samples that do not stack (arrays of
    different shapes, tuples of different lengths, other keys) raise a
    ``ValueError`` naming the shapes found; samples of different kinds (an
    array and a dict) or that are not data (None, objects) a ``TypeError``.
    """
    first = samples[0]
    if isinstance(first, (tuple, list)):
        if any(not isinstance(s, (tuple, list)) or len(s) != len(first) for s in samples):
            raise ValueError(f"DataLoader: cannot batch samples of different structure: "
                             f"{sorted({_structure(s) for s in samples})}")
        return tuple(_stack([s[k] for s in samples], f"element {k} of the samples") for k in range(len(first)))
    if isinstance(first, dict):
        if any(not isinstance(s, dict) or s.keys() != first.keys() for s in samples):
            raise ValueError(f"DataLoader: cannot batch samples of different structure: "
                             f"{sorted({_structure(s) for s in samples})}")
        return {k: _stack([s[k] for s in samples], f"the samples' {k!r}") for k in first}
    return _stack(samples, "the samples")


def _stack(values, what):
    try:
        batch = np.stack(values)
    except (ValueError, TypeError):
        batch = None
    text = [isinstance(v, (str, np.str_)) or (isinstance(v, np.ndarray) and v.dtype.kind in "US") for v in values]
    if batch is None or batch.dtype.hasobject or any(text) != all(text):     # numbers and text do not mix
        kinds = sorted({type(v).__name__ for v in values})
        if len(kinds) > 1 or batch is not None:
            raise TypeError(f"DataLoader: cannot stack {what} into a batch: a batch is made of arrays, "
                            f"numbers or strings of one kind, got {', '.join(kinds)}")
        shapes = sorted({_shape(v) for v in values}, key=str)
        raise ValueError(f"DataLoader: cannot stack {what} into a batch: they differ in shape "
                         f"({', '.join(shapes[:4])}{', ...' if len(shapes) > 4 else ''}); samples of "
                         "different sizes need padding or a batch_size of 1")
    return batch


def _shape(value):
    try:
        return str(np.shape(value))
    except ValueError:                 # a ragged nested list
        return f"a ragged {type(value).__name__}"


def _structure(sample):
    if isinstance(sample, dict):
        return f"dict with keys {sorted(map(str, sample))}"
    if isinstance(sample, (tuple, list)):
        return f"{type(sample).__name__} of {len(sample)}"
    return type(sample).__name__


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
        self.dataset, self.batch_size = dataset, check_int("DataLoader", "batch_size", batch_size, minimum=1)
        self.shuffle = check_bool("DataLoader", "shuffle", shuffle)
        self.drop_last = check_bool("DataLoader", "drop_last", drop_last)
        self.seed = None if seed is None else check_int("DataLoader", "seed", seed, minimum=0)
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
