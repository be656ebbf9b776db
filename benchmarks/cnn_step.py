"""Seconds per training step of small networks, in mtorch or (as the yardstick) in PyTorch.

    python benchmarks/cnn_step.py                    # mtorch, the CNN
    python benchmarks/cnn_step.py mlp cnn rnn lstm   # mtorch, every workload
    python benchmarks/cnn_step.py --torch cnn        # the same in PyTorch (CPU, eager)

One step is forward, loss, backward and the optimizer's update, on a fixed
float32 batch (the same numbers for both frameworks). Each workload runs 5
warm-up steps, then 5 timed blocks of ``STEPS[name]`` steps; it prints the
median block's seconds per step: ``<name> <seconds>``. Run the two frameworks
in separate processes (two BLAS thread pools in one process disturb each
other), on an otherwise idle machine. mtorch itself never imports torch; only
``--torch`` does here.
"""
import argparse
import time

import numpy as np

STEPS = {"mlp": 100, "cnn": 10, "rnn": 40, "lstm": 40}


def data(name, rng):
    """The workload's input batch and targets (numpy)."""
    if name == "mlp":
        return rng.standard_normal((128, 784), dtype=np.float32), rng.integers(0, 10, 128)
    if name == "cnn":
        return rng.standard_normal((64, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 64)
    return (rng.standard_normal((50, 32, 1), dtype=np.float32),
            rng.standard_normal((50, 32, 1), dtype=np.float32))


def mtorch_step(name, x, y):
    import mtorch
    from mtorch import Module, Sequential, layers
    from mtorch.loss import CrossEntropyLoss, MSELoss
    from mtorch.optim import SGD, Adam

    mtorch.manual_seed(0)
    if name == "mlp":
        model = Sequential([layers.Linear(784, 256), layers.ReLU(), layers.Linear(256, 128), layers.ReLU(),
                            layers.Linear(128, 10)])
    elif name == "cnn":
        model = Sequential([layers.Conv2d(1, 16, 5, padding=2), layers.ReLU(), layers.MaxPool2d(2),
                            layers.Conv2d(16, 32, 5), layers.ReLU(), layers.MaxPool2d(2), layers.Flatten(),
                            layers.Linear(800, 128), layers.ReLU(), layers.Linear(128, 10)])
    else:   # a recurrent layer (1 -> 32 features) and a Linear head on every time step
        model = Sequential([{"rnn": layers.RNN, "lstm": layers.LSTM}[name](1, 32), layers.Linear(32, 1)])
    # the input is data: no dL/dx for it, as PyTorch computes none for a tensor that needs no gradient
    model = Module(model, input_grad=False)
    if name in ("mlp", "cnn"):
        loss_func, optimizer = CrossEntropyLoss(model), SGD(model, lr=0.01, momentum=0.9)
    else:
        loss_func, optimizer = MSELoss(model), Adam(model, lr=1e-2)

    def step():
        loss_func(model(x), y).backward()     # the loss calls model.backward: every layer stores p.grad
        optimizer.step()
    return step


def torch_step(name, x, y):
    import torch
    from torch import nn

    torch.manual_seed(0)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    if name == "mlp":
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    elif name == "cnn":
        model = nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(800, 128), nn.ReLU(), nn.Linear(128, 10))
    else:
        class SequenceModel(nn.Module):          # nn.RNN returns (outputs, h_n); the head reads outputs
            def __init__(self):
                super().__init__()
                self.rnn, self.head = {"rnn": nn.RNN, "lstm": nn.LSTM}[name](1, 32), nn.Linear(32, 1)

            def forward(self, inputs):
                return self.head(self.rnn(inputs)[0])
        model = SequenceModel()
    if name in ("mlp", "cnn"):
        loss_func, optimizer = nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    else:
        loss_func, optimizer = nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=1e-2)

    def step():
        optimizer.zero_grad()
        loss_func(model(x), y).backward()
        optimizer.step()
    return step


def time_workload(name, framework):
    """Median over 5 blocks of the seconds one training step takes."""
    step = (torch_step if framework == "torch" else mtorch_step)(name, *data(name, np.random.default_rng(0)))
    for _ in range(5):
        step()
    blocks = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(STEPS[name]):
            step()
        blocks.append((time.perf_counter() - start) / STEPS[name])
    return float(np.median(blocks))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("workloads", nargs="*", help=f"any of {', '.join(STEPS)} (default: cnn)")
    parser.add_argument("--torch", action="store_true", help="time PyTorch instead of mtorch")
    args = parser.parse_args()
    unknown = [w for w in args.workloads if w not in STEPS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {', '.join(STEPS)}")
    for workload in args.workloads or ["cnn"]:
        print(workload, "%.6f" % time_workload(workload, "torch" if args.torch else "mtorch"), flush=True)
