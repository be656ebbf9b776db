"""Padding layers, Upsample, PixelShuffle and PixelUnshuffle: hand-computed values, finite
differences and errors (PyTorch parity: test_conv_family_torch.py)."""
import numpy as np
import pytest

import mtorch
from mtorch import layers
from mtorch.errors import ShapeError

ROW = np.array([[[1.0, 2.0, 3.0]]])


@pytest.mark.parametrize("layer, padded, grad", [
    (layers.ZeroPad1d(2), [0, 0, 1, 2, 3, 0, 0], [1, 1, 1]),
    (layers.ConstantPad1d((1, -1), 7.0), [7, 1, 2], [1, 1, 0]),                 # a negative amount crops
    (layers.ReflectionPad1d(2), [3, 2, 1, 2, 3, 2, 1], [2, 3, 2]),
    (layers.ReplicationPad1d(2), [1, 1, 1, 2, 3, 3, 3], [3, 1, 3]),
    (layers.CircularPad1d(2), [2, 3, 1, 2, 3, 1, 2], [2, 3, 2]),
])
def test_padding_1d_by_hand(layer, padded, grad):
    """The gradient of the sum counts how often each entry was copied."""
    np.testing.assert_array_equal(layer(ROW)[0, 0], padded)
    np.testing.assert_array_equal(layer.backward(np.ones((1, 1, len(padded))))[0, 0], grad)


def test_padding_2d_order_is_left_right_top_bottom():
    x = np.arange(4.0).reshape(1, 2, 2)                                         # unbatched (C, H, W)
    y = layers.ConstantPad2d((1, 0, 0, 2), -1.0)(x)
    np.testing.assert_array_equal(y[0], [[-1, 0, 1], [-1, 2, 3], [-1, -1, -1], [-1, -1, -1]])
    np.testing.assert_array_equal(layers.ReflectionPad2d((0, 1, 1, 0))(x)[0], [[2, 3, 2], [0, 1, 0], [2, 3, 2]])


@pytest.mark.parametrize("make, shape", [
    (lambda: layers.ReflectionPad2d((2, 1, 0, 3)), (2, 3, 4, 5)),
    (lambda: layers.ReplicationPad2d((2, 1, 0, 3)), (3, 4, 5)),
    (lambda: layers.CircularPad2d((3, 1, 2, 2)), (2, 1, 3, 3)),
    (lambda: layers.ConstantPad2d((1, -2, 2, -1), 0.5), (2, 3, 4, 5)),
    (lambda: layers.ReflectionPad1d((1, 3)), (2, 3, 4)),
    (lambda: layers.Upsample(scale_factor=(1.5, 2.5), mode="bicubic"), (2, 2, 3, 4)),
    (lambda: layers.Upsample(size=(5, 2), mode="bilinear", align_corners=True), (2, 2, 3, 4)),
    (lambda: layers.Upsample(scale_factor=0.7, mode="linear"), (2, 2, 7)),
    (lambda: layers.Upsample(size=(5, 7), mode="nearest-exact"), (1, 2, 3, 4)),
    (lambda: layers.PixelShuffle(2), (2, 3, 8, 2, 2)),
    (lambda: layers.PixelUnshuffle(3), (6, 3, 6)),
])
def test_gradcheck(make, shape, rng):
    assert mtorch.gradcheck(make(), rng.standard_normal(shape))


def test_upsample_by_hand():
    x = np.array([[[1.0, 2.0]]])
    np.testing.assert_array_equal(layers.Upsample(scale_factor=2)(x), [[[1, 1, 2, 2]]])
    np.testing.assert_array_equal(layers.Upsample(scale_factor=2, mode="linear")(x), [[[1, 1.25, 1.75, 2]]])
    image = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    np.testing.assert_array_equal(layers.Upsample(size=3, mode="bilinear", align_corners=True)(image)[0, 0],
                                  [[1, 1.5, 2], [2, 2.5, 3], [3, 3.5, 4]])
    # bicubic with a = -0.75: weights (-0.09375, 0.59375, 0.59375, -0.09375) half-way; it rings at a step
    step = np.array([[[[0.0, 0.0, 1.0, 1.0]]]])
    y = layers.Upsample(size=(1, 7), mode="bicubic", align_corners=True)(step)
    np.testing.assert_allclose(y[0, 0, 0], [0, -0.09375, 0, 0.5, 1, 1.09375, 1], atol=1e-15)


def test_upsample_backward_by_hand():
    up = layers.Upsample(scale_factor=2, mode="linear")
    up(np.array([[[1.0, 2.0]]]))
    # dL/dx[0] = 1 + 0.75 + 0.25 (the taps of y0, y1, y2), dL/dx[1] = 0.25 + 0.75 + 1
    np.testing.assert_array_equal(up.backward(np.ones((1, 1, 4))), [[[2, 2]]])


def test_pixel_shuffle_by_hand():
    x = np.arange(8.0).reshape(1, 8, 1, 1)
    y = layers.PixelShuffle(2)(x)
    np.testing.assert_array_equal(y[0], [[[0, 1], [2, 3]], [[4, 5], [6, 7]]])
    np.testing.assert_array_equal(layers.PixelUnshuffle(2)(y), x)


def test_errors_name_the_public_class():
    with pytest.raises(ShapeError, match="ReflectionPad1d.*smaller than the input size 3"):
        layers.ReflectionPad1d(3)(ROW)
    with pytest.raises(ShapeError, match="CircularPad1d"):
        layers.CircularPad1d(4)(ROW)
    with pytest.raises(ValueError, match="ReflectionPad2d: padding"):
        layers.ReflectionPad2d((1, -1, 0, 0))
    with pytest.raises(TypeError, match="ZeroPad2d: padding must be an int or a tuple of 4 ints"):
        layers.ZeroPad2d((1, 2))
    with pytest.raises(TypeError, match=r"ZeroPad1d.__init__\(\) got an unexpected keyword argument"):
        layers.ZeroPad1d(1, value=2)
    with pytest.raises(ValueError, match="Upsample: give exactly one of size and scale_factor"):
        layers.Upsample()
    with pytest.raises(ValueError, match="Upsample: mode must be one of"):
        layers.Upsample(scale_factor=2, mode="trilinear")
    with pytest.raises(ValueError, match="Upsample: align_corners can only be set"):
        layers.Upsample(scale_factor=2, align_corners=True)
    with pytest.raises(ShapeError, match="Upsample.*needs a 4-d input"):
        layers.Upsample(scale_factor=2, mode="bilinear")(ROW)
    with pytest.raises(ShapeError, match="PixelShuffle.*divisible by"):
        layers.PixelShuffle(2)(np.zeros((1, 6, 2, 2)))
    with pytest.raises(ValueError, match="PixelUnshuffle: downscale_factor"):
        layers.PixelUnshuffle(0)
