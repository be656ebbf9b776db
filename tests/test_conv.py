"""Conv2d: gradients by finite differences, forward against a loop reference, and PyTorch parity."""
import math

import numpy as np
import pytest

import mtorch
from mtorch import layers
from mtorch.errors import BackwardBeforeForwardError, ShapeError

# (in, out, kernel, stride, padding, dilation, bias, (H, W))
CONFIGS = [
    (1, 2, 3, 1, 0, 1, True, (6, 5)),                   # one input channel (the transposed-windows path)
    (3, 4, 3, 1, 1, 1, True, (5, 5)),
    (2, 3, 3, 2, 0, 1, True, (7, 7)),                   # stride 2, odd size
    (2, 3, (2, 3), (2, 1), (1, 2), 1, False, (5, 6)),   # non-square kernel, mixed stride and padding, no bias
    (2, 2, 3, 1, 2, 2, True, (7, 6)),                   # dilation
    (3, 2, 3, 1, "same", 1, True, (5, 4)),
    (2, 2, 4, 1, "same", (1, 2), False, (6, 7)),        # even kernel: the extra zero goes at the end
    (1, 3, (3, 2), 3, "valid", 1, True, (8, 7)),
]


def reference_conv(x, w, b, stride, pads, dilation):
    """The definition, one output number at a time."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    (top, bottom), (left, right) = pads
    xp = np.zeros((n, c, h + top + bottom, wd + left + right))
    xp[:, :, top:top + h, left:left + wd] = x
    out_h = (xp.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    out_w = (xp.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((n, o, out_h, out_w))
    for ni in range(n):
        for oi in range(o):
            for p in range(out_h):
                for q in range(out_w):
                    total = 0.0 if b is None else b[oi]
                    for ci in range(c):
                        for i in range(kh):
                            for j in range(kw):
                                total += w[oi, ci, i, j] * xp[ni, ci, p * stride[0] + i * dilation[0],
                                                             q * stride[1] + j * dilation[1]]
                    y[ni, oi, p, q] = total
    return y


def make(config):
    cin, cout, k, s, p, d, bias, hw = config
    conv = layers.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d, bias=bias)
    return conv, (2, cin) + hw


@pytest.mark.parametrize("config", CONFIGS)
def test_forward_matches_loop_reference(config, rng):
    conv, shape = make(config)
    conv.double()
    x = rng.standard_normal(shape)
    bias = None if conv.bias is None else conv.bias.data
    expected = reference_conv(x, conv.weight.data, bias, conv.stride, conv._pads, conv.dilation)
    np.testing.assert_allclose(conv(x), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("config", CONFIGS)
def test_gradcheck(config, rng):
    conv, shape = make(config)
    assert mtorch.gradcheck(conv, rng.standard_normal(shape))


def test_padding_same_keeps_size_and_pads_like_pytorch():
    conv = layers.Conv2d(1, 1, (4, 5), padding="same", dilation=(1, 2))
    assert conv(np.zeros((1, 1, 9, 8))).shape == (1, 1, 9, 8)
    assert conv._pads == ((1, 2), (4, 4))   # total d*(k-1) = 3 and 8; the odd one extra at the end


def test_float32_and_output_shape():
    conv = layers.Conv2d(1, 16, 5, padding=2)
    x = np.zeros((4, 1, 28, 28), dtype=np.float32)
    y = conv(x)
    assert y.shape == (4, 16, 28, 28) and y.dtype == np.float32
    assert conv.backward(np.ones_like(y)).dtype == np.float32
    assert conv.weight.grad.shape == (16, 1, 5, 5) and conv.weight.grad.flags.c_contiguous


def test_default_init_is_pytorchs():
    conv = layers.Conv2d(8, 64, 3)
    bound = 1 / math.sqrt(8 * 9)
    w, b = conv.weight.data, conv.bias.data
    assert w.shape == (64, 8, 3, 3) and b.shape == (64,)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound   # U(-a, a) has std a / sqrt(3)
    assert list(conv.state_dict()) == ["weight", "bias"]
    assert list(layers.Conv2d(1, 1, 1, bias=False).state_dict()) == ["weight"]


def test_known_values_by_hand():
    conv = layers.Conv2d(1, 1, 2, stride=1, bias=True).double()
    conv.weight.data[...] = [[[[1, 2], [3, 4]]]]
    conv.bias.data[...] = 10
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    # top-left window [[0, 1], [3, 4]] -> 0 + 2 + 9 + 16 + 10 = 37
    np.testing.assert_allclose(conv(x)[0, 0], [[37, 47], [67, 77]])
    grad = conv.backward(np.ones((1, 1, 2, 2)))
    np.testing.assert_allclose(grad[0, 0], [[1, 3, 2], [4, 10, 6], [3, 7, 4]])
    np.testing.assert_allclose(conv.weight.grad[0, 0], [[8, 12], [20, 24]])
    np.testing.assert_allclose(conv.bias.grad, [4])


def test_errors_name_the_layer():
    conv = layers.Conv2d(3, 4, 3)
    with pytest.raises(ShapeError, match="Conv2d"):
        conv(np.zeros((2, 2, 5, 5)))
    with pytest.raises(ShapeError, match="Conv2d"):
        conv(np.zeros((2, 5, 5)))             # unbatched (C, H, W) is accepted, with the right C
    with pytest.raises(ShapeError, match="Conv2d"):
        conv(np.zeros((5, 5)))
    with pytest.raises(ShapeError, match="Conv2d"):
        conv(np.zeros((1, 3, 2, 2)))          # smaller than the kernel
    with pytest.raises(BackwardBeforeForwardError, match="Conv2d"):
        layers.Conv2d(1, 1, 3).backward(np.zeros((1, 1, 3, 3)))
    conv(np.zeros((1, 3, 5, 5)))
    with pytest.raises(ShapeError, match="Conv2d"):
        conv.backward(np.zeros((1, 4, 4, 4)))
    with pytest.raises(ValueError, match="same"):
        layers.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2d(1, 1, 3, padding="full")


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("config", CONFIGS)
def test_matches_torch(config, rng):
    torch = pytest.importorskip("torch")
    conv, shape = make(config)
    conv.double()
    cin, cout, k, s, p, d, bias, _ = config
    ref = torch.nn.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d, bias=bias).double()
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(conv.weight.data))
        if bias:
            ref.bias.copy_(torch.from_numpy(conv.bias.data))
    x = rng.standard_normal(shape)
    xt = torch.from_numpy(x).requires_grad_()
    y = conv(x)
    yt = ref(xt)
    g = rng.standard_normal(y.shape)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(conv.backward(g), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(conv.weight.grad, ref.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    if bias:
        np.testing.assert_allclose(conv.bias.grad, ref.bias.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_torch_weights_load_and_agree_in_float32(rng):
    torch = pytest.importorskip("torch")
    ref = torch.nn.Conv2d(3, 5, 3, padding=1)
    conv = layers.Conv2d(3, 5, 3, padding=1)
    conv.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(conv(x), ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_memory_layout_of_input_and_gradient_does_not_matter(rng):
    conv = layers.Conv2d(3, 4, 3, padding=1).double()
    x = rng.standard_normal((2, 3, 5, 6))
    g = rng.standard_normal((2, 4, 5, 6))
    y, grad = conv(x).copy(), conv.backward(g).copy()
    w_grad = conv.weight.grad.copy()
    channels_last = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(conv(channels_last), y, rtol=1e-12)
    conv.zero_grad()
    np.testing.assert_allclose(conv.backward(np.asfortranarray(g)), grad, rtol=1e-12)
    np.testing.assert_allclose(conv.weight.grad, w_grad, rtol=1e-12)
