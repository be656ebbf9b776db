"""mtorch.datasets: IDX files, verified downloads, MNIST / Fashion-MNIST, the standard transform.

Nothing here touches the network: downloads come from file:// URLs of files
the tests write. The real data is read from ``MTORCH_DATA_DIR`` when it is set.
"""
import gzip
import hashlib
import http.client
import importlib
import importlib.util
import json
import os
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import mtorch
from mtorch import layers
from mtorch.datasets import (MNIST, ChecksumError, DatasetNotFoundError, DownloadError, FashionMNIST,
                             IDXError, Normalize, data_root, download, read_idx, sha256_file, verify_cached, verify_file,
                             write_idx)
from mtorch.datasets.mnist import TEST_FILES, TRAIN_FILES

REAL_ROOT = os.environ.get("MTORCH_DATA_DIR")
DOWNLOAD = importlib.import_module("mtorch.datasets.download")     # the module (the package exports the function)


def _real(dataset_cls):
    folder = Path(REAL_ROOT or "") / dataset_cls.folder
    if not REAL_ROOT or not all((folder / name).is_file() for name in TRAIN_FILES + TEST_FILES):
        pytest.skip(f"the real {dataset_cls.__name__} files are not under $MTORCH_DATA_DIR")
    return REAL_ROOT


# ------------------------------------------------------------------- IDX
@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_idx_round_trip(tmp_path, rng, dtype, name):
    array = (rng.standard_normal((3, 4, 5)) * 50).astype(dtype)
    write_idx(tmp_path / name, array)
    back = read_idx(tmp_path / name)
    assert back.dtype == array.dtype and back.dtype.isnative and back.flags.writeable
    np.testing.assert_array_equal(back, array)


def test_idx_header_bytes_match_the_published_format(tmp_path):
    write_idx(tmp_path / "labels", np.array([5, 0, 4], np.uint8))
    assert (tmp_path / "labels").read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 5, 0, 4])
    write_idx(tmp_path / "ints", np.array([[1, -2]], np.int32))
    assert (tmp_path / "ints").read_bytes() == (bytes([0, 0, 0x0C, 2, 0, 0, 0, 1, 0, 0, 0, 2])
                                                + (1).to_bytes(4, "big") + (-2).to_bytes(4, "big", signed=True))


def test_idx_gzip_is_recognised_by_content_not_name(tmp_path):
    raw = bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4])
    (tmp_path / "plain.gz").write_bytes(raw)
    (tmp_path / "packed").write_bytes(gzip.compress(raw))
    for name in ("plain.gz", "packed"):
        np.testing.assert_array_equal(read_idx(tmp_path / name), [[1, 2], [3, 4]])


def test_write_idx_rejects_unstorable_dtype(tmp_path):
    with pytest.raises(TypeError, match="int64"):
        write_idx(tmp_path / "x", np.zeros(3, np.int64))


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_idx_names_the_file(tmp_path, compress):
    raw = bytes([0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28]) + bytes(28 * 28 * 3)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(gzip.compress(raw) if compress else raw)
    with pytest.raises(IDXError, match=r"train-images-idx3-ubyte: truncated.*\(10, 28, 28\) of uint8 \(7856 bytes"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True])
def test_a_header_asking_for_terabytes_is_refused_before_allocating(tmp_path, compress, monkeypatch):
    raw = bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in (65536, 65536, 1024)) + bytes(100)
    path = tmp_path / "huge"
    path.write_bytes(gzip.compress(raw) if compress else raw)
    monkeypatch.setattr(np, "empty", lambda *a, **k: pytest.fail("allocated"))
    with pytest.raises(IDXError, match=r"huge: truncated.*\(65536, 65536, 1024\) of uint8 \(4398046511120 bytes"):
        read_idx(path)


def test_truncated_gzip_stream_names_the_file(tmp_path):
    path = tmp_path / "cut.gz"
    write_idx(path, np.arange(1000, dtype=np.int32))
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(IDXError, match=r"cut\.gz.*gzip"):
        read_idx(path)


@pytest.mark.parametrize("content, message", [
    (b"PK\x03\x04 this is a zip archive", r"not an IDX file: first bytes are 50 4b 03 04"),
    (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 9]), r"not an IDX file: first bytes are 00 00 07 01"),
    (b"\x00\x00", r"truncated IDX file: expected 4 bytes of header, found 2"),
    (bytes([0, 0, 8, 3, 0, 0, 0, 1]), r"truncated IDX file: expected 12 bytes of dimension sizes, found 4"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3]), r"IDX file has extra bytes: header says shape \(2,\) of uint8 "
                                               r"\(10 bytes with the header\), the file has 11 bytes"),
])
def test_foreign_or_damaged_file_raises_idx_error(tmp_path, content, message):
    path = tmp_path / "odd.bin"
    path.write_bytes(content)
    with pytest.raises(IDXError, match=r"odd\.bin: " + message):
        read_idx(path)
    assert issubclass(IDXError, ValueError)


# ------------------------------------------------------------- download
def _source(tmp_path, content=b"the payload " * 1000):
    source = tmp_path / "mirror" / "file.gz"
    source.parent.mkdir()
    source.write_bytes(content)
    return source, hashlib.sha256(content).hexdigest(), hashlib.md5(content).hexdigest()


def test_download_from_file_url_verifies_and_writes(tmp_path):
    source, sha, md5 = _source(tmp_path)
    target = tmp_path / "cache" / "sub" / "file.gz"
    assert download([source.as_uri()], target, sha256=sha, md5=md5, progress=False) == target
    assert target.read_bytes() == source.read_bytes()
    assert sha256_file(target) == sha
    assert os.listdir(target.parent) == ["file.gz"]


def test_download_falls_back_to_the_next_mirror(tmp_path):
    source, sha, _ = _source(tmp_path)
    dead = (tmp_path / "nowhere" / "file.gz").as_uri()
    download([dead, source.as_uri()], tmp_path / "out.gz", sha256=sha.upper(), progress=False)
    assert (tmp_path / "out.gz").read_bytes() == source.read_bytes()


def test_checksum_mismatch_names_file_and_both_hashes_and_leaves_nothing(tmp_path):
    source, sha, _ = _source(tmp_path)
    wrong = "0" * 64
    target = tmp_path / "cache" / "file.gz"
    with pytest.raises(DownloadError) as info:
        download([source.as_uri()], target, sha256=wrong, progress=False)
    message = str(info.value)
    assert "file.gz" in message and f"expected sha256 {wrong}" in message and f"got {sha}" in message
    url, error = info.value.failures[0]
    assert url == source.as_uri() and isinstance(error, ChecksumError) and error.actual == sha
    assert not target.parent.exists()                 # the folder made for it is gone too


def test_md5_is_checked_too(tmp_path):
    source, sha, md5 = _source(tmp_path)
    with pytest.raises(DownloadError, match=f"expected md5 {'f' * 32}, got {md5}"):
        download(source.as_uri(), tmp_path / "x", sha256=sha, md5="f" * 32, progress=False)


def test_every_failing_mirror_is_listed(tmp_path):
    urls = [(tmp_path / name / "f.gz").as_uri() for name in ("one", "two")]
    with pytest.raises(DownloadError) as info:
        download(urls, tmp_path / "f.gz", sha256="0" * 64, progress=False)
    assert [url for url, _ in info.value.failures] == urls
    assert all(url in str(info.value) for url in urls) and "tried 2 mirror(s)" in str(info.value)
    assert isinstance(info.value, OSError) and not (tmp_path / "f.gz").exists()


class _BrokenResponse:
    """A response that delivers one chunk and then fails with ``error``."""

    def __init__(self, error):
        self.error, self.headers, self.sent = error, {"Content-Length": "3000"}, False

    def read(self, size):
        if self.sent:
            raise self.error
        self.sent = True
        return b"x" * 1000

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("error, raised", [(ConnectionResetError("reset by peer"), DownloadError),
                                           (http.client.IncompleteRead(b"x" * 10, 1990), DownloadError),
                                           (KeyboardInterrupt(), KeyboardInterrupt)])
def test_interrupted_download_leaves_no_file(tmp_path, monkeypatch, error, raised):
    monkeypatch.setattr(urllib.request, "urlopen", lambda request, timeout: _BrokenResponse(error))
    target = tmp_path / "cache" / "file.gz"
    with pytest.raises(raised):
        download(["https://example.invalid/file.gz"], target, sha256="0" * 64, progress=False)
    assert not target.parent.exists()


def test_a_failed_download_creates_no_folder_and_keeps_existing_ones(tmp_path):
    (tmp_path / "data").mkdir()
    target = tmp_path / "data" / "new" / "deeper" / "f.gz"
    with pytest.raises(DownloadError):
        download([(tmp_path / "offline" / "f.gz").as_uri()], target, sha256="0" * 64, progress=False)
    assert os.listdir(tmp_path) == ["data"] and os.listdir(tmp_path / "data") == []
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(DownloadError, match=r"creating the folder .*file/sub"):
        download(["file:///x"], tmp_path / "file" / "sub" / "f.gz", sha256="0" * 64, progress=False)


def test_verify_cached_hashes_once_and_notices_an_edit(tmp_path, monkeypatch):
    source, sha, _ = _source(tmp_path)
    calls = []
    real_hash = DOWNLOAD.file_hash
    monkeypatch.setattr(DOWNLOAD, "file_hash", lambda *a: calls.append(a) or real_hash(*a))
    verify_cached(source, sha256=sha)
    verify_cached(source, sha256=sha)
    assert len(calls) == 1
    record = json.loads((source.parent / ".verified.json").read_text())
    assert record["file.gz"]["sha256"] == sha and record["file.gz"]["size"] == source.stat().st_size
    DOWNLOAD._verified.clear()        # a new process: the record on disk is enough
    verify_cached(source, sha256=sha)
    assert len(calls) == 1
    data = bytearray(source.read_bytes())
    data[100] ^= 1
    source.write_bytes(bytes(data))
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 10**9))
    with pytest.raises(ChecksumError, match=r"file.gz: expected sha256 .*delete it to download it again"):
        verify_cached(source, sha256=sha)
    with pytest.raises(ChecksumError):                 # refused every time, not only once
        verify_cached(source, sha256=sha)


def test_verify_cached_in_a_read_only_folder_remembers_in_memory(tmp_path, monkeypatch):
    source, sha, _ = _source(tmp_path)
    monkeypatch.setattr(DOWNLOAD, "_write_records", lambda path, records: None)
    verify_cached(source, sha256=sha)
    monkeypatch.setattr(DOWNLOAD, "file_hash", lambda *a: pytest.fail("hashed twice"))
    verify_cached(source, sha256=sha)
    (source.parent / ".verified.json").write_text("{not json")    # a damaged record is ignored
    DOWNLOAD._verified.clear()
    monkeypatch.undo()
    verify_cached(source, sha256=sha)


def test_verify_file_checks_every_given_hash(tmp_path):
    source, sha, md5 = _source(tmp_path)
    verify_file(source, sha256=sha, md5=md5.upper())
    with pytest.raises(ChecksumError, match=f"file.gz: expected md5 {'0' * 32}, got {md5}"):
        verify_file(source, sha256=sha, md5="0" * 32)
    with pytest.raises(ValueError, match="checksum"):
        verify_file(source)


def test_download_needs_a_checksum(tmp_path):
    with pytest.raises(ValueError, match="checksum"):
        download(["file:///x"], tmp_path / "x")


# --------------------------------------------------------------- paths
def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("MTORCH_DATA_DIR", str(tmp_path / "env"))
    assert data_root(tmp_path / "arg") == tmp_path / "arg"
    assert data_root() == tmp_path / "env"
    monkeypatch.delenv("MTORCH_DATA_DIR")
    assert data_root() == Path(mtorch.__file__).resolve().parents[1] / "datasets"


# -------------------------------------------------- MNIST from fake files
def _fake_mnist(folder, n, rng, monkeypatch=None, dataset_cls=MNIST):
    """Write the four canonical files with ``n`` random images each; return their hashes (and,
    given ``monkeypatch``, make them the ones ``dataset_cls`` expects)."""
    folder.mkdir(parents=True)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    for image_name, label_name in (TRAIN_FILES, TEST_FILES):
        write_idx(folder / image_name, images)
        write_idx(folder / label_name, labels)
    hashes = {p.name: (hashlib.md5(p.read_bytes()).hexdigest(), sha256_file(p)) for p in folder.iterdir()}
    if monkeypatch is not None:
        monkeypatch.setattr(dataset_cls, "checksums", hashes)
    return images, labels, hashes


def test_mnist_downloads_missing_files_from_a_mirror(tmp_path, monkeypatch, rng):
    images, labels, hashes = _fake_mnist(tmp_path / "mirror", 7, rng)
    monkeypatch.setattr(MNIST, "mirrors", ("file:///no/such/mirror/", (tmp_path / "mirror").as_uri() + "/"))
    monkeypatch.setattr(MNIST, "checksums", hashes)
    test = MNIST(root=tmp_path / "data", train=False)
    assert sorted(os.listdir(tmp_path / "data" / "mnist")) == sorted(TEST_FILES + (".verified.json",))
    assert test.images.dtype == np.uint8 and test.labels.dtype == np.int64
    np.testing.assert_array_equal(test.images, images)
    np.testing.assert_array_equal(test.labels, labels)


def test_offline_error_says_what_is_missing_and_where(tmp_path, monkeypatch):
    monkeypatch.setattr(FashionMNIST, "mirrors", ((tmp_path / "offline").as_uri() + "/",))
    with pytest.raises(DatasetNotFoundError) as info:
        FashionMNIST(root=tmp_path / "data")
    message = str(info.value)
    folder = str(tmp_path / "data" / "fashion-mnist")
    assert "FashionMNIST: missing train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz in " + folder in message
    assert "MTORCH_DATA_DIR" in message and "fashion-mnist/" in message and "download failed" in message
    assert isinstance(info.value, FileNotFoundError)
    assert os.listdir(tmp_path) == []                 # no folder was created for the failed download


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(root=5), "root must be a folder"),
    (dict(train="yes"), "^MNIST: train must be True or False"),
    (dict(download=None), "^MNIST: download must be True or False"),
    (dict(transform="normalize"), "^MNIST: transform must be callable or None"),
])
def test_mnist_arguments(kwargs, fragment, tmp_path):
    with pytest.raises(TypeError, match=fragment):
        MNIST(**{"root": tmp_path, **kwargs})
    assert os.listdir(tmp_path) == []


def test_download_false_does_not_download(tmp_path, monkeypatch, rng):
    _, _, hashes = _fake_mnist(tmp_path / "mirror", 3, rng)
    monkeypatch.setattr(MNIST, "mirrors", ((tmp_path / "mirror").as_uri() + "/",))
    monkeypatch.setattr(MNIST, "checksums", hashes)
    with pytest.raises(DatasetNotFoundError, match=r"download=False"):
        MNIST(root=tmp_path / "data", download=False)
    assert not (tmp_path / "data" / "mnist").exists()


def test_labels_must_match_images(tmp_path, rng, monkeypatch):
    folder = tmp_path / "mnist"
    write_idx(folder.parent / TEST_FILES[1], np.zeros(3, np.uint8))
    monkeypatch.setattr(MNIST, "checksums", {TEST_FILES[1]: (None, sha256_file(folder.parent / TEST_FILES[1]))})
    _, _, hashes = _fake_mnist(folder, 4, rng)
    os.replace(folder.parent / TEST_FILES[1], folder / TEST_FILES[1])
    MNIST.checksums[TEST_FILES[0]] = hashes[TEST_FILES[0]]
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte.gz: expected 4 labels"):
        MNIST(root=tmp_path, train=False, download=False)


def test_a_changed_pixel_in_a_cached_file_is_found(tmp_path, rng, monkeypatch):
    images, _, _ = _fake_mnist(tmp_path / "mnist", 5, rng, monkeypatch)
    MNIST(root=tmp_path, download=False)                       # verified and recorded
    images[2, 14, 14] ^= 1
    write_idx(tmp_path / "mnist" / TRAIN_FILES[0], images)
    with pytest.raises(ChecksumError, match=r"mnist/train-images-idx3-ubyte.gz: expected sha256 .*delete it"):
        MNIST(root=tmp_path, download=False)
    MNIST(root=tmp_path, train=False, download=False)          # the untouched test files still load


def test_indexing_applies_the_transform_per_batch(tmp_path, rng, monkeypatch):
    images, labels, _ = _fake_mnist(tmp_path / "mnist", 10, rng, monkeypatch)
    data = MNIST(root=tmp_path, download=False, transform=Normalize(flatten=True))
    x, y = data[np.array([3, 1, 4])]
    assert x.dtype == np.float32 and x.shape == (3, 784) and y.dtype == np.int64
    np.testing.assert_allclose(x, images[[3, 1, 4]].reshape(3, 784) / 255, rtol=1e-6)
    np.testing.assert_array_equal(y, labels[[3, 1, 4]])
    x0, y0 = data[2]
    assert x0.shape == (784,) and y0 == labels[2] and len(data) == 10
    assert data.images.dtype == np.uint8


def test_dataloader_gathers_batches_with_get_batch(tmp_path, rng, monkeypatch):
    images, labels, _ = _fake_mnist(tmp_path / "mnist", 10, rng, monkeypatch)
    data = MNIST(root=tmp_path, download=False)
    assert isinstance(data, mtorch.data.Dataset)
    calls = []
    monkeypatch.setattr(MNIST, "get_batch", lambda self, indices: calls.append(indices) or self[indices])
    batches = list(mtorch.data.DataLoader(data, batch_size=4))
    assert [len(y) for _, y in batches] == [4, 4, 2] and len(calls) == 3
    np.testing.assert_array_equal(np.concatenate([x for x, _ in batches]), images)
    np.testing.assert_array_equal(np.concatenate([y for _, y in batches]), labels)
    x, _ = batches[0]
    x[:] = 0
    assert data.images[:4].any() and x.dtype == np.uint8


# ------------------------------------------------------------ transform
def test_normalize_values_and_shapes():
    t = MNIST.standard_transform()
    x = t(np.array([[[0, 255]]], np.uint8))
    np.testing.assert_allclose(x, [[[-0.1307 / 0.3081, (1 - 0.1307) / 0.3081]]], rtol=1e-6)
    assert x.dtype == np.float32 and x.shape == (1, 1, 2)
    assert MNIST.standard_transform(flatten=True)(np.zeros((5, 28, 28), np.uint8)).shape == (5, 784)
    assert FashionMNIST.standard_transform().mean == 0.2860


def test_normalize_leaves_a_float_input_unchanged():
    x = np.full((2, 2), 255, np.float32)
    Normalize(0.5, 0.5)(x)
    np.testing.assert_array_equal(x, 255)


def test_normalize_rejects_bad_arguments():
    with pytest.raises(ValueError, match="^Normalize: std must be a number > 0, got 0"):
        Normalize(std=0)
    with pytest.raises(TypeError, match="mean must be a number"):
        Normalize(mean="0.5")
    with pytest.raises(TypeError, match="flatten must be True or False"):
        Normalize(flatten=1)
    with pytest.raises(TypeError, match="^Normalize: images must hold real numbers"):
        Normalize()(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match=r"\(\.\.\., H, W\)"):
        Normalize()(np.zeros(3))


# ------------------------------------------------------------ real data
@pytest.mark.parametrize("dataset_cls, first_labels", [(MNIST, [5, 0, 4, 1, 9]), (FashionMNIST, [9, 0, 0, 3, 0])])
def test_real_files_load_and_match_published_checksums(dataset_cls, first_labels):
    root = _real(dataset_cls)
    train, test = dataset_cls(root=root, download=False), dataset_cls(root=root, train=False, download=False)
    assert train.images.shape == (60000, 28, 28) and test.images.shape == (10000, 28, 28)
    assert train.images.dtype == np.uint8 and train.labels.dtype == np.int64
    np.testing.assert_array_equal(train.labels[:5], first_labels)
    assert np.bincount(test.labels).tolist() == (
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009] if dataset_cls is MNIST else [1000] * 10)
    assert abs(train.images.mean() / 255 - dataset_cls.mean) < 1e-4
    assert abs(train.images.std() / 255 - dataset_cls.std) < 1e-4
    for name, (_, sha) in dataset_cls.checksums.items():
        assert sha256_file(Path(root) / dataset_cls.folder / name) == sha


def test_short_training_run_on_real_mnist_beats_85_percent():
    root = _real(MNIST)
    transform = MNIST.standard_transform(flatten=True)
    train, test = MNIST(root, transform=transform), MNIST(root, train=False, transform=transform)
    net = mtorch.Sequential([layers.Linear(784, 64), layers.ReLU(), layers.Linear(64, 10)])
    loss_func = mtorch.loss.CrossEntropyLoss(backward_func=net.backward)
    subset = mtorch.data.TensorDataset(*train[mtorch.random.generator().permutation(len(train))[:10000]])
    for epoch in range(2):
        for x, y in mtorch.data.DataLoader(subset, batch_size=100, shuffle=True):
            loss_func(net(x), y).backward()
            net.step(0.2)
    x, y = test[np.arange(2000)]
    accuracy = (net(x).argmax(axis=1) == y).mean()
    assert accuracy > 0.85, accuracy


# ------------------------------------------------- examples/MNIST_recognition.py
def test_mnist_example_runs_saves_and_resumes(tmp_path, rng, monkeypatch, capsys):
    """One quick epoch on 64 fake images: the output format, the files, and --resume."""
    _fake_mnist(tmp_path / "data" / "mnist", 64, rng, monkeypatch)
    spec = importlib.util.spec_from_file_location(
        "mnist_example", Path(__file__).resolve().parents[1] / "examples" / "MNIST_recognition.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    argv = ["--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "runs"), "--batch-size", "16",
            "--epochs", "1"]
    accuracy = example.main(argv)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"test accuracy: {accuracy:.4f}"
    assert any(line.startswith("epoch  1/1: train loss ") for line in lines)
    for suffix in (".npz", "_curves.png", "_misclassified.png", "_confusion.png"):
        assert (tmp_path / "runs" / f"mnist_mlp{suffix}").stat().st_size > 0
    checkpoint = mtorch.load(tmp_path / "runs" / "mnist_mlp.npz")
    assert checkpoint["epoch"] == 1 and len(checkpoint["history"]["test_acc"]) == 1

    argv[-1] = "2"
    example.main(argv + ["--resume", str(tmp_path / "runs" / "mnist_mlp.npz"), "--no-plots"])
    second = capsys.readouterr().out
    assert "resumed from" in second and "epoch  2/2" in second and "epoch  1/2" not in second
    assert len(mtorch.load(tmp_path / "runs" / "mnist_mlp.npz")["history"]["test_acc"]) == 2
