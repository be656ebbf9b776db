"""RNN, LSTM, GRU: finite differences, a naive per-step BPTT reference, and parity with torch."""
import math

import numpy as np
import pytest

import mtorch
from mtorch.errors import BackwardBeforeForwardError, ShapeError
from mtorch.gradcheck import _numeric_gradient
from mtorch.layers import GRU, LSTM, RNN, Linear
from mtorch.testing import assert_layer_ok

CELLS = {"rnn": (RNN, {}), "rnn_relu": (RNN, {"nonlinearity": "relu"}), "lstm": (LSTM, {}), "gru": (GRU, {})}


def make(cell, input_size=2, hidden_size=3, **kwargs):
    cls, extra = CELLS[cell]
    return cls(input_size, hidden_size, **extra, **kwargs)


def batch_size(layer, x):
    return x.shape[0] if layer.batch_first else x.shape[1]


def numeric_grad(f, a):
    """Central differences of the scalar f() with respect to every entry of a."""
    return _numeric_gradient(f, a, 1e-6, range(a.size))


# ------------------------------------------------------------------ gradcheck
@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("steps, batch, num_layers, batch_first, bias", [
    (1, 1, 1, False, True),
    (4, 3, 1, False, True),
    (6, 2, 2, False, True),
    (3, 4, 2, True, True),
    (5, 2, 1, True, False),
])
def test_gradcheck(cell, steps, batch, num_layers, batch_first, bias, rng):
    layer = make(cell, num_layers=num_layers, batch_first=batch_first, bias=bias)
    shape = (batch, steps, 2) if batch_first else (steps, batch, 2)
    assert mtorch.gradcheck(layer, rng.standard_normal(shape))


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("batch_first", [False, True])
def test_initial_state_and_final_state_gradients(cell, batch_first, rng):
    """dL/dh0 (and dL/dc0) by finite differences, with a loss that also uses h_n (and c_n)."""
    layer = make(cell, num_layers=2, batch_first=batch_first).double()
    x = rng.standard_normal((3, 5, 2))
    n = batch_size(layer, x)
    states = [rng.standard_normal((2, n, 3)) for _ in layer.STATES]
    g_out = rng.standard_normal((3, 5, 3))
    g_final = [rng.standard_normal((2, n, 3)) for _ in layer.STATES]

    def loss():
        y = layer(x, tuple(states) if len(states) == 2 else states[0])
        finals = [layer.h_n] + ([layer.c_n] if len(states) == 2 else [])
        return np.sum(y * g_out) + sum(np.sum(f * g) for f, g in zip(finals, g_final))

    loss()
    dx = layer.backward(g_out, *g_final)
    analytic = [dx, layer.grad_h0] + ([layer.grad_c0] if len(states) == 2 else [])
    numeric = [numeric_grad(loss, x)] + [numeric_grad(loss, s) for s in states]
    for a, b in zip(analytic, numeric):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)


# ---------------------------------------------- naive per-step BPTT reference
def sig(a):
    return 1 / (1 + np.exp(-a))


def reference_step(cell, p, x, state):
    """One step written out plainly; returns the new state and a cache for this step alone."""
    w_ih, w_hh, b_ih, b_hh = p
    h = state[0]
    if cell == "rnn":
        h_new = np.tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
        return [h_new], (x, h, h_new)
    if cell == "lstm":
        i, f, g, o = np.split(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=1)
        i, f, g, o = sig(i), sig(f), np.tanh(g), sig(o)
        c = f * state[1] + i * g
        return [o * np.tanh(c), c], (x, h, state[1], i, f, g, o, c)
    xr, xz, xn = np.split(x @ w_ih.T + b_ih, 3, axis=1)
    hr, hz, hn = np.split(h @ w_hh.T + b_hh, 3, axis=1)
    r, z = sig(xr + hr), sig(xz + hz)
    n = np.tanh(xn + r * hn)
    return [(1 - z) * n + z * h], (x, h, r, z, n, hn)


def reference_step_backward(cell, p, cache, dstate, grads):
    """Backward of one step: adds this step's parameter gradients to ``grads``; returns d(previous state)."""
    w_ih, w_hh = p[0], p[1]
    dh = dstate[0]
    if cell == "rnn":
        x, h, h_new = cache
        da_ih = da_hh = dh * (1 - h_new ** 2)
        dh_prev, extra = da_hh @ w_hh, []
    elif cell == "lstm":
        x, h, c_prev, i, f, g, o, c = cache
        dc = dstate[1] + dh * o * (1 - np.tanh(c) ** 2)
        da_ih = da_hh = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                                        dc * i * (1 - g ** 2), dh * np.tanh(c) * o * (1 - o)], axis=1)
        dh_prev, extra = da_hh @ w_hh, [dc * f]
    else:
        x, h, r, z, n, hn = cache
        dn = dh * (1 - z) * (1 - n ** 2)
        dr = dn * hn * r * (1 - r)
        dz = dh * (h - n) * z * (1 - z)
        da_ih = np.concatenate([dr, dz, dn], axis=1)
        da_hh = np.concatenate([dr, dz, dn * r], axis=1)
        dh_prev, extra = dh * z + da_hh @ w_hh, []
    grads[0] += da_ih.T @ x
    grads[1] += da_hh.T @ h
    grads[2] += da_ih.sum(axis=0)
    grads[3] += da_hh.sum(axis=0)
    return [dh_prev] + extra, da_ih @ w_ih


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_parameter_gradients_are_sums_over_steps_of_a_per_step_reference(cell, rng):
    layer = make(cell, input_size=3, hidden_size=4).double()
    steps, n = 7, 5
    x = rng.standard_normal((steps, n, 3))
    state = [rng.standard_normal((n, 4)) for _ in layer.STATES]
    g_out = rng.standard_normal((steps, n, 4))
    initial = [s[None] for s in state]          # (num_layers=1, N, H)
    y = layer(x, tuple(initial) if cell == "lstm" else initial[0])
    dx = layer.backward(g_out)

    p = [q.data for q in layer.parameters()]
    caches, outputs = [], []
    for t in range(steps):                       # a separate cache for every step
        state, cache = reference_step(cell, p, x[t], state)
        caches.append(cache)
        outputs.append(state[0])
    np.testing.assert_allclose(y, np.stack(outputs), rtol=1e-12, atol=1e-12)

    grads = [np.zeros_like(a) for a in p]
    dstate = [np.zeros((n, 4)) for _ in layer.STATES]
    dx_ref = np.zeros_like(x)
    for t in reversed(range(steps)):
        dstate[0] = dstate[0] + g_out[t]
        dstate, dx_ref[t] = reference_step_backward(cell, p, caches[t], dstate, grads)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-10, atol=1e-12)
    for (name, q), expected in zip(layer.named_parameters(), grads):
        np.testing.assert_allclose(q.grad, expected, rtol=1e-10, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(layer.grad_h0[0], dstate[0], rtol=1e-10, atol=1e-12)
    if cell == "lstm":
        np.testing.assert_allclose(layer.grad_c0[0], dstate[1], rtol=1e-10, atol=1e-12)


# --------------------------------------------------------- parity with torch
@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("num_layers, batch_first, bias", [(1, False, True), (2, True, True), (2, False, False)])
def test_matches_torch(cell, num_layers, batch_first, bias, rng):
    torch = pytest.importorskip("torch")
    cls, extra = CELLS[cell]
    ours = cls(3, 5, num_layers=num_layers, batch_first=batch_first, bias=bias, **extra).double()
    theirs = getattr(torch.nn, cls.__name__)(3, 5, num_layers=num_layers, batch_first=batch_first,
                                             bias=bias, **extra).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})

    x = rng.standard_normal((4, 6, 3))
    n = batch_size(ours, x)
    states = [rng.standard_normal((num_layers, n, 5)) for _ in ours.STATES]
    g_out = rng.standard_normal((4, 6, 5))
    g_final = [rng.standard_normal((num_layers, n, 5)) for _ in ours.STATES]

    y = ours(x, tuple(states) if cell == "lstm" else states[0])
    dx = ours.backward(g_out, *g_final)

    xt = torch.tensor(x, requires_grad=True)
    st = [torch.tensor(s, requires_grad=True) for s in states]
    yt, finals = theirs(xt, tuple(st) if cell == "lstm" else st[0])
    finals = finals if cell == "lstm" else (finals,)
    loss = (yt * torch.from_numpy(g_out)).sum()
    loss = loss + sum((f * torch.from_numpy(g)).sum() for f, g in zip(finals, g_final))
    loss.backward()

    close = dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(y, yt.detach().numpy(), **close)
    np.testing.assert_allclose(ours.h_n, finals[0].detach().numpy(), **close)
    np.testing.assert_allclose(dx, xt.grad.numpy(), **close)
    np.testing.assert_allclose(ours.grad_h0, st[0].grad.numpy(), **close)
    if cell == "lstm":
        np.testing.assert_allclose(ours.c_n, finals[1].detach().numpy(), **close)
        np.testing.assert_allclose(ours.grad_c0, st[1].grad.numpy(), **close)
    torch_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, torch_params[name].grad.numpy(), err_msg=name, **close)


# ------------------------------------------------------ interface and errors
@pytest.mark.parametrize("cell", list(CELLS))
def test_check_layer_battery(cell):
    assert_layer_ok(make(cell, num_layers=2))
    assert_layer_ok(make(cell, batch_first=True, bias=False))


@pytest.mark.parametrize("cell, gates", [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_parameter_names_shapes_and_init(cell, gates):
    layer = make(cell, input_size=7, hidden_size=16, num_layers=2)
    shapes = {name: p.shape for name, p in layer.named_parameters()}
    assert shapes == {
        "weight_ih_l0": (gates * 16, 7), "weight_hh_l0": (gates * 16, 16),
        "bias_ih_l0": (gates * 16,), "bias_hh_l0": (gates * 16,),
        "weight_ih_l1": (gates * 16, 16), "weight_hh_l1": (gates * 16, 16),
        "bias_ih_l1": (gates * 16,), "bias_hh_l1": (gates * 16,)}
    values = np.concatenate([p.data.ravel() for p in layer.parameters()])
    assert values.dtype == np.float32
    bound = 1 / math.sqrt(16)
    assert np.all(np.abs(values) <= bound) and values.min() < -0.9 * bound and values.max() > 0.9 * bound
    assert [n for n, _ in make(cell, bias=False).named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_shapes_final_states_and_float32(cell, rng):
    layer = make(cell, input_size=2, hidden_size=6, num_layers=3, batch_first=True)
    y = layer(rng.standard_normal((5, 9, 2)))
    assert y.shape == (5, 9, 6) and y.dtype == np.float32
    assert layer.h_n.shape == (3, 5, 6)
    np.testing.assert_array_equal(layer.h_n[-1], y[:, -1])
    dx = layer.backward(np.ones_like(y))
    assert dx.shape == (5, 9, 2) and dx.dtype == np.float32
    assert layer.grad_h0.shape == (3, 5, 6)
    assert all(p.grad.dtype == np.float32 for p in layer.parameters())
    if cell == "lstm":
        assert layer.c_n.shape == layer.grad_c0.shape == (3, 5, 6)


def test_lstm_h0_alone_means_zero_cell_state(rng):
    layer = LSTM(2, 3)
    x, h0 = rng.standard_normal((4, 2, 2)), rng.standard_normal((1, 2, 3))
    np.testing.assert_array_equal(layer(x, h0), layer(x, (h0, np.zeros_like(h0))))


def test_chains_with_linear_in_sequential(rng):
    model = mtorch.Sequential([LSTM(1, 8), Linear(8, 1)])
    x = rng.standard_normal((10, 4, 1))
    assert model(x).shape == (10, 4, 1)
    assert model.backward(np.ones((10, 4, 1))).shape == (10, 4, 1)
    assert mtorch.gradcheck(mtorch.Sequential([GRU(1, 3), Linear(3, 1)]), x[:4, :2])
    assert [n for n, _ in model.named_parameters()][:2] == ["0.weight_ih_l0", "0.weight_hh_l0"]


def test_errors(rng):
    layer = GRU(2, 3)
    with pytest.raises(BackwardBeforeForwardError):
        layer.backward(np.zeros((4, 2, 3)))
    with pytest.raises(ShapeError, match=r"GRU\(2, 3\).*\(T, N, 2\).*\(4, 2, 5\)"):
        layer(np.zeros((4, 2, 5)))
    with pytest.raises(ShapeError, match="h0"):
        layer(np.zeros((4, 2, 2)), np.zeros((1, 3, 3)))
    with pytest.raises(ValueError, match="h0 must be an array"):
        layer(np.zeros((4, 2, 2)), (np.zeros((1, 2, 3)), np.zeros((1, 2, 3))))
    with pytest.raises(ShapeError, match="at least one step"):
        layer(np.zeros((0, 2, 2)))
    y = layer(np.zeros((4, 2, 2)))
    with pytest.raises(ShapeError, match="grad_out"):
        layer.backward(np.zeros((4, 3, 3)))
    with pytest.raises(ShapeError, match="grad_h_n"):
        layer.backward(np.zeros_like(y), np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match="no cell state"):
        layer.backward(np.zeros_like(y), grad_c_n=np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="nonlinearity"):
        RNN(2, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size"):
        LSTM(2, 0)


def test_repr():
    assert repr(RNN(1, 32)) == "RNN(1, 32)"
    assert repr(RNN(1, 32, nonlinearity="relu", num_layers=2)) == "RNN(1, 32, num_layers=2, nonlinearity='relu')"
    assert repr(LSTM(3, 4, bias=False, batch_first=True)) == "LSTM(3, 4, bias=False, batch_first=True)"


# ------------------------------------------- bidirectional, projection, dropout, unbatched
@pytest.mark.parametrize("cell", list(CELLS))
def test_gradcheck_bidirectional_dropout_unbatched(cell, rng):
    two_way = make(cell, num_layers=2, bidirectional=True, dropout=0.3)
    assert mtorch.gradcheck(two_way, rng.standard_normal((4, 3, 2)))       # masks replayed per forward
    assert mtorch.gradcheck(make(cell, bidirectional=True, batch_first=True), rng.standard_normal((3, 4, 2)))
    assert mtorch.gradcheck(make(cell, num_layers=2), rng.standard_normal((5, 2)))    # (T, features)


def test_gradcheck_lstm_projection(rng):
    assert mtorch.gradcheck(LSTM(2, 4, num_layers=2, proj_size=3, bidirectional=True), rng.standard_normal((4, 3, 2)))
    layer = LSTM(2, 4, proj_size=3).double()
    x, h0, c0 = rng.standard_normal((4, 3, 2)), rng.standard_normal((1, 3, 3)), rng.standard_normal((1, 3, 4))
    g_out, g_h, g_c = rng.standard_normal((4, 3, 3)), rng.standard_normal((1, 3, 3)), rng.standard_normal((1, 3, 4))

    def loss():
        y = layer(x, (h0, c0))
        return np.sum(y * g_out) + np.sum(layer.h_n * g_h) + np.sum(layer.c_n * g_c)

    loss()
    dx = layer.backward(g_out, g_h, g_c)
    for analytic, a in [(dx, x), (layer.grad_h0, h0), (layer.grad_c0, c0)]:
        np.testing.assert_allclose(analytic, numeric_grad(loss, a), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_reverse_direction_is_the_layer_run_backwards_in_time(cell, rng):
    both = make(cell, bidirectional=True).double()
    forward_only, backward_only = make(cell).double(), make(cell).double()
    for name, p in forward_only.named_parameters():
        p.data[...] = getattr(both, name).data
        getattr(backward_only, name).data[...] = getattr(both, name + "_reverse").data
    x = rng.standard_normal((5, 2, 2))
    y = both(x)
    np.testing.assert_allclose(y[..., :3], forward_only(x), rtol=1e-12)
    np.testing.assert_allclose(y[..., 3:], backward_only(x[::-1])[::-1], rtol=1e-12)
    np.testing.assert_allclose(both.h_n, np.concatenate([forward_only.h_n, backward_only.h_n]), rtol=1e-12)


def test_dropout_acts_between_layers_in_training_only(rng):
    layer = GRU(2, 3, num_layers=2, dropout=1.0).double()
    x = rng.standard_normal((4, 2, 2))
    top = GRU(3, 3).double()
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(top, name + "_l0").data[...] = getattr(layer, name + "_l1").data
    np.testing.assert_allclose(layer(x), top(np.zeros((4, 2, 3))), rtol=1e-12)   # layer 1 sees zeros
    assert not np.any(layer.backward(np.ones((4, 2, 3))))
    layer.eval()
    assert np.all(layer(x) == layer(x)) and not np.allclose(layer(x), top(np.zeros((4, 2, 3))))
    half = LSTM(2, 3, num_layers=3, dropout=0.5)
    assert not np.array_equal(half(x), half(x))               # new masks on every call in training


def test_unbatched_input_and_states(rng):
    layer = LSTM(2, 4, num_layers=2, bidirectional=True, proj_size=3)
    x = rng.standard_normal((5, 2))
    h0, c0 = rng.standard_normal((4, 3)), rng.standard_normal((4, 4))
    y = layer(x, (h0, c0))
    assert y.shape == (5, 6) and layer.h_n.shape == (4, 3) and layer.c_n.shape == (4, 4)
    assert layer.backward(np.ones((5, 6))).shape == (5, 2)
    assert layer.grad_h0.shape == (4, 3) and layer.grad_c0.shape == (4, 4)
    batched = layer(x[:, None], (h0[:, None], c0[:, None]))
    np.testing.assert_allclose(y, batched[:, 0], rtol=1e-6)
    with pytest.raises(ShapeError, match=r"h0 of shape \(4, 3\)"):
        layer(x, (h0[:, None], c0))


# --------------------------------------------------------------- by hand
def sig1(a):
    return 1 / (1 + math.exp(-a))


def test_rnn_by_hand():
    layer = RNN(1, 1).double()
    for name, value in [("weight_ih_l0", 0.5), ("weight_hh_l0", -0.3), ("bias_ih_l0", 0.1), ("bias_hh_l0", 0.2)]:
        getattr(layer, name).data[...] = value
    y = layer(np.array([[[1.0]], [[2.0]]]))                       # T = 2, N = 1, h_0 = 0
    h1 = math.tanh(0.5 * 1.0 + 0.3)
    h2 = math.tanh(0.5 * 2.0 + 0.3 - 0.3 * h1)
    np.testing.assert_allclose(y.ravel(), [h1, h2], atol=1e-15)
    dx = layer.backward(np.array([[[0.0]], [[1.0]]]))              # L = h_2
    da2 = 1 - h2 ** 2
    da1 = da2 * -0.3 * (1 - h1 ** 2)
    np.testing.assert_allclose(dx.ravel(), [0.5 * da1, 0.5 * da2], atol=1e-15)
    assert layer.weight_hh_l0.grad[0, 0] == pytest.approx(da2 * h1, abs=1e-15)
    assert layer.weight_ih_l0.grad[0, 0] == pytest.approx(da1 * 1.0 + da2 * 2.0, abs=1e-15)
    assert layer.bias_hh_l0.grad[0] == pytest.approx(da1 + da2, abs=1e-15)
    assert layer.grad_h0[0, 0, 0] == pytest.approx(da1 * -0.3, abs=1e-15)


def _gate_values(weights, x, h):
    return [weights["weight_ih_l0"][k] * x + weights["bias_ih_l0"][k] + weights["weight_hh_l0"][k] * h
            + weights["bias_hh_l0"][k] for k in range(len(weights["weight_ih_l0"]))]


def _set(layer, weights):
    for name, values in weights.items():
        getattr(layer, name).data[...] = np.array(values).reshape(getattr(layer, name).shape)
    return layer


def test_lstm_by_hand():
    w = {"weight_ih_l0": [0.5, -0.4, 0.3, 0.2], "weight_hh_l0": [0.1, 0.2, -0.5, 0.6],
         "bias_ih_l0": [0.0, 0.1, -0.1, 0.2], "bias_hh_l0": [0.05, 0.0, 0.1, -0.2]}
    layer = _set(LSTM(1, 1).double(), w)
    xs, h, c, expected = [1.5, -1.0], 0.0, 0.0, []
    for x in xs:
        a = _gate_values(w, x, h)
        i, f, g, o = sig1(a[0]), sig1(a[1]), math.tanh(a[2]), sig1(a[3])
        c = f * c + i * g
        h = o * math.tanh(c)
        expected.append(h)
    y = layer(np.array(xs).reshape(2, 1, 1))
    np.testing.assert_allclose(y.ravel(), expected, atol=1e-15)
    assert layer.c_n[0, 0, 0] == pytest.approx(c, abs=1e-15)
    dx = layer.backward(np.array([[[1.0]], [[0.0]]]))               # L = h_1: the second step adds nothing
    a = _gate_values(w, xs[0], 0.0)
    i, f, g, o = sig1(a[0]), sig1(a[1]), math.tanh(a[2]), sig1(a[3])
    c1 = i * g
    dc = o * (1 - math.tanh(c1) ** 2)
    da = [dc * g * i * (1 - i), 0.0, dc * i * (1 - g * g), math.tanh(c1) * o * (1 - o)]   # c_0 = 0: da_f = 0
    assert dx[0, 0, 0] == pytest.approx(sum(d * wk for d, wk in zip(da, w["weight_ih_l0"])), abs=1e-15)
    assert dx[1, 0, 0] == 0
    np.testing.assert_allclose(layer.bias_ih_l0.grad, da, atol=1e-15)
    assert layer.grad_c0[0, 0, 0] == pytest.approx(dc * f, abs=1e-15)


def test_gru_by_hand():
    w = {"weight_ih_l0": [0.5, -0.4, 0.3], "weight_hh_l0": [0.1, 0.2, -0.5],
         "bias_ih_l0": [0.0, 0.1, -0.1], "bias_hh_l0": [0.05, 0.0, 0.1]}
    layer = _set(GRU(1, 1).double(), w)
    xs, h, expected = [1.5, -1.0], 0.3, []
    for x in xs:
        gi = [w["weight_ih_l0"][k] * x + w["bias_ih_l0"][k] for k in range(3)]
        gh = [w["weight_hh_l0"][k] * h + w["bias_hh_l0"][k] for k in range(3)]
        r, z = sig1(gi[0] + gh[0]), sig1(gi[1] + gh[1])
        n = math.tanh(gi[2] + r * gh[2])
        h = (1 - z) * n + z * h
        expected.append(h)
    y = layer(np.array(xs).reshape(2, 1, 1), np.array([[[0.3]]]))
    np.testing.assert_allclose(y.ravel(), expected, atol=1e-15)
    layer.zero_grad()
    layer(np.array([[[1.5]]]), np.array([[[0.3]]]))                  # one step: L = h_1
    dx = layer.backward(np.array([[[1.0]]]))
    gi = [w["weight_ih_l0"][k] * 1.5 + w["bias_ih_l0"][k] for k in range(3)]
    gh = [w["weight_hh_l0"][k] * 0.3 + w["bias_hh_l0"][k] for k in range(3)]
    r, z = sig1(gi[0] + gh[0]), sig1(gi[1] + gh[1])
    n = math.tanh(gi[2] + r * gh[2])
    dn, dz = (1 - z) * (1 - n * n), (0.3 - n) * z * (1 - z)
    dr = dn * gh[2] * r * (1 - r)
    np.testing.assert_allclose(layer.bias_ih_l0.grad, [dr, dz, dn], atol=1e-15)
    np.testing.assert_allclose(layer.bias_hh_l0.grad, [dr, dz, dn * r], atol=1e-15)
    assert dx[0, 0, 0] == pytest.approx(0.5 * dr - 0.4 * dz + 0.3 * dn, abs=1e-15)
    assert layer.grad_h0[0, 0, 0] == pytest.approx(0.1 * dr + 0.2 * dz - 0.5 * dn * r + z, abs=1e-15)


# ------------------------------------------------------------ arguments
def test_arguments_are_checked_with_the_public_class_named():
    with pytest.raises(TypeError, match="LSTM: hidden_size must be an int"):
        LSTM(2, 3.5)
    with pytest.raises(ValueError, match="GRU: dropout must be a number in"):
        GRU(2, 3, dropout=1.5)
    with pytest.raises(TypeError, match="RNN: bidirectional must be True or False"):
        RNN(2, 3, bidirectional=1)
    with pytest.raises(ValueError, match=r"LSTM: proj_size must be an int in \[0, 2\]"):
        LSTM(2, 3, proj_size=3)
    with pytest.raises(TypeError, match=r"GRU.__init__\(\) got an unexpected keyword argument 'proj_size'"):
        GRU(2, 3, proj_size=2)
    with pytest.raises(TypeError, match=r"RNN.__init__\(\) got an unexpected keyword argument 'device'"):
        RNN(2, 3, device="cpu")
    with pytest.warns(UserWarning, match="dropout acts between stacked layers"):
        LSTM(2, 3, dropout=0.2)
    with pytest.raises(ShapeError, match=r"LSTM\(2, 3\): expected a 3-d input"):
        LSTM(2, 3)(np.zeros(5))


def test_repr_of_the_new_arguments():
    assert repr(LSTM(3, 8, num_layers=2, dropout=0.1, bidirectional=True, proj_size=4)) == \
        "LSTM(3, 8, num_layers=2, dropout=0.1, bidirectional=True, proj_size=4)"


def test_bidirectional_and_projection_parameter_names():
    names = [n for n, _ in LSTM(2, 4, num_layers=2, bidirectional=True, proj_size=3).named_parameters()]
    assert names[:10] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0",
                          "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse",
                          "bias_hh_l0_reverse", "weight_hr_l0_reverse"]
    layer = LSTM(2, 4, num_layers=2, bidirectional=True, proj_size=3)
    assert layer.weight_ih_l1.shape == (16, 6) and layer.weight_hh_l1.shape == (16, 3)
    assert layer.weight_hr_l1_reverse.shape == (3, 4)
