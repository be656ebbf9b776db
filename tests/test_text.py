"""Character-level text: CharDataset on a small generated text, TinyShakespeare downloaded from a
file:// URL, and (with MTORCH_DATA_DIR) the real file."""
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from mtorch.data import DataLoader
from mtorch.datasets import ChecksumError, CharDataset, DatasetNotFoundError, TinyShakespeare

TEXT = "".join(np.random.default_rng(0).choice(list("abcdefg hij\nKLM!é€"), 500))


def test_vocabulary_encode_decode():
    data = CharDataset(TEXT, block_size=8)
    assert data.chars == sorted(set(TEXT)) and data.vocab_size == len(set(TEXT)) == 18
    ids = data.encode(TEXT)
    assert ids.dtype == np.int64 and ids.shape == (500,)
    assert [data.chars[i] for i in ids[:20]] == list(TEXT[:20])          # id = position in sorted vocab
    assert data.decode(ids) == TEXT and data.decode(list(ids[:5])) == TEXT[:5] and data.decode([]) == ""
    assert data.decode(np.int64(3)) == data.chars[3]
    with pytest.raises(ValueError, match=r"not in the vocabulary: 'Zx'"):
        data.encode("abxZ")
    with pytest.raises(ValueError, match=r"ids must be in \[0, 18\), got 0..18"):
        data.decode([0, 18])
    with pytest.raises(TypeError, match="one sequence of integer ids"):
        data.decode(np.zeros((2, 2), np.int64))
    with pytest.raises(TypeError, match="one sequence of integer ids"):
        data.decode([0.5])
    with pytest.raises(TypeError, match="expected a str"):
        data.encode(b"abc")


def test_split_is_the_first_90_percent_over_one_vocabulary():
    train, val = CharDataset(TEXT, block_size=8), CharDataset(TEXT, block_size=8, train=False)
    np.testing.assert_array_equal(np.concatenate([train.data, val.data]), train.encode(TEXT))
    assert len(train.data) == 450 and len(val.data) == 50 and val.chars == train.chars
    assert len(train) == 450 - 8 and len(val) == 50 - 8
    assert "split='validation'" in repr(val)


def test_windows_are_shifted_by_one():
    data = CharDataset(TEXT, block_size=5)
    x, y = data[7]
    assert data.decode(x) == TEXT[7:12] and data.decode(y) == TEXT[8:13]
    last_x, last_y = data[len(data) - 1]
    assert data.decode(last_y)[-1] == TEXT[449]                          # the split's last character
    np.testing.assert_array_equal(data[-1][0], last_x)
    with pytest.raises(IndexError):
        data[len(data)]
    with pytest.raises(TypeError, match="index must be an int"):
        data[1.0]


def test_random_batches():
    data = CharDataset(TEXT, block_size=6)
    x, y = data.get_batch(32, np.random.default_rng(1))
    assert x.shape == y.shape == (32, 6) and x.dtype == y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])                   # y is x shifted by one
    again, _ = data.get_batch(32, np.random.default_rng(1))
    np.testing.assert_array_equal(x, again)                               # seeded: reproducible
    ids = data.encode(TEXT[:450])
    for row_x, row_y in zip(x, y):                                        # every window is in the split
        start = next(i for i in range(len(data)) if np.array_equal(ids[i:i + 6], row_x) and ids[i + 6] == row_y[-1])
        assert start + 6 < 450
    x[:] = -1
    assert data.data.min() >= 0 and y.min() >= 0                         # new arrays, not views
    with pytest.raises(ValueError, match="batch_size must be an int >= 1"):
        data.get_batch(0)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        data.get_batch(4, rng=3)
    with pytest.raises(IndexError, match=r"start indices must be in \[0, 444\)"):
        data.get_batch(np.array([0, 444]))


def test_dataloader_over_windows():
    data = CharDataset(TEXT, block_size=4)
    batches = list(DataLoader(data, batch_size=64, shuffle=True, seed=0))
    assert len(batches) == int(np.ceil(len(data) / 64))
    for x, y in batches:
        assert x.dtype == np.int64 and x.shape[1] == 4
        np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    x, y = next(iter(DataLoader(data, batch_size=3)))
    np.testing.assert_array_equal(x, np.stack([data[i][0] for i in range(3)]))


@pytest.mark.parametrize("kwargs, error, fragment", [
    (dict(text="", block_size=2), TypeError, "non-empty str, got an empty str"),
    (dict(text=b"abc", block_size=2), TypeError, "got bytes"),
    (dict(text=np.zeros(3), block_size=2), TypeError, "got ndarray"),
    (dict(text="abc", block_size=0), ValueError, "block_size must be an int >= 1"),
    (dict(text="abc", block_size=2.0), TypeError, "block_size must be an int"),
    (dict(text="abcdef", block_size=2, train_fraction=1), ValueError, r"train_fraction must be a number in \(0, 1\)"),
    (dict(text="abcdefghij", block_size=9), ValueError, "training split has 9 characters, too few for one window"),
    (dict(text="abcdefghij", block_size=2, train=False), ValueError, "validation split has 1 characters"),
    (dict(text="abcdef", block_size=2, train=1), TypeError, "train must be True or False"),
])
def test_bad_arguments(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        CharDataset(**kwargs)


# ------------------------------------------------------------ TinyShakespeare
@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A small text served from a file:// URL as TinyShakespeare's file."""
    source = tmp_path / "mirror" / "input.txt"
    source.parent.mkdir()
    source.write_text(TEXT, encoding="utf-8")
    monkeypatch.setattr(TinyShakespeare, "urls", ((tmp_path / "offline.txt").as_uri(), source.as_uri()))
    monkeypatch.setattr(TinyShakespeare, "sha256", hashlib.sha256(source.read_bytes()).hexdigest())
    return source


def test_download_on_first_use_then_verified_cache(mirror, tmp_path):
    data = TinyShakespeare(root=tmp_path / "data", block_size=8)
    assert data.path == tmp_path / "data" / "tinyshakespeare" / "input.txt"
    assert data.path.read_bytes() == mirror.read_bytes() and data.decode(data.data) == TEXT[:450]
    assert sorted(os.listdir(data.path.parent)) == [".verified.json", "input.txt"]
    os.remove(mirror)                                                     # offline from now on
    assert TinyShakespeare(root=tmp_path / "data", train=False, block_size=8).decode(
        TinyShakespeare(root=tmp_path / "data", train=False, block_size=8).data) == TEXT[450:]
    changed = data.path.read_bytes().replace(b"a", b"b", 1)
    data.path.write_bytes(changed)
    with pytest.raises(ChecksumError, match="tinyshakespeare/input.txt: expected sha256 .*delete it"):
        TinyShakespeare(root=tmp_path / "data")


def test_offline_without_the_file_says_where_and_creates_nothing(mirror, tmp_path):
    os.remove(mirror)
    with pytest.raises(DatasetNotFoundError, match=r"TinyShakespeare: missing input.txt in .*tinyshakespeare.\n"
                                                   r"Put the char-rnn file .*MTORCH_DATA_DIR"):
        TinyShakespeare(root=tmp_path / "data")
    assert not (tmp_path / "data").exists()
    with pytest.raises(DatasetNotFoundError, match="download=False"):
        TinyShakespeare(root=tmp_path / "data", download=False)


def test_a_wrong_download_is_refused(mirror, tmp_path, monkeypatch):
    monkeypatch.setattr(TinyShakespeare, "sha256", "0" * 64)
    with pytest.raises(DatasetNotFoundError, match="checksum mismatch"):
        TinyShakespeare(root=tmp_path / "data")
    assert not (tmp_path / "data").exists()


def test_the_real_file():
    root = os.environ.get("MTORCH_DATA_DIR")
    if not root or not (Path(root) / "tinyshakespeare" / "input.txt").is_file():
        pytest.skip("the real tinyshakespeare/input.txt is not under $MTORCH_DATA_DIR")
    train = TinyShakespeare(root=root, block_size=128)
    val = TinyShakespeare(root=root, train=False, block_size=128)
    assert len(train.data) + len(val.data) == 1_115_394 and len(train.data) == 1_003_854
    assert train.vocab_size == 65 and train.chars[:3] == ["\n", " ", "!"] and train.chars[-1] == "z"
    assert train.decode(train.data[:14]) == "First Citizen:"
    x, y = train.get_batch(16, np.random.default_rng(0))
    assert x.shape == (16, 128) and x.dtype == np.int64
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
