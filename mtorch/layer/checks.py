"""Input checks a layer calls at the start of forward and backward."""
import numpy as np

from ..errors import BackwardBeforeForwardError, ShapeError
from ..validation import as_real_array


def _format_pattern(pattern):
    parts = ["..." if p is Ellipsis else str(p) for p in pattern]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def matches(shape, pattern):
    """Whether ``shape`` fits ``pattern`` (see ``InputChecks.check_input``)."""
    if pattern and pattern[0] is Ellipsis:
        tail = pattern[1:]
        return len(shape) >= len(tail) and matches(shape[len(shape) - len(tail):], tail)
    if len(shape) != len(pattern):
        return False
    return all(isinstance(p, str) or p is None or p == s for s, p in zip(shape, pattern))


class InputChecks:
    """``check_input`` and ``check_grad_out`` (a base of ``Layer``)."""

    def check_input(self, x, pattern, dtype=None, name="input"):
        """Return ``x`` as a floating array, or raise an error naming this layer.

        ``pattern`` is a tuple of sizes: an int must match exactly, a string
        (``"N"``, ``"H"``) or None matches any size, and a leading ``...``
        matches any number of leading dimensions. ``dtype`` (default: the
        layer's parameter dtype, else the input's float dtype) is what the
        layer computes in; integer, bool and float16 input becomes float32
        (float16 sums and squares overflow past 65504). Complex, string and
        object input is refused (``TypeError``).
        """
        if not (isinstance(x, np.ndarray) and x.dtype.kind in "biuf"):     # the name only when needed
            x = as_real_array(self._short_repr(), x, name)
        if not matches(x.shape, pattern):
            raise ShapeError(f"{self._short_repr()}: expected {name} of shape "
                             f"{_format_pattern(pattern)}, got {x.shape}")
        if dtype is None:
            dtype = self.param_dtype()
        if dtype is None:
            dtype = np.promote_types(x.dtype, np.float32) if x.dtype.kind == "f" else np.float32
        return x if x.dtype == dtype else x.astype(dtype)

    def check_grad_out(self, grad_out, expected_shape):
        """Validate ``grad_out`` at the start of ``backward``; returns it as an array, in the
        layer's parameter dtype when it has parameters (a layer computes in that dtype).

        ``expected_shape`` is the shape of the output the last forward returned,
        or None when nothing is cached (then ``backward`` was called too early).
        """
        if expected_shape is None:
            raise BackwardBeforeForwardError(
                f"{self._short_repr()}.backward() called before forward(): nothing is cached")
        if grad_out is None:
            raise TypeError(
                f"{self._short_repr()}.backward(): got None for grad_out. The layer after it returned "
                f"no input gradient: a model called on data computes none (set model.input_grad = True "
                f"to get it)")
        grad_out = as_real_array(f"{self._short_repr()}.backward()", grad_out, "grad_out")
        if grad_out.shape != tuple(expected_shape):
            raise ShapeError(f"{self._short_repr()}.backward(): expected grad_out of shape "
                             f"{tuple(expected_shape)} (the output's shape), got {grad_out.shape}")
        dtype = self.param_dtype()
        return grad_out if dtype is None or grad_out.dtype == dtype else grad_out.astype(dtype)

    def param_dtype(self):
        """The dtype of this layer's own first Parameter (what it computes in), or None."""
        for p in self._parameters.values():
            if p is not None:
                return p.data.dtype
        return None
