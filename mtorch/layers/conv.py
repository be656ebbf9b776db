"""2-d convolution (cross-correlation, as in every deep-learning framework)."""
import math

import numpy as np

from .. import init
from ..layer import Layer
from ..parameter import Parameter
from ._windows import col2im, im2col, output_size, pair


class Conv2d(Layer):
    """2-d convolution over ``(N, C_in, H, W)`` images, PyTorch's ``nn.Conv2d``.

    Forward, for output channel o and position (p, q)::

        y[n, o, p, q] = b[o] + sum_{c, i, j} W[o, c, i, j] * x_pad[n, c, p*sH + i*dH, q*sW + j*dW]

    Computed as one matrix product (im2col): every window of the padded
    input becomes a row of ``X_col`` ``(N*H_out*W_out, kH*kW*C_in)`` and the
    weight a matrix ``W_col`` ``(kH*kW*C_in, C_out)``::

        Y = X_col @ W_col + b          (N*H_out*W_out, C_out), read back as NCHW

    Backward, with ``G = dL/dY`` laid out the same way::

        dL/dW_col = X_col.T @ G        -> weight.grad (C_out, C_in, kH, kW)
        dL/db     = G.sum(axis=0)
        dL/dX_col = G @ W_col.T        -> dL/dx by col2im: each window's gradient
                                          is added back onto the pixels it was copied from

    With a bias, ``X_col`` gets a column of ones and ``W_col`` the bias as
    its last row (the bias trick): the forward product adds b, and the last
    row of ``dL/dW_col`` is ``dL/db``. dL/dX_col is computed one kernel
    offset at a time, ``G @ W[:, :, i, j].T`` (a batch of kH*kW products), so
    that each offset's block is contiguous for col2im's adds.

    Memory layout (speed only; the values are the same): the windows are
    taken from a channels-last copy of the input, so a window row is copied
    in runs of ``kW * C_in`` numbers, and the output is returned as an
    ``(N, C_out, H_out, W_out)`` view of the channels-last product (no
    transpose copy; numpy's element-wise operations keep that memory order).
    With one input channel (a grey image) ``X_col.T`` is stored instead,
    copied in runs along the image rows, and dL/dX_col.T = ``W_col @ G.T``
    gives one contiguous row per kernel offset.

    Args:
        in_channels, out_channels: C_in and C_out.
        kernel_size: ``k`` or ``(kH, kW)``.
        stride: ``s`` or ``(sH, sW)`` (default 1).
        padding: ``p`` or ``(pH, pW)`` zeros on both sides of each axis (default 0),
            ``'valid'`` (no padding) or ``'same'`` (output size = input size; stride 1 only;
            when the padding ``dilation*(k-1)`` is odd the extra zero goes at the end, as PyTorch).
        dilation: spacing between kernel taps, ``d`` or ``(dH, dW)`` (default 1).
        bias: learn a bias per output channel (default True).

    Shape:
        input ``(N, C_in, H, W)``, output ``(N, C_out, H_out, W_out)`` with
        ``H_out = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1`` (likewise W_out).

    Init (PyTorch's default): W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in*kH*kW.

    Cached: ``X_col``, ``W_col`` and the shapes.

    Example:
        >>> conv = Conv2d(1, 16, 5, padding=2)
        >>> conv(np.zeros((8, 1, 28, 28))).shape
        (8, 16, 28, 28)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=True):
        super().__init__()
        name = type(self).__name__
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = pair(kernel_size, "kernel_size", name)
        self.stride = pair(stride, "stride", name)
        self.dilation = pair(dilation, "dilation", name)
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding", name, minimum=0)
        self._pads = self._resolve_padding()
        self.weight = Parameter(np.zeros((self.out_channels, self.in_channels) + self.kernel_size))
        self.bias = Parameter(np.zeros(self.out_channels)) if bias else None
        self.reset_parameters()
        self._cols = self._w_col = self._shapes = None

    def _resolve_padding(self):
        """``((top, bottom), (left, right))`` zeros added around the image."""
        name = type(self).__name__
        if self.padding == "valid":
            return (0, 0), (0, 0)
        if self.padding == "same":
            if self.stride != (1, 1):
                raise ValueError(f"{name}: padding='same' needs stride 1, got stride={self.stride}")
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            return tuple((t // 2, t - t // 2) for t in totals)
        if isinstance(self.padding, str):
            raise ValueError(f"{name}: padding must be 'same', 'valid', an int or a pair, got {self.padding!r}")
        return tuple((p, p) for p in self.padding)

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        x = self.check_input(x, ("N", self.in_channels, "H", "W"))
        n, c, h, w = x.shape
        (top, bottom), (left, right) = self._pads
        out_hw = tuple(output_size(size, k, s, pads, d, self) for size, k, s, pads, d in
                       zip((h, w), self.kernel_size, self.stride, self._pads, self.dilation))
        padded_shape = (n, h + top + bottom, w + left + right, c)
        if padded_shape == (n, h, w, c):
            x_nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        else:
            x_nhwc = np.zeros(padded_shape, dtype=x.dtype)
            x_nhwc[:, top:top + h, left:left + w, :] = x.transpose(0, 2, 3, 1)
        transposed, has_bias = c == 1, self.bias is not None
        self._cols = im2col(x_nhwc, self.kernel_size, self.stride, self.dilation, out_hw, transposed, has_bias)
        w_col = self.weight.data.transpose(2, 3, 1, 0).reshape(-1, self.out_channels)
        if has_bias:
            w_col = np.concatenate([w_col, self.bias.data[None, :]])
        self._w_col = w_col
        y = (self._cols.T if transposed else self._cols) @ w_col
        self._shapes = (x.shape, padded_shape, out_hw)
        return y.reshape(n, out_hw[0], out_hw[1], self.out_channels).transpose(0, 3, 1, 2)

    def backward(self, grad_out):
        shapes = self._shapes
        expected = None if shapes is None else (shapes[0][0], self.out_channels) + shapes[2]
        g = self.check_grad_out(grad_out, expected)
        (n, c, h, w), padded_shape, out_hw = shapes
        g = g.transpose(0, 2, 3, 1).reshape(-1, self.out_channels)
        kh, kw = self.kernel_size
        k = kh * kw * c
        w_col = self._w_col[:k]                            # without the bias row
        grad_w_col = self._cols @ g if c == 1 else self._cols.T @ g
        self.weight.add_grad(np.ascontiguousarray(grad_w_col[:k].reshape(kh, kw, c, self.out_channels)
                                                  .transpose(3, 2, 0, 1)))
        if self.bias is not None:
            self.bias.add_grad(grad_w_col[k].copy())
        if not self.needs_input_grad:          # the input is data: no dL/dx (see Layer)
            return None
        if c == 1:
            grad_windows = (w_col @ g.T).reshape(kh, kw, 1, n, *out_hw).transpose(0, 1, 3, 4, 5, 2)
        else:
            w_offsets = w_col.reshape(kh, kw, c, self.out_channels).transpose(0, 1, 3, 2)   # W[:, :, i, j].T
            grad_windows = np.matmul(g, w_offsets).reshape(kh, kw, n, *out_hw, c)
        grad_padded = col2im(grad_windows, padded_shape, self.stride, self.dilation)
        (top, _), (left, _) = self._pads
        return grad_padded[:, top:top + h, left:left + w, :].transpose(0, 3, 1, 2)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding!r}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.bias is None:
            s += ", bias=False"
        return s
