"""The benchmark's models in mtorch, written as the README's tour writes a model.

Each function returns ``(model, loss_func, optimizer)``, built with nothing a
user would not write: ``Module(Sequential([...]))``, a loss with
``backward_func=model``, an optimizer on the model, every default left as it
is (called on data, a ``Module`` computes no dL/d(input), as PyTorch computes
none for a tensor that does not require a gradient).
"""
import importlib.util
from pathlib import Path

import numpy as np

import mtorch
from mtorch import Module, Sequential, layers
from mtorch.loss import CrossEntropyLoss, MSELoss
from mtorch.optim import SGD, Adam, clip_grad_norm

from workloads import GPT_BLOCK, GPT_HEADS, GPT_LAYERS, GPT_VOCAB, GPT_WIDTH, NotAvailable, data

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


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
    """The character GPT of the reference recipe (see ``torch_workloads.gpt``): the model, loss and
    optimizer of examples/shakespeare_gpt.py, with the exact GELU, as that script trains them."""
    if not hasattr(layers, "MultiheadAttention"):
        raise NotAvailable("mtorch.layers has no MultiheadAttention")
    spec = importlib.util.spec_from_file_location("shakespeare_gpt", EXAMPLES / "shakespeare_gpt.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    model = example.GPT(GPT_VOCAB, GPT_BLOCK, GPT_LAYERS, GPT_HEADS, GPT_WIDTH, gelu="exact")
    return model, example.NextCharacterLoss(backward_func=model), example.make_optimizer(model, 1e-3, 0.1)


BUILDERS = {"mlp": mlp, "cnn": cnn, "rnn": rnn, "lstm": lstm, "gru": gru, "gpt": gpt}
CLIP_NORM = {"gpt": 1.0}            # the gradient norm is clipped before the update, as in the recipe


def training_step(name):
    """``(step, model)``: ``step()`` runs one training step of the workload (forward, loss, backward, update)."""
    mtorch.manual_seed(0)
    model, loss_func, optimizer = BUILDERS[name]()
    x, y = data(name, np.random.default_rng(0))
    max_norm = CLIP_NORM.get(name)

    def step():
        loss = loss_func(model(x), y)
        loss.backward()         # model.backward(dL/dlogits): every layer stores its gradients
        if max_norm is not None:
            clip_grad_norm(model, max_norm)
        optimizer.step()
    return step, model
