"""Train a character-level GPT on Shakespeare, with every backward pass written out.

    python examples/shakespeare_gpt.py                        # the defaults: 4 blocks of width 128
    python examples/shakespeare_gpt.py --batch-size 12 --iters 2000 --lr 1e-3   # nanoGPT's CPU recipe
    python examples/shakespeare_gpt.py --iters 200 --no-plots # a quick look
    python examples/shakespeare_gpt.py --model lstm           # a character LSTM on the same data

The model is a decoder-only Transformer (GPT-2's layout) that reads
``block_size`` characters and predicts, at every position, the next one::

    idx (B, T) -> wte(idx) + wpe(0..T-1)                       token + position embeddings (B, T, C)
               -> n_layer x Block:  x = x + attn(ln_1(x))      causal self-attention, pre-norm
                                    x = x + mlp(ln_2(x))       Linear(C, 4C), GELU, Linear(4C, C)
               -> ln_f -> head                                 logits (B, T, vocab)

The output head is TIED to the token embedding: ``head.weight`` IS
``wte.weight``, one Parameter used twice, and its gradient is the sum of
both uses. ``GPT.backward`` and ``Block.backward`` write the whole backward
pass out: each residual add sends its gradient down both paths and adds
what comes back.

Data: ``mtorch.datasets.TinyShakespeare`` (downloaded on first use into the
data folder and checked), split 90/10. Training: AdamW (betas 0.9, 0.99;
weight decay on the weight matrices and embeddings only, not on LayerNorm),
a linear warm-up then cosine decay of the learning rate to a tenth of it,
gradient clipping at norm 1. The validation loss is the mean cross-entropy
(nats per character) over a fixed set of ``--eval-batches`` validation batches.

Shows a progress bar on a terminal and a line per validation estimate
(only the lines when the output goes to a file, nothing with ``--quiet``).
Saves to ``--out``: ``shakespeare_<model>.npz`` (weights, vocabulary and
options), ``_curves.png`` (training and validation loss), ``_attention.png``
(one head's attention weights over a validation snippet, GPT only) unless
``--no-plots``, and prints a generated sample. The last line printed is
``val loss: <nats per character>``.
"""
import argparse
import math
import os
import sys
import time

# One BLAS thread unless you say otherwise (set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS yourself):
# on a machine shared with other work, threads wait for each other and a step can take
# several times longer.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # after the thread settings: numpy's BLAS reads them when it loads

import mtorch
from mtorch import Module, Sequential, layers
from mtorch.datasets import ChecksumError, DatasetNotFoundError, TinyShakespeare
from mtorch.functional import softmax
from mtorch.loss import CrossEntropyLoss
from mtorch.optim import AdamW, clip_grad_norm
from mtorch.utils import (fraction, nonnegative_float, nonnegative_int, positive_float, positive_int, progress,
                          shows_bars, writable_dir)


# ------------------------------------------------------------------------ loss
class NextCharacterLoss(CrossEntropyLoss):
    """Cross-entropy of logits ``(B, T, vocab)`` against the next characters ``(B, T)``.

    Every one of the B * T positions is a sample (PyTorch writes
    ``F.cross_entropy(logits.view(-1, vocab), y.view(-1))``); the gradient
    comes back in the logits' shape, so ``loss.backward()`` hands it to ``model.backward``.
    """

    def forward(self, input, target):
        logits = np.asarray(input)
        value, grad = super().forward(logits.reshape(-1, logits.shape[-1]), np.reshape(target, -1))
        return value, grad.reshape(logits.shape)


# ----------------------------------------------------------------------- model
class Block(Module):
    """A pre-norm Transformer block: ``x = x + attn(ln_1(x))``, then ``x = x + mlp(ln_2(x))``.

    The built-in ``layers.TransformerEncoderLayer(n_embd, n_head, 4 * n_embd, activation=GELU(),
    batch_first=True, norm_first=True, bias=False)`` called with ``is_causal=True`` computes the
    same (a test checks it); here the block and its backward are written out to be read.
    """

    def __init__(self, n_embd, n_head, dropout, gelu):
        super().__init__()
        self.ln_1 = layers.LayerNorm(n_embd, bias=False)
        self.attn = layers.MultiheadAttention(n_embd, n_head, dropout=dropout, bias=False, batch_first=True)
        self.drop_1 = layers.Dropout(dropout)
        self.ln_2 = layers.LayerNorm(n_embd, bias=False)
        self.fc = layers.Linear(n_embd, 4 * n_embd, bias=False)
        self.gelu = layers.GELU(approximate="none" if gelu == "exact" else "tanh")
        self.proj = layers.Linear(4 * n_embd, n_embd, bias=False)
        self.drop_2 = layers.Dropout(dropout)

    def forward(self, x):
        x = x + self.drop_1(self.attn(self.ln_1(x), is_causal=True))          # position t sees 0..t only
        return x + self.drop_2(self.proj(self.gelu(self.fc(self.ln_2(x)))))

    def backward(self, g):
        # y = h + mlp(ln_2(h)): dL/dh is g (the skip path) plus what comes back through the MLP
        g = g + self.ln_2.backward(self.fc.backward(self.gelu.backward(self.proj.backward(self.drop_2.backward(g)))))
        # h = x + attn(ln_1(x)): the same again; self-attention returns one gradient for its one input
        return g + self.ln_1.backward(self.attn.backward(self.drop_1.backward(g)))


class GPT(Module):
    """A decoder-only Transformer over characters; ``forward(idx (B, T)) -> logits (B, T, vocab_size)``."""

    def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd, dropout=0.0, gelu="exact"):
        super().__init__()
        self.block_size = block_size
        self.wte = layers.Embedding(vocab_size, n_embd)
        self.wpe = layers.Embedding(block_size, n_embd)
        self.drop = layers.Dropout(dropout)
        self.blocks = layers.ModuleList([Block(n_embd, n_head, dropout, gelu) for _ in range(n_layer)])
        self.ln_f = layers.LayerNorm(n_embd, bias=False)
        self.head = layers.Linear(n_embd, vocab_size, bias=False)
        self.head.weight = self.wte.weight                    # tied: one Parameter, used twice
        for name, p in self.named_parameters():               # GPT-2's init: N(0, 0.02), the projections
            if p.data.ndim == 2 and name != "head.weight":    # into the residual stream / sqrt(2 n_layer)
                std = 0.02 / math.sqrt(2 * n_layer) if name.endswith("proj.weight") else 0.02
                mtorch.init.normal_(p, 0.0, std)

    def forward(self, idx):
        length = idx.shape[1]
        if length > self.block_size:
            raise ValueError(f"GPT: got {length} positions, at most block_size={self.block_size}")
        x = self.drop(self.wte(idx) + self.wpe(np.arange(length)))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))

    def backward(self, grad_logits):
        g = self.ln_f.backward(self.head.backward(grad_logits))    # head adds dL/dW to the tied weight
        for block in reversed(list(self.blocks)):
            g = block.backward(g)
        g = self.drop.backward(g)
        self.wpe.backward(g.sum(axis=0))       # every sequence of the batch used the same positions
        self.wte.backward(g)                   # adds its own part to the tied weight's gradient
        return None                            # token ids have no gradient


class CharLSTM(Module):
    """Embedding, LSTM, Linear: ``idx (B, T) -> logits (B, T, vocab_size)``, for comparison."""

    def __init__(self, vocab_size, n_embd, n_layer):
        super().__init__(Sequential([
            layers.Embedding(vocab_size, n_embd),
            layers.LSTM(n_embd, n_embd, num_layers=n_layer, batch_first=True),
            layers.Linear(n_embd, vocab_size),
        ]))


def build_model(args, vocab_size):
    if args.model == "lstm":
        return CharLSTM(vocab_size, args.n_embd, args.n_layer)
    return GPT(vocab_size, args.block_size, args.n_layer, args.n_head, args.n_embd, args.dropout, args.gelu)


# -------------------------------------------------------------------- training
def make_optimizer(model, lr, weight_decay):
    """AdamW with weight decay on the matrices (weights, embeddings) only, not on norms and biases."""
    params = list(model.parameters())
    return AdamW([{"params": [p for p in params if p.data.ndim >= 2], "weight_decay": weight_decay},
                  {"params": [p for p in params if p.data.ndim < 2], "weight_decay": 0.0}],
                 lr=lr, betas=(0.9, 0.99))


def learning_rate(step, args):
    """Linear warm-up over ``--warmup`` steps, then cosine decay from ``--lr`` to ``--lr / 10``."""
    if step < args.warmup:
        return args.lr * (step + 1) / (args.warmup + 1)
    done = min(1.0, (step - args.warmup) / max(1, args.iters - args.warmup))      # fraction of the decay
    return args.lr / 10 + 0.5 * (1 + math.cos(math.pi * done)) * (args.lr - args.lr / 10)


def evaluate(model, batches):
    """Mean cross-entropy over ``batches`` in eval mode (no dropout)."""
    model.eval()
    loss_func = NextCharacterLoss()
    loss = float(np.mean([loss_func(model(x), y).value for x, y in batches]))
    model.train()
    return loss


def quick_eval_batches(args):
    """How many validation batches the estimates during training use: a tenth of the final one's."""
    return max(1, args.eval_batches // 10)


def train(model, train_set, val_batches, args):
    """The training loop; returns the per-step training losses and ``(step, val loss)`` pairs."""
    optimizer = make_optimizer(model, args.lr, args.weight_decay)
    loss_func = NextCharacterLoss(backward_func=model)
    rng = np.random.default_rng(args.seed)
    bar = progress(range(args.iters), desc=f"training {args.model}", unit="step", quiet=args.quiet)
    train_losses, val_losses = [], []
    for step in bar:
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, args)
        x, y = train_set.get_batch(args.batch_size, rng)          # (B, T) characters and the next ones
        loss = loss_func(model(x), y)
        loss.backward()                                         # model.backward(dL/dlogits): every p.grad
        clip_grad_norm(model, 1.0)
        optimizer.step()
        train_losses.append(loss.value)
        bar.set_postfix(loss=f"{loss.value:.3f}")
        if (step + 1) % args.eval_interval == 0 or step + 1 == args.iters:
            val_losses.append((step + 1, evaluate(model, val_batches[:quick_eval_batches(args)])))
            line = (f"step {step + 1}: train loss {np.mean(train_losses[-args.eval_interval:]):.4f}, "
                    f"val loss {val_losses[-1][1]:.4f} (on {quick_eval_batches(args)} batches)")
            if shows_bars(args.quiet):
                bar.write(line)
            elif not args.quiet:
                print(line, flush=True)
    return train_losses, val_losses


# -------------------------------------------------------------------- sampling
def generate(model, dataset, prompt, n_chars, temperature, top_k, rng):
    """Continue ``prompt`` by ``n_chars`` characters, sampled one at a time from the model."""
    model.eval()
    ids = list(dataset.encode(prompt))
    for _ in range(n_chars):
        context = np.array(ids[-model_context(model):])[None]
        logits = model(context)[0, -1].astype(np.float64) / temperature
        if top_k is not None and top_k < logits.size:
            logits[logits < np.sort(logits)[-top_k]] = -np.inf
        ids.append(int(rng.choice(logits.size, p=softmax(logits))))
    model.train()
    return dataset.decode(np.array(ids))


def model_context(model):
    """How many past characters the model reads (an LSTM is given 256)."""
    return getattr(model, "block_size", 256)


# --------------------------------------------------------------------- figures
def save_figures(prefix, model, dataset, train_losses, val_losses, snippet, args):
    """The loss curves and (GPT) one head's attention weights over ``snippet``; returns the paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    window = min(50, len(train_losses))
    smooth = np.convolve(train_losses, np.ones(window) / window, mode="valid")
    ax.plot(np.arange(window, len(train_losses) + 1), smooth, label=f"train (mean of {window} steps)")
    ax.plot(*zip(*val_losses), "o-", label=f"validation ({quick_eval_batches(args)} batches)")
    ax.set(title=f"character-level {args.model.upper()} on tiny Shakespeare", xlabel="step",
           ylabel="cross-entropy (nats per character)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(prefix + "_curves.png", dpi=100)
    plt.close(fig)
    if args.model != "gpt":
        return [prefix + "_curves.png"]

    model.eval()
    model(dataset.encode(snippet)[None])
    model.train()
    layer, head = len(model.blocks) - 1, 0
    weights = model.blocks[layer].attn.attn_weights_per_head[0, head]
    fig, ax = plt.subplots(figsize=(8, 7))
    fig.colorbar(ax.imshow(weights, cmap="viridis", vmin=0), ax=ax, shrink=0.8, label="attention weight")
    labels = ["\u2423" if c == " " else repr(c)[1:-1] for c in snippet]        # a space shown as a box
    ax.set_xticks(range(len(snippet)), labels, fontsize=7, family="monospace")
    ax.set_yticks(range(len(snippet)), labels, fontsize=7, family="monospace")
    ax.set(title=f"attention of block {layer}, head {head}: row = query position, column = key",
           xlabel="key (attended-to character)", ylabel="query (predicting the next character)")
    fig.tight_layout()
    fig.savefig(prefix + "_attention.png", dpi=100)
    plt.close(fig)
    return [prefix + "_curves.png", prefix + "_attention.png"]


# ------------------------------------------------------------------- arguments
def parse_args(argv=None):
    class Formatter(argparse.RawDescriptionHelpFormatter):
        """The module docstring as written, and each option's default (when it has one)."""

        def _get_help_string(self, action):
            shown = action.default not in (None, False, argparse.SUPPRESS)
            return action.help + (" (default: %(default)s)" if shown else "")

    p = argparse.ArgumentParser(description=__doc__, formatter_class=Formatter)
    p.add_argument("--model", choices=["gpt", "lstm"], default="gpt",
                   help="the Transformer, or a character LSTM (--n-embd hidden units, --n-layer layers)")
    p.add_argument("--n-layer", type=positive_int, default=4, help="Transformer blocks (LSTM layers)")
    p.add_argument("--n-head", type=positive_int, default=4, help="attention heads per block; must divide --n-embd")
    p.add_argument("--n-embd", type=positive_int, default=128, help="embedding width C (LSTM hidden size)")
    p.add_argument("--block-size", type=positive_int, default=64, help="context length T, in characters")
    p.add_argument("--batch-size", type=positive_int, default=32, help="sequences per step")
    p.add_argument("--iters", type=positive_int, default=1600, help="training steps")
    p.add_argument("--lr", type=positive_float, default=3e-3, help="peak learning rate (cosine-decayed to lr / 10)")
    p.add_argument("--warmup", type=nonnegative_int, default=100, help="steps of linear learning-rate warm-up")
    p.add_argument("--weight-decay", type=nonnegative_float, default=0.1,
                   help="AdamW's decoupled weight decay on matrices")
    p.add_argument("--dropout", type=fraction, default=0.0,
                   help="dropout probability (attention weights, residual branches)")
    p.add_argument("--gelu", choices=["exact", "tanh"], default="exact",
                   help="the MLP's GELU: the exact erf form (PyTorch's default), or GPT-2's tanh approximation")
    p.add_argument("--seed", type=nonnegative_int, default=1337, help="seeds the initial weights, batches and samples")
    p.add_argument("--eval-interval", type=positive_int, default=250, help="steps between validation estimates")
    p.add_argument("--eval-batches", type=positive_int, default=200,
                   help="validation batches of the final loss (a tenth of them during training)")
    p.add_argument("--sample-chars", type=nonnegative_int, default=500,
                   help="characters to generate at the end (0: none)")
    p.add_argument("--temperature", type=positive_float, default=0.8, help="sampling temperature")
    p.add_argument("--top-k", type=positive_int, help="sample among the k likeliest characters only (default: all)")
    p.add_argument("--data-dir", help="data folder (default: $MTORCH_DATA_DIR, else datasets/)")
    p.add_argument("--out", type=writable_dir, default="runs", help="folder for the checkpoint and the figures")
    p.add_argument("--no-plots", action="store_true", help="do not save the figures")
    p.add_argument("--quiet", action="store_true", help="print only the last line (the validation loss)")
    args = p.parse_args(argv)
    if args.model == "gpt" and args.n_embd % args.n_head:
        p.error(f"--n-embd ({args.n_embd}) must be divisible by --n-head ({args.n_head})")
    return args


def main(argv=None):
    """Train, sample, plot; returns the validation loss."""
    args = parse_args(argv)
    say = (lambda *a, **k: None) if args.quiet else print
    try:
        train_set = TinyShakespeare(args.data_dir, train=True, block_size=args.block_size)
        val_set = TinyShakespeare(args.data_dir, train=False, block_size=args.block_size)
    except (DatasetNotFoundError, ChecksumError, ValueError) as error:
        sys.exit(f"error: {error}")
    fixed = np.random.default_rng(0)                 # the same validation batches for every run
    val_batches = [val_set.get_batch(args.batch_size, fixed) for _ in range(args.eval_batches)]

    mtorch.manual_seed(args.seed)
    model = build_model(args, train_set.vocab_size)
    say(f"{train_set!r}; {args.model} with {sum(p.size for p in model.parameters()):,} parameters")
    start = time.perf_counter()
    train_losses, val_losses = train(model, train_set, val_batches, args)
    say(f"trained {args.iters} steps in {time.perf_counter() - start:.1f} s")
    val_loss = evaluate(model, val_batches)

    os.makedirs(args.out, exist_ok=True)
    prefix = os.path.join(args.out, f"shakespeare_{args.model}")
    mtorch.save({"model": model.state_dict(), "chars": np.array([ord(c) for c in train_set.chars]),
                 "args": vars(args)}, prefix + ".npz")
    say(f"checkpoint saved to {prefix}.npz")
    if not args.no_plots:
        snippet = val_set.decode(val_set.data[:min(40, model_context(model))])
        say("figures saved to", ", ".join(save_figures(prefix, model, val_set, train_losses, val_losses,
                                                        snippet, args)))
    if args.sample_chars:
        sample = generate(model, train_set, "\n", args.sample_chars, args.temperature, args.top_k,
                          np.random.default_rng(args.seed))
        say("-" * 30 + " sample " + "-" * 30 + sample + "\n" + "-" * 68)
    print(f"val loss: {val_loss:.4f}")
    return val_loss


if __name__ == "__main__":
    main()
