"""The benchmark's models in PyTorch (CPU, eager): the yardstick.

``mlp``, ``cnn``, ``rnn`` and ``lstm`` are the definitions of the reference
script ``torch_ref.py`` (models, data, losses, optimizers, seeds), ``gru`` is
``lstm`` with ``nn.GRU``; ``compare.py`` uses the reference script itself when
it finds it. ``gpt`` is the model of the character-GPT reference recipe
(nanoGPT's CPU recipe: 4 layers, 4 heads, width 128, block 64, no biases,
tied embedding, AdamW with weight decay on matrices, gradient clipping at 1),
trained here on random tokens. Each function takes a numpy Generator and
returns ``(model, x, y, loss_func, optimizer)``, as torch_ref.py's do.
"""
import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from workloads import GPT_BLOCK, GPT_HEADS, GPT_LAYERS, GPT_VOCAB, GPT_WIDTH, data


def _tensors(name, rng):
    return tuple(torch.from_numpy(a) for a in data(name, rng))


def mlp(rng):
    m = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    x, y = _tensors("mlp", rng)
    return m, x, y, nn.CrossEntropyLoss(), torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)


def cnn(rng):
    m = nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(800, 128), nn.ReLU(), nn.Linear(128, 10))
    x, y = _tensors("cnn", rng)
    return m, x, y, nn.CrossEntropyLoss(), torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)


class SeqHead(nn.Module):
    """A recurrent layer (1 -> 32 features) and a Linear head on every time step (nn.RNN returns (outputs, h_n))."""

    def __init__(self, cell):
        super().__init__()
        self.rnn = cell(1, 32)
        self.head = nn.Linear(32, 1)

    def forward(self, x):
        return self.head(self.rnn(x)[0])


def _sequence(cell, name, rng):
    m = SeqHead(cell)
    x, y = _tensors(name, rng)
    return m, x, y, nn.MSELoss(), torch.optim.Adam(m.parameters(), lr=1e-2)


def rnn(rng):
    return _sequence(nn.RNN, "rnn", rng)


def lstm(rng):
    return _sequence(nn.LSTM, "lstm", rng)


def gru(rng):
    return _sequence(nn.GRU, "gru", rng)


class Block(nn.Module):
    """Pre-norm transformer block: x + attention(LayerNorm(x)), then x + MLP(LayerNorm(x))."""

    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(GPT_WIDTH, bias=False)
        self.qkv = nn.Linear(GPT_WIDTH, 3 * GPT_WIDTH, bias=False)
        self.proj = nn.Linear(GPT_WIDTH, GPT_WIDTH, bias=False)
        self.ln2 = nn.LayerNorm(GPT_WIDTH, bias=False)
        self.fc = nn.Linear(GPT_WIDTH, 4 * GPT_WIDTH, bias=False)
        self.fc2 = nn.Linear(4 * GPT_WIDTH, GPT_WIDTH, bias=False)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(GPT_WIDTH, dim=2)
        q, k, v = (t.view(B, T, GPT_HEADS, C // GPT_HEADS).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(B, T, C))
        return x + self.fc2(F.gelu(self.fc(self.ln2(x))))


class GPT(nn.Module):
    """Token and position embeddings, the blocks, a final LayerNorm and the head tied to the token embedding."""

    def __init__(self, vocab):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, GPT_WIDTH), nn.Embedding(GPT_BLOCK, GPT_WIDTH)
        self.blocks = nn.ModuleList(Block() for _ in range(GPT_LAYERS))
        self.ln_f = nn.LayerNorm(GPT_WIDTH, bias=False)
        self.head = nn.Linear(GPT_WIDTH, vocab, bias=False)
        self.head.weight = self.wte.weight
        for name, p in self.named_parameters():
            if p.dim() == 2:
                residual = name.endswith(("proj.weight", "fc2.weight"))
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * GPT_LAYERS) if residual else 0.02)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def gpt_loss(logits, targets):
    return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def gpt(rng):
    m = GPT(GPT_VOCAB)
    decay = [p for p in m.parameters() if p.dim() >= 2]
    no_decay = [p for p in m.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=1e-3, betas=(0.9, 0.99))
    x, y = _tensors("gpt", rng)
    return m, x, y, gpt_loss, optimizer


BUILDERS = {"mlp": mlp, "cnn": cnn, "rnn": rnn, "lstm": lstm, "gru": gru, "gpt": gpt}
CLIP_NORM = {"gpt": 1.0}


def training_step(name, reference=None):
    """``step()`` running one training step of the workload, as torch_ref.py times it.

    ``reference``: the torch_ref.py module, imported by path; the workloads it
    defines are taken from it (it seeds torch and numpy when imported), the
    others from this file.
    """
    if hasattr(reference, name):
        model, x, y, loss_func, optimizer = getattr(reference, name)()
    else:
        torch.manual_seed(0)
        model, x, y, loss_func, optimizer = BUILDERS[name](np.random.default_rng(0))
    max_norm = CLIP_NORM.get(name)

    def step():
        optimizer.zero_grad()
        loss = loss_func(model(x), y)
        loss.backward()
        if max_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
    return step
