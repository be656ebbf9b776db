"""Parameter: a trainable array and the gradient that backward passes add up for it."""
import numpy as np

from .errors import GradientError, ShapeError


class Parameter:
    """An array of weights (``.data``) together with its gradient (``.grad``).

    **Gradients add up.** A layer's ``backward`` adds its contribution with
    ``p.add_grad(dL/dp)``, so a Parameter used in several places (tied
    weights, one layer applied twice) ends the backward pass holding the sum of
    all contributions, as in PyTorch. ``.grad`` is None until something is
    added; ``optimizer.step()`` (or ``layer.step(lr)``) applies the gradient
    and then clears it, and ``zero_grad()`` clears it explicitly. Between two
    steps, gradients of several backward passes add up (gradient accumulation).

    Assigning ``p.grad = g`` replaces the gradient. Inside a backward pass
    that would throw away what another use of the Parameter has added, so
    there it raises ``GradientError`` unless ``.grad`` is still None: a layer
    written as ``self.weight.grad = g`` works when its weight is used once,
    and says what to write when it is not.

    Args:
        data: anything ``np.asarray`` accepts.
        dtype: the dtype to store; float32 by default, mtorch's default.

    Example:
        >>> w = Parameter(np.zeros((2, 3)))
        >>> w.add_grad(np.ones((2, 3))); w.add_grad(np.ones((2, 3)))
        >>> w.grad[0, 0]
        2.0
    """

    _backward_depth = 0           # > 0 while a Layer's backward runs (set by Layer)

    def __init__(self, data, dtype=np.float32):
        self.data = np.array(data, dtype=dtype)
        self._grad = None
        self.name = None          # the attribute name it was first registered under, for messages

    def _label(self):
        return f"Parameter {self.name!r} of shape {self.shape}" if self.name else f"Parameter of shape {self.shape}"

    @property
    def grad(self):
        """dL/d(data), the data's shape; None when no gradient has been added since the last clear."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            value = self._checked(value)
            if self._grad is not None and value is not self._grad and Parameter._backward_depth > 0:
                raise GradientError(
                    f"{self._label()} already holds a gradient in this backward pass "
                    f"(it is used in more than one place, or an earlier backward was not yet applied "
                    f"by optimizer.step()); assigning p.grad = g would throw it away. "
                    f"Add instead: p.add_grad(g)")
        self._grad = value

    def add_grad(self, g):
        """Add ``g`` (dL/d(data) from one use of this Parameter) to ``.grad``.

        The first contribution is kept as it is (no copy: pass a new array,
        not a view of something that will change); later ones make a new sum,
        so no array handed in is ever modified.
        """
        g = self._checked(g)
        self._grad = g if self._grad is None else self._grad + g

    def zero_grad(self):
        """Clear the gradient (``.grad`` becomes None)."""
        self._grad = None

    def _checked(self, g):
        """``g`` as an array of the data's shape and dtype, or a clear error."""
        g = np.asarray(g)
        if g.dtype.kind not in "biuf":
            raise TypeError(f"{self._label()}: a gradient must hold real numbers, got dtype {g.dtype}")
        if g.shape != self.data.shape:
            raise ShapeError(f"{self._label()}: got a gradient of shape {g.shape}; a gradient has "
                             f"the shape of its Parameter")
        return g if g.dtype == self.data.dtype else g.astype(self.data.dtype)

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return self.data.size

    def __repr__(self):
        return f"Parameter(shape={self.shape}, dtype={self.dtype})"
