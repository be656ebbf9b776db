"""LayerNorm and RMSNorm: statistics of the output, finite differences, parity with torch."""
import numpy as np
import pytest

import mtorch
from mtorch.errors import BackwardBeforeForwardError, ShapeError
from mtorch.layers import LayerNorm, RMSNorm
from torch_parity import assert_close, assert_parameter_grads_match, load_torch_state, module_db_samples, torch_inputs

NORMS = {"LayerNorm": LayerNorm, "RMSNorm": RMSNorm}


def test_layer_norm_standardises_each_sample_over_the_last_axes(rng):
    x = rng.standard_normal((4, 3, 2, 5)) * 3 + 7
    y = LayerNorm((2, 5)).double()(x)
    flat = y.reshape(4, 3, 10)
    np.testing.assert_allclose(flat.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(flat.var(-1), 1, rtol=1e-4)               # var / (var + eps)
    norm = LayerNorm(5, eps=0.0).double()
    norm.weight.data[:] = 2.0
    norm.bias.data[:] = -1.0
    x = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
    np.testing.assert_allclose(norm(x), 2 * (x - 3) / np.sqrt(2) - 1)     # mean 3, variance 2


def test_rms_norm_divides_by_the_root_mean_square(rng):
    x = np.array([[3.0, 4.0], [1.0, -1.0]])
    np.testing.assert_allclose(RMSNorm(2, eps=0.0).double()(x), x / np.array([[np.sqrt(12.5)], [1.0]]))
    norm = RMSNorm(8)                                  # eps=None: float32's machine epsilon
    y = norm(rng.standard_normal((3, 8)).astype(np.float32))
    np.testing.assert_allclose(np.mean(y.astype(np.float64) ** 2, axis=-1), 1, rtol=1e-5)
    assert y.dtype == np.float32


@pytest.mark.parametrize("name", list(NORMS))
@pytest.mark.parametrize("shape, normalized, kwargs", [
    ((4, 5), 5, {}),
    ((2, 3, 4), (3, 4), {}),
    ((3, 6), 6, {"elementwise_affine": False}),
    ((2, 2, 5), 5, {"eps": 0.1}),
])
def test_gradcheck(name, shape, normalized, kwargs, rng):
    assert mtorch.gradcheck(NORMS[name](normalized, **kwargs), rng.standard_normal(shape))


def test_gradcheck_without_bias(rng):
    assert mtorch.gradcheck(LayerNorm(4, bias=False), rng.standard_normal((3, 4)))


# --------------------------------------------------------------- against torch
def _compare_with_torch(torch, ours, theirs, x, rng):
    with torch.no_grad():
        for p in theirs.parameters():                  # not the initial ones and zeros
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape))))
    load_torch_state(ours, theirs)
    g = rng.standard_normal(x.shape)
    y = ours(x)
    dx = ours.backward(g)
    (xt,) = torch_inputs(torch, x)
    yt = theirs(xt)
    (yt * torch.from_numpy(g)).sum().backward()
    assert_close(y, yt, "output")
    assert_close(dx, xt.grad, "input gradient")
    assert_parameter_grads_match(ours, theirs)


@pytest.mark.parametrize("name", list(NORMS))
def test_matches_torch_on_its_module_db_samples(name, rng):
    torch = pytest.importorskip("torch")
    samples = module_db_samples(torch, getattr(torch.nn, name))
    assert len(samples) >= 6
    for sample in samples:
        args, kwargs = sample.constructor_input.args, sample.constructor_input.kwargs
        ours = NORMS[name](*args, **kwargs).double()
        theirs = getattr(torch.nn, name)(*args, **kwargs).double()
        _compare_with_torch(torch, ours, theirs, sample.forward_input.args[0].detach().numpy(), rng)


@pytest.mark.parametrize("name, kwargs", [
    ("LayerNorm", {}), ("LayerNorm", {"bias": False}), ("LayerNorm", {"eps": 1e-2}),
    ("RMSNorm", {}), ("RMSNorm", {"eps": 1e-3}), ("RMSNorm", {"elementwise_affine": False}),
])
def test_matches_torch_on_transformer_shaped_input(name, kwargs, rng):
    torch = pytest.importorskip("torch")
    ours = NORMS[name](16, **kwargs).double()
    theirs = getattr(torch.nn, name)(16, **kwargs).double()
    _compare_with_torch(torch, ours, theirs, rng.standard_normal((3, 7, 16)) * 2 + 1, rng)


def test_rms_norm_default_eps_matches_torch_in_float32(rng):
    torch = pytest.importorskip("torch")
    x = (rng.standard_normal((4, 3)) * 1e-4).astype(np.float32)     # small enough for eps to matter
    np.testing.assert_allclose(RMSNorm(3)(x), torch.nn.RMSNorm(3)(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5)


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("name", list(NORMS))
def test_wrong_shapes_name_the_class(name):
    norm = NORMS[name]((2, 3))
    with pytest.raises(ShapeError, match=rf"{name}.*expected input of shape \(\.\.\., 2, 3\), got \(4, 3\)"):
        norm(np.zeros((4, 3)))
    with pytest.raises(BackwardBeforeForwardError, match=name):
        norm.backward(np.zeros((1, 2, 3)))
    norm(np.zeros((1, 2, 3)))
    with pytest.raises(ShapeError, match="grad_out"):
        norm.backward(np.zeros((2, 2, 3)))


@pytest.mark.parametrize("args, kwargs, error, message", [
    ((0,), {}, ValueError, r"LayerNorm: normalized_shape must be an int >= 1, got 0"),
    (((),), {}, TypeError, "LayerNorm: normalized_shape must be an int or a non-empty tuple"),
    ((4.0,), {}, TypeError, "normalized_shape"),
    ((4,), {"eps": -1.0}, ValueError, "LayerNorm: eps"),
    ((4,), {"bias": 1}, TypeError, "LayerNorm: bias must be True or False"),
])
def test_bad_layer_norm_arguments(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        LayerNorm(*args, **kwargs)


def test_bad_rms_norm_arguments():
    with pytest.raises(ValueError, match="RMSNorm: eps"):
        RMSNorm(4, eps=-0.5)
    with pytest.raises(TypeError, match="RMSNorm: elementwise_affine"):
        RMSNorm(4, elementwise_affine="yes")


def test_parameters_state_dict_and_repr_follow_torch():
    assert list(LayerNorm(4).state_dict()) == ["weight", "bias"]
    assert list(LayerNorm(4, bias=False).state_dict()) == ["weight"]
    assert list(LayerNorm(4, elementwise_affine=False).state_dict()) == []
    assert list(RMSNorm(4).state_dict()) == ["weight"]
    assert LayerNorm((2, 3)).weight.shape == (2, 3)
    assert repr(LayerNorm(4)) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True)"
    assert repr(RMSNorm(4)) == "RMSNorm((4,), eps=None, elementwise_affine=True)"
