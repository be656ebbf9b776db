"""One random number generator for all of mtorch.

Initialisation, dropout masks and data shuffling all draw from
``generator()``, so ``manual_seed(n)`` makes a whole run reproducible.
"""
import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed):
    """Reseed mtorch's generator: same seed, same weights, masks and batch order."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed expects a non-negative integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def generator():
    """The ``numpy.random.Generator`` that mtorch draws from now."""
    return _generator


def get_rng_state():
    """A snapshot of the generator's state (a dict), for ``set_rng_state``."""
    return _generator.bit_generator.state


def set_rng_state(state):
    """Restore a state taken with ``get_rng_state``."""
    _generator.bit_generator.state = state
