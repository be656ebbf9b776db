"""ImageDataset: uint8 images and int64 labels held in memory, converted one batch at a time."""
from ..data.dataset import Dataset, check_index
from ..validation import check_bool
from .download import ensure_files
from .paths import data_root
from .transforms import Normalize


class ImageDataset(Dataset):
    """Base of MNIST, Fashion-MNIST and CIFAR-10.

    Subclasses load ``images`` (uint8, ``(N, ...)``) and ``labels`` (int64,
    ``(N,)``), set ``class_names`` and the training pixels' ``mean`` and
    ``std``, and say how to fetch missing files (``_fetch``) and where a user
    can get them by hand (``_advice``). Indexing gathers the uint8 pixels
    first and transforms only what was asked for, so the float32 copy of the
    data never exists as a whole: a batch of 128 MNIST images is 400 KB, the
    whole training set as float32 188 MB.
    """

    class_names = mean = std = None

    def __init__(self, root, train, transform):
        self.root = data_root(root, type(self).__name__)
        self.train = check_bool(type(self).__name__, "train", train)
        if transform is not None and not callable(transform):
            raise TypeError(f"{type(self).__name__}: transform must be callable or None, "
                            f"got {type(transform).__name__}")
        self.transform = transform

    def _ensure_files(self, directory, names, download):
        """Make sure ``directory`` holds ``names``: fetch the missing ones when ``download``,
        else (or when fetching fails) raise ``DatasetNotFoundError`` saying what to put where."""
        ensure_files(type(self).__name__, directory, names, download, self._fetch, self._advice(directory))

    @classmethod
    def standard_transform(cls, flatten=False):
        """``Normalize`` with the training set's mean and std: uint8 -> float32 of mean 0, std 1."""
        return Normalize(cls.mean, cls.std, flatten=flatten)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        """``(transform(images[index]), labels[index])``; ``index`` may be an int, a slice or an index array."""
        index = check_index(type(self).__name__, index, len(self))
        images = self.images[index]
        return (images if self.transform is None else self.transform(images)), self.labels[index]

    def get_batch(self, indices):
        """The batch at ``indices`` (int array) in one gather, transformed once (``DataLoader`` calls it)."""
        return self[indices]

    def __repr__(self):
        split = "train" if self.train else "test"
        return (f"{type(self).__name__}(split={split!r}, samples={len(self)}, "
                f"root={str(self.root)!r}, transform={self.transform!r})")
