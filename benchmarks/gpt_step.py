"""Seconds per training step of the character-level GPT, in mtorch or (as the yardstick) in PyTorch.

    python benchmarks/gpt_step.py                  # mtorch: the model of examples/shakespeare_gpt.py
    python benchmarks/gpt_step.py --torch          # the same model in PyTorch (CPU, eager)
    python benchmarks/gpt_step.py --gelu tanh      # both frameworks can take GELU's tanh form

The reference recipe: 4 blocks, 4 heads, width 128, context 64, batch 12,
vocabulary 65, no biases, no dropout, the output head tied to the token
embedding. One step is forward, cross-entropy, backward, gradient clipping
at norm 1 and an AdamW update, on a fixed batch of character ids. PyTorch's
model is written as a PyTorch user would (``scaled_dot_product_attention``
with ``is_causal=True``). After 5 warm-up steps, 5 blocks of ``--steps``
steps are timed; the median block's seconds per step is printed as
``gpt <wall-clock seconds> cpu <CPU seconds>``. Run the two frameworks in separate processes, alternating,
with the same ``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS``. mtorch itself
never imports torch; only ``--torch`` does here.
"""
import argparse
import math
import os
import sys
import time

import numpy as np

VOCAB, BLOCK, BATCH, N_LAYER, N_HEAD, N_EMBD = 65, 64, 12, 4, 4, 128


def data(rng):
    """A fixed batch of inputs and next-character targets, ``(BATCH, BLOCK)`` each."""
    ids = rng.integers(0, VOCAB, (BATCH, BLOCK + 1))
    return ids[:, :-1], ids[:, 1:]


def mtorch_step(x, y, gelu):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
    import mtorch
    from mtorch.loss import CrossEntropyLoss
    from mtorch.optim import AdamW, clip_grad_norm
    from shakespeare_gpt import GPT

    mtorch.manual_seed(0)
    model = GPT(VOCAB, BLOCK, N_LAYER, N_HEAD, N_EMBD, dropout=0.0, gelu=gelu)
    params = list(model.parameters())
    optimizer = AdamW([{"params": [p for p in params if p.data.ndim >= 2], "weight_decay": 0.1},
                       {"params": [p for p in params if p.data.ndim < 2], "weight_decay": 0.0}],
                      lr=1e-3, betas=(0.9, 0.99))
    loss_func = CrossEntropyLoss()

    def step():
        logits = model(x)
        loss = loss_func(logits.reshape(-1, VOCAB), y.reshape(-1))
        model.backward(loss.grad.reshape(logits.shape))
        clip_grad_norm(model, 1.0)
        optimizer.step()
    return step


def torch_step(x, y, gelu):
    import torch
    from torch import nn
    from torch.nn import functional as F

    torch.manual_seed(0)
    x, y = torch.from_numpy(x), torch.from_numpy(y)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(N_EMBD, bias=False), nn.LayerNorm(N_EMBD, bias=False)
            self.qkv = nn.Linear(N_EMBD, 3 * N_EMBD, bias=False)
            self.out_proj = nn.Linear(N_EMBD, N_EMBD, bias=False)
            self.fc = nn.Linear(N_EMBD, 4 * N_EMBD, bias=False)
            self.proj = nn.Linear(4 * N_EMBD, N_EMBD, bias=False)

        def forward(self, h):
            b, t, c = h.shape
            heads = (z.view(b, t, N_HEAD, c // N_HEAD).transpose(1, 2) for z in self.qkv(self.ln_1(h)).split(c, 2))
            a = F.scaled_dot_product_attention(*heads, is_causal=True)
            h = h + self.out_proj(a.transpose(1, 2).reshape(b, t, c))
            return h + self.proj(F.gelu(self.fc(self.ln_2(h)), approximate="none" if gelu == "exact" else "tanh"))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(VOCAB, N_EMBD), nn.Embedding(BLOCK, N_EMBD)
            self.blocks = nn.ModuleList(Block() for _ in range(N_LAYER))
            self.ln_f = nn.LayerNorm(N_EMBD, bias=False)
            self.head = nn.Linear(N_EMBD, VOCAB, bias=False)
            self.head.weight = self.wte.weight

        def forward(self, idx):
            h = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
            for block in self.blocks:
                h = block(h)
            return self.head(self.ln_f(h))

    model = GPT()
    params = list(model.parameters())
    optimizer = torch.optim.AdamW([{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
                                   {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}],
                                  lr=1e-3, betas=(0.9, 0.99))

    def step():
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x).view(-1, VOCAB), y.reshape(-1)).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    return step


def time_steps(step, steps):
    """Median over 5 blocks of the seconds one step takes, after 5 warm-up steps: wall-clock
    time and the process's CPU time (all threads; steadier on a busy machine)."""
    for _ in range(5):
        step()
    wall, cpu = [], []
    for _ in range(5):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(steps):
            step()
        wall.append((time.perf_counter() - start) / steps)
        cpu.append((time.process_time() - start_cpu) / steps)
    return float(np.median(wall)), float(np.median(cpu))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--torch", action="store_true", help="time PyTorch instead of mtorch")
    parser.add_argument("--gelu", choices=["exact", "tanh"], default="exact",
                        help="the MLP's GELU (the reference recipe uses the exact one)")
    parser.add_argument("--steps", type=int, default=10, help="steps per timed block")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    make = torch_step if args.torch else mtorch_step
    wall, cpu = time_steps(make(*data(np.random.default_rng(0)), args.gelu), args.steps)
    print(f"gpt {wall:.6f} cpu {cpu:.6f}", flush=True)
