"""MultiheadAttention: the math by hand, finite differences, masks, dropout, parity with torch."""
import math
import re
from pathlib import Path

import numpy as np
import pytest

import mtorch
from mtorch.errors import BackwardBeforeForwardError, ShapeError
from mtorch.layers import Linear, MultiheadAttention, Sequential
from mtorch.layers.attention import causal_mask
from torch_parity import assert_close, assert_parameter_grads_match, load_torch_state, module_db_samples, torch_inputs


def softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def naive_attention(layer, q_in, k_in, v_in, mask=None):
    """One batch element, head by head, written as the docstring's math: ``(L, E)`` inputs."""
    e, h, d = layer.embed_dim, layer.num_heads, layer.head_dim
    w = layer.in_proj_weight.data
    b = layer.in_proj_bias.data
    q, k, v = q_in @ w[:e].T + b[:e], k_in @ w[e:2 * e].T + b[e:2 * e], v_in @ w[2 * e:].T + b[2 * e:]
    heads, weights = [], []
    for i in range(h):
        cols = slice(i * d, (i + 1) * d)
        s = q[:, cols] @ k[:, cols].T / math.sqrt(d) + (0 if mask is None else mask)
        p = softmax(s)
        heads.append(p @ v[:, cols])
        weights.append(p)
    return np.concatenate(heads, axis=1) @ layer.out_proj.weight.data.T + layer.out_proj.bias.data, weights


def test_forward_is_the_per_head_math(rng):
    layer = MultiheadAttention(6, 3).double()
    layer.in_proj_bias.data[:] = rng.standard_normal(18)
    layer.out_proj.bias.data[:] = rng.standard_normal(6)
    q, kv = rng.standard_normal((4, 2, 6)), rng.standard_normal((5, 2, 6))
    y = layer(q, kv, kv)
    for n in range(2):
        expected, weights = naive_attention(layer, q[:, n], kv[:, n], kv[:, n])
        np.testing.assert_allclose(y[:, n], expected, rtol=1e-12)
        np.testing.assert_allclose(layer.attn_weights_per_head[n], np.stack(weights), rtol=1e-12)
    np.testing.assert_allclose(layer.attn_weights, layer.attn_weights_per_head.mean(axis=1))
    np.testing.assert_allclose(layer.attn_weights.sum(axis=-1), 1)


def test_is_causal_masks_the_future(rng):
    layer = MultiheadAttention(4, 2, batch_first=True).double()
    x = rng.standard_normal((2, 5, 4))
    y = layer(x, is_causal=True)
    weights = layer.attn_weights_per_head
    assert not np.triu(weights[0, 0], k=1).any()
    np.testing.assert_allclose(y, layer(x, attn_mask=causal_mask(5)))
    np.testing.assert_allclose(y[:, :3], layer(x[:, :3], is_causal=True), rtol=1e-12)   # no peeking ahead
    expected, _ = naive_attention(layer, x[1], x[1], x[1], mask=causal_mask(5, dtype=np.float64))
    np.testing.assert_allclose(y[1], expected, rtol=1e-12)


# -------------------------------------------------------------------- backward
def test_self_attention_returns_one_gradient_and_chains_in_sequential(rng):
    layer = MultiheadAttention(4, 2)
    x = rng.standard_normal((3, 2, 4)).astype(np.float32)
    for y in (layer(x), layer(x, x, x)):
        dx = layer.backward(np.ones_like(y))
        assert isinstance(dx, np.ndarray) and dx.shape == x.shape
        layer.zero_grad()
    net = Sequential([MultiheadAttention(4, 2, batch_first=True), Linear(4, 3)])
    assert mtorch.gradcheck(net, rng.standard_normal((2, 3, 4)))


def test_value_defaults_to_the_key(rng):
    layer = MultiheadAttention(4, 2)
    q, memory = rng.standard_normal((2, 1, 4)), rng.standard_normal((3, 1, 4))
    np.testing.assert_array_equal(layer(q, memory), layer(q, memory, memory))
    assert len(layer.backward(np.ones((2, 1, 4)))) == 3


def test_cross_attention_returns_a_gradient_per_input(rng):
    layer = MultiheadAttention(4, 2, kdim=3, vdim=5)
    q, k, v = rng.standard_normal((2, 1, 4)), rng.standard_normal((3, 1, 3)), rng.standard_normal((3, 1, 5))
    grads = layer.backward(np.ones_like(layer(q, k, v)))
    assert isinstance(grads, tuple) and [g.shape for g in grads] == [q.shape, k.shape, v.shape]


@pytest.mark.parametrize("kwargs, cross, masks", [
    ({}, False, {}),
    ({"batch_first": True}, False, {"is_causal": True}),
    ({}, True, {}),
    ({"kdim": 3, "vdim": 5}, True, {"key_padding_mask": np.array([[False, True, False, False], [False] * 4])}),
    ({"add_bias_kv": True, "add_zero_attn": True}, True, {"attn_mask": np.triu(np.ones((3, 4), bool), 1)}),
    ({"bias": False, "batch_first": True}, True, {"attn_mask": np.linspace(-1, 1, 12).reshape(3, 4)}),
])
def test_gradcheck(kwargs, cross, masks, rng):
    layer = MultiheadAttention(4, 2, **kwargs)
    bf = kwargs.get("batch_first", False)
    shape = (lambda t, f: (2, t, f)) if bf else (lambda t, f: (t, 2, f))
    q = rng.standard_normal(shape(3, 4))
    inputs = (q, rng.standard_normal(shape(4, kwargs.get("kdim", 4))),
              rng.standard_normal(shape(4, kwargs.get("vdim", 4)))) if cross else q

    class WithMasks(mtorch.Layer):          # masks are keyword options, not differentiated
        def __init__(self):
            super().__init__()
            self.attn = layer

        def forward(self, *xs):
            return self.attn(*xs, **masks)

        def backward(self, g):
            return self.attn.backward(g)
    assert mtorch.gradcheck(WithMasks(), inputs)


def test_gradcheck_with_dropout_on_the_weights(rng):
    assert mtorch.gradcheck(MultiheadAttention(4, 2, dropout=0.3, batch_first=True), rng.standard_normal((2, 3, 4)))


def test_dropout_is_seeded_and_off_in_eval_mode(rng):
    layer = MultiheadAttention(8, 2, dropout=0.5)
    x = rng.standard_normal((6, 3, 8)).astype(np.float32)
    mtorch.manual_seed(3)
    a = layer(x)
    mtorch.manual_seed(3)
    np.testing.assert_array_equal(layer(x), a)
    assert not np.allclose(layer(x), a)
    layer.eval()
    np.testing.assert_array_equal(layer(x), layer(x))
    layer.dropout = 0.0
    np.testing.assert_allclose(layer.train()(x), layer.eval()(x))


# --------------------------------------------------------------- against torch
def _compare_with_torch(torch, ours, theirs, q, k, v, masks, rng, self_attention=False):
    """Outputs, weights and every gradient in float64, with torch's state dict loaded."""
    with torch.no_grad():
        for p in theirs.parameters():                   # biases too (torch starts them at zero)
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * 0.5))
    load_torch_state(ours, theirs)
    y = ours(q, **masks) if self_attention else ours(q, k, v, **masks)
    g = rng.standard_normal(y.shape)
    grads = ours.backward(g)
    tq, tk, tv = torch_inputs(torch, q, k, v)
    if self_attention:
        tk = tv = tq
    tmasks = {name: np.asarray(m) for name, m in masks.items() if name != "is_causal"}
    if masks.get("is_causal") and "attn_mask" not in tmasks:
        tmasks["attn_mask"] = causal_mask(q.shape[-2 if ours.batch_first else 0], dtype=np.float64)
    if any(m.dtype != bool for m in tmasks.values()):            # torch wants both masks of one kind
        tmasks = {name: np.where(m, -np.inf, 0.0) if m.dtype == bool else m for name, m in tmasks.items()}
    tmasks = {name: torch.tensor(m) for name, m in tmasks.items()}
    yt, _ = theirs(tq, tk, tv, need_weights=False, **tmasks)      # the SDPA path: masked rows give 0, not NaN
    (yt * torch.from_numpy(g)).sum().backward()
    assert_close(y, yt, "output")
    if self_attention:
        assert_close(grads, tq.grad, "input gradient (query = key = value)")
    else:
        for name, ours_grad, tensor in zip(("query", "key", "value"), grads, (tq, tk, tv)):
            assert_close(ours_grad, tensor.grad, f"{name} gradient")
    assert_parameter_grads_match(ours, theirs)
    _, wt = theirs(tq, tk, tv, **tmasks)                          # need_weights=True: averaged weights
    finite = np.isfinite(wt.detach().numpy())
    np.testing.assert_allclose(ours.attn_weights[finite], wt.detach().numpy()[finite], rtol=1e-6, atol=1e-12)


def test_matches_torch_on_its_module_db_samples(rng):
    torch = pytest.importorskip("torch")
    samples = module_db_samples(torch, torch.nn.MultiheadAttention)
    assert len(samples) >= 40
    for sample in samples:
        kwargs = sample.constructor_input.kwargs
        q, k, v = (a.detach().numpy() for a in sample.forward_input.args)
        masks = {name: m.numpy() for name, m in sample.forward_input.kwargs.items() if m is not None}
        ours = MultiheadAttention(*sample.constructor_input.args, **kwargs).double()
        theirs = torch.nn.MultiheadAttention(*sample.constructor_input.args, **kwargs).double()
        _compare_with_torch(torch, ours, theirs, q, k, v, masks, rng)


E, H, L, S, N = 8, 2, 5, 4, 3


def _shape(batch_first, length, features):
    return (N, length, features) if batch_first else (length, N, features)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("case", ["self", "self causal", "self padded", "cross", "cross masked", "kdim vdim",
                                  "bias kv zero attn", "no bias", "3-d float mask", "masked row"])
def test_matches_torch(case, batch_first, rng):
    torch = pytest.importorskip("torch")
    kwargs = {"batch_first": batch_first}
    kwargs.update({"kdim vdim": {"kdim": 3, "vdim": 6}, "no bias": {"bias": False},
                   "bias kv zero attn": {"add_bias_kv": True, "add_zero_attn": True}}.get(case, {}))
    self_attention = case.startswith("self")
    length = L if self_attention else S
    q = rng.standard_normal(_shape(batch_first, L, E))
    k = rng.standard_normal(_shape(batch_first, length, kwargs.get("kdim", E)))
    v = rng.standard_normal(_shape(batch_first, length, kwargs.get("vdim", E)))
    padded = np.zeros((N, length), bool)
    padded[0, -2:] = True
    everything_masked_in_row_0 = np.eye(N, S, dtype=bool)
    everything_masked_in_row_0[0] = True
    masks = {"self causal": {"is_causal": True},
             "self padded": {"key_padding_mask": padded, "is_causal": True},
             "cross masked": {"key_padding_mask": padded, "attn_mask": rng.random((L, S)) < 0.3},
             "bias kv zero attn": {"key_padding_mask": padded, "attn_mask": rng.standard_normal((N * H, L, S))},
             "3-d float mask": {"attn_mask": np.where(rng.random((N * H, L, S)) < 0.3, -np.inf, 0.0)},
             "masked row": {"key_padding_mask": everything_masked_in_row_0},
             }.get(case, {})
    ours = MultiheadAttention(E, H, **kwargs).double()
    theirs = torch.nn.MultiheadAttention(E, H, **kwargs).double()
    _compare_with_torch(torch, ours, theirs, q, k, v, masks, rng, self_attention=self_attention)


def test_a_query_whose_every_key_is_masked_gets_zero_weights(rng):
    layer = MultiheadAttention(4, 2, batch_first=True).double()
    layer.out_proj.bias.data[:] = [1.0, 2.0, 3.0, 4.0]
    x = rng.standard_normal((2, 3, 4))
    y = layer(x, key_padding_mask=np.array([[True] * 3, [False] * 3]))
    np.testing.assert_allclose(y[0], np.tile(layer.out_proj.bias.data, (3, 1)))
    assert not layer.attn_weights[0].any() and np.isfinite(layer.backward(np.ones_like(y))).all()


def test_state_dict_keys_and_init_follow_torch():
    torch = pytest.importorskip("torch")
    for kwargs in ({}, {"kdim": 3, "vdim": 5}, {"bias": False, "add_bias_kv": True}):
        ours, theirs = MultiheadAttention(8, 2, **kwargs), torch.nn.MultiheadAttention(8, 2, **kwargs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert {k: v.shape for k, v in ours.state_dict().items()} == \
               {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    layer = MultiheadAttention(64, 4)
    bound = math.sqrt(6 / (64 + 3 * 64))                  # Xavier-uniform on the (3E, E) in-projection
    assert 0.9 * bound < np.abs(layer.in_proj_weight.data).max() <= bound
    assert not layer.in_proj_bias.data.any() and not layer.out_proj.bias.data.any()


# ---------------------------------------------------------------------- errors
def test_bad_inputs_and_masks_name_the_class(rng):
    layer = MultiheadAttention(4, 2)
    x = rng.standard_normal((3, 2, 4))
    with pytest.raises(ShapeError, match=r"MultiheadAttention.*expected query of shape \(L, N, 4\), got \(3, 2, 5\)"):
        layer(np.zeros((3, 2, 5)))
    with pytest.raises(ShapeError, match="key and value must have the same length"):
        layer(x, np.zeros((3, 2, 4)), np.zeros((2, 2, 4)))
    with pytest.raises(ShapeError, match="query and key must have the same batch size"):
        layer(x, np.zeros((3, 1, 4)), np.zeros((3, 1, 4)))
    with pytest.raises(ShapeError, match=r"attn_mask must have shape \(L, S\) = \(3, 3\) or "
                                         r"\(N \* num_heads, L, S\) = \(4, 3, 3\), got \(3, 4\)"):
        layer(x, attn_mask=np.zeros((3, 4), bool))
    with pytest.raises(ShapeError, match=r"key_padding_mask must have shape \(N, S\) = \(2, 3\), got \(3, 2\)"):
        layer(x, key_padding_mask=np.zeros((3, 2), bool))
    with pytest.raises(TypeError, match="key_padding_mask must hold bools .* got dtype int64"):
        layer(x, key_padding_mask=np.zeros((2, 3), np.int64))
    with pytest.raises(TypeError, match="is_causal must be True or False"):
        layer(x, is_causal="yes")
    with pytest.raises(BackwardBeforeForwardError):
        MultiheadAttention(4, 2).backward(np.zeros((3, 2, 4)))
    with pytest.raises(ShapeError, match="grad_out"):
        layer(x)
        layer.backward(np.zeros((2, 3, 4)))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(embed_dim=6, num_heads=4), ValueError,
     "MultiheadAttention: embed_dim must be divisible by num_heads, got embed_dim=6 and num_heads=4"),
    (dict(embed_dim=0, num_heads=1), ValueError, "MultiheadAttention: embed_dim must be an int >= 1"),
    (dict(embed_dim=4, num_heads=2.0), TypeError, "num_heads must be an int"),
    (dict(embed_dim=4, num_heads=2, dropout=1.5), ValueError, r"dropout must be a number in \[0, 1\]"),
    (dict(embed_dim=4, num_heads=2, kdim=0), ValueError, "kdim"),
    (dict(embed_dim=4, num_heads=2, batch_first=None), TypeError, "batch_first must be True or False"),
])
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        MultiheadAttention(**kwargs)


def test_weights_are_none_before_forward_and_unbatched_input_works(rng):
    layer = MultiheadAttention(4, 2)
    assert layer.attn_weights is None and layer.attn_weights_per_head is None
    x = rng.standard_normal((3, 4)).astype(np.float32)
    y = layer(x)
    assert y.shape == (3, 4) and layer.attn_weights.shape == (3, 3) and layer.attn_weights_per_head.shape == (2, 3, 3)
    assert layer.backward(np.ones_like(y)).shape == (3, 4)


def test_the_readme_example_runs_as_written():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    code = re.search(r"### Attention and Transformers\n\n```python\n(.*?)```", readme, re.S).group(1)
    namespace = {}
    exec(code, namespace)
    assert namespace["dx"].shape == (8, 32, 64) and namespace["attn"].attn_weights.shape == (8, 32, 32)
