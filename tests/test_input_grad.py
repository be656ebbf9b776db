"""Data needs no gradient: a Module called on data skips dL/d(input), with the same parameter gradients."""
import numpy as np
import pytest

import mtorch
from mtorch import Module, Sequential, layers


def mlp(**kwargs):
    return Module(Sequential([layers.Linear(6, 8), layers.ReLU(), layers.Linear(8, 3)]), **kwargs)


def cnn(**kwargs):
    return Module(Sequential([layers.Reshape((1, 6, 6)), layers.Conv2d(1, 2, 3), layers.ReLU(),
                              layers.Flatten(), layers.Linear(32, 3)]), **kwargs)


@pytest.mark.parametrize("make, features", [(mlp, 6), (cnn, 36)])
def test_a_model_on_data_skips_the_input_gradient_and_keeps_every_parameter_gradient(make, features, rng):
    x, g = rng.standard_normal((4, features)), rng.standard_normal((4, 3))
    full, auto = make(input_grad=True), make()
    auto.load_state_dict(full.state_dict())
    full(x)
    auto(x)
    assert full.backward(g).shape == x.shape
    assert auto.backward(g) is None
    for (name, p), q in zip(full.named_parameters(), auto.parameters()):
        np.testing.assert_array_equal(p.grad, q.grad, err_msg=name)


def test_the_first_trained_layer_skips_its_input_product_and_layers_before_it_do_not_run(rng):
    model = cnn()
    seen = []
    model.sequential[0].register_backward_hook(lambda layer, grad_in, grad_out: seen.append("reshape"))
    model.sequential[1].register_backward_hook(lambda layer, grad_in, grad_out: seen.append(grad_in))
    model.backward(np.ones_like(model(rng.standard_normal((2, 36)))))
    assert seen == [None] and not model.sequential[1].needs_input_grad


def test_an_array_a_layer_produced_gets_its_gradient(rng):
    generator, critic = mlp(), Module(Sequential([layers.Linear(3, 1)]))
    fake = generator(rng.standard_normal((4, 6)))              # produced by a layer: not data
    critic(fake)
    grad_fake = critic.backward(np.ones((4, 1)))
    np.testing.assert_allclose(grad_fake, np.tile(critic.sequential[0].weight.data, (4, 1)))
    assert generator.backward(grad_fake) is None               # the generator's input is noise: data
    assert generator.sequential[0].weight.grad is not None


def test_input_grad_true_always_and_false_never(rng):
    x = rng.standard_normal((2, 6))
    forced = mlp(input_grad=True)
    forced(x)
    assert forced.backward(np.ones((2, 3))).shape == (2, 6)
    never = mlp(input_grad=False)
    never(Module(Sequential([layers.Linear(6, 6)]))(x))       # produced, but gradient refused
    assert never.backward(np.ones((2, 3))) is None
    with pytest.raises(TypeError, match="input_grad must be None, True or False"):
        mlp(input_grad=1)


def test_a_skip_connection_or_branch_at_the_input_still_works(rng):
    model = Module(Sequential([layers.Residual(layers.Linear(6, 6)), layers.Concat(layers.Linear(6, 2),
                                                                                    layers.Tanh()),
                               layers.Linear(8, 3)]))
    reference = Module(Sequential([layers.Residual(layers.Linear(6, 6)), layers.Concat(layers.Linear(6, 2),
                                                                                        layers.Tanh()),
                                   layers.Linear(8, 3)]), input_grad=True)
    reference.load_state_dict(model.state_dict())
    x, g = rng.standard_normal((4, 6)), rng.standard_normal((4, 3))
    model(x)
    reference(x)
    assert model.backward(g) is None and reference.backward(g).shape == x.shape
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad, q.grad, err_msg=name)


def test_checks_still_measure_the_input_gradient(rng):
    model = mlp(input_grad=False)
    assert mtorch.gradcheck(model, rng.standard_normal((3, 6)))
    assert model.input_grad is False


def test_a_plain_layer_called_directly_returns_its_input_gradient(rng):
    linear = layers.Linear(6, 3)
    linear(rng.standard_normal((2, 6)))
    assert linear.backward(np.ones((2, 3))).shape == (2, 6)


def test_a_model_without_parameters_on_data_returns_nothing_unless_asked():
    x = np.ones((2, 2))
    model = Module(Sequential([layers.ReLU()]))
    model(x)
    assert model.backward(np.ones((2, 2))) is None
    model.input_grad = True
    model(x)
    np.testing.assert_array_equal(model.backward(np.ones((2, 2))), np.ones((2, 2)))
