"""Parameter: a trainable array and the gradient that backward stores for it."""
import numpy as np


class Parameter:
    """An array of weights (``.data``) together with its gradient (``.grad``).

    ``Layer.backward`` writes ``dL/d(data)`` into ``.grad`` (same shape as
    ``.data``); ``Layer.step`` or an optimizer then updates ``.data``. The
    gradient is ``None`` until the first backward pass.

    Args:
        data: anything ``np.asarray`` accepts.
        dtype: the dtype to store; float32 by default, mtorch's default.

    Example:
        >>> w = Parameter(np.zeros((2, 3)))
        >>> w.shape, w.dtype
        ((2, 3), dtype('float32'))
    """

    def __init__(self, data, dtype=np.float32):
        self.data = np.array(data, dtype=dtype)
        self.grad = None

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return self.data.size

    def zero_grad(self):
        """Forget the stored gradient."""
        self.grad = None

    def __repr__(self):
        return f"Parameter(shape={self.shape}, dtype={self.dtype})"
