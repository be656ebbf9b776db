"""Conv1d, ConvTranspose1d/2d, groups, padding modes and unbatched input: hand-computed values,
finite differences, arguments and errors (PyTorch parity is in test_conv_family_torch.py)."""
import numpy as np
import pytest

import mtorch
from mtorch import layers
from mtorch.errors import ShapeError


def with_weights(layer, weight, bias=None):
    layer.double()
    layer.weight.data[...] = weight
    if bias is not None:
        layer.bias.data[...] = bias
    return layer


def test_conv1d_by_hand():
    conv = with_weights(layers.Conv1d(1, 1, 3), [[[1, 2, 3]]], [1])
    x = np.array([[[0.0, 1, 2, 3]]])
    np.testing.assert_array_equal(conv(x), [[[0 + 2 + 6 + 1, 1 + 4 + 9 + 1]]])
    np.testing.assert_array_equal(conv.backward(np.ones((1, 1, 2))), [[[1, 3, 5, 3]]])
    np.testing.assert_array_equal(conv.weight.grad, [[[1, 3, 5]]])
    np.testing.assert_array_equal(conv.bias.grad, [2])


def test_conv_transpose1d_by_hand():
    """Each input value adds value * kernel onto its stride-2 window of the output."""
    up = with_weights(layers.ConvTranspose1d(1, 1, 2, stride=2, bias=False), [[[1, 2]]])
    np.testing.assert_array_equal(up(np.array([[[1.0, 3.0]]])), [[[1, 2, 3, 6]]])
    np.testing.assert_array_equal(up.backward(np.array([[[1.0, 0, 0, 1]]])), [[[1, 2]]])
    np.testing.assert_array_equal(up.weight.grad, [[[1, 3]]])


def test_conv_transpose2d_by_hand_is_convs_input_gradient():
    up = with_weights(layers.ConvTranspose2d(1, 1, 2), np.ones((1, 1, 2, 2)), [0.5])
    x = np.array([[[[1.0, 2], [3, 4]]]])
    np.testing.assert_array_equal(up(x)[0, 0], np.array([[1, 3, 2], [4, 10, 6], [3, 7, 4]]) + 0.5)
    conv = with_weights(layers.Conv2d(1, 1, 2, bias=False), np.ones((1, 1, 2, 2)))
    conv(np.zeros((1, 1, 3, 3)))
    np.testing.assert_array_equal(conv.backward(x), up(x) - 0.5)        # the adjoint: same map


def test_depthwise_conv_by_hand():
    conv = with_weights(layers.Conv2d(2, 2, 1, groups=2), [[[[2]]], [[[3]]]], [0, 1])
    x = np.arange(8.0).reshape(1, 2, 2, 2)
    np.testing.assert_array_equal(conv(x), x * np.array([2, 3])[:, None, None] + np.array([0, 1])[:, None, None])
    assert conv.weight.shape == (2, 1, 1, 1)


@pytest.mark.parametrize("mode, padded, grad", [
    ("reflect", [[4, 3, 4, 3], [2, 1, 2, 1], [4, 3, 4, 3], [2, 1, 2, 1]], [[4, 4], [4, 4]]),
    ("replicate", [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]], [[4, 4], [4, 4]]),
    ("circular", [[4, 3, 4, 3], [2, 1, 2, 1], [4, 3, 4, 3], [2, 1, 2, 1]], [[4, 4], [4, 4]]),
    ("zeros", [[0, 0, 0, 0], [0, 1, 2, 0], [0, 3, 4, 0], [0, 0, 0, 0]], [[1, 1], [1, 1]]),
])
def test_padding_modes_by_hand(mode, padded, grad):
    """A 1x1 identity kernel shows the padded image; the gradient of the sum counts each pixel's copies."""
    conv = with_weights(layers.Conv2d(1, 1, 1, padding=1, padding_mode=mode, bias=False), np.ones((1, 1, 1, 1)))
    np.testing.assert_array_equal(conv(np.array([[[[1.0, 2], [3, 4]]]]))[0, 0], padded)
    np.testing.assert_array_equal(conv.backward(np.ones((1, 1, 4, 4)))[0, 0], grad)


CASES = [
    (lambda: layers.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2), (2, 4, 9)),
    (lambda: layers.Conv1d(2, 3, 3, padding="same", padding_mode="circular"), (3, 2, 5)),
    (lambda: layers.Conv2d(4, 4, 3, groups=4, padding=1, padding_mode="reflect"), (2, 4, 5, 4)),
    (lambda: layers.Conv2d(2, 3, (2, 3), padding=(2, 1), padding_mode="replicate", bias=False), (2, 2, 4, 5)),
    (lambda: layers.Conv2d(3, 2, 3, padding=1), (3, 5, 4)),                                      # unbatched
    (lambda: layers.ConvTranspose1d(4, 2, 3, stride=3, padding=2, output_padding=2, groups=2), (2, 4, 5)),
    (lambda: layers.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2), (2, 4, 3, 4)),
    (lambda: layers.ConvTranspose2d(2, 3, (2, 3), stride=(1, 2), dilation=(2, 1), bias=False), (2, 3, 4)),
]


@pytest.mark.parametrize("make, shape", CASES)
def test_gradcheck(make, shape, rng):
    assert mtorch.gradcheck(make(), rng.standard_normal(shape))


def test_unbatched_input_gives_unbatched_output(rng):
    for layer, shape, out in [(layers.Conv2d(3, 2, 3), (3, 5, 6), (2, 3, 4)), (layers.Conv1d(3, 2, 3), (3, 5), (2, 3)),
                              (layers.ConvTranspose2d(3, 2, 2), (3, 2, 2), (2, 3, 3)),
                              (layers.ConvTranspose1d(3, 2, 2, stride=2), (3, 4), (2, 8))]:
        layer.double()
        x = rng.standard_normal(shape)
        batched = layer(x[None])[0]
        y = layer(x)
        assert y.shape == out
        np.testing.assert_allclose(y, batched, rtol=1e-12)
        assert layer.backward(np.ones(out)).shape == shape


def test_conv_transpose_output_size_chooses_the_output_padding(rng):
    up = layers.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    x = rng.standard_normal((1, 2, 4, 4))
    assert up(x).shape == (1, 3, 7, 7)
    assert up(x, output_size=(8, 8)).shape == (1, 3, 8, 8)
    assert up(x, output_size=[1, 3, 8, 7]).shape == (1, 3, 8, 7)
    with pytest.raises(ValueError, match="ConvTranspose2d.*valid sizes.*from 7 to 8"):
        up(x, output_size=(9, 9))


def test_weight_shapes_init_and_state_dict():
    up = layers.ConvTranspose2d(8, 6, (3, 2), groups=2)
    assert up.weight.shape == (8, 3, 3, 2) and up.bias.shape == (6,)
    bound = 1 / np.sqrt(3 * 3 * 2)                         # fan_in = C_out/G * kH * kW, as PyTorch
    assert np.abs(up.weight.data).max() <= bound and np.abs(up.bias.data).max() <= bound
    assert list(up.state_dict()) == ["weight", "bias"]
    assert layers.Conv1d(4, 6, 5, groups=2).weight.shape == (6, 2, 5)


def test_constructor_errors_name_the_public_class():
    with pytest.raises(ValueError, match="Conv2d: in_channels must be divisible by groups"):
        layers.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="ConvTranspose1d: out_channels must be divisible by groups"):
        layers.ConvTranspose1d(4, 3, 3, groups=2)
    with pytest.raises(TypeError, match="Conv1d: kernel_size"):
        layers.Conv1d(1, 1, 2.5)
    with pytest.raises(TypeError, match="Conv1d: kernel_size"):
        layers.Conv1d(1, 1, (2, 2))
    with pytest.raises(ValueError, match="ConvTranspose2d: padding_mode must be one of 'zeros'"):
        layers.ConvTranspose2d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="Conv2d: padding_mode"):
        layers.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="ConvTranspose2d: output_padding must be smaller"):
        layers.ConvTranspose2d(1, 1, 3, stride=2, output_padding=2)
    with pytest.raises(TypeError, match="ConvTranspose2d: padding"):
        layers.ConvTranspose2d(1, 1, 3, padding="same")
    with pytest.raises(TypeError, match="Conv2d: bias must be True or False"):
        layers.Conv2d(1, 1, 3, bias=None)
    with pytest.raises(TypeError, match=r"Conv1d.__init__\(\) got an unexpected keyword argument"):
        layers.Conv1d(1, 1, 3, output_padding=1)
    with pytest.raises(ShapeError, match="ConvTranspose2d"):
        layers.ConvTranspose2d(2, 1, 3)(np.zeros((1, 3, 4, 4)))
    with pytest.raises(ShapeError, match="Conv1d"):
        layers.Conv1d(1, 1, 3, padding=1, padding_mode="reflect")(np.zeros((1, 1, 1)))
