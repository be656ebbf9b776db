"""``Layer.summary``: a table of every leaf layer's output shape and parameter count."""
import numpy as np


def _example_inputs(layer, input_shape, x):
    """The arrays to run: ``x`` as given, or zeros of ``input_shape`` (one shape or a list of shapes)."""
    if x is not None:
        return tuple(x) if isinstance(x, (tuple, list)) else (x,)
    if input_shape is None:
        raise TypeError(f"{type(layer).__name__}.summary: give input_shape (e.g. (1, 784)) or x")
    shapes = input_shape if input_shape and isinstance(input_shape[0], (tuple, list)) else [input_shape]
    dtype = next((p.dtype for p in layer.parameters()), np.dtype(np.float32))
    return tuple(np.zeros(tuple(shape), dtype=dtype) for shape in shapes)


def summary(layer, input_shape=None, x=None, file=None):
    """Print the table for ``layer`` run on ``x`` or on zeros of ``input_shape``; return the total."""
    inputs = _example_inputs(layer, input_shape, x)
    was_training = layer.training
    rows = []

    def record(name):
        return lambda sub, inp, out: rows.append(
            (name, type(sub).__name__, np.shape(out), sum(p.size for p in sub.parameters(recurse=False))))

    handles = [sub.register_forward_hook(record(name)) for name, sub in layer.leaves()]
    try:
        layer.eval()
        layer(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        layer.train(was_training)
    total = sum(p.size for p in layer.parameters())
    width = max([len(f"{n} ({t})") for n, t, _, _ in rows] + [len("total parameters")])
    lines = [f"{'layer':<{width}}  {'output shape':<20}  {'params':>10}", "-" * (width + 34)]
    lines += [f"{f'{n} ({t})'.strip():<{width}}  {str(s):<20}  {c:>10,}" for n, t, s, c in rows]
    lines += ["-" * (width + 34), f"{'total parameters':<{width}}  {'':<20}  {total:>10,}"]
    print("\n".join(lines), file=file)
    return total
