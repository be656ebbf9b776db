"""Layer, the base class of everything with a forward and a backward, split by concern.

- ``base.py``: the contract (forward, backward, step), calls, modes, the gradient rule;
- ``registry.py``: Parameters, buffers and sub-layers assigned as attributes, and traversal;
- ``hooks.py``: forward and backward hooks;
- ``checks.py``: ``check_input`` and ``check_grad_out``;
- ``state.py``: state dicts and dtype conversion;
- ``summary.py``: the table of layers, output shapes and parameter counts.
"""
from .base import Layer
from .state import IncompatibleKeys

__all__ = ["Layer", "IncompatibleKeys"]
