"""CIFAR-10 binary reader, safe extraction, download flow, and the example's models on generated data."""
import hashlib
import importlib.util
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

import mtorch
from mtorch.datasets import CIFAR10
from mtorch.datasets import cifar10 as cifar10_module
from mtorch.datasets.cifar10 import FOLDER, extract_cifar10, read_cifar10_bin
from mtorch.datasets import DatasetNotFoundError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cifar10.py"
TRAIN_NAMES = [f"data_batch_{i}.bin" for i in range(1, 6)]


def record_bytes(label, red, green, blue):
    """One record written out field by field: the label byte, then the R, G and B planes row by row."""
    return bytes([label]) + red.tobytes() + green.tobytes() + blue.tobytes()


def make_batch(rng, n):
    images = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n)
    data = b"".join(record_bytes(int(labels[i]), *images[i]) for i in range(n))
    return images, labels, data


def write_cifar(root, rng, n=4):
    """Write all six batch files with ``n`` random records each; returns {name: (images, labels)}."""
    folder = Path(root) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    contents = {}
    for name in TRAIN_NAMES + ["test_batch.bin"]:
        images, labels, data = make_batch(rng, n)
        (folder / name).write_bytes(data)
        contents[name] = (images, labels)
    return contents


# ------------------------------------------------------------------ reader
def test_train_set_shapes_and_file_order(tmp_path, rng):
    contents = write_cifar(tmp_path, rng, n=3)
    train = CIFAR10(root=tmp_path, train=True, download=False)
    assert train.images.shape == (15, 3, 32, 32) and train.images.dtype == np.uint8
    assert train.labels.shape == (15,) and train.labels.dtype == np.int64
    np.testing.assert_array_equal(train.labels, np.concatenate([contents[n][1] for n in TRAIN_NAMES]))
    np.testing.assert_array_equal(train.images, np.concatenate([contents[n][0] for n in TRAIN_NAMES]))
    test = CIFAR10(root=tmp_path, train=False, download=False)
    assert len(test) == 3
    np.testing.assert_array_equal(test.labels, contents["test_batch.bin"][1])
    assert train.class_names[0] == "airplane" and train.class_names[9] == "truck"


def test_pixel_layout_is_label_then_red_green_blue_planes(tmp_path):
    record = np.zeros(3073, dtype=np.uint8)
    record[0] = 7
    record[1 + 5 * 32 + 7] = 11                       # red, row 5, column 7
    record[1 + 1024 + 31 * 32 + 0] = 22               # green, row 31, column 0
    record[1 + 2048 + 0 * 32 + 31] = 33               # blue, row 0, column 31
    path = tmp_path / "test_batch.bin"
    path.write_bytes(record.tobytes())
    images, labels = read_cifar10_bin([path])
    assert labels.tolist() == [7]
    assert images[0, 0, 5, 7] == 11 and images[0, 1, 31, 0] == 22 and images[0, 2, 0, 31] == 33
    assert images.sum() == 11 + 22 + 33


def test_truncated_file_error_names_the_file(tmp_path, rng):
    write_cifar(tmp_path, rng, n=2)
    path = tmp_path / FOLDER / "data_batch_3.bin"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="truncated") as info:
        CIFAR10(root=tmp_path, download=False)
    assert str(path) in str(info.value) and "6046 bytes" in str(info.value)


def test_empty_file_and_foreign_label_are_errors(tmp_path, rng):
    write_cifar(tmp_path, rng, n=2)
    test_file = tmp_path / FOLDER / "test_batch.bin"
    data = bytearray(test_file.read_bytes())
    data[3073] = 10                                   # second record's label
    test_file.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="record 1 has label 10"):
        CIFAR10(root=tmp_path, train=False, download=False)
    test_file.write_bytes(b"")
    with pytest.raises(ValueError, match="0 bytes"):
        CIFAR10(root=tmp_path, train=False, download=False)


def test_missing_files_without_download_say_where_to_put_them(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        CIFAR10(root=tmp_path, train=False, download=False)
    message = str(info.value)
    assert "test_batch.bin" in message and str(tmp_path) in message
    assert "cifar-10-binary.tar.gz" in message and "MTORCH_DATA_DIR" in message


def test_transform_is_applied_to_whole_batches(tmp_path, rng):
    write_cifar(tmp_path, rng, n=4)
    data = CIFAR10(root=tmp_path, train=False, download=False, transform=CIFAR10.standard_transform())
    x, y = data[np.array([3, 0])]
    assert x.shape == (2, 3, 32, 32) and x.dtype == np.float32
    expected = (data.images[[3, 0]] / 255.0 - CIFAR10.mean) / CIFAR10.std
    np.testing.assert_allclose(x, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(y, data.labels[[3, 0]])


# -------------------------------------------------- archive and download
def make_archive(path, rng, members=None, extra=()):
    """A .tar.gz shaped like cifar-10-binary.tar.gz; ``extra`` adds (TarInfo, bytes) members first."""
    members = members if members is not None else TRAIN_NAMES + ["test_batch.bin", "batches.meta.txt"]
    with tarfile.open(path, "w:gz") as tar:
        for info, data in extra:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
        for name in members:
            data = b"airplane\n" if name.endswith(".txt") else make_batch(rng, 2)[2]
            info = tarfile.TarInfo(f"{FOLDER}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_extraction_takes_only_the_expected_regular_files(tmp_path, rng):
    evil = tarfile.TarInfo("../evil.bin")
    evil.size = 3
    link = tarfile.TarInfo(f"{FOLDER}/readme.html")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    archive = tmp_path / "archive.tar.gz"
    root = tmp_path / "root"
    make_archive(archive, rng, extra=[(evil, b"bad"), (link, None)])
    extract_cifar10(archive, root)
    assert sorted(p.name for p in (root / FOLDER).iterdir()) == sorted(
        TRAIN_NAMES + ["test_batch.bin", "batches.meta.txt"])
    assert not (tmp_path / "evil.bin").exists()
    assert len(CIFAR10(root=root, download=False)) == 10


def test_extraction_rejects_symlink_posing_as_a_batch(tmp_path, rng):
    fake = tarfile.TarInfo(f"{FOLDER}/test_batch.bin")
    fake.type, fake.linkname = tarfile.SYMTYPE, "/etc/passwd"
    archive = tmp_path / "archive.tar.gz"
    make_archive(archive, rng, members=TRAIN_NAMES + ["batches.meta.txt"], extra=[(fake, None)])
    with pytest.raises(ValueError, match="test_batch.bin"):
        extract_cifar10(archive, tmp_path / "root")
    assert not (tmp_path / "root" / FOLDER / "test_batch.bin").exists()


def test_download_flow_verifies_md5_then_extracts(tmp_path, rng, monkeypatch):
    source = tmp_path / "served.tar.gz"
    make_archive(source, rng)
    md5 = hashlib.md5(source.read_bytes()).hexdigest()
    monkeypatch.setattr(cifar10_module, "ARCHIVE_URLS", (source.as_uri(),))
    monkeypatch.setattr(cifar10_module, "ARCHIVE_MD5", md5)
    root = tmp_path / "root"
    data = CIFAR10(root=root, train=False)
    assert len(data) == 2 and (root / "cifar-10-binary.tar.gz").is_file()


def test_download_checksum_mismatch_leaves_nothing(tmp_path, rng, monkeypatch):
    source = tmp_path / "served.tar.gz"
    make_archive(source, rng)
    monkeypatch.setattr(cifar10_module, "ARCHIVE_URLS", (source.as_uri(),))
    root = tmp_path / "root"
    with pytest.raises(DatasetNotFoundError, match="checksum mismatch"):
        CIFAR10(root=root, train=False)
    assert not (root / FOLDER).exists()
    assert not (root / "cifar-10-binary.tar.gz").exists()


def test_verified_archive_already_in_root_is_unpacked_without_downloading(tmp_path, rng, monkeypatch):
    root = tmp_path / "root"
    root.mkdir()
    archive = root / "cifar-10-binary.tar.gz"
    make_archive(archive, rng)
    monkeypatch.setattr(cifar10_module, "ARCHIVE_MD5", hashlib.md5(archive.read_bytes()).hexdigest())
    monkeypatch.setattr(cifar10_module, "ARCHIVE_URLS", ((tmp_path / "absent.tar.gz").as_uri(),))
    assert len(CIFAR10(root=root, train=True)) == 10


# ------------------------------------------------------------ the example
@pytest.fixture
def example(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE.parent))         # it imports MNIST_recognition's helpers
    spec = importlib.util.spec_from_file_location("cifar10_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_one_training_step_of_each_model(example, model, tmp_path, rng):
    write_cifar(tmp_path, rng, n=2)
    data = CIFAR10(root=tmp_path, transform=CIFAR10.standard_transform(), download=False)
    x, y = data.get_batch(np.arange(8))
    module = example.MODELS[model]()
    loss_func = mtorch.loss.CrossEntropyLoss(backward_func=module.backward)
    optimizer = mtorch.optim.Adam(module, lr=1e-3)
    before = {name: p.data.copy() for name, p in module.named_parameters()}
    loss = loss_func(module(x), y)                  # training mode: dropout, batch statistics
    assert module(x).shape == (8, 10) and np.isfinite(loss.value)
    loss.backward()
    for name, p in module.named_parameters():
        assert np.all(np.isfinite(p.grad)), name
    optimizer.step()
    for name, p in module.named_parameters():
        assert not np.array_equal(p.data, before[name]) and p.grad is None, name

    module.eval()                                   # a deterministic function: one step must lower its loss
    first = loss_func(module(x), y)
    first.backward()
    optimizer.step()
    assert loss_func(module(x), y).value < first.value


def test_example_runs_end_to_end_and_resumes(example, tmp_path, rng, capsys):
    write_cifar(tmp_path, rng, n=8)
    out = tmp_path / "runs"
    common = ["--model", "mlp", "--data-dir", str(tmp_path), "--batch-size", "16", "--out", str(out)]
    accuracy = example.main(common + ["--epochs", "1"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"test accuracy: {accuracy:.4f}"
    for suffix in (".npz", "_curves.png", "_misclassified.png", "_confusion.png"):
        assert (out / f"cifar10_mlp{suffix}").is_file()
    example.main(common + ["--epochs", "2", "--no-plots", "--resume", str(out / "cifar10_mlp.npz")])
    assert mtorch.load(out / "cifar10_mlp.npz")["epoch"] == 2

