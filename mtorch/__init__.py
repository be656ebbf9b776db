"""mtorch: a deep-learning framework in plain numpy where every layer writes its own backward pass.

The core names are here (``Layer``, ``Parameter``, ``Module``, the containers
``Sequential``, ``ModuleList``, ``ModuleDict``, ``gradcheck``, ``manual_seed``, ``save``,
``load``); the families live in submodules, imported on first use: ``mtorch.layers``, ``mtorch.loss``, ``mtorch.optim``,
``mtorch.data``, ``mtorch.datasets``, ``mtorch.init``, ``mtorch.testing``,
``mtorch.plot``, ``mtorch.utils``.
"""
import importlib

from . import layers
from .errors import (BackwardBeforeForwardError, CheckpointError, GradcheckError, GradientError, ShapeError,
                     StateDictError)
from .gradcheck import gradcheck
from .layer import Layer
from .layers.container import ModuleList, ModuleDict, Sequential
from .module import Module
from .parameter import Parameter
from .random import manual_seed
from .serialization import load, save

__version__ = "0.1.0"

_SUBMODULES = ("data", "datasets", "functional", "init", "loss", "optim", "plot", "testing", "utils")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'mtorch' has no attribute {name!r}")
