"""RNNCell, LSTMCell, GRUCell: one time step, called in the user's own loop.

Hand-computed steps, finite differences, the stack of per-call caches, a
student's backpropagation-through-time loop against the full layers (and
against torch), and the errors.
"""
import math

import numpy as np
import pytest

import mtorch
from mtorch import Layer, layers
from mtorch.errors import BackwardBeforeForwardError, ShapeError
from mtorch.testing import assert_layer_ok

CELLS = {"rnn": layers.RNNCell, "lstm": layers.LSTMCell, "gru": layers.GRUCell}
LAYERS = {"rnn": layers.RNN, "lstm": layers.LSTM, "gru": layers.GRU}


def fill(cell, values):
    """Set every parameter of a 1-input, 1-unit cell from a dict of per-gate numbers."""
    for name, p in cell.named_parameters():
        p.data[...] = np.array(values[name], dtype=p.dtype).reshape(p.shape)
    return cell


def sig(a):
    return 1 / (1 + math.exp(-a))


# ------------------------------------------------------------- hand-computed steps
def test_rnn_cell_by_hand():
    cell = fill(layers.RNNCell(1, 1).double(), {"weight_ih": 0.5, "weight_hh": -0.3, "bias_ih": 0.1, "bias_hh": 0.2})
    h = cell(np.array([[2.0]]), np.array([[0.4]]))
    a = 0.5 * 2.0 + 0.1 + (-0.3) * 0.4 + 0.2
    assert h[0, 0] == pytest.approx(math.tanh(a), abs=1e-15)
    dx, dh = cell.backward(np.array([[1.0]]))
    da = 1 - math.tanh(a) ** 2
    assert (dx[0, 0], dh[0, 0]) == pytest.approx((da * 0.5, da * -0.3), abs=1e-15)
    assert (cell.weight_ih.grad[0, 0], cell.weight_hh.grad[0, 0], cell.bias_ih.grad[0]) == \
        pytest.approx((da * 2.0, da * 0.4, da), abs=1e-15)


def test_lstm_cell_by_hand():
    w = {"weight_ih": [0.5, -0.4, 0.3, 0.2], "weight_hh": [0.1, 0.2, -0.5, 0.6],
         "bias_ih": [0.0, 0.1, -0.1, 0.2], "bias_hh": [0.05, 0.0, 0.1, -0.2]}
    cell = fill(layers.LSTMCell(1, 1).double(), w)
    x, h0, c0 = 1.5, -0.2, 0.7
    h, c = cell(np.array([[x]]), (np.array([[h0]]), np.array([[c0]])))
    a = [w["weight_ih"][k] * x + w["bias_ih"][k] + w["weight_hh"][k] * h0 + w["bias_hh"][k] for k in range(4)]
    i, f, g, o = sig(a[0]), sig(a[1]), math.tanh(a[2]), sig(a[3])
    c_new = f * c0 + i * g
    assert c[0, 0] == pytest.approx(c_new, abs=1e-15)
    assert h[0, 0] == pytest.approx(o * math.tanh(c_new), abs=1e-15)
    # L = h' only: dc' = 0
    dx, (dh, dc) = cell.backward(np.array([[1.0]]))
    dc_total = o * (1 - math.tanh(c_new) ** 2)
    da = [dc_total * g * i * (1 - i), dc_total * c0 * f * (1 - f), dc_total * i * (1 - g * g),
          math.tanh(c_new) * o * (1 - o)]
    assert dx[0, 0] == pytest.approx(sum(d * wk for d, wk in zip(da, w["weight_ih"])), abs=1e-15)
    assert dh[0, 0] == pytest.approx(sum(d * wk for d, wk in zip(da, w["weight_hh"])), abs=1e-15)
    assert dc[0, 0] == pytest.approx(dc_total * f, abs=1e-15)
    np.testing.assert_allclose(cell.weight_hh.grad[:, 0], [d * h0 for d in da], atol=1e-15)


def test_gru_cell_by_hand():
    w = {"weight_ih": [0.5, -0.4, 0.3], "weight_hh": [0.1, 0.2, -0.5],
         "bias_ih": [0.0, 0.1, -0.1], "bias_hh": [0.05, 0.0, 0.1]}
    cell = fill(layers.GRUCell(1, 1).double(), w)
    x, h0 = 1.5, -0.2
    h = cell(np.array([[x]]), np.array([[h0]]))
    gi = [w["weight_ih"][k] * x + w["bias_ih"][k] for k in range(3)]
    gh = [w["weight_hh"][k] * h0 + w["bias_hh"][k] for k in range(3)]
    r, z = sig(gi[0] + gh[0]), sig(gi[1] + gh[1])
    n = math.tanh(gi[2] + r * gh[2])
    assert h[0, 0] == pytest.approx((1 - z) * n + z * h0, abs=1e-15)
    dx, dh = cell.backward(np.array([[1.0]]))
    dn = (1 - z) * (1 - n * n)
    dr = dn * gh[2] * r * (1 - r)
    dz = (h0 - n) * z * (1 - z)
    assert dx[0, 0] == pytest.approx(dr * 0.5 + dz * -0.4 + dn * 0.3, abs=1e-15)
    assert dh[0, 0] == pytest.approx(dr * 0.1 + dz * 0.2 + dn * r * -0.5 + z, abs=1e-15)
    np.testing.assert_allclose(cell.bias_hh.grad, [dr, dz, dn * r], atol=1e-15)


# ------------------------------------------------------------------- gradients
@pytest.mark.parametrize("kind", ["rnn", "gru"])
@pytest.mark.parametrize("batched", [True, False])
def test_gradcheck_with_and_without_state(kind, batched, rng):
    cell = CELLS[kind](3, 4)
    x = rng.standard_normal((5, 3) if batched else (3,))
    assert mtorch.gradcheck(cell, x)
    assert mtorch.gradcheck(cell, (x, rng.standard_normal((5, 4) if batched else (4,))))


class _LSTMCellOneOutput(Layer):
    """``LSTMCell`` as a layer with one output array ``[h'; c']``, so that ``gradcheck`` and
    ``check_layer`` can check it: the input is x (zero state), or ``[h; c]`` for a fixed x."""

    def __init__(self, cell, x=None):
        super().__init__()
        self.cell, self.fixed = cell, (x,)       # a tuple: x is data, not a weight

    @property
    def x(self):
        return self.fixed[0]

    def forward(self, inp):
        if self.x is None:
            return np.concatenate(self.cell(inp), axis=-1)
        h, c = np.split(inp, 2, axis=-1)
        return np.concatenate(self.cell(self.x, (h, c)), axis=-1)

    def backward(self, grad_out):
        grads = self.cell.backward(tuple(np.split(grad_out, 2, axis=-1)))
        return grads if self.x is None else np.concatenate(grads[1], axis=-1)


@pytest.mark.parametrize("batched", [True, False])
def test_lstm_cell_gradcheck(batched, rng):
    x = rng.standard_normal((5, 3) if batched else (3,))
    assert mtorch.gradcheck(_LSTMCellOneOutput(layers.LSTMCell(3, 4)), x)
    assert mtorch.gradcheck(_LSTMCellOneOutput(layers.LSTMCell(3, 4), x), rng.standard_normal(x.shape[:-1] + (8,)))


def test_lstm_cell_passes_check_layer(rng):
    assert_layer_ok(_LSTMCellOneOutput(layers.LSTMCell(3, 4)), input_shape=(5, 3))
    x = rng.standard_normal((5, 3)).astype(np.float32)
    assert_layer_ok(_LSTMCellOneOutput(layers.LSTMCell(3, 4), x), input_shape=(5, 8))


def test_lstm_cell_takes_dh_alone_as_zero_dc(rng):
    cell = layers.LSTMCell(2, 3).double()
    x, h, c = rng.standard_normal((4, 2)), rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    dh = rng.standard_normal((4, 3))
    cell(x, (h, c))
    alone = cell.backward(dh)
    grads = [p.grad.copy() for p in cell.parameters()]
    cell.zero_grad()
    cell(x, (h, c))
    both = cell.backward((dh, np.zeros_like(dh)))
    np.testing.assert_array_equal(alone[0], both[0])
    np.testing.assert_array_equal(alone[1][1], both[1][1])
    for a, p in zip(grads, cell.parameters()):
        np.testing.assert_array_equal(a, p.grad)


# ----------------------------------------------------- the stack of per-call caches
def test_backward_pops_the_last_call_first(rng):
    cell = layers.RNNCell(2, 3).double()
    xs = rng.standard_normal((2, 4, 2))
    h1 = cell(xs[0], np.zeros((4, 3)))
    cell(xs[1], h1)
    g = rng.standard_normal((4, 3))
    dx_last, _ = cell.backward(g)                  # the second call's gradient
    cell.zero_grad()
    single = layers.RNNCell(2, 3).double()
    single.load_state_dict(cell.state_dict())
    single(xs[1], h1)
    np.testing.assert_allclose(dx_last, single.backward(g)[0])
    dx_first, _ = cell.backward(g)                 # then the first call's
    single(xs[0], np.zeros((4, 3)))
    np.testing.assert_allclose(dx_first, single.backward(g)[0])
    with pytest.raises(BackwardBeforeForwardError, match="no call left"):
        cell.backward(g)


def test_eval_mode_keeps_no_cache(rng):
    cell = layers.GRUCell(2, 3).eval()
    h = np.zeros((1, 3), np.float32)
    for _ in range(100):
        h = cell(rng.standard_normal((1, 2)), h)
    with pytest.raises(BackwardBeforeForwardError, match="eval mode"):
        cell.backward(np.ones((1, 3)))
    cell.train()
    cell(rng.standard_normal((1, 2)), h)
    assert cell.backward(np.ones((1, 3)))[0].shape == (1, 2)


def test_a_cell_called_in_a_loop_inside_a_module_is_allowed(rng):
    class Unrolled(mtorch.Module):
        def __init__(self):
            super().__init__()
            self.cell, self.head = layers.GRUCell(2, 3), layers.Linear(3, 1)

        def forward(self, x):
            h = np.zeros((x.shape[1], 3), x.dtype)
            for x_t in x:
                h = self.cell(x_t, h)
            return self.head(h)

        def backward(self, grad_out):
            dh, dxs = self.head.backward(grad_out), []
            for _ in range(self.steps):
                dx, dh = self.cell.backward(dh)
                dxs.append(dx)
            return np.stack(dxs[::-1])

    model = Unrolled().double()
    model.steps = 4
    assert mtorch.gradcheck(model, rng.standard_normal((4, 3, 2)))


# -------------------------------------------- a student's BPTT loop against the layer
def student_bptt(cell, x, state0, dy):
    """Run the cell over x, then backpropagate dy (dL/dh of every step) through time."""
    states, outputs = state0, []
    for x_t in x:
        states = cell(x_t, states)
        outputs.append(states[0] if isinstance(states, tuple) else states)
    d = tuple(np.zeros_like(s) for s in state0) if isinstance(state0, tuple) else np.zeros_like(state0)
    dxs = []
    for dy_t in dy[::-1]:
        if isinstance(d, tuple):
            dx_t, d = cell.backward((d[0] + dy_t, d[1]))
        else:
            dx_t, d = cell.backward(d + dy_t)
        dxs.append(dx_t)
    return np.stack(outputs), np.stack(dxs[::-1]), d


@pytest.mark.parametrize("kind", list(CELLS))
def test_student_loop_matches_the_layer(kind, rng):
    cell, layer = CELLS[kind](3, 4).double(), LAYERS[kind](3, 4).double()
    for name, p in cell.named_parameters():
        getattr(layer, name + "_l0").data[...] = p.data
    x, dy = rng.standard_normal((6, 5, 3)), rng.standard_normal((6, 5, 4))
    state0 = tuple(rng.standard_normal((5, 4)) for _ in range(2)) if kind == "lstm" else rng.standard_normal((5, 4))
    y, dx, dstate0 = student_bptt(cell, x, state0, dy)
    hx = tuple(s[None] for s in state0) if kind == "lstm" else state0[None]
    np.testing.assert_allclose(y, layer(x, hx), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, layer.backward(dy), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dstate0[0] if kind == "lstm" else dstate0, layer.grad_h0[0], rtol=1e-10, atol=1e-12)
    if kind == "lstm":
        np.testing.assert_allclose(dstate0[1], layer.grad_c0[0], rtol=1e-10, atol=1e-12)
    for name, p in cell.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(layer, name + "_l0").grad, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("kind", list(CELLS))
def test_student_loop_matches_torch(kind, rng):
    torch = pytest.importorskip("torch")
    cell = CELLS[kind](3, 4).double()
    theirs = getattr(torch.nn, type(cell).__name__)(3, 4).double()
    cell.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x, dy = rng.standard_normal((6, 5, 3)), rng.standard_normal((6, 5, 4))
    state0 = tuple(rng.standard_normal((5, 4)) for _ in range(2)) if kind == "lstm" else rng.standard_normal((5, 4))
    y, dx, dstate0 = student_bptt(cell, x, state0, dy)

    xt = torch.tensor(x, requires_grad=True)
    st = [torch.tensor(s, requires_grad=True) for s in (state0 if kind == "lstm" else (state0,))]
    states, outs = tuple(st) if kind == "lstm" else st[0], []
    for t in range(len(x)):
        states = theirs(xt[t], states)
        outs.append(states[0] if kind == "lstm" else states)
    yt = torch.stack(outs)
    (yt * torch.from_numpy(dy)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for ours, s in zip(dstate0 if kind == "lstm" else (dstate0,), st):
        np.testing.assert_allclose(ours, s.grad.numpy(), rtol=1e-10, atol=1e-12)
    torch_params = dict(theirs.named_parameters())
    for name, p in cell.named_parameters():
        np.testing.assert_allclose(p.grad, torch_params[name].grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


# ------------------------------------------------------------ interface and errors
@pytest.mark.parametrize("kind, gates", [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_parameters_shapes_init_and_repr(kind, gates):
    cell = CELLS[kind](7, 16)
    assert {n: p.shape for n, p in cell.named_parameters()} == {
        "weight_ih": (gates * 16, 7), "weight_hh": (gates * 16, 16), "bias_ih": (gates * 16,), "bias_hh": (gates * 16,)}
    values = np.concatenate([p.data.ravel() for p in cell.parameters()])
    assert values.dtype == np.float32 and np.all(np.abs(values) <= 0.25) and values.max() > 0.2
    assert [n for n, _ in CELLS[kind](2, 3, bias=False).named_parameters()] == ["weight_ih", "weight_hh"]
    assert repr(CELLS[kind](2, 3, bias=False)) == f"{type(cell).__name__}(2, 3, bias=False)"


def test_outputs_and_gradients_follow_the_input_layout(rng):
    cell = layers.LSTMCell(2, 3)
    h, c = cell(rng.standard_normal(2))                         # unbatched, zero state
    assert h.shape == c.shape == (3,) and h.dtype == np.float32
    assert cell.backward((np.ones(3), np.ones(3))).shape == (2,)
    h = layers.RNNCell(2, 3)(np.ones((4, 2), dtype=np.int64))   # integers become float32
    assert h.shape == (4, 3) and h.dtype == np.float32


def test_errors(rng):
    cell = layers.LSTMCell(2, 3)
    with pytest.raises(ShapeError, match=r"LSTMCell\(2, 3\).*\(N, 2\)"):
        cell(np.zeros((4, 5)))
    with pytest.raises(ShapeError, match="LSTMCell"):
        cell(np.zeros((1, 4, 2)))
    with pytest.raises(ValueError, match=r"hx must be a tuple \(h, c\)"):
        cell(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ShapeError, match=r"hx\[1\]"):
        cell(np.zeros((4, 2)), (np.zeros((4, 3)), np.zeros((4, 2))))
    with pytest.raises(BackwardBeforeForwardError):
        cell.backward(np.zeros((4, 3)))
    cell(np.zeros((4, 2)))
    with pytest.raises(ShapeError, match="grad_out"):
        cell.backward((np.zeros((4, 3)), np.zeros((3, 3))))
    assert cell.backward(np.zeros((4, 3))).shape == (4, 2)       # the cache survived the bad call
    with pytest.raises(ValueError, match="hx must be an array"):
        layers.GRUCell(2, 3)(np.zeros((4, 2)), (np.zeros((4, 3)), np.zeros((4, 3))))
    with pytest.raises(ValueError, match="RNNCell: nonlinearity must be one of 'tanh', 'relu'"):
        layers.RNNCell(2, 3, nonlinearity="sigmoid")
    with pytest.raises(TypeError, match="GRUCell: hidden_size must be an int"):
        layers.GRUCell(2, 3.0)
    with pytest.raises(TypeError, match="LSTMCell.__init__"):
        layers.LSTMCell(2, 3, device="cpu")
