"""Layer, Parameter, Sequential and Module: registration, state dicts, modes, dtypes, errors."""
import numpy as np
import pytest

import mtorch
from mtorch import Layer, Module, Parameter, Sequential, layers
from mtorch.errors import BackwardBeforeForwardError, ShapeError, StateDictError


class Scale(Layer):
    """A layer written the way a student would: parameters as attributes, forward/backward only."""

    def __init__(self, n):
        super().__init__()
        self.gamma = Parameter(np.linspace(0.5, 1.5, n))

    def forward(self, x):
        self.x = x
        return x * self.gamma.data

    def backward(self, grad_out):
        self.gamma.add_grad((grad_out * self.x).sum(axis=0))
        return grad_out * self.gamma.data


def mlp():
    return Sequential([layers.Linear(4, 8), layers.ReLU(), layers.Linear(8, 3)])


def test_parameter_defaults_to_float32_and_no_grad():
    p = Parameter(np.arange(6).reshape(2, 3))
    assert p.dtype == np.float32 and p.shape == (2, 3) and p.size == 6 and p.grad is None
    assert Parameter([1.0], dtype=np.float64).dtype == np.float64


def test_parameters_register_in_assignment_order_with_pytorch_names():
    net = Sequential(layers.Linear(4, 8), layers.Tanh(), layers.Linear(8, 3, bias=False))
    assert [name for name, _ in net.named_parameters()] == ["0.weight", "0.bias", "2.weight"]
    assert [p.shape for p in net.parameters()] == [(8, 4), (8,), (3, 8)]


def test_module_keeps_the_sequential_names():
    class Net(Module):
        def __init__(self):
            super().__init__(mlp())

    net = Net()
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert repr(net).startswith("Net(\n  (0): Linear(in_features=4, out_features=8, bias=True)")


def test_reassigning_an_attribute_updates_the_registry():
    layer = Scale(3)
    layer.gamma = Parameter(np.ones(3))
    assert len(list(layer.parameters())) == 1
    layer.gamma = None
    assert list(layer.parameters()) == []


def test_forgetting_super_init_is_explained():
    class Broken(Layer):
        def __init__(self):
            self.w = Parameter(np.ones(2))

    with pytest.raises(RuntimeError, match=r"Broken: call super\(\).__init__\(\)"):
        Broken()


def test_student_layer_works_in_sequential_steps_round_trips_and_gradchecks(rng):
    net = Sequential([layers.Linear(3, 4), Scale(4), layers.Linear(4, 2)])
    x = rng.standard_normal((5, 3)).astype(np.float32)
    y = net(x)
    grad_x = net.backward(np.ones_like(y))
    assert grad_x.shape == x.shape and net[1].gamma.grad.shape == (4,)
    before, grad = net[1].gamma.data.copy(), net[1].gamma.grad
    net.step(0.1)
    np.testing.assert_allclose(net[1].gamma.data, before - 0.1 * grad, rtol=1e-6)
    assert net[1].gamma.grad is None                  # step used the gradient and cleared it

    copy = Sequential([layers.Linear(3, 4), Scale(4), layers.Linear(4, 2)])
    copy.load_state_dict(net.state_dict())
    np.testing.assert_array_equal(copy(x), net(x))
    assert mtorch.gradcheck(net, x)


def test_step_is_plain_gradient_descent():
    layer = layers.Linear(2, 2)
    layer.weight.grad = np.ones((2, 2), np.float32)
    layer.bias.grad = None
    w, b = layer.weight.data.copy(), layer.bias.data.copy()
    layer.step(0.5)
    np.testing.assert_array_equal(layer.weight.data, w - 0.5)
    np.testing.assert_array_equal(layer.bias.data, b)


def test_state_dict_is_a_copy_and_round_trips(rng):
    net = mlp()
    state = net.state_dict()
    state["0.weight"][...] = 7
    assert not np.any(net[0].weight.data == 7)
    other = mlp()
    result = other.load_state_dict(net.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = rng.standard_normal((2, 4))
    np.testing.assert_array_equal(other(x), net(x))


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.pop("2.bias"), r"missing keys \['2.bias'\]"),
    (lambda s: s.update(extra=np.ones(1)), r"unexpected keys \['extra'\]"),
    (lambda s: s.update({"2.weight": np.ones((3, 9))}), r"'2.weight' has shape \(3, 9\), expected \(3, 8\)"),
])
def test_failed_load_names_the_key_and_changes_nothing(edit, message):
    net, source = mlp(), mlp()
    before = net.state_dict()
    state = source.state_dict()
    edit(state)
    with pytest.raises(StateDictError, match=message):
        net.load_state_dict(state)
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_non_strict_load_reports_missing_and_unexpected():
    net = mlp()
    state = mlp().state_dict()
    del state["0.bias"]
    state["ghost"] = np.zeros(1)
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["ghost"]
    np.testing.assert_array_equal(net[2].weight.data, state["2.weight"])


def test_buffers_are_saved_converted_and_loaded():
    class Counter(Layer):
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", np.zeros(2, np.float32))

    layer = Counter()
    layer.mean = np.array([1.0, 2.0], np.float32)
    assert list(layer.state_dict()) == ["mean"]
    layer.double()
    assert layer.mean.dtype == np.float64
    other = Counter()
    other.load_state_dict(layer.state_dict())
    np.testing.assert_array_equal(other.mean, [1.0, 2.0])
    assert other.mean.dtype == np.float32


def test_train_eval_reach_every_layer():
    net = Sequential([layers.Linear(2, 2), Sequential([layers.Dropout(0.5)])])
    assert net.eval() is net
    assert not any(layer.training for _, layer in net.named_layers())
    net.train()
    assert all(layer.training for _, layer in net.named_layers())


def test_double_and_float_convert_parameters_and_computation(rng):
    net = mlp().double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net(rng.standard_normal((2, 4)).astype(np.float32)).dtype == np.float64
    net.float()
    assert net(rng.standard_normal((2, 4))).dtype == np.float32


def test_sequential_container_protocol():
    net = Sequential(layers.Linear(2, 3))
    net.append(layers.ReLU())
    assert len(net) == 2 and isinstance(net[-1], layers.ReLU)
    assert [type(layer).__name__ for layer in net] == ["Linear", "ReLU"]
    assert isinstance(net[:1], Sequential) and len(net[:1]) == 1
    with pytest.raises(TypeError, match="Sequential: expected a Layer, got int"):
        net.append(3)


def test_wrong_shape_inside_sequential_names_position_layer_and_shapes():
    with pytest.raises(ShapeError) as info:
        mlp()(np.zeros((2, 5)))
    assert str(info.value) == ("in Sequential layer 0: Linear(in_features=4, out_features=8, bias=True): "
                               "expected input of shape (..., 4), got (2, 5)")


def test_backward_before_forward_and_wrong_grad_shape():
    layer = layers.Linear(4, 2)
    with pytest.raises(BackwardBeforeForwardError, match=r"Linear\(.*\)\.backward\(\) called before forward"):
        layer.backward(np.zeros((3, 2)))
    layer(np.zeros((3, 4)))
    with pytest.raises(ShapeError, match=r"expected grad_out of shape \(3, 2\) .* got \(3, 3\)"):
        layer.backward(np.zeros((3, 3)))


def test_summary_prints_shapes_and_counts(capsys):
    class Net(Module):
        def __init__(self):
            super().__init__(mlp())

    net = Net().train()
    assert net.summary((1, 4)) == 4 * 8 + 8 + 8 * 3 + 3
    out = capsys.readouterr().out
    assert "0 (Linear)" in out and "(1, 8)" in out and "(1, 3)" in out and "67" in out
    assert net.training


def test_module_rejects_non_layers():
    with pytest.raises(TypeError, match="Module wraps a Layer"):
        Module([layers.ReLU()])


def test_manual_seed_makes_initialisation_reproducible():
    mtorch.manual_seed(42)
    a = mlp().state_dict()
    mtorch.manual_seed(42)
    b = mlp().state_dict()
    c = mlp().state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(b["0.weight"], c["0.weight"])
    with pytest.raises(ValueError, match="non-negative integer"):
        mtorch.manual_seed(-1)


def test_a_shared_parameter_is_listed_stepped_and_clipped_once():
    from mtorch.optim import SGD, clip_grad_norm
    shared = layers.Linear(2, 2, bias=False)
    net = Sequential([shared, shared])
    assert len(list(net.parameters())) == 1 and list(net.state_dict()) == ["0.weight", "1.weight"]
    shared.weight.grad = np.ones((2, 2), np.float32)
    before = shared.weight.data.copy()
    SGD(net, lr=0.1).step()
    np.testing.assert_allclose(shared.weight.data, before - 0.1, rtol=1e-6)
    shared.weight.grad = np.ones((2, 2), np.float32)
    assert clip_grad_norm(net, max_norm=1.0) == pytest.approx(2.0)
    np.testing.assert_allclose(shared.weight.grad, 0.5, rtol=1e-5)
