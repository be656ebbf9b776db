"""Argument types for ``argparse`` that refuse bad values with a one-line usage error.

::

    parser.add_argument("--epochs", type=positive_int, default=10)
    parser.add_argument("--lr", type=positive_float)
    parser.add_argument("--out", type=writable_dir, default="runs")

A refused value ends the script at once with ``usage: ...`` and
``error: argument --epochs: must be an int >= 1, got '0'`` (exit status 2),
before any data is loaded or any training starts.
"""
import argparse
import math
import os
import secrets


def _text(name, text):
    if not isinstance(text, str):
        raise TypeError(f"{name}: expected the command-line text (a str), got {type(text).__name__}")


def _number(name, kind, text, check, expected):
    _text(name, text)
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {expected}, got {text!r}") from None
    if (kind is float and not math.isfinite(value)) or not check(value):
        raise argparse.ArgumentTypeError(f"must be {expected}, got {text!r}")
    return value


def positive_int(text):
    """An int >= 1 (epochs, sizes)."""
    return _number("positive_int", int, text, lambda v: v >= 1, "an int >= 1")


def nonnegative_int(text):
    """An int >= 0 (a seed, a number of warm-up steps)."""
    return _number("nonnegative_int", int, text, lambda v: v >= 0, "an int >= 0")


def positive_float(text):
    """A finite number > 0 (a learning rate)."""
    return _number("positive_float", float, text, lambda v: v > 0, "a number > 0")


def nonnegative_float(text):
    """A finite number >= 0 (weight decay, a clipping norm where 0 means off)."""
    return _number("nonnegative_float", float, text, lambda v: v >= 0, "a number >= 0")


def fraction(text):
    """A number in [0, 1) (a dropout probability, label smoothing)."""
    return _number("fraction", float, text, lambda v: 0 <= v < 1, "a number in [0, 1)")


def writable_dir(text):
    """A folder that exists and can be written to, or can be created: tried for real, and any
    folder made for the test is removed again (the script creates it when it writes)."""
    _text("writable_dir", os.fspath(text) if isinstance(text, os.PathLike) else text)
    path = os.path.abspath(text)
    created = []
    try:
        head = path
        while not os.path.isdir(head):
            if os.path.exists(head):
                raise argparse.ArgumentTypeError(f"{text!r} is not a folder ({head} is a file)")
            created.append(head)
            head = os.path.dirname(head)
        for folder in reversed(created):
            os.mkdir(folder)
        probe = os.path.join(path, f".write-test-{secrets.token_hex(4)}")
        with open(probe, "x"):
            pass
        os.remove(probe)
    except OSError as error:
        raise argparse.ArgumentTypeError(f"cannot write to {text!r} ({error.strerror or error})") from None
    finally:
        for folder in created:
            try:
                os.rmdir(folder)
            except OSError:
                pass
    return text
