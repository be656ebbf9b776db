"""The benchmark's models in mtorch, written as the README's tour writes a model.

Each function returns ``(model, loss_func, optimizer)``, built with nothing a
user would not write: ``Module(Sequential([...]))``, a loss with
``backward_func=model``, an optimizer on the model, every default left as it
is (called on data, a ``Module`` computes no dL/d(input), as PyTorch computes
none for a tensor that does not require a gradient).
"""
import numpy as np

import mtorch
from mtorch import Module, Sequential, layers
from mtorch.loss import CrossEntropyLoss, MSELoss
from mtorch.optim import SGD, Adam

from workloads import NotAvailable, data


def mlp():
    model = Module(Sequential([layers.Linear(784, 256), layers.ReLU(),
                               layers.Linear(256, 128), layers.ReLU(),
                               layers.Linear(128, 10)]))
    return model, CrossEntropyLoss(backward_func=model), SGD(model, lr=0.01, momentum=0.9)


def cnn():
    model = Module(Sequential([layers.Conv2d(1, 16, 5, padding=2), layers.ReLU(), layers.MaxPool2d(2),
                               layers.Conv2d(16, 32, 5), layers.ReLU(), layers.MaxPool2d(2), layers.Flatten(),
                               layers.Linear(800, 128), layers.ReLU(),
                               layers.Linear(128, 10)]))
    return model, CrossEntropyLoss(backward_func=model), SGD(model, lr=0.01, momentum=0.9)


def _sequence_model(cell):
    """A recurrent layer (1 -> 32 features) and a Linear head on every time step, trained with MSE and Adam."""
    model = Module(Sequential([cell(1, 32), layers.Linear(32, 1)]))
    return model, MSELoss(backward_func=model), Adam(model, lr=1e-2)


def rnn():
    return _sequence_model(layers.RNN)


def lstm():
    return _sequence_model(layers.LSTM)


def gru():
    return _sequence_model(layers.GRU)


def gpt():
    """The character GPT of the reference recipe (see ``torch_workloads.gpt``), once mtorch has its layers."""
    if not hasattr(layers, "MultiheadAttention"):
        raise NotAvailable("mtorch.layers has no MultiheadAttention")
    raise NotAvailable("the benchmark has no mtorch GPT model yet")


BUILDERS = {"mlp": mlp, "cnn": cnn, "rnn": rnn, "lstm": lstm, "gru": gru, "gpt": gpt}


def training_step(name):
    """``(step, model)``: ``step()`` runs one training step of the workload (forward, loss, backward, update)."""
    mtorch.manual_seed(0)
    model, loss_func, optimizer = BUILDERS[name]()
    x, y = data(name, np.random.default_rng(0))

    def step():
        loss = loss_func(model(x), y)
        loss.backward()         # model.backward(dL/dlogits): every layer stores its gradients
        optimizer.step()
    return step, model
