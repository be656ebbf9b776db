"""Registration and traversal: Parameters, buffers and sub-layers assigned as attributes.

As in PyTorch, ``self.weight = Parameter(...)`` registers a Parameter named
``weight`` and ``self.encoder = Linear(...)`` a sub-layer named ``encoder``,
in the order they were assigned. Traversal then yields dotted names
(``encoder.weight``), which are the state-dict keys.
"""
from collections import OrderedDict

import numpy as np

from ..parameter import Parameter


def join(prefix, name):
    """``'encoder' + 'weight'`` -> ``'encoder.weight'`` (either part may be empty)."""
    return f"{prefix}.{name}" if prefix and name else prefix or name


class Registry:
    """The registries of a Layer and the ways to walk them (a base of ``Layer``)."""

    # attributes every Layer keeps for itself, not caches or settings of a particular layer
    _BOOKKEEPING = ("_parameters", "_buffers", "_layers", "_forward_hooks", "_backward_hooks",
                    "_uses", "_pass", "_in_backward", "training", "needs_input_grad")

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_layers", OrderedDict())

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}: call super().__init__() at the start of __init__ "
                f"before assigning attributes (assigning {name!r})")
        if isinstance(value, Parameter):
            self._forget(name, keep=self._parameters)
            self._parameters[name] = value
            if value.name is None:
                value.name = name
        elif isinstance(value, Registry):          # a Layer
            self._forget(name, keep=self._layers)
            self._layers[name] = value
        elif name in self._buffers:
            self._buffers[name] = value
        elif name in self._parameters or name in self._layers:     # a plain value replaces a registered one
            self._forget(name, keep=None)
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._forget(name, keep=None)
        object.__delattr__(self, name)

    def _forget(self, name, keep):
        for registry in (self._parameters, self._layers, self._buffers):
            if registry is not keep:
                registry.pop(name, None)

    def register_buffer(self, name, array):
        """Register a non-trainable array (e.g. BatchNorm's ``running_mean``).

        Buffers are saved in ``state_dict`` and converted by ``double()``/``float()``,
        but have no gradient and are not touched by ``step``.
        """
        self._buffers[name] = None if array is None else np.asarray(array)
        object.__setattr__(self, name, self._buffers[name])

    def add_layer(self, name, layer):
        """Register ``layer`` under ``name`` (containers use this for names like ``'0'``)."""
        setattr(self, name, layer)

    # ---------------------------------------------------------------- traversal
    def named_parameters(self, prefix="", recurse=True):
        """Yield ``(dotted_name, Parameter)`` for this layer and (``recurse``) all sub-layers.

        A Parameter shared by two layers is yielded under each name, as PyTorch's
        state dict lists it; ``parameters()`` yields it once.
        """
        for name, p in self._parameters.items():
            if p is not None:
                yield join(prefix, name), p
        if recurse:
            for name, layer in self._layers.items():
                yield from layer.named_parameters(join(prefix, name))

    def parameters(self, recurse=True):
        """Yield every Parameter once, in registration order: a Parameter shared by two
        layers is updated and counted once (as in PyTorch)."""
        seen = set()
        for _, p in self.named_parameters(recurse=recurse):
            if id(p) not in seen:
                seen.add(id(p))
                yield p

    def named_buffers(self, prefix="", recurse=True):
        """Yield ``(dotted_name, array)`` for every registered buffer that is not None."""
        for name, b in self._buffers.items():
            if b is not None:
                yield join(prefix, name), b
        if recurse:
            for name, layer in self._layers.items():
                yield from layer.named_buffers(join(prefix, name))

    def named_children(self):
        """Yield ``(name, layer)`` for the direct sub-layers."""
        yield from self._layers.items()

    def children(self):
        """Yield the direct sub-layers."""
        yield from self._layers.values()

    def named_layers(self, prefix="", remove_duplicate=True):
        """Yield ``(dotted_name, layer)`` for this layer and every layer below it, depth first in
        registration order (PyTorch's ``named_modules``). A layer registered in several places
        is yielded once, under its first name, unless ``remove_duplicate=False``."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, layer = stack.pop()
            if remove_duplicate and id(layer) in seen:
                continue
            seen.add(id(layer))
            yield name, layer
            stack.extend(reversed([(join(name, n), sub) for n, sub in layer._layers.items()]))

    def leaves(self):
        """``(dotted_name, layer)`` for every layer below (or this one) that has no sub-layers."""
        return [(name, layer) for name, layer in self.named_layers() if not layer._layers]

    def attributes(self):
        """The plain attributes: the layer's settings and caches, without Parameters, buffers,
        sub-layers or the bookkeeping every Layer keeps (``mtorch.testing`` reads caches here)."""
        registered = set(self._parameters) | set(self._buffers) | set(self._layers)
        layers = [id(layer) for layer in self._layers.values()]
        return {k: v for k, v in vars(self).items()
                if k not in registered and k not in self._BOOKKEEPING and id(v) not in layers}
