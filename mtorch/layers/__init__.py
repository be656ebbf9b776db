"""All built-in layers, one file per family (as in ``torch/nn/modules``)."""
from .activation import (CELU, ELU, GELU, GLU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid,
                         LogSoftmax, Mish, PReLU, ReLU, ReLU6, SELU, Sigmoid, SiLU, Softmax, Softmax2d, Softmin,
                         Softplus, Softshrink, Softsign, Tanh, Tanhshrink, Threshold)
from .container import Concat, ModuleDict, ModuleList, Residual, Sequential
from .conv import Conv2d
from .dropout import Dropout, Dropout2d
from .linear import Identity, Linear
from .batchnorm import BatchNorm1d, BatchNorm2d
from .groupnorm import GroupNorm
from .instancenorm import InstanceNorm1d, InstanceNorm2d
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .recurrent import GRU, LSTM, RNN
from .reshape import Flatten, Reshape, Unflatten
