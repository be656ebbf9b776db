"""Forward and backward hooks: functions called with what passes through a layer."""
import itertools
from collections import OrderedDict


class HookHandle:
    """Returned by ``register_*_hook``; ``remove()`` (or leaving a ``with`` block) unregisters the hook."""

    def __init__(self, hooks, key):
        self._hooks, self._key = hooks, key

    def remove(self):
        self._hooks.pop(self._key, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


class Hooks:
    """Hook registration and running (a base of ``Layer``)."""

    _keys = itertools.count()

    def __init__(self):
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())

    def register_forward_hook(self, hook):
        """Call ``hook(layer, input, output)`` after every ``layer(...)`` call.

        ``input`` is the array passed in (a tuple when there were several
        inputs). A non-None return replaces the output.
        Returns a handle: ``handle.remove()``, or use it in a ``with`` block.
        """
        return self._add_hook(self._forward_hooks, hook)

    def register_backward_hook(self, hook):
        """Call ``hook(layer, grad_input, grad_output)`` after every ``layer.backward(...)``.

        ``grad_input`` is what backward returned: dL/d(input) (a tuple for
        several inputs; None when the input is data, see ``Layer.input_grad``),
        ``grad_output`` is dL/d(output). A non-None return replaces
        ``grad_input``. Returns a handle, as ``register_forward_hook``.
        """
        return self._add_hook(self._backward_hooks, hook)

    def remove_hooks(self):
        """Unregister every forward and backward hook of this layer and the layers below it."""
        for _, layer in self.named_layers():
            layer._forward_hooks.clear()
            layer._backward_hooks.clear()

    def _add_hook(self, hooks, hook):
        if not callable(hook):
            raise TypeError(f"{type(self).__name__}: a hook must be callable, got {type(hook).__name__}")
        key = next(Hooks._keys)
        hooks[key] = hook
        return HookHandle(hooks, key)

    def _run_forward_hooks(self, inputs, output):
        """Call each forward hook; a non-None return replaces the output."""
        for hook in list(self._forward_hooks.values()):
            replaced = hook(self, inputs, output)
            if replaced is not None:
                output = replaced
        return output

    def _run_backward_hooks(self, grad_input, grad_output):
        """Call each backward hook; a non-None return replaces ``grad_input``."""
        for hook in list(self._backward_hooks.values()):
            replaced = hook(self, grad_input, grad_output)
            if replaced is not None:
                grad_input = replaced
        return grad_input
