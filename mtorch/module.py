"""Module: the thin wrapper users subclass to name their model."""
import numpy as np

from .layer import Layer


class Module(Layer):
    """A model: a named wrapper around one ``Sequential`` (or any Layer).

    Forward, backward and step are the wrapped layer's; parameter names are
    too (``0.weight``, not ``sequential.0.weight``), so state dicts match
    ``torch.nn.Sequential``'s.

    ``input_grad`` (default True): whether ``backward`` computes dL/d(input).
    A model's input is usually data, whose gradient nobody reads; with
    ``module.input_grad = False`` the first layer that has parameters stores
    its parameter gradients but skips dL/dx (for the first Linear of an MLP
    that is a third of the backward pass), and ``backward`` returns None,
    just as PyTorch computes no gradient for an input that does not require one.

    Example:
        >>> class DigitModule(Module):
        ...     def __init__(self):
        ...         super().__init__(Sequential([
        ...             layers.Linear(784, 128), layers.ReLU(),
        ...             layers.Linear(128, 10),
        ...         ]))
        >>> module = DigitModule()
        >>> logits = module(images)        # (N, 784) -> (N, 10)
        >>> module.backward(grad_logits)   # stores every parameter's gradient
    """

    def __init__(self, sequential, input_grad=True):
        super().__init__()
        if not isinstance(sequential, Layer):
            raise TypeError(f"{type(self).__name__}: Module wraps a Layer (usually a Sequential), "
                            f"got {type(sequential).__name__}")
        self._layers[""] = sequential
        object.__setattr__(self, "sequential", sequential)
        self.input_grad = input_grad

    @property
    def input_grad(self):
        """True when ``backward`` returns dL/d(input); False skips it (see the class docstring)."""
        first = self._first_trained_layer()
        return first is None or first.needs_input_grad

    @input_grad.setter
    def input_grad(self, value):
        first = self._first_trained_layer()
        if first is not None:
            first.needs_input_grad = bool(value)

    def _first_trained_layer(self):
        """The first layer, in forward order, that has parameters of its own (None if none has)."""
        for _, layer in self.sequential.named_layers():
            if layer._parameters:
                return layer
        return None

    def forward(self, x):
        return self.sequential(x)

    def backward(self, grad_out):
        return self.sequential.run_backward(grad_out)

    def summary(self, input_shape, file=None):
        """Print a table of layers, output shapes and parameter counts.

        ``input_shape`` is a whole input's shape including the batch, e.g.
        ``(1, 784)``. A zero input is run through in eval mode (the mode is
        restored afterwards). Returns the total number of parameters.
        """
        was_training = self.training
        rows = []
        handles = [layer.register_forward_hook(
                       lambda l, i, o, name=name: rows.append((name, type(l).__name__, np.shape(o),
                                                               sum(p.size for p in l._parameters.values()))))
                   for name, layer in self.sequential.named_layers() if not layer._layers]
        try:
            self.eval()
            self(np.zeros(input_shape, dtype=self._dtype()))
        finally:
            for handle in handles:
                handle.remove()
            self.train(was_training)
        total = sum(p.size for p in self.parameters())
        width = max([len(f"{n} ({t})") for n, t, _, _ in rows] + [len("total parameters")])
        lines = [f"{'layer':<{width}}  {'output shape':<20}  {'params':>10}", "-" * (width + 34)]
        lines += [f"{f'{n} ({t})':<{width}}  {str(s):<20}  {c:>10,}" for n, t, s, c in rows]
        lines += ["-" * (width + 34), f"{'total parameters':<{width}}  {'':<20}  {total:>10,}"]
        print("\n".join(lines), file=file)
        return total

    def __repr__(self):
        inner = repr(self.sequential)
        return type(self).__name__ + inner[inner.index("("):]

    def _dtype(self):
        for p in self.parameters():
            return p.data.dtype
        return np.float32
