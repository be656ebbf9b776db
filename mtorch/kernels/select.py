"""Selecting gradient entries by a mask (max pooling's backward).

The plain math is ``np.where(mask, g, 0)``: ``g`` where the mask is True,
zero elsewhere. numpy's ``np.where`` on arrays stored batch-last, as the
convolutions leave them (see ``im2col``), is about four times slower than
the product ``g * mask``, which is the same number wherever ``g`` is finite
(``inf * 0`` would be NaN where ``np.where`` gives 0).
"""
import numpy as np


def masked(g, mask, out=None):
    """``np.where(mask, g, 0)``, written into ``out`` when given.

    Computed as the product ``g * mask`` when every entry of ``g`` is
    finite, else with ``np.where``. Measured gain on the LeNet-style CNN
    training step (one thread, CPU time, medians of 5 alternating runs):
    22.6 ms -> 20.3 ms (-10%), the two MaxPool2d backward passes.
    """
    if np.isfinite(g).all():
        return np.multiply(g, mask, out=out)
    if out is None:
        return np.where(mask, g, 0)
    out[...] = np.where(mask, g, 0)
    return out
