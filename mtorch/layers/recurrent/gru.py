"""GRU and GRUCell: gated recurrent unit, with PyTorch's gate order r, z, n."""
import numpy as np

from ...functional import sigmoid
from ...kernels.recurrence import stacked_inputs, summed_over_steps
from .base import RNNBase, RNNCellBase


class GRU(RNNBase):
    """Multi-layer gated recurrent unit, as ``torch.nn.GRU``.

    Forward, for each layer and t = 1..T, with column vectors (``x_t`` is ``(I, N)``;
    ``W_ir`` is the r block of H rows of ``W_ih``, and so on)::

        r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)        (reset gate)
        z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)        (update gate)
        m_t = W_hn h_{t-1} + b_hn
        n_t = tanh(W_in x_t + b_in + r_t * m_t)                      (candidate)
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    with ``sigmoid(a) = (1 + tanh(a / 2)) / 2``. Each step multiplies
    ``z_t = [x_t; 1; h_{t-1}]`` (``mtorch.kernels.recurrence.stacked_inputs``) by
    four blocks of rows, the candidate's input and hidden parts kept apart
    because ``r_t`` multiplies only the latter; ``a_n`` takes ``[x_t; 1]`` alone and
    ``m_t`` ``[1; h_{t-1}]`` alone, so that an infinite input or state never meets a
    0 weight (``0 * inf`` is NaN)::

        [a_r; a_z; a_n; m_t] = [[W_ir, b_ir + b_hr, W_hr],
                                [W_iz, b_iz + b_hz, W_hz],
                                [W_in, b_in,        0   ],
                                [0,    b_hn,        W_hn]] z_t

    Backward through time, for t = T..1, from ``dh_T = dL/dy_T + dL/dh_n``::

        da_n = dh_t * (1 - z_t)(1 - n_t^2)
        dm_t = da_n * r_t
        da_r = da_n * m_t r_t (1 - r_t)
        da_z = dh_t * (h_{t-1} - n_t) z_t (1 - z_t)
        dh_{t-1} = dL/dy_{t-1} + dh_t * z_t + W_hr^T da_r + W_hz^T da_z + W_hn^T dm_t
        dx_t     = W_ir^T da_r + W_iz^T da_z + W_in^T da_n

    Every block is ``dh_t`` times a factor that does not depend on the
    recurrence; the factors are computed for all steps at once before the
    loop. After it, one sum over the steps gives every weight and bias
    gradient: ``sum_t [da_r; da_z; da_n; dm_t] z_t^T``.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional: as for ``RNN``.

    Shape:
        input ``(T, N, input_size)``, output ``(T, N, D*hidden_size)`` (batch_first: N and T
        swapped; unbatched: ``(T, input_size)`` -> ``(T, D*hidden_size)``);
        ``hx``, ``h_n``, ``grad_h0``: ``(D*num_layers, N, hidden_size)``.

    Parameters: ``weight_ih_l{k}`` ``(3H, input_size or D*H)``, ``weight_hh_l{k}`` ``(3H, H)``,
    ``bias_ih_l{k}``, ``bias_hh_l{k}`` ``(3H,)`` (and ``..._reverse``), all ~ U(-1/sqrt(H), 1/sqrt(H)).

    Cached per layer and direction: ``z_0 .. z_T`` and ``r, z, n, m`` ``(T, 4, H, N)``.

    Example:
        >>> gru = GRU(1, 32, batch_first=True)
        >>> y = gru(np.zeros((8, 50, 1)))         # (8, 50, 32); gru.h_n: (1, 8, 32)
        >>> dx = gru.backward(np.ones_like(y))    # (8, 50, 1)
    """

    GATES = 3

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)

    def _stacked_weights(self, w):
        """The four row blocks ``[r; z; n (input part); m (hidden part)]`` of the step's product."""
        H, n_in = self.hidden_size, w.ih.shape[1]
        W = np.zeros((4, H, n_in + 1 + H), w.ih.dtype)
        W[:3, :, :n_in] = w.ih.data.reshape(3, H, n_in)
        W[:2, :, n_in + 1:] = w.hh.data[:2 * H].reshape(2, H, H)
        W[3, :, n_in + 1:] = w.hh.data[2 * H:]
        if w.b_ih is not None:
            W[:3, :, n_in] = w.b_ih.data.reshape(3, H)
            W[[0, 1, 3], :, n_in] += w.b_hh.data.reshape(3, H)
        return W.reshape(4 * H, -1)

    def _forward_direction(self, x, states0, w, workspace):
        steps, n_in, batch = x.shape
        H = self.hidden_size
        z = stacked_inputs(workspace, x, states0[0])           # z[t] = [x_t; 1; h_{t-1}]
        W = self._stacked_weights(w)
        W[:2 * H] *= 0.5                                        # r, z: sigmoid(a) = (1 + tanh(a/2)) / 2
        W_rz = W[:2 * H]
        W_n, W_m = np.ascontiguousarray(W[2 * H:3 * H, :n_in + 1]), np.ascontiguousarray(W[3 * H:, n_in:])
        gates = workspace.get("gates", (steps, 4, H, batch), x.dtype)
        for z_t, a, h_t in zip(z, gates, z[1:, n_in + 1:]):
            np.dot(W_rz, z_t, out=a[:2].reshape(2 * H, batch))
            np.dot(W_n, z_t[:n_in + 1], out=a[2])              # a_n = W_in x_t + b_in
            np.dot(W_m, z_t[n_in:], out=a[3])                  # m_t = W_hn h_{t-1} + b_hn
            rz = np.tanh(a[:2], out=a[:2])
            rz *= 0.5
            rz += 0.5
            r, u, n, m = a                                      # u: the update gate z_t
            n += r * m
            np.tanh(n, out=n)                                   # n_t = tanh(a_n + r_t m_t)
            np.subtract(z_t[n_in + 1:], n, out=h_t)             # h_t = n_t + z_t (h_{t-1} - n_t)
            h_t *= u
            h_t += n
        h = z[1:, n_in + 1:]
        return h, [h[-1]], (z, gates, workspace)

    def _backward_direction(self, dy, dfinals, cache, w, need_dx):
        z, gates, workspace = cache
        steps, _, H, batch = gates.shape
        n_in, dtype = z.shape[1] - 1 - H, gates.dtype
        r, u, n, m = gates.transpose(1, 0, 2, 3)               # each (T, H, N)
        factor = workspace.get("factor", gates.shape, dtype)   # [da_r; da_z; da_n; dm] = dh * factor
        f_r, f_z, f_n, f_m = factor.transpose(1, 0, 2, 3)
        np.multiply(n, n, out=f_n)
        np.subtract(1, f_n, out=f_n)
        f_n *= 1 - u                                            # (1 - z)(1 - n^2)
        np.multiply(f_n, r, out=f_m)
        np.subtract(1, r, out=f_r)
        f_r *= r
        f_r *= m
        f_r *= f_n                                              # (1 - z)(1 - n^2) m r (1 - r)
        np.subtract(1, u, out=f_z)
        f_z *= u
        f_z *= z[:-1, n_in + 1:] - n                            # (h_{t-1} - n) z (1 - z)
        dh = workspace.get("dh", dy.shape, dtype)
        np.copyto(dh, dy)
        dh[-1] += dfinals[0]
        da = workspace.get("da", gates.shape, dtype)
        W = self._stacked_weights(w)
        WT = np.ascontiguousarray(W.T if need_dx else W[:, n_in + 1:].T)
        dz = workspace.get("dz", (steps, WT.shape[0], batch), dtype)
        for t in reversed(range(steps)):
            np.multiply(dh[t], factor[t], out=da[t])
            back = np.dot(WT, da[t].reshape(4 * H, batch), out=dz[t])   # [dx_t; db; W_h^T da_t]
            back_h = back[n_in + 1:] if need_dx else back
            back_h += dh[t] * u[t]
            if t:
                dh[t - 1] += back_h
        dW = summed_over_steps(da.reshape(steps, 4 * H, batch), z[:-1], workspace).reshape(4, H, -1)
        w.ih.add_grad(dW[:3, :, :n_in].reshape(3 * H, n_in))
        w.hh.add_grad(dW[[0, 1, 3], :, n_in + 1:].reshape(3 * H, H))
        if w.b_ih is not None:
            w.b_ih.add_grad(dW[:3, :, n_in].reshape(3 * H))
            w.b_hh.add_grad(dW[[0, 1, 3], :, n_in].reshape(3 * H))
        return (dz[:, :n_in] if need_dx else None), [dz[0, n_in + 1:] if need_dx else dz[0]]


class GRUCell(RNNCellBase):
    """One step of a GRU, as ``torch.nn.GRUCell``; call it in your own loop over time.

    Forward (rows: ``x`` ``(N, I)``, ``h`` ``(N, H)``; ``[.._r | .._z | .._n]`` blocks of H columns)::

        [gi_r | gi_z | gi_n] = x W_ih^T + b_ih       [gh_r | gh_z | gh_n] = h W_hh^T + b_hh
        r = sigmoid(gi_r + gh_r)     z = sigmoid(gi_z + gh_z)     n = tanh(gi_n + r * gh_n)
        h' = (1 - z) * n + z * h

    Backward, from ``dh' = dL/dh'``::

        dn = dh' (1 - z)(1 - n^2)    dr = dn gh_n r (1 - r)    dz = dh' (h - n) z (1 - z)
        da_ih = [dr | dz | dn]       da_hh = [dr | dz | dn * r]
        dW_ih += da_ih^T x    dW_hh += da_hh^T h    db_ih += sum_n da_ih    db_hh += sum_n da_hh
        dx = da_ih W_ih       dh = da_hh W_hh + dh' * z

    Reentrant: one cache per call, backward once per call, last call first
    (see ``RNNCellBase``); called as ``cell(x, h)`` its backward returns ``(dx, dh)``.

    Args:
        input_size, hidden_size: sizes of ``x`` and ``h``.
        bias: learn ``b_ih`` and ``b_hh`` (default True).

    Shape: input ``(N, I)`` or ``(I,)``; ``hx`` and output ``(N, H)`` or ``(H,)``.

    Parameters: ``weight_ih`` ``(3H, I)``, ``weight_hh`` ``(3H, H)``, ``bias_ih``, ``bias_hh`` ``(3H,)``,
    all ~ U(-1/sqrt(H), 1/sqrt(H)).

    Example:
        >>> cell, h = GRUCell(1, 16), np.zeros((8, 16))
        >>> for x_t in x:                           # x (T, 8, 1)
        ...     h = cell(x_t, h)
        >>> dh = np.zeros((8, 16))
        >>> for dh_t in reversed(dh_out):           # dL/dh of each step's output, last first
        ...     dx_t, dh = cell.backward(dh_t + dh)
    """

    GATES = 3

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__(input_size, hidden_size, bias)

    def _step(self, x, states):
        h = states[0]
        gi, gh = x @ self.weight_ih.data.T, h @ self.weight_hh.data.T
        if self.bias:
            gi += self.bias_ih.data
            gh += self.bias_hh.data
        gi_r, gi_z, gi_n = np.split(gi, 3, axis=1)
        gh_r, gh_z, gh_n = np.split(gh, 3, axis=1)
        r, z = sigmoid(gi_r + gh_r), sigmoid(gi_z + gh_z)
        n = np.tanh(gi_n + r * gh_n)
        return [(1 - z) * n + z * h], (x, h, r, z, n, gh_n)

    def _step_backward(self, grads, cache):
        x, h, r, z, n, gh_n = cache
        dh_new = grads[0]
        dn = dh_new * (1 - z) * (1 - n * n)
        dr = dn * gh_n * r * (1 - r)
        dz = dh_new * (h - n) * z * (1 - z)
        da_ih = np.concatenate([dr, dz, dn], axis=1)
        da_hh = np.concatenate([dr, dz, dn * r], axis=1)
        self._add_grads(da_ih, da_hh, x, h)
        return da_ih @ self.weight_ih.data, [da_hh @ self.weight_hh.data + dh_new * z]
