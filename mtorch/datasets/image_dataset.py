"""ImageDataset: uint8 images and int64 labels held in memory, converted one batch at a time."""
from ..data.dataset import Dataset


class ImageDataset(Dataset):
    """Base of MNIST, Fashion-MNIST and CIFAR-10.

    Subclasses load ``images`` (uint8, ``(N, ...)``) and ``labels`` (int64,
    ``(N,)``) and keep the optional ``transform``. Indexing gathers the
    uint8 pixels first and transforms only what was asked for, so the
    float32 copy of the data never exists as a whole: a batch of 128 MNIST
    images is 400 KB, the whole training set as float32 188 MB.
    """

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        """``(transform(images[index]), labels[index])``; ``index`` may be an int, a slice or an index array."""
        images = self.images[index]
        return (images if self.transform is None else self.transform(images)), self.labels[index]

    def get_batch(self, indices):
        """The batch at ``indices`` (int array) in one gather, transformed once (``DataLoader`` calls it)."""
        return self[indices]
