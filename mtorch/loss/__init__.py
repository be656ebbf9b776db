"""Loss functions. Calling one returns a ``LossResult`` with ``.value``, ``.grad`` and ``.backward()``.

Example:
    >>> loss_func = CrossEntropyLoss(backward_func=module.backward)
    >>> loss = loss_func(module(images), labels)    # loss.value, loss.grad = dL/dlogits
    >>> loss.backward()                             # module.backward(loss.grad)
"""
from .base import Loss, LossResult
from .binary import BCELoss, BCEWithLogitsLoss
from .classification import CrossEntropyLoss, NLLLoss
from .margin import MultiMarginLoss
from .regression import L1Loss, MSELoss, SmoothL1Loss, SquareLoss

__all__ = ["Loss", "LossResult", "MSELoss", "SquareLoss", "L1Loss", "SmoothL1Loss",
           "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "MultiMarginLoss"]
