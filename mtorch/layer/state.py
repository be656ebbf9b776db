"""What a layer holds: state dicts (saving and loading) and dtype conversion."""
from collections import OrderedDict, namedtuple

import numpy as np

from ..errors import StateDictError
from ..utils.torch_bridge import to_numpy
from .registry import join

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class State:
    """``state_dict``, ``load_state_dict``, ``to``, ``double``, ``float`` (a base of ``Layer``)."""

    def state_dict(self):
        """An ordered dict of copies of every parameter and buffer, keyed by dotted name, in
        PyTorch's order: each layer's parameters, then its buffers, then its sub-layers'."""
        targets = self._state_targets()
        return OrderedDict((key, np.array(current, copy=True)) for key, (_, _, current) in targets.items())

    def _state_targets(self):
        """``{dotted name: (owning layer, attribute, current array)}`` for every parameter and buffer."""
        targets = OrderedDict()
        for prefix, layer in self.named_layers(remove_duplicate=False):
            for attr, p in layer.named_parameters(recurse=False):
                targets[join(prefix, attr)] = (layer, attr, p.data)
            for attr, b in layer.named_buffers(recurse=False):
                targets[join(prefix, attr)] = (layer, attr, b)
        return targets

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays from ``state_dict`` into this layer's parameters and buffers.

        All or nothing: every value is checked and converted (to the dtype of
        the array it replaces) before anything is written, so a failed load
        leaves the layer unchanged. With ``strict=True`` missing or unexpected
        keys raise ``StateDictError``; a wrong shape or a value that is not an
        array of real numbers always does. Values may be PyTorch tensors (a
        ``torch_model.state_dict()``), converted as ``mtorch.utils.from_torch_state_dict``
        does. Returns ``(missing_keys, unexpected_keys)``.
        """
        name = type(self).__name__
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise StateDictError(f"{name}.load_state_dict: expected a dict of arrays, "
                                 f"got {type(state_dict).__name__} (nothing was loaded)")
        targets = self._state_targets()
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        problems = []
        if strict and missing:
            problems.append(f"missing keys {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys {unexpected}")
        converted = {}
        for key, (_, _, current) in targets.items():
            if key not in state_dict:
                continue
            try:
                value = np.array(to_numpy(state_dict[key]))        # a torch tensor works too
            except (TypeError, ValueError, RuntimeError) as error:
                problems.append(f"key {key!r} is not an array ({error})")
                continue
            if value.dtype.kind not in "biuf":
                problems.append(f"key {key!r} holds {value.dtype} values, expected real numbers")
            elif value.shape != current.shape:
                problems.append(f"key {key!r} has shape {value.shape}, expected {current.shape}")
            else:
                converted[key] = value.astype(current.dtype, copy=False)
        if problems:
            raise StateDictError(f"{name}.load_state_dict: " + "; ".join(problems) + " (nothing was loaded)")
        for key, value in converted.items():
            layer, attr, _ = targets[key]
            if attr in layer._parameters:
                layer._parameters[attr].data = value
            else:
                setattr(layer, attr, value)
        return IncompatibleKeys(missing, unexpected)

    def to(self, dtype):
        """Convert parameters, their gradients and floating buffers to ``dtype``; returns self."""
        dtype = np.dtype(dtype)
        for p in self.parameters():
            p.data = p.data.astype(dtype, copy=False)
            if p.grad is not None:
                p.grad = p.grad.astype(dtype, copy=False)
        for _, layer in self.named_layers():
            for name, b in list(layer.named_buffers(recurse=False)):
                if np.issubdtype(b.dtype, np.floating):
                    setattr(layer, name, b.astype(dtype, copy=False))
        return self

    def double(self):
        """Convert to float64 (for gradient checks); returns self."""
        return self.to(np.float64)

    def float(self):
        """Convert to float32, mtorch's default; returns self."""
        return self.to(np.float32)
