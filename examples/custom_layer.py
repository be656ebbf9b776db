"""Write a layer, check it with mtorch.testing.check_layer, use it in a network.

The short version of docs/custom_layers.md: ``Affine`` is right and passes
every check; ``AffineMeanBias`` averages the bias gradient over the batch
instead of summing it, and its report names the wrong gradient. Then the
correct layer trains a small classifier.

    python examples/custom_layer.py
    python examples/custom_layer.py --quiet          # only the three summary lines

Prints the two ``check_layer`` reports, then one line per layer and the
training accuracy. Writes no files.
"""
import argparse

import numpy as np

import mtorch
from mtorch import Layer, Parameter, Sequential
from mtorch.layers import ReLU
from mtorch.loss import CrossEntropyLoss
from mtorch.testing import check_layer
from mtorch.utils import positive_float, positive_int


class Affine(Layer):
    """``y = x W^T + b``.

    Backward, with ``g = dL/dy``: ``dW = g^T x``, ``db = sum of g over the batch``, ``dx = g W``.
    Shape: x (N, in), W (out, in), b (out,), y (N, out). Cached: x.
    """

    def __init__(self, in_features, out_features):
        super().__init__()
        bound = 1 / np.sqrt(in_features)
        rng = mtorch.random.generator()
        self.weight = Parameter(rng.uniform(-bound, bound, (out_features, in_features)))
        self.bias = Parameter(rng.uniform(-bound, bound, out_features))
        self.in_features, self.out_features = in_features, out_features
        self._x = None

    def forward(self, x):
        self._x = self.check_input(x, ("N", self.in_features))
        return self._x @ self.weight.data.T + self.bias.data

    def backward(self, grad_out):
        x = self._x
        g = self.check_grad_out(grad_out, None if x is None else (x.shape[0], self.out_features))
        self.weight.add_grad(g.T @ x)
        self.bias.add_grad(self._bias_grad(g))
        return g @ self.weight.data

    def _bias_grad(self, g):
        return g.sum(axis=0)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}"


class AffineMeanBias(Affine):
    """The deliberate mistake: the bias gradient averaged over the batch instead of summed."""

    def _bias_grad(self, g):
        return g.mean(axis=0)


def train_two_moons(steps=300, lr=0.5):
    """Two Affine layers separate two interleaved half circles; returns the training accuracy."""
    rng = np.random.default_rng(0)
    angle = rng.uniform(0, np.pi, 400)
    label = rng.integers(0, 2, 400)
    points = np.stack([np.cos(angle) + label, np.sin(angle) * (1 - 2 * label) + 0.5 * label], axis=1)
    points = (points + rng.normal(0, 0.1, points.shape)).astype(np.float32)
    net = Sequential([Affine(2, 32), ReLU(), Affine(32, 2)])
    loss_func = CrossEntropyLoss(backward_func=net.backward)
    for _ in range(steps):
        loss_func(net(points), label).backward()
        net.step(lr)
    return float(np.mean(net(points).argmax(axis=1) == label))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=positive_int, default=300, help="full-batch training steps on two moons")
    p.add_argument("--lr", type=positive_float, default=0.5, help="learning rate of the plain gradient steps")
    p.add_argument("--quiet", action="store_true", help="print only the summary lines, not the reports")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    mtorch.manual_seed(0)
    good = check_layer(Affine(3, 2), verbose=not args.quiet)
    if not args.quiet:
        print()
    bad = check_layer(AffineMeanBias(3, 2), verbose=not args.quiet)
    if not args.quiet:
        print()
    print(f"Affine: {'all checks passed' if good else 'FAILED'}")
    print(f"AffineMeanBias: {'all checks passed' if bad else 'FAILED: ' + ', '.join(c.name for c in bad.failures)}")
    print(f"two moons with Affine layers: training accuracy {train_two_moons(args.steps, args.lr):.3f}")


if __name__ == "__main__":
    main()
