"""The training loop of DESIGN.md, end to end, on a problem a linear model cannot solve."""
import numpy as np

from mtorch import Module, Sequential, layers
from mtorch.loss import CrossEntropyLoss
from mtorch.optim import SGD


def spiral(n_per_class=100, classes=3, seed=0):
    """The CS231n spiral: ``classes`` interleaved arms in 2-D, with a little noise."""
    rng = np.random.default_rng(seed)
    radius = np.tile(np.linspace(0.0, 1.0, n_per_class), classes)
    label = np.repeat(np.arange(classes), n_per_class)
    theta = label * 4.0 + radius * 4.0 + rng.standard_normal(radius.size) * 0.2
    points = np.stack([radius * np.sin(theta), radius * np.cos(theta)], axis=1)
    return points.astype(np.float32), label


class SpiralModule(Module):
    def __init__(self):
        super().__init__(Sequential([
            layers.Linear(2, 64), layers.ReLU(),
            layers.Linear(64, 64), layers.ReLU(),
            layers.Linear(64, 3),
        ]))


def test_design_loop_learns_a_spiral():
    x, y = spiral()
    module = SpiralModule()
    loss_func = CrossEntropyLoss(backward_func=module.backward)
    optimizer = SGD(module, lr=0.5)
    first = None
    for _ in range(500):
        loss = loss_func(module(x), y)
        first = loss.value if first is None else first
        loss.backward()
        optimizer.step()
    accuracy = (module(x).argmax(axis=1) == y).mean()
    assert loss.value < first / 5
    assert accuracy >= 0.95, accuracy


def test_a_linear_model_cannot_solve_the_spiral():
    """The spiral test means something: without hidden layers accuracy stays low."""
    x, y = spiral()
    module = Module(Sequential([layers.Linear(2, 3)]))
    loss_func = CrossEntropyLoss(backward_func=module)
    optimizer = SGD(module, lr=0.5)
    first = loss_func(module(x), y).value
    for _ in range(300):
        loss = loss_func(module(x), y)
        loss.backward()
        optimizer.step()
    assert loss.value < 0.8 * first                       # it does learn what a line can learn
    assert 0.45 < (module(x).argmax(axis=1) == y).mean() < 0.7
