"""Sliding windows over the two spatial axes, shared by convolution and pooling.

A 2-d window layer (Conv2d, MaxPool2d, AvgPool2d) looks at ``kH x kW``
positions of a padded input. Window ``(p, q)`` of the output covers input
rows ``p*sH + i*dH`` and columns ``q*sW + j*dW`` for the kernel offsets
``i < kH, j < kW`` (s = stride, d = dilation)::

    H_out = floor((H + pad_top + pad_bottom - dH*(kH - 1) - 1) / sH) + 1

Two views of the same windows live here:

* ``im2col`` copies every window into one row of a matrix, so a convolution
  becomes a single matrix product (BLAS).
* ``offset_slices`` gives, for each kernel offset ``(i, j)``, the slices that
  pick that offset's input pixel from every window at once: ``x[..., rows,
  cols]`` has the output's spatial shape. Pooling takes the max or the sum of
  these ``kH*kW`` strided views and adds gradients back through them in
  backward; convolution's ``col2im`` does the same for its channels-last
  windows. Either way, one vectorised add per kernel offset.
"""
import numpy as np

from ..errors import ShapeError


def pair(value, name, owner, minimum=1):
    """``value`` as a pair of ints >= ``minimum`` (an int is used for both axes)."""
    if isinstance(value, (int, np.integer)):
        value = (value, value)
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or not all(isinstance(v, (int, np.integer)) for v in value)):
        raise TypeError(f"{owner}: {name} must be an int or a pair of ints, got {value!r}")
    if min(value) < minimum:
        raise ValueError(f"{owner}: {name} must be >= {minimum}, got {tuple(value)}")
    return tuple(int(v) for v in value)


def output_size(size, kernel, stride, pads, dilation, layer):
    """Output extent of one spatial axis; raise ``ShapeError`` naming ``layer`` when no window fits."""
    out = (size + pads[0] + pads[1] - dilation * (kernel - 1) - 1) // stride + 1
    if out < 1:
        raise ShapeError(f"{layer._short_repr()}: input size {size} (padded by {pads}) is smaller than the "
                         f"kernel's extent {dilation * (kernel - 1) + 1}")
    return out


def offset_slices(kernel, stride, dilation, out_hw):
    """Yield ``((i, j), (rows, cols))`` for every kernel offset, in row-major order.

    ``x_padded[..., rows, cols]`` is the ``(H_out, W_out)`` grid of the pixels
    that offset ``(i, j)`` sees in every window.
    """
    for i in range(kernel[0]):
        rows = slice(i * dilation[0], i * dilation[0] + stride[0] * (out_hw[0] - 1) + 1, stride[0])
        for j in range(kernel[1]):
            cols = slice(j * dilation[1], j * dilation[1] + stride[1] * (out_hw[1] - 1) + 1, stride[1])
            yield (i, j), (rows, cols)


def im2col(x_nhwc, kernel, stride, dilation, out_hw, transposed=False, ones=False):
    """Copy every window of a channels-last ``(N, Hp, Wp, C)`` array into a row.

    Returns ``X_col`` of shape ``(N * H_out * W_out, kH * kW * C)``, rows
    ordered ``(n, p, q)`` and columns ``(i, j, c)``. The windows are an
    ``as_strided`` view (no copy); the one copy moves contiguous runs of
    ``kW * C`` numbers when dilation is 1.

    ``ones=True`` appends a column of ones (the bias trick: with the bias as
    an extra row of the weight matrix, one matrix product adds it).
    ``transposed=True`` returns ``X_col.T`` instead, copied in runs along the
    image rows: the faster layout when ``C == 1`` (runs of ``kW`` numbers
    would be short).
    """
    n, _, _, c = x_nhwc.shape
    sn, sh, sw, sc = x_nhwc.strides
    shape = (n, out_hw[0], out_hw[1], kernel[0], kernel[1], c)
    strides = (sn, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1], sc)
    order = (3, 4, 5, 0, 1, 2) if transposed else (0, 1, 2, 3, 4, 5)
    windows = np.lib.stride_tricks.as_strided(
        x_nhwc, shape=[shape[a] for a in order], strides=[strides[a] for a in order], writeable=False)
    rows, columns = n * out_hw[0] * out_hw[1], kernel[0] * kernel[1] * c
    if transposed:
        cols = np.empty((columns + ones, rows), dtype=x_nhwc.dtype)
        body = cols[:columns]
    else:
        cols = np.empty((rows, columns + ones), dtype=x_nhwc.dtype)
        body = cols[:, :columns]
    body.reshape(windows.shape)[...] = windows      # splitting axes: a view into cols, never a copy
    if ones:
        cols[-1 if transposed else (slice(None), -1)] = 1
    return cols


def col2im(grad_windows, padded_shape, stride, dilation):
    """The adjoint of ``im2col``: add each window's gradient back onto the pixels it came from.

    ``grad_windows[i, j]`` is the gradient of kernel offset ``(i, j)``'s pixel
    in every window, ``(N, H_out, W_out, C)``: ``grad_windows`` has shape
    ``(kH, kW, N, H_out, W_out, C)`` (any memory order). Returns the
    channels-last padded ``(N, Hp, Wp, C)`` sum, one vectorised add per kernel offset.
    """
    kernel, out_hw = grad_windows.shape[:2], grad_windows.shape[3:5]
    out = np.zeros(padded_shape, dtype=grad_windows.dtype)
    for (i, j), (rows, columns) in offset_slices(kernel, stride, dilation, out_hw):
        out[:, rows, columns, :] += grad_windows[i, j]
    return out
