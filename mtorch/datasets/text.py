"""Character-level text for language models: ``CharDataset`` and ``TinyShakespeare``.

A text becomes a sequence of integer ids, one per character, over the
vocabulary of its distinct characters in sorted order. A training example is
a window of ``block_size`` ids and the same window shifted by one, the next
character at every position::

    text  "First Citizen"          block_size = 4, window starting at 0:
    x     F  i  r  s               (ids of "Firs")
    y     i  r  s  t               (ids of "irst"): y[t] is what follows x[:t+1]

The first 90% of the text is the training split, the last 10% the
validation split (``train=False``), both over the same vocabulary.
"""
import numbers

import numpy as np

from .. import random as mrandom
from ..data.dataset import Dataset
from ..validation import as_real_array, check_bool, check_int, check_real
from .download import download, ensure_files, verify_cached
from .paths import ENV_VAR, data_root


class CharDataset(Dataset):
    """The windows of a text, as character ids: ``dataset[i] = (ids[i:i+T], ids[i+1:i+T+1])``.

    Args:
        text: the whole text (a non-empty ``str``); the vocabulary is built from all of it.
        block_size: T, the window length (an int >= 1).
        train: the first ``train_fraction`` of the text (True, default) or the rest (False).
        train_fraction: the share of the text in the training split (default 0.9).

    Attributes:
        chars: the vocabulary, the distinct characters of ``text`` in sorted order.
        vocab_size: ``len(chars)``.
        data: int64 ids of this split's characters.
        block_size: T.

    Batches: ``get_batch(batch_size, rng)`` draws ``batch_size`` windows at
    random start positions; ``get_batch(indices)`` takes the windows starting
    at ``indices`` (what ``DataLoader`` calls). Both return ``(x, y)``, int64
    arrays of shape ``(B, T)``.

    Example:
        >>> data = CharDataset("hello world, hello text", block_size=4)
        >>> data.decode(data.encode("hello"))
        'hello'
        >>> x, y = data.get_batch(8, np.random.default_rng(0))     # (8, 4), (8, 4)
    """

    def __init__(self, text, block_size, train=True, train_fraction=0.9):
        name = type(self).__name__
        if not isinstance(text, str) or not text:
            raise TypeError(f"{name}: text must be a non-empty str, got "
                            + ("an empty str" if isinstance(text, str) else type(text).__name__))
        self.block_size = check_int(name, "block_size", block_size, minimum=1)
        self.train = check_bool(name, "train", train)
        train_fraction = check_real(name, "train_fraction", train_fraction, minimum=0, maximum=1,
                                    open_min=True, open_max=True)
        codes = _codes(text)
        self._vocab = np.unique(codes)                     # sorted code points
        self.chars = [chr(c) for c in self._vocab]
        ids = np.searchsorted(self._vocab, codes).astype(np.int64)
        n_train = int(train_fraction * len(ids))
        self.data = ids[:n_train] if self.train else ids[n_train:]
        if len(self.data) <= self.block_size:
            split = "training" if self.train else "validation"
            raise ValueError(f"{name}: the {split} split has {len(self.data)} characters, too few for "
                             f"one window of block_size + 1 = {self.block_size + 1}")

    @property
    def vocab_size(self):
        return len(self.chars)

    def encode(self, text):
        """The ids of the characters of ``text`` (a str), as an int64 array ``(len(text),)``."""
        if not isinstance(text, str):
            raise TypeError(f"{type(self).__name__}.encode: expected a str, got {type(text).__name__}")
        codes = _codes(text)
        ids = np.minimum(np.searchsorted(self._vocab, codes), len(self._vocab) - 1)
        unknown = codes != self._vocab[ids]
        if unknown.any():
            missing = sorted({chr(c) for c in codes[unknown]})
            raise ValueError(f"{type(self).__name__}.encode: characters not in the vocabulary: "
                             f"{''.join(missing)[:40]!r}")
        return ids.astype(np.int64)

    def decode(self, ids):
        """The text of a sequence of ids (ints in ``[0, vocab_size)``, e.g. a row of ``x``)."""
        ids = as_real_array(f"{type(self).__name__}.decode", ids, "ids")
        if ids.ndim <= 1 and ids.size == 0:
            return ""
        if ids.ndim > 1 or ids.dtype.kind not in "iu":
            raise TypeError(f"{type(self).__name__}.decode: expected one sequence of integer ids, "
                            f"got {ids.dtype} of shape {ids.shape}")
        if ids.min() < 0 or ids.max() >= self.vocab_size:
            raise ValueError(f"{type(self).__name__}.decode: ids must be in [0, {self.vocab_size}), "
                             f"got {ids.min()}..{ids.max()}")
        return self._vocab[ids.reshape(-1)].astype("<u4").tobytes().decode("utf-32-le")

    def __len__(self):
        """The number of windows: every start position whose window and target fit."""
        return len(self.data) - self.block_size

    def __getitem__(self, index):
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, numbers.Integral):
            raise TypeError(f"{type(self).__name__}: index must be an int, got {type(index).__name__}")
        if not -len(self) <= index < len(self):
            raise IndexError(f"{type(self).__name__}: index {index} out of range for {len(self)} windows")
        start = int(index) % len(self)
        return self.data[start:start + self.block_size].copy(), self.data[start + 1:start + self.block_size + 1].copy()

    def get_batch(self, batch_size_or_indices, rng=None):
        """``(x, y)``, int64 ``(B, T)``: ``batch_size`` windows at random starts drawn from ``rng``
        (a ``numpy.random.Generator``; default mtorch's generator), or the windows starting at
        the given ``indices`` (a 1-D int array, as ``DataLoader`` passes)."""
        owner = f"{type(self).__name__}.get_batch"
        if isinstance(batch_size_or_indices, numbers.Integral) and not isinstance(batch_size_or_indices, bool):
            batch_size = check_int(owner, "batch_size", batch_size_or_indices, minimum=1)
            if rng is None:
                rng = mrandom.generator()
            elif not isinstance(rng, np.random.Generator):
                raise TypeError(f"{owner}: rng must be a numpy.random.Generator, got {type(rng).__name__}")
            starts = rng.integers(0, len(self), batch_size)
        else:
            starts = as_real_array(owner, batch_size_or_indices, "indices")
            if starts.ndim != 1 or starts.dtype.kind not in "iu":
                raise TypeError(f"{owner}: expected a batch size (int) or a 1-D array of start indices, "
                                f"got {starts.dtype} of shape {starts.shape}")
            if starts.size and (starts.min() < 0 or starts.max() >= len(self)):
                raise IndexError(f"{owner}: start indices must be in [0, {len(self)}), "
                                 f"got {starts.min()}..{starts.max()}")
        windows = self.data[starts[:, None] + np.arange(self.block_size + 1)]
        return windows[:, :-1].copy(), windows[:, 1:].copy()

    def __repr__(self):
        split = "train" if self.train else "validation"
        return (f"{type(self).__name__}(split={split!r}, characters={len(self.data)}, "
                f"vocab_size={self.vocab_size}, block_size={self.block_size})")


def _codes(text):
    """The Unicode code points of ``text`` as a uint32 array (vectorised, no loop over characters)."""
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.uint32)


class TinyShakespeare(CharDataset):
    """Tiny Shakespeare: 1,115,394 characters of Shakespeare's plays (65 distinct), as in char-rnn.

    The file is ``<root>/tinyshakespeare/input.txt`` (``root``: the argument,
    else ``$MTORCH_DATA_DIR``, else the repository's ``datasets/``). When it is
    missing it is downloaded from the char-rnn repository and checked against
    its SHA-256; a file already there is checked once too (see
    ``mtorch.datasets.verify_cached``).

    Args:
        root: the data folder.
        train: the first 90% (True) or the last 10%, for validation (False).
        block_size: the window length T (default 64).
        download: fetch the file if it is missing (default True).

    Attributes: those of ``CharDataset``; ``path``: the file read.

    Example:
        >>> train = TinyShakespeare(block_size=128)
        >>> train.vocab_size
        65
        >>> x, y = train.get_batch(32, np.random.default_rng(0))     # int64 (32, 128) each
    """

    urls = ("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",)
    sha256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
    folder, filename = "tinyshakespeare", "input.txt"

    def __init__(self, root=None, train=True, block_size=64, download=True):
        directory = data_root(root, type(self).__name__) / self.folder
        self.path = directory / self.filename
        advice = (f"Put the char-rnn file {self.urls[0]} there, or set the environment variable "
                  f"{ENV_VAR} (or pass root=) to a folder that has {self.folder}/{self.filename}.")
        ensure_files(type(self).__name__, directory, [self.filename], download, self._fetch, advice)
        verify_cached(self.path, sha256=self.sha256)
        super().__init__(self.path.read_bytes().decode("utf-8"), block_size, train)

    def _fetch(self, directory, missing):
        download(self.urls, directory / self.filename, sha256=self.sha256, desc=f"{self.folder}/{self.filename}")
