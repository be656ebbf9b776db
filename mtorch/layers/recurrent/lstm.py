"""LSTM: long short-term memory, with PyTorch's gate order i, f, g, o."""
import numpy as np

from .base import RNNBase


class LSTM(RNNBase):
    """Multi-layer long short-term memory, as ``torch.nn.LSTM``.

    Forward, for each layer and t = 1..T (``[a_i | a_f | a_g | a_o]`` are the four
    blocks of H columns of ``a_t``, in PyTorch's order)::

        a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh        (N, 4H)
        i_t = sigmoid(a_i)   f_t = sigmoid(a_f)   g_t = tanh(a_g)   o_t = sigmoid(a_o)
        c_t = f_t * c_{t-1} + i_t * g_t                          (cell state)
        h_t = o_t * tanh(c_t)                                    (hidden state, the output)

    Backward through time, for t = T..1, starting from ``dh^next = dL/dh_n``,
    ``dc^next = dL/dc_n`` (zero by default)::

        dh_t = dL/dy_t + dh^next
        dc_t = dc^next + dh_t * o_t * (1 - tanh(c_t)^2)
        da_i = dc_t * g_t * i_t (1 - i_t)          da_f = dc_t * c_{t-1} * f_t (1 - f_t)
        da_g = dc_t * i_t * (1 - g_t^2)            da_o = dh_t * tanh(c_t) * o_t (1 - o_t)
        dc^next = dc_t * f_t                       dh^next = da_t W_hh

    ``dL/dh_0``, ``dL/dc_0`` are the last ``dh^next``, ``dc^next``. The factors
    that do not depend on the recurrence (``g_t i_t (1 - i_t)``, ...) are
    computed for all steps at once before the loop. After the loop (one matmul
    each, see base.py): ``dW_ih = sum_t da_t^T x_t``, ``dW_hh = sum_t da_t^T h_{t-1}``,
    ``db_ih = db_hh = sum_t da_t``, ``dx_t = da_t W_ih``.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first: as for ``RNN``.

    Shape:
        input ``(T, N, input_size)``, output ``(T, N, hidden_size)`` (batch_first: N and T swapped);
        ``h0``/``c0`` (pass ``(h0, c0)``, or just ``h0`` for ``c0 = 0``), ``h_n``, ``c_n``,
        ``grad_h0``, ``grad_c0``: ``(num_layers, N, hidden_size)``.

    Parameters: ``weight_ih_l{k}`` ``(4H, input_size or H)``, ``weight_hh_l{k}`` ``(4H, H)``,
    ``bias_ih_l{k}``, ``bias_hh_l{k}`` ``(4H,)``, all ~ U(-1/sqrt(H), 1/sqrt(H)).

    Cached per layer and step: the layer's input, the gates ``i, f, g, o`` ``(T, 4, N, H)``,
    ``c_0 .. c_T`` and ``h_0 .. h_T`` ``(T+1, N, H)``, ``tanh(c_t)`` ``(T, N, H)``.

    Example:
        >>> lstm = LSTM(1, 32)
        >>> y = lstm(np.zeros((50, 8, 1)))        # (50, 8, 32); lstm.h_n, lstm.c_n: (1, 8, 32)
        >>> dx = lstm.backward(np.ones_like(y))   # (50, 8, 1)
    """

    GATES = 4
    STATES = ("h", "c")

    def _recurrence(self, xw, states0, w_hh, b_hh):
        if b_hh is not None:
            xw += b_hh                       # both biases added once, for all steps
        steps, _, batch, H = xw.shape
        # sigmoid(a) = (1 + tanh(a / 2)) / 2, so with the i, f, o blocks halved in
        # advance ONE tanh per step activates all four gates: act = tanh(a') * scale + shift
        scale = np.array([0.5, 0.5, 1, 0.5], xw.dtype).reshape(4, 1, 1)
        shift = 1 - scale
        xw *= scale
        w_hh_t = w_hh.transpose(0, 2, 1) * scale     # w_hh_t[k] = scale_k * W_hk^T
        gates = np.empty_like(xw)            # activated i, f, g, o of every step, (T, 4, N, H)
        hs = np.empty((steps + 1, batch, H), xw.dtype)
        cs = np.empty_like(hs)
        tanh_c = np.empty((steps, batch, H), xw.dtype)
        hs[0], cs[0] = states0
        for t in range(steps):
            act = np.matmul(hs[t], w_hh_t, out=gates[t])      # (4, N, H)
            act += xw[t]
            np.tanh(act, out=act)
            act *= scale
            act += shift
            i, f, g, o = act
            np.multiply(f, cs[t], out=cs[t + 1])
            cs[t + 1] += i * g
            np.tanh(cs[t + 1], out=tanh_c[t])
            np.multiply(o, tanh_c[t], out=hs[t + 1])
        return hs, [hs[-1], cs[-1]], (gates, cs, tanh_c)

    def _recurrence_backward(self, dout, dfinals, hs, cache, w_hh):
        gates, cs, tanh_c = cache
        steps, _, batch, H = gates.shape
        i, f, g, o = (gates[:, k] for k in range(4))                # each (T, N, H)
        # da_gate = (dc or dh) * factor; the factors hold for all steps at once
        factor = np.empty((steps, batch, 4, H), gates.dtype)
        factor[:, :, 0] = g * i * (1 - i)
        factor[:, :, 1] = cs[:-1] * f * (1 - f)
        factor[:, :, 2] = i * (1 - g * g)
        factor[:, :, 3] = tanh_c * o * (1 - o)
        dc_dh = o * (1 - tanh_c * tanh_c)    # dc_t/dh_t through h_t = o_t tanh(c_t)
        da = np.empty((steps, batch, 4 * H), gates.dtype)          # PyTorch's column order
        da4 = da.reshape(steps, batch, 4, H)
        dh_next, dc_next = dfinals
        for t in reversed(range(steps)):
            dh = dout[t] + dh_next
            dc = dh * dc_dh[t]
            dc += dc_next
            np.multiply(dc[:, None, :], factor[t, :, :3], out=da4[t, :, :3])
            np.multiply(dh, factor[t, :, 3], out=da4[t, :, 3])
            dc_next = dc * f[t]
            dh_next = da[t] @ w_hh
        return da, da, [dh_next, dc_next]
