"""Assignment 3: softmax cross-entropy, the loss of a classifier.

    python -m mtorch.testing softmax_cross_entropy.py::SoftmaxCrossEntropy --input-shape 6,5 \
        --reference mtorch.loss.CrossEntropyLoss
"""
import numpy as np

from mtorch.loss import Loss


class SoftmaxCrossEntropy(Loss):
    """The mean over the batch of ``-log softmax(x_n)[y_n]``.

    Forward, for logits ``x`` ``(N, C)`` and class indices ``y`` ``(N,)``::

        p[n, c] = exp(x[n, c]) / sum_k exp(x[n, k])
        L = -(1/N) sum_n log p[n, y[n]]

    Backward: derive ``dL/dx[n, c]`` (it has a short form in terms of ``p``).
    Remember that L is a mean. Make it stable: logits of size 1000 must give
    a finite loss and gradient (subtract each row's maximum before exp; why
    does that not change p? compute log p without taking the log of p).

    ``forward`` returns both: ``(L as a float, dL/dx as an array of x's shape and dtype)``.
    """

    def forward(self, input, target):
        """Return ``(loss, dL/dinput)``."""
        raise NotImplementedError("SoftmaxCrossEntropy.forward")
