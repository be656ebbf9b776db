"""Linear (fully connected) layer and Identity."""
import math

import numpy as np

from .. import init
from ..layer import Layer
from ..parameter import Parameter
from ..validation import check_bool, check_int


class Linear(Layer):
    """Affine map ``y = x W^T + b``, applied to the last axis.

    Forward:  ``y = x @ W.T + b``
    Backward: with ``g = dL/dy`` flattened to ``(M, out)`` and ``x`` to ``(M, in)``
    (M = product of the leading dimensions, e.g. the batch, or seq * batch)::

        dL/dW = g.T @ x        (out, in)
        dL/db = g.sum(axis=0)  (out,)
        dL/dx = g @ W          (M, in), reshaped back to x's shape

    Args:
        in_features: size of each input sample's last axis.
        out_features: size of each output sample's last axis.
        bias: learn an additive bias (default True).

    Shape:
        input ``(..., in_features)``, output ``(..., out_features)``.

    Init (PyTorch's default): W and b ~ U(-1/sqrt(in), 1/sqrt(in)); sizes may be 0.

    Cached: the input ``x``.

    Example:
        >>> Linear(784, 10)(np.zeros((32, 784))).shape
        (32, 10)
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = check_int(self, "in_features", in_features, minimum=0)
        self.out_features = check_int(self, "out_features", out_features, minimum=0)
        self.weight = Parameter(np.zeros((self.out_features, self.in_features)))
        self.bias = Parameter(np.zeros(self.out_features)) if check_bool(self, "bias", bias) else None
        self.reset_parameters()
        self._x = None

    def reset_parameters(self):
        if self.weight.size:                   # an empty weight has nothing to draw (and no fan-in)
            init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        x = self.check_input(x, (..., self.in_features))
        self._x = x
        # np.dot on the 2-D view: one BLAS call whatever the leading dimensions
        # (matmul loops over stacked matrices and is slow when a size is 1).
        y = np.dot(_rows(x), self.weight.data.T)
        if self.bias is not None:
            y += self.bias.data
        return y.reshape(x.shape[:-1] + (self.out_features,))

    def backward(self, grad_out):
        x = self._x
        g = self.check_grad_out(grad_out, None if x is None else x.shape[:-1] + (self.out_features,))
        g2 = _rows(g)
        self.weight.add_grad(np.dot(g2.T, _rows(x)))
        if self.bias is not None:
            self.bias.add_grad(g2.sum(axis=0))
        if not self.needs_input_grad:          # the input is data: no dL/dx (see Layer)
            return None
        return np.dot(g2, self.weight.data).reshape(x.shape)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def _rows(a):
    """The 2-D ``(M, last axis)`` view of ``a``, M = the product of its leading sizes (0 allowed)."""
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


class Identity(Layer):
    """``y = x``; backward passes the gradient through unchanged.

    Takes any arguments and ignores them, as PyTorch's, so that it can stand in
    for a layer in code that builds layers from arguments. The input is checked
    as every layer's: an array of real numbers (integers and bools become float32).
    """

    def __init__(self, *args, **kwargs):
        super().__init__()
        self._shape = None

    def forward(self, x):
        x = self.check_input(x, (...,))
        self._shape = x.shape
        return x

    def backward(self, grad_out):
        return self.check_grad_out(grad_out, self._shape)
