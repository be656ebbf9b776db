"""Dataset and TensorDataset: what a DataLoader draws samples from."""
import numbers

import numpy as np

from ..validation import as_real_array


def check_index(owner, index, length):
    """``index`` as an index into ``length`` samples, or an error naming ``owner``.

    Accepted, with numpy's meaning: an int in ``[-length, length)``, a slice, an
    array (or list) of such ints, and a boolean mask with one entry per sample.
    An int out of range raises ``IndexError`` (so ``for sample in dataset`` stops);
    anything else (floats, strings, None, bools, tuples) ``TypeError``.
    """
    if isinstance(index, slice):
        return index
    if isinstance(index, numbers.Integral) and not isinstance(index, (bool, np.bool_)):
        if not -length <= index < length:
            raise IndexError(f"{owner}: index {index} is out of range for {length} samples")
        return int(index)
    if isinstance(index, (list, np.ndarray)):
        array = np.asarray(index)
        if array.dtype.kind == "b" and array.shape == (length,):
            return array
        if array.dtype.kind in "iu":
            if array.size and (array.min() < -length or array.max() >= length):
                wrong = array[(array < -length) | (array >= length)].flat[0]
                raise IndexError(f"{owner}: index {wrong} is out of range for {length} samples")
            return array
        what = f"a boolean mask of shape {array.shape}" if array.dtype.kind == "b" else f"an array of {array.dtype}"
        raise TypeError(f"{owner}: an index array must hold ints, or be a boolean mask of shape ({length},), "
                        f"got {what}")
    raise TypeError(f"{owner}: an index must be an int, a slice, or an array of ints or bools, "
                    f"got {index!r} ({type(index).__name__})")


class Dataset:
    """Base class of map-style datasets: ``dataset[i]`` is sample ``i``, ``len(dataset)`` their number.

    Subclasses implement ``__getitem__(i)`` (usually returning a tuple such as
    ``(image, label)``) and ``__len__()``. ``DataLoader`` then builds a batch
    by stacking ``batch_size`` samples, one ``__getitem__`` call each.

    Batch protocol (for speed): a dataset that holds its samples in arrays
    should also implement ``get_batch(indices)``. ``indices`` is a 1-D int64
    array; the method returns the whole batch at once, with the same
    structure stacking the samples would give: a tuple of arrays whose first
    axis is the batch (``len(indices)``). ``DataLoader`` uses it whenever it
    exists, so a batch costs one fancy-indexing operation per array instead
    of a Python loop over samples. It is also the place for a per-batch
    transform, done once on the whole batch::

        class Digits(Dataset):
            def __init__(self, images, labels):            # uint8 (N, 28, 28), int64 (N,)
                self.images, self.labels = images, labels

            def __len__(self):
                return len(self.labels)

            def __getitem__(self, i):
                return self.images[i].astype(np.float32) / 255, self.labels[i]

            def get_batch(self, indices):                  # uint8 -> float32 in [0, 1], per batch
                return self.images[indices].astype(np.float32) / 255, self.labels[indices]

    ``get_batch`` must return new arrays (fancy indexing copies), never views
    into the dataset, so a training loop may modify a batch in place.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index)")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__()")


class TensorDataset(Dataset):
    """Samples are the rows of some arrays: ``dataset[i] = (a[i], b[i], ...)``.

    Args:
        *arrays: arrays with the same length (first axis), e.g. ``(x, y)``;
            kept as given (no copy).

    Batches are gathered by ``get_batch`` with one fancy-indexing operation
    per array.

    Example:
        >>> data = TensorDataset(np.zeros((100, 4), np.float32), np.arange(100))
        >>> x, y = data[3]
        >>> x.shape, y
        ((4,), 3)
    """

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset: expected at least one array")
        self.arrays = tuple(as_real_array("TensorDataset", a, f"array {i}") for i, a in enumerate(arrays))
        for i, a in enumerate(self.arrays):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: array {i} is a scalar; every array needs a "
                                 "first axis indexing the samples")
        lengths = [len(a) for a in self.arrays]
        if len(set(lengths)) != 1:
            shapes = ", ".join(str(a.shape) for a in self.arrays)
            raise ValueError(f"TensorDataset: all arrays must have the same length (first axis), "
                             f"got lengths {lengths} (shapes {shapes})")

    def __getitem__(self, index):
        index = check_index("TensorDataset", index, len(self))
        return tuple(a[index] for a in self.arrays)

    def __len__(self):
        return len(self.arrays[0])

    def get_batch(self, indices):
        """The samples at ``indices`` (int array), as a tuple of new arrays."""
        indices = check_index("TensorDataset.get_batch", indices, len(self))
        return tuple(a[indices] for a in self.arrays)

    def __repr__(self):
        shapes = ", ".join(f"{a.dtype}{list(a.shape)}" for a in self.arrays)
        return f"TensorDataset({shapes})"
