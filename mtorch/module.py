"""Module: what users subclass to write a model."""
from .layer import Layer


class Module(Layer):
    """A model. Subclass it as in PyTorch, or wrap one layer (the seed's form).

    **Subclass**: assign layers as attributes and write ``forward`` and
    ``backward``; backward calls the layers' backward in the reverse order
    of forward, adding the gradients of every path that used an input::

        class TwoTower(Module):
            def __init__(self):
                super().__init__()
                self.image = Linear(784, 32)
                self.text = Linear(300, 32)
                self.head = Linear(64, 1)

            def forward(self, image, text):
                return self.head(np.concatenate([self.image(image), self.text(text)], axis=1))

            def backward(self, grad_out):
                g = self.head.backward(grad_out)
                return self.image.backward(g[:, :32]), self.text.backward(g[:, 32:])

    **Wrap**: ``Module(Sequential([...]))`` (or a subclass calling
    ``super().__init__(Sequential([...]))``) takes its forward, backward and
    parameter names from the wrapped layer: ``0.weight``, not
    ``sequential.0.weight``, so state dicts match ``torch.nn.Sequential``'s.
    The wrapped layer is ``module.sequential``.

    A Module is a Layer; the difference is what a model needs: called on
    data (an array no layer produced), it computes no dL/d(data) and its
    backward returns None, so the first Linear or Conv skips that product
    (see ``Layer``). ``input_grad=True`` asks for dL/d(input) always (e.g.
    saliency maps), ``False`` never.

    Args:
        sequential: the layer to wrap (usually a Sequential), or None when subclassing.
        input_grad: None (automatic, default), True or False.
    """

    _skips_data_grad = True

    def __init__(self, sequential=None, input_grad=None):
        super().__init__()
        if sequential is not None:
            if not isinstance(sequential, Layer):
                raise TypeError(f"{type(self).__name__}: Module wraps a Layer (usually a Sequential), "
                                f"got {type(sequential).__name__}")
            self.add_layer("", sequential)
            object.__setattr__(self, "sequential", sequential)
        if input_grad is not None and not isinstance(input_grad, bool):
            raise TypeError(f"{type(self).__name__}: input_grad must be None, True or False, "
                            f"got {input_grad!r}")
        self.input_grad = input_grad

    def _wrapped(self):
        if "sequential" not in self.__dict__:
            raise NotImplementedError(
                f"{type(self).__name__} must implement forward and backward, or wrap a layer: "
                f"super().__init__(Sequential([...]))")
        return self.sequential

    def forward(self, *inputs):
        return self._wrapped()(*inputs)

    def backward(self, grad_out):
        wrapped = self._wrapped()
        wrapped.needs_input_grad = self.needs_input_grad       # no dL/d(input) for data
        return wrapped.backward(grad_out)

    def __repr__(self):
        if "sequential" not in self.__dict__:
            return super().__repr__()
        inner = repr(self.sequential)
        return type(self).__name__ + inner[inner.index("("):]
