"""Checks for what enters mtorch: constructor arguments, hyper-parameters and arrays.

Every public class checks its arguments with these functions where they
enter, so that bad input fails at once with a message naming the public
class, the argument, what was expected and what came::

    Linear: in_features must be an int >= 0, got 4.5 (float)
    Dropout: p must be a number in [0, 1], got '0.5' (str)
    ReLU: input must hold real numbers, got dtype complex128

Wrong types raise ``TypeError``, wrong values ``ValueError`` (both as Python
does). Each function returns the value in its plain form (a Python ``int``,
``float``, ``bool`` or tuple of ints).
"""
import math
import numbers

import numpy as np


def _name(owner):
    return owner if isinstance(owner, str) else type(owner).__name__


def _got(value):
    return f"{value!r} ({type(value).__name__})"


def _range(minimum, maximum, open_min=False, open_max=False):
    if minimum is not None and maximum is not None:
        return f"in {'(' if open_min else '['}{minimum}, {maximum}{')' if open_max else ']'}"
    if minimum is not None:
        return f"{'>' if open_min else '>='} {minimum}"
    if maximum is not None:
        return f"{'<' if open_max else '<='} {maximum}"
    return ""


def _in_range(value, minimum, maximum, open_min, open_max):
    if minimum is not None and (value < minimum or (open_min and value == minimum)):
        return False
    return not (maximum is not None and (value > maximum or (open_max and value == maximum)))


def check_int(owner, name, value, minimum=None, maximum=None):
    """``value`` as an ``int``; a Python or numpy integer (not a bool, float or string) in range."""
    expected = f"an int {_range(minimum, maximum)}".rstrip()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{_name(owner)}: {name} must be {expected}, got {_got(value)}")
    if not _in_range(value, minimum, maximum, False, False):
        raise ValueError(f"{_name(owner)}: {name} must be {expected}, got {value!r}")
    return int(value)


def check_real(owner, name, value, minimum=None, maximum=None, open_min=False, open_max=False,
               allow_inf=False):
    """``value`` as a ``float``: a real number (not a bool or string), not NaN, in range.

    ``open_min``/``open_max`` exclude the bounds; infinity is refused unless ``allow_inf``.
    """
    expected = f"a number {_range(minimum, maximum, open_min, open_max)}".rstrip()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{_name(owner)}: {name} must be {expected}, got {_got(value)}")
    value = float(value)
    if math.isnan(value) or (math.isinf(value) and not allow_inf) or \
            not _in_range(value, minimum, maximum, open_min, open_max):
        raise ValueError(f"{_name(owner)}: {name} must be {expected}, got {value!r}")
    return value


def check_bool(owner, name, value):
    """``value`` as a ``bool``: True, False (or a numpy bool)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{_name(owner)}: {name} must be True or False, got {_got(value)}")
    return bool(value)


def check_choice(owner, name, value, choices):
    """``value`` itself, when it is one of ``choices``."""
    if not any(value == c and type(value) is type(c) for c in choices):
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{_name(owner)}: {name} must be one of {listed}, got {_got(value)}")
    return value


def check_ints(owner, name, value, length, minimum=None):
    """An int (used for every axis) or a sequence of ``length`` ints, as a tuple of ints ``>= minimum``.

    The form of ``kernel_size``, ``stride``, ``padding``: ``3`` or ``(3, 5)``.
    """
    expected = f"an int or a tuple of {length} ints" + (f" >= {minimum}" if minimum is not None else "")
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        value = (value,) * length
    if (not isinstance(value, (tuple, list)) or len(value) != length
            or any(isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral) for v in value)):
        raise TypeError(f"{_name(owner)}: {name} must be {expected}, got {_got(value)}")
    if minimum is not None and min(value) < minimum:
        raise ValueError(f"{_name(owner)}: {name} must be {expected}, got {tuple(value)!r}")
    return tuple(int(v) for v in value)


def as_real_array(owner, value, name="input"):
    """``value`` as a numpy array of real numbers (floats, ints or bools), without copying arrays.

    Refused with ``TypeError``: complex numbers (their imaginary part would be
    lost), strings, ``None``, objects, and ragged nested lists.
    """
    if value is None:
        raise TypeError(f"{_name(owner)}: {name} must be an array of real numbers, got None")
    try:
        array = np.asarray(value)
    except ValueError as error:          # ragged nested lists
        raise TypeError(f"{_name(owner)}: {name} must be an array of real numbers, got a "
                        f"{type(value).__name__} numpy cannot make an array of ({error})") from None
    if array.dtype.kind not in "biuf":
        what = {"c": "complex numbers", "U": "strings", "S": "bytes", "O": "Python objects"}.get(
            array.dtype.kind, f"dtype {array.dtype}")
        raise TypeError(f"{_name(owner)}: {name} must hold real numbers (float, int or bool), "
                        f"got {what} (dtype {array.dtype})")
    return array
