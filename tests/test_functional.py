"""mtorch.functional: erf and erfc against math.erf / math.erfc, and the stable sigmoid."""
import math

import numpy as np
import pytest

from mtorch.functional import erf, erfc, sigmoid, softplus

# every 1/1000 on [-27, 27] (erfc underflows beyond 26.5), and 1e-300 ... 0.6 geometrically, both signs
TINY = np.geomspace(1e-300, 0.6, 3000)
GRID = np.concatenate([np.linspace(-27, 27, 54001), TINY, -TINY])


def _relative_error(value, reference):
    nonzero = reference != 0
    return np.abs(value - reference)[nonzero] / np.abs(reference[nonzero])


def test_erf_matches_math_erf_to_a_few_ulps():
    reference = np.array([math.erf(v) for v in GRID])
    assert _relative_error(erf(GRID), reference).max() < 2e-15


@pytest.mark.parametrize("bound, rtol", [(5, 1e-14), (26.5, 3e-13)])
def test_erfc_matches_math_erfc_with_its_relative_accuracy_into_the_tail(bound, rtol):
    x = GRID[np.abs(GRID) <= bound]
    reference = np.array([math.erfc(v) for v in x])
    # the rounding of x^2 in exp(-x^2) sets the error far out: about x^2 * 1e-16
    # (beyond 26.5, erfc(x) < 1e-307 is a subnormal number with fewer digits)
    assert _relative_error(erfc(x), reference).max() < rtol


def test_float32_stays_float32_with_float32_accuracy():
    x = GRID[np.abs(GRID) <= 4].astype(np.float32)
    x = x[np.abs(x) > 1e-37]                                     # normal float32 numbers
    for f, exact in ((erf, math.erf), (erfc, math.erfc)):
        y = f(x)
        assert y.dtype == np.float32
        reference = np.array([exact(float(v)) for v in x])
        # erfc's sensitivity to rounding its argument is 2 x^2 eps: 2e-6 at x = 4
        assert _relative_error(y.astype(np.float64), reference).max() < 2e-6


def test_special_values_without_warnings():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e300, -1e300])
    np.testing.assert_array_equal(erf(x), [np.nan, 1, -1, 0, -0.0, 1, -1])
    assert np.signbit(erf(x)[4])                                  # erf(-0.0) = -0.0, as math.erf
    np.testing.assert_allclose(erfc(x), [np.nan, 0, 2, 1, 1, 0, 2], rtol=1e-15, atol=0)
    np.testing.assert_array_equal(erfc(np.float32([1e30, -1e30])), [0, 2])


def test_integer_input_computes_in_float64():
    assert erf(np.array([0, 1])).dtype == np.float64
    assert erfc(2) == pytest.approx(math.erfc(2), rel=1e-15)


def test_sigmoid_is_stable_and_exact_where_the_naive_formula_is():
    x = np.linspace(-30, 30, 6001)
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_array_equal(sigmoid(np.array([-1000.0, 1000.0, np.inf, -np.inf])), [0, 1, 1, 0])
    assert sigmoid(np.float32([-100, 100])).dtype == np.float32
    assert sigmoid(np.array([-745.0]))[0] > 0                      # exp(-745) is the smallest double


def test_softplus_is_log_one_plus_exp_without_overflow():
    x = np.concatenate([np.linspace(-50, 50, 10001), [-1000.0, 1000.0, np.inf, -np.inf]])
    np.testing.assert_allclose(softplus(x), np.logaddexp(0, x), rtol=1e-15, atol=0)
    assert softplus(np.float32([-3, 3])).dtype == np.float32
