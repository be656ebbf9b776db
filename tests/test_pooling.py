"""MaxPool2d, AvgPool2d, AdaptiveAvgPool2d: loop references, gradients, ties, PyTorch parity."""
import math

import numpy as np
import pytest

import mtorch
from mtorch import layers
from mtorch.errors import BackwardBeforeForwardError, ShapeError


def reference_pool(x, kernel, stride, padding, reduce, pad_value, dilation=(1, 1)):
    """Apply ``reduce`` to every window's list of values, one output number at a time."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    xp = np.full((n, c, h + 2 * ph, w + 2 * pw), pad_value)
    xp[:, :, ph:ph + h, pw:pw + w] = x
    out_h = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    out_w = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n, c, out_h, out_w))
    for ni in range(n):
        for ci in range(c):
            for p in range(out_h):
                for q in range(out_w):
                    window = [xp[ni, ci, p * sh + i * dh, q * sw + j * dw] for i in range(kh) for j in range(kw)]
                    y[ni, ci, p, q] = reduce(window)
    return y


# (kernel, stride, padding, dilation, (H, W))
def as_pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def reference_args(k, s, p, d=1):
    """Kernel, stride (default: the kernel, as PyTorch), padding and dilation as pairs, from the config
    itself rather than from the layer, so a wrong default in the layer cannot change the reference."""
    return as_pair(k), as_pair(k if s is None else s), as_pair(p), as_pair(d)


MAX_CONFIGS = [
    (2, None, 0, 1, (6, 6)),
    (2, None, 0, 1, (7, 5)),               # odd sizes: the last row/column is dropped (floor)
    (3, 2, 1, 1, (7, 8)),                  # overlapping windows with padding
    ((2, 3), (1, 2), (1, 0), (2, 1), (7, 9)),
    (3, 1, 0, 1, (5, 5)),
]
AVG_CONFIGS = [
    (2, None, 0, (6, 6)),
    (3, 2, 1, (7, 8)),
    ((3, 2), (2, 1), (1, 1), (5, 6)),
    (3, 1, 0, (5, 7)),
]


@pytest.mark.parametrize("config", MAX_CONFIGS)
def test_maxpool_forward_and_gradcheck(config, rng):
    k, s, p, d, hw = config
    pool = layers.MaxPool2d(k, s, p, dilation=d)
    x = rng.standard_normal((2, 3) + hw)
    kernel, stride, padding, dilation = reference_args(k, s, p, d)
    expected = reference_pool(x, kernel, stride, padding, max, -np.inf, dilation)
    np.testing.assert_array_equal(pool(x), expected)
    assert mtorch.gradcheck(pool, x)


def test_maxpool_ties_send_the_gradient_to_the_first_maximum():
    pool = layers.MaxPool2d(2)
    x = np.array([[[[1.0, 1.0, 0.0, 2.0],
                    [1.0, 0.0, 2.0, 2.0]]]])
    pool(x)
    grad = pool.backward(np.array([[[[10.0, 20.0]]]]))
    np.testing.assert_array_equal(grad, [[[[10.0, 0.0, 0.0, 20.0],
                                           [0.0, 0.0, 0.0, 0.0]]]])


def test_maxpool_overlapping_windows_add_gradients():
    pool = layers.MaxPool2d(2, stride=1)
    x = np.array([[[[0.0, 0.0, 0.0], [0.0, 5.0, 0.0], [0.0, 0.0, 0.0]]]])
    np.testing.assert_array_equal(pool(x), np.full((1, 1, 2, 2), 5.0))
    grad = pool.backward(np.ones((1, 1, 2, 2)))
    assert grad[0, 0, 1, 1] == 4 and grad.sum() == 4


@pytest.mark.parametrize("config", AVG_CONFIGS)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avgpool_forward_and_gradcheck(config, count_include_pad, rng):
    k, s, p, hw = config
    pool = layers.AvgPool2d(k, s, p, count_include_pad=count_include_pad)
    x = rng.standard_normal((2, 3) + hw)
    kernel, stride, padding, _ = reference_args(k, s, p)
    if count_include_pad:
        expected = reference_pool(x, kernel, stride, padding, np.mean, 0.0)
    else:
        expected = reference_pool(x, kernel, stride, padding, lambda v: np.nanmean(v), np.nan)
    np.testing.assert_allclose(pool(x), expected, rtol=1e-12, atol=1e-14)
    assert mtorch.gradcheck(pool, x)


def reference_adaptive(x, out_hw):
    n, c, h, w = x.shape
    y = np.zeros((n, c) + out_hw)
    for p in range(out_hw[0]):
        for q in range(out_hw[1]):
            r0, r1 = (p * h) // out_hw[0], math.ceil((p + 1) * h / out_hw[0])
            c0, c1 = (q * w) // out_hw[1], math.ceil((q + 1) * w / out_hw[1])
            y[:, :, p, q] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
    return y


@pytest.mark.parametrize("output_size, expected_hw", [(1, (1, 1)), ((3, 4), (3, 4)), ((5, 2), (5, 2)),
                                                      ((None, 3), (7, 3)), (7, (7, 7))])
def test_adaptive_avgpool_forward_and_gradcheck(output_size, expected_hw, rng):
    pool = layers.AdaptiveAvgPool2d(output_size)
    x = rng.standard_normal((2, 3, 7, 9))
    y = pool(x)
    assert y.shape == (2, 3) + expected_hw
    np.testing.assert_allclose(y, reference_adaptive(x, expected_hw), rtol=1e-12, atol=1e-14)
    assert mtorch.gradcheck(pool, x)


def test_global_average_pool_is_the_mean(rng):
    x = rng.standard_normal((4, 5, 6, 6))
    np.testing.assert_allclose(layers.AdaptiveAvgPool2d(1)(x)[:, :, 0, 0], x.mean(axis=(2, 3)))


def test_float32_stays_float32_and_layout_does_not_matter(rng):
    x = rng.standard_normal((2, 4, 6, 6)).astype(np.float32)
    channels_last = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    for pool in (layers.MaxPool2d(2), layers.AvgPool2d(2), layers.AdaptiveAvgPool2d(2)):
        y = pool(x)
        assert y.dtype == np.float32
        g = rng.standard_normal(y.shape).astype(np.float32)
        grad = pool.backward(g)
        np.testing.assert_array_equal(pool(channels_last), y)
        np.testing.assert_array_equal(pool.backward(g), grad)


def test_errors_name_the_layer():
    for pool in (layers.MaxPool2d(2), layers.AvgPool2d(2), layers.AdaptiveAvgPool2d(1)):
        name = type(pool).__name__
        with pytest.raises(ShapeError, match=name):
            pool(np.zeros((4, 4)))                 # (C, H, W) is accepted unbatched, as PyTorch
        with pytest.raises(BackwardBeforeForwardError, match=name):
            pool.backward(np.zeros((1, 1, 1, 1)))
        pool(np.zeros((1, 2, 4, 4)))
        with pytest.raises(ShapeError, match=name):
            pool.backward(np.zeros((1, 2, 3, 3)))
    with pytest.raises(ShapeError, match="MaxPool2d"):
        layers.MaxPool2d(3)(np.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="padding"):
        layers.MaxPool2d(2, padding=2)
    with pytest.raises(ValueError, match="output_size"):
        layers.AdaptiveAvgPool2d(0)


@pytest.mark.parametrize("make", [
    lambda nn: (layers.MaxPool2d(2), nn.MaxPool2d(2)),
    lambda nn: (layers.MaxPool2d(3, 2, 1), nn.MaxPool2d(3, 2, 1)),
    lambda nn: (layers.MaxPool2d((2, 3), (1, 2), (1, 0), dilation=(2, 1)),
                nn.MaxPool2d((2, 3), (1, 2), (1, 0), dilation=(2, 1))),
    lambda nn: (layers.AvgPool2d(2), nn.AvgPool2d(2)),
    lambda nn: (layers.AvgPool2d(3, 2, 1), nn.AvgPool2d(3, 2, 1)),
    lambda nn: (layers.AvgPool2d(3, 2, 1, count_include_pad=False), nn.AvgPool2d(3, 2, 1, count_include_pad=False)),
    lambda nn: (layers.AdaptiveAvgPool2d((3, 4)), nn.AdaptiveAvgPool2d((3, 4))),
    lambda nn: (layers.AdaptiveAvgPool2d(1), nn.AdaptiveAvgPool2d(1)),
])
def test_matches_torch(make, rng):
    torch = pytest.importorskip("torch")
    pool, ref = make(torch.nn)
    x = rng.standard_normal((2, 3, 7, 9))
    x[0, 0, :2, :2] = 0.0                                   # a tie: the first maximum gets the gradient
    xt = torch.from_numpy(x).requires_grad_()
    y, yt = pool(x), ref(xt)
    g = rng.standard_normal(y.shape)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(pool.backward(g), xt.grad.numpy(), rtol=1e-12, atol=1e-14)
