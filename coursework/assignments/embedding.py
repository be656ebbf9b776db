"""Assignment 11: the embedding table.

    python -m mtorch.testing embedding.py::Embedding --spec ../specs.py
"""
import numpy as np

import mtorch
from mtorch import Layer, Parameter


class Embedding(Layer):
    """Look up a row of a table for each integer index (PyTorch's Embedding).

    Forward: ``y[...] = W[idx[...]]`` for integer indices ``idx`` of any shape.

    Backward, with ``g = dL/dy``: ``dL/dW[k]`` is the sum of ``g`` over every
    position where ``idx == k``. An index can appear many times in a batch:
    ``dW[idx] = g`` keeps only one of them (``np.add.at`` adds them all).
    The indices are integers and have no gradient: backward returns None.

    Shape: idx ``(...)`` integers in ``[0, num_embeddings)``, y ``(..., embedding_dim)``.
    Parameter: ``weight`` ``(num_embeddings, embedding_dim)`` ~ N(0, 1).
    """

    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Parameter(mtorch.random.generator().standard_normal((num_embeddings, embedding_dim)))
        self._idx = None

    def forward(self, idx):
        """Return the rows of the table; cache the indices."""
        raise NotImplementedError("Embedding.forward")

    def backward(self, grad_out):
        """Add dL/dW; return None (no gradient for integer indices)."""
        raise NotImplementedError("Embedding.backward")
