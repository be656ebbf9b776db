"""All built-in layers, one file per family (as in ``torch/nn/modules``)."""
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from .container import Concat, ModuleDict, ModuleList, Residual, Sequential
from .conv import Conv2d
from .dropout import Dropout, Dropout2d
from .linear import Identity, Linear
from .batchnorm import BatchNorm1d, BatchNorm2d
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .recurrent import GRU, LSTM, RNN
from .reshape import Flatten, Reshape
