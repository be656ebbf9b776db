"""Recurrent layers: RNN, LSTM and GRU over whole sequences, and their one-step cells.

Each cell's file (``rnn.py``, ``lstm.py``, ``gru.py``) holds its math: the
layer over a sequence (forward loop, backpropagation through time, weight
gradients) and the cell for one step. ``base.py`` holds what they share:
arguments, parameters, stacking layers and directions, batch_first, and the
cells' stack of per-call caches.
"""
from .base import RNNBase, RNNCellBase
from .gru import GRU, GRUCell
from .lstm import LSTM, LSTMCell
from .rnn import RNN, RNNCell
