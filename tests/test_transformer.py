"""TransformerEncoderLayer and TransformerEncoder: the residual chain rule, finite differences, parity with torch."""
import numpy as np
import pytest

import mtorch
from mtorch.errors import BackwardBeforeForwardError, ShapeError
from mtorch.layers import GELU, LayerNorm, Tanh, TransformerEncoder, TransformerEncoderLayer
from torch_parity import assert_close, assert_parameter_grads_match, load_torch_state, module_db_samples, torch_inputs


def small_layer(**kwargs):
    return TransformerEncoderLayer(**{"d_model": 4, "nhead": 2, "dim_feedforward": 6, "dropout": 0.0, **kwargs})


@pytest.mark.parametrize("kwargs", [
    {}, {"norm_first": True}, {"activation": "gelu", "batch_first": True},
    {"norm_first": True, "bias": False, "activation": Tanh()}, {"dropout": 0.2, "batch_first": True},
])
def test_gradcheck_layer(kwargs, rng):
    assert mtorch.gradcheck(small_layer(**kwargs), rng.standard_normal((2, 3, 4)))


def test_gradcheck_encoder_with_masks_and_final_norm(rng):
    class Masked(mtorch.Layer):
        def __init__(self):
            super().__init__()
            self.encoder = TransformerEncoder(small_layer(norm_first=True, batch_first=True), 2, norm=LayerNorm(4))

        def forward(self, x):
            return self.encoder(x, src_key_padding_mask=np.array([[False, False, True], [False] * 3]), is_causal=True)

        def backward(self, g):
            return self.encoder.backward(g)
    assert mtorch.gradcheck(Masked(), rng.standard_normal((2, 3, 4)))


def test_norm_first_is_the_pre_norm_residual_chain(rng):
    """y = h + FF(norm2(h)) with h = x + SA(norm1(x)), written out with the sub-layers."""
    layer = small_layer(norm_first=True, batch_first=True).double()
    x = rng.standard_normal((2, 3, 4))
    attn, n1, n2 = layer.self_attn.share(), layer.norm1.share(), layer.norm2.share()
    l1, l2 = layer.linear1.share(), layer.linear2.share()
    h = x + attn(n1(x))
    np.testing.assert_allclose(layer(x), h + l2(np.maximum(l1(n2(h)), 0)), rtol=1e-12)


def test_encoder_layers_are_independent_copies(rng):
    proto = small_layer()
    encoder = TransformerEncoder(proto, 3)
    first, second = encoder.layers[0], encoder.layers[1]
    assert first is not proto and first is not second
    np.testing.assert_array_equal(first.linear1.weight.data, second.linear1.weight.data)   # as in PyTorch
    assert first.linear1.weight is not second.linear1.weight
    assert len(list(encoder.parameters())) == 3 * len(list(proto.parameters()))


# --------------------------------------------------------------- against torch
def _randomise(torch, theirs, rng):
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.5))


def _compare_with_torch(torch, ours, theirs, x, masks, rng):
    _randomise(torch, theirs, rng)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    load_torch_state(ours, theirs)
    ours.train(), theirs.train()
    y = ours(x, **masks)
    g = rng.standard_normal(y.shape)
    dx = ours.backward(g)
    (xt,) = torch_inputs(torch, x)
    yt = theirs(xt, **{name: torch.from_numpy(m) if isinstance(m, np.ndarray) else m for name, m in masks.items()})
    (yt * torch.from_numpy(g)).sum().backward()
    assert_close(y, yt, "output")
    assert_close(dx, xt.grad, "input gradient")
    assert_parameter_grads_match(ours, theirs)


def _ours_like(torch, layer):
    """An mtorch TransformerEncoderLayer with the configuration of torch's ``layer``."""
    activation = {"relu": "relu", "gelu": "gelu"}[getattr(layer.activation, "__name__", "relu")]
    return TransformerEncoderLayer(layer.linear1.in_features, layer.self_attn.num_heads, layer.linear1.out_features,
                                   dropout=layer.dropout.p, activation=activation, layer_norm_eps=layer.norm1.eps,
                                   batch_first=layer.self_attn.batch_first, norm_first=layer.norm_first,
                                   bias=layer.linear1.bias is not None)


@pytest.mark.parametrize("name", ["TransformerEncoderLayer", "TransformerEncoder"])
def test_matches_torch_on_its_module_db_samples(name, rng):
    torch = pytest.importorskip("torch")
    samples = module_db_samples(torch, getattr(torch.nn, name))
    assert len(samples) >= 30
    for sample in samples:
        args, kwargs = sample.constructor_input.args, sample.constructor_input.kwargs
        if name == "TransformerEncoder":
            theirs = torch.nn.TransformerEncoder(*args, **{"enable_nested_tensor": False, **kwargs}).double()
            ours = TransformerEncoder(_ours_like(torch, args[0]), *args[1:], **kwargs).double()
        else:
            theirs = torch.nn.TransformerEncoderLayer(*args, **kwargs).double()
            ours = _ours_like(torch, theirs).double()
        masks = {k: None if m is None else m.numpy() for k, m in sample.forward_input.kwargs.items()}
        _compare_with_torch(torch, ours, theirs, sample.forward_input.args[0].detach().numpy(), masks, rng)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_layer_matches_torch(norm_first, activation, batch_first, rng):
    torch = pytest.importorskip("torch")
    kwargs = dict(dim_feedforward=12, dropout=0.0, activation=activation, batch_first=batch_first,
                  norm_first=norm_first)
    x = rng.standard_normal((3, 5, 8) if batch_first else (5, 3, 8))
    padded = np.zeros((3, 5), bool)
    padded[1, -2:] = True
    masks = {"src_mask": np.triu(np.ones((5, 5), bool), 1), "src_key_padding_mask": padded}
    _compare_with_torch(torch, TransformerEncoderLayer(8, 2, **kwargs).double(),
                        torch.nn.TransformerEncoderLayer(8, 2, **kwargs).double(), x, masks, rng)


@pytest.mark.parametrize("norm_first, final_norm", [(False, False), (True, True)])
def test_encoder_matches_torch(norm_first, final_norm, rng):
    torch = pytest.importorskip("torch")
    kwargs = dict(dim_feedforward=16, dropout=0.0, activation="gelu", batch_first=True, norm_first=norm_first)
    ours = TransformerEncoder(TransformerEncoderLayer(8, 4, **kwargs), 3, norm=LayerNorm(8) if final_norm else None)
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 4, **kwargs), 3,
                                         norm=torch.nn.LayerNorm(8) if final_norm else None, enable_nested_tensor=False)
    x = rng.standard_normal((2, 6, 8))
    _compare_with_torch(torch, ours.double(), theirs.double(), x,
                        {"mask": np.triu(np.full((6, 6), -np.inf), 1), "is_causal": True}, rng)


# ---------------------------------------------------------------------- errors
def test_errors_name_the_class(rng):
    layer = small_layer()
    with pytest.raises(ShapeError, match=r"TransformerEncoderLayer.*expected src of shape \(\.\.\., 4\), got"):
        layer(np.zeros((3, 2, 5)))
    with pytest.raises(BackwardBeforeForwardError, match="TransformerEncoderLayer"):
        small_layer().backward(np.zeros((3, 2, 4)))
    with pytest.raises(BackwardBeforeForwardError, match="TransformerEncoder"):
        TransformerEncoder(small_layer(), 2).backward(np.zeros((3, 2, 4)))
    with pytest.raises(ValueError, match="TransformerEncoderLayer: activation must be 'relu', 'gelu' or a Layer"):
        small_layer(activation="swish")
    with pytest.raises(ValueError, match="TransformerEncoderLayer: d_model must be divisible by nhead"):
        small_layer(nhead=3)
    with pytest.raises(ValueError, match="TransformerEncoderLayer: dropout"):
        small_layer(dropout=2.0)
    with pytest.raises(ValueError, match="TransformerEncoder: num_layers must be an int >= 1"):
        TransformerEncoder(small_layer(), 0)
    with pytest.raises(TypeError, match="TransformerEncoder: encoder_layer must be a Layer"):
        TransformerEncoder("layer", 2)


def test_float32_model_keeps_float32(rng):
    layer = small_layer(activation=GELU(approximate="tanh"))
    y = layer(rng.standard_normal((3, 2, 4)))             # float64 data into a float32 model
    assert y.dtype == np.float32 and layer.backward(np.ones_like(y)).dtype == np.float32
