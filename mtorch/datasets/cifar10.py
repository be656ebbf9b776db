"""CIFAR-10: 60,000 colour images of 32x32 pixels in 10 classes, read from the binary version.

The binary archive ``cifar-10-binary.tar.gz`` unpacks to ``cifar-10-batches-bin/``
with five training files ``data_batch_1.bin`` ... ``data_batch_5.bin`` and
``test_batch.bin``, 10,000 images each. A file is a sequence of 3073-byte
records::

    byte 0        the label, 0..9
    bytes 1-1024  the red plane, 32 rows of 32 pixels, row-major
    bytes 1025-   the green plane, then the blue plane

so a file of N records is an ``(N, 3073)`` uint8 array whose column 0 holds
the labels and whose other columns reshape to ``(N, 3, 32, 32)``, NCHW as the
layers expect. (The pickled "Python version" of CIFAR-10 is never read:
unpickling a file can run arbitrary code.)
"""
import os
import tarfile

import numpy as np

from .download import ChecksumError, download, verify_file
from .image_dataset import ImageDataset
from .paths import ENV_VAR

ARCHIVE = "cifar-10-binary.tar.gz"
ARCHIVE_URLS = ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",)
ARCHIVE_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"
FOLDER = "cifar-10-batches-bin"
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILES = ("test_batch.bin",)
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer",
               "dog", "frog", "horse", "ship", "truck")
RECORD_BYTES = 1 + 3 * 32 * 32


def read_cifar10_bin(paths):
    """Read CIFAR-10 binary batch files; returns ``(images, labels)`` in file and record order.

    ``images`` is uint8 ``(N, 3, 32, 32)`` (channels R, G, B), ``labels`` int64
    ``(N,)``. Raises ``ValueError`` naming the file when its size is not a
    whole number of 3073-byte records (a truncated download) or a label is
    not in 0..9 (not a CIFAR-10 file).
    """
    counts = []
    for path in paths:
        size = os.path.getsize(path)
        if size == 0 or size % RECORD_BYTES:
            raise ValueError(f"{path}: {size} bytes is not a whole number of CIFAR-10 records "
                             f"({RECORD_BYTES} bytes each: 1 label byte + 3072 pixel bytes); "
                             f"the file is truncated or not a CIFAR-10 binary batch")
        counts.append(size // RECORD_BYTES)
    images = np.empty((sum(counts), 3, 32, 32), dtype=np.uint8)
    labels = np.empty(sum(counts), dtype=np.int64)
    start = 0
    for path, count in zip(paths, counts):
        records = np.fromfile(path, dtype=np.uint8).reshape(count, RECORD_BYTES)
        bad = np.flatnonzero(records[:, 0] >= len(CLASS_NAMES))
        if bad.size:
            raise ValueError(f"{path}: record {bad[0]} has label {records[bad[0], 0]}, expected 0..9; "
                             f"not a CIFAR-10 binary batch")
        labels[start:start + count] = records[:, 0]
        images[start:start + count] = records[:, 1:].reshape(count, 3, 32, 32)
        start += count
    return images, labels


def extract_cifar10(archive, root):
    """Unpack the six batch files (and ``batches.meta.txt``) of ``archive`` into ``root/cifar-10-batches-bin/``.

    Only those members, by exact name and as regular files, are extracted, each
    written to a temporary name and renamed, so a hostile archive cannot write
    elsewhere (no ``extractall``, no links, no ``..``) and an interrupted
    extraction never leaves a partial batch file.
    """
    wanted = {f"{FOLDER}/{name}" for name in TRAIN_FILES + TEST_FILES + ("batches.meta.txt",)}
    folder = os.path.join(root, FOLDER)
    os.makedirs(folder, exist_ok=True)
    found = set()
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if member.name not in wanted or not member.isfile():
                continue
            target = os.path.join(folder, os.path.basename(member.name))
            partial = f"{target}.part{os.getpid()}"
            try:
                with tar.extractfile(member) as src, open(partial, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
                os.replace(partial, target)
            finally:
                if os.path.exists(partial):
                    os.remove(partial)
            found.add(member.name)
    missing = sorted(wanted - found)
    if missing:
        raise ValueError(f"{archive}: the archive lacks {missing}; not the CIFAR-10 binary version")


class CIFAR10(ImageDataset):
    """The CIFAR-10 images (binary version): 50,000 for training, 10,000 for testing.

    Args:
        root: the data folder; the files live in ``<root>/cifar-10-batches-bin/``.
            Default: the ``MTORCH_DATA_DIR`` environment variable, else the
            repository's ``datasets/``.
        train: the five training batches (True) or the test batch (False).
        download: when files are missing, fetch ``cifar-10-binary.tar.gz``
            (163 MB) into ``root``, check its published MD5 and unpack it.
            Without the files and without network the error says what to put where.
        transform: applied to ``images[index]`` whenever samples are taken (one
            image or a whole batch), e.g. ``CIFAR10.standard_transform()``.

    Attributes:
        images: uint8 array ``(N, 3, 32, 32)``, channels R, G, B.
        labels: int64 array ``(N,)``, class indices 0..9.
        class_names: ``("airplane", "automobile", ..., "truck")``.
        mean, std: the training pixels' mean and standard deviation on the [0, 1]
            scale, over all three channels.

    Example:
        >>> train = CIFAR10(transform=CIFAR10.standard_transform())
        >>> x, y = train[np.arange(128)]      # float32 (128, 3, 32, 32), int64 (128,)
    """

    class_names = CLASS_NAMES
    mean, std = 0.4734, 0.2516

    def __init__(self, root=None, train=True, download=True, transform=None):
        super().__init__(root, train, transform)
        directory = self.root / FOLDER
        names = TRAIN_FILES if self.train else TEST_FILES
        self._ensure_files(directory, names, download)
        self.images, self.labels = read_cifar10_bin([directory / name for name in names])

    def _advice(self, directory):
        return (f"Download the binary version {ARCHIVE_URLS[0]} (MD5 {ARCHIVE_MD5}) and unpack it in "
                f"{self.root} (it creates {FOLDER}/), or set the environment variable {ENV_VAR} "
                f"(or pass root=) to a folder that has {FOLDER}/.")

    def _fetch(self, directory, missing):
        """Download the archive (unless a verified copy is already in ``root``) and unpack it."""
        archive = self.root / ARCHIVE
        try:
            verify_file(archive, md5=ARCHIVE_MD5)
        except (OSError, ChecksumError):
            download(ARCHIVE_URLS, archive, md5=ARCHIVE_MD5, desc=ARCHIVE)
        extract_cifar10(archive, self.root)

