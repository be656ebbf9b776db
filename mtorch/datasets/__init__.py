"""Datasets: find the files (``root``, ``MTORCH_DATA_DIR`` or ``datasets/``), download and verify them, read them.

Datasets index like arrays: ``dataset[i]`` is one ``(sample, label)`` pair and
``dataset[index_array]`` a whole batch, with the transform applied to the
batch at once.
"""
from .cifar10 import CIFAR10
from .download import ChecksumError, DownloadError, download, sha256_file, verify_cached, verify_file
from .idx import IDXError, read_idx, write_idx
from .iris import Iris
from .image_dataset import ImageDataset
from .mnist import MNIST, FashionMNIST
from .paths import DatasetNotFoundError, data_root
from .sine import SineWaves
from .text import CharDataset, TinyShakespeare
from .transforms import Normalize
