"""MaxPool1d, AvgPool1d, adaptive max pooling, ceil_mode, return_indices, divisor_override and
NaN/inf: hand-computed values, finite differences and errors (PyTorch parity: test_conv_family_torch.py)."""
import numpy as np
import pytest

import mtorch
from mtorch import layers
from mtorch.errors import ShapeError


def test_maxpool1d_by_hand_with_indices():
    pool = layers.MaxPool1d(2, return_indices=True)
    y, indices = pool(np.array([[[1.0, 3.0, 2.0, 0.0, 5.0]]]))
    np.testing.assert_array_equal(y, [[[3, 2]]])
    np.testing.assert_array_equal(indices, [[[1, 2]]])
    np.testing.assert_array_equal(pool.backward(np.array([[[10.0, 20.0]]])), [[[0, 10, 20, 0, 0]]])


def test_maxpool2d_indices_count_in_the_unpadded_plane():
    pool = layers.MaxPool2d(3, stride=2, padding=1, return_indices=True)
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    y, indices = pool(x)
    np.testing.assert_array_equal(y[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(indices[0, 0], [[5, 7], [13, 15]])          # h * W + w, here the values
    assert indices.dtype == np.int64


def test_ceil_mode_adds_a_last_partial_window():
    x = np.array([[[1.0, 2.0, 3.0, 4.0, 5.0]]])
    assert layers.MaxPool1d(2)(x).shape == (1, 1, 2)
    np.testing.assert_array_equal(layers.MaxPool1d(2, ceil_mode=True)(x), [[[2, 4, 5]]])
    np.testing.assert_array_equal(layers.AvgPool1d(2, ceil_mode=True)(x), [[[1.5, 3.5, 5]]])   # D = 1 for [5]


def test_avgpool_divisor_override_and_count_include_pad():
    x = np.ones((1, 1, 4, 4))
    np.testing.assert_array_equal(layers.AvgPool2d(2, divisor_override=1)(x)[0, 0], [[4, 4], [4, 4]])
    corner = layers.AvgPool2d(3, stride=3, padding=1)(x)[0, 0, 0, 0]                  # 4 real pixels of 9
    assert corner == pytest.approx(4 / 9)
    assert layers.AvgPool2d(3, stride=3, padding=1, count_include_pad=False)(x)[0, 0, 0, 0] == 1


def test_adaptive_maxpool1d_by_hand():
    pool = layers.AdaptiveMaxPool1d(2, return_indices=True)
    y, indices = pool(np.array([[[1.0, 5.0, 2.0, 4.0, 3.0]]]))                  # regions [0, 3) and [2, 5)
    np.testing.assert_array_equal(y, [[[5, 4]]])
    np.testing.assert_array_equal(indices, [[[1, 3]]])
    np.testing.assert_array_equal(pool.backward(np.array([[[1.0, 2.0]]])), [[[0, 1, 0, 2, 0]]])


def test_adaptive_maxpool_overlapping_regions_add_gradients():
    pool = layers.AdaptiveMaxPool2d((2, 1))
    x = np.array([[[[0.0], [0.0], [9.0], [0.0], [0.0]]]])                       # rows [0, 3) and [2, 5)
    np.testing.assert_array_equal(pool(x), [[[[9], [9]]]])
    np.testing.assert_array_equal(pool.backward(np.ones((1, 1, 2, 1)))[0, 0, :, 0], [0, 0, 2, 0, 0])


def test_an_inf_stays_in_its_own_regions():
    """The old averaging matrix product made every output NaN (0 * inf)."""
    x = np.zeros((1, 1, 6, 6))
    x[0, 0, 0, 0] = np.inf
    y = layers.AdaptiveAvgPool2d(2)(x)[0, 0]
    np.testing.assert_array_equal(y, [[np.inf, 0], [0, 0]])
    y = layers.AvgPool2d(3)(x)[0, 0]
    np.testing.assert_array_equal(y, [[np.inf, 0], [0, 0]])
    np.testing.assert_array_equal(layers.Upsample(scale_factor=2)(x)[0, 0, :2, :2], np.full((2, 2), np.inf))


def test_nan_wins_the_max_and_the_last_nan_gets_the_gradient():
    """PyTorch's rule: a NaN replaces the running maximum, so the last NaN of a window wins."""
    nan = np.nan
    x = np.array([[[[nan, 1.0, 0.0, 2.0],
                    [3.0, nan, 1.0, 1.0]]]])
    for pool in (layers.MaxPool2d(2, return_indices=True), layers.AdaptiveMaxPool2d((1, 2), return_indices=True)):
        y, indices = pool(x)
        np.testing.assert_array_equal(y, [[[[nan, 2.0]]]])
        np.testing.assert_array_equal(indices, [[[[5, 3]]]])
        np.testing.assert_array_equal(pool.backward(np.array([[[[1.0, 1.0]]]])),
                                      [[[[0, 0, 0, 1], [0, 1, 0, 0]]]])


def test_an_infinite_gradient_reaches_only_the_winner():
    pool = layers.MaxPool2d(2)
    pool(np.array([[[[1.0, 2.0], [0.0, 0.0]]]]))
    np.testing.assert_array_equal(pool.backward(np.array([[[[np.inf]]]])), [[[[0, np.inf], [0, 0]]]])


CASES = [
    (lambda: layers.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True), (2, 3, 10)),
    (lambda: layers.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 2, 6, 5)),
    (lambda: layers.MaxPool2d(2), (3, 4, 4)),                                           # unbatched
    (lambda: layers.AvgPool1d(3, stride=2, padding=1, count_include_pad=False, ceil_mode=True), (2, 3, 8)),
    (lambda: layers.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, divisor_override=2), (2, 2, 6, 5)),
    (lambda: layers.AdaptiveAvgPool1d(4), (2, 3, 7)),
    (lambda: layers.AdaptiveAvgPool2d((4, 2)), (3, 3, 5)),
    (lambda: layers.AdaptiveMaxPool1d(3), (2, 3, 7)),
    (lambda: layers.AdaptiveMaxPool2d((3, None)), (2, 2, 5, 4)),
]


@pytest.mark.parametrize("make, shape", CASES)
def test_gradcheck(make, shape, rng):
    assert mtorch.gradcheck(make(), rng.standard_normal(shape))


def test_errors_name_the_public_class():
    with pytest.raises(TypeError, match=r"MaxPool2d.__init__\(\) got an unexpected keyword argument"):
        layers.MaxPool2d(2, count_include_pad=True)
    with pytest.raises(TypeError, match=r"AvgPool1d.__init__\(\) got an unexpected keyword argument"):
        layers.AvgPool1d(2, divisor_override=2)
    with pytest.raises(ValueError, match="MaxPool1d: padding must be at most half"):
        layers.MaxPool1d(2, padding=2)
    with pytest.raises(TypeError, match="AvgPool2d: ceil_mode must be True or False"):
        layers.AvgPool2d(2, ceil_mode=1)
    with pytest.raises(ValueError, match="AvgPool2d: divisor_override"):
        layers.AvgPool2d(2, divisor_override=0)
    with pytest.raises(ValueError, match="AdaptiveMaxPool1d: output_size"):
        layers.AdaptiveMaxPool1d(0)
    with pytest.raises(TypeError, match="AdaptiveAvgPool1d: output_size"):
        layers.AdaptiveAvgPool1d((2, 2))
    with pytest.raises(ShapeError, match="MaxPool1d"):
        layers.MaxPool1d(2)(np.zeros((1, 2, 3, 4)))
    with pytest.raises(ShapeError, match="AvgPool1d"):
        layers.AvgPool1d(4)(np.zeros((1, 2, 3)))
