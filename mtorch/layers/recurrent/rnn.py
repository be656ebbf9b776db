"""RNN: the Elman recurrent layer, h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)."""
import numpy as np

from .base import RNNBase

_NONLINEARITIES = ("tanh", "relu")


class RNN(RNNBase):
    """Multi-layer Elman RNN with tanh or ReLU, as ``torch.nn.RNN``.

    Forward, for each layer and t = 1..T::

        a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
        h_t = f(a_t)                    f = tanh or relu

    The output is ``h_1 .. h_T`` of the top layer; ``h_n`` holds every layer's ``h_T``.

    Backward through time, for t = T..1, with ``dh_T^next = dL/dh_n`` (zero by default)::

        dh_t   = dL/dy_t + dh_t^next    (from the output, and from step t+1)
        da_t   = dh_t * f'(a_t)         f' = 1 - h_t^2 (tanh) or [h_t > 0] (relu)
        dh_{t-1}^next = da_t W_hh       (so dL/dh_0 = dh_0^next)

    and after the loop (one matmul each, see base.py):
    ``dW_ih = sum_t da_t^T x_t``, ``dW_hh = sum_t da_t^T h_{t-1}``,
    ``db_ih = db_hh = sum_t da_t``, ``dx_t = da_t W_ih``.

    Args:
        input_size: features per time step of the input.
        hidden_size: size of the hidden state.
        num_layers: stacked layers (default 1).
        nonlinearity: ``'tanh'`` (default) or ``'relu'``.
        bias: learn ``b_ih`` and ``b_hh`` (default True).
        batch_first: input and output are ``(N, T, feature)`` instead of ``(T, N, feature)``.

    Shape:
        input ``(T, N, input_size)``, output ``(T, N, hidden_size)`` (batch_first: N and T swapped);
        ``h0``, ``h_n``, ``grad_h0``: ``(num_layers, N, hidden_size)``.

    Parameters: ``weight_ih_l{k}`` ``(H, input_size or H)``, ``weight_hh_l{k}`` ``(H, H)``,
    ``bias_ih_l{k}``, ``bias_hh_l{k}`` ``(H,)``, all ~ U(-1/sqrt(H), 1/sqrt(H)).

    Cached per layer: the layer's input ``(T, N, in)`` and ``hs = h_0 .. h_T`` ``(T+1, N, H)``
    (f' is computed from h_t, so nothing else is needed).

    Example:
        >>> rnn = RNN(1, 16)
        >>> y = rnn(np.zeros((50, 8, 1)))       # (50, 8, 16); rnn.h_n is (1, 8, 16)
        >>> dx = rnn.backward(np.ones_like(y))  # (50, 8, 1); grads in rnn.weight_hh_l0.grad, ...
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False):
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(f"RNN: nonlinearity must be one of {_NONLINEARITIES}, got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first)
        self.nonlinearity = nonlinearity

    def _recurrence(self, xw, states0, w_hh, b_hh):
        xw, w_hh_t = xw[:, 0], w_hh[0].T     # one gate: (T, N, H), W_hh^T
        if b_hh is not None:
            xw += b_hh[0]                    # both biases added once, for all steps
        steps, batch, hidden = xw.shape
        hs = np.empty((steps + 1, batch, hidden), xw.dtype)
        hs[0] = states0[0]
        for t in range(steps):
            a = hs[t] @ w_hh_t
            a += xw[t]
            if self.nonlinearity == "tanh":
                np.tanh(a, out=hs[t + 1])
            else:
                np.maximum(a, 0, out=hs[t + 1])
        return hs, [hs[-1]], None

    def _recurrence_backward(self, dout, dfinals, hs, cache, w_hh):
        h = hs[1:]
        fprime = 1 - h * h if self.nonlinearity == "tanh" else (h > 0).astype(h.dtype)
        da = np.empty_like(fprime)           # da[t] = dL/da_t, all steps
        dh_next = dfinals[0]
        for t in reversed(range(len(da))):
            dh = dout[t] + dh_next
            np.multiply(dh, fprime[t], out=da[t])
            dh_next = da[t] @ w_hh
        return da, da, [dh_next]

    def _extra_args(self):
        return [] if self.nonlinearity == "tanh" else [f"nonlinearity={self.nonlinearity!r}"]
