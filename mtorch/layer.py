"""Layer: the base class every mtorch layer, container and model derives from.

A layer is a function with a hand-written derivative::

    y = layer(x)                   # forward(x): computes y, caches what backward needs
    dx = layer.backward(dy)        # dy = dL/dy  ->  returns dL/dx, stores dL/dparam
    layer.step(lr)                 # param -= lr * dL/dparam

Parameters and sub-layers assigned as attributes register themselves, in the
order they were assigned, exactly as in PyTorch::

    class Scale(Layer):
        def __init__(self, n):
            super().__init__()
            self.gamma = Parameter(np.ones(n))     # registered as "gamma"

        def forward(self, x):
            self.x = x                             # cache for backward
            return x * self.gamma.data

        def backward(self, grad_out):
            self.gamma.grad = (grad_out * self.x).sum(axis=0)
            return grad_out * self.gamma.data
"""
from collections import OrderedDict, namedtuple

import numpy as np

from .errors import BackwardBeforeForwardError, ShapeError, StateDictError
from .parameter import Parameter

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix and name else prefix or name


def _format_pattern(pattern):
    parts = ["..." if p is Ellipsis else str(p) for p in pattern]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _matches(shape, pattern):
    if pattern and pattern[0] is Ellipsis:
        tail = pattern[1:]
        return len(shape) >= len(tail) and _matches(shape[len(shape) - len(tail):], tail)
    if len(shape) != len(pattern):
        return False
    return all(isinstance(p, str) or p is None or p == s for s, p in zip(shape, pattern))


class _HookHandle:
    """Returned by ``register_*_hook``; ``remove()`` (or leaving a ``with`` block) unregisters the hook."""

    def __init__(self, hooks, key):
        self._hooks, self._key = hooks, key

    def remove(self):
        self._hooks.pop(self._key, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


class Layer:
    """Base class of all layers. Subclasses implement ``forward`` and ``backward``.

    Attributes:
        training (bool): True in training mode (``train()``), False after ``eval()``.
        batch_independent (bool): class attribute; True when each sample's output
            depends on that sample alone. A layer that mixes the batch in training
            mode (BatchNorm) sets it False; ``mtorch.testing.check_layer`` reads it.
        needs_input_grad (bool): True unless the layer's input is data that needs
            no gradient (set through ``Module.input_grad``). Layers whose dL/dx is
            a costly product (Linear, Conv2d) then skip it and return None, as
            PyTorch does for inputs that do not require a gradient.
    """

    batch_independent = True
    needs_input_grad = True
    _hook_counter = 0

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_layers", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        self.training = True

    # ----------------------------------------------------------- registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}: call super().__init__() at the start of __init__ "
                f"before assigning attributes (assigning {name!r})")
        if isinstance(value, Parameter):
            self._forget(name, keep=self._parameters)
            self._parameters[name] = value
        elif isinstance(value, Layer):
            self._forget(name, keep=self._layers)
            self._layers[name] = value
        elif name in self._buffers:
            self._buffers[name] = value
        else:
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

    # ------------------------------------------------------- forward/backward
    def forward(self, x):
        """Compute the output for input ``x`` and cache what ``backward`` needs."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x)")

    def backward(self, grad_out):
        """Given dL/d(output), store dL/d(param) in each ``Parameter.grad``; return dL/d(input)."""
        raise NotImplementedError(f"{type(self).__name__} must implement backward(grad_out)")

    def __call__(self, *args, **kwargs):
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args[0] if len(args) == 1 else args, out)
            if result is not None:
                out = result
        return out

    def run_backward(self, grad_out):
        """``backward`` followed by the backward hooks; containers call this on their children."""
        grad_in = self.backward(grad_out)
        for hook in list(self._backward_hooks.values()):
            result = hook(self, grad_in, grad_out)
            if result is not None:
                grad_in = result
        return grad_in

    def register_forward_hook(self, hook):
        """Call ``hook(layer, input, output)`` after every ``layer(...)`` call.

        ``input`` is the array passed in (a tuple when there were several
        positional arguments). A non-None return replaces the output.
        Returns a handle: ``handle.remove()``, or use it in a ``with`` block.
        """
        return self._add_hook(self._forward_hooks, hook)

    def register_backward_hook(self, hook):
        """Call ``hook(layer, grad_input, grad_output)`` after every ``run_backward``.

        Containers (``Sequential``, ``Module``) run their children with
        ``run_backward``, so hooks fire for every layer inside a model;
        calling ``layer.backward`` directly runs no hooks. ``grad_input`` is
        dL/d(input), ``grad_output`` dL/d(output). A non-None return replaces
        ``grad_input``. Returns a handle, as ``register_forward_hook``.
        """
        return self._add_hook(self._backward_hooks, hook)

    def _add_hook(self, hooks, hook):
        Layer._hook_counter += 1
        hooks[Layer._hook_counter] = hook
        return _HookHandle(hooks, Layer._hook_counter)

    # ------------------------------------------------------ checks for layers
    def check_input(self, x, pattern, dtype=None, name="input"):
        """Return ``x`` as a floating array, or raise ``ShapeError`` naming this layer.

        ``pattern`` is a tuple of sizes: an int must match exactly, a string
        (``"N"``, ``"H"``) or None matches any size, and a leading ``...``
        matches any number of leading dimensions. ``dtype`` (default: the
        layer's parameter dtype, else the input's float dtype) is what the
        layer computes in; integer input becomes float32.
        """
        x = np.asarray(x)
        if not _matches(x.shape, pattern):
            raise ShapeError(f"{self._short_repr()}: expected {name} of shape "
                             f"{_format_pattern(pattern)}, got {x.shape}")
        if dtype is None:
            dtype = self._param_dtype()
        if dtype is None:
            dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32
        return x if x.dtype == dtype else x.astype(dtype)

    def check_grad_out(self, grad_out, expected_shape):
        """Validate ``grad_out`` at the start of ``backward``.

        ``expected_shape`` is the shape of the output the last forward returned,
        or None when nothing is cached (then ``backward`` was called too early).
        """
        if expected_shape is None:
            raise BackwardBeforeForwardError(
                f"{self._short_repr()}.backward() called before forward(): nothing is cached")
        grad_out = np.asarray(grad_out)
        if grad_out.shape != tuple(expected_shape):
            raise ShapeError(f"{self._short_repr()}.backward(): expected grad_out of shape "
                             f"{tuple(expected_shape)} (the output's shape), got {grad_out.shape}")
        return grad_out

    def _param_dtype(self):
        for p in self._parameters.values():
            return p.data.dtype
        return None

    # ---------------------------------------------------------- traversal
    def named_parameters(self, prefix=""):
        """Yield ``(dotted_name, Parameter)`` for this layer and all sub-layers, e.g. ``0.weight``."""
        for name, p in self._parameters.items():
            yield _join(prefix, name), p
        for name, layer in self._layers.items():
            yield from layer.named_parameters(_join(prefix, name))

    def parameters(self):
        """Yield every Parameter of this layer and its sub-layers, in registration order, once
        each: a Parameter shared by two layers is updated and counted once (as in PyTorch)."""
        seen = set()
        for _, p in self.named_parameters():
            if id(p) not in seen:
                seen.add(id(p))
                yield p

    def named_buffers(self, prefix=""):
        """Yield ``(dotted_name, array)`` for every registered buffer."""
        for name, b in self._buffers.items():
            if b is not None:
                yield _join(prefix, name), b
        for name, layer in self._layers.items():
            yield from layer.named_buffers(_join(prefix, name))

    def named_children(self):
        """Yield ``(name, layer)`` for the direct sub-layers."""
        yield from self._layers.items()

    def children(self):
        """Yield the direct sub-layers."""
        yield from self._layers.values()

    def named_layers(self, prefix=""):
        """Yield ``(dotted_name, layer)`` for this layer and every layer below it (like ``named_modules``)."""
        yield prefix, self
        for name, layer in self._layers.items():
            yield from layer.named_layers(_join(prefix, name))

    # ------------------------------------------------------------ training
    def step(self, lr):
        """Plain gradient descent: ``p.data -= lr * p.grad`` for every parameter with a gradient."""
        for p in self.parameters():
            if p.grad is not None:
                p.data -= lr * p.grad

    def zero_grad(self):
        """Forget every stored gradient (backward overwrites them anyway)."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode=True):
        """Set training mode (dropout active, batch statistics) here and below; returns self."""
        for _, layer in self.named_layers():
            object.__setattr__(layer, "training", bool(mode))
        return self

    def eval(self):
        """Set evaluation mode; same as ``train(False)``."""
        return self.train(False)

    def to(self, dtype):
        """Convert parameters, their gradients and floating buffers to ``dtype``; returns self."""
        dtype = np.dtype(dtype)
        for _, layer in self.named_layers():
            for p in layer._parameters.values():
                p.data = p.data.astype(dtype, copy=False)
                if p.grad is not None:
                    p.grad = p.grad.astype(dtype, copy=False)
            for name, b in list(layer._buffers.items()):
                if b is not None and np.issubdtype(b.dtype, np.floating):
                    setattr(layer, name, b.astype(dtype, copy=False))
        return self

    def double(self):
        """Convert to float64 (for gradient checks); returns self."""
        return self.to(np.float64)

    def float(self):
        """Convert to float32, mtorch's default; returns self."""
        return self.to(np.float32)

    # ---------------------------------------------------------- state dict
    def state_dict(self):
        """An ordered dict of copies of every parameter and buffer, keyed by dotted name."""
        state = OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())
        state.update((name, np.array(b, copy=True)) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays from ``state_dict`` into this layer's parameters and buffers.

        Everything is checked before anything is written, so a failed load
        leaves the layer unchanged. With ``strict=True`` missing or unexpected
        keys raise ``StateDictError``; a shape mismatch always does.
        Returns ``(missing_keys, unexpected_keys)``.
        """
        targets = OrderedDict()                   # dotted name -> (owning layer, attribute name)
        for prefix, layer in self.named_layers():
            for attr in [*layer._parameters, *(b for b, v in layer._buffers.items() if v is not None)]:
                targets[_join(prefix, attr)] = (layer, attr)

        def current(name):
            value = getattr(*targets[name])
            return value.data if isinstance(value, Parameter) else value

        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        problems = []
        if strict and missing:
            problems.append(f"missing keys {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys {unexpected}")
        for k in targets:
            if k in state_dict and np.shape(state_dict[k]) != current(k).shape:
                problems.append(f"key {k!r} has shape {np.shape(state_dict[k])}, "
                                f"expected {current(k).shape}")
        if problems:
            raise StateDictError(f"{type(self).__name__}.load_state_dict: " + "; ".join(problems)
                                 + " (nothing was loaded)")
        for k, (layer, attr) in targets.items():
            if k not in state_dict:
                continue
            value = np.array(state_dict[k], dtype=current(k).dtype)
            if attr in layer._parameters:
                layer._parameters[attr].data = value
            else:
                setattr(layer, attr, value)
        return IncompatibleKeys(missing, unexpected)

    # -------------------------------------------------------------- display
    def extra_repr(self):
        """The constructor arguments shown by ``repr``; override in subclasses."""
        return ""

    def _short_repr(self):
        return f"{type(self).__name__}({self.extra_repr()})"

    def __repr__(self):
        if not self._layers:
            return self._short_repr()
        lines = [f"{type(self).__name__}("]
        for name, layer in self._layers.items():
            child = repr(layer).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}" if name else f"  {child}")
        return "\n".join(lines + [")"])
