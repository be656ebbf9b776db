"""Optimizers (update rules over Parameters), gradient clipping and learning-rate schedulers.

Every optimizer takes a Layer/Module (its ``parameters()``), an iterable of
Parameters, or a list of parameter-group dicts, and PyTorch's hyper-parameter
names, defaults and formulas::

    optimizer = mtorch.optim.Adam(model, lr=1e-3)
    loss.backward()
    mtorch.optim.clip_grad_norm(model, max_norm=1.0)
    optimizer.step()
"""
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .clip import clip_grad_norm, clip_grad_norm_
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD
