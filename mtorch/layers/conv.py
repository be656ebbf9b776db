"""Convolutions: Conv1d, Conv2d and their adjoints ConvTranspose1d, ConvTranspose2d.

Inside, every input is an ``(N, C, H, W)`` image (a 1-d signal has H = 1,
an unbatched input N = 1; see ``_windows.Images``). A convolution is one
matrix product per group: ``im2col`` (``mtorch.kernels.im2col``) copies
every window of the padded input into a column, ``X (C_in*kH*kW, L)`` for
the ``L = H_out*W_out*N`` windows, and ``col2im`` is its adjoint, adding
columns back onto the pixels they came from. With the weight as a matrix
``W_g (C_out/G, C_in/G*kH*kW)`` per group g (rows of X and Y split into
G blocks)::

    Conv:           Y_g = W_g @ X_g + b             dL/dX_g = W_g.T @ dL/dY_g
    ConvTranspose:  Y = col2im(W_g.T @ X_g) + b     (the map of Conv's input gradient)

A transposed convolution is the adjoint of the convolution with the same
weight: its forward is Conv's backward to the input and its backward to
the input is Conv's forward, so both use the same two kernels.
"""
import math

import numpy as np

from .. import init
from ..errors import ShapeError
from ..kernels.im2col import as_matrix, col2im, from_matrix, im2col
from ..kernels.matmul import matmul_nt
from ..layer import Layer
from ..parameter import Parameter
from ..validation import check_bool, check_choice, check_int, check_ints
from ._windows import Images, output_size, sizes
from .padding import pad, pad_backward

PADDING_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def _groups(a, groups):
    """The rows of a matrix ``(R, ...)`` as ``groups`` stacked blocks: ``(groups, R / groups, rest)``."""
    return a.reshape(groups, a.shape[0] // groups, -1)


class _ConvBase(Layer):
    """Arguments, weights and init shared by the four convolutions (``dims``: 1 or 2 spatial axes)."""

    dims, transposed = 2, False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                 padding_mode, output_padding=0):
        super().__init__()
        name, dims = type(self).__name__, self.dims
        self.in_channels = check_int(name, "in_channels", in_channels, minimum=1)
        self.out_channels = check_int(name, "out_channels", out_channels, minimum=1)
        self.groups = check_int(name, "groups", groups, minimum=1)
        for arg, channels in (("in_channels", self.in_channels), ("out_channels", self.out_channels)):
            if channels % self.groups:
                raise ValueError(f"{name}: {arg} must be divisible by groups, got {arg}={channels}, "
                                 f"groups={self.groups}")
        self.kernel_size = check_ints(name, "kernel_size", kernel_size, dims, minimum=1)
        self.stride = check_ints(name, "stride", stride, dims, minimum=1)
        self.dilation = check_ints(name, "dilation", dilation, dims, minimum=1)
        if isinstance(padding, str) and not self.transposed:
            self.padding = check_choice(name, "padding", padding, ("same", "valid"))
        else:
            self.padding = check_ints(name, "padding", padding, dims, minimum=0)
        modes = ("zeros",) if self.transposed else tuple(PADDING_MODES)
        self.padding_mode = check_choice(name, "padding_mode", padding_mode, modes)
        self.output_padding = check_ints(name, "output_padding", output_padding, dims, minimum=0)
        if any(op >= max(s, d) for op, s, d in zip(self.output_padding, self.stride, self.dilation)):
            raise ValueError(f"{name}: output_padding must be smaller than stride or dilation, got "
                             f"output_padding={self.output_padding}, stride={self.stride}, dilation={self.dilation}")
        self._kernel, self._stride, self._dilation = (sizes(name, a, getattr(self, a), dims) for a in
                                                      ("kernel_size", "stride", "dilation"))
        self._pads = self._resolve_padding()
        channels = (self.in_channels, self.out_channels // self.groups) if self.transposed else \
            (self.out_channels, self.in_channels // self.groups)
        self.weight = Parameter(np.zeros(channels + self.kernel_size))
        self.bias = Parameter(np.zeros(self.out_channels)) if check_bool(name, "bias", bias) else None
        self.reset_parameters()
        self._cache = None

    def _resolve_padding(self):
        """``((top, bottom), (left, right))`` added around the image (a 1-d layer has no top or bottom)."""
        if self.padding == "valid":
            pads = ((0, 0),) * self.dims
        elif self.padding == "same":
            if self.stride != (1,) * self.dims:
                raise ValueError(f"{type(self).__name__}: padding='same' needs stride 1, got stride={self.stride}")
            totals = (d * (k - 1) for d, k in zip(self.dilation, self.kernel_size))
            pads = tuple((t // 2, t - t // 2) for t in totals)    # an odd total puts the extra one at the end
        else:
            pads = tuple((p, p) for p in self.padding)
        return ((0, 0),) * (2 - self.dims) + pads

    def reset_parameters(self):
        """PyTorch's default: W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (fan_in from ``weight.shape[1:]``)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _weight_groups(self):
        """The weight as ``(G, rows, C*kH*kW)`` matrices: ``W_g`` (transposed: one row per input channel)."""
        return _groups(self.weight.data, self.groups)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        defaults = {"padding": (0,) * self.dims, "dilation": (1,) * self.dims, "output_padding": (0,) * self.dims,
                    "groups": 1, "padding_mode": "zeros"}
        for arg, default in defaults.items():
            if getattr(self, arg) != default:
                s += f", {arg}={getattr(self, arg)!r}"
        return s + (", bias=False" if self.bias is None else "")


class _ConvNd(_ConvBase):
    """Forward and backward of Conv1d and Conv2d (the math is in ``Conv2d``'s docstring)."""

    def forward(self, x):
        images = Images(self, x, self.dims, self.in_channels)
        xp = pad(images.x, self._pads, PADDING_MODES[self.padding_mode], owner=self)
        out_hw = tuple(output_size(self, size, k, s, (0, 0), d) for size, k, s, d in
                       zip(xp.shape[2:], self._kernel, self._stride, self._dilation))
        cols = im2col(xp, self._kernel, self._stride, self._dilation, out_hw)      # X: (C_in*kH*kW, L)
        y = (self._weight_groups() @ _groups(cols, self.groups)).reshape(self.out_channels, -1)
        if self.bias is not None:
            y += self.bias.data[:, None]
        self._cache = (images, xp.shape, cols, out_hw)
        return images.output(from_matrix(y, xp.shape[0], out_hw))

    def backward(self, grad_out):
        images, padded_shape, cols, out_hw = self._cache or (None,) * 4
        g = self.check_grad_out(grad_out, images and images.output_shape(self.out_channels, out_hw))
        g = as_matrix(images.grad(g))                                              # dL/dY: (C_out, L)
        g_groups = _groups(g, self.groups)
        self.weight.add_grad(matmul_nt(g_groups, _groups(cols, self.groups)).reshape(self.weight.shape))
        if self.bias is not None:
            self.bias.add_grad(g.sum(axis=1))
        if not self.needs_input_grad:          # the input is data: no dL/dx (see Layer)
            return None
        grad_cols = (self._weight_groups().swapaxes(1, 2) @ g_groups).reshape(cols.shape)
        grad_padded = col2im(grad_cols, padded_shape, self._kernel, self._stride, self._dilation, out_hw)
        grad_x = pad_backward(grad_padded, self._pads, PADDING_MODES[self.padding_mode], images.x.shape)
        return images.input_grad(grad_x)


class _ConvTransposeNd(_ConvBase):
    """Forward and backward of ConvTranspose1d and ConvTranspose2d (math in ``ConvTranspose2d``'s docstring)."""

    transposed = True

    def forward(self, x, output_size=None):
        images = Images(self, x, self.dims, self.in_channels)
        n, _, h, w = images.x.shape
        full_hw = tuple((size - 1) * s + d * (k - 1) + 1 + op for size, s, d, k, op in
                        zip((h, w), self._stride, self._dilation, self._kernel, self._extra_rows(output_size, (h, w))))
        if any(size - before - after < 1 for size, (before, after) in zip(full_hw, self._pads)):
            raise ShapeError(f"{self._short_repr()}: the padding {self.padding} leaves no output for an "
                             f"input of spatial size {images.shape[2:]}")
        xm = as_matrix(images.x)                                                   # X: (C_in, H*W*N)
        cols = (self._weight_groups().swapaxes(1, 2) @ _groups(xm, self.groups)).reshape(
            self.groups * math.prod(self.weight.shape[1:]), xm.shape[1])                  # (C_out*kH*kW, H*W*N)
        y_full = col2im(cols, (n, self.out_channels) + full_hw, self._kernel, self._stride, self._dilation, (h, w))
        y = pad(y_full, tuple((-before, -after) for before, after in self._pads))    # crop the padding
        if self.bias is not None:
            y = y + self.bias.data[:, None, None]
        self._cache = (images, xm, y.shape[2:])
        return images.output(y)

    def backward(self, grad_out):
        images, xm, out_hw = self._cache or (None,) * 3
        g = self.check_grad_out(grad_out, images and images.output_shape(self.out_channels, out_hw))
        g = images.grad(g)                                                         # dL/dY: (N, C_out, H_out, W_out)
        grad_cols = im2col(pad(g, self._pads), self._kernel, self._stride, self._dilation, images.x.shape[2:])
        grad_cols = _groups(grad_cols, self.groups)                                # (G, C_out/G*kH*kW, H*W*N)
        self.weight.add_grad(matmul_nt(_groups(xm, self.groups), grad_cols).reshape(self.weight.shape))
        if self.bias is not None:
            self.bias.add_grad(g.sum(axis=(0, 2, 3)))
        if not self.needs_input_grad:          # the input is data: no dL/dx (see Layer)
            return None
        grad_x = (self._weight_groups() @ grad_cols).reshape(xm.shape)
        return images.input_grad(from_matrix(grad_x, len(images.x), images.x.shape[2:]))

    def _extra_rows(self, output_size, in_hw):
        """``output_padding``, or what the requested ``output_size`` needs (rows and columns added at the end)."""
        if output_size is None:
            return (0,) * (2 - self.dims) + self.output_padding
        name = type(self).__name__
        if isinstance(output_size, (tuple, list)) and len(output_size) in (self.dims + 1, self.dims + 2):
            output_size = tuple(output_size)[-self.dims:]
        requested = check_ints(name, "output_size", output_size, self.dims, minimum=1)
        extra = []
        for size, want, s, d, k, p in zip(in_hw[2 - self.dims:], requested, self.stride, self.dilation,
                                          self.kernel_size, self.padding):
            smallest = (size - 1) * s - 2 * p + d * (k - 1) + 1
            if not smallest <= want < smallest + max(s, d):
                raise ValueError(f"{name}: requested an output size of {requested}, but valid sizes along "
                                 f"that axis range from {smallest} to {smallest + max(s, d) - 1} (input size {size})")
            extra.append(want - smallest)
        return (0,) * (2 - self.dims) + tuple(extra)


class Conv2d(_ConvNd):
    """2-d convolution (cross-correlation, as in every framework), PyTorch's ``nn.Conv2d``.

    Forward, for output channel o of group g (input channels ``c`` of that group)::

        y[n, o, p, q] = b[o] + sum_{c, i, j} W[o, c, i, j] * x_pad[n, c, p*sH + i*dH, q*sW + j*dW]

    As matrices (see the module docstring): ``X = im2col(x_pad)`` holds one
    window per column, ``(C_in*kH*kW, L)`` for the ``L = N*H_out*W_out``
    windows, and per group ``Y_g = W_g @ X_g + b`` with ``W_g`` the group's
    weight as a ``(C_out/G, C_in/G*kH*kW)`` matrix.

    Backward, with ``G_g = dL/dY_g`` (rows of group g)::

        dL/dW_g = G_g @ X_g.T
        dL/db   = sum of G over the windows (and the batch)
        dL/dX_g = W_g.T @ G_g,   dL/dx = unpad(col2im(dL/dX))

    ``col2im`` adds each window's gradient back onto the pixels it was copied
    from; ``unpad`` is the adjoint of the padding (a crop for zeros; for
    reflect, replicate and circular padding each copied pixel also receives
    its copies' gradients).

    Args:
        in_channels, out_channels: C_in and C_out (both divisible by ``groups``).
        kernel_size: ``k`` or ``(kH, kW)``.
        stride: ``s`` or ``(sH, sW)`` (default 1).
        padding: ``p`` or ``(pH, pW)`` on both sides of each axis (default 0), ``'valid'`` (none) or
            ``'same'`` (output size = input size; stride 1; an odd total ``d*(k-1)`` puts the extra one at
            the end, as PyTorch).
        dilation: spacing between kernel taps, ``d`` or ``(dH, dW)`` (default 1).
        groups: G; input and output channels split into G groups convolved separately (default 1;
            ``groups=in_channels`` is a depthwise convolution).
        bias: learn a bias per output channel (default True).
        padding_mode: ``'zeros'`` (default), ``'reflect'``, ``'replicate'`` or ``'circular'``.

    Shape:
        input ``(N, C_in, H, W)`` or ``(C_in, H, W)``, output ``(N, C_out, H_out, W_out)`` or
        ``(C_out, H_out, W_out)``, with ``H_out = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1`` (same for W).
        ``weight``: ``(C_out, C_in/G, kH, kW)``; ``bias``: ``(C_out,)``.

    Init (PyTorch's): W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in/G * kH * kW.

    Cached: the columns X, the padded shape and the output size.

    Example:
        >>> conv = Conv2d(1, 16, 5, padding=2)
        >>> conv(np.zeros((8, 1, 28, 28))).shape
        (8, 16, 28, 28)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode)


class Conv1d(_ConvNd):
    """1-d convolution over ``(N, C_in, L)`` signals, PyTorch's ``nn.Conv1d``.

    ``Conv2d``'s math with one spatial axis (an image of height 1)::

        y[n, o, p] = b[o] + sum_{c, j} W[o, c, j] * x_pad[n, c, p*s + j*d]

    Forward ``Y_g = W_g @ X_g + b`` with ``X = im2col(x_pad)``; backward
    ``dL/dW_g = G_g @ X_g.T``, ``dL/db = sum G``, ``dL/dx = unpad(col2im(W_g.T @ G_g))``.

    Args: as ``Conv2d``, with ints (or 1-tuples) for ``kernel_size``, ``stride``, ``padding``, ``dilation``.

    Shape: ``(N, C_in, L)`` or ``(C_in, L)`` -> ``(N, C_out, L_out)`` or ``(C_out, L_out)``,
    ``L_out = floor((L + 2 p - d (k - 1) - 1) / s) + 1``; ``weight``: ``(C_out, C_in/G, k)``.

    Example:
        >>> Conv1d(4, 8, 3, padding=1)(np.zeros((2, 4, 10))).shape
        (2, 8, 10)
    """

    dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-d convolution ("deconvolution"), PyTorch's ``nn.ConvTranspose2d``.

    The adjoint of ``Conv2d`` with the same weight: every input pixel adds its
    value times the kernel onto a window of the output::

        y_full[n, o, h*sH + i*dH, w*sW + j*dW] += x[n, c, h, w] * W[c, o, i, j]    (c, o in one group)
        y = crop(y_full, padding) + b

    As matrices, with ``X`` the input as ``(C_in, H*W*N)`` and ``W_g`` the
    group's weight as a ``(C_in/G, C_out/G*kH*kW)`` matrix: ``y_full =
    col2im(W_g.T @ X_g)`` - exactly Conv2d's input gradient. Backward, with
    ``G_cols = im2col(pad(dL/dy))`` - exactly Conv2d's forward::

        dL/dW_g = X_g @ G_cols_g.T      dL/db = sum of dL/dy      dL/dX_g = W_g @ G_cols_g

    Args:
        in_channels, out_channels, kernel_size, stride, dilation, groups, bias: as ``Conv2d``.
        padding: ``p`` or ``(pH, pW)``: rows and columns cropped from each side of the full output.
        output_padding: extra rows/columns at the end of the output, smaller than stride or dilation
            (default 0); picks one of the input sizes a strided Conv2d maps to the same output size.
        padding_mode: only ``'zeros'``, as PyTorch.

    ``forward(x, output_size=None)``: ``output_size`` ``(H_out, W_out)`` (or with N and C in front)
    chooses ``output_padding`` for this call instead.

    Shape:
        ``(N, C_in, H, W)`` or ``(C_in, H, W)`` -> ``(N, C_out, H_out, W_out)`` or ``(C_out, H_out, W_out)``,
        ``H_out = (H - 1) sH - 2 pH + dH (kH - 1) + output_padding + 1``;
        ``weight``: ``(C_in, C_out/G, kH, kW)``; ``bias``: ``(C_out,)``.

    Init (PyTorch's): U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C_out/G * kH * kW.

    Cached: the input as a matrix and the output size.

    Example:
        >>> up = ConvTranspose2d(16, 8, 4, stride=2, padding=1)
        >>> up(np.zeros((2, 16, 7, 7))).shape
        (2, 8, 14, 14)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-d convolution, PyTorch's ``nn.ConvTranspose1d``: the adjoint of ``Conv1d``.

    ``ConvTranspose2d``'s math with one spatial axis::

        y_full[n, o, l*s + j*d] += x[n, c, l] * W[c, o, j],    y = crop(y_full, padding) + b

    Forward ``y_full = col2im(W_g.T @ X_g)``; backward, with ``G_cols = im2col(pad(dL/dy))``:
    ``dL/dW_g = X_g @ G_cols_g.T``, ``dL/db = sum dL/dy``, ``dL/dX_g = W_g @ G_cols_g``.

    Args: as ``ConvTranspose2d``, with ints (or 1-tuples).

    Shape: ``(N, C_in, L)`` or ``(C_in, L)`` -> ``(N, C_out, L_out)`` or ``(C_out, L_out)``,
    ``L_out = (L - 1) s - 2 p + d (k - 1) + output_padding + 1``; ``weight``: ``(C_in, C_out/G, k)``.

    Example:
        >>> ConvTranspose1d(4, 2, 3, stride=2)(np.zeros((5, 4, 10))).shape
        (5, 2, 21)
    """

    dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding)
