"""Activations: each one's value and derivative from its scalar formula, gradcheck, dtypes, NaN and
infinity as in PyTorch, constructor checks, dims, reprs, and the docstring examples."""
import doctest
import math

import numpy as np
import pytest

import mtorch
from mtorch import layers
from mtorch.errors import ShapeError


def _sigmoid(v):
    return 1 / (1 + math.exp(-v))


def _softplus(v):
    return math.log1p(math.exp(v))


SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

# layer, f(v), f'(v): the scalar formulas, written independently of the layers
SCALAR = {
    "ReLU": (layers.ReLU(), lambda v: max(v, 0.0), lambda v: float(v > 0)),
    "LeakyReLU": (layers.LeakyReLU(0.2), lambda v: v if v > 0 else 0.2 * v, lambda v: 1.0 if v > 0 else 0.2),
    "PReLU": (layers.PReLU(init=0.375), lambda v: v if v > 0 else 0.375 * v, lambda v: 1.0 if v > 0 else 0.375),
    "ReLU6": (layers.ReLU6(), lambda v: min(max(v, 0.0), 6.0), lambda v: float(0 < v < 6)),
    "Hardtanh": (layers.Hardtanh(-2.0, 1.0), lambda v: min(max(v, -2.0), 1.0), lambda v: float(-2 < v < 1)),
    "Threshold": (layers.Threshold(0.5, -3.0), lambda v: v if v > 0.5 else -3.0, lambda v: float(v > 0.5)),
    "ELU": (layers.ELU(0.7), lambda v: v if v > 0 else 0.7 * (math.exp(v) - 1),
            lambda v: 1.0 if v > 0 else 0.7 * math.exp(v)),
    "SELU": (layers.SELU(), lambda v: SELU_SCALE * (v if v > 0 else SELU_ALPHA * (math.exp(v) - 1)),
             lambda v: SELU_SCALE * (1.0 if v > 0 else SELU_ALPHA * math.exp(v))),
    "CELU": (layers.CELU(2.0), lambda v: v if v > 0 else 2 * (math.exp(v / 2) - 1),
             lambda v: 1.0 if v > 0 else math.exp(v / 2)),
    "GELU": (layers.GELU(), lambda v: v * (1 + math.erf(v / math.sqrt(2))) / 2,
             lambda v: (1 + math.erf(v / math.sqrt(2))) / 2 + v * math.exp(-v * v / 2) / math.sqrt(2 * math.pi)),
    "SiLU": (layers.SiLU(), lambda v: v * _sigmoid(v),
             lambda v: _sigmoid(v) + v * _sigmoid(v) * (1 - _sigmoid(v))),
    "Mish": (layers.Mish(), lambda v: v * math.tanh(_softplus(v)),
             lambda v: math.tanh(_softplus(v)) + v * (1 - math.tanh(_softplus(v)) ** 2) * _sigmoid(v)),
    "Hardsigmoid": (layers.Hardsigmoid(), lambda v: min(max(v / 6 + 0.5, 0.0), 1.0),
                    lambda v: 1 / 6 if -3 < v < 3 else 0.0),
    "Hardswish": (layers.Hardswish(), lambda v: v * min(max(v + 3, 0.0), 6.0) / 6,
                  lambda v: 0.0 if v <= -3 else 1.0 if v >= 3 else (2 * v + 3) / 6),
    "Sigmoid": (layers.Sigmoid(), _sigmoid, lambda v: _sigmoid(v) * (1 - _sigmoid(v))),
    "LogSigmoid": (layers.LogSigmoid(), lambda v: math.log(_sigmoid(v)), lambda v: 1 - _sigmoid(v)),
    "Tanh": (layers.Tanh(), math.tanh, lambda v: 1 - math.tanh(v) ** 2),
    "Tanhshrink": (layers.Tanhshrink(), lambda v: v - math.tanh(v), lambda v: math.tanh(v) ** 2),
    "Softsign": (layers.Softsign(), lambda v: v / (1 + abs(v)), lambda v: 1 / (1 + abs(v)) ** 2),
    "Softplus": (layers.Softplus(beta=2.0, threshold=6.0),
                 lambda v: v if 2 * v > 6 else math.log1p(math.exp(2 * v)) / 2,
                 lambda v: 1.0 if 2 * v > 6 else _sigmoid(2 * v)),
    "Softshrink": (layers.Softshrink(1.0), lambda v: v - 1 if v > 1 else v + 1 if v < -1 else 0.0,
                   lambda v: float(abs(v) > 1)),
    "Hardshrink": (layers.Hardshrink(1.0), lambda v: v if abs(v) > 1 else 0.0, lambda v: float(abs(v) > 1)),
}
POINTS = np.array([-7.0, -3.5, -2.5, -1.2, -0.7, -0.2, 0.3, 0.9, 1.6, 2.5, 3.5, 4.0])


@pytest.mark.parametrize("name", SCALAR)
def test_value_and_derivative_match_the_scalar_formula(name):
    layer, f, df = SCALAR[name]
    layer.double()
    y = layer(POINTS)
    np.testing.assert_allclose(y, [f(v) for v in POINTS], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(layer.backward(np.ones_like(POINTS)), [df(v) for v in POINTS], rtol=1e-13, atol=1e-15)


GRADCHECK = [
    layers.PReLU, lambda: layers.PReLU(3, init=-0.4), layers.ReLU6, lambda: layers.Hardtanh(-0.5, 2.0),
    lambda: layers.Threshold(0.2, 4.0), layers.SELU, lambda: layers.CELU(0.5), layers.Mish, layers.Hardsigmoid,
    layers.Hardswish, layers.LogSigmoid, layers.Tanhshrink, layers.Softsign, layers.Softshrink, layers.Hardshrink,
    lambda: layers.Softmin(dim=1), lambda: layers.GLU(dim=1), layers.GLU, layers.Softmax2d,
]


KINKS = np.array([-3, -0.5, 0, 0.2, 0.5, 2, 3, 6])


@pytest.mark.parametrize("make", GRADCHECK)
def test_gradcheck(make, rng):
    # (2, 3, 4): channel axis 1 for PReLU(3) and Softmax2d, an even last axis for GLU
    x = rng.uniform(-5, 5, (2, 3, 4))
    x[np.abs(x[..., None] - KINKS).min(axis=-1) < 1e-3] += 0.01          # finite differences need no kink
    layer = make()
    if isinstance(layer, layers.PReLU):
        layer.weight.data[:] = rng.uniform(-1, 1, layer.num_parameters)
    x = x.reshape(2, 4, 3) if isinstance(layer, layers.GLU) and layer.dim == 1 else x
    assert mtorch.gradcheck(layer, x)


def test_prelu_learns_one_slope_per_channel():
    layer = layers.PReLU(2).double()
    layer.weight.data[:] = [0.1, 0.5]
    x = np.array([[-1.0, -2.0], [3.0, -4.0]])
    np.testing.assert_allclose(layer(x), [[-0.1, -1.0], [3.0, -2.0]])
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_allclose(dx, [[0.1, 0.5], [1.0, 0.5]])
    np.testing.assert_allclose(layer.weight.grad, [-1.0, -6.0])          # sum of min(x, 0) per channel
    assert list(layer.state_dict()) == ["weight"] and layers.PReLU().weight.data.tolist() == [0.25]
    with pytest.raises(ShapeError, match=r"PReLU\(num_parameters=2\): expected input of shape \(N, 2\)"):
        layer(np.zeros((2, 3)))


def test_glu_and_softmin_by_hand():
    glu = layers.GLU(dim=0).double()
    y = glu(np.array([[2.0], [4.0], [0.0], [math.log(3)]]))
    np.testing.assert_allclose(y, [[1.0], [3.0]])
    np.testing.assert_allclose(glu.backward(np.ones((2, 1))), [[0.5], [0.75], [0.5], [4 * 0.75 * 0.25]])
    softmin = layers.Softmin(dim=-1).double()
    np.testing.assert_allclose(softmin(np.array([0.0, math.log(3)])), [0.75, 0.25])
    # d softmin_0 / dx = -[y0 (1 - y0), -y0 y1]
    np.testing.assert_allclose(softmin.backward(np.array([1.0, 0.0])), [-0.75 * 0.25, 0.75 * 0.25])


def test_softmax_family_needs_dim_and_accepts_scalars():
    for cls in (layers.Softmax, layers.LogSoftmax, layers.Softmin):
        with pytest.raises(TypeError, match=f"{cls.__name__}: pass dim, the axis to normalise over"):
            cls()
    with pytest.raises(ShapeError, match=r"Softmax\(dim=3\): dim=3 is out of range for input of shape \(2, 3\)"):
        layers.Softmax(dim=3)(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="Softmax: dim must be an int"):
        layers.Softmax(dim=1.0)
    for cls, value in ((layers.Softmax, 1.0), (layers.LogSoftmax, 0.0), (layers.Softmin, 1.0)):
        layer = cls(dim=0)
        assert layer(np.array(3.0)).shape == () and layer(np.array(3.0)) == value
        assert layer.backward(np.array(2.0)) == 0.0
    with pytest.raises(ShapeError, match="Softmax2d: expected input of shape"):
        layers.Softmax2d()(np.zeros((2, 3)))
    with pytest.raises(ShapeError, match=r"GLU\(dim=-1\): the size of dim -1 must be even"):
        layers.GLU()(np.zeros((2, 3)))


@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.LeakyReLU("a"), TypeError, r"LeakyReLU: negative_slope must be a number, got 'a' \(str\)"),
    (lambda: layers.ELU(float("nan")), ValueError, "ELU: alpha must be a number"),
    (lambda: layers.CELU(0), ValueError, "CELU: alpha must not be 0"),
    (lambda: layers.Hardtanh(1.0, -1.0), ValueError, "Hardtanh: max_val must be greater than min_val"),
    (lambda: layers.Softshrink(-0.5), ValueError, r"Softshrink: lambd must be a number >= 0"),
    (lambda: layers.Softplus(beta=0), ValueError, "Softplus: beta must not be 0"),
    (lambda: layers.Threshold(0.5), TypeError, "Threshold"),
    (lambda: layers.PReLU(0), ValueError, "PReLU: num_parameters must be an int >= 1, got 0"),
    (lambda: layers.PReLU(2.0), TypeError, "PReLU: num_parameters must be an int >= 1, got 2.0"),
    (lambda: layers.ReLU(inplace="yes"), TypeError, "ReLU: inplace must be True or False"),
    (lambda: layers.GELU("fast"), ValueError, "GELU: approximate must be one of 'none', 'tanh'"),
    (lambda: layers.GLU(dim=None), TypeError, "GLU: dim must be an int"),
])
def test_constructor_arguments_are_checked(make, error, message):
    with pytest.raises(error, match=message):
        make()


ALL = [layers.ReLU(), layers.LeakyReLU(), layers.PReLU(), layers.ReLU6(), layers.Hardtanh(), layers.Threshold(0.1, 2.0),
       layers.ELU(), layers.SELU(), layers.CELU(), layers.GELU(), layers.GELU("tanh"), layers.SiLU(), layers.Mish(),
       layers.Hardsigmoid(), layers.Hardswish(), layers.Sigmoid(), layers.LogSigmoid(), layers.Tanh(),
       layers.Tanhshrink(), layers.Softsign(), layers.Softplus(), layers.Softshrink(), layers.Hardshrink(),
       layers.Softmax(dim=-1), layers.Softmin(dim=-1), layers.LogSoftmax(dim=-1), layers.GLU()]


@pytest.mark.parametrize("layer", ALL, ids=lambda layer: repr(layer))
def test_float32_in_float32_out_and_finite_on_extreme_inputs(layer):
    x = np.array([[-1e4, -50.0, -1.0, 0.0, 1.0, 50.0, 1e4, 3.0]] * 2, dtype=np.float32)
    y = layer(x)
    g = layer.backward(np.ones_like(y))
    assert y.dtype == g.dtype == np.float32
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(g))


def test_inplace_is_accepted_and_never_overwrites_the_input():
    x = np.array([-1.0, 2.0])
    for layer in (layers.ReLU(inplace=True), layers.ELU(inplace=True), layers.Hardtanh(inplace=True)):
        layer(x)
        np.testing.assert_array_equal(x, [-1.0, 2.0])
    assert repr(layers.ReLU6(inplace=True)) == "ReLU6(inplace=True)"


# 64 values: PyTorch's vectorised loop, which tensors of 16 values or more take, handles all of them
# (its scalar loop for short tensors differs: ELU's derivative at NaN is 1 there, NaN here)
SPECIAL = np.resize([np.nan, np.inf, -np.inf, 0.0, -0.0, -6.0, -3.0, -1.0, -0.5, 0.5, 1.0, 3.0, 6.0, 20.0, 30.0], 64)


@pytest.mark.parametrize("name, kwargs", [
    ("ReLU", {}), ("LeakyReLU", {"negative_slope": 0.2}), ("PReLU", {}), ("Hardtanh", {}), ("ReLU6", {}),
    ("Threshold", {"threshold": 1.0, "value": -1.0}), ("ELU", {"alpha": 0.7}), ("SELU", {}), ("CELU", {"alpha": 2.0}),
    ("GELU", {}), ("GELU", {"approximate": "tanh"}), ("SiLU", {}), ("Mish", {}), ("Hardsigmoid", {}), ("Hardswish", {}),
    ("Sigmoid", {}), ("LogSigmoid", {}), ("Tanh", {}), ("Tanhshrink", {}), ("Softsign", {}), ("Softplus", {}),
    ("Softplus", {"beta": 2.0, "threshold": 3.0}), ("Softshrink", {}), ("Hardshrink", {}),
])
def test_nan_infinity_zeros_and_kinks_as_in_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    layer = getattr(layers, name)(**kwargs).double()
    with np.errstate(invalid="ignore"):              # inf * 0 makes NaN, as in PyTorch; numpy also warns
        y, dx = layer(SPECIAL), layer.backward(np.ones_like(SPECIAL))
    x = torch.tensor(SPECIAL, requires_grad=True)
    y_ref = getattr(torch.nn, name)(**kwargs).double()(x)
    y_ref.backward(torch.ones_like(y_ref))
    dx_ref = x.grad.numpy()
    if name == "Softsign":           # PyTorch's derivative at +-inf is NaN (inf / inf); the limit 0 is right
        dx_ref = np.where(np.isinf(SPECIAL), 0.0, dx_ref)
    # Hardsigmoid: PyTorch's slope is 1/6 rounded to float32 even in float64
    np.testing.assert_allclose(y, y_ref.detach().numpy(), rtol=1e-7, atol=1e-300)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-7, atol=1e-300)


def test_hardsigmoid_and_reprs_match_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.uniform(-5, 5, (3, 4))
    layer = layers.Hardsigmoid().double()
    xt = torch.tensor(x, requires_grad=True)
    y_ref = torch.nn.Hardsigmoid()(xt)
    y_ref.backward(torch.ones_like(y_ref))
    np.testing.assert_allclose(layer(x), y_ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.backward(np.ones_like(x)), xt.grad.numpy(), rtol=1e-7)
    for text in ["ReLU()", "ReLU(inplace=True)", "LeakyReLU(negative_slope=0.2)", "PReLU(num_parameters=3)",
                 "Hardtanh(min_val=-2.0, max_val=1.0)", "ReLU6()", "Threshold(threshold=0.5, value=-3.0)",
                 "ELU(alpha=0.7)", "SELU()", "CELU(alpha=2.0)", "GELU(approximate='tanh')", "SiLU()", "Mish()",
                 "Hardswish()", "Softplus(beta=2.0, threshold=6.0)", "Softshrink(1.0)", "Hardshrink(0.5)",
                 "Softmax(dim=1)", "Softmin(dim=1)", "LogSoftmax(dim=-1)", "Softmax2d()", "GLU(dim=-1)"]:
        assert repr(eval("layers." + text)) == repr(eval("torch.nn." + text))


def test_docstring_examples_run_as_written():
    for module in (layers.activation, layers.batchnorm, layers.instancenorm, layers.groupnorm, layers.dropout,
                   layers.reshape, layers.linear):
        results = doctest.testmod(module, extraglobs={"np": np, **vars(module)})
        assert results.failed == 0 and results.attempted > 0, module.__name__
