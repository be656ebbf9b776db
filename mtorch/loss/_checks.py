"""Array checks the losses share, on top of ``mtorch.validation`` (private to ``mtorch.loss``).

Each takes ``owner``, the public class name, and ``name``, the argument, so
an error reads ``GaussianNLLLoss: var must be a variance >= 0, got -1.0 at
position (0, 0)``. Types raise ``TypeError``, values ``ValueError``, shapes
``ShapeError``.
"""
import numpy as np

from ..errors import ShapeError
from ..validation import as_real_array


def float_array(owner, name, value, dtype=None):
    """``value`` as a floating array: in ``dtype`` if given, else its own float dtype (bools and
    integers become float32, as mtorch computes in float32 by default). None, strings,
    complex numbers and objects are a ``TypeError``."""
    array = as_real_array(owner, value, name)
    if dtype is None:
        dtype = array.dtype if array.dtype.kind == "f" else np.float32
    return array.astype(dtype, copy=False)


def check_shape(owner, name, array, shape, note=""):
    """``array`` if its shape is ``shape``, else ``ShapeError`` (``note`` explains the expected shape)."""
    if array.shape != tuple(shape):
        raise ShapeError(f"{owner}: expected {name} of shape {tuple(shape)}{note}, got {array.shape}")
    return array


def integer_array(owner, name, value):
    """``value`` as int64: an integer array, or floats that are all whole numbers (``ValueError``
    names the first that is not); bools are refused."""
    array = as_real_array(owner, value, name)
    if array.dtype.kind == "f":
        first_outside(owner, name, array, ~np.isfinite(array) | (array != np.round(array)), "hold integers")
    elif array.dtype.kind == "b":
        raise ValueError(f"{owner}: {name} must hold integers, got dtype bool")
    return array.astype(np.int64, copy=False)


def first_outside(owner, name, array, bad, must):
    """``ValueError`` naming the first entry of ``array`` where the mask ``bad`` is true:
    ``"<owner>: <name> must <must>, got <entry> at position <index>"``."""
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{owner}: {name} must {must}, got {array[where]} at position {where}")
