"""Losses on embedding vectors (metric learning): pairs that should point the same way
or apart, and triplets whose anchor should be nearer its positive than its negative.

Vectors lie along the last axis: ``(N, D)`` for N pairs or triplets of
D-dimensional embeddings, or ``(D,)`` for one. Every input is
differentiated: ``result.grad`` is a tuple with one gradient per input, and
``backward_func`` may be a tuple sending each to its own network (or one
function called with all of them). ``reduction='mean'`` divides by N.
"""
import numpy as np

from ..errors import ShapeError
from ..validation import check_bool, check_real
from .base import Loss

# Added to each squared norm by PyTorch's cosine_embedding_loss, so a zero vector gives cos = 0.
_COS_EPS = 1e-12


class _VectorLoss(Loss):
    """Shared by both: inputs of one shape, ``(N, D)`` or ``(D,)``."""

    def _vectors(self, *inputs):
        xs = self._inputs(self.differentiable_inputs, *inputs)
        if xs[0].ndim not in (1, 2):
            raise ShapeError(f"{self._name}: expected {self.differentiable_inputs[0]} of shape (N, D) "
                             f"or (D,), got {xs[0].shape}")
        return xs


class CosineEmbeddingLoss(_VectorLoss):
    """Asks two embeddings to point the same way (``y = 1``) or apart (``y = -1``).

    Per pair, with ``A = |x1|^2 + eps``, ``B = |x2|^2 + eps`` and the cosine
    similarity ``cos = x1 . x2 / sqrt(A B)``::

        loss = 1 - cos                 if y = 1
        loss = max(0, cos - margin)    if y = -1
        dcos/dx1 = x2 / sqrt(A B) - cos x1 / A,      dcos/dx2 = x1 / sqrt(A B) - cos x2 / B
        dloss/dx = -dcos/dx if y = 1,   [cos >= margin] dcos/dx if y = -1

    ``eps = 1e-12`` (PyTorch's) keeps a zero vector from dividing by zero.
    Targets must be 1 or -1: PyTorch silently gives 0 for any other value,
    and 0/1 labels are a common mistake.

    Args:
        margin: the cosine below which dissimilar pairs cost nothing, in [-1, 1]
            (default 0; 0 to 0.5 works well).

    Shape:
        input1 ``(N, D)`` or ``(D,)``, input2 the same; target ``(N,)`` or ``()``;
        ``'none'`` gives ``(N,)`` / ``()``.

    Example:
        >>> loss = CosineEmbeddingLoss()(np.array([[1.0, 0.0]]), np.array([[1.0, 1.0]]), np.array([1]))
        >>> loss.value                    # 1 - 1/sqrt(2)
        0.2928932...
        >>> grad_x1, grad_x2 = loss.grad
    """

    differentiable_inputs = ("input1", "input2")

    def __init__(self, backward_func=None, reduction="mean", margin=0.0):
        super().__init__(backward_func, reduction)
        self.margin = check_real(self, "margin", margin, minimum=-1, maximum=1)

    def forward(self, input1, input2, target):
        x1, x2 = self._vectors(input1, input2)
        similar = self._sign_target(x1, target, x1.shape[:-1])[..., None] == 1
        a = (x1 * x1).sum(axis=-1, keepdims=True) + _COS_EPS
        b = (x2 * x2).sum(axis=-1, keepdims=True) + _COS_EPS
        root = np.sqrt(a * b)
        cos = (x1 * x2).sum(axis=-1, keepdims=True) / root
        losses = np.where(similar, 1 - cos, np.maximum(0, cos - self.margin))
        dcos = np.where(similar, -1, cos >= self.margin).astype(x1.dtype)
        return self._reduce(losses[..., 0], (dcos * (x2 / root - cos * x1 / a), dcos * (x1 / root - cos * x2 / b)))

    def extra_repr(self):
        return f"margin={self.margin}"


class TripletMarginLoss(_VectorLoss):
    """Asks an anchor ``a`` to be nearer its positive ``p`` than its negative ``n``, by ``margin``.

    With PyTorch's pairwise distance ``d(u, v) = ||u - v + eps||_p`` per triplet::

        h = margin + d(a, p) - d(a, n),     loss = max(0, h)
        dloss/da = [h >= 0] (g(a - p) - g(a - n))
        dloss/dp = -[h >= 0] g(a - p),      dloss/dn = [h >= 0] g(a - n)

    where ``g(u) = d||u||_p/du = sign(u) (|u| / ||u||_p)^(p-1)`` (0 at ``u = 0``;
    ``u / ||u||`` for ``p = 2``). ``swap=True`` uses the harder negative
    distance ``min(d(a, n), d(p, n))`` (the *distance swap*); its gradient
    goes to the pair that is nearer, and is split in half at a tie, as in PyTorch.

    Args:
        margin: the gap asked for (> 0, default 1.0).
        p: the norm's order (>= 1 so that ``d`` is a distance, default 2).
        eps: added to every difference ``u - v`` (>= 0, default 1e-6).
        swap: use the distance swap (default False).

    Shape:
        anchor ``(N, D)`` or ``(D,)``, positive and negative the same; ``'none'`` gives ``(N,)`` / ``()``.

    Example:
        >>> a, p, n = np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]), np.array([[0.0, 1.5]])
        >>> loss = TripletMarginLoss(eps=0.0)(a, p, n)
        >>> loss.value                    # 1 + 1 - 1.5
        0.5
        >>> grad_anchor, grad_positive, grad_negative = loss.grad
    """

    differentiable_inputs = ("anchor", "positive", "negative")

    def __init__(self, backward_func=None, reduction="mean", margin=1.0, p=2.0, eps=1e-6, swap=False):
        super().__init__(backward_func, reduction)
        self.margin = check_real(self, "margin", margin, minimum=0, open_min=True)
        self.p = check_real(self, "p", p, minimum=1)
        self.eps = check_real(self, "eps", eps, minimum=0)
        self.swap = check_bool(self, "swap", swap)

    def forward(self, anchor, positive, negative):
        a, p, n = self._vectors(anchor, positive, negative)
        d_ap, g_ap = self._distance(a, p)
        d_an, g_an = self._distance(a, n)
        d_pn, g_pn = self._distance(p, n) if self.swap else (np.inf, 0)    # without swap d(p, n) never wins
        w = np.where(d_pn < d_an, 1, np.where(d_pn == d_an, 0.5, 0)).astype(a.dtype)   # d(p, n)'s share
        h = self.margin + d_ap - np.minimum(d_an, d_pn)
        on = (h >= 0).astype(a.dtype)
        grads = (on * (g_ap - (1 - w) * g_an), -on * (g_ap + w * g_pn), on * ((1 - w) * g_an + w * g_pn))
        return self._reduce(np.maximum(0, h)[..., 0], grads)

    def _distance(self, u, v):
        """``d = ||u - v + eps||_p`` (last axis kept, size 1) and ``g = dd/du = -dd/dv``."""
        diff = u - v + u.dtype.type(self.eps)
        d = (np.abs(diff) ** self.p).sum(axis=-1, keepdims=True) ** (1 / self.p)
        return d, np.sign(diff) * np.where(d > 0, np.abs(diff) / d, 0) ** (self.p - 1)

    def extra_repr(self):
        return f"margin={self.margin}, p={self.p}, eps={self.eps}, swap={self.swap}"
