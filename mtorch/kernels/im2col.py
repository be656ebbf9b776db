"""Sliding windows as the columns of a matrix (im2col) and back (col2im), batch last.

A 2-d window layer looks at ``kH x kW`` pixels of a (padded) image: window
``(p, q)`` covers rows ``p*sH + i*dH`` and columns ``q*sW + j*dW`` for the
kernel offsets ``i < kH, j < kW`` (s = stride, d = dilation). ``im2col``
copies every window into one column, so a convolution becomes one matrix
product::

    cols[(c, i, j), (p, q, n)] = x[n, c, p*sH + i*dH, q*sW + j*dW]      (C*kH*kW, H_out*W_out*N)

``col2im`` is its adjoint (its transpose as a linear map): every column
entry is added back onto the pixel it was copied from, so overlapping
windows add up.

**The layout trick.** The columns are ordered ``(p, q, n)``, the batch
*last*, and images travel between layers as ``(N, C, H, W)`` views of
``(C, H, W, N)`` memory (``from_matrix``). In that layout one kernel
offset's pixels for a row of windows are one contiguous run of
``W_out*N`` numbers, so the copies of im2col and the adds of col2im move
long runs (with the batch first, a run is only ``W_out`` numbers long); the
product ``W @ cols`` lands directly in the same layout, element-wise layers
(ReLU) keep it, and pooling reads it with unit-stride inner loops.
Measured gain on the LeNet-style CNN training step (``benchmarks/``, batch
64, one thread, CPU time per step, medians of alternating runs): 23.4 ms
with the columns ordered ``(n, p, q)`` -> 18.4 ms batch last (-21%).

A 1-d window is the 2-d case with ``H = kH = 1``.
"""
import numpy as np


def batch_last(x):
    """``x (N, C, H, W)`` as a ``(C, H, W, N)`` array: a view when ``x`` is already batch-last in memory."""
    return np.ascontiguousarray(x.transpose(1, 2, 3, 0))


def as_matrix(x):
    """``x (N, C, H, W)`` as the matrix ``M[c, (h, w, n)] = x[n, c, h, w]`` of shape ``(C, H*W*N)``.

    A view (no copy) when ``x`` is a ``from_matrix`` result or anything else
    stored batch-last; otherwise one transposing copy.
    """
    return batch_last(x).reshape(x.shape[1], -1)


def from_matrix(m, n, hw):
    """The inverse of ``as_matrix``: ``(C, H*W*N)`` -> an ``(N, C, H, W)`` view (no copy)."""
    return m.reshape(m.shape[0], hw[0], hw[1], n).transpose(3, 0, 1, 2)


def like_layout(a, like):
    """``a`` in ``like``'s memory order (a copy only when the orders differ).

    numpy's element-wise operations on two operands stored in different
    orders run several times slower than on matching ones: a pooling layer's
    backward gets its gradient C-ordered from ``Flatten`` while its cache is
    batch-last. Measured gain on the LeNet-style CNN training step (one
    thread, CPU time): 21.5 ms -> 18.9 ms (-12%).
    """
    order = np.argsort(like.strides)[::-1]
    if list(np.argsort(a.strides)[::-1]) == list(order):
        return a
    out = np.empty_like(like, dtype=a.dtype)
    out[...] = a
    return out


def window_view(xb, kernel, stride, dilation, out_hw):
    """The windows of a batch-last ``xb (C, H, W, N)`` as a read-only ``(C, kH, kW, H_out, W_out, N)`` view."""
    sc, sh, sw, sn = xb.strides
    shape = (xb.shape[0], kernel[0], kernel[1], out_hw[0], out_hw[1], xb.shape[3])
    strides = (sc, sh * dilation[0], sw * dilation[1], sh * stride[0], sw * stride[1], sn)
    return np.lib.stride_tricks.as_strided(xb, shape, strides, writeable=False)


def im2col(x, kernel, stride, dilation, out_hw):
    """Every window of ``x (N, C, H, W)`` as a column: ``(C*kH*kW, H_out*W_out*N)``, see the module docstring.

    ``x`` is used as it is (pad it first). One copy, out of a strided view of
    the batch-last input, moves contiguous runs of ``W_out*N`` numbers (with
    stride 1); ``x`` itself is copied batch-last first unless it already is.
    """
    view = window_view(batch_last(x), kernel, stride, dilation, out_hw)
    cols = np.empty(view.shape, dtype=x.dtype)
    cols[...] = view
    return cols.reshape(x.shape[1] * kernel[0] * kernel[1], out_hw[0] * out_hw[1] * x.shape[0])


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


def col2im(cols, shape, kernel, stride, dilation, out_hw):
    """The adjoint of ``im2col``: add each column entry onto the pixel it was copied from.

    ``cols`` is ``(C*kH*kW, H_out*W_out*N)``; returns ``x (N, C, H, W)`` of
    ``shape`` (zero where no window reaches), with ``x[n, c, h, w] = sum of cols[(c, i, j), (p, q, n)]`` over
    the windows and offsets with ``p*sH + i*dH = h``, ``q*sW + j*dW = w``.
    One vectorised add per kernel offset, each moving runs of ``W_out*N``
    numbers; the result is a batch-last view (see ``from_matrix``).
    """
    n, c, h, w = shape
    windows = cols.reshape(c, kernel[0], kernel[1], out_hw[0], out_hw[1], n)
    out = np.zeros((c, h, w, n), dtype=cols.dtype)
    for (i, j), (rows, columns) in offset_slices(kernel, stride, dilation, out_hw):
        out[:, rows, columns, :] += windows[:, i, j]
    return out.transpose(3, 0, 1, 2)
