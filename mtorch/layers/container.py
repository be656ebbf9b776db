"""Containers: layers made of layers, each backward the chain rule written out.

``Sequential`` chains layers, ``Residual`` adds a skip connection, ``Concat``
runs branches side by side; ``ModuleList`` and ``ModuleDict`` only hold
layers (registered, so their Parameters are found, saved and trained) for
a ``forward`` you write yourself. State-dict keys are PyTorch's for the
equivalent ``torch.nn`` model: ``0.weight`` in a Sequential, ``blocks.0.weight``
for a ModuleList named ``blocks``.
"""
import numbers

import numpy as np

from ..errors import ShapeError
from ..layer import Layer
from ..validation import check_int
from .linear import Identity


def _checked_layer(owner, layer):
    if not isinstance(layer, Layer):
        raise TypeError(f"{owner}: expected a Layer, got {type(layer).__name__}")
    return layer


def _position(owner, index, length, insert=False):
    """``index`` as a position among ``length`` layers (negative counts from the end, as for a list),
    or an error naming ``owner``: IndexError out of range, TypeError for anything but an int.
    ``insert``: any int is a place to insert at (as ``list.insert``)."""
    if not isinstance(index, numbers.Integral):
        raise TypeError(f"{owner}: an index must be an int, got {index!r} ({type(index).__name__})")
    if not insert and not -length <= index < length:
        raise IndexError(f"{owner}: index {index} is out of range for {length} layers")
    return int(index)


def _iterated(owner, items, what):
    """``list(items)``, or a TypeError naming ``owner`` when ``items`` cannot be iterated."""
    try:
        return list(items)
    except TypeError:
        raise TypeError(f"{owner}: expected {what}, got {type(items).__name__}") from None


class Sequential(Layer):
    """Layers applied one after another: ``y = f_n(...f_2(f_1(x)))``.

    Backward, by the chain rule, runs the layers' backward in reverse:
    ``dL/dx = b_1(b_2(...b_n(dL/dy)))``, each layer adding its own parameter
    gradients on the way. The first layer may take several inputs.

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
        self._out_shape = None

    def append(self, layer):
        """Add ``layer`` at the end; returns self."""
        self.add_layer(str(len(self)), _checked_layer("Sequential", layer))
        return self

    def forward(self, *inputs):
        for index, layer in enumerate(self):
            try:
                inputs = (layer(*inputs),)
            except ShapeError as error:
                raise ShapeError(f"in Sequential layer {index}: {error}") from None
        out = inputs[0] if len(inputs) == 1 else inputs
        self._out_shape = out.shape if isinstance(out, np.ndarray) else "several"
        return out

    def backward(self, grad_out):
        layers = list(self)
        if not self.needs_input_grad:
            # the input is data: the layers before the first one with parameters have nothing to learn
            layers = layers[self._first_with_parameters():]
            if not layers:                   # nothing to compute, but grad_out is still checked
                if self._out_shape != "several":
                    self.check_grad_out(grad_out, self._out_shape)
                return None
        for layer in reversed(layers[1:]):
            grad_out = layer.backward(grad_out)
        if not layers:
            return grad_out
        layers[0].needs_input_grad = self.needs_input_grad      # no dL/d(input) for data
        return layers[0].backward(grad_out)

    def _first_with_parameters(self):
        return next((i for i, layer in enumerate(self) if next(layer.parameters(), None) is not None),
                    len(self))

    def __len__(self):
        return len(self._layers)

    def __iter__(self):
        return iter(self._layers.values())

    def __getitem__(self, index):
        layers = list(self._layers.values())
        if isinstance(index, slice):
            return Sequential(layers[index])
        return layers[_position("Sequential", index, len(layers))]


class Residual(Layer):
    """A skip connection: ``y = body(x) + shortcut(x)``, the block of a ResNet.

    Backward: both paths receive dL/dy, and x's gradient is the sum of what
    they pass back::

        dL/dx = body.backward(dL/dy) + shortcut.backward(dL/dy)

    Args:
        body: the layer (usually a Sequential) whose output is added.
        shortcut: a layer applied to x on the skip path (e.g. a 1x1 Conv2d
            when the body changes the shape); None for the identity.

    Shape: body(x) and shortcut(x) must have the same shape.

    Example:
        >>> block = Residual(Sequential([Linear(8, 8), ReLU(), Linear(8, 8)]))
        >>> block(np.zeros((2, 8))).shape
        (2, 8)
    """

    def __init__(self, body, shortcut=None):
        super().__init__()
        self.body = _checked_layer("Residual", body)
        self.shortcut = Identity() if shortcut is None else _checked_layer("Residual", shortcut)

    def forward(self, x):
        y, skip = self.body(x), self.shortcut(x)
        if np.shape(y) != np.shape(skip):
            raise ShapeError(f"Residual: the body's output {np.shape(y)} and the shortcut's "
                             f"{np.shape(skip)} cannot be added; give a shortcut that maps x to the "
                             f"body's output shape")
        return y + skip

    def backward(self, grad_out):
        return self.body.backward(grad_out) + self.shortcut.backward(grad_out)


class Concat(Layer):
    """Branches side by side: every branch sees x, their outputs are concatenated along ``dim``.

    Forward: ``y = concatenate([b_1(x), ..., b_k(x)], dim)`` (an Inception block).
    Backward: dL/dy is split back into each branch's part ``g_i``, and x's
    gradient is the sum over the branches: ``dL/dx = sum_i b_i.backward(g_i)``.

    Args:
        *branches: the layers; all outputs must agree except along ``dim``.
        dim: the axis to concatenate (default 1, the channels of NCHW).

    Branches are named ``"0"``, ``"1"``, ... (``0.weight``, ...).

    Example:
        >>> block = Concat(Conv2d(3, 4, 1), Conv2d(3, 6, 3, padding=1))
        >>> block(np.zeros((2, 3, 8, 8))).shape
        (2, 10, 8, 8)
    """

    def __init__(self, *branches, dim=1):
        super().__init__()
        if len(branches) == 1 and isinstance(branches[0], (list, tuple)):
            branches = branches[0]
        if not branches:
            raise ValueError("Concat: expected at least one branch, got none")
        for i, branch in enumerate(branches):
            self.add_layer(str(i), _checked_layer("Concat", branch))
        self.dim = check_int("Concat", "dim", dim)
        self._sizes = self._shape = None

    def forward(self, x):
        outs = [branch(x) for branch in self.children()]
        try:
            y = np.concatenate(outs, axis=self.dim)
        except (ValueError, np.exceptions.AxisError):
            raise ShapeError(f"Concat(dim={self.dim}): the branches' outputs "
                             f"{[np.shape(o) for o in outs]} cannot be concatenated along dim "
                             f"{self.dim}") from None
        self._sizes, self._shape = [np.shape(o)[self.dim] for o in outs], y.shape
        return y

    def backward(self, grad_out):
        grad_out = self.check_grad_out(grad_out, self._shape)
        pieces = np.split(grad_out, np.cumsum(self._sizes)[:-1], axis=self.dim)
        return sum(branch.backward(g) for branch, g in zip(self.children(), pieces))

    def extra_repr(self):
        return f"dim={self.dim}"


class ModuleList(Layer):
    """A list of layers, registered as ``"0"``, ``"1"``, ... (PyTorch's ``nn.ModuleList``).

    It has no forward of its own: use it in a model whose ``forward`` and
    ``backward`` loop over it (backward in reverse order)::

        self.blocks = ModuleList([Block() for _ in range(4)])     # blocks.0.weight, ...
        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x
        def backward(self, g):
            for block in reversed(self.blocks):
                g = block.backward(g)
            return g
    """

    def __init__(self, layers=()):
        super().__init__()
        self.extend(layers)

    def append(self, layer):
        """Add ``layer`` at the end; returns self."""
        self.add_layer(str(len(self)), _checked_layer("ModuleList", layer))
        return self

    def extend(self, layers):
        """Append every layer of an iterable; returns self."""
        for layer in _iterated("ModuleList", layers, "an iterable of Layers"):
            self.append(layer)
        return self

    def insert(self, index, layer):
        """Insert ``layer`` before position ``index``."""
        items = list(self)
        items.insert(_position("ModuleList", index, len(items), insert=True), _checked_layer("ModuleList", layer))
        self._renumber(items)

    def _renumber(self, items):
        for name in list(self._layers):
            delattr(self, name)
        self.extend(items)

    def __getitem__(self, index):
        items = list(self._layers.values())
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[_position("ModuleList", index, len(items))]

    def __setitem__(self, index, layer):
        names = list(self._layers)
        self.add_layer(names[_position("ModuleList", index, len(names))], _checked_layer("ModuleList", layer))

    def __delitem__(self, index):
        items = list(self)
        del items[index if isinstance(index, slice) else _position("ModuleList", index, len(items))]
        self._renumber(items)

    def __len__(self):
        return len(self._layers)

    def __iter__(self):
        return iter(self._layers.values())

    def forward(self, *inputs):
        raise NotImplementedError("ModuleList holds layers but has no forward: loop over it in your "
                                  "model's forward (and over reversed(...) in its backward)")


class ModuleDict(Layer):
    """Layers by name (PyTorch's ``nn.ModuleDict``): ``self.heads = ModuleDict({"a": Linear(4, 2)})``
    registers ``heads.a.weight``. Dict operations work; like ``ModuleList`` it has no forward."""

    def __init__(self, layers=None):
        super().__init__()
        if layers is not None:
            self.update(layers)

    def update(self, layers):
        """Add ``(name, layer)`` pairs from a dict or an iterable of pairs."""
        expected = "a dict or an iterable of (name, layer) pairs"
        pairs = _iterated("ModuleDict", layers.items() if hasattr(layers, "items") else layers, expected)
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"ModuleDict: expected {expected}, got an item {pair!r}")
            self[pair[0]] = pair[1]

    def __setitem__(self, name, layer):
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"ModuleDict: a name must be a non-empty string without '.', got {name!r}")
        self.add_layer(name, _checked_layer("ModuleDict", layer))

    def __getitem__(self, name):
        return self._layers[self._known(name)]

    def __delitem__(self, name):
        delattr(self, self._known(name))

    def _known(self, name):
        if not isinstance(name, str) or name not in self._layers:
            raise KeyError(f"ModuleDict: no layer named {name!r} (it has {sorted(self._layers)})")
        return name

    def __contains__(self, name):
        return name in self._layers

    def __len__(self):
        return len(self._layers)

    def __iter__(self):
        return iter(self._layers)

    def keys(self):
        return self._layers.keys()

    def values(self):
        return self._layers.values()

    def items(self):
        return self._layers.items()

    def forward(self, *inputs):
        raise NotImplementedError("ModuleDict holds layers but has no forward: use its layers in your "
                                  "model's forward and backward")
