"""Element-wise formulas computed block by block, so that their temporaries stay in the cache.

The plain math is the formula on whole arrays. numpy runs each operation of a
formula over the whole array before it starts the next one, so a formula of
30 operations on a 4 MB array streams 30 x 8 MB through main memory; on blocks
of 128 KiB, its intermediate arrays stay in the L2 cache.
"""
import numpy as np

BLOCK_BYTES = 2 ** 17      # 128 KiB per array: a long formula's temporaries fit a 1-2 MiB L2 cache


def blockwise(f, *arrays):
    """``f(*arrays)`` for an element-wise ``f``, computed on consecutive blocks of the arrays.

    The result is ``f(*arrays)`` to the bit: the same operations on the same values,
    in another order. ``arrays`` have one shape; ``f`` returns an array or a tuple of
    arrays of that shape. Arrays of two blocks or less, and arrays that are not
    C-contiguous, are computed whole.

    Used by ``mtorch.functional.erfc`` (exact GELU). Measured gain on a training step
    in README form, ``Linear(128, 512), GELU(), Linear(512, 128)`` on 2048 x 128 float32
    rows (MSE, SGD with momentum; one thread, CPU time, medians of 5 alternating
    runs): 38.9 ms -> 29.7 ms (-24%). Formulas of a few operations gain nothing
    (SiLU, the tanh GELU: their cost is the transcendental functions, not memory).
    """
    first = arrays[0]
    block = max(BLOCK_BYTES // first.itemsize, 1)
    if first.size <= 2 * block or not all(a.shape == first.shape and a.flags.c_contiguous for a in arrays):
        return f(*arrays)
    flat = [a.reshape(-1) for a in arrays]
    outputs = single = None
    for start in range(0, first.size, block):
        results = f(*(a[start:start + block] for a in flat))
        single = not isinstance(results, tuple)
        results = (results,) if single else results
        if outputs is None:
            outputs = [np.empty(first.size, r.dtype) for r in results]
        for out, r in zip(outputs, results):
            out[start:start + block] = r
    outputs = tuple(out.reshape(first.shape) for out in outputs)
    return outputs[0] if single else outputs
