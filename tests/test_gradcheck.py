"""gradcheck must pass correct layers and catch, name and locate wrong gradients."""
import numpy as np
import pytest

import mtorch
from mtorch import layers
from mtorch.errors import GradcheckError
from mtorch.gradcheck import compare_gradients


class WrongWeightGrad(layers.Linear):
    def backward(self, grad_out):
        grad_in = super().backward(grad_out)
        self.weight.grad[1, 2] += 0.05
        return grad_in


class WrongInputGrad(layers.Tanh):
    def backward(self, grad_out):
        return super().backward(grad_out) * 1.01


class ForgetsBiasGrad(layers.Linear):
    def backward(self, grad_out):
        grad_in = super().backward(grad_out)
        self.bias.grad = None
        return grad_in


def test_wrong_parameter_gradient_is_named_and_located(rng):
    with pytest.raises(GradcheckError) as info:
        mtorch.gradcheck(WrongWeightGrad(3, 2), rng.standard_normal((4, 3)))
    report = str(info.value)
    assert "wrong gradient of weight" in report
    assert "FAIL weight" in report and "worst at index (1, 2)" in report
    assert "ok   input" in report and "ok   bias" in report


def test_wrong_input_gradient_is_named(rng):
    with pytest.raises(GradcheckError, match="wrong gradient of input"):
        mtorch.gradcheck(WrongInputGrad(), rng.standard_normal((3, 3)))


def test_missing_gradient_is_reported(rng):
    with pytest.raises(GradcheckError, match=r"FAIL bias: no gradient stored"):
        mtorch.gradcheck(ForgetsBiasGrad(3, 2), rng.standard_normal((4, 3)))


def test_raise_exception_false_returns_false(rng):
    assert mtorch.gradcheck(WrongInputGrad(), rng.standard_normal((3, 3)), raise_exception=False) is False
    assert mtorch.gradcheck(layers.Tanh(), rng.standard_normal((3, 3)), raise_exception=False) is True


def test_gradcheck_leaves_the_layer_and_random_state_alone(rng):
    layer = mtorch.Sequential(layers.Linear(3, 3), layers.Dropout(0.5))
    before = layer.state_dict()
    state = mtorch.random.get_rng_state()
    assert mtorch.gradcheck(layer, rng.standard_normal((4, 3)))
    assert mtorch.random.get_rng_state() == state
    assert all(np.array_equal(v, before[k]) and v.dtype == np.float32 for k, v in layer.state_dict().items())
    assert layer[0].weight.grad is None


class SlightlyOffTanh(layers.Tanh):
    def backward(self, grad_out):
        return super().backward(grad_out) + 1e-4


def test_tolerance_is_what_decides(rng):
    x = rng.standard_normal((3, 3))
    with pytest.raises(GradcheckError):
        mtorch.gradcheck(SlightlyOffTanh(), x)
    assert mtorch.gradcheck(SlightlyOffTanh(), x, atol=1e-3)


def test_compare_gradients_gives_numbers(rng):
    results = compare_gradients(layers.Linear(2, 2), rng.standard_normal((3, 2)))
    assert [r.name for r in results] == ["input", "weight", "bias"]
    assert all(r.ok and r.max_abs_err < 1e-8 for r in results)


def test_gradcheck_rejects_non_layers():
    with pytest.raises(TypeError, match="gradcheck takes a Layer or a Loss, got function"):
        mtorch.gradcheck(lambda x: x, np.zeros(3))


def test_positional_arguments_follow_the_documented_signature(rng):
    x = rng.standard_normal((3, 3))
    with pytest.raises(GradcheckError):
        mtorch.gradcheck(SlightlyOffTanh(), x, 1e-6, 1e-6, 1e-3)
    assert mtorch.gradcheck(SlightlyOffTanh(), x, 1e-6, 1e-3, 1e-3, False)


def test_a_loss_needs_its_target(rng):
    with pytest.raises(ValueError, match=r"needs its target: gradcheck\(loss, x, target=t\)"):
        mtorch.gradcheck(mtorch.loss.MSELoss(), rng.standard_normal((2, 2)))
