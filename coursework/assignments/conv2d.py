"""Assignment 4: 2-d convolution, first with plain loops, then vectorised.

Write ``Conv2dNaive`` first: loops over the batch, the output channels and
the output positions make the math plain and are easy to get right. Then
write ``Conv2d`` without a loop over samples or pixels (loops over the
kernel's kh * kw offsets are fine, or use im2col); the grader times it
against mtorch's own Conv2d. Both must match ``mtorch.layers.Conv2d``.

    python -m mtorch.testing conv2d.py::Conv2dNaive --spec ../specs.py
"""
import numpy as np

import mtorch
from mtorch import Layer, Parameter


class _ConvParameters(Layer):
    """Arguments, parameters and their initialisation, shared by both versions (written for you)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        bound = 1 / np.sqrt(in_channels * kernel_size * kernel_size)
        rng = mtorch.random.generator()
        self.weight = Parameter(rng.uniform(-bound, bound, (out_channels, in_channels, kernel_size, kernel_size)))
        self.bias = Parameter(rng.uniform(-bound, bound, out_channels))
        self._cache = None


class Conv2dNaive(_ConvParameters):
    """Cross-correlation of ``(N, C, H, W)`` images with ``(O, C, k, k)`` kernels, as PyTorch's Conv2d.

    Forward, with ``x_pad`` x zero-padded by ``padding`` on each side and stride s::

        y[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] * x_pad[n, c, i*s + p, j*s + q]
        H_out = (H + 2 * padding - k) // s + 1   (W_out alike)

    Backward, with ``g = dL/dy``: derive ``dL/dW[o, c, p, q]``, ``dL/db[o]`` and
    ``dL/dx_pad[n, c, h, w]`` (every output entry that read x_pad[n, c, h, w]
    sends its gradient back to it: add, do not assign); then cut the padding off.

    Shape: x ``(N, in_channels, H, W)``, y ``(N, out_channels, H_out, W_out)``.
    Parameters: ``weight`` ``(out_channels, in_channels, k, k)``, ``bias`` ``(out_channels,)``.
    """

    def forward(self, x):
        """Return y with loops over n, o, i, j; cache what backward needs."""
        raise NotImplementedError("Conv2dNaive.forward")

    def backward(self, grad_out):
        """Add dL/dW and dL/db; return dL/dx, with the same loops."""
        raise NotImplementedError("Conv2dNaive.backward")


class Conv2d(_ConvParameters):
    """The same layer as ``Conv2dNaive``, vectorised: no Python loop over samples or pixels.

    One way (im2col): copy every window of ``x_pad`` into a row of a matrix
    ``X_col`` ``(N * H_out * W_out, C * k * k)``; then ``Y = X_col @ W_col + b``
    with ``W_col = W.reshape(O, -1).T``. Backward: ``dW_col = X_col^T G``,
    ``dX_col = G W_col^T``, and each row of dX_col is added back onto the
    window it was copied from. Another way: loop over the k * k kernel
    offsets (p, q), each a whole-array product.
    """

    def forward(self, x):
        """Return y; cache what backward needs."""
        raise NotImplementedError("Conv2d.forward")

    def backward(self, grad_out):
        """Add dL/dW and dL/db; return dL/dx."""
        raise NotImplementedError("Conv2d.backward")
