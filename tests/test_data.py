"""Dataset, TensorDataset and DataLoader: coverage, order, seeding, drop_last, errors."""
import numpy as np
import pytest

import mtorch
from mtorch.data import DataLoader, Dataset, TensorDataset, default_collate


def make_data(n=103):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    return TensorDataset(x, np.arange(n)), x


def epoch_labels(loader):
    return np.concatenate([y for _, y in loader])


@pytest.mark.parametrize("batch_size", [1, 10, 103, 500])
@pytest.mark.parametrize("shuffle", [False, True])
def test_every_sample_exactly_once_per_epoch(batch_size, shuffle):
    data, x = make_data()
    loader = DataLoader(data, batch_size=batch_size, shuffle=shuffle)
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == len(loader) == -(-103 // batch_size)
        labels = np.concatenate([y for _, y in batches])
        np.testing.assert_array_equal(np.sort(labels), np.arange(103))
        for xb, yb in batches:                          # inputs stay paired with their labels
            np.testing.assert_array_equal(xb, x[yb])
        assert all(len(y) == batch_size for _, y in batches[:-1])
    if not shuffle:
        np.testing.assert_array_equal(labels, np.arange(103))


def test_new_order_every_epoch():
    loader = DataLoader(make_data()[0], batch_size=8, shuffle=True)
    orders = [epoch_labels(loader) for _ in range(3)]
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])


def test_same_seed_same_orders():
    def orders(**kwargs):
        loader = DataLoader(make_data()[0], batch_size=8, shuffle=True, **kwargs)
        return [epoch_labels(loader) for _ in range(3)]

    for a, b in zip(orders(seed=5), orders(seed=5)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(orders(seed=5)[0], orders(seed=6)[0])
    mtorch.manual_seed(3)
    first = orders()
    mtorch.manual_seed(3)
    for a, b in zip(first, orders()):
        np.testing.assert_array_equal(a, b)
    mtorch.manual_seed(4)
    assert not np.array_equal(first[0], orders()[0])


def test_order_is_drawn_when_the_epoch_starts():
    loader = DataLoader(make_data()[0], batch_size=8, shuffle=True)
    mtorch.manual_seed(7)
    expected = mtorch.random.generator().permutation(103)
    mtorch.manual_seed(7)
    np.testing.assert_array_equal(epoch_labels(loader), expected)


@pytest.mark.parametrize("shuffle", [False, True])
def test_drop_last(shuffle):
    loader = DataLoader(make_data()[0], batch_size=10, shuffle=shuffle, drop_last=True)
    batches = list(loader)
    assert len(batches) == len(loader) == 10
    assert all(len(y) == 10 for _, y in batches)
    labels = epoch_labels(loader)
    assert len(np.unique(labels)) == 100
    assert len(DataLoader(make_data()[0], batch_size=200, drop_last=True)) == 0
    assert list(DataLoader(make_data()[0], batch_size=200, drop_last=True)) == []


@pytest.mark.parametrize("kwargs, error, fragment", [
    (dict(batch_size=0), ValueError, "^DataLoader: batch_size must be an int >= 1, got 0"),
    (dict(batch_size=-3), ValueError, "got -3"),
    (dict(batch_size=2.5), TypeError, r"got 2.5 \(float\)"),
    (dict(batch_size=True), TypeError, r"got True \(bool\)"),
    (dict(batch_size="8"), TypeError, r"got '8' \(str\)"),
    (dict(shuffle="yes"), TypeError, "shuffle must be True or False"),
    (dict(drop_last=None), TypeError, "drop_last"),
    (dict(seed=-1), ValueError, "seed must be an int >= 0"),
    (dict(seed=1.5), TypeError, "seed"),
])
def test_bad_arguments(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        DataLoader(make_data()[0], **kwargs)


def test_dataset_must_be_indexable():
    with pytest.raises(TypeError, match="__len__"):
        DataLoader(iter(range(3)))


def test_tensor_dataset():
    x, y = np.zeros((5, 2)), np.arange(5)
    data = TensorDataset(x, y)
    assert len(data) == 5 and data.arrays[0] is x
    xi, yi = data[2]
    assert xi.shape == (2,) and yi == 2
    with pytest.raises(ValueError, match=r"same length.*\[5, 4\]"):
        TensorDataset(x, np.arange(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="scalar"):
        TensorDataset(np.float32(1.0))


def test_array_backed_batches_use_one_gather_not_getitem():
    calls = []

    class Counting(TensorDataset):
        def __getitem__(self, index):
            raise AssertionError("the loader should use get_batch")

        def get_batch(self, indices):
            calls.append(indices)
            return super().get_batch(indices)

    data = Counting(np.arange(50.0), np.arange(50))
    batches = list(DataLoader(data, batch_size=16, shuffle=True))
    assert len(calls) == len(batches) == 4
    x0 = data.arrays[0].copy()
    batches[0][0][:] = -1                              # batches are copies, not views
    np.testing.assert_array_equal(data.arrays[0], x0)


def test_per_batch_transform_dataset():
    """The pattern of Dataset's docstring: uint8 images become float32 once per batch."""
    class Digits(Dataset):
        def __init__(self, images, labels):
            self.images, self.labels = images, labels

        def __len__(self):
            return len(self.labels)

        def __getitem__(self, i):
            return self.images[i].astype(np.float32) / 255, self.labels[i]

        def get_batch(self, indices):
            return self.images[indices].astype(np.float32) / 255, self.labels[indices]

    images = np.random.default_rng(0).integers(0, 256, size=(40, 28, 28), dtype=np.uint8)
    data = Digits(images, np.arange(40))
    for xb, yb in DataLoader(data, batch_size=16, shuffle=True):
        assert xb.dtype == np.float32 and xb.shape[1:] == (28, 28)
        np.testing.assert_array_equal(xb, images[yb] / np.float32(255))


def test_item_by_item_fallback_stacks_samples():
    class Squares(Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return np.full(2, i * i, dtype=np.float32), i

    batches = list(DataLoader(Squares(), batch_size=3))
    assert [y.tolist() for _, y in batches] == [[0, 1, 2], [3, 4, 5], [6]]
    np.testing.assert_array_equal(batches[1][0], [[9, 9], [16, 16], [25, 25]])
    assert batches[1][0].dtype == np.float32


def test_default_collate_structures():
    assert default_collate([np.zeros(2), np.ones(2)]).shape == (2, 2)
    out = default_collate([{"a": 1, "b": np.zeros(3)}, {"a": 2, "b": np.ones(3)}])
    assert out["a"].tolist() == [1, 2] and out["b"].shape == (2, 3)


def test_base_dataset_says_what_to_implement():
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]
    with pytest.raises(NotImplementedError, match="__len__"):
        len(Dataset())


@pytest.mark.parametrize("samples, fragment", [
    ([(np.zeros(3), 0), (np.zeros(4), 1)], r"cannot stack element 0 of the samples into a batch: they differ "
                                           r"in shape \(\(3,\), \(4,\)\)"),
    ([np.zeros((2, 2)), np.zeros((2, 3))], r"cannot stack the samples .*\(2, 2\), \(2, 3\)"),
    ([([1, 2], 0), ([1, [2, 3]], 1)], "a ragged list"),
    ([(np.zeros(3), 0), (np.zeros(3),)], r"different structure: \['tuple of 1', 'tuple of 2'\]"),
    ([{"a": 1}, {"b": 2}], "different structure"),
    ([{"a": np.zeros(1)}, {"a": np.zeros(2)}], "the samples' 'a'"),
])
def test_ragged_samples_give_a_clear_error(samples, fragment):
    class Ragged(Dataset):
        def __len__(self):
            return len(samples)

        def __getitem__(self, i):
            return samples[i]

    with pytest.raises(ValueError, match="^DataLoader: .*" + fragment):
        next(iter(DataLoader(Ragged(), batch_size=len(samples))))


@pytest.mark.parametrize("arrays, fragment", [
    (([[1], [1, 2]],), "^TensorDataset: array 0 must be an array of real numbers"),
    ((np.zeros(3), np.array(["a", "b", "c"])), "^TensorDataset: array 1 must hold real numbers"),
    ((None,), "^TensorDataset: array 0 must be an array of real numbers, got None"),
])
def test_tensor_dataset_refuses_what_is_not_numbers(arrays, fragment):
    with pytest.raises(TypeError, match=fragment):
        TensorDataset(*arrays)
