"""mtorch: a deep-learning framework in plain numpy where every layer writes its own backward pass."""
from . import init, layers, loss
from .errors import BackwardBeforeForwardError, GradcheckError, ShapeError, StateDictError
from .gradcheck import gradcheck
from .layer import Layer
from .module import Module
from .parameter import Parameter
from .random import manual_seed
from .sequential import Sequential

__version__ = "0.1.0"
