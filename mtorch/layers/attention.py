"""MultiheadAttention: scaled dot-product attention over several heads (as ``torch.nn.MultiheadAttention``)."""
import functools
import math

import numpy as np

from .. import init
from ..errors import ShapeError
from ..layer import Layer
from ..parameter import Parameter
from ..validation import check_bool, check_int, check_real
from .dropout import dropout_mask
from .linear import Linear


@functools.lru_cache(maxsize=16)
def causal_mask(length, source_length=None, dtype=np.float32):
    """The additive causal mask, ``(length, source_length)``: 0 where key ``j <= i``, -inf after.

    Query position ``i`` may look at keys ``0..i`` only (PyTorch's
    ``Transformer.generate_square_subsequent_mask`` for a square mask). The
    array is cached and read-only.
    """
    source_length = length if source_length is None else source_length
    mask = np.triu(np.full((length, source_length), -np.inf, dtype=dtype), k=1)
    mask.flags.writeable = False
    return mask


def _softmax_rows(scores, masked):
    """Softmax along the last axis, in place: ``exp(s - max(s)) / sum(exp(s - max(s)))`` per row.

    With ``masked``, a row whose every score is -inf (every key masked) becomes
    all zeros instead of 0/0 (as PyTorch's scaled_dot_product_attention). The row
    sums are taken by ``einsum``, several times faster than ``sum`` along a short axis.
    """
    top = scores.max(axis=-1, keepdims=True)
    if masked:
        top[np.isneginf(top)] = 0
    scores -= top
    np.exp(scores, out=scores)
    total = np.einsum("...j->...", scores)[..., None]
    if masked:
        total[total == 0] = 1
    scores /= total
    return scores


class MultiheadAttention(Layer):
    """Multi-head attention (Vaswani et al., 2017), PyTorch's parameters and masks.

    Forward, for one batch element, with ``H = num_heads`` heads of width
    ``d = embed_dim / H``::

        Q = query W_q^T + b_q   (L, E)      K = key W_k^T + b_k   (S, E)      V = value W_v^T + b_v   (S, E)
        split E into H heads:  Q_h (L, d),  K_h (S, d),  V_h (S, d)
        S_h = Q_h K_h^T / sqrt(d) + M       (L, S)  M: 0 where allowed, -inf where masked
        P_h = softmax(S_h), row by row      (L, S)  the attention weights: row i says where query i looks
        O_h = dropout(P_h) V_h              (L, d)
        y = concat_h(O_h) W_o^T + b_o       (L, E)  (``out_proj``)

    Backward, per head, from ``dO`` (what ``out_proj.backward`` returns, split into heads)::

        dV = P^T dO                          every value gets what the queries that read it send back
        dP = dO V^T
        dS = P * (dP - rowsum(dP * P))       the softmax's Jacobian, applied row by row
        dQ = dS K / sqrt(d),   dK = dS^T Q / sqrt(d)

    then the in-projections' backward: ``dW_q = dQ^T query``, ``dquery = dQ W_q``
    (likewise for K and V; for self-attention the three add up into one ``dx``).
    Masks are constants: they get no gradient. Dropout uses the kept ``P``.

    **Inputs and outputs.** ``layer(x)`` or ``layer(x, x, x)`` is self-attention
    and ``backward`` returns ONE array, dL/dx (the sum of the three paths), so
    the layer chains in a ``Sequential``. With a different key or value
    (cross-attention), ``backward`` returns the tuple ``(dquery, dkey, dvalue)``.
    Unlike PyTorch, forward returns the output only; the attention weights
    of the last call are ``layer.attn_weights`` (averaged over the heads, as
    PyTorch returns them) and ``layer.attn_weights_per_head``, both before dropout.

    Args:
        embed_dim: E, the query's (and output's) features; divisible by ``num_heads``.
        num_heads: H, the number of heads.
        dropout: dropout probability on the attention weights (training mode only).
        bias: learn ``in_proj_bias`` and ``out_proj.bias``.
        add_bias_kv: learn ``bias_k``, ``bias_v`` ``(1, 1, E)``: one more key/value row.
        add_zero_attn: append a key/value row of zeros (after ``bias_k``).
        kdim, vdim: the key's and value's features (default E). When they
            differ from E the in-projections are ``q_proj_weight`` ``(E, E)``,
            ``k_proj_weight`` ``(E, kdim)``, ``v_proj_weight`` ``(E, vdim)``;
            otherwise one ``in_proj_weight`` ``(3E, E)`` stacks W_q, W_k, W_v.
        batch_first: inputs and output are ``(N, L, E)`` instead of ``(L, N, E)``.

    ``forward(query, key=None, value=None, *, key_padding_mask=None, attn_mask=None, is_causal=False)``:
    key defaults to query and value to key (``layer(q, memory)`` attends to ``memory``).

        key_padding_mask: ``(N, S)``; True (or -inf) marks keys to ignore (padding).
        attn_mask: ``(L, S)``, ``(N * H, L, S)``, or ``(H, L, S)`` for an unbatched
            input; bool (True: not allowed) or float (added to the scores).
        is_causal: without ``attn_mask``, query i sees keys ``0..i`` only
            (PyTorch needs the mask given too; with ``attn_mask`` the mask is used).
        Masks are keyword arguments. A query whose every key is masked gets
        all-zero weights (its output is ``out_proj.bias``).

    Shape:
        query ``(L, N, E)``, key ``(S, N, kdim)``, value ``(S, N, vdim)``, output
        ``(L, N, E)``; ``(N, L, E)``... with ``batch_first``; without the batch
        axis (``(L, E)``...) for one unbatched sequence.

    Init (PyTorch's): in-projection weights Xavier-uniform, biases zero,
    ``out_proj.weight`` as Linear's, ``bias_k``/``bias_v`` Xavier-normal.

    Example:
        >>> attn = MultiheadAttention(16, 4, batch_first=True)
        >>> x = np.random.randn(2, 5, 16)
        >>> attn(x, is_causal=True).shape, attn.attn_weights.shape
        ((2, 5, 16), (2, 5, 5))
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False):
        super().__init__()
        name = "MultiheadAttention"
        self.embed_dim = e = check_int(name, "embed_dim", embed_dim, minimum=1)
        self.num_heads = check_int(name, "num_heads", num_heads, minimum=1)
        if e % self.num_heads:
            raise ValueError(f"{name}: embed_dim must be divisible by num_heads, got embed_dim={e} "
                             f"and num_heads={self.num_heads}")
        self.head_dim = e // self.num_heads
        self.dropout = check_real(name, "dropout", dropout, minimum=0, maximum=1)
        self.kdim = e if kdim is None else check_int(name, "kdim", kdim, minimum=1)
        self.vdim = e if vdim is None else check_int(name, "vdim", vdim, minimum=1)
        self.batch_first = check_bool(name, "batch_first", batch_first)
        self.add_zero_attn = check_bool(name, "add_zero_attn", add_zero_attn)
        bias, add_bias_kv = check_bool(name, "bias", bias), check_bool(name, "add_bias_kv", add_bias_kv)
        self._qkv_same_embed_dim = self.kdim == e and self.vdim == e
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.zeros((3 * e, e)))
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.in_proj_weight = None
            self.q_proj_weight = Parameter(np.zeros((e, e)))
            self.k_proj_weight = Parameter(np.zeros((e, self.kdim)))
            self.v_proj_weight = Parameter(np.zeros((e, self.vdim)))
        self.in_proj_bias = Parameter(np.zeros(3 * e)) if bias else None
        self.out_proj = Linear(e, e, bias=bias)
        self.bias_k = Parameter(np.zeros((1, 1, e))) if add_bias_kv else None
        self.bias_v = Parameter(np.zeros((1, 1, e))) if add_bias_kv else None
        self.reset_parameters()
        self._cache = None

    def reset_parameters(self):
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            if w is not None:
                init.xavier_uniform_(w)
        for b in (self.in_proj_bias, self.out_proj.bias):
            if b is not None:
                init.zeros_(b)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                init.xavier_normal_(b)

    # ------------------------------------------------------------------ forward
    def forward(self, query, key=None, value=None, *, key_padding_mask=None, attn_mask=None, is_causal=False):
        key = query if key is None else key
        value = key if value is None else value
        self_attention = key is query and value is query
        is_causal = check_bool(self._short_repr(), "is_causal", is_causal)
        x_q, x_k, x_v, unbatched = self._inputs(query, key, value, self_attention)
        (n, length), source = x_q.shape[:2], x_k.shape[1]
        q, k, v = self._in_projection(x_q, x_k, x_v, self_attention)          # (N, H, T, d) each
        k, v = self._extra_keys(k, v)
        mask = self._mask(key_padding_mask, attn_mask, is_causal, n, length, source, unbatched, q.dtype)
        q = q * q.dtype.type(1 / math.sqrt(self.head_dim))
        s = np.matmul(q, k.swapaxes(-1, -2))                                 # (N, H, L, S): Q K^T / sqrt(d)
        if mask is not None:
            s += mask
        p = _softmax_rows(s, mask is not None)                               # attention weights
        keep = dropout_mask(p.shape, self.dropout, p.dtype) if self.training and self.dropout > 0 else None
        p_used = p if keep is None else p * keep
        y = self.out_proj(_merge_heads(np.matmul(p_used, v)))               # concat_h(P_h V_h) W_o^T + b_o
        y = self._to_caller(y, unbatched)
        self._cache = dict(x=(x_q, x_k, x_v), self_attention=self_attention, unbatched=unbatched,
                           q=q, k=k, v=v, p=p, p_used=p_used, keep=keep, y_shape=y.shape)
        return y

    # ----------------------------------------------------------------- backward
    def backward(self, grad_out):
        c = self._cache
        g = self.check_grad_out(grad_out, None if c is None else c["y_shape"])
        d_o = self._heads(self.out_proj.backward(self._from_caller(g, c["unbatched"])))   # (N, H, L, d)
        d_v = np.matmul(c["p_used"].swapaxes(-1, -2), d_o)                   # dV = P^T dO
        d_p = np.matmul(d_o, c["v"].swapaxes(-1, -2))                        # dP = dO V^T
        if c["keep"] is not None:
            d_p *= c["keep"]
        d_p -= np.einsum("...j,...j->...", d_p, c["p"])[..., None]           # dS = P * (dP - rowsum(dP * P))
        d_s = np.multiply(d_p, c["p"], out=d_p)
        d_q = np.matmul(d_s, c["k"])                                        # dQ = dS K / sqrt(d)
        d_q *= d_s.dtype.type(1 / math.sqrt(self.head_dim))
        d_k = np.matmul(d_s.swapaxes(-1, -2), c["q"])                        # dK = dS^T (Q / sqrt(d))
        d_k, d_v = self._extra_keys_backward(d_k, d_v)
        grads = self._in_projection_backward(d_q, d_k, d_v, c["x"], c["self_attention"])
        if grads is None:
            return None
        grads = tuple(self._to_caller(gr, c["unbatched"]) for gr in grads)
        return grads[0] if c["self_attention"] else grads

    # ------------------------------------------------------------ the pieces
    def _inputs(self, query, key, value, self_attention):
        """The checked inputs as batch-first 3-D arrays ``(N, T, features)`` (views where possible)."""
        x_q = self.check_input(query, (...,), name="query")
        unbatched = x_q.ndim == 2
        layout = ("L",) if unbatched else ("N", "L") if self.batch_first else ("L", "N")
        x_q = self.check_input(x_q, layout + (self.embed_dim,), name="query")
        if self_attention and self._qkv_same_embed_dim:
            x_k = x_v = x_q
        else:
            x_k = self.check_input(key, layout + (self.kdim,), name="key")
            x_v = self.check_input(value, layout + (self.vdim,), name="value")
            if x_k.shape[:-1] != x_v.shape[:-1]:
                raise ShapeError(f"{self._short_repr()}: key and value must have the same length and batch "
                                 f"size, got key {x_k.shape} and value {x_v.shape}")
        x_q, x_k, x_v = (self._from_caller(a, unbatched) for a in (x_q, x_k, x_v))
        if x_k.shape[0] != x_q.shape[0]:
            raise ShapeError(f"{self._short_repr()}: query and key must have the same batch size, got query "
                             f"{np.shape(query)} and key {np.shape(key)}")
        return x_q, x_k, x_v, unbatched

    def _from_caller(self, a, unbatched):
        """``(L, N, E)`` (or ``(N, L, E)`` with batch_first, or ``(L, E)``) -> ``(N, L, E)``."""
        return a[None] if unbatched else a if self.batch_first else a.swapaxes(0, 1)

    def _to_caller(self, a, unbatched):
        """``(N, L, E)`` -> the caller's layout (the inverse of ``_from_caller``)."""
        return a[0] if unbatched else a if self.batch_first else a.swapaxes(0, 1)

    def _heads(self, a):
        """``(N, T, E)`` -> ``(N, H, T, d)``, a view."""
        return a.reshape(a.shape[:2] + (self.num_heads, self.head_dim)).transpose(0, 2, 1, 3)

    def _weights(self):
        """``(W_q, W_k, W_v)`` and ``(b_q, b_k, b_v)`` (Nones without bias), views of the Parameters."""
        e = self.embed_dim
        if self.in_proj_weight is not None:
            w = self.in_proj_weight.data
            weights = (w[:e], w[e:2 * e], w[2 * e:])
        else:
            weights = (self.q_proj_weight.data, self.k_proj_weight.data, self.v_proj_weight.data)
        b = None if self.in_proj_bias is None else self.in_proj_bias.data
        return weights, (None,) * 3 if b is None else (b[:e], b[e:2 * e], b[2 * e:])

    def _in_projection(self, x_q, x_k, x_v, self_attention):
        """Q, K, V split into heads. Self-attention: one product ``x W_in^T`` for all three."""
        if self_attention:
            n, length, e = x_q.shape
            qkv = np.dot(x_q.reshape(-1, e), self.in_proj_weight.data.T)
            if self.in_proj_bias is not None:
                qkv += self.in_proj_bias.data
            qkv = qkv.reshape(n, length, 3, e)
            return tuple(self._heads(qkv[:, :, i]) for i in range(3))
        out = []
        for x, w, b in zip((x_q, x_k, x_v), *self._weights()):
            t = np.dot(x.reshape(-1, x.shape[-1]), w.T)
            if b is not None:
                t += b
            out.append(self._heads(t.reshape(x.shape[:2] + (self.embed_dim,))))
        return tuple(out)

    def _in_projection_backward(self, d_q, d_k, d_v, inputs, self_attention):
        """Add the in-projection gradients; return the input gradients (None when not needed)."""
        if self_attention:                                  # one product for [dQ | dK | dV]
            x = inputs[0].reshape(-1, self.embed_dim)
            d = _merge_heads(d_q, d_k, d_v).reshape(-1, 3 * self.embed_dim)
            if self.in_proj_bias is not None:
                self.in_proj_bias.add_grad(d.sum(axis=0))
            self.in_proj_weight.add_grad(np.dot(d.T, x))
            return (np.dot(d, self.in_proj_weight.data).reshape(inputs[0].shape),) if self.needs_input_grad else None
        d = [_merge_heads(t).reshape(-1, self.embed_dim) for t in (d_q, d_k, d_v)]     # (N*T, E) each
        xs = [x.reshape(-1, x.shape[-1]) for x in inputs]
        if self.in_proj_bias is not None:
            self.in_proj_bias.add_grad(np.concatenate([t.sum(axis=0) for t in d]))
        d_w = [np.dot(t.T, x) for t, x in zip(d, xs)]                         # dW = dQ^T x, ...
        if self.in_proj_weight is not None:
            self.in_proj_weight.add_grad(np.concatenate(d_w))
        else:
            for p, g in zip((self.q_proj_weight, self.k_proj_weight, self.v_proj_weight), d_w):
                p.add_grad(g)
        if not self.needs_input_grad:
            return None
        return tuple(np.dot(t, w).reshape(x.shape) for t, w, x in zip(d, self._weights()[0], inputs))

    def _extra_keys(self, k, v):
        """Append ``bias_k``/``bias_v`` and then a zero row to the keys and values (``(N, H, S, d)``)."""
        row = (k.shape[0], self.num_heads, 1, self.head_dim)
        if self.bias_k is not None:
            k = np.concatenate([k, np.broadcast_to(self._heads(self.bias_k.data), row)], axis=2)
            v = np.concatenate([v, np.broadcast_to(self._heads(self.bias_v.data), row)], axis=2)
        if self.add_zero_attn:
            zeros = np.zeros(row, k.dtype)
            k, v = np.concatenate([k, zeros], axis=2), np.concatenate([v, zeros], axis=2)
        return k, v

    def _extra_keys_backward(self, d_k, d_v):
        """Drop the gradients of the appended rows; ``bias_k``/``bias_v`` get theirs (summed over the batch)."""
        if self.add_zero_attn:
            d_k, d_v = d_k[:, :, :-1], d_v[:, :, :-1]
        if self.bias_k is not None:
            self.bias_k.add_grad(_merge_heads(d_k[:, :, -1:]).sum(axis=0, keepdims=True))
            self.bias_v.add_grad(_merge_heads(d_v[:, :, -1:]).sum(axis=0, keepdims=True))
            d_k, d_v = d_k[:, :, :-1], d_v[:, :, :-1]
        return d_k, d_v

    def _mask(self, key_padding_mask, attn_mask, is_causal, n, length, source, unbatched, dtype):
        """The additive mask, broadcastable to the scores ``(N, H, L, S + extra keys)``, or None."""
        mask = None
        if attn_mask is not None:
            mask = self._float_mask("attn_mask", attn_mask, dtype)
            heads = (self.num_heads,) if unbatched else (n * self.num_heads,)
            if mask.shape not in ((length, source), heads + (length, source)):
                raise ShapeError(f"{self._short_repr()}: attn_mask must have shape (L, S) = {(length, source)} or "
                                 f"({'' if unbatched else 'N * '}num_heads, L, S) = {heads + (length, source)}, "
                                 f"got {mask.shape}")
            mask = mask.reshape((-1, self.num_heads, length, source)) if mask.ndim == 3 else mask
        elif is_causal:
            mask = causal_mask(length, source, dtype)
        if key_padding_mask is not None:
            pad = self._float_mask("key_padding_mask", key_padding_mask, dtype)
            expected = (source,) if unbatched else (n, source)
            if pad.shape != expected:
                raise ShapeError(f"{self._short_repr()}: key_padding_mask must have shape "
                                 f"{'(S,)' if unbatched else '(N, S)'} = {expected}, got {pad.shape}")
            pad = pad.reshape(n, 1, 1, source)
            mask = pad if mask is None else mask + pad
        extra = (self.bias_k is not None) + self.add_zero_attn
        if mask is not None and extra:
            mask = np.pad(mask, [(0, 0)] * (mask.ndim - 1) + [(0, extra)])
        return mask

    def _float_mask(self, name, mask, dtype):
        """A bool mask as 0 / -inf (True: masked), a float mask as it is, in ``dtype``."""
        mask = np.asarray(mask)
        if mask.dtype == np.bool_:
            return np.where(mask, dtype.type(-np.inf), dtype.type(0))
        if mask.dtype.kind != "f":
            raise TypeError(f"{self._short_repr()}: {name} must hold bools (True: masked) or floats (added to "
                            f"the scores), got dtype {mask.dtype}")
        return mask.astype(dtype, copy=False)

    # ------------------------------------------------------------------ display
    @property
    def attn_weights(self):
        """The last forward's attention weights averaged over the heads, ``(N, L, S)`` (``(L, S)``
        unbatched), before dropout; None before the first forward."""
        w = self.attn_weights_per_head
        return None if w is None else w.mean(axis=-3)

    @property
    def attn_weights_per_head(self):
        """The last forward's attention weights of every head, ``(N, H, L, S)`` (``(H, L, S)``
        unbatched), before dropout; None before the first forward."""
        c = self._cache
        return None if c is None else c["p"][0] if c["unbatched"] else c["p"]

    def extra_repr(self):
        s = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if not self._qkv_same_embed_dim:
            s += f", kdim={self.kdim}, vdim={self.vdim}"
        if self.batch_first:
            s += ", batch_first=True"
        return s


def _merge_heads(*arrays):
    """``(N, H, T, d)`` arrays -> ``(N, T, k * H * d)``: each array's heads side by side again, the
    k arrays one after the other, in one new array."""
    n, h, t, d = arrays[0].shape
    out = np.empty((n, t, len(arrays), h, d), arrays[0].dtype)
    for i, a in enumerate(arrays):
        out[:, :, i] = a.transpose(0, 2, 1, 3)
    return out.reshape(n, t, len(arrays) * h * d)
