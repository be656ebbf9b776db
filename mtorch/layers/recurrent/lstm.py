"""LSTM and LSTMCell: long short-term memory, with PyTorch's gate order i, f, g, o."""
import numpy as np

from ...functional import sigmoid
from ...kernels.recurrence import stacked_inputs, stacked_weights, summed_over_steps
from .base import RNNBase, RNNCellBase, add_weight_grads, backward_product, summed_bias


class LSTM(RNNBase):
    """Multi-layer long short-term memory, as ``torch.nn.LSTM``.

    Forward, for each layer and t = 1..T, with column vectors (``x_t`` is
    ``(I, N)``, one sample per column; ``a_i .. a_o`` are the four blocks of H
    rows of ``a_t``, in PyTorch's order)::

        a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh                 (4H, N)
        i_t = sigmoid(a_i)   f_t = sigmoid(a_f)   g_t = tanh(a_g)   o_t = sigmoid(a_o)
        c_t = f_t * c_{t-1} + i_t * g_t                               (cell state)
        h_t = o_t * tanh(c_t)                                         (hidden state, the output)

    with ``sigmoid(a) = (1 + tanh(a / 2)) / 2`` (the same function, and no exp
    that can overflow), so one tanh activates all four gates. Each step is
    one product, ``a_t = W z_t`` with ``W = [W_ih | b_ih + b_hh | W_hh]`` and
    ``z_t = [x_t; 1; h_{t-1}]`` (``mtorch.kernels.recurrence.stacked_inputs``).
    With ``proj_size = P > 0`` the hidden state is projected, ``h_t = W_hr (o_t * tanh(c_t))`` ``(P, N)``.

    Backward through time, for t = T..1, from ``dh_T = dL/dy_T + dL/dh_n``,
    ``dc^next = dL/dc_n`` (zero by default)::

        dc_t = dc^next + dh_t * o_t (1 - tanh(c_t)^2)
        da_i = dc_t * g_t i_t (1 - i_t)          da_f = dc_t * c_{t-1} f_t (1 - f_t)
        da_g = dc_t * i_t (1 - g_t^2)            da_o = dh_t * tanh(c_t) o_t (1 - o_t)
        dc^next  = dc_t * f_t
        dh_{t-1} = dL/dy_{t-1} + W_hh^T da_t      dx_t = W_ih^T da_t

    ``dL/dh_0``, ``dL/dc_0`` are the last ``W_hh^T da_1`` and ``dc^next``. The factors
    after ``dc_t *`` and ``dh_t *`` do not depend on the recurrence: they are computed for
    all steps at once before the loop. After the loop, one sum over the steps::

        [dW_ih | db | dW_hh] = sum_t da_t z_t^T          (db = dL/db_ih = dL/db_hh)

    (with a projection, ``dh_t`` first goes through ``W_hr^T`` and ``dW_hr = sum_t dh_t m_t^T``,
    ``m_t = o_t * tanh(c_t)``).

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional: as for ``RNN``.
        proj_size: if > 0, project the hidden state to this size (``weight_hr_l{k}``); default 0.

    Shape:
        input ``(T, N, input_size)``, output ``(T, N, D*P)``, P = proj_size or hidden_size
        (batch_first: N and T swapped; unbatched: ``(T, input_size)`` -> ``(T, D*P)``);
        ``hx = (h0, c0)`` (or ``h0`` alone for ``c0 = 0``), ``h_n``, ``grad_h0``: ``(D*num_layers, N, P)``;
        ``c0``, ``c_n``, ``grad_c0``: ``(D*num_layers, N, hidden_size)``.

    Parameters: ``weight_ih_l{k}`` ``(4H, input_size or D*P)``, ``weight_hh_l{k}`` ``(4H, P)``,
    ``bias_ih_l{k}``, ``bias_hh_l{k}`` ``(4H,)``, ``weight_hr_l{k}`` ``(P, H)`` with a projection
    (and ``..._reverse``), all ~ U(-1/sqrt(H), 1/sqrt(H)).

    Cached per layer and direction: ``z_0 .. z_T``, the gates ``i, f, g, o`` ``(T, 4, H, N)``,
    ``c_0 .. c_T`` and ``tanh(c_t)``.

    Example:
        >>> lstm = LSTM(1, 32)
        >>> y = lstm(np.zeros((50, 8, 1)))        # (50, 8, 32); lstm.h_n, lstm.c_n: (1, 8, 32)
        >>> dx = lstm.backward(np.ones_like(y))   # (50, 8, 1)
    """

    GATES = 4
    STATES = ("h", "c")

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size)

    def _forward_direction(self, x, states0, w, workspace):
        steps, n_in, batch = x.shape
        H, dtype = self.hidden_size, x.dtype
        z = stacked_inputs(workspace, x, states0[0])           # z[t] = [x_t; 1; h_{t-1}]
        W = stacked_weights(w.ih.data, summed_bias(w), w.hh.data) * _half_rows(H, dtype)
        gates = workspace.get("gates", (steps, 4, H, batch), dtype)
        c = workspace.get("c", (steps + 1, H, batch), dtype)
        tanh_c = workspace.get("tanh_c", (steps, H, batch), dtype)
        m = workspace.get("m", (steps, H, batch), dtype) if w.hr is not None else z[1:, n_in + 1:]
        scale, shift = _gate_affine(gates.shape[1:], dtype)
        c[0] = states0[1]
        for z_t, a, c_prev, c_t, tanh_c_t, m_t, h_t in zip(z, gates, c, c[1:], tanh_c, m, z[1:, n_in + 1:]):
            a_t = np.dot(W, z_t, out=a.reshape(4 * H, batch))    # a_t = W z_t
            np.tanh(a_t, out=a_t)
            a *= scale                                           # i, f, o = (1 + tanh(a/2)) / 2, g = tanh(a)
            a += shift
            i, f, g, o = a
            np.multiply(f, c_prev, out=c_t)                      # c_t = f c_{t-1} + i g
            c_t += i * g
            np.multiply(o, np.tanh(c_t, out=tanh_c_t), out=m_t)  # h_t = o tanh(c_t)
            if w.hr is not None:
                np.dot(w.hr.data, m_t, out=h_t)                   # h_t = W_hr (o tanh(c_t))
        h = z[1:, n_in + 1:]
        return h, [h[-1], c[-1]], (z, gates, c, tanh_c, m, workspace)

    def _backward_direction(self, dy, dfinals, cache, w, need_dx):
        z, gates, c, tanh_c, m, workspace = cache
        steps, _, H, batch = gates.shape
        n_in, dtype = z.shape[1] - 1 - dy.shape[1], gates.dtype
        i, f, g, o = gates.transpose(1, 0, 2, 3)                 # each (T, H, N)
        factor = workspace.get("factor", gates.shape, dtype)    # da = [dc, dc, dc, dh] * factor
        np.subtract(1, gates, out=factor)                       # s (1 - s) for i, f, o
        factor *= gates
        factor[:, 0] *= g
        factor[:, 1] *= c[:-1]
        factor[:, 3] *= tanh_c
        np.multiply(g, g, out=factor[:, 2])                      # i (1 - g^2)
        np.subtract(1, factor[:, 2], out=factor[:, 2])
        factor[:, 2] *= i
        dc_dh = workspace.get("dc_dh", tanh_c.shape, dtype)     # o (1 - tanh(c)^2)
        np.multiply(tanh_c, tanh_c, out=dc_dh)
        np.subtract(1, dc_dh, out=dc_dh)
        dc_dh *= o
        dh = workspace.get("dh", dy.shape, dtype)                # dL/dh_t from the output and from step t+1
        np.copyto(dh, dy)
        dh[-1] += dfinals[0]
        dm = workspace.get("dm", tanh_c.shape, dtype) if w.hr is not None else dh
        da = workspace.get("da", gates.shape, dtype)
        dc = dfinals[1].copy()
        WT, dz = backward_product(w, need_dx, workspace, steps, batch)
        for t in reversed(range(steps)):
            if w.hr is not None:
                np.dot(w.hr.data.T, dh[t], out=dm[t])            # through h_t = W_hr m_t
            dc += dm[t] * dc_dh[t]
            np.multiply(dc, factor[t, :3], out=da[t, :3])
            np.multiply(dm[t], factor[t, 3], out=da[t, 3])
            dc *= f[t]
            back = np.dot(WT, da[t].reshape(4 * H, batch), out=dz[t])   # [dx_t; db; W_hh^T da_t]
            if t:
                dh[t - 1] += back[n_in + 1:] if need_dx else back
        add_weight_grads(w, summed_over_steps(da.reshape(steps, 4 * H, batch), z[:-1], workspace), n_in)
        if w.hr is not None:
            w.hr.add_grad(summed_over_steps(dh, m, workspace))
        return (dz[:, :n_in] if need_dx else None), [dz[0, n_in + 1:] if need_dx else dz[0], dc]


class LSTMCell(RNNCellBase):
    """One step of an LSTM, as ``torch.nn.LSTMCell``; call it in your own loop over time.

    Forward (rows: ``x`` ``(N, I)``, ``h``, ``c`` ``(N, H)``; ``[a_i | a_f | a_g | a_o]`` the four
    blocks of H columns)::

        a = x W_ih^T + b_ih + h W_hh^T + b_hh
        i, f, g, o = sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)
        c' = f * c + i * g
        h' = o * tanh(c')

    Backward, from ``dh' = dL/dh'`` and ``dc' = dL/dc'`` (the cell state's gradient
    from the next step)::

        dc_total = dc' + dh' * o (1 - tanh(c')^2)
        da = [dc_total g i (1-i) | dc_total c f (1-f) | dc_total i (1-g^2) | dh' tanh(c') o (1-o)]
        dW_ih += da^T x    dW_hh += da^T h    db_ih += sum_n da    db_hh += sum_n da
        dx = da W_ih       dh = da W_hh       dc = dc_total * f

    Returns ``(h', c')``; ``backward`` takes ``(dh', dc')`` (or ``dh'`` alone, dc' = 0) and
    returns ``(dx, (dh, dc))`` when called as ``cell(x, (h, c))``, ``dx`` when called as
    ``cell(x)``. Reentrant: one cache per call, backward once per call, last call first
    (see ``RNNCellBase``).

    Args:
        input_size, hidden_size: sizes of ``x`` and ``h``.
        bias: learn ``b_ih`` and ``b_hh`` (default True).

    Shape: input ``(N, I)`` or ``(I,)``; ``h``, ``c`` and outputs ``(N, H)`` or ``(H,)``.

    Parameters: ``weight_ih`` ``(4H, I)``, ``weight_hh`` ``(4H, H)``, ``bias_ih``, ``bias_hh`` ``(4H,)``,
    all ~ U(-1/sqrt(H), 1/sqrt(H)).

    Example:
        >>> cell = LSTMCell(1, 16)
        >>> h, c = np.zeros((8, 16)), np.zeros((8, 16))
        >>> for x_t in x:                                    # x (T, 8, 1)
        ...     h, c = cell(x_t, (h, c))
        >>> dh, dc = np.zeros((8, 16)), np.zeros((8, 16))
        >>> for dy_t in reversed(dy):                        # dL/dh of each step's output
        ...     dx_t, (dh, dc) = cell.backward((dy_t + dh, dc))
    """

    GATES = 4
    STATES = ("h", "c")

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__(input_size, hidden_size, bias)

    def _step(self, x, states):
        h, c = states
        a = x @ self.weight_ih.data.T + h @ self.weight_hh.data.T
        if self.bias:
            a += self.bias_ih.data + self.bias_hh.data
        a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
        i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
        c_new = f * c + i * g
        tanh_c = np.tanh(c_new)
        return [o * tanh_c, c_new], (x, h, c, i, f, g, o, tanh_c)

    def _step_backward(self, grads, cache):
        x, h, c, i, f, g, o, tanh_c = cache
        dh_new, dc_new = grads
        dc = dc_new + dh_new * o * (1 - tanh_c * tanh_c)
        da = np.concatenate([dc * g * i * (1 - i), dc * c * f * (1 - f),
                             dc * i * (1 - g * g), dh_new * tanh_c * o * (1 - o)], axis=1)
        self._add_grads(da, da, x, h)
        return da @ self.weight_ih.data, [da @ self.weight_hh.data, dc * f]


def _half_rows(H, dtype):
    """``(4H, 1)``: 1/2 on the rows of i, f, o (their tanh(a/2)), 1 on g's."""
    return np.repeat(np.array([0.5, 0.5, 1, 0.5], dtype), H)[:, None]


def _gate_affine(shape, dtype):
    """Scale and shift ``(4, H, N)`` that turn ``tanh(a/2)`` into ``sigmoid(a)`` for i, f, o and leave g.
    (Full arrays: broadcasting a ``(4, 1, 1)`` one made each step's two operations twice as slow.)"""
    scale = np.empty(shape, dtype)
    scale[...] = np.array([0.5, 0.5, 1, 0.5], dtype).reshape(4, 1, 1)
    return scale, 1 - scale
