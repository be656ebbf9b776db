"""Forward and backward hooks on layers (register_forward_hook / register_backward_hook)."""
import io

import numpy as np
import pytest

import mtorch
from mtorch import Module, Sequential, layers


def _net():
    return Sequential([layers.Linear(3, 4), layers.ReLU(), layers.Linear(4, 2)]).double()


def test_forward_hook_sees_layer_input_and_output_in_registration_order(rng):
    linear = layers.Linear(3, 2).double()
    x = rng.standard_normal((5, 3))
    calls = []
    linear.register_forward_hook(lambda layer, inp, out: calls.append(("first", layer, inp, out.copy())))
    linear.register_forward_hook(lambda layer, inp, out: calls.append(("second", layer, inp, out.copy())))
    y = linear(x)
    assert [c[0] for c in calls] == ["first", "second"]
    name, layer, inp, out = calls[0]
    assert layer is linear and inp is x
    np.testing.assert_allclose(out, x @ linear.weight.data.T + linear.bias.data)
    np.testing.assert_array_equal(out, y)


def test_forward_hook_return_value_replaces_the_output(rng):
    net = _net()
    x = rng.standard_normal((2, 3))
    expected = net[2](np.zeros((2, 4)))
    net[1].register_forward_hook(lambda layer, inp, out: np.zeros_like(out))
    np.testing.assert_allclose(net(x), expected)


def test_forward_hook_gets_a_tuple_for_several_positional_arguments():
    class Add(mtorch.Layer):
        def forward(self, a, b):
            return a + b

    seen = []
    add = Add()
    add.register_forward_hook(lambda layer, inp, out: seen.append(inp))
    add(np.ones(2), np.zeros(2))
    assert isinstance(seen[0], tuple) and len(seen[0]) == 2


def test_handles_remove_hooks_also_as_context_managers(rng):
    relu = layers.ReLU()
    calls = []
    handle = relu.register_forward_hook(lambda *args: calls.append("kept"))
    with relu.register_forward_hook(lambda *args: calls.append("scoped")):
        relu(rng.standard_normal(3))
    relu(rng.standard_normal(3))
    handle.remove()
    handle.remove()
    relu(rng.standard_normal(3))
    assert calls == ["kept", "scoped", "kept"]


def test_backward_hooks_fire_in_reverse_order_with_the_gradients(rng):
    net = _net()
    x, g = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    seen = []
    for index, layer in enumerate(net):
        layer.register_backward_hook(
            lambda layer, grad_in, grad_out, index=index: seen.append((index, grad_in.copy(), grad_out.copy())))
    net(x)
    grad_x = net.backward(g)
    assert [s[0] for s in seen] == [2, 1, 0]
    np.testing.assert_array_equal(seen[0][2], g)
    np.testing.assert_allclose(seen[0][1], g @ net[2].weight.data)
    for later, earlier in zip(seen, seen[1:]):
        np.testing.assert_array_equal(earlier[2], later[1])
    np.testing.assert_array_equal(seen[-1][1], grad_x)


def test_backward_hook_return_value_replaces_the_input_gradient(rng):
    net = _net()
    net(rng.standard_normal((5, 3)))
    net[2].register_backward_hook(lambda layer, grad_in, grad_out: np.zeros_like(grad_in))
    assert not np.any(net.backward(rng.standard_normal((5, 2))))
    assert not np.any(net[0].weight.grad)


def test_a_direct_backward_fires_the_hooks_once_even_through_super(rng):
    class ScaledTanh(layers.Tanh):
        def backward(self, grad_out):
            return 2 * super().backward(grad_out)

    layer = ScaledTanh()
    calls = []
    layer.register_backward_hook(lambda l, grad_in, grad_out: calls.append(grad_in))
    x = rng.standard_normal(3)
    layer(x)
    grad = layer.backward(np.ones(3))
    assert len(calls) == 1 and calls[0] is grad
    np.testing.assert_allclose(grad, 2 * (1 - np.tanh(x) ** 2), rtol=1e-6)


def test_module_backward_fires_the_hooks_of_its_sequential_and_every_layer(rng):
    module = Module(_net())
    calls = []
    module.sequential.register_backward_hook(lambda layer, gi, go: calls.append(type(layer).__name__))
    module.sequential[0].register_backward_hook(lambda layer, gi, go: calls.append(type(layer).__name__))
    module(rng.standard_normal((2, 3)))
    module.backward(rng.standard_normal((2, 2)))
    assert calls == ["Linear", "Sequential"]


def test_gradient_checks_and_summary_leave_hooks_alone(rng):
    module = Module(_net())
    calls = []
    module.sequential[1].register_forward_hook(lambda *args: calls.append(1))
    module.sequential[1].register_backward_hook(lambda *args: calls.append(1))
    assert mtorch.gradcheck(module, rng.standard_normal((2, 3)))
    assert mtorch.testing.check_layer(module, verbose=False)
    assert calls == []
    module.summary((1, 3), file=io.StringIO())
    assert calls == [1]
    assert len(module.sequential[0]._forward_hooks) == 0


def test_a_hook_may_remove_itself_while_firing(rng):
    relu = layers.ReLU()
    calls = []

    def once(layer, inp, out):
        calls.append(1)
        handle.remove()

    handle = relu.register_forward_hook(once)
    relu(rng.standard_normal(2))
    relu(rng.standard_normal(2))
    assert calls == [1]


@pytest.mark.parametrize("method", ["register_forward_hook", "register_backward_hook"])
def test_hooks_are_called_with_the_layer_itself(method, rng):
    net = _net()
    layer_seen = []
    getattr(net[0], method)(lambda layer, *args: layer_seen.append(layer))
    net(rng.standard_normal((2, 3)))
    net.backward(rng.standard_normal((2, 2)))
    assert layer_seen == [net[0]]


@pytest.mark.parametrize("entry", ["bound method", "layer"])
def test_loss_backward_fires_the_models_own_backward_hooks(entry, rng):
    module = Module(_net(), input_grad=True)        # dL/d(input) even for data, to see its shape
    calls = []
    module.register_backward_hook(lambda layer, grad_in, grad_out: calls.append(grad_in.shape))
    loss_func = mtorch.loss.MSELoss(backward_func=module.backward if entry == "bound method" else module)
    grad_x = loss_func(module(rng.standard_normal((2, 3))), np.zeros((2, 2))).backward()
    assert calls == [(2, 3)] and grad_x.shape == (2, 3)
