"""kernels.blocks.blockwise against the plain math: the formula on whole arrays, to the bit."""
import numpy as np
import pytest

from mtorch.functional import _erfc, erfc
from mtorch.kernels import blocks


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 256)          # 64 float32 values a block: many blocks


def _formula(x, y):
    return x * np.tanh(y) + np.exp(-x * x), x > y


@pytest.mark.parametrize("shape", [(1000,), (37, 29), (5, 7, 11), (64 * 3,)])
def test_same_bits_as_the_whole_formula_in_any_number_of_blocks(small_blocks, shape, rng):
    x, y = rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)
    expected = _formula(x, y)
    result = blocks.blockwise(_formula, x, y)
    for got, want in zip(result, expected):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(blocks.blockwise(np.sin, x), np.sin(x))        # one output: an array


def test_small_and_strided_arrays_are_computed_whole(small_blocks, rng):
    calls = []

    def counted(a):
        calls.append(a.shape)
        return a * 2

    x = rng.standard_normal((100, 20))
    np.testing.assert_array_equal(blocks.blockwise(counted, x.T), x.T * 2)        # not C-contiguous
    np.testing.assert_array_equal(blocks.blockwise(counted, x[:3]), x[:3] * 2)    # two blocks or less
    np.testing.assert_array_equal(blocks.blockwise(counted, np.float64(3.0)), 6.0)
    assert calls == [(20, 100), (3, 20), ()]
    blocks.blockwise(counted, x)
    assert len(calls) == 3 + 63                                                    # 2000 values, 32 a block


def test_erfc_in_blocks_is_erfc_whole(rng):
    x = rng.standard_normal(3 * blocks.BLOCK_BYTES // 4 + 5).astype(np.float32) * 3
    np.testing.assert_array_equal(erfc(x), _erfc(x))
