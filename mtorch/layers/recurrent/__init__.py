"""Recurrent layers: RNN, LSTM and GRU, with backpropagation through time.

``base.py`` holds what the three share (parameters, stacking, the input
projection and the weight gradients); each cell's own forward and backward
loop over time is in its file.
"""
from .base import RNNBase
from .gru import GRU
from .lstm import LSTM
from .rnn import RNN
