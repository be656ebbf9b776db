"""Module.input_grad: a model whose input is data can skip dL/d(input), with the same parameter gradients."""
import numpy as np
import pytest

import mtorch
from mtorch import Module, Sequential, layers


def mlp():
    return Module(Sequential([layers.Linear(6, 8), layers.ReLU(), layers.Linear(8, 3)]))


def cnn():
    return Module(Sequential([layers.Reshape((1, 6, 6)), layers.Conv2d(1, 2, 3), layers.ReLU(),
                              layers.Flatten(), layers.Linear(32, 3)]))


@pytest.mark.parametrize("make, features", [(mlp, 6), (cnn, 36)])
def test_skipping_the_input_gradient_keeps_every_parameter_gradient(make, features, rng):
    x, g = rng.standard_normal((4, features)), rng.standard_normal((4, 3))
    full, skipping = make(), make()
    skipping.load_state_dict(full.state_dict())
    skipping.input_grad = False
    assert full.input_grad and not skipping.input_grad

    full(x)
    skipping(x)
    assert full.backward(g).shape == x.shape
    assert skipping.backward(g) is None
    for (name, p), q in zip(full.named_parameters(), skipping.parameters()):
        np.testing.assert_array_equal(p.grad, q.grad, err_msg=name)


def test_the_flag_sits_on_the_first_layer_with_parameters():
    model = cnn()
    model.input_grad = False
    assert [layer.needs_input_grad for layer in model.sequential] == [True, False, True, True, True]
    assert not Module(Sequential([layers.Linear(2, 2)]), input_grad=False).input_grad


def test_layers_before_the_skipping_layer_are_not_run_backward(rng):
    model = cnn()
    model.input_grad = False
    seen = []
    model.sequential[0].register_backward_hook(lambda layer, grad_in, grad_out: seen.append("reshape"))
    model.sequential[1].register_backward_hook(lambda layer, grad_in, grad_out: seen.append(grad_in))
    model.backward(np.ones_like(model(rng.standard_normal((2, 36)))))
    assert seen == [None]


def test_checks_still_measure_the_input_gradient(rng):
    model = mlp()
    model.input_grad = False
    assert mtorch.gradcheck(model, rng.standard_normal((3, 6)))
    assert not model.input_grad


def test_a_model_without_parameters_always_returns_the_input_gradient():
    model = Module(Sequential([layers.ReLU()]), input_grad=False)
    assert model.input_grad
    model(np.ones((2, 2)))
    np.testing.assert_array_equal(model.backward(np.ones((2, 2))), np.ones((2, 2)))
