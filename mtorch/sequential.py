"""Sequential: layers applied one after another; backward runs them in reverse."""
from .errors import ShapeError
from .layer import Layer


class Sequential(Layer):
    """Chain of layers: ``forward`` is ``f_n(...f_2(f_1(x)))``.

    By the chain rule, ``backward`` passes ``dL/dy`` through the layers in
    reverse: ``dL/dx = b_1(b_2(...b_n(dL/dy)))`` where ``b_i`` is layer i's
    backward. Each layer stores its own parameter gradients on the way. A
    layer that returns None (its input needs no gradient, see
    ``Module.input_grad``) ends the pass: the layers before it have no parameters.

    Layers are named ``"0"``, ``"1"``, ... so parameters are ``0.weight``,
    ``0.bias``, ... as in ``torch.nn.Sequential``.

    Args:
        *layers: the layers, or a single list of them.

    Example:
        >>> net = Sequential([Linear(4, 8), ReLU(), Linear(8, 3)])
        >>> net(np.zeros((5, 4))).shape
        (5, 3)
    """

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = layers[0]
        for layer in layers:
            self.append(layer)

    def append(self, layer):
        """Add ``layer`` at the end; returns self."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential takes Layer instances, got {type(layer).__name__}")
        setattr(self, str(len(self._layers)), layer)
        return self

    def forward(self, x):
        for index, layer in enumerate(self._layers.values()):
            try:
                x = layer(x)
            except ShapeError as error:
                raise ShapeError(f"in Sequential layer {index}: {error}") from None
        return x

    def backward(self, grad_out):
        for layer in reversed(self._layers.values()):
            grad_out = layer.run_backward(grad_out)
            if grad_out is None:
                break
        return grad_out

    def __len__(self):
        return len(self._layers)

    def __iter__(self):
        return iter(self._layers.values())

    def __getitem__(self, index):
        layers = list(self._layers.values())
        if isinstance(index, slice):
            return Sequential(layers[index])
        return layers[index]
