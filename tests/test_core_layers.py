"""The core layers: Linear, activations, Softmax/LogSoftmax, Flatten/Reshape, Dropout, Identity."""
import math

import numpy as np
import pytest

import mtorch
from mtorch import layers
from mtorch.errors import ShapeError

ELEMENTWISE = [
    layers.ReLU, lambda: layers.LeakyReLU(0.1), layers.ELU, lambda: layers.ELU(0.5), layers.GELU,
    lambda: layers.GELU("tanh"), layers.SiLU, layers.Sigmoid, layers.Tanh, layers.Softplus,
    lambda: layers.Softplus(beta=2.0, threshold=5.0), layers.Identity,
    lambda: layers.Softmax(dim=-1), lambda: layers.Softmax(dim=0), lambda: layers.LogSoftmax(dim=-1),
    lambda: layers.LogSoftmax(dim=0),
]


@pytest.mark.parametrize("make", ELEMENTWISE)
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)])
def test_activation_gradcheck(make, shape, rng):
    x = rng.standard_normal(shape) * 3
    assert mtorch.gradcheck(make(), x)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3), (3,)])
def test_linear_gradcheck_on_any_leading_shape(bias, shape, rng):
    assert mtorch.gradcheck(layers.Linear(3, 2, bias=bias), rng.standard_normal(shape))


def test_linear_hand_computed():
    layer = layers.Linear(2, 2)
    layer.weight.data[...] = [[1, 2], [3, 4]]
    layer.bias.data[...] = [0.5, -1]
    y = layer(np.array([[1.0, 1.0], [2.0, 0.0]]))
    np.testing.assert_array_equal(y, [[3.5, 6.0], [2.5, 5.0]])
    dx = layer.backward(np.array([[1.0, 0.0], [0.0, 1.0]]))
    np.testing.assert_array_equal(dx, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(layer.weight.grad, [[1, 1], [2, 0]])
    np.testing.assert_array_equal(layer.bias.grad, [1, 1])


def test_linear_default_init_is_pytorchs():
    layer = layers.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (layer.weight.data, layer.bias.data):
        assert p.dtype == np.float32 and np.abs(p).max() <= bound
        assert np.abs(p).max() > 0.95 * bound
    # U(-b, b) has standard deviation b / sqrt(3)
    assert abs(layer.weight.data.std() - bound / math.sqrt(3)) < 0.01 * bound


def test_linear_float32_stays_float32_and_casts_integer_input():
    layer = layers.Linear(3, 2)
    assert layer(np.ones((4, 3), np.float32)).dtype == np.float32
    assert layer(np.ones((4, 3), np.uint8)).dtype == np.float32
    assert layer(np.ones((4, 3), np.float64)).dtype == np.float32


X = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])


@pytest.mark.parametrize("layer, expected", [
    (layers.ReLU(), [0, 0, 0, 0.5, 2]),
    (layers.LeakyReLU(0.1), [-0.2, -0.05, 0, 0.5, 2]),
    (layers.ELU(), [math.exp(-2) - 1, math.exp(-0.5) - 1, 0, 0.5, 2]),
    (layers.Sigmoid(), [1 / (1 + math.exp(-v)) for v in X]),
    (layers.Tanh(), [math.tanh(v) for v in X]),
    (layers.Softplus(), [math.log1p(math.exp(v)) for v in X]),
    (layers.GELU(), [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in X]),
    (layers.SiLU(), [v / (1 + math.exp(-v)) for v in X]),
    (layers.GELU("tanh"), [0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3))) for v in X]),
    (layers.Softmax(dim=-1), np.exp(X) / np.exp(X).sum()),
    (layers.LogSoftmax(dim=-1), X - math.log(np.exp(X).sum())),
])
def test_activation_values_by_hand(layer, expected):
    np.testing.assert_allclose(layer(X), expected, rtol=1e-12, atol=1e-15)


def test_activation_derivatives_by_hand():
    relu = layers.ReLU()
    relu(X)
    np.testing.assert_array_equal(relu.backward(np.ones(5)), [0, 0, 0, 1, 1])
    sigmoid = layers.Sigmoid()
    y = sigmoid(X)
    np.testing.assert_allclose(sigmoid.backward(np.ones(5)), y * (1 - y))
    softmax = layers.Softmax(dim=-1)
    y = softmax(np.array([1.0, 2.0]))
    # d softmax_0 / d x = [y0 (1 - y0), -y0 y1]
    np.testing.assert_allclose(softmax.backward(np.array([1.0, 0.0])), [y[0] * (1 - y[0]), -y[0] * y[1]])


@pytest.mark.parametrize("make", ELEMENTWISE)
def test_extreme_inputs_stay_finite_without_warnings(make):
    layer = make()
    x = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]] * 2, dtype=np.float32)
    y = layer(x)
    g = layer.backward(np.ones_like(y))
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(g)) and y.dtype == np.float32


def test_flatten_and_reshape(rng):
    x = np.arange(120.0).reshape(2, 3, 4, 5)
    np.testing.assert_array_equal(layers.Flatten()(x), x.reshape(2, 60))
    np.testing.assert_array_equal(layers.Flatten(0, 1)(x), x.reshape(6, 4, 5))
    np.testing.assert_array_equal(layers.Reshape((3, 20))(x), x.reshape(2, 3, 20))
    assert layers.Reshape((1, 6, -1))(rng.standard_normal((2, 30))).shape == (2, 1, 6, 5)
    for layer, shape in [(layers.Flatten(), (2, 3, 4)), (layers.Flatten(1, 2), (2, 3, 4, 5)),
                         (layers.Reshape((3, 4)), (2, 12)), (layers.Reshape((-1, 2)), (3, 8))]:
        assert mtorch.gradcheck(layer, rng.standard_normal(shape))
    with pytest.raises(ShapeError, match=r"Reshape\(shape=\(5,\)\): cannot reshape input of shape \(2, 12\)"):
        layers.Reshape(5)(np.zeros((2, 12)))
    with pytest.raises(ShapeError, match="Flatten"):
        layers.Flatten(2)(np.zeros(3))


def test_dropout_train_and_eval():
    mtorch.manual_seed(3)
    layer = layers.Dropout(0.25)
    x = np.ones((200, 500), np.float32)
    y = layer(x)
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.75)
    np.testing.assert_array_equal(layer.backward(x), y)
    layer.eval()
    assert layer(x) is x or np.array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.backward(x), x)


def test_dropout_edge_probabilities_and_seed():
    x = np.ones((4, 4), np.float32)
    np.testing.assert_array_equal(layers.Dropout(0.0)(x), x)
    np.testing.assert_array_equal(layers.Dropout(1.0)(x), 0)
    mtorch.manual_seed(5)
    a = layers.Dropout(0.5)(x)
    mtorch.manual_seed(5)
    np.testing.assert_array_equal(layers.Dropout(0.5)(x), a)
    with pytest.raises(ValueError, match=r"Dropout: p must be a number in \[0, 1\], got 1.5"):
        layers.Dropout(1.5)


def test_layers_do_not_modify_their_input(rng):
    x = rng.standard_normal((3, 4))
    before = x.copy()
    for make in ELEMENTWISE + [lambda: layers.Linear(4, 2), layers.Dropout]:
        layer = make()
        layer.backward(np.ones_like(layer(x)))
        np.testing.assert_array_equal(x, before)


def test_exact_gelu_and_its_derivative_on_a_dense_grid():
    x = np.linspace(-12, 12, 24001)
    layer = layers.GELU()
    y, dx = layer(x), layer.backward(np.ones_like(x))
    cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    np.testing.assert_allclose(y, x * cdf, rtol=1e-13, atol=0)
    # dy/dx crosses 0 near x = -0.75, where only an absolute error means anything
    np.testing.assert_allclose(dx, cdf + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi), rtol=1e-13, atol=1e-15)
    layer32 = layers.GELU()
    y32 = layer32(x.astype(np.float32))
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, x * cdf, rtol=1e-5, atol=1e-7)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="GELU: approximate must be one of 'none', 'tanh', got 'fast'"):
        layers.GELU("fast")


TORCH_PAIRS = [
    (lambda: layers.ReLU(), "ReLU", {}),
    (lambda: layers.LeakyReLU(0.2), "LeakyReLU", {"negative_slope": 0.2}),
    (lambda: layers.ELU(0.7), "ELU", {"alpha": 0.7}),
    (lambda: layers.GELU(), "GELU", {}),
    (lambda: layers.GELU("tanh"), "GELU", {"approximate": "tanh"}),
    (lambda: layers.SiLU(), "SiLU", {}),
    (lambda: layers.Sigmoid(), "Sigmoid", {}),
    (lambda: layers.Tanh(), "Tanh", {}),
    (lambda: layers.Softplus(2.0, 3.0), "Softplus", {"beta": 2.0, "threshold": 3.0}),
    (lambda: layers.Softmax(1), "Softmax", {"dim": 1}),
    (lambda: layers.LogSoftmax(0), "LogSoftmax", {"dim": 0}),
]


@pytest.mark.parametrize("make, torch_name, kwargs", TORCH_PAIRS)
def test_activations_match_torch_in_float64(make, torch_name, kwargs, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((4, 6)) * 4
    g = rng.standard_normal((4, 6))
    layer = make()
    y = layer(x)
    dx = layer.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    ty = getattr(torch.nn, torch_name)(**kwargs)(tx)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_linear_matches_torch_in_float64(rng):
    torch = pytest.importorskip("torch")
    layer = layers.Linear(5, 3).double()
    ref = torch.nn.Linear(5, 3).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(layer.weight.data))
        ref.bias.copy_(torch.tensor(layer.bias.data))
    x, g = rng.standard_normal((2, 4, 5)), rng.standard_normal((2, 4, 3))
    tx = torch.tensor(x, requires_grad=True)
    out = ref(tx)
    out.backward(torch.tensor(g))
    np.testing.assert_allclose(layer(x), out.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(layer.backward(g), tx.grad.numpy(), rtol=1e-13)
    np.testing.assert_allclose(layer.weight.grad, ref.weight.grad.numpy(), rtol=1e-13)
    np.testing.assert_allclose(layer.bias.grad, ref.bias.grad.numpy(), rtol=1e-13)


@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.Linear(4.5, 3), TypeError, r"Linear: in_features must be an int >= 0, got 4.5 \(float\)"),
    (lambda: layers.Linear("4", 3), TypeError, r"Linear: in_features must be an int >= 0, got '4' \(str\)"),
    (lambda: layers.Linear(3, -1), ValueError, "Linear: out_features must be an int >= 0, got -1"),
    (lambda: layers.Linear(3, 2, bias="no"), TypeError, "Linear: bias must be True or False"),
    (lambda: layers.Dropout("0.5"), TypeError, r"Dropout: p must be a number in \[0, 1\], got '0.5' \(str\)"),
    (lambda: layers.Dropout2d(0.5, inplace=None), TypeError, "Dropout2d: inplace must be True or False"),
    (lambda: layers.Flatten("1"), TypeError, "Flatten: start_dim must be an int"),
    (lambda: layers.Unflatten(1, 4.0), TypeError, r"Unflatten: unflattened_size must be an int or a tuple of ints"),
    (lambda: layers.Unflatten(1, (2, -1, -1)), ValueError, "Unflatten: unflattened_size must hold sizes >= 0 "
                                                           "and at most one -1"),
    (lambda: layers.Reshape("a"), TypeError, "Reshape: shape must be an int or a tuple of ints"),
])
def test_constructor_arguments_are_checked(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_linear_with_zero_sizes_works_as_in_torch(rng):
    empty_in = layers.Linear(0, 3)
    assert empty_in.weight.shape == (3, 0)
    np.testing.assert_array_equal(empty_in.bias.data, 0)                    # U(0, 0): no fan-in
    y = empty_in(np.zeros((2, 0), np.float32))
    np.testing.assert_array_equal(y, np.zeros((2, 3)))
    assert empty_in.backward(np.ones((2, 3), np.float32)).shape == (2, 0)
    np.testing.assert_array_equal(empty_in.bias.grad, [2, 2, 2])
    empty_out = layers.Linear(4, 0)
    assert empty_out(rng.standard_normal((5, 4))).shape == (5, 0)
    np.testing.assert_array_equal(empty_out.backward(np.zeros((5, 0))), np.zeros((5, 4)))
    assert layers.Linear(3, 2)(np.zeros((0, 3))).shape == (0, 2)             # an empty batch


def test_unflatten_splits_one_dimension(rng):
    x = rng.standard_normal((2, 12, 3))
    np.testing.assert_array_equal(layers.Unflatten(1, (3, 4))(x), x.reshape(2, 3, 4, 3))
    np.testing.assert_array_equal(layers.Unflatten(-1, [3, 1])(x), x.reshape(2, 12, 3, 1))
    assert layers.Unflatten(1, (2, -1))(x).shape == (2, 2, 6, 3)
    assert mtorch.gradcheck(layers.Unflatten(1, (6, 2)), x)
    with pytest.raises(ShapeError, match=r"Unflatten\(dim=1, unflattened_size=\(5, 2\)\): cannot reshape input "
                                         r"of shape \(2, 12, 3\)"):
        layers.Unflatten(1, (5, 2))(x)
    with pytest.raises(ShapeError, match="Unflatten"):
        layers.Unflatten(3, (3, 4))(x)
    assert repr(layers.Unflatten(1, (2, 3))) == "Unflatten(dim=1, unflattened_size=(2, 3))"


def test_identity_takes_and_ignores_any_arguments():
    x = np.ones(3)
    assert layers.Identity(54, unused_argument=0.1)(x) is x


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
def test_shape_layers_dropout_and_linear_match_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 4, 5))
    for ours, theirs in [(layers.Flatten(), torch.nn.Flatten()), (layers.Flatten(0, 2), torch.nn.Flatten(0, 2)),
                         (layers.Unflatten(2, (2, 2)), torch.nn.Unflatten(2, (2, 2))),
                         (layers.Unflatten(-1, (5, 1)), torch.nn.Unflatten(-1, (5, 1)))]:
        np.testing.assert_array_equal(ours(x), theirs(torch.from_numpy(x)).numpy())
        assert repr(ours) == repr(theirs)
    assert repr(layers.Dropout(0.2, inplace=True)) == repr(torch.nn.Dropout(0.2, inplace=True))
    assert repr(layers.Linear(3, 2, bias=False)) == repr(torch.nn.Linear(3, 2, bias=False))
    for in_features, out_features in [(0, 3), (4, 0)]:
        ref = torch.nn.Linear(in_features, out_features).double()
        layer = layers.Linear(in_features, out_features).double()
        layer.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
        xt = torch.zeros((2, in_features), dtype=torch.float64, requires_grad=True)
        yt = ref(xt)
        yt.backward(torch.ones_like(yt))
        np.testing.assert_array_equal(layer(xt.detach().numpy()), yt.detach().numpy())
        np.testing.assert_array_equal(layer.backward(np.ones((2, out_features))), xt.grad.numpy())
        np.testing.assert_array_equal(layer.bias.grad, ref.bias.grad.numpy())
