"""What training scripts share: checkpoints, evaluation in batches, a metric history,
progress bars that suit the output, command-line argument types, and weights to and
from PyTorch.

- ``save_checkpoint`` / ``load_checkpoint``: model, optimizer, scheduler and random
  state in one file; loading is all or nothing.
- ``evaluate(model, data, loss_func)``: eval mode, in batches: ``(mean loss, outputs)``.
- ``History``: per-epoch metrics, for the checkpoint and the curves figure.
- ``progress``, ``shows_bars``: a tqdm bar on a terminal, silence in a log file.
- ``positive_int``, ``positive_float``, ``nonnegative_int``, ``nonnegative_float``,
  ``writable_dir``: ``argparse`` types that fail with a one-line usage error.
- ``to_torch_state_dict`` / ``from_torch_state_dict``: state dicts between mtorch and PyTorch.

Each name is imported from its module on first use, so ``import mtorch`` (whose
``load_state_dict`` reads torch tensors with ``to_numpy``) loads none of the rest.
"""
import importlib

_MODULES = {
    "checkpoint": ("load_checkpoint", "save_checkpoint"),
    "cli": ("fraction", "nonnegative_float", "nonnegative_int", "positive_float", "positive_int", "writable_dir"),
    "bars": ("progress", "shows_bars"),
    "torch_bridge": ("from_torch_state_dict", "to_numpy", "to_torch_state_dict"),
    "training": ("History", "evaluate"),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}
__all__ = sorted(_HOME)


def __getattr__(name):
    if name in _HOME:
        return getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    raise AttributeError(f"module 'mtorch.utils' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
