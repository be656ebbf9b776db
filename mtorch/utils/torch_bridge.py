"""Weights between mtorch and PyTorch: one call each way.

Names, shapes and layouts follow PyTorch (``Linear.weight`` is
``(out_features, in_features)``, LSTM gates ``i, f, g, o``, BatchNorm's
``running_mean``/``running_var``/``num_batches_tracked``), so a state dict
moves over unchanged; only the array type differs::

    torch_model.load_state_dict(mtorch.utils.to_torch_state_dict(model.state_dict()))
    model.load_state_dict(mtorch.utils.from_torch_state_dict(torch_model.state_dict()))
    model.load_state_dict(torch_model.state_dict())        # the same: tensors are converted on load

mtorch itself does not need PyTorch: ``to_torch_state_dict`` imports it when
called, and tensors are recognised without importing it.
"""
from collections import OrderedDict

import numpy as np


def to_numpy(value):
    """``value`` as numpy data: a PyTorch tensor (on any device, even one that requires grad)
    becomes a numpy array; anything else is returned as it is."""
    if type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return value


def from_torch_state_dict(state_dict):
    """A PyTorch ``state_dict()`` (name -> tensor) as an ordered dict of numpy arrays (copies).

    Dtypes are kept (float32 stays float32, BatchNorm's ``num_batches_tracked``
    stays an int64 scalar); ``layer.load_state_dict`` then casts each array to
    its parameter's dtype.

    Raises:
        TypeError: not a mapping of names to tensors or arrays of real numbers.
    """
    items = _items("from_torch_state_dict", state_dict)
    converted = OrderedDict()
    for name, value in items:
        try:
            array = np.array(to_numpy(value))
        except (TypeError, ValueError, RuntimeError) as error:
            raise TypeError(f"from_torch_state_dict: {name!r} is not a tensor or an array ({error})") from None
        _check_real("from_torch_state_dict", name, array)
        converted[name] = array
    return converted


def to_torch_state_dict(state_dict):
    """An mtorch ``state_dict()`` (name -> numpy array) as an ordered dict of PyTorch tensors (copies),
    ready for ``torch_model.load_state_dict``.

    Raises:
        ImportError: PyTorch is not installed.
        TypeError: not a mapping of names to arrays of real numbers.
    """
    try:
        import torch
    except ImportError:
        raise ImportError("mtorch.utils.to_torch_state_dict needs PyTorch (pip install torch); "
                          "the rest of mtorch works without it") from None
    converted = OrderedDict()
    for name, value in _items("to_torch_state_dict", state_dict):
        array = np.asarray(value)
        _check_real("to_torch_state_dict", name, array)
        converted[name] = torch.from_numpy(np.array(array, dtype=array.dtype.newbyteorder("="), order="C"))
    return converted


def _items(owner, state_dict):
    if not hasattr(state_dict, "items"):
        raise TypeError(f"{owner}: expected a state dict (a mapping of names to arrays), "
                        f"got {type(state_dict).__name__}")
    items = list(state_dict.items())
    for name, _ in items:
        if not isinstance(name, str):
            raise TypeError(f"{owner}: state dict keys are parameter names (str), got {name!r}")
    return items


def _check_real(owner, name, array):
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: {name!r} must hold real numbers, got dtype {array.dtype}")
