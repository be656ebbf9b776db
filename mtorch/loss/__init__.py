"""Loss functions. Calling one returns a ``LossResult`` with ``.value``, ``.grad`` and ``.backward()``."""
from .base import Loss, LossResult
