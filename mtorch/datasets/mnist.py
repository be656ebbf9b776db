"""MNIST and Fashion-MNIST: 70,000 greyscale 28x28 images in 10 classes each.

Both are published as the same four gzip-compressed IDX files (see ``idx.py``)::

    train-images-idx3-ubyte.gz   60,000 images     train-labels-idx1-ubyte.gz
    t10k-images-idx3-ubyte.gz    10,000 images     t10k-labels-idx1-ubyte.gz

kept under ``<root>/mnist/`` and ``<root>/fashion-mnist/`` (``root``: see
``paths.py``). Missing files are downloaded from public mirrors and checked
against the checksums below; files already there are checked against them too,
once (``verify_cached`` remembers the result), so a damaged or edited file is
refused with the advice to delete it.
"""
import numpy as np

from .download import download as download_file, verify_cached
from .idx import read_idx
from .image_dataset import ImageDataset
from .paths import ENV_VAR

TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


class _IDXImageDataset(ImageDataset):
    """Shared by MNIST and Fashion-MNIST: find or fetch the files, read them, serve batches.

    Subclasses set ``folder`` (below the root), ``mirrors`` (base URLs, tried in
    order), ``checksums`` (file name -> (published MD5, SHA-256)), ``class_names``
    and the training set's pixel ``mean`` and ``std`` (in [0, 1] units).
    """

    folder = mirrors = checksums = None

    def __init__(self, root=None, train=True, download=True, transform=None):
        super().__init__(root, train, transform)
        directory = self.root / self.folder
        names = TRAIN_FILES if self.train else TEST_FILES
        self._ensure_files(directory, names, download)
        for name in names:                   # hashed once, then remembered (see verify_cached)
            verify_cached(directory / name, sha256=self.checksums[name][1])
        image_path, label_path = (directory / name for name in names)
        self.images = read_idx(image_path)
        self.labels = read_idx(label_path).astype(np.int64)
        self._validate(image_path, label_path)

    # ------------------------------------------------------------- files
    def _fetch(self, directory, missing):
        for name in missing:
            md5, sha256 = self.checksums[name]
            download_file([base + name for base in self.mirrors], directory / name,
                          sha256=sha256, md5=md5, desc=f"{self.folder}/{name}")

    def _advice(self, directory):
        return (f"Put the canonical files ({', '.join(TRAIN_FILES + TEST_FILES)}, from e.g. "
                f"{self.mirrors[0]}) in {directory}, or set the environment variable {ENV_VAR} "
                f"(or pass root=) to a folder that has them under {self.folder}/.")

    def _validate(self, image_path, label_path):
        if self.images.dtype != np.uint8 or self.images.shape[1:] != (28, 28):
            raise ValueError(f"{image_path}: expected uint8 images of shape (N, 28, 28), "
                             f"got {self.images.dtype} {self.images.shape}")
        if self.labels.shape != self.images.shape[:1]:
            raise ValueError(f"{label_path}: expected {len(self.images)} labels (one per image in "
                             f"{image_path.name}) as shape ({len(self.images)},), got {self.labels.shape}")
        if self.labels.size and not 0 <= self.labels.min() <= self.labels.max() < len(self.class_names):
            raise ValueError(f"{label_path}: labels must be in 0..{len(self.class_names) - 1}, "
                             f"found {self.labels.min()}..{self.labels.max()}")

    # ----------------------------------------------------------- samples


class MNIST(_IDXImageDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, labels 0-9.

    Args:
        root: the data folder; files live in ``<root>/mnist/``. Default: the
            ``MTORCH_DATA_DIR`` environment variable, else the repository's ``datasets/``.
        train: the training set (True) or the test set (False).
        download: fetch missing files from the mirrors (verified, written atomically).
            Without the files and without network the error says what to put where.
        transform: applied to ``images[index]`` whenever samples are taken (a single
            image or a whole batch), e.g. ``MNIST.standard_transform(flatten=True)``.

    Attributes:
        images: uint8 array ``(N, 28, 28)``, 0 = background, 255 = ink.
        labels: int64 array ``(N,)``.
        class_names: ``("0", ..., "9")``.
        mean, std: the training pixels' mean and standard deviation on the [0, 1] scale.

    A ``Dataset`` with the batch protocol: ``DataLoader`` gathers each batch with
    ``get_batch(indices)``, converting only that batch to float32.

    Example:
        >>> train = MNIST(transform=MNIST.standard_transform(flatten=True))
        >>> x, y = train[np.arange(128)]      # float32 (128, 784), int64 (128,)
        >>> loader = DataLoader(train, batch_size=128, shuffle=True)
    """

    folder = "mnist"
    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
               "https://storage.googleapis.com/cvdf-datasets/mnist/",
               "http://yann.lecun.com/exdb/mnist/")
    checksums = {
        "train-images-idx3-ubyte.gz": ("f68b3c2dcbeaaa9fbdd348bbdeb94873",
                                       "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        "train-labels-idx1-ubyte.gz": ("d53e105ee54ea40749a09fcbcd1e9432",
                                       "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
        "t10k-images-idx3-ubyte.gz": ("9fb629c4189551a2d022fa330f9573f3",
                                      "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
        "t10k-labels-idx1-ubyte.gz": ("ec29112dd5afa0611ce80d1b7f02629c",
                                      "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    }
    class_names = tuple(str(digit) for digit in range(10))
    mean, std = 0.1307, 0.3081


class FashionMNIST(_IDXImageDataset):
    """Zalando's Fashion-MNIST: MNIST's format and sizes, with photos of clothing.

    Same arguments and attributes as ``MNIST``; files live in ``<root>/fashion-mnist/``.
    ``class_names`` are ``("T-shirt/top", "Trouser", ..., "Ankle boot")``.
    """

    folder = "fashion-mnist"
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
               "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/")
    checksums = {
        "train-images-idx3-ubyte.gz": ("8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                                       "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
        "train-labels-idx1-ubyte.gz": ("25c81989df183df01b3e8a0aad5dffbe",
                                       "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
        "t10k-images-idx3-ubyte.gz": ("bef4ecab320f06d8554ea6380940ec79",
                                      "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
        "t10k-labels-idx1-ubyte.gz": ("bb300cfdad3c16e7a12a480ee83cd310",
                                      "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
    }
    class_names = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
    mean, std = 0.2860, 0.3530
