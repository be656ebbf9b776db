"""Embedding: a lookup table of learned vectors, indexed by integers (as ``torch.nn.Embedding``)."""
import numpy as np

from .. import init
from ..layer import Layer
from ..parameter import Parameter
from ..validation import as_real_array, check_bool, check_int, check_real


class Embedding(Layer):
    """A table of ``num_embeddings`` learned vectors; integer indices pick rows of it.

    Forward, for integer indices ``idx`` of any shape::

        y[..., :] = W[idx[...], :]                  y.shape = idx.shape + (embedding_dim,)

    Backward: every position that picked row ``r`` sends its upstream gradient
    back to that row, so a row picked several times gets the SUM (a scatter-add)::

        dL/dW[r] = sum over positions p with idx[p] == r of dL/dy[p]     (np.add.at)

    Indices are not differentiable: backward returns None for the input.

    Args:
        num_embeddings: rows of the table (the vocabulary size).
        embedding_dim: length of each vector.
        padding_idx: a row that is initialised to zeros and never receives a
            gradient, so it stays fixed (e.g. the vector of a padding token);
            negative values count from the end.
        max_norm: when given, every row that forward looks up is first rescaled
            in place to norm at most ``max_norm`` (``norm_type``-norm). Like
            PyTorch, the rescaling itself is not differentiated.
        norm_type: the p of the p-norm used with ``max_norm`` (default 2).
        scale_grad_by_freq: divide each position's gradient by how often its
            index occurs in the batch.
        sparse: must be False; mtorch stores dense gradients.

    Shape:
        input: integer array of any shape ``(*)``; output ``(*, embedding_dim)``.

    Init (PyTorch's): ``W ~ N(0, 1)``, the ``padding_idx`` row zero.

    Example:
        >>> emb = Embedding(10, 3, padding_idx=0)
        >>> emb(np.array([[1, 2, 0], [4, 4, 9]])).shape
        (2, 3, 3)
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False):
        super().__init__()
        self.num_embeddings = check_int("Embedding", "num_embeddings", num_embeddings, minimum=1)
        self.embedding_dim = check_int("Embedding", "embedding_dim", embedding_dim, minimum=0)
        if padding_idx is not None:
            padding_idx = check_int("Embedding", "padding_idx", padding_idx, minimum=-self.num_embeddings,
                                    maximum=self.num_embeddings - 1) % self.num_embeddings
        self.padding_idx = padding_idx
        self.max_norm = None if max_norm is None else check_real("Embedding", "max_norm", max_norm, minimum=0)
        self.norm_type = check_real("Embedding", "norm_type", norm_type, minimum=0, open_min=True, allow_inf=True)
        self.scale_grad_by_freq = check_bool("Embedding", "scale_grad_by_freq", scale_grad_by_freq)
        if check_bool("Embedding", "sparse", sparse):
            raise ValueError("Embedding: sparse=True is not supported: mtorch stores dense gradients; "
                             "use sparse=False")
        self.weight = Parameter(np.zeros((self.num_embeddings, self.embedding_dim)))
        self.reset_parameters()
        self._idx = None

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def _indices(self, x):
        idx = as_real_array(self._short_repr(), x)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"{self._short_repr()}: input must hold integer indices, got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_embeddings):
            bad = idx[(idx < 0) | (idx >= self.num_embeddings)].flat[0]
            raise IndexError(f"{self._short_repr()}: index {bad} is out of range; indices must be in "
                             f"[0, {self.num_embeddings - 1}]")
        return idx

    def _renorm(self, idx):
        """Rescale the rows ``idx`` looks up to norm ``<= max_norm`` (in place, not differentiated)."""
        rows = np.unique(idx)
        w = self.weight.data
        norms = np.linalg.norm(w[rows], ord=self.norm_type, axis=1)
        too_long = norms > self.max_norm
        rows, norms = rows[too_long], norms[too_long]
        w[rows] *= (self.max_norm / (norms + 1e-7)).astype(w.dtype)[:, None]

    def forward(self, x):
        idx = self._indices(x)
        if self.max_norm is not None:
            self._renorm(idx)
        self._idx = idx
        return self.weight.data[idx]

    def backward(self, grad_out):
        idx = self._idx
        g = self.check_grad_out(grad_out, None if idx is None else idx.shape + (self.embedding_dim,))
        flat = idx.reshape(-1)
        g = g.reshape(flat.size, self.embedding_dim)                # (not -1: embedding_dim may be 0)
        if self.scale_grad_by_freq:
            g = g / np.bincount(flat, minlength=self.num_embeddings)[flat, None]
        grad = np.zeros_like(self.weight.data)
        np.add.at(grad, flat, g)                      # scatter-add: a repeated index gets the sum
        if self.padding_idx is not None:
            grad[self.padding_idx] = 0
        self.weight.add_grad(grad)
        return None

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        return s
