"""Loss functions. Calling one returns a ``LossResult`` with ``.value``, ``.grad`` and ``.backward()``.

Names, arguments, defaults and reductions are PyTorch's; ``backward_func``
(what ``.backward()`` calls) comes first::

    loss_func = CrossEntropyLoss(backward_func=module.backward)
    loss = loss_func(module(images), labels)    # loss.value, loss.grad = dL/dlogits
    loss.backward()                             # module.backward(loss.grad)

``backward_func`` is a function, or a Layer (its ``backward`` is called, and
with it the Layer's backward hooks).

Losses of several inputs (``MarginRankingLoss(x1, x2, y)``,
``CosineEmbeddingLoss(x1, x2, y)``, ``TripletMarginLoss(anchor, positive,
negative)``, ``GaussianNLLLoss(input, target, var)``) differentiate each
input their class lists in ``differentiable_inputs``; ``loss.grad`` is then a
tuple with one gradient per input, in argument order, and ``backward_func``
is either one function, called as ``backward_func(*loss.grad)``, or a tuple
with one function or Layer per input, each called with its own gradient::

    loss_func = MarginRankingLoss(margin=0.5, backward_func=(tower_a, tower_b))
    loss = loss_func(tower_a(xa), tower_b(xb), y)
    grad_x1, grad_x2 = loss.grad
    loss.backward()            # tower_a.backward(grad_x1), tower_b.backward(grad_x2)

Scaling a result scales its value and gradients and keeps its hook, so
PyTorch's gradient accumulation over ``k`` micro-batches reads the same::

    for images, labels in micro_batches:
        (loss_func(module(images), labels) / k).backward()

Targets are data, never differentiated. Every loss checks its arguments
and inputs and names itself, the argument, what it expected and what came
in any error.
"""
from .base import Loss, LossResult
from .binary import BCELoss, BCEWithLogitsLoss, MultiLabelSoftMarginLoss, SoftMarginLoss
from .classification import CrossEntropyLoss, NLLLoss
from .distribution import GaussianNLLLoss, KLDivLoss, PoissonNLLLoss
from .embedding import CosineEmbeddingLoss, TripletMarginLoss
from .margin import HingeEmbeddingLoss, MarginRankingLoss, MultiLabelMarginLoss, MultiMarginLoss
from .regression import HuberLoss, L1Loss, MSELoss, SmoothL1Loss, SquareLoss

__all__ = ["Loss", "LossResult", "MSELoss", "SquareLoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
           "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "MultiLabelSoftMarginLoss",
           "SoftMarginLoss", "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss", "MultiMarginLoss",
           "MultiLabelMarginLoss", "HingeEmbeddingLoss", "MarginRankingLoss", "CosineEmbeddingLoss",
           "TripletMarginLoss"]
