"""GRU: gated recurrent unit, with PyTorch's gate order r, z, n."""
import numpy as np

from .base import RNNBase


class GRU(RNNBase):
    """Multi-layer gated recurrent unit, as ``torch.nn.GRU``.

    Forward, for each layer and t = 1..T (blocks of H rows of the weights in
    the order r, z, n; ``W_ir`` is the r block of ``W_ih``, and so on)::

        r_t = sigmoid(x_t W_ir^T + b_ir + h_{t-1} W_hr^T + b_hr)      (reset gate)
        z_t = sigmoid(x_t W_iz^T + b_iz + h_{t-1} W_hz^T + b_hz)      (update gate)
        m_t = h_{t-1} W_hn^T + b_hn
        n_t = tanh(x_t W_in^T + b_in + r_t * m_t)                       (candidate)
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    Unlike RNN and LSTM, ``r_t`` multiplies the recurrent part of ``n``'s
    pre-activation, so its gradient differs between the input side
    (``da_ih``) and the recurrent side (``da_hh``) of that block.

    Backward through time, for t = T..1, starting from ``dh^next = dL/dh_n``::

        dh_t  = dL/dy_t + dh^next
        da_n  = dh_t * (1 - z_t) * (1 - n_t^2)        (n block of da_ih)
        dm_t  = da_n * r_t                            (n block of da_hh)
        da_r  = da_n * m_t * r_t (1 - r_t)            (r block of both)
        da_z  = dh_t * (h_{t-1} - n_t) * z_t (1 - z_t)  (z block of both)
        dh^next = dh_t * z_t + da_hh,t W_hh

    Every block is ``dh_t`` times a factor that does not depend on the
    recurrence; the factors are computed for all steps at once before the
    loop. After the loop (one matmul each, see base.py):
    ``dW_ih = sum_t da_ih,t^T x_t``, ``dW_hh = sum_t da_hh,t^T h_{t-1}``,
    ``db_ih = sum_t da_ih,t``, ``db_hh = sum_t da_hh,t``, ``dx_t = da_ih,t W_ih``.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first: as for ``RNN``.

    Shape:
        input ``(T, N, input_size)``, output ``(T, N, hidden_size)`` (batch_first: N and T swapped);
        ``h0``, ``h_n``, ``grad_h0``: ``(num_layers, N, hidden_size)``.

    Parameters: ``weight_ih_l{k}`` ``(3H, input_size or H)``, ``weight_hh_l{k}`` ``(3H, H)``,
    ``bias_ih_l{k}``, ``bias_hh_l{k}`` ``(3H,)``, all ~ U(-1/sqrt(H), 1/sqrt(H)).

    Cached per layer and step: the layer's input, the gates ``r, z, n`` ``(T, 3, N, H)``,
    ``m_t`` ``(T, N, H)`` and ``h_0 .. h_T`` ``(T+1, N, H)``.

    Example:
        >>> gru = GRU(1, 32, batch_first=True)
        >>> y = gru(np.zeros((8, 50, 1)))         # (8, 50, 32); gru.h_n: (1, 8, 32)
        >>> dx = gru.backward(np.ones_like(y))    # (8, 50, 1)
    """

    GATES = 3

    def _recurrence(self, xw, states0, w_hh, b_hh):
        b_hn = 0
        if b_hh is not None:
            xw[:, :2] += b_hh[:2]            # r and z: both biases added once, for all steps
            b_hn = b_hh[2]
        # sigmoid(a) = (1 + tanh(a / 2)) / 2: the r and z blocks are halved in advance
        xw[:, :2] *= 0.5
        w_hh_t = w_hh.transpose(0, 2, 1).copy()   # w_hh_t[k] = W_hk^T
        w_hh_t[:2] *= 0.5
        steps, _, batch, H = xw.shape
        gates = np.empty_like(xw)            # r, z, n of every step, (T, 3, N, H)
        m = np.empty((steps, batch, H), xw.dtype)
        hs = np.empty((steps + 1, batch, H), xw.dtype)
        hs[0] = states0[0]
        for t in range(steps):
            hh = np.matmul(hs[t], w_hh_t)    # (3, N, H)
            rz = np.add(hh[:2], xw[t, :2], out=gates[t, :2])
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            r, z, n = gates[t]
            np.add(hh[2], b_hn, out=m[t])    # m_t = h_{t-1} W_hn^T + b_hn (not halved)
            np.multiply(r, m[t], out=n)
            n += xw[t, 2]
            np.tanh(n, out=n)
            np.subtract(hs[t], n, out=hs[t + 1])    # h_t = n + z (h_{t-1} - n)
            hs[t + 1] *= z
            hs[t + 1] += n
        return hs, [hs[-1]], (gates, m)

    def _recurrence_backward(self, dout, dfinals, hs, cache, w_hh):
        gates, m = cache
        steps, _, batch, H = gates.shape
        r, z, n = gates[:, 0], gates[:, 1], gates[:, 2]          # each (T, N, H)
        dan_dh = (1 - z) * (1 - n * n)
        # the recurrent side's blocks are dh_t * factor; the factors hold for all steps at once
        factor = np.empty((steps, batch, 3, H), gates.dtype)
        factor[:, :, 0] = dan_dh * m * r * (1 - r)
        factor[:, :, 1] = (hs[:-1] - n) * z * (1 - z)
        factor[:, :, 2] = dan_dh * r
        da_hh = np.empty((steps, batch, 3 * H), gates.dtype)       # PyTorch's column order
        dhs = np.empty_like(m)               # dh_t of every step
        dh_next = dfinals[0]
        for t in reversed(range(steps)):
            dh = np.add(dout[t], dh_next, out=dhs[t])
            np.multiply(dh[:, None, :], factor[t], out=da_hh[t].reshape(batch, 3, H))
            dh_next = dh * z[t]
            dh_next += da_hh[t] @ w_hh
        da_ih = da_hh.copy()
        np.multiply(dhs, dan_dh, out=da_ih[..., 2 * H:])
        return da_ih, da_hh, [dh_next]
