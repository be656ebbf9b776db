"""Gradient clipping: rescale all gradients together when their total norm is too large."""
import math

import numpy as np

from ..layer import Layer
from ..parameter import Parameter
from ..validation import check_bool, check_real


def clip_grad_norm(params, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the gradients so that their joint norm is at most ``max_norm``.

    The total norm treats all gradients as one long vector (PyTorch's
    ``clip_grad_norm_``)::

        total = (sum over Parameters of sum(|g|**norm_type)) ** (1 / norm_type)
        total = max over all entries of |g|                        (norm_type = inf)
        g = g * min(1, max_norm / (total + 1e-6))

    Call it between ``loss.backward()`` and ``optimizer.step()``. Parameters
    whose ``grad`` is None are ignored.

    Args:
        params: a Layer/Module, a Parameter, or an iterable of Parameters.
        max_norm: the largest allowed total norm (>= 0).
        norm_type: the p of the p-norm (> 0), or ``math.inf`` (default 2).
        error_if_nonfinite: raise ``RuntimeError`` when the total norm is
            nan or inf; otherwise such gradients are returned unchanged
            (PyTorch would scale them to nan or 0) and the norm tells.

    Returns:
        float: the total norm of the gradients before clipping.
    """
    max_norm = check_real("clip_grad_norm", "max_norm", max_norm, minimum=0)
    norm_type = check_real("clip_grad_norm", "norm_type", norm_type, minimum=0, open_min=True, allow_inf=True)
    error_if_nonfinite = check_bool("clip_grad_norm", "error_if_nonfinite", error_if_nonfinite)
    if isinstance(params, Layer):
        params = params.parameters()
    elif isinstance(params, Parameter):
        params = [params]
    elif isinstance(params, (np.ndarray, str, bytes, dict)) or not hasattr(params, "__iter__"):
        raise TypeError(f"clip_grad_norm: params must be a Layer, a Parameter or an iterable of "
                        f"Parameters, got {type(params).__name__}")
    params = list(params)
    for p in params:
        if not isinstance(p, Parameter):
            raise TypeError(f"clip_grad_norm: params must hold Parameters, got a {type(p).__name__}")
    params = [p for p in params if p.grad is not None]
    grads = [p.grad for p in params]
    if not grads:
        return 0.0
    if norm_type == math.inf:
        total = float(np.max([np.max(np.abs(g), initial=0.0) for g in grads]))    # NaN propagates
    elif norm_type == 2.0:
        total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    else:
        total = sum(float(np.sum(np.abs(g) ** norm_type)) for g in grads) ** (1.0 / norm_type)
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise RuntimeError(f"clip_grad_norm: the total norm of order {norm_type} of the "
                               f"gradients is {total}, so they cannot be clipped")
        return total
    coefficient = max_norm / (total + 1e-6)
    if coefficient < 1:
        for p in params:                  # a new array: a gradient is never modified in place
            p.grad = p.grad * coefficient
    return total


clip_grad_norm_ = clip_grad_norm
