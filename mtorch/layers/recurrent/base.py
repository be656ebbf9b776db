"""What RNN, LSTM and GRU share: arguments, parameters, stacking layers and directions, batch_first.

A recurrent layer runs one cell over a sequence ``x_1 .. x_T``; the cell's
own file (rnn.py, lstm.py, gru.py) holds the math of one layer in one
direction, forward and backward. This file only arranges those runs:

* layers are stacked: the output sequence of layer k (with dropout in
  training mode) is the input sequence of layer k + 1;
* ``bidirectional=True`` runs a second copy of each layer (parameters with
  the suffix ``_reverse``) on the time-reversed sequence; the two outputs are
  concatenated along the features, forward direction first;
* the cells work with column vectors, as the equations are written: inside,
  a sequence is ``(T, features, N)``, one sample per column
  (``mtorch.kernels.recurrence.columns``); the input is turned into that form
  once, and the output back.

The two methods each cell implements::

    _forward_direction(x, states0, w, workspace) -> (y, finals, cache)
        x (T, I, N), states0 [h_0 (P, N)] (LSTM: and c_0 (H, N)), w the direction's
        Parameters (w.ih, w.hh, w.b_ih, w.b_hh, w.hr); y (T, P, N) = h_1 .. h_T.
    _backward_direction(dy, dfinals, cache, w, need_dx) -> (dx, dstates0)
        dy (T, P, N) = dL/dh_t from above; dfinals dL/d(final states);
        adds each Parameter's gradient; dx (T, I, N) (None unless need_dx).
"""
import types
import warnings

import numpy as np

from ... import init
from ...errors import BackwardBeforeForwardError, ShapeError
from ...kernels.recurrence import Workspace, columns, rows, stacked_weights
from ...layer import Layer
from ...parameter import Parameter
from ...validation import check_bool, check_int, check_real
from ..dropout import dropout_mask


class RNNBase(Layer):
    """Base class of RNN, LSTM and GRU (not used directly).

    Subclasses set ``GATES`` (blocks of ``hidden_size`` rows in the weights)
    and ``STATES`` (``("h",)``, or ``("h", "c")`` for LSTM).

    Parameters, for layer k and direction suffix ``""`` or ``"_reverse"`` (PyTorch's
    names, shapes and order), with ``G = GATES``, ``H = hidden_size``, ``P = proj_size or H``
    and ``D = 2 if bidirectional else 1``:
        ``weight_ih_l{k}``: ``(G*H, input_size)`` for k = 0, else ``(G*H, D*P)``
        ``weight_hh_l{k}``: ``(G*H, P)``
        ``bias_ih_l{k}``, ``bias_hh_l{k}``: ``(G*H,)`` (when ``bias=True``)
        ``weight_hr_l{k}``: ``(P, H)`` (LSTM with ``proj_size > 0``)
    all initialised from ``U(-1/sqrt(H), 1/sqrt(H))``.

    After ``forward``: ``h_n`` (and ``c_n``), the final states, ``(D*num_layers, N, P)``.
    After ``backward``: ``grad_h0`` (and ``grad_c0``), ``dL/dh_0`` of the same shape.
    """

    GATES = 1
    STATES = ("h",)

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0):
        super().__init__()
        name = type(self).__name__
        self.input_size = check_int(name, "input_size", input_size, minimum=1)
        self.hidden_size = check_int(name, "hidden_size", hidden_size, minimum=1)
        self.num_layers = check_int(name, "num_layers", num_layers, minimum=1)
        self.bias = check_bool(name, "bias", bias)
        self.batch_first = check_bool(name, "batch_first", batch_first)
        self.dropout = check_real(name, "dropout", dropout, 0, 1)
        self.bidirectional = check_bool(name, "bidirectional", bidirectional)
        self.proj_size = check_int(name, "proj_size", proj_size, minimum=0, maximum=self.hidden_size - 1)
        if self.dropout > 0 and self.num_layers == 1:
            warnings.warn(f"{name}: dropout acts between stacked layers, so dropout={self.dropout} does "
                          f"nothing with num_layers=1", UserWarning, stacklevel=3)
        gate_rows, out_size = self.GATES * self.hidden_size, self.proj_size or self.hidden_size
        for k in range(self.num_layers):
            in_size = self.input_size if k == 0 else self.directions * out_size
            for suffix in self._suffixes():
                setattr(self, f"weight_ih_l{k}{suffix}", Parameter(np.zeros((gate_rows, in_size))))
                setattr(self, f"weight_hh_l{k}{suffix}", Parameter(np.zeros((gate_rows, out_size))))
                if self.bias:
                    setattr(self, f"bias_ih_l{k}{suffix}", Parameter(np.zeros(gate_rows)))
                    setattr(self, f"bias_hh_l{k}{suffix}", Parameter(np.zeros(gate_rows)))
                if self.proj_size:
                    setattr(self, f"weight_hr_l{k}{suffix}", Parameter(np.zeros((self.proj_size, self.hidden_size))))
        self.reset_parameters()
        self._caches = self._out_shape = None
        self._workspaces = {}
        for s in self.STATES:
            setattr(self, f"{s}_n", None)
            setattr(self, f"grad_{s}0", None)

    @property
    def directions(self):
        return 2 if self.bidirectional else 1

    def _suffixes(self):
        return ("", "_reverse")[:self.directions]

    def reset_parameters(self):
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as in PyTorch."""
        bound = 1 / np.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _weights(self, k, d):
        """The Parameters of layer k, direction d: ``.ih``, ``.hh``, ``.b_ih``, ``.b_hh``, ``.hr`` (None if absent)."""
        suffix = self._suffixes()[d]
        get = lambda name: getattr(self, f"{name}_l{k}{suffix}", None)  # noqa: E731
        return types.SimpleNamespace(ih=get("weight_ih"), hh=get("weight_hh"), b_ih=get("bias_ih"),
                                     b_hh=get("bias_hh"), hr=get("weight_hr"))

    def _state_sizes(self):
        """The size of each state: ``P`` for h, ``H`` for LSTM's c."""
        return [self.proj_size or self.hidden_size if s == "h" else self.hidden_size for s in self.STATES]

    # ------------------------------------------------------------------ forward
    def forward(self, input, hx=None):
        """Run the whole sequence; returns the top layer's hidden state at every step.

        Args:
            input: ``(T, N, input_size)``, ``(N, T, input_size)`` with ``batch_first``, or
                ``(T, input_size)`` for one unbatched sequence.
            hx: initial hidden state ``(D*num_layers, N, P)`` (``(D*num_layers, P)`` unbatched);
                zeros if None. LSTM takes ``(h0, c0)`` (or h0 alone: c0 = 0).

        Returns:
            ``(T, N, D*P)`` (``(N, T, D*P)`` with ``batch_first``, ``(T, D*P)`` unbatched).
            The final states are stored in ``self.h_n`` (and ``self.c_n``).
        """
        x, batched = self._sequence(input)
        states0 = self._states(self._unpack(hx), x.shape[1], x.dtype, batched, "{}0")
        x = columns(x)                           # (T, input_size, N): one sample per column
        caches, finals = [], [[] for _ in self.STATES]
        for k in range(self.num_layers):
            mask = None
            if k > 0 and self.training and self.dropout > 0:
                mask = dropout_mask(x.shape, self.dropout, x.dtype)
                x = x * mask
            outputs, layer_caches = [], []
            for d in range(self.directions):
                j = k * self.directions + d
                y, final, cache = self._forward_direction(
                    x if d == 0 else x[::-1], [s[j].T for s in states0], self._weights(k, d),
                    self._workspaces.setdefault(j, Workspace()))
                outputs.append(y if d == 0 else y[::-1])
                layer_caches.append(cache)
                for stack, f in zip(finals, final):
                    stack.append(f.T)
            caches.append((mask, layer_caches))
            x = outputs[0] if self.directions == 1 else np.concatenate(outputs, axis=1)
        for s, stack in zip(self.STATES, finals):
            setattr(self, f"{s}_n", np.stack(stack) if batched else np.stack(stack)[:, 0])
        self._caches = (caches, batched)
        out = self._rows(x, batched)
        self._out_shape = out.shape
        return out

    def _sequence(self, input):
        """The input as ``(T, N, features)`` and whether it had a batch axis."""
        name = type(self).__name__
        input = self.check_input(input, (...,))
        if input.ndim not in (2, 3):
            raise ShapeError(f"{self._short_repr()}: expected a 3-d input (T, N, {self.input_size}) or "
                             f"(N, T, {self.input_size}) with batch_first, or a 2-d unbatched input "
                             f"(T, {self.input_size}); got {input.ndim}-d input of shape {input.shape}")
        if input.ndim == 2:
            x = self.check_input(input, ("T", self.input_size))[:, None]
        else:
            layout = ("N", "T", self.input_size) if self.batch_first else ("T", "N", self.input_size)
            x = self.check_input(input, layout)
            x = x.swapaxes(0, 1) if self.batch_first else x
        if x.shape[0] == 0:
            raise ShapeError(f"{name}: expected a sequence of at least one step, got input of shape "
                             f"{input.shape}")
        return x, input.ndim == 3

    def _rows(self, x, batched):
        """Columns ``(T, F, N)`` -> a new array in the input's layout."""
        return rows(x, self.batch_first) if batched else x[:, :, 0].copy()

    def _unpack(self, hx):
        """``hx`` as one entry per state: ``(h0,)``, or ``(h0, c0)`` for LSTM (c0 may be left out)."""
        if not isinstance(hx, (tuple, list)):
            return (hx,) + (None,) * (len(self.STATES) - 1)
        if len(self.STATES) == 1 or len(hx) not in (1, 2):
            raise ValueError(f"{self._short_repr()}: h0 must be an array"
                             + (" or a tuple (h0, c0)" if len(self.STATES) > 1 else "")
                             + f", got a sequence of {len(hx)} arrays")
        return tuple(hx) + (None,) * (2 - len(hx))

    def _states(self, given, batch, dtype, batched, label):
        """Initial states (or gradients of the final ones), one ``(D*L, N, size)`` array per entry
        of STATES, from ``given`` (one array or None per state; None becomes zeros)."""
        layers = self.directions * self.num_layers
        states = []
        for name, size, s in zip(self.STATES, self._state_sizes(), given):
            shape = (layers, batch, size) if batched else (layers, size)
            if s is None:
                states.append(np.zeros((layers, batch, size), dtype))
                continue
            s = self.check_input(s, shape, dtype=dtype, name=label.format(name))
            states.append(s if batched else s[:, None])
        return states

    # ----------------------------------------------------------------- backward
    def backward(self, grad_out, grad_h_n=None, grad_c_n=None):
        """Backpropagation through time over all layers and directions.

        Args:
            grad_out: ``dL/d(output)``, the output's shape (every time step's gradient).
            grad_h_n: optional ``dL/dh_n`` ``(D*num_layers, N, P)``, when the loss also used
                the final hidden state; zeros if None.
            grad_c_n: optional ``dL/dc_n`` (LSTM only).

        Returns:
            ``dL/dx``, the input's shape (None when ``needs_input_grad`` is False). Adds
            every parameter's gradient (summed over time steps) and stores ``self.grad_h0``
            (and ``self.grad_c0``).
        """
        g = self.check_grad_out(grad_out, None if self._caches is None else self._out_shape)
        caches, batched = self._caches
        if grad_c_n is not None and "c" not in self.STATES:
            raise ValueError(f"{self._short_repr()}.backward(): grad_c_n given, but "
                             f"{type(self).__name__} has no cell state")
        dtype = self.param_dtype()
        g = columns(g[:, None] if not batched else g.swapaxes(0, 1) if self.batch_first else g)
        grad_finals = self._states((grad_h_n, grad_c_n)[:len(self.STATES)], g.shape[2], dtype, batched,
                                   "grad_{}_n")
        grads0 = [[None] * (self.directions * self.num_layers) for _ in self.STATES]
        out_size = self._state_sizes()[0]
        for k in reversed(range(self.num_layers)):
            mask, layer_caches = caches[k]
            need_dx = k > 0 or self.needs_input_grad
            dx = None
            for d in range(self.directions):
                j = k * self.directions + d
                dy = g[:, d * out_size:(d + 1) * out_size]
                dxd, dstates = self._backward_direction(
                    dy if d == 0 else dy[::-1], [s[j].T for s in grad_finals], layer_caches[d],
                    self._weights(k, d), need_dx)
                for stack, ds in zip(grads0, dstates):
                    stack[j] = ds.T
                if need_dx:
                    dxd = dxd if d == 0 else dxd[::-1]
                    dx = dxd if dx is None else dx + dxd
            g = dx if mask is None or dx is None else dx * mask
        for s, stack in zip(self.STATES, grads0):
            setattr(self, f"grad_{s}0", np.stack(stack) if batched else np.stack(stack)[:, 0])
        if g is None:
            return None
        return self._rows(g, batched)

    # ------------------------------------------------------- one layer, one direction
    def _forward_direction(self, x, states0, w, workspace):
        raise NotImplementedError

    def _backward_direction(self, dy, dfinals, cache, w, need_dx):
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
        if self.dropout:
            args.append(f"dropout={self.dropout}")
        if self.bidirectional:
            args.append("bidirectional=True")
        if self.proj_size:
            args.append(f"proj_size={self.proj_size}")
        return ", ".join(args)

    def _extra_args(self):
        return []


def summed_bias(w):
    """``b_ih + b_hh``: both biases meet in every step's sum (zeros without bias)."""
    if w.b_ih is None:
        return np.zeros(w.ih.shape[0], w.ih.dtype)
    return w.b_ih.data + w.b_hh.data


def backward_product(w, need_dx, workspace, steps, batch):
    """The weight of the backward step, transposed, and the buffer it writes into, ``(T, rows, N)``:
    ``[W_ih | b | W_hh]^T``, giving ``[dx_t; db; W_hh^T da_t]``, when dx is needed, else ``W_hh^T``."""
    W = stacked_weights(w.ih.data, summed_bias(w), w.hh.data) if need_dx else w.hh.data
    WT = np.ascontiguousarray(W.T)
    return WT, workspace.get("dz", (steps, WT.shape[0], batch), WT.dtype)


def add_weight_grads(w, dW, n_in):
    """Split ``[dW_ih | db | dW_hh]`` onto the Parameters (``db`` goes to both biases)."""
    w.ih.add_grad(np.ascontiguousarray(dW[:, :n_in]))
    w.hh.add_grad(np.ascontiguousarray(dW[:, n_in + 1:]))
    if w.b_ih is not None:
        w.b_ih.add_grad(dW[:, n_in].copy())
        w.b_hh.add_grad(dW[:, n_in].copy())


class RNNCellBase(Layer):
    """Base class of RNNCell, LSTMCell and GRUCell (not used directly): one time step.

    A cell is called once per time step, in the user's own loop, so it is
    **reentrant**: every call in training mode pushes its cache on a stack,
    and every ``backward`` pops one, so backward is called once per call,
    last call first, exactly as backpropagation through time walks the steps::

        h = h0
        for t in range(T):                    # forward: T calls, T caches
            h = cell(x[t], h)
            ...
        dh = np.zeros_like(h)
        for t in reversed(range(T)):           # backward: T calls, last step first
            dx[t], dh = cell.backward(dy[t] + dh)

    In eval mode (``cell.eval()``) nothing is cached, so an inference loop of
    any length keeps no memory; ``backward`` then has nothing to pop.

    **What backward returns**, one gradient per input given (as for any layer):
    ``cell(x)`` (no state: zeros) -> ``dx``; ``cell(x, hx)`` -> ``(dx, dhx)``, where
    ``dhx`` has the structure of ``hx`` (LSTMCell: ``(dh, dc)``). LSTMCell
    returns ``(h, c)``, and its backward takes ``(dh, dc)`` (or ``dh`` alone: dc = 0).
    With ``needs_input_grad`` False, ``dx`` is None.

    Parameters (PyTorch's names): ``weight_ih`` ``(G*H, I)``, ``weight_hh`` ``(G*H, H)``,
    ``bias_ih``, ``bias_hh`` ``(G*H,)``, all ~ U(-1/sqrt(H), 1/sqrt(H)).
    Subclasses write ``_step(x, states)`` and ``_step_backward(grads, cache)`` with rows,
    ``x`` ``(N, I)`` and each state ``(N, H)``.
    """

    reentrant = True
    GATES = 1
    STATES = ("h",)

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        name = type(self).__name__
        self.input_size = check_int(name, "input_size", input_size, minimum=1)
        self.hidden_size = check_int(name, "hidden_size", hidden_size, minimum=1)
        self.bias = check_bool(name, "bias", bias)
        rows = self.GATES * self.hidden_size
        self.weight_ih = Parameter(np.zeros((rows, self.input_size)))
        self.weight_hh = Parameter(np.zeros((rows, self.hidden_size)))
        if self.bias:
            self.bias_ih = Parameter(np.zeros(rows))
            self.bias_hh = Parameter(np.zeros(rows))
        self.reset_parameters()
        self._calls = []

    def reset_parameters(self):
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as in PyTorch."""
        bound = 1 / np.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def forward(self, input, hx=None):
        """One step: the new state(s) from ``input`` ``(N, I)`` (or ``(I,)``) and ``hx``
        (zeros if None; LSTMCell: ``(h, c)``)."""
        input = self.check_input(input, (...,))
        batched = input.ndim == 2
        if input.ndim not in (1, 2):
            raise ShapeError(f"{self._short_repr()}: expected input of shape (N, {self.input_size}) or "
                             f"({self.input_size},), got {input.shape}")
        x = self.check_input(input, ("N", self.input_size) if batched else (self.input_size,))
        x = x if batched else x[None]
        given = (None,) * len(self.STATES) if hx is None else hx if isinstance(hx, (tuple, list)) else (hx,)
        if len(given) != len(self.STATES):
            raise ValueError(f"{self._short_repr()}: hx must be " + (
                "a tuple (h, c)" if len(self.STATES) == 2 else "an array") + f", got {type(hx).__name__}"
                + (f" of {len(given)}" if isinstance(hx, (tuple, list)) else ""))
        shape = (len(x), self.hidden_size) if batched else (self.hidden_size,)
        states = [np.zeros((len(x), self.hidden_size), x.dtype) if s is None else
                  self.check_input(s, shape, dtype=x.dtype, name=f"hx[{i}]" if len(given) > 1 else "hx")
                  .reshape(len(x), self.hidden_size) for i, s in enumerate(given)]
        new, cache = self._step(x, states)
        if self.training:
            self._calls.append((cache, batched, hx is not None))
        new = new if batched else [s[0] for s in new]
        return new[0] if len(new) == 1 else tuple(new)

    def backward(self, grad_out):
        """Backward of the last call not yet backpropagated: given dL/d(its output)
        (LSTMCell: ``(dh, dc)`` or ``dh``), adds the parameter gradients and returns
        ``dx`` (called as ``cell(x)``) or ``(dx, dhx)`` (called as ``cell(x, hx)``)."""
        if not self._calls:
            raise BackwardBeforeForwardError(
                f"{self._short_repr()}.backward(): no call left to backpropagate; each forward in "
                f"training mode caches one step and each backward uses one (in eval mode nothing is cached)")
        cache, batched, with_hx = self._calls[-1]
        shape = (len(cache[0]), self.hidden_size) if batched else (self.hidden_size,)
        given = grad_out if isinstance(grad_out, (tuple, list)) else (grad_out,)
        if len(given) > len(self.STATES):
            raise ValueError(f"{self._short_repr()}.backward(): expected " + (
                "(dh, dc) or dh" if len(self.STATES) == 2 else "dL/dh, an array") + f", got {len(given)} arrays")
        given = tuple(given) + (None,) * (len(self.STATES) - len(given))
        grads = [np.zeros((shape[0] if batched else 1, self.hidden_size), cache[0].dtype) if g is None and i
                 else self.check_grad_out(g, shape).reshape(-1, self.hidden_size)
                 for i, g in enumerate(given)]
        self._calls.pop()
        dx, dstates = self._step_backward(grads, cache)
        if not batched:
            dx, dstates = dx[0], [d[0] for d in dstates]
        dx = dx if self.needs_input_grad else None
        if not with_hx:
            return dx
        return dx, (dstates[0] if len(dstates) == 1 else tuple(dstates))

    def _add_grads(self, da_ih, da_hh, x, h):
        """``dW_ih += da_ih^T x``, ``dW_hh += da_hh^T h``, ``db_ih += sum_n da_ih``, ``db_hh += sum_n da_hh``."""
        self.weight_ih.add_grad(da_ih.T @ x)
        self.weight_hh.add_grad(da_hh.T @ h)
        if self.bias:
            self.bias_ih.add_grad(da_ih.sum(axis=0))
            self.bias_hh.add_grad(da_hh.sum(axis=0))

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")
