"""Fuzz every public layer and container against PyTorch (see tests/fuzzing.py for what a trial is).

``LAYERS`` gives, per public class of ``mtorch.layers`` (and ``mtorch.Module``), how to draw
valid constructor arguments and input shapes; everything else is found by introspection:
the arguments to spoil (mtorch's and torch's signatures), the torch class (``torch.nn.<name>``),
the parameters (loaded into torch from mtorch's state dict). A trial spoils at most one thing:
a constructor argument, an input (dtype, form, shape) or ``grad_out`` (dtype, form, shape,
backward before forward); values are drawn with kinks, NaN, inf and large numbers.
``test_every_public_layer_has_a_strategy`` fails for a class without an entry.

An entry is ``L(args, inputs, ...)``:
    args(d) -> dict of valid constructor arguments (``d`` draws from a strategy);
    inputs(d, kw) -> tuple of input shapes (None: pass None, e.g. no initial state; an ``Arr``: that input,
        e.g. ``Arr(shape, "index:V", "int64")`` for indices, listed in ``index_inputs``);
    values: the strategy of input value kinds (see ``fuzzing.Arr``);
    torch(kw) -> the reference module (default ``torch.nn.<name>(**kw)``; None: no reference);
    random: the output is random in training mode (compared with torch in eval mode only);
    out(result) -> the tensor torch's forward returns that mtorch's forward returns;
    extras(layer) / t_extras(result, inputs) -> more values to compare (e.g. an RNN's h_n);
    optional, index_inputs: positions of inputs that may be None, and of integer indices (an
        embedding's): torch gets those as int64 and nothing is differentiated.
See ``L`` for the rest. A new class of a kind already here is one line, e.g.
``"Tanhshrink": L()`` or ``"Embedding": L(lambda d: dict(num_embeddings=d(SIZE), embedding_dim=d(SIZE)),
lambda d, kw: (Arr(d(shapes(0, 2)), f"index:{kw['num_embeddings']}", "int64", seed=d(SEED)),), index_inputs=(0,))``.
"""
import inspect
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtorch
from mtorch import layers
from mtorch.layer import Layer

from fuzzing import (BOOL, FINITE, SEED, SIZE, SIZE0, VALUES, Arr, Grad, LayerCase, Refused, attempt, build,
                     check_coverage, corrupted, differences,
                     fuzz_settings, judge, known_params, mutation, reference, shapes, to_indices, to_tensor,
                     torch, value_kind)

FAMILY = "layers"
nn = torch.nn if torch is not None else None


def public_layers():
    """Every Layer class ``mtorch.layers`` exports, plus ``mtorch.Module``."""
    found = {name: obj for name, obj in vars(layers).items()
             if isinstance(obj, type) and issubclass(obj, Layer) and not name.startswith("_")}
    found["Module"] = mtorch.Module
    return found


# ---------------------------------------------------------------- sub-layers of containers
@dataclass(frozen=True)
class Sub:
    """A layer inside a container case, built fresh for every run: ``Sub("Linear", (3, 2))``."""
    name: str
    args: tuple = ()
    kwargs: tuple = ()                        # (name, value) pairs

    def build(self):
        return getattr(layers, self.name)(*self.args, **dict(self.kwargs))

    def torch(self):
        return getattr(nn, self.name)(*self.args, **dict(self.kwargs))

    def __repr__(self):
        return f"Sub({self.name!r}, {self.args!r}" + (f", {self.kwargs!r})" if self.kwargs else ")")


def build_all(x):
    if isinstance(x, Sub):
        return x.build()
    if isinstance(x, (list, tuple)):
        return type(x)(build_all(v) for v in x)
    if isinstance(x, dict):
        return {k: build_all(v) for k, v in x.items()}
    return build(x)


def torch_all(x):
    if isinstance(x, Sub):
        return x.torch()
    if isinstance(x, (list, tuple)):
        return type(x)(torch_all(v) for v in x)
    if isinstance(x, dict):
        return {k: torch_all(v) for k, v in x.items()}
    return x


def chain(d, n_in):
    """A strategy-drawn list of Subs mapping n_in features to some n_out; returns (subs, n_out)."""
    subs, n = [], n_in
    for _ in range(d(st.integers(1, 3))):
        if d(BOOL):
            out = d(SIZE)
            subs.append(Sub("Linear", (n, out)))
            n = out
        else:
            subs.append(Sub(d(st.sampled_from(("ReLU", "Tanh", "Sigmoid")))))
    return subs, n


if torch is not None:
    class TorchResidual(nn.Module):
        def __init__(self, body, shortcut=None):
            super().__init__()
            self.body, self.shortcut = body, nn.Identity() if shortcut is None else shortcut

        def forward(self, x):
            return self.body(x) + self.shortcut(x)

    class TorchConcat(nn.Module):
        def __init__(self, *branches, dim=1):
            super().__init__()
            for i, b in enumerate(branches):
                self.add_module(str(i), b)
            self.dim = dim

        def forward(self, x):
            return torch.cat([b(x) for b in self.children()], dim=self.dim)

    class TorchReshape(nn.Module):
        def __init__(self, shape):
            super().__init__()
            self.shape = shape

        def forward(self, x):
            shape = tuple(self.shape) if isinstance(self.shape, (tuple, list)) else (self.shape,)
            return x.reshape((x.shape[0],) + shape)

    class TorchShuffle(nn.Module):
        """torch's PixelShuffle/PixelUnshuffle, with the shape its checks accept as a reshape for a zero-size
        input (TORCH_WRONG["empty-pixel-shuffle"])."""

        def __init__(self, name, **kwargs):
            super().__init__()
            self.inner, self.up = getattr(nn, name)(**kwargs), name == "PixelShuffle"
            self.r = self.inner.upscale_factor if self.up else self.inner.downscale_factor

        def forward(self, x):
            y = self.inner(x)
            if x.numel():
                return y
            *lead, c, h, w = x.shape
            r = self.r
            shape = (c // r ** 2, h * r, w * r) if self.up else (c * r ** 2, h // r, w // r)
            return x.reshape(tuple(lead) + shape)

    class TorchSelfAttention(nn.Module):
        """torch's MultiheadAttention called as mtorch's ``layer(x)``: self-attention, the output alone."""

        def __init__(self, **kwargs):
            super().__init__()
            self.inner = nn.MultiheadAttention(**kwargs)

        def forward(self, x):
            return self.inner(x, x, x, need_weights=False)[0]

        def state_dict(self, *args, **kwargs):
            return self.inner.state_dict(*args, **kwargs)

        def load_state_dict(self, state, strict=True):
            return self.inner.load_state_dict(state, strict=strict)

        def named_parameters(self, *args, **kwargs):
            return self.inner.named_parameters(*args, **kwargs)

    def torch_instance_norm(name):
        """torch's InstanceNorm1d/2d; with affine=True and a zero-size input its own forward fails (an
        IndexError, TORCH_WRONG["empty-instance-norm"]), so the scale and shift are applied after it."""
        class Patched(getattr(nn, name)):
            def forward(self, x):
                if not (self.affine and x.numel() == 0):
                    return super().forward(x)
                weight, bias = self.weight, self.bias
                self.weight = self.bias = None
                try:
                    y = super().forward(x)
                finally:
                    self.weight, self.bias = weight, bias
                shape = (-1,) + (1,) * (x.dim() - 2 if x.dim() == self._get_no_batch_dim() + 1 else x.dim() - 1)
                return y * weight.view(shape) + (0 if bias is None else bias.view(shape))
        return Patched


# ---------------------------------------------------------------- the table
@dataclass
class L:
    args: object = lambda d: {}
    inputs: object = lambda d, kw: (d(shapes()),)
    values: object = VALUES
    torch: object = "default"
    random: bool = False
    out: object = lambda result: result
    extras: object = lambda layer: {}
    t_extras: object = lambda result, inputs: {}
    positional: tuple = ()                    # argument names passed positionally (containers' *layers)
    names: object = lambda kw: ()             # more class names an error may name (a container's layers)
    input_grads: int = None                   # how many inputs backward returns a gradient for (default all)
    torch_empty_backward: bool = True         # False: torch's backward refuses a zero-size output (a kernel limit)
    optional: tuple = ()                      # positions of inputs that may be None (e.g. an initial state)
    index_inputs: tuple = ()                  # positions of integer inputs (indices): int64 for torch, no gradient
    mutable: set = field(default_factory=set)  # arguments to spoil beyond the signatures'
    empty_axes: int = 0                       # window layers: trailing axes (channels, positions) torch may refuse
                                              # empty (ALLOWED_DIFFERENCES["empty-axes"])


def lead(min_dims=0, max_dims=2):
    """Leading (batch) dimensions, zero-size included."""
    return shapes(min_dims, max_dims, 0, 3)


def images(d, channels, min_side=1, dims=2, unbatched=False):
    """An ``(N, C, *spatial)`` input shape with ``dims`` spatial axes (``unbatched``: sometimes without N)."""
    batch = () if unbatched and d(BOOL) else (d(st.integers(0, 2)),)
    return batch + (channels,) + tuple(d(st.integers(min_side, 6)) for _ in range(dims))


def ints_or_pairs(low, high, dims=2):
    """An int, or a tuple of ``dims`` ints (1-d layers: an int or a 1-tuple)."""
    return st.one_of(st.integers(low, high), st.tuples(*[st.integers(low, high)] * dims))


def per_axis(value, dims):
    return (value,) * dims if isinstance(value, int) else tuple(value)


def pool_args(d, dilation=True, dims=2):
    k = d(ints_or_pairs(1, 3, dims))
    ks = per_axis(k, dims)
    args = dict(kernel_size=k, stride=d(st.one_of(st.none(), ints_or_pairs(1, 3, dims))),
                padding=d(st.one_of(st.integers(0, min(ks) // 2), st.tuples(*[st.integers(0, k_ // 2) for k_ in ks]))),
                ceil_mode=d(BOOL))
    if dilation:
        args["dilation"] = d(st.sampled_from((1, 1, 2)))
    return args


def conv_args(d, dims=2, transposed=False):
    stride = d(st.sampled_from((1, 1, 2) + (((1, 2),) if dims == 2 else ())))
    dilation = d(st.sampled_from((1, 1, 2)))
    groups = d(st.sampled_from((1, 1, 2)))
    args = dict(in_channels=groups * d(SIZE), out_channels=groups * d(SIZE), kernel_size=d(ints_or_pairs(1, 3, dims)),
                stride=stride, dilation=dilation, groups=groups, bias=d(BOOL))
    if transposed:
        limit = min(max(s, dilation) for s in per_axis(stride, dims))
        return dict(args, padding=d(st.sampled_from((0, 1, 2))), output_padding=d(st.integers(0, limit - 1)))
    pads = (0, 1, 2, "valid") + (((1, 0),) if dims == 2 else ()) + (("same",) if stride == 1 else ())
    return dict(args, padding=d(st.sampled_from(pads)),
                padding_mode=d(st.sampled_from(("zeros", "zeros", "reflect", "replicate", "circular"))))


def pad_args(d, dims, mode):
    low = -1 if mode in ("zero", "constant") else 0             # a negative amount crops
    return dict(padding=d(st.one_of(st.integers(low, 2), st.tuples(*[st.integers(low, 2)] * (2 * dims)))))


def upsample_args(d):
    mode = d(st.sampled_from(("nearest", "nearest", "nearest-exact", "linear", "bilinear", "bicubic")))
    dims = {"linear": 1, "bilinear": 2, "bicubic": 2}.get(mode) or d(st.sampled_from((1, 2)))
    sizes = st.one_of(st.integers(1, 6), st.tuples(*[st.integers(1, 6)] * dims))
    factors = st.one_of(st.sampled_from((2, 3, 0.5, 1.5, 2.0, 1.7)),
                        st.tuples(*[st.sampled_from((1, 2, 0.5, 1.5, 2.5))] * dims))
    args = dict(size=d(sizes), _dims=dims) if d(BOOL) else \
        dict(scale_factor=d(factors), recompute_scale_factor=d(st.sampled_from((None, None, True))), _dims=dims)
    if mode not in ("nearest", "nearest-exact"):
        args["align_corners"] = d(st.sampled_from((None, True, False)))
    return dict(args, mode=mode)


def glu_input(d, kw):
    shape = list(d(shapes(1, 3, 1, 3)))
    if -len(shape) <= kw["dim"] < len(shape):
        shape[kw["dim"]] *= 2
    return (tuple(shape),)


def unflatten_case(d):
    shape = d(shapes(1, 3, 0, 4))
    dim = d(st.integers(-len(shape), len(shape) - 1))
    size = shape[dim]
    split = d(st.sampled_from([(size,), (1, size), (-1,), (size, 1, -1)] + [(k, size // k) for k in (2, 3)
                                                                             if size and size % k == 0]))
    return dict(dim=dim, unflattened_size=split, _shape=shape)


def groupnorm_args(d):
    groups = d(SIZE)
    return dict(num_groups=groups, num_channels=groups * d(st.integers(1, 2)), eps=d(st.sampled_from((1e-5, 0.5))),
                affine=d(BOOL))


def cell(states=1, gates_args=lambda d: {}):
    """An entry for RNNCell/LSTMCell/GRUCell: x (N, I) or (I,), an optional state (LSTMCell: (h, c))."""
    def inputs(d, kw):
        batch = d(st.sampled_from(((), (d(SIZE0),))))
        x, state = batch + (kw["input_size"],), batch + (kw["hidden_size"],)
        if d(BOOL):
            return (x,)
        return (x, state if states == 1 else (state, state))

    return L(lambda d: dict(input_size=d(SIZE), hidden_size=d(SIZE), bias=d(BOOL), **gates_args(d)), inputs,
             optional=(1,))


def batchnorm_args(d):
    return dict(num_features=d(SIZE), eps=d(st.sampled_from((1e-5, 1e-3, 0.5))),
                momentum=d(st.sampled_from((0.1, 0.0, 1.0, 0.5, None))), affine=d(BOOL),
                track_running_stats=d(BOOL))


def recurrent(gates_args=lambda d: {}, states=1):
    """An entry for RNN/LSTM/GRU: x (T, N, in) or batch first, an optional initial state, and the
    final state(s) and their gradients compared too."""

    def args(d):
        return dict(input_size=d(SIZE), hidden_size=d(SIZE), num_layers=d(st.integers(1, 2)), bias=d(BOOL),
                    batch_first=d(BOOL), **gates_args(d))

    def inputs(d, kw):
        t, n = d(st.integers(1, 4)), d(SIZE0)
        x = (n, t, kw["input_size"]) if kw["batch_first"] else (t, n, kw["input_size"])
        state = (kw["num_layers"], n, kw["hidden_size"])
        if d(BOOL):
            return (x,)
        return (x, state if states == 1 else (state, state))

    def extras(layer):
        found = {"h_n": layer.h_n, "grad_h0": layer.grad_h0}
        if states == 2:
            found.update(c_n=layer.c_n, grad_c0=layer.grad_c0)
        return found

    def t_extras(result, inputs):
        final = result[1] if states == 1 else result[1][0]
        found = {"h_n": final}
        h0 = inputs[1] if len(inputs) > 1 else None
        h0 = h0 if states == 1 or h0 is None else h0[0]
        found["grad_h0"] = None if h0 is None else h0.grad
        if states == 2:
            found["c_n"] = result[1][1]
            found["grad_c0"] = None if len(inputs) < 2 or inputs[1] is None else inputs[1][1].grad
        return found

    return L(args, inputs, out=lambda result: result[0], extras=extras, t_extras=t_extras, input_grads=1,
             optional=(1,))


def reshape_case(d):
    tail = d(shapes(1, 3, 1, 3))
    size = int(np.prod(tail))
    shape = d(st.sampled_from([(size,), (-1,), tail[::-1], (1, size), (size, -1) if size else (size,)]))
    return tail, shape


def sequential_args(d):
    n = d(SIZE)
    subs, _ = chain(d, n)
    return {"layers": subs, "_in": n}


def residual_args(d):
    n = d(SIZE)
    subs, m = chain(d, n)
    body = Sub("Linear", (n, n)) if m != n else subs[0] if len(subs) == 1 else None
    if body is None:
        return {"body": Sub("Linear", (n, n)), "shortcut": d(st.sampled_from((None, Sub("Linear", (n, n))))),
                "_in": n}
    return {"body": body, "shortcut": d(st.sampled_from((None, Sub("Identity")))), "_in": n}


def concat_args(d):
    n = d(SIZE)
    branches = [Sub("Linear", (n, d(SIZE))) if d(BOOL) else Sub("Tanh") for _ in range(d(st.integers(1, 3)))]
    return {"branches": branches, "dim": d(st.sampled_from((1, -1))), "_in": n}


def module_args(d):
    n = d(SIZE)
    subs, _ = chain(d, n)
    return {"sequential": subs, "input_grad": d(st.sampled_from((None, True, False))), "_in": n}


def features(d, kw):
    return (d(lead(1, 2)) + (kw["_in"],),)


def no_forward(d):
    return {"layers": [Sub("Linear", (d(SIZE), d(SIZE))) for _ in range(d(st.integers(0, 2)))]}


def embedding_args(d):
    n = d(SIZE)
    return dict(num_embeddings=n, embedding_dim=d(SIZE0), padding_idx=d(st.one_of(st.none(), st.integers(-n, n - 1))),
                max_norm=d(st.sampled_from((None, None, 1.0, 0.5))), norm_type=d(st.sampled_from((2.0, 2.0, 1.0))),
                scale_grad_by_freq=d(BOOL))


def indices(d, kw):
    return (Arr(d(shapes(0, 2)), f"index:{kw['num_embeddings']}", "int64", seed=d(SEED)),)


def norm_args(d, rms=False):
    """LayerNorm / RMSNorm: normalized_shape an int or a tuple (the trailing axes ``_shape``)."""
    shape = d(shapes(1, 2, 1, 3))
    args = dict(normalized_shape=shape[0] if len(shape) == 1 and d(BOOL) else shape, elementwise_affine=d(BOOL),
                eps=d(st.sampled_from((None, 1e-5, 0.5) if rms else (1e-5, 0.5))), _shape=shape)
    return args if rms else dict(args, bias=d(BOOL))


def sequence(d, features, batch_first):
    """A ``(L, N, E)`` input shape (``(N, L, E)`` batch-first), or an unbatched ``(L, E)``."""
    length, batch = d(SIZE), d(SIZE0)
    if d(BOOL):
        return ((length, features),)
    return ((batch, length, features) if batch_first else (length, batch, features),)


def attention_args(d):
    heads = d(st.integers(1, 3))
    return dict(embed_dim=heads * d(SIZE), num_heads=heads, bias=d(BOOL), add_bias_kv=d(BOOL),
                add_zero_attn=d(BOOL), batch_first=d(BOOL))


def encoder_layer_args(d):
    heads = d(st.integers(1, 2))
    return dict(d_model=heads * d(SIZE), nhead=heads, dim_feedforward=d(SIZE), dropout=0.0,
                activation=d(st.sampled_from(("relu", "gelu"))), layer_norm_eps=d(st.sampled_from((1e-5, 0.1))),
                batch_first=d(BOOL), norm_first=d(BOOL), bias=d(BOOL))


def encoder_args(d):
    layer = encoder_layer_args(d)
    norm = d(st.sampled_from((None, Sub("LayerNorm", (layer["d_model"],)))))
    return dict(encoder_layer=Sub("TransformerEncoderLayer", kwargs=tuple(layer.items())),
                num_layers=d(st.integers(1, 2)), norm=norm, _layer=layer)


ANY = lambda d, kw: (d(shapes()),)  # noqa: E731

ELEMENTWISE = ("ReLU", "Sigmoid", "Tanh", "Identity", "Hardsigmoid", "Hardswish", "LogSigmoid", "Mish", "ReLU6",
               "SELU", "SiLU", "Softsign", "Tanhshrink")
SOFTMAX = L(lambda d: dict(dim=d(st.integers(-2, 1))), lambda d, kw: (d(shapes(2, 4)),))
OUTPUT_SIZE = st.one_of(SIZE, st.tuples(st.one_of(st.none(), SIZE), st.one_of(st.none(), SIZE)))
SIGNALS = lambda d, kw: (images(d, d(SIZE), 1, 1, True),)  # noqa: E731
PICTURES = lambda d, kw: (images(d, d(SIZE), 1, 2, True),)  # noqa: E731

LAYERS = {
    **{name: L() for name in ELEMENTWISE},
    "ELU": L(lambda d: dict(alpha=d(st.floats(0.1, 3)))),
    "CELU": L(lambda d: dict(alpha=d(st.floats(0.1, 3)))),
    "LeakyReLU": L(lambda d: dict(negative_slope=d(st.floats(-1, 1)))),
    "PReLU": L(lambda d: dict(num_parameters=d(st.sampled_from((1, 1, 2, 3))), init=d(st.floats(-1, 1))),
               lambda d, kw: (d(shapes()) if kw["num_parameters"] == 1 else
                              (d(st.integers(0, 3)), kw["num_parameters"]) + d(shapes(0, 2)),)),
    "Hardtanh": L(lambda d: dict(min_val=d(st.sampled_from((-1.0, -2.0, 0.0))), max_val=d(st.sampled_from((1.0, 0.5))))),
    "Threshold": L(lambda d: dict(threshold=d(st.floats(-1, 1)), value=d(st.floats(-2, 2)))),
    "Hardshrink": L(lambda d: dict(lambd=d(st.floats(0, 1)))),
    "Softshrink": L(lambda d: dict(lambd=d(st.floats(0, 1)))),
    "GELU": L(lambda d: dict(approximate=d(st.sampled_from(("none", "tanh"))))),
    "Softplus": L(lambda d: dict(beta=d(st.sampled_from((1.0, 0.5, 2.0))), threshold=d(st.sampled_from((20.0, 1.0))))),
    "Softmax": SOFTMAX, "Softmin": SOFTMAX, "LogSoftmax": SOFTMAX,
    "Softmax2d": L(inputs=lambda d, kw: (d(shapes(3, 4)),)),
    "GLU": L(lambda d: dict(dim=d(st.integers(-2, 1))), glu_input),
    "Linear": L(lambda d: dict(in_features=d(SIZE0), out_features=d(SIZE0), bias=d(BOOL)),
                lambda d, kw: (d(lead()) + (kw["in_features"],),)),
    "Flatten": L(lambda d: dict(start_dim=d(st.integers(-2, 2)), end_dim=d(st.integers(-2, 2))),
                 lambda d, kw: (d(shapes(3, 4)),)),
    "Unflatten": L(unflatten_case, lambda d, kw: (kw["_shape"],)),
    "Reshape": L(lambda d: dict(zip(("_tail", "shape"), reshape_case(d))),
                 lambda d, kw: ((d(SIZE0),) + kw["_tail"],), torch=lambda kw: TorchReshape(kw["shape"])),
    "Dropout": L(lambda d: dict(p=d(st.sampled_from((0.0, 0.5, 1.0, 0.2)))), random=True),
    "Dropout2d": L(lambda d: dict(p=d(st.sampled_from((0.0, 0.5, 1.0, 0.2)))),
                   lambda d, kw: (images(d, d(SIZE)),), random=True),
    "Conv1d": L(lambda d: conv_args(d, 1), lambda d, kw: (images(d, kw["in_channels"], 3, 1, True),)),
    "Conv2d": L(conv_args, lambda d, kw: (images(d, kw["in_channels"], 3, 2, True),)),
    "ConvTranspose1d": L(lambda d: conv_args(d, 1, transposed=True),
                         lambda d, kw: (images(d, kw["in_channels"], 1, 1, True),)),
    "ConvTranspose2d": L(lambda d: conv_args(d, 2, transposed=True),
                         lambda d, kw: (images(d, kw["in_channels"], 1, 2, True),)),
    "MaxPool1d": L(lambda d: pool_args(d, dims=1), lambda d, kw: (images(d, d(SIZE), 2, 1, True),), empty_axes=2),
    "MaxPool2d": L(pool_args, lambda d, kw: (images(d, d(SIZE), 2, 2, True),), empty_axes=3),
    "AvgPool1d": L(lambda d: dict(pool_args(d, dilation=False, dims=1), count_include_pad=d(BOOL)),
                   lambda d, kw: (images(d, d(SIZE), 2, 1, True),), empty_axes=2),
    "AvgPool2d": L(lambda d: dict(pool_args(d, dilation=False), count_include_pad=d(BOOL),
                                  divisor_override=d(st.sampled_from((None, None, 1, 3)))),
                   lambda d, kw: (images(d, d(SIZE), 2, 2, True),), empty_axes=3),
    "AdaptiveAvgPool1d": L(lambda d: dict(output_size=d(SIZE)), SIGNALS, torch_empty_backward=False, empty_axes=2),
    "AdaptiveAvgPool2d": L(lambda d: dict(output_size=d(OUTPUT_SIZE)), PICTURES, torch_empty_backward=False,
                           empty_axes=3),
    "AdaptiveMaxPool1d": L(lambda d: dict(output_size=d(SIZE)), SIGNALS, torch_empty_backward=False, empty_axes=2),
    "AdaptiveMaxPool2d": L(lambda d: dict(output_size=d(OUTPUT_SIZE)), PICTURES, torch_empty_backward=False,
                           empty_axes=3),
    **{f"{mode}Pad{n}d": L(lambda d, n=n, mode=mode: dict(pad_args(d, n, mode.lower()), **(
        {"value": d(st.floats(-2, 2))} if mode == "Constant" else {})),
        lambda d, kw, n=n: (images(d, d(SIZE), 1, n, True),), empty_axes=n + 1)
       for mode in ("Zero", "Constant", "Reflection", "Replication", "Circular") for n in (1, 2)},
    "Upsample": L(upsample_args, lambda d, kw: (images(d, d(SIZE), 1, kw["_dims"]),), empty_axes=3),
    "PixelShuffle": L(lambda d: dict(upscale_factor=d(st.integers(1, 3))),
                      lambda d, kw: (d(lead(0, 2)) + (d(SIZE0) * kw["upscale_factor"] ** 2, d(SIZE), d(SIZE)),),
                      torch=lambda kw: TorchShuffle("PixelShuffle", **kw)),
    "PixelUnshuffle": L(lambda d: dict(downscale_factor=d(st.integers(1, 3))),
                        lambda d, kw: (d(lead(0, 2)) + (d(SIZE0),) + (d(SIZE) * kw["downscale_factor"],) * 2,),
                        torch=lambda kw: TorchShuffle("PixelUnshuffle", **kw)),
    "BatchNorm1d": L(batchnorm_args, lambda d, kw: ((d(st.integers(0, 4)), kw["num_features"])
                                                    + d(st.sampled_from(((), (1,), (3,)))),)),
    "BatchNorm2d": L(batchnorm_args, lambda d, kw: (images(d, kw["num_features"]),)),
    "InstanceNorm1d": L(batchnorm_args, lambda d, kw: (images(d, kw["num_features"], 1, 1, True),),
                        torch=lambda kw: torch_instance_norm("InstanceNorm1d")(**kw)),
    "InstanceNorm2d": L(batchnorm_args, lambda d, kw: (images(d, kw["num_features"], 1, 2, True),),
                        torch=lambda kw: torch_instance_norm("InstanceNorm2d")(**kw)),
    "GroupNorm": L(groupnorm_args, lambda d, kw: ((d(st.integers(0, 3)), kw["num_channels"]) + d(shapes(0, 2, 1, 3)),)),
    "RNN": recurrent(lambda d: dict(nonlinearity=d(st.sampled_from(("tanh", "relu"))))),
    "LSTM": recurrent(states=2),
    "GRU": recurrent(),
    "RNNCell": cell(gates_args=lambda d: dict(nonlinearity=d(st.sampled_from(("tanh", "relu"))))),
    "LSTMCell": cell(states=2),
    "GRUCell": cell(),
    "Embedding": L(embedding_args, indices, index_inputs=(0,)),
    "LayerNorm": L(norm_args, lambda d, kw: (d(lead()) + kw["_shape"],)),
    "RMSNorm": L(lambda d: norm_args(d, rms=True), lambda d, kw: (d(lead()) + kw["_shape"],)),
    "MultiheadAttention": L(attention_args, lambda d, kw: sequence(d, kw["embed_dim"], kw["batch_first"]),
                            torch=lambda kw: TorchSelfAttention(**kw)),
    "TransformerEncoderLayer": L(encoder_layer_args, lambda d, kw: sequence(d, kw["d_model"], kw["batch_first"])),
    "TransformerEncoder": L(encoder_args, lambda d, kw: sequence(d, kw["_layer"]["d_model"], kw["_layer"]["batch_first"]),
                            torch=lambda kw: nn.TransformerEncoder(**kw, enable_nested_tensor=False),
                            names=lambda kw: _sub_names([kw["encoder_layer"], kw["norm"]])),
    "Sequential": L(sequential_args, features, values=FINITE, torch=lambda kw: nn.Sequential(*torch_all(kw["layers"])),
                    positional=("layers",), names=lambda kw: _sub_names(kw["layers"])),
    "Residual": L(residual_args, features, values=FINITE, torch=lambda kw: TorchResidual(torch_all(kw["body"]),
                                                                          torch_all(kw["shortcut"])),
                  names=lambda kw: _sub_names([kw["body"], kw["shortcut"]])),
    "Concat": L(concat_args, features, values=FINITE,
                torch=lambda kw: TorchConcat(*torch_all(kw["branches"]), dim=kw["dim"]),
                positional=("branches",), names=lambda kw: _sub_names(kw["branches"])),
    "Module": L(module_args, features, values=FINITE, names=lambda kw: ("Sequential",) + _sub_names(kw["sequential"]),
                torch=lambda kw: nn.Sequential(*torch_all(kw["sequential"]))),
    "ModuleList": L(no_forward, ANY, torch=lambda kw: nn.ModuleList(torch_all(kw["layers"]))),
    "ModuleDict": L(lambda d: {"layers": {f"l{i}": s for i, s in enumerate(no_forward(d)["layers"])}}, ANY,
                    torch=lambda kw: nn.ModuleDict(torch_all(kw["layers"]))),
}


def _sub_names(subs):
    return tuple(s.name for s in subs if isinstance(s, Sub)) if isinstance(subs, (list, tuple)) else ()


def _wrap_module(kw):
    """``Module(Sequential([...]))`` from a case's ``sequential`` list (junk stays junk)."""
    seq = kw["sequential"]
    return mtorch.Module(mtorch.Sequential(seq) if isinstance(seq, list) else seq, input_grad=kw["input_grad"])


# ---------------------------------------------------------------- cases
def _signature_params(cls):
    try:
        params = inspect.signature(cls.__init__).parameters.values()
    except (TypeError, ValueError):
        return set()
    return {p.name for p in params if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def mutable_params(name, cls):
    """The arguments a trial may spoil: mtorch's and torch's (torch-only ones must be refused clearly)."""
    spec = LAYERS[name]
    names = _signature_params(cls) | set(spec.mutable) | set(spec.positional)
    if torch is not None and hasattr(nn, name):
        names |= _signature_params(getattr(nn, name)) - {"device", "dtype"}
    return names


def draw_case(d, name):
    cls, spec = PUBLIC[name], LAYERS[name]
    kwargs = spec.args(d)
    shapes_ = spec.inputs(d, kwargs)
    inputs = tuple(_input(d, s, spec) for s in shapes_)
    kind = d(st.sampled_from(("valid", "valid", "valid", "ctor", "input", "grad")), label="spoil")
    grad, key = Grad("match", d(st.sampled_from(("normal", "normal", "integers"))), d(SEED)), "valid"
    if kind == "ctor" and mutable_params(name, cls):
        key, arg, value = d(mutation(mutable_params(name, cls)))
        kwargs = dict(kwargs, **{arg: value})
    elif kind == "input":
        i = d(st.integers(0, len(inputs) - 1))
        if isinstance(inputs[i], Arr):
            how, spoiled = d(corrupted(inputs[i]))
            inputs = inputs[:i] + (spoiled,) + inputs[i + 1:]
            key = f"input{i}:{how}"
    elif kind == "grad":
        grad = Grad(d(st.sampled_from(("float32", "int64", "list", "none", "complex128", "str", "shape+",
                                       "size+", "before"))), "normal", grad.seed)
        key = f"grad:{grad.kind}"
    return LayerCase(name, kwargs, inputs, grad, training=d(st.sampled_from((True, True, False))),
                     double=d(st.sampled_from((True, True, False))), key=f"{key}/{value_kind(inputs)}")


def _input(d, shape, spec):
    if shape is None or isinstance(shape, Arr):         # an entry may give an input itself (e.g. indices)
        return shape
    if isinstance(shape, tuple) and shape and isinstance(shape[0], tuple):
        return tuple(_input(d, s, spec) for s in shape)
    return Arr(tuple(shape), d(spec.values), "float64", "array", d(SEED))


# ---------------------------------------------------------------- one trial
def construct(name, kwargs):
    """The mtorch layer for a case's arguments (Subs built, private ``_`` entries dropped)."""
    spec, cls = LAYERS[name], PUBLIC[name]
    kw = {k: build_all(v) for k, v in kwargs.items() if not k.startswith("_")}
    if name == "Module":
        return _wrap_module(kw)
    args = [kw.pop(p) for p in spec.positional if p in kw]
    if name in ("Sequential", "ModuleList", "ModuleDict"):
        return cls(*args, **kw)
    if args and isinstance(args[0], list):
        return cls(*args[0], **kw)
    return cls(*args, **kw)


def _as_tuple(grads, n):
    """One entry per input; a missing gradient is None, which the comparison reports."""
    grads = list(grads) if isinstance(grads, tuple) else [grads]
    return grads + [None] * (n - len(grads))


def run_mtorch(case, box):
    spec = LAYERS[case.name]
    mtorch.manual_seed(0)                          # dropout masks: the same for every run of a case
    layer = attempt("ctor", construct, case.name, case.kwargs)
    if case.double:
        layer.double()
    layer.train(case.training)
    box["state"] = layer.state_dict()
    if case.grad.kind == "before":
        attempt("backward", layer.backward, np.zeros(2))
        return {}
    inputs = build(case.inputs)
    box["precision"] = _precision(layer, inputs)
    out = attempt("forward", layer, *inputs)
    g = case.grad.build(out)
    box["grad_out"] = g
    if next(layer.parameters(), None) is None and _dtype(g).kind == "f":     # no parameters: backward computes
        box["precision"] = min(box["precision"], _dtype(g), key=lambda t: t.itemsize)   # in grad_out's dtype too
    grads = attempt("backward", layer.backward, g)
    return {"out": out, "grads": _as_tuple(grads, len(case.inputs)), "params": dict(_param_grads(layer)),
            "state": layer.state_dict(), "state0": box["state"], "extras": spec.extras(layer), "inputs": inputs,
            "grad_out": g,
            "precision": box["precision"]}


def _precision(layer, inputs):
    """The least precise float dtype the layer computed in: its parameters' and its float inputs' (a
    container may compute its first layers in the input's dtype); with no parameters, integers and bools
    become float32."""
    dtypes = [p.dtype for p in layer.parameters()]
    parameters = bool(dtypes)
    for x in inputs:
        dtype = _dtype(x)
        if dtype.kind == "f" or not parameters:
            dtypes.append(dtype if dtype.kind == "f" else np.dtype(np.float32))
    return min(dtypes, key=lambda t: t.itemsize, default=np.dtype(np.float64))


def _dtype(x):
    """The dtype of an input (float64 for what is not an array of real numbers: None, a tuple, ragged)."""
    try:
        dtype = np.asarray(x).dtype if x is not None and not isinstance(x, tuple) else np.dtype(np.float64)
    except ValueError:
        return np.dtype(np.float64)
    return dtype if dtype.kind in "biuf" else np.dtype(np.float64)


def _param_grads(layer):
    for name, p in layer.named_parameters():
        yield name, p.grad


def _tensor_input(x, built, precision, optional):
    """What torch's forward is given for the case's input ``x`` (built as ``built``): arrays become
    float64 tensors rounded to mtorch's ``precision``; None stays None where it is ``optional``
    (e.g. no initial state)."""
    if x is None or (built is None and optional):
        return None
    if isinstance(x, tuple):
        return tuple(_tensor_input(a, b, precision, False) for a, b in zip(x, built))
    return reference("input", to_tensor, built, True, precision)


def run_torch(case, box):
    spec = LAYERS[case.name]
    if case.grad.kind == "before":
        reference("backward", _raise, "backward before forward")
    kw = {k: torch_all(build(v)) for k, v in case.kwargs.items() if not k.startswith("_")}
    if kw.get("inplace") is True:
        kw["inplace"] = False                         # ALLOWED_DIFFERENCES["inplace"]
    if case.name == "RMSNorm" and kw.get("eps") is None:
        kw["eps"] = float(np.finfo(box["precision"]).eps)     # ALLOWED_DIFFERENCES["rmsnorm-eps"]
    make = (lambda kw: getattr(nn, case.name)(**kw)) if spec.torch == "default" else spec.torch
    module = reference("ctor", make, kw)
    module.double()
    module.train(case.training)
    state = {k: torch.from_numpy(np.array(v, dtype=np.float64 if v.dtype.kind == "f" else v.dtype))
             for k, v in box["state"].items()}
    module.load_state_dict(state, strict=True)
    built = build(case.inputs)
    inputs = [reference("input", to_indices, b) if i in spec.index_inputs else
              _tensor_input(x, b, box["precision"], i in spec.optional)
              for i, (x, b) in enumerate(zip(case.inputs, built))]
    try:
        result = reference("forward", module, *inputs)
    except Refused:
        if spec.empty_axes and 0 in np.shape(built[0])[-spec.empty_axes:]:
            return None                                 # ALLOWED_DIFFERENCES["empty-axes"]
        raise
    out = spec.out(result)
    outs, grad_outs = _backward_pairs(out, box["grad_out"], box["precision"])
    if any(o.requires_grad for o in outs) and (all(o.numel() for o in outs) or spec.torch_empty_backward):
        reference("backward", torch.autograd.backward, [o for o in outs if o.requires_grad],
                  [g for o, g in zip(outs, grad_outs) if o.requires_grad])
    grads = [_input_grad(x) for x in inputs]
    params = {n: p.grad for n, p in module.named_parameters()}
    return {"out": out, "grads": grads, "params": params, "state": module.state_dict(),
            "extras": spec.t_extras(result, inputs)}


def _backward_pairs(out, g, precision):
    """torch's outputs and the grad_out tensors for them (an output may be a tuple, e.g. LSTMCell's (h, c))."""
    outs = out if isinstance(out, tuple) else (out,)
    gs = g if isinstance(out, tuple) and isinstance(g, tuple) else (g,)
    if len(gs) != len(outs):
        reference("backward", _raise, f"{len(gs)} grad_out arrays for {len(outs)} outputs")
    grad_outs = [reference("backward", to_tensor, gi, False, precision) for gi in gs]
    for o, gi in zip(outs, grad_outs):
        if tuple(gi.shape) != tuple(o.shape):
            reference("backward", _raise, f"grad_out of shape {tuple(gi.shape)} for output {tuple(o.shape)}")
    return outs, grad_outs


def _input_grad(x):
    """The gradient torch gives an input: a tensor's ``.grad``, a tuple of them for a tuple (LSTMCell's (h, c))."""
    if isinstance(x, tuple):
        return tuple(_input_grad(t) for t in x)
    return x.grad if isinstance(x, torch.Tensor) else None


def _raise(message):
    raise RuntimeError(message)


def _np(t):
    if t is None:
        return None
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def compare(case, got, expected):
    spec = LAYERS[case.name]
    if spec.random and case.training:
        return _dropout_properties(got, case.kwargs.get("p", 0.5))
    p = got["precision"]
    if case.name.startswith("InstanceNorm") and case.kwargs.get("momentum", 0.1) is None:
        expected["state"] = got["state0"]             # TORCH_WRONG["instance-norm-momentum-none"]
    if case.name == "GroupNorm" and not np.size(got["inputs"][0]):
        expected["params"] = {n: None for n in expected["params"]}     # TORCH_WRONG["empty-group-norm"]
    problems = _differences(got["out"], expected["out"], "output", p)
    for n, e in expected["state"].items():
        if n in got["state"]:
            problems += differences(got["state"][n], _np(e), f"state {n}", p)
    forward_extras = {n: e for n, e in expected["extras"].items() if not n.startswith("grad")}
    for n, e in forward_extras.items():
        problems += differences(got["extras"].get(n), _np(e), n, p)
    if problems or _has_nan(got["out"]):          # a NaN output has no meaningful gradient
        return problems
    n_grads = len(case.inputs) if spec.input_grads is None else spec.input_grads
    for i, (g, e) in enumerate(zip(got["grads"][:n_grads], expected["grads"])):
        if g is None and (case.name == "Module" or e is None):   # a Module on data computes no dL/d(data)
            continue
        problems += _differences(g, e, f"grad of input {i}", p)
    for n, e in expected["params"].items():
        g = got["params"].get(n)
        e = _np(e)
        if g is None and (e is None or not np.any(e)):
            continue
        problems += differences(g, _zeros_if_none(e, g), f"grad of {n}", p)
    for n, e in expected["extras"].items():
        if n not in forward_extras and e is not None:    # None: nothing to compare (no initial state given)
            problems += differences(got["extras"].get(n), _np(e), n, p)
    return problems


def _differences(got, expected, what, p):
    """``differences`` of an array, or of each entry of a tuple (a torch gradient of None counts as zeros)."""
    if isinstance(got, tuple) or isinstance(expected, tuple):
        if not (isinstance(got, tuple) and isinstance(expected, tuple) and len(got) == len(expected)):
            return [f"{what}: mtorch gave {type(got).__name__}, torch {type(expected).__name__}"]
        return [d for i, (g, e) in enumerate(zip(got, expected)) for d in _differences(g, e, f"{what}[{i}]", p)]
    return differences(got, _zeros_if_none(_np(expected), got), what, p)


def _has_nan(out):
    return any(np.isnan(np.asarray(o, dtype=np.float64)).any() for o in (out if isinstance(out, tuple) else (out,)))


def _zeros_if_none(e, like):
    return np.zeros(np.shape(like)) if e is None and like is not None else e


def _dropout_properties(got, p):
    """Training-mode dropout: each output is 0 or x / (1 - p) (0 when p = 1); dL/dx * x == dL/dy * y."""
    x = np.asarray(got["inputs"][0], dtype=np.float64)
    y, dx, g = np.asarray(got["out"], np.float64), got["grads"][0], np.asarray(got["grad_out"], np.float64)
    with np.errstate(all="ignore"):
        kept = np.zeros_like(x) if p == 1 else x / (1 - p)
        masked = np.isclose(y, 0) | np.isclose(y, kept, rtol=1e-3, equal_nan=True) | ~np.isfinite(x)
        chained = np.isclose(dx * x, g * y, rtol=1e-3, atol=1e-6, equal_nan=True) | ~np.isfinite(x) | ~np.isfinite(g)
    return ([] if masked.all() else ["dropout: an output is neither 0 nor x / (1 - p)"]) + \
        ([] if chained.all() else ["dropout: dL/dx is not dL/dy times the mask applied to x"])


def check_case(case, tolerate_known=True):
    box = {}
    spec = LAYERS[case.name]
    names = (case.name,) + tuple(spec.names(case.kwargs))
    return judge(FAMILY, case.name, case.key, case, lambda: run_mtorch(case, box),
                 (lambda: run_torch(case, box)) if spec.torch is not None else None,
                 lambda got, expected: compare(case, got, expected), names=names,
                 tolerate_known=tolerate_known)


# ---------------------------------------------------------------- containers as lists and dicts
INDEX = st.one_of(st.integers(-4, 4), st.sampled_from((slice(1, None), slice(None, None, -1), 1.5, "0", None)))
NAME = st.sampled_from(("a", "b", "c", "", "a.b", 3, None))
ITEM = st.sampled_from((Sub("ReLU"), Sub("Tanh"), Sub("Sigmoid"), "junk", None))


@dataclass(frozen=True)
class ProtocolCase:
    name: str                     # ModuleList, ModuleDict or Sequential
    start: tuple                  # the Subs it is built with
    ops: tuple                    # (operation, argument[, item]) applied in turn
    key: str = "protocol"


@st.composite
def protocol_cases(draw, name):
    start = tuple(draw(st.lists(st.sampled_from((Sub("ReLU"), Sub("Tanh"), Sub("Sigmoid"))), max_size=3)))
    if name == "ModuleDict":
        op = st.one_of(st.tuples(st.sampled_from(("get", "del", "contains")), NAME),
                       st.tuples(st.just("set"), NAME, ITEM))
    elif name == "ModuleList":
        op = st.one_of(st.tuples(st.sampled_from(("get", "del")), INDEX), st.tuples(st.just("append"), ITEM),
                       st.tuples(st.sampled_from(("set", "insert")), INDEX, ITEM))
    else:
        op = st.one_of(st.tuples(st.just("get"), INDEX), st.tuples(st.just("append"), ITEM))
    ops = tuple(draw(st.lists(op, min_size=1, max_size=4)))
    return ProtocolCase(name, start, ops, "protocol:" + ",".join(o[0] for o in ops))


def _apply(container, op, is_model):
    """One operation on the container (is_model: a plain list or dict standing for it)."""
    kind, arg = op[0], op[1]
    item = op[2] if len(op) > 2 else arg
    if is_model and isinstance(item, Sub):
        item = item.name
    elif isinstance(item, Sub):
        item = item.build()
    if is_model and kind in ("set", "append", "insert") and (not isinstance(item, str) or item == "junk"):
        raise TypeError("not a layer")                          # what a container refuses
    if kind == "get":
        return container[arg]
    if kind == "contains":
        return arg in container
    if kind == "del":
        del container[arg]
    elif kind == "set":
        if is_model and isinstance(container, dict) and (not isinstance(arg, str) or not arg or "." in arg):
            raise ValueError("not a name")
        if is_model and isinstance(arg, slice):
            raise TypeError("a slice")
        container[arg] = item
    elif kind == "append":
        container.append(item)
    else:
        if is_model and not isinstance(arg, int):
            raise TypeError("not an int")
        container.insert(arg, item)
    return None


def _contents(container):
    if isinstance(container, (dict, layers.ModuleDict)):
        return [(k, v if isinstance(v, str) else type(v).__name__) for k, v in container.items()]
    return [v if isinstance(v, str) else type(v).__name__ for v in container]


def _describe(result):
    if isinstance(result, Layer) and not isinstance(result, (layers.ModuleList, layers.Sequential)):
        return type(result).__name__
    if isinstance(result, (layers.ModuleList, layers.Sequential, list)):
        return _contents(result)
    return result


def run_protocol(case):
    cls = PUBLIC[case.name]
    built = [s.build() for s in case.start]
    container = cls({f"l{i}": b for i, b in enumerate(built)}) if case.name == "ModuleDict" else cls(built)
    results = [attempt(op[0], _apply, container, op, False) for op in case.ops]
    keys = list(container.state_dict())
    return [_describe(r) for r in results], _contents(container), keys


def run_protocol_model(case):
    if case.name == "ModuleDict":
        model = {f"l{i}": s.name for i, s in enumerate(case.start)}
    else:
        model = [s.name for s in case.start]
    results = [reference(op[0], _apply, model, op, True) for op in case.ops]
    return [_describe(r) for r in results], _contents(model)


def compare_protocol(got, expected):
    results, contents, keys = got
    problems = [] if (results, contents) == expected else [f"mtorch {(results, contents)}, a list/dict {expected}"]
    return problems


def check_protocol_case(case, tolerate_known=True):
    return judge(FAMILY, case.name, case.key, case, lambda: run_protocol(case), lambda: run_protocol_model(case),
                 compare_protocol, extra=(IndexError, KeyError), tolerate_known=tolerate_known, needs_torch=False)


PUBLIC = public_layers()


# ---------------------------------------------------------------- tests
def test_every_public_layer_has_a_strategy():
    check_coverage(PUBLIC, LAYERS, "LAYERS")


@pytest.mark.parametrize("name", sorted(LAYERS))
@fuzz_settings
@given(data=st.data())
def test_fuzz_layer(name, data):
    if name not in PUBLIC:
        pytest.skip(f"{name} is not public")
    case = draw_case(data.draw, name)
    check_case(case)


@pytest.mark.parametrize("name", ["ModuleList", "ModuleDict", "Sequential"])
@fuzz_settings
@given(data=st.data())
def test_fuzz_container_protocol(name, data):
    check_protocol_case(data.draw(protocol_cases(name)))


class Take(Layer):
    """A test-only embedding, ``y = weight[indices]``, to exercise entries with index inputs."""

    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        self.weight = mtorch.Parameter(np.random.default_rng(0).standard_normal((num_embeddings, embedding_dim)))
        self._idx = None

    def forward(self, idx):
        idx = np.asarray(idx)
        if idx.dtype.kind not in "iu" or idx.size and (idx.min() < 0 or idx.max() >= len(self.weight.data)):
            raise ValueError(f"Take: expected indices in [0, {len(self.weight.data)}), got {idx!r}")
        self._idx = idx
        return self.weight.data[idx]

    def backward(self, grad_out):
        g = self.check_grad_out(grad_out, self._idx.shape + self.weight.shape[1:])
        grad = np.zeros_like(self.weight.data)
        np.add.at(grad, self._idx, g)
        self.weight.add_grad(grad)


TAKE = L(lambda d: dict(num_embeddings=d(SIZE), embedding_dim=d(SIZE)),
         lambda d, kw: (Arr(d(shapes(0, 2)), f"index:{kw['num_embeddings']}", "int64", seed=d(SEED)),),
         torch=lambda kw: nn.Embedding(**kw), index_inputs=(0,))


@pytest.mark.parametrize("index, outcome", [(Arr((2, 3), "index:4", "int64"), "equal"),
                                            (Arr((0,), "index:4", "int64"), "equal"),
                                            (Arr((2,), "normal"), "refused")])
@pytest.mark.skipif(torch is None, reason="torch is the reference")
def test_an_entry_with_index_inputs(monkeypatch, index, outcome):
    monkeypatch.setitem(PUBLIC, "Take", Take)
    monkeypatch.setitem(LAYERS, "Take", TAKE)
    case = LayerCase("Take", {"num_embeddings": 4, "embedding_dim": 3}, (index,))
    assert check_case(case, tolerate_known=False) == outcome


@pytest.mark.parametrize("known", known_params(FAMILY))
def test_known_layer_failure(known):
    check_case(known.example, tolerate_known=False)
