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


class PyTorchStyleSpiralModule(Module):
    """The same network written as a PyTorch user would: layers as attributes, forward and backward."""

    def __init__(self):
        super().__init__()
        self.hidden1, self.act1 = layers.Linear(2, 64), layers.ReLU()
        self.hidden2, self.act2 = layers.Linear(64, 64), layers.ReLU()
        self.out = layers.Linear(64, 3)

    def forward(self, x):
        return self.out(self.act2(self.hidden2(self.act1(self.hidden1(x)))))

    def backward(self, grad_out):
        g = self.act2.backward(self.out.backward(grad_out))
        return self.hidden1.backward(self.act1.backward(self.hidden2.backward(g)))


def test_a_pytorch_style_loop_with_zero_grad_and_momentum_learns_the_spiral():
    x, y = spiral()
    module = PyTorchStyleSpiralModule()
    assert list(module.state_dict())[:2] == ["hidden1.weight", "hidden1.bias"]
    loss_func = CrossEntropyLoss(backward_func=module)
    optimizer = SGD(module, lr=0.1, momentum=0.9)
    for _ in range(300):
        optimizer.zero_grad()
        loss = loss_func(module(x), y)
        loss.backward()
        optimizer.step()
    assert (module(x).argmax(axis=1) == y).mean() >= 0.95


def test_two_micro_batches_accumulated_equal_one_step_on_the_joined_batch():
    x, y = spiral()
    joined, split = SpiralModule().double(), SpiralModule().double()
    split.load_state_dict(joined.state_dict())
    for module, batches in ((joined, [slice(None)]), (split, [slice(0, 150), slice(150, None)])):
        loss_func = CrossEntropyLoss(backward_func=module, reduction="sum")
        optimizer = SGD(module, lr=0.01, momentum=0.9)
        for _ in range(3):
            for part in batches:                      # gradients add up until the step uses them
                loss_func(module(x[part]), y[part]).backward()
            optimizer.step()
    for (name, p), q in zip(joined.named_parameters(), split.parameters()):
        np.testing.assert_allclose(q.data, p.data, rtol=1e-12, atol=1e-14, err_msg=name)
        assert p.grad is None and q.grad is None
