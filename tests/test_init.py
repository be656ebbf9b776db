"""mtorch.init against PyTorch's definitions (bounds and standard deviations)."""
import math

import numpy as np
import pytest

from mtorch import Parameter, init


def big(shape=(300, 200, 3, 3)):
    return Parameter(np.zeros(shape))


def test_fans_of_linear_and_conv_weights():
    assert init.calculate_fan_in_and_fan_out(np.zeros((10, 4))) == (4, 10)
    assert init.calculate_fan_in_and_fan_out(np.zeros((8, 3, 5, 5))) == (75, 200)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.calculate_fan_in_and_fan_out(np.zeros(3))


@pytest.mark.parametrize("fill, expected_std, bound", [
    (lambda w: init.xavier_uniform_(w), math.sqrt(2 / (1800 + 2700)), math.sqrt(6 / (1800 + 2700))),
    (lambda w: init.xavier_normal_(w, gain=2.0), 2 * math.sqrt(2 / (1800 + 2700)), None),
    (lambda w: init.kaiming_uniform_(w, a=math.sqrt(5)), 1 / math.sqrt(1800) / math.sqrt(3), 1 / math.sqrt(1800)),
    (lambda w: init.kaiming_normal_(w, nonlinearity="relu"), math.sqrt(2 / 1800), None),
    (lambda w: init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"), math.sqrt(2 / 2700), None),
])
def test_distributions(fill, expected_std, bound):
    w = fill(big())
    assert w.dtype == np.float32
    assert abs(w.data.std() - expected_std) < 0.01 * expected_std
    assert abs(w.data.mean()) < 0.01 * expected_std
    if bound is not None:
        assert np.abs(w.data).max() <= bound * (1 + 1e-6)


def test_constants_and_plain_arrays():
    w = np.empty((2, 3))
    assert init.ones_(w) is w and np.all(w == 1)
    assert np.all(init.zeros_(Parameter(np.ones(3))).data == 0)
    assert np.all(init.constant_(np.empty(2), 0.25) == 0.25)


def test_gains_and_bad_arguments():
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="mode must be"):
        init.kaiming_uniform_(np.zeros((2, 2)), mode="fan")
