"""InstanceNorm1d/2d and GroupNorm: by hand, gradcheck, running statistics, shapes and errors."""
import numpy as np
import pytest

import mtorch
from mtorch import layers
from mtorch.errors import ShapeError


def _by_hand(values, eps=1e-5):
    return (values - values.mean()) / np.sqrt(values.var() + eps)


@pytest.mark.parametrize("cls, shape", [(layers.InstanceNorm1d, (2, 3, 5)), (layers.InstanceNorm2d, (2, 3, 4, 3))])
def test_instance_norm_normalises_each_sample_and_channel_by_hand(cls, shape, rng):
    layer = cls(3, affine=True).double()
    layer.weight.data, layer.bias.data = rng.standard_normal(3), rng.standard_normal(3)
    x = rng.standard_normal(shape) * 3 + 1
    y = layer(x)
    for n in range(2):
        for c in range(3):
            expected = _by_hand(x[n, c]) * layer.weight.data[c] + layer.bias.data[c]
            np.testing.assert_allclose(y[n, c], expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer(x[1]), y[1], rtol=1e-12)            # no batch dimension: (C, L) / (C, H, W)


@pytest.mark.parametrize("cls, shape", [(layers.InstanceNorm1d, (2, 3, 5)), (layers.InstanceNorm2d, (2, 3, 2, 3)),
                                        (layers.InstanceNorm1d, (3, 5))])
@pytest.mark.parametrize("kwargs", [{}, {"affine": True}, {"track_running_stats": True}])
@pytest.mark.parametrize("training", [True, False])
def test_instance_norm_gradcheck(cls, shape, kwargs, training, rng):
    layer = cls(3, **kwargs).double()
    if layer.affine:
        layer.weight.data, layer.bias.data = rng.standard_normal(3), rng.standard_normal(3)
    layer(rng.standard_normal(shape) * 2 + 1)
    layer.train(training)
    assert mtorch.gradcheck(layer, rng.standard_normal(shape))


def test_instance_norm_running_statistics_average_the_samples_by_hand(rng):
    layer = layers.InstanceNorm1d(2, momentum=0.2, track_running_stats=True).double()
    x = rng.standard_normal((3, 2, 6)) * 2 + 1
    layer(x)
    np.testing.assert_allclose(layer.running_mean, 0.2 * x.mean(axis=2).mean(axis=0))
    np.testing.assert_allclose(layer.running_var, 0.8 + 0.2 * x.var(axis=2, ddof=1).mean(axis=0))
    assert layer.num_batches_tracked == 0                                   # as PyTorch: never counted
    layer.eval()
    expected = (x - layer.running_mean[:, None]) / np.sqrt(layer.running_var[:, None] + 1e-5)
    np.testing.assert_allclose(layer(x), expected)
    frozen = layers.InstanceNorm1d(2, momentum=None, track_running_stats=True)
    frozen(x)
    np.testing.assert_array_equal(frozen.running_mean, 0)                   # momentum=None: PyTorch's 0


def test_instance_norm_errors_and_repr():
    with pytest.raises(ShapeError, match=r"InstanceNorm2d\(3, .*\): expected input of shape \(N, 3, H, W\) or "
                                         r"\(3, H, W\), got \(2, 3\)"):
        layers.InstanceNorm2d(3)(np.zeros((2, 3)))
    with pytest.raises(ShapeError, match="InstanceNorm1d"):
        layers.InstanceNorm1d(3)(np.zeros((2, 4, 5)))
    with pytest.raises(ValueError, match="expected more than 1 position per channel"):
        layers.InstanceNorm1d(3)(np.zeros((2, 3, 1)))
    with pytest.raises(ValueError, match="InstanceNorm1d: eps must be a number >= 0"):
        layers.InstanceNorm1d(3, eps=-1e-5)
    assert repr(layers.InstanceNorm2d(3)) == ("InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, "
                                              "track_running_stats=False)")
    assert list(layers.InstanceNorm1d(3).state_dict()) == []


def test_group_norm_by_hand(rng):
    layer = layers.GroupNorm(2, 4).double()
    layer.weight.data, layer.bias.data = rng.standard_normal(4), rng.standard_normal(4)
    x = rng.standard_normal((3, 4, 5)) * 2 - 1
    y = layer(x)
    for n in range(3):
        for group in (slice(0, 2), slice(2, 4)):
            expected = _by_hand(x[n, group]) * layer.weight.data[group, None] + layer.bias.data[group, None]
            np.testing.assert_allclose(y[n, group], expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.eval()(x), y)                          # no running statistics


def test_group_norm_is_instance_norm_with_a_group_per_channel(rng):
    x = rng.standard_normal((2, 3, 4, 4))
    np.testing.assert_allclose(layers.GroupNorm(3, 3, affine=False)(x), layers.InstanceNorm2d(3)(x), rtol=1e-12)


@pytest.mark.parametrize("groups, shape", [(2, (3, 4)), (1, (2, 4, 3)), (4, (2, 4, 3)), (2, (2, 4, 2, 3))])
@pytest.mark.parametrize("kwargs", [{}, {"affine": False}, {"bias": False}])
def test_group_norm_gradcheck(groups, shape, kwargs, rng):
    layer = layers.GroupNorm(groups, 4, **kwargs).double()
    if layer.affine:
        layer.weight.data = rng.standard_normal(4)
        if layer.bias is not None:
            layer.bias.data = rng.standard_normal(4)
    assert mtorch.gradcheck(layer, rng.standard_normal(shape))


def test_group_norm_errors_and_repr():
    with pytest.raises(ValueError, match="GroupNorm: num_channels must be divisible by num_groups, got "
                                         "num_groups=4, num_channels=6"):
        layers.GroupNorm(4, 6)
    with pytest.raises(ShapeError, match=r"GroupNorm\(2, 4, .*\): expected input of shape \(N, 4, ...\), got \(4,\)"):
        layers.GroupNorm(2, 4)(np.zeros(4))
    with pytest.raises(ShapeError, match="GroupNorm"):
        layers.GroupNorm(2, 4)(np.zeros((2, 6)))
    with pytest.raises(TypeError, match="GroupNorm: num_groups must be an int >= 1, got 2.5"):
        layers.GroupNorm(2.5, 4)
    assert repr(layers.GroupNorm(2, 4)) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"
    assert list(layers.GroupNorm(2, 4, bias=False).state_dict()) == ["weight"]
