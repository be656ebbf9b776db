"""The Transformer encoder: TransformerEncoderLayer and a stack of them (as ``torch.nn``)."""
import copy

from ..errors import ShapeError
from ..layer import Layer
from ..validation import check_bool, check_int, check_real
from .activation import GELU, ReLU
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .normalization import LayerNorm

_ACTIVATIONS = {"relu": ReLU, "gelu": GELU}


class TransformerEncoderLayer(Layer):
    """One encoder block: self-attention and a feed-forward network, each with a residual add.

    Forward, with ``SA(x) = dropout1(self_attn(x, x, x))`` and
    ``FF(x) = dropout2(linear2(dropout(activation(linear1(x)))))``::

        norm_first=False (post-norm, the 2017 paper):  h = norm1(x + SA(x));   y = norm2(h + FF(h))
        norm_first=True  (pre-norm, GPT-2 and after):  h = x + SA(norm1(x));   y = h + FF(norm2(h))

    Backward is the chain rule through the same steps in reverse. A residual
    add ``h = x + f(x)`` sends ``dL/dh`` down both paths and adds what comes back::

        pre-norm:   dh = dy + norm2.backward(FF.backward(dy))
                    dx = dh + norm1.backward(SA.backward(dh))
        post-norm:  dh = norm2.backward(dy);  dh = dh + FF.backward(dh)
                    dx = norm1.backward(dh);  dx = dx + SA.backward(dx)

    Args:
        d_model: E, the features of every position.
        nhead: attention heads (``d_model`` must be divisible by it).
        dim_feedforward: the hidden width of the feed-forward network (default 2048).
        dropout: dropout probability on the attention weights, after the attention, and inside and
            after the feed-forward network (default 0.1).
        activation: ``'relu'`` (default), ``'gelu'``, or a Layer instance.
        layer_norm_eps: LayerNorm's eps (default 1e-5).
        batch_first: input ``(N, S, E)`` instead of ``(S, N, E)``.
        norm_first: pre-norm instead of post-norm.
        bias: learn biases in the Linear and LayerNorm layers and the attention.

    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``: the masks
    are ``MultiheadAttention``'s ``attn_mask`` and ``key_padding_mask``.

    Sub-layers, as PyTorch names them (so its state dicts load): ``self_attn``,
    ``linear1``, ``dropout``, ``linear2``, ``norm1``, ``norm2``, ``dropout1``, ``dropout2``.

    Shape: src ``(S, N, E)`` (``(N, S, E)`` with ``batch_first``, ``(S, E)`` unbatched); output the same.

    Example:
        >>> block = TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, batch_first=True)
        >>> block(np.random.randn(2, 7, 16)).shape
        (2, 7, 16)
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True):
        super().__init__()
        name = "TransformerEncoderLayer"
        d_model = check_int(name, "d_model", d_model, minimum=1)
        nhead = check_int(name, "nhead", nhead, minimum=1)
        if d_model % nhead:
            raise ValueError(f"{name}: d_model must be divisible by nhead, got d_model={d_model} and nhead={nhead}")
        dim_feedforward = check_int(name, "dim_feedforward", dim_feedforward, minimum=1)
        dropout = check_real(name, "dropout", dropout, minimum=0, maximum=1)
        bias = check_bool(name, "bias", bias)
        if not isinstance(activation, Layer):
            if not isinstance(activation, str) or activation not in _ACTIVATIONS:
                raise ValueError(f"{name}: activation must be 'relu', 'gelu' or a Layer instance, got "
                                 f"{activation!r} ({type(activation).__name__})")
            activation = _ACTIVATIONS[activation]()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=check_bool(name, "batch_first", batch_first))
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = check_bool(name, "norm_first", norm_first)
        eps = check_real(name, "layer_norm_eps", layer_norm_eps, minimum=0)
        self.norm1 = LayerNorm(d_model, eps=eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = activation
        self._shape = None

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        masks = dict(attn_mask=src_mask, key_padding_mask=src_key_padding_mask, is_causal=is_causal)
        x = self.check_input(src, (..., self.linear1.in_features), self.linear1.weight.dtype, name="src")
        if x.ndim not in (2, 3):
            e, batched = x.shape[-1], "N, S" if self.self_attn.batch_first else "S, N"
            raise ShapeError(f"{self._short_repr()}: expected src of shape ({batched}, {e}) or unbatched "
                             f"(S, {e}), got {x.shape}")
        self._shape = x.shape
        if self.norm_first:
            x = x + self._sa(self.norm1(x), masks)
            return x + self._ff(self.norm2(x))
        x = self.norm1(x + self._sa(x, masks))
        return self.norm2(x + self._ff(x))

    def backward(self, grad_out):
        g = self.check_grad_out(grad_out, self._shape)
        if self.norm_first:
            g = g + self.norm2.backward(self._ff_backward(g))
            return g + self.norm1.backward(self._sa_backward(g))
        g = self.norm2.backward(g)
        g = g + self._ff_backward(g)
        g = self.norm1.backward(g)
        return g + self._sa_backward(g)

    def _sa(self, x, masks):
        """The self-attention block: ``dropout1(self_attn(x, x, x))``."""
        return self.dropout1(self.self_attn(x, x, x, **masks))

    def _sa_backward(self, g):
        return self.self_attn.backward(self.dropout1.backward(g))

    def _ff(self, x):
        """The feed-forward block: ``dropout2(linear2(dropout(activation(linear1(x)))))``."""
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def _ff_backward(self, g):
        g = self.linear2.backward(self.dropout2.backward(g))
        return self.linear1.backward(self.activation.backward(self.dropout.backward(g)))


class TransformerEncoder(Layer):
    """A stack of ``num_layers`` copies of ``encoder_layer``, then an optional final norm.

    Forward: ``x = layers.i(x)`` for i = 0 .. num_layers - 1, then ``y = norm(x)``.
    Backward: the same in reverse, ``g = layers.i.backward(g)`` from the last layer to the first.

    The copies are deep copies, so every layer starts from ``encoder_layer``'s
    weights (as in PyTorch) and then trains on its own.

    Args:
        encoder_layer: a ``TransformerEncoderLayer`` (or any layer with its forward arguments).
        num_layers: how many copies to stack.
        norm: an optional final layer (e.g. ``LayerNorm(d_model)``, usual with pre-norm layers).

    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=False)``: passed to every layer.

    Sub-layers: ``layers.0``, ``layers.1``, ..., ``norm`` (PyTorch's state-dict keys).

    Shape: as the encoder layer's.

    Example:
        >>> layer = TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, batch_first=True)
        >>> encoder = TransformerEncoder(layer, num_layers=2)
        >>> encoder(np.random.randn(2, 7, 16)).shape
        (2, 7, 16)
    """

    def __init__(self, encoder_layer, num_layers, norm=None):
        super().__init__()
        if not isinstance(encoder_layer, Layer):
            raise TypeError(f"TransformerEncoder: encoder_layer must be a Layer, got {type(encoder_layer).__name__}")
        if norm is not None and not isinstance(norm, Layer):
            raise TypeError(f"TransformerEncoder: norm must be a Layer or None, got {type(norm).__name__}")
        self.num_layers = check_int("TransformerEncoder", "num_layers", num_layers, minimum=1)
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(self.num_layers)])
        self.norm = norm
        self._shape = None

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=False):
        x = self.check_input(src, (...,), name="src")
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=is_causal)
        y = x if self.norm is None else self.norm(x)
        self._shape = y.shape
        return y

    def backward(self, grad_out):
        g = self.check_grad_out(grad_out, self._shape)
        g = g if self.norm is None else self.norm.backward(g)
        for layer in reversed(list(self.layers)):
            g = layer.backward(g)
        return g
