"""RNNBase: what RNN, LSTM and GRU share - parameters, stacking, batch_first, BPTT plumbing.

A recurrent layer reads a sequence ``x_1 .. x_T`` and carries a hidden state
``h_t`` from step to step. Every cell type computes its pre-activations as
two affine maps, one of the input and one of the previous hidden state::

    a_t = x_t W_ih^T + b_ih  +  h_{t-1} W_hh^T + b_hh          (N, G*H)

(G = 1 for RNN, 4 for LSTM, 3 for GRU) and then its own nonlinear update
(see rnn.py, lstm.py, gru.py). With ``num_layers > 1`` the layers are
stacked: the output sequence of layer k is the input sequence of layer k+1.

Forward, per layer:

* ``X W_ih^T + b_ih`` does not depend on the recurrence, so it is ONE matrix
  product for all time steps at once: ``(T*N, in) @ (in, G*H)``.
* Only ``h_{t-1} W_hh^T`` and the element-wise update loop over time, and
  each step's values are kept in arrays indexed by t (``hs[t]``, ``gates[t]``,
  ...). A layer that kept only one "current" cache would backpropagate every
  step with the last step's values - the bug this design avoids.
* Inside the loop the gates are stored gate-major, ``(T, G, N, H)``, so
  ``i, f, g, o = gates[t]`` are contiguous ``(N, H)`` blocks (element-wise
  numpy is several times faster on those than on column slices), and
  ``h @ W_hh^T`` is one stacked product ``h @ (G, H, H)`` giving ``(G, N, H)``.
  Backward works in PyTorch's column order, ``dA[t]`` ``(N, G*H)``, where
  ``dA[t] @ W_hh`` is a single matrix product.

Backward (backpropagation through time), per layer from the top down:

* The cell walks t = T..1 and produces ``dA_ih[t] = dL/d(x_t W_ih^T + b_ih)``
  and ``dA_hh[t] = dL/d(h_{t-1} W_hh^T + b_hh)`` (equal for RNN and LSTM;
  they differ in GRU's candidate gate) and ``dL/dh_0``.
* The parameters are shared by all steps, so their gradients are sums over
  time, each ONE matrix product after the loop::

      dW_ih = sum_t dA_ih[t]^T x_t       = dA_ih.reshape(T*N, G*H)^T @ X.reshape(T*N, in)
      dW_hh = sum_t dA_hh[t]^T h_{t-1}   = dA_hh.reshape(T*N, G*H)^T @ H_prev.reshape(T*N, H)
      db_ih = sum_{t,n} dA_ih,  db_hh = sum_{t,n} dA_hh
      dX    = dA_ih @ W_ih                    (T, N, in), the input gradient

The cell classes implement ``_recurrence`` (the forward loop) and
``_recurrence_backward`` (the backward loop); everything else is here.
"""
import math

import numpy as np

from ... import init
from ...errors import ShapeError
from ...layer import Layer
from ...parameter import Parameter


class RNNBase(Layer):
    """Base class of RNN, LSTM and GRU (not used directly).

    Subclasses set ``GATES`` (blocks of ``hidden_size`` rows stacked in the
    weights) and ``STATES`` (``("h",)``, or ``("h", "c")`` for LSTM).

    Parameters, per layer k (PyTorch's names, shapes and order):
        ``weight_ih_lk``: ``(GATES*hidden_size, input_size)`` for k = 0, else ``(GATES*hidden_size, hidden_size)``
        ``weight_hh_lk``: ``(GATES*hidden_size, hidden_size)``
        ``bias_ih_lk``, ``bias_hh_lk``: ``(GATES*hidden_size,)`` (when ``bias=True``)
    all initialised from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``.

    After ``forward``: ``h_n`` (and ``c_n``), the final states ``(num_layers, N, hidden_size)``.
    After ``backward``: ``grad_h0`` (and ``grad_c0``), ``dL/dh_0`` of the same shape.
    """

    GATES = 1
    STATES = ("h",)

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False):
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size),
                            ("num_layers", num_layers)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{type(self).__name__}: {name} must be a positive integer, got {value!r}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers, self.bias, self.batch_first = int(num_layers), bool(bias), bool(batch_first)
        rows = self.GATES * self.hidden_size
        for k in range(self.num_layers):
            columns = self.input_size if k == 0 else self.hidden_size
            setattr(self, f"weight_ih_l{k}", Parameter(np.zeros((rows, columns))))
            setattr(self, f"weight_hh_l{k}", Parameter(np.zeros((rows, self.hidden_size))))
            if self.bias:
                setattr(self, f"bias_ih_l{k}", Parameter(np.zeros(rows)))
                setattr(self, f"bias_hh_l{k}", Parameter(np.zeros(rows)))
        self.reset_parameters()
        self._caches = self._out_shape = None
        for s in self.STATES:
            setattr(self, f"{s}_n", None)
            setattr(self, f"grad_{s}0", None)

    def reset_parameters(self):
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as in PyTorch."""
        bound = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _layer_parameters(self, k):
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` Parameters of layer k (biases None without bias)."""
        get = lambda name: getattr(self, f"{name}_l{k}", None)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    # ------------------------------------------------------------------ forward
    def forward(self, x, h0=None):
        """Run the whole sequence; returns the top layer's hidden state at every step.

        Args:
            x: ``(T, N, input_size)``, or ``(N, T, input_size)`` with ``batch_first``.
            h0: initial hidden state ``(num_layers, N, hidden_size)``; zeros if None.
                LSTM also takes a tuple ``(h0, c0)``.

        Returns:
            ``(T, N, hidden_size)`` (``(N, T, hidden_size)`` with ``batch_first``).
            The final states are stored in ``self.h_n`` (and ``self.c_n``).
        """
        layout = ("N", "T", self.input_size) if self.batch_first else ("T", "N", self.input_size)
        x = self.check_input(x, layout)
        if x.shape[layout.index("T")] == 0:
            raise ShapeError(f"{self._short_repr()}: expected a sequence of at least one step, "
                             f"got input of shape {x.shape}")
        x = np.ascontiguousarray(x.swapaxes(0, 1)) if self.batch_first else x
        states0 = self._states(h0, x.shape[1], x.dtype, "{}0")
        G, H = self.GATES, self.hidden_size
        caches, finals = [], []
        for k in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = (None if p is None else p.data for p in self._layer_parameters(k))
            steps, batch, n_in = x.shape
            # every step's input projection in one product (np.dot: matmul is slow for input_size 1)
            xw = np.dot(x.reshape(-1, n_in), w_ih.T)                 # (T*N, G*H)
            if b_ih is not None:
                xw += b_ih
            xw = np.ascontiguousarray(xw.reshape(steps, batch, G, H).transpose(0, 2, 1, 3))
            hs, final, cell_cache = self._recurrence(                 # xw: (T, G, N, H)
                xw, [s[k] for s in states0], w_hh.reshape(G, H, H),
                None if b_hh is None else b_hh.reshape(G, 1, H))
            caches.append((x, hs, cell_cache))
            finals.append(final)
            x = hs[1:]
        for i, s in enumerate(self.STATES):
            setattr(self, f"{s}_n", np.stack([f[i] for f in finals]))
        self._caches = caches
        out = x.swapaxes(0, 1) if self.batch_first else x
        self._out_shape = out.shape
        return out

    def _states(self, given, batch, dtype, label):
        """Per-layer states (h0, or gradients of h_n) as a list of ``(num_layers, N, H)`` arrays,
        one per entry of STATES; None becomes zeros. ``label`` names them in errors ("{}0")."""
        given = given if isinstance(given, (tuple, list)) else (given,)
        if len(given) > len(self.STATES):
            raise ValueError(f"{self._short_repr()}: {label.format('h')} must be an array"
                             + (" or a tuple (h0, c0)" if len(self.STATES) > 1 else "")
                             + f", got a sequence of {len(given)} arrays")
        given = tuple(given) + (None,) * (len(self.STATES) - len(given))
        shape = (self.num_layers, batch, self.hidden_size)
        states = []
        for name, s in zip(self.STATES, given):
            if s is None:
                states.append(np.zeros(shape, dtype))
                continue
            states.append(self.check_input(s, shape, dtype=dtype, name=label.format(name)))
        return states

    # ----------------------------------------------------------------- backward
    def backward(self, grad_out, grad_h_n=None, grad_c_n=None):
        """Backpropagation through time over all layers.

        Args:
            grad_out: ``dL/d(output)``, the output's shape (every time step's gradient).
            grad_h_n: optional ``dL/dh_n`` ``(num_layers, N, hidden_size)``, when the loss
                also used the final hidden state; zeros if None.
            grad_c_n: optional ``dL/dc_n`` (LSTM only).

        Returns:
            ``dL/dx``, the input's shape. Stores every parameter's ``.grad``
            (summed over time steps) and ``self.grad_h0`` (and ``self.grad_c0``).
        """
        g = self.check_grad_out(grad_out, None if self._caches is None else self._out_shape)
        dtype = self._caches[0][0].dtype
        g = g.astype(dtype, copy=False)
        g = g.swapaxes(0, 1) if self.batch_first else g
        if grad_c_n is not None and "c" not in self.STATES:
            raise ValueError(f"{self._short_repr()}.backward(): grad_c_n given, but "
                             f"{type(self).__name__} has no cell state")
        grad_finals = self._states((grad_h_n, grad_c_n)[:len(self.STATES)], g.shape[1], dtype, "grad_{}_n")
        G, H = self.GATES, self.hidden_size
        grads0 = [None] * self.num_layers
        for k in reversed(range(self.num_layers)):
            x, hs, cell_cache = self._caches[k]
            w_ih, w_hh, b_ih, b_hh = self._layer_parameters(k)
            steps, batch, n_in = x.shape
            da_ih, da_hh, grads0[k] = self._recurrence_backward(
                g, [s[k] for s in grad_finals], hs, cell_cache, w_hh.data)
            # the sums over time (and batch) are single matrix products
            da_ih2, da_hh2 = da_ih.reshape(-1, G * H), da_hh.reshape(-1, G * H)    # (T*N, G*H)
            w_ih.add_grad(np.dot(da_ih2.T, x.reshape(-1, n_in)))
            w_hh.add_grad(np.dot(da_hh2.T, hs[:-1].reshape(-1, H)))
            if b_ih is not None:
                db_ih = da_ih2.sum(axis=0)
                b_ih.add_grad(db_ih)
                b_hh.add_grad(db_ih.copy() if da_hh is da_ih else da_hh2.sum(axis=0))
            g = np.dot(da_ih2, w_ih.data).reshape(steps, batch, n_in)
        for i, s in enumerate(self.STATES):
            setattr(self, f"grad_{s}0", np.stack([d[i] for d in grads0]))
        return g.swapaxes(0, 1) if self.batch_first else g

    # ------------------------------------------------------- cell interface
    def _recurrence(self, xw, states0, w_hh, b_hh):
        """The forward loop of one layer.

        Args:
            xw: ``x_t W_ih^T + b_ih`` for all steps, gate-major ``(T, G, N, H)``; may be
                changed in place.
            states0: list of initial states ``(N, H)``, one per entry of STATES.
            w_hh: the recurrent weight as ``(G, H, H)``: ``w_hh[k]`` is gate k's block ``W_hk``.
            b_hh: the recurrent bias as ``(G, 1, H)``, or None.

        Returns:
            ``hs`` ``(T+1, N, H)`` with ``hs[0] = h_0`` and ``hs[t] = h_t``; the list of
            final states; and whatever else backward needs (per time step).
        """
        raise NotImplementedError

    def _recurrence_backward(self, dout, dfinals, hs, cache, w_hh):
        """The backward loop of one layer.

        Args:
            dout: ``dL/dh_t`` from above (the layer's output), ``(T, N, H)``.
            dfinals: ``dL/d(final state)`` from outside, list of ``(N, H)``.
            hs, cache: what ``_recurrence`` returned.
            w_hh: the recurrent weight ``(G*H, H)``.

        Returns:
            ``(dA_ih, dA_hh, [dL/d(initial state), ...])`` with ``dA_*`` ``(T, N, G*H)`` in
            PyTorch's column order (the same array twice when they are equal).
        """
        raise NotImplementedError

    def extra_repr(self):
        args = [str(self.input_size), str(self.hidden_size)]
        if self.num_layers != 1:
            args.append(f"num_layers={self.num_layers}")
        args += self._extra_args()
        if not self.bias:
            args.append("bias=False")
        if self.batch_first:
            args.append("batch_first=True")
        return ", ".join(args)

    def _extra_args(self):
        return []

