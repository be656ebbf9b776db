"""Assignment 6: batch normalisation of (N, C) features, with running statistics.

    python -m mtorch.testing batchnorm.py::BatchNorm1d --spec ../specs.py
"""
import numpy as np

from mtorch import Layer, Parameter


class BatchNorm1d(Layer):
    """Normalise each feature over the batch, then scale and shift (PyTorch's BatchNorm1d).

    Forward in training mode, per feature c over the batch of N samples::

        mu = mean_n x[n, c],   var = mean_n (x[n, c] - mu)^2          (biased: divide by N)
        x_hat = (x - mu) / sqrt(var + eps)
        y = gamma * x_hat + beta                                      (gamma = weight, beta = bias)
        running_mean = (1 - momentum) * running_mean + momentum * mu
        running_var  = (1 - momentum) * running_var  + momentum * var * N / (N - 1)   (unbiased)

    In eval mode (``self.training`` False) use running_mean and running_var
    instead of the batch's mu and var, and change nothing.

    Backward (training mode), with ``g = dL/dy``: derive ``dL/dgamma``,
    ``dL/dbeta`` and ``dL/dx``. mu and var depend on every x of the feature,
    so dL/dx[n] collects terms from all samples; the result fits on one line
    in terms of g, x_hat and their means over the batch.
    In eval mode mu and var are constants: ``dL/dx = g * gamma / sqrt(var + eps)``.

    Shape: x and y ``(N, num_features)``.
    Parameters: ``weight`` (ones), ``bias`` (zeros), ``(num_features,)``.
    Buffers: ``running_mean`` (zeros), ``running_var`` (ones), ``num_batches_tracked`` (0).
    """

    batch_independent = False          # each sample's output depends on the whole batch (in training)

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(np.ones(num_features))
        self.bias = Parameter(np.zeros(num_features))
        self.register_buffer("running_mean", np.zeros(num_features, np.float32))
        self.register_buffer("running_var", np.ones(num_features, np.float32))
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        self._cache = None

    def forward(self, x):
        """Return y; in training mode update the running statistics (assign new arrays to them)."""
        raise NotImplementedError("BatchNorm1d.forward")

    def backward(self, grad_out):
        """Add dL/dgamma and dL/dbeta; return dL/dx (for the mode forward ran in)."""
        raise NotImplementedError("BatchNorm1d.backward")
