"""Dropout: randomly zero activations while training (inverted dropout)."""
import numpy as np

from ..layer import Layer
from ..random import generator
from ..validation import check_bool, check_real


class Dropout(Layer):
    """Zero each element with probability ``p`` in training mode; identity in eval mode.

    Inverted dropout scales the kept elements by ``1 / (1 - p)`` so the
    expected output equals the input and nothing changes at eval time::

        mask = (u >= p) / (1 - p),  u ~ U[0, 1)       (drawn from mtorch's generator)
        y = x * mask                dL/dx = dL/dy * mask

    Args:
        p: probability of zeroing an element, in [0, 1] (default 0.5).
        inplace: PyTorch's flag, accepted and changing nothing: the output is
            always a new array (backward needs only the mask, but the caller may
            still hold the input).

    Shape: any; output and gradient have the input's shape. Cached: the mask.

    Example:
        >>> Dropout(0.5).eval()(np.ones(3))
        array([1., 1., 1.])
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        self.p = check_real(self, "p", p, minimum=0, maximum=1)
        self.inplace = check_bool(self, "inplace", inplace)
        self._mask = None
        self._shape = None

    def _mask_shape(self, x):
        return x.shape

    def forward(self, x):
        x = self.check_input(x, (...,))
        self._shape = x.shape
        if not self.training or self.p == 0:
            self._mask = None
            return x
        self._mask = dropout_mask(self._mask_shape(x), self.p, x.dtype)
        return x * self._mask

    def backward(self, grad_out):
        g = self.check_grad_out(grad_out, self._shape)
        return g if self._mask is None else g * self._mask

    def extra_repr(self):
        return f"p={self.p}" + (", inplace=True" if self.inplace else "")


def dropout_mask(shape, p, dtype):
    """Inverted dropout's mask: each entry ``1 / (1 - p)`` with probability ``1 - p``, else 0
    (all 0 when p = 1), drawn from mtorch's generator. Also used by the attention weights'
    and the recurrent layers' dropout."""
    keep = generator().random(shape, dtype=np.float64) >= p
    return keep.astype(dtype) * np.dtype(dtype).type(0.0 if p == 1 else 1.0 / (1.0 - p))


class Dropout2d(Dropout):
    """Zero whole channels: each ``(n, c)`` feature map is kept or dropped as one, with probability ``p``.

    Neighbouring pixels of a feature map are strongly correlated, so dropping
    single pixels hardly regularises a convolutional network; dropping whole
    maps does. Same inverted scaling as ``Dropout``, with one mask value per
    channel broadcast over the positions::

        mask[n, c] = (u[n, c] >= p) / (1 - p)
        y[n, c, ...] = x[n, c, ...] * mask[n, c]      dL/dx = dL/dy * mask

    Shape: ``(N, C, H, W)`` (or ``(N, C, L)``); output and gradient the same.
    Cached: the ``(N, C, 1, 1)`` mask.
    """

    def forward(self, x):
        x = self.check_input(x, (...,))
        self.check_input(x, ("N", "C", "H", "W") if x.ndim > 3 else ("N", "C", "L"))
        return super().forward(x)

    def _mask_shape(self, x):
        return x.shape[:2] + (1,) * (x.ndim - 2)
