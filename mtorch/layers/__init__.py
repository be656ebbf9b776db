"""All built-in layers, one file per family (as in ``torch/nn/modules``)."""
from .activation import (CELU, ELU, GELU, GLU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid,
                         LogSoftmax, Mish, PReLU, ReLU, ReLU6, SELU, Sigmoid, SiLU, Softmax, Softmax2d, Softmin,
                         Softplus, Softshrink, Softsign, Tanh, Tanhshrink, Threshold)
from .container import Concat, ModuleDict, ModuleList, Residual, Sequential
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .dropout import Dropout, Dropout2d
from .linear import Identity, Linear
from .batchnorm import BatchNorm1d, BatchNorm2d
from .groupnorm import GroupNorm
from .instancenorm import InstanceNorm1d, InstanceNorm2d
from .pixelshuffle import PixelShuffle, PixelUnshuffle
from .padding import (CircularPad1d, CircularPad2d, ConstantPad1d, ConstantPad2d, ReflectionPad1d, ReflectionPad2d,
                      ReplicationPad1d, ReplicationPad2d, ZeroPad1d, ZeroPad2d)
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d,
                      MaxPool1d, MaxPool2d)
from .recurrent import GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell
from .reshape import Flatten, Reshape, Unflatten
from .upsampling import Upsample
from .attention import MultiheadAttention
from .normalization import LayerNorm, RMSNorm
from .sparse import Embedding
from .transformer import TransformerEncoder, TransformerEncoderLayer
