"""BatchNorm1d/2d (running statistics, train and eval) and Dropout2d."""
import numpy as np
import pytest

import mtorch
from mtorch import layers
from mtorch.errors import BackwardBeforeForwardError, ShapeError

SHAPES = [(layers.BatchNorm1d, (6, 3)), (layers.BatchNorm1d, (4, 3, 5)), (layers.BatchNorm2d, (3, 3, 4, 5))]


def _affine(bn, rng):
    bn.double()
    if bn.affine:
        bn.weight.data = rng.standard_normal(bn.num_features)
        bn.bias.data = rng.standard_normal(bn.num_features)
    return bn


@pytest.mark.parametrize("cls, shape", SHAPES)
def test_training_forward_normalises_each_channel_by_hand(cls, shape, rng):
    bn = _affine(cls(3), rng)
    x = rng.standard_normal(shape) * 3 + 2
    y = bn(x)
    axes = (0,) + tuple(range(2, x.ndim))
    for c in range(3):
        values = np.take(x, c, axis=1)
        mean, var = values.mean(), values.var()                     # biased, as the forward uses
        expected = (values - mean) / np.sqrt(var + 1e-5) * bn.weight.data[c] + bn.bias.data[c]
        np.testing.assert_allclose(np.take(y, c, axis=1), expected, rtol=1e-10, atol=1e-12)
    assert np.allclose(((y - bn.bias.data.reshape((1, -1) + (1,) * (x.ndim - 2))) /
                        bn.weight.data.reshape((1, -1) + (1,) * (x.ndim - 2))).mean(axis=axes), 0)


def test_running_statistics_by_hand(rng):
    bn = layers.BatchNorm2d(2)
    batches = [rng.standard_normal((4, 2, 3, 3)) * s + s for s in (1.0, 2.0, 3.0)]
    mean, var = np.zeros(2), np.ones(2)
    for x in batches:
        bn(x)
        m = x.size // 2
        mean = 0.9 * mean + 0.1 * x.mean(axis=(0, 2, 3))
        var = 0.9 * var + 0.1 * x.var(axis=(0, 2, 3)) * m / (m - 1)      # unbiased for the running value
    np.testing.assert_allclose(bn.running_mean, mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var, var, rtol=1e-5)
    assert bn.num_batches_tracked == 3 and bn.running_mean.dtype == np.float32


def test_momentum_none_is_the_cumulative_average(rng):
    bn = layers.BatchNorm1d(3, momentum=None).double()
    batches = [rng.standard_normal((5, 3)) + i for i in range(4)]
    for x in batches:
        bn(x)
    np.testing.assert_allclose(bn.running_mean, np.mean([x.mean(axis=0) for x in batches], axis=0))
    np.testing.assert_allclose(bn.running_var, np.mean([x.var(axis=0, ddof=1) for x in batches], axis=0))


def test_eval_uses_running_statistics_and_changes_nothing(rng):
    bn = _affine(layers.BatchNorm1d(3), rng)
    bn.running_mean = np.array([1.0, -2.0, 0.5])
    bn.running_var = np.array([4.0, 0.25, 1.0])
    bn.eval()
    x = rng.standard_normal((5, 3))
    expected = (x - bn.running_mean) / np.sqrt(bn.running_var + 1e-5) * bn.weight.data + bn.bias.data
    np.testing.assert_allclose(bn(x), expected)
    np.testing.assert_allclose(bn(x[:1]), expected[:1])            # one sample is fine in eval mode
    assert bn.num_batches_tracked == 0
    g = rng.standard_normal((1, 3))
    np.testing.assert_allclose(bn.backward(g), g * bn.weight.data / np.sqrt(bn.running_var + 1e-5))


@pytest.mark.parametrize("cls, shape", SHAPES)
@pytest.mark.parametrize("kwargs", [{}, {"affine": False}, {"track_running_stats": False}])
@pytest.mark.parametrize("training", [True, False])
def test_gradcheck(cls, shape, kwargs, training, rng):
    bn = _affine(cls(3, **kwargs), rng)
    bn(rng.standard_normal(shape) * 2 + 1)        # running statistics that are not the defaults
    bn.train(training)
    assert mtorch.gradcheck(bn, rng.standard_normal(shape))


def test_state_dict_keys_and_buffers_like_pytorch():
    bn = layers.BatchNorm2d(4)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert list(layers.BatchNorm1d(4, affine=False, track_running_stats=False).state_dict()) == []
    net = mtorch.Sequential([layers.Conv2d(1, 4, 3), layers.BatchNorm2d(4)])
    assert "1.running_var" in net.state_dict()
    bn.double()
    assert bn.num_batches_tracked.dtype == np.int64 and bn.running_var.dtype == np.float64


def test_errors_name_the_layer():
    with pytest.raises(ShapeError, match="BatchNorm1d"):
        layers.BatchNorm1d(3)(np.zeros((4, 5)))
    with pytest.raises(ShapeError, match="BatchNorm1d"):
        layers.BatchNorm1d(3)(np.zeros((4, 3, 2, 2)))
    with pytest.raises(ShapeError, match="BatchNorm2d"):
        layers.BatchNorm2d(3)(np.zeros((4, 3, 2)))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        layers.BatchNorm1d(3)(np.zeros((1, 3)))
    with pytest.raises(BackwardBeforeForwardError, match="BatchNorm2d"):
        layers.BatchNorm2d(3).backward(np.zeros((2, 3, 1, 1)))


@pytest.mark.parametrize("cls, shape", SHAPES)
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"affine": False}, {"track_running_stats": False}])
def test_matches_torch_train_then_eval(cls, shape, kwargs, rng):
    torch = pytest.importorskip("torch")
    bn = _affine(cls(3, **kwargs), rng)
    ref = getattr(torch.nn, cls.__name__)(3, **kwargs).double()
    if bn.affine:
        with torch.no_grad():
            ref.weight.copy_(torch.from_numpy(bn.weight.data))
            ref.bias.copy_(torch.from_numpy(bn.bias.data))
    for training in (True, True, False):
        bn.train(training)
        ref.train(training)
        x = rng.standard_normal(shape) * 2 + 1
        xt = torch.from_numpy(x).requires_grad_()
        y, yt = bn(x), ref(xt)
        g = rng.standard_normal(shape)
        yt.backward(torch.from_numpy(g))
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(bn.backward(g), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        if bn.affine:
            np.testing.assert_allclose(bn.weight.grad, ref.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(bn.bias.grad, ref.bias.grad.numpy(), rtol=1e-10, atol=1e-12)
            ref.zero_grad()
            bn.zero_grad()
    torch_state = ref.state_dict()
    assert list(bn.state_dict()) == list(torch_state)
    for key, value in bn.state_dict().items():
        np.testing.assert_allclose(value, torch_state[key].numpy(), rtol=1e-10)


def test_dropout2d_drops_whole_channels(rng):
    drop = layers.Dropout2d(0.5)
    x = rng.standard_normal((64, 8, 3, 3)) + 5                      # no zeros of its own
    y = drop(x)
    kept = (y != 0).reshape(64, 8, 9)
    assert np.all(kept.all(axis=2) | ~kept.any(axis=2))             # a channel is all kept or all dropped
    assert 0.35 < kept[:, :, 0].mean() < 0.65
    np.testing.assert_allclose(y[kept.reshape(y.shape)], 2 * x[kept.reshape(y.shape)])
    g = rng.standard_normal(y.shape)
    np.testing.assert_array_equal(drop.backward(g), g * (y != 0) * 2)
    drop.eval()
    assert drop(x) is x or np.array_equal(drop(x), x)


def test_dropout2d_gradcheck_and_errors(rng):
    assert mtorch.gradcheck(layers.Dropout2d(0.3), rng.standard_normal((3, 4, 2, 3)))
    with pytest.raises(ShapeError, match="Dropout2d"):
        layers.Dropout2d()(np.zeros((4, 5)))
    assert repr(layers.Dropout2d(0.25)) == "Dropout2d(p=0.25)"


@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.BatchNorm1d(4, eps=-1), ValueError, r"BatchNorm1d: eps must be a number >= 0, got -1.0"),
    (lambda: layers.BatchNorm2d(4, momentum=1.5), ValueError, r"BatchNorm2d: momentum must be a number in \[0, 1\]"),
    (lambda: layers.BatchNorm1d("4"), TypeError, r"BatchNorm1d: num_features must be an int >= 1, got '4'"),
    (lambda: layers.BatchNorm1d(4.0), TypeError, r"BatchNorm1d: num_features must be an int >= 1, got 4.0"),
    (lambda: layers.BatchNorm1d(4, affine="yes"), TypeError, "BatchNorm1d: affine must be True or False"),
    (lambda: layers.BatchNorm2d(4, bias=1), TypeError, "BatchNorm2d: bias must be True or False"),
])
def test_constructor_arguments_are_checked(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_bias_false_learns_gamma_alone(rng):
    bn = layers.BatchNorm1d(3, bias=False).double()
    assert list(bn.state_dict()) == ["weight", "running_mean", "running_var", "num_batches_tracked"]
    bn.weight.data = np.array([1.0, 2.0, 3.0])
    x = rng.standard_normal((5, 3))
    np.testing.assert_allclose(bn(x), (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5) * bn.weight.data)
    assert "bias=False" in repr(bn)
    assert mtorch.gradcheck(bn, x)


def test_an_empty_batch_gives_an_empty_output_and_keeps_the_statistics():
    bn = layers.BatchNorm2d(2)
    y = bn(np.zeros((0, 2, 3, 3), np.float32))
    assert y.shape == (0, 2, 3, 3) and bn.num_batches_tracked == 1        # counted, as PyTorch
    np.testing.assert_array_equal(bn.running_mean, 0)
    np.testing.assert_array_equal(bn.running_var, 1)
    assert bn.backward(np.zeros((0, 2, 3, 3), np.float32)).shape == (0, 2, 3, 3)
    np.testing.assert_array_equal(bn.weight.grad, 0)


def test_eval_without_running_statistics_normalises_with_the_batch(rng):
    bn = layers.BatchNorm1d(3, track_running_stats=False).double().eval()
    x = rng.standard_normal((4, 3)) * 5
    np.testing.assert_allclose(bn(x), (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5))
    assert bn.running_mean is None and list(bn.state_dict()) == ["weight", "bias"]
