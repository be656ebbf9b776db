"""The argument checks every loss uses (private to ``mtorch.loss``).

Each takes ``owner``, the public class name, and ``name``, the argument,
so an error reads ``MarginRankingLoss: margin must be a number >= 0, got -1.0``.
Types raise ``TypeError``, values ``ValueError``, shapes ``ShapeError``.
"""
import math
import numbers

import numpy as np

from ..errors import ShapeError


def describe(value):
    """How an offending value is shown in an error message."""
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    return "None" if value is None else f"{value!r} ({type(value).__name__})"


def check_choice(owner, name, value, choices):
    """``value`` if it is one of the strings ``choices``, else ``ValueError``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{owner}: {name} must be one of {', '.join(map(repr, choices))}, got {describe(value)}")
    return value


def check_number(owner, name, value, ok=None, expected="a finite number"):
    """``value`` as a float: a real number (not a bool, not a string), finite, with ``ok(value)`` true."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be {expected}, got {describe(value)}")
    if not math.isfinite(value) or (ok is not None and not ok(value)):
        raise ValueError(f"{owner}: {name} must be {expected}, got {value!r}")
    return float(value)


def check_int(owner, name, value, ok=None, expected="an int"):
    """``value`` as an int: an integer (not a bool, not a float such as 4.0) with ``ok(value)`` true."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be {expected}, got {describe(value)}")
    if ok is not None and not ok(value):
        raise ValueError(f"{owner}: {name} must be {expected}, got {value!r}")
    return int(value)


def check_bool(owner, name, value):
    """``value`` if it is True or False (a numpy bool too), else ``TypeError``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, got {describe(value)}")
    return bool(value)


def real_array(owner, name, value):
    """``value`` as a numpy array of bools, integers or floats; anything else (None, strings,
    complex numbers, objects) is a ``TypeError``."""
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{owner}: {name} must be a real-valued array, got {describe(value)}")
    try:
        array = np.asarray(value)
    except ValueError as error:                  # a ragged nested list
        raise ShapeError(f"{owner}: {name} is not a rectangular array ({error})") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: {name} must be a real-valued array (bool, int or float), "
                        f"got dtype {array.dtype}")
    return array


def float_array(owner, name, value, dtype=None):
    """``real_array`` as floats: in ``dtype`` if given, else its own float dtype (bools and
    integers become float32, as mtorch computes in float32 by default)."""
    array = real_array(owner, name, value)
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
    array = real_array(owner, name, value)
    if array.dtype.kind == "f":
        fractional = ~np.isfinite(array) | (array != np.round(array))
        if fractional.any():
            where = tuple(int(i) for i in np.argwhere(fractional)[0])
            raise ValueError(f"{owner}: {name} must hold integers, got {array[where]} at position "
                             f"{where} (dtype {array.dtype})")
    elif array.dtype.kind == "b":
        raise ValueError(f"{owner}: {name} must hold integers, got dtype bool")
    return array.astype(np.int64, copy=False)


def first_outside(owner, name, array, bad, expected):
    """``ValueError`` naming the first entry of ``array`` where the mask ``bad`` is true."""
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{owner}: {name} must be {expected}, got {array[where]} at position {where}")
