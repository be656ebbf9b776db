"""All built-in layers, one file per family (as in ``torch/nn/modules``)."""
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .dropout import Dropout
from .linear import Identity, Linear
from .recurrent import GRU, LSTM, RNN
from .reshape import Flatten, Reshape
