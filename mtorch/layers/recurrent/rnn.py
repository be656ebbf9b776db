"""RNN and RNNCell: the Elman recurrence h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)."""
import numpy as np

from ...kernels.recurrence import stacked_inputs, stacked_weights, summed_over_steps
from ...validation import check_choice
from .base import RNNBase, RNNCellBase, add_weight_grads, backward_product, summed_bias


class RNN(RNNBase):
    """Multi-layer Elman RNN with tanh or ReLU, as ``torch.nn.RNN``.

    Forward, for each layer and t = 1..T, with column vectors (``x_t`` is
    ``(I, N)``, one sample per column)::

        a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
        h_t = f(a_t)                    f = tanh or relu

    The output is ``h_1 .. h_T`` of the top layer; ``h_n`` holds every layer's ``h_T``.
    Each step is one product, ``a_t = W z_t`` with ``W = [W_ih | b_ih + b_hh | W_hh]``
    and ``z_t = [x_t; 1; h_{t-1}]`` (``mtorch.kernels.recurrence.stacked_inputs``).

    Backward through time, for t = T..1, with ``dh_T = dL/dy_T + dL/dh_n``::

        da_t      = dh_t * f'(a_t)      f' = 1 - h_t^2 (tanh) or [h_t > 0] (relu)
        dh_{t-1}  = dL/dy_{t-1} + W_hh^T da_t        (so dL/dh_0 = W_hh^T da_1)
        dx_t      = W_ih^T da_t

    The weights are shared by all steps, so their gradients are sums over
    time, all three in one sum::

        [dW_ih | db | dW_hh] = sum_t da_t z_t^T         (db = dL/db_ih = dL/db_hh)

    Args:
        input_size: features per time step of the input.
        hidden_size: size of the hidden state.
        num_layers: stacked layers (default 1).
        nonlinearity: ``'tanh'`` (default) or ``'relu'``.
        bias: learn ``b_ih`` and ``b_hh`` (default True).
        batch_first: input and output are ``(N, T, feature)`` instead of ``(T, N, feature)``.
        dropout: probability of zeroing each output of every layer but the last (training only).
        bidirectional: also run each layer backwards in time; outputs are concatenated.

    Shape:
        input ``(T, N, input_size)``, output ``(T, N, D*hidden_size)`` (batch_first: N and T
        swapped; unbatched: ``(T, input_size)`` -> ``(T, D*hidden_size)``), D = 2 if bidirectional
        else 1; ``hx``, ``h_n``, ``grad_h0``: ``(D*num_layers, N, hidden_size)``.

    Parameters: ``weight_ih_l{k}`` ``(H, input_size or D*H)``, ``weight_hh_l{k}`` ``(H, H)``,
    ``bias_ih_l{k}``, ``bias_hh_l{k}`` ``(H,)`` (and ``..._reverse``), all ~ U(-1/sqrt(H), 1/sqrt(H)).

    Cached per layer and direction: ``z_0 .. z_T`` (the inputs and ``h_0 .. h_T``); f' is
    computed from ``h_t``.

    Example:
        >>> rnn = RNN(1, 16)
        >>> y = rnn(np.zeros((50, 8, 1)))       # (50, 8, 16); rnn.h_n is (1, 8, 16)
        >>> dx = rnn.backward(np.ones_like(y))  # (50, 8, 1); grads in rnn.weight_hh_l0.grad, ...
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False):
        nonlinearity = check_choice("RNN", "nonlinearity", nonlinearity, ("tanh", "relu"))
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)
        self.nonlinearity = nonlinearity

    def _forward_direction(self, x, states0, w, workspace):
        n_in = x.shape[1]
        z = stacked_inputs(workspace, x, states0[0])          # z[t] = [x_t; 1; h_{t-1}]
        W = stacked_weights(w.ih.data, summed_bias(w), w.hh.data)
        h = z[1:, n_in + 1:]                                 # h[t] is h_{t+1}, written in place
        activation = np.tanh if self.nonlinearity == "tanh" else _relu
        for z_t, h_t in zip(z, h):
            activation(np.dot(W, z_t, out=h_t), out=h_t)     # h_t = f(W z_t)
        return h, [h[-1]], (z, workspace)

    def _backward_direction(self, dy, dfinals, cache, w, need_dx):
        z, workspace = cache
        steps, n_in = len(z) - 1, z.shape[1] - 1 - self.hidden_size
        h = z[1:, n_in + 1:]
        fprime = workspace.get("fprime", h.shape, h.dtype)  # f'(a_t), all steps at once
        if self.nonlinearity == "tanh":
            np.multiply(h, h, out=fprime)
            np.subtract(1, fprime, out=fprime)
        else:
            np.greater(h, 0, out=fprime)
        da = workspace.get("da", h.shape, h.dtype)
        dh = workspace.get("dh", h.shape, h.dtype)           # dL/dh_t from the output and from step t+1
        np.copyto(dh, dy)
        dh[-1] += dfinals[0]
        WT, dz = backward_product(w, need_dx, workspace, steps, h.shape[2])
        for t in reversed(range(steps)):
            np.multiply(dh[t], fprime[t], out=da[t])                     # da_t = dh_t * f'(a_t)
            back = np.dot(WT, da[t], out=dz[t])                           # [dx_t; db; W_hh^T da_t]
            if t:
                dh[t - 1] += back[-self.hidden_size:]
        add_weight_grads(w, summed_over_steps(da, z[:-1], workspace), n_in)
        return (dz[:, :n_in] if need_dx else None), [dz[0, -self.hidden_size:]]

    def _extra_args(self):
        return [] if self.nonlinearity == "tanh" else [f"nonlinearity={self.nonlinearity!r}"]


class RNNCell(RNNCellBase):
    """One step of an Elman RNN, as ``torch.nn.RNNCell``; call it in your own loop over time.

    Forward (rows: ``x`` ``(N, I)``, ``h`` ``(N, H)``)::

        h' = f(x W_ih^T + b_ih + h W_hh^T + b_hh)        f = tanh or relu

    Backward, from ``dh' = dL/dh'``::

        da = dh' * f'        f' = 1 - h'^2 (tanh) or [h' > 0] (relu)
        dW_ih += da^T x      dW_hh += da^T h      db_ih += sum_n da      db_hh += sum_n da
        dx = da W_ih         dh = da W_hh

    Called once per time step, the cell keeps one cache per call (a stack):
    ``backward`` is called once per call, last call first, as
    backpropagation through time walks the steps backwards (see ``RNNCellBase``).

    Args:
        input_size, hidden_size: sizes of ``x`` and ``h``.
        bias: learn ``b_ih`` and ``b_hh`` (default True).
        nonlinearity: ``'tanh'`` (default) or ``'relu'``.

    Shape: input ``(N, I)`` or ``(I,)``; ``hx`` and output ``(N, H)`` or ``(H,)``.

    Parameters: ``weight_ih`` ``(H, I)``, ``weight_hh`` ``(H, H)``, ``bias_ih``, ``bias_hh`` ``(H,)``,
    all ~ U(-1/sqrt(H), 1/sqrt(H)).

    Example:
        >>> cell, h = RNNCell(1, 16), np.zeros((8, 16))
        >>> for x_t in x:                           # x (T, 8, 1)
        ...     h = cell(x_t, h)
        >>> dh = np.zeros((8, 16))
        >>> for dh_t in reversed(dh_out):           # dL/dh of each step's output, last first
        ...     dx_t, dh = cell.backward(dh_t + dh)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh"):
        nonlinearity = check_choice("RNNCell", "nonlinearity", nonlinearity, ("tanh", "relu"))
        super().__init__(input_size, hidden_size, bias)
        self.nonlinearity = nonlinearity

    def _step(self, x, states):
        h = states[0]
        a = x @ self.weight_ih.data.T + h @ self.weight_hh.data.T
        if self.bias:
            a += self.bias_ih.data + self.bias_hh.data
        h_new = np.tanh(a) if self.nonlinearity == "tanh" else np.maximum(a, 0)
        return [h_new], (x, h, h_new)

    def _step_backward(self, grads, cache):
        x, h, h_new = cache
        da = grads[0] * ((1 - h_new * h_new) if self.nonlinearity == "tanh" else (h_new > 0))
        self._add_grads(da, da, x, h)
        return da @ self.weight_ih.data, [da @ self.weight_hh.data]

    def extra_repr(self):
        extra = "" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity!r}"
        return super().extra_repr() + extra


def _relu(a, out):
    return np.maximum(a, 0, out=out)
