"""Kernels of the recurrent layers (RNN, LSTM, GRU): the layout, the products and the buffers of a time loop.

A recurrent layer's step is a few tiny operations (batch 32, hidden 32), so
its cost is the number of numpy calls per step, their memory layout and the
memory they touch, not arithmetic. Three tricks earn their place; each
function below states the plain math it computes:

* ``columns`` / ``rows``: the layers work with column vectors, as the
  equations are written (``a_t = W_ih x_t + ...``): a batch of N vectors is an
  ``(H, N)`` array, so each gate is a contiguous block of rows;
* ``stacked_inputs`` / ``stacked_weights`` / ``summed_over_steps``: one matrix
  product per step, ``a_t = [W_ih | b | W_hh] [x_t; 1; h_{t-1}]``, and after
  the loop all the weight and bias gradients in one sum, ``sum_t da_t z_t^T``;
* ``Workspace``: the per-step arrays live in buffers kept from one call to
  the next.

Gains, measured on the benchmark step (RNN, LSTM or GRU with 1 input and 32
hidden units, ``Linear(32, 1)`` on every one of 50 steps, batch 32, MSE,
Adam; float32, one thread): CPU seconds per training step, median of 5 to 8
runs alternating with the version without the trick, each in its own
process. Tried and dropped (below 10% of a step): laying the LSTM's gate rows
out as ``(g, f, i, o)`` beside ``c_{t-1}`` so that ``f c_{t-1}`` and ``i g`` are
one multiply, and the same pairing in the backward pass (LSTM step 2.68 ms
-> 2.61 ms, 3%).
"""
import math

import numpy as np


def columns(x):
    """``(T, N, F)`` -> ``(T, F, N)``, a view: every sample's vector is a column.

    Plain math replaced: the same step in rows, ``a_t = x_t W_ih^T + h_{t-1} W_hh^T + b``
    with ``(N, G*H)`` results whose gates are column slices ``a[:, k*H:(k+1)*H]``.
    Element-wise numpy on such strided slices is several times slower than on
    the contiguous row blocks ``a[k]`` of the column form.

    Gain: LSTM step 3.04 ms (rows, gates as column slices) -> 2.66 ms (12%).
    """
    return x.transpose(0, 2, 1)


def rows(x, batch_first=False):
    """``(T, F, N)`` columns -> a new C-contiguous ``(T, N, F)`` array (``(N, T, F)`` with ``batch_first``)."""
    return (x.transpose(2, 0, 1) if batch_first else x.transpose(0, 2, 1)).copy()


def stacked_inputs(workspace, x, h0):
    """The input of every step's single product, as columns: ``z_t = [x_t; 1; h_{t-1}]``.

    Args:
        workspace: the ``Workspace`` that keeps ``z``.
        x: the sequence as columns, ``(T, I, N)``.
        h0: the initial hidden state ``(P, N)``.

    Returns:
        ``z`` ``(T + 1, I + 1 + P, N)`` with ``z[t, :I] = x_t``, ``z[t, I] = 1`` and
        ``z[0, I+1:] = h_0``; the time loop writes ``h_t`` into ``z[t+1, I+1:]``, so
        ``z[1:, I+1:]`` is the output sequence. (``z[T, :I+1]`` is not used.)

    Plain math replaced: ``a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh`` as an input
    projection of the whole sequence plus, at every step, a product and a sum;
    after the loop, ``dW_ih = sum_t da_t x_t^T``, ``dW_hh = sum_t da_t h_{t-1}^T`` and
    the bias gradients as three reductions. Stacked, a step is one product
    ``W z_t`` (``W = stacked_weights(...)``), and ``summed_over_steps(da, z)`` gives
    ``[dW_ih | db | dW_hh]`` in one.

    Gain: LSTM step 3.18 ms -> 2.67 ms (16%); RNN step 0.99 ms -> 0.91 ms (8%).
    """
    steps, n_in, batch = x.shape
    z = workspace.get("z", (steps + 1, n_in + 1 + h0.shape[0], batch), x.dtype)
    z[:steps, :n_in] = x
    z[:, n_in] = 1
    z[0, n_in + 1:] = h0
    return z


def stacked_weights(w_ih, b, w_hh):
    """``[W_ih | b | W_hh]`` ``(G*H, I + 1 + P)``, so that ``W z_t = W_ih x_t + b + W_hh h_{t-1}``."""
    return np.concatenate([w_ih, b[:, None], w_hh], axis=1)


def summed_over_steps(da, z, workspace):
    """``sum_t da[t] @ z[t].T``: the gradient of a weight used at every step.

    Args:
        da: ``(T, G, N)``, ``dL/da_t`` for each step.
        z: ``(T, K, N)``, the columns the weight multiplied.
        workspace: keeps the T products.

    Returns:
        ``(G, K)``, a new array. The T products are one stacked ``matmul``, then
        summed over t. (The same sum as one product over all T*N columns needs
        both arrays copied into ``(rows, T*N)`` form first, and it is large enough
        for OpenBLAS to spread over two threads, which on a busy machine stalled
        a 2-thread step for tens of milliseconds; each stacked product stays on
        one thread. LSTM: 258 us -> 247 us at one thread.)
    """
    products = workspace.get("products", (len(da), da.shape[1], z.shape[1]), da.dtype)
    np.matmul(da, z.transpose(0, 2, 1), out=products)
    return products.sum(axis=0)


class Workspace:
    """Named arrays kept between calls: ``get`` returns the same memory while it is big enough.

    Plain numpy allocates every array of a step afresh. Arrays above 128 KiB
    come from the operating system, which maps and zeroes new pages on first
    touch: an LSTM step over 50 steps of batch 32 took 823 page faults and
    1.2 ms of system time per forward and backward. A layer keeps one
    Workspace per (layer, direction), and what it caches for backward lives
    there (so, as for every layer, only its last call can be backpropagated).
    A copy of a layer starts with an empty Workspace; buffers are not freed
    while the layer lives.

    Gain: RNN step 1.36 ms -> 0.90 ms (34%), LSTM 3.45 ms -> 2.65 ms (23%),
    GRU 3.30 ms -> 2.45 ms (26%).
    """

    def __init__(self):
        self._buffers = {}

    def get(self, name, shape, dtype):
        """An uninitialised C-contiguous array of ``shape`` and ``dtype``, kept under ``name``."""
        size = math.prod(shape)
        buffer = self._buffers.get(name)
        if buffer is None or buffer.dtype != dtype or buffer.size < size:
            buffer = self._buffers[name] = np.empty(size, dtype)
        return buffer[:size].reshape(shape)

    def __deepcopy__(self, memo):
        return Workspace()
