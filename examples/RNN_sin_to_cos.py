"""Predict cos from sin with a recurrent network: RNN, LSTM or GRU, trained by backprop through time.

    python examples/RNN_sin_to_cos.py                  # LSTM, the defaults
    python examples/RNN_sin_to_cos.py --cell gru
    python examples/RNN_sin_to_cos.py --cell rnn --hidden 64 --epochs 40 --no-plots

Each sequence is a segment of a sine wave with a random phase (``--max-freq``
also randomises the frequency); the target at every step is the matching
cosine. The model reads the sine one step at a time and outputs a cosine
estimate at every step::

    x (N, T, 1) -> RNN/LSTM/GRU(1, hidden) -> (N, T, hidden) -> Linear(hidden, 1) -> (N, T, 1)

The test set has its own random phases, none of them seen in training. The
first ``--warmup`` steps of every sequence are left out of the loss and of
the test error: at the first step the network has seen only ``sin(phi)``,
which gives ``cos(phi)`` only up to its sign, so no model can be right there.

Shows a progress bar over the epochs on a terminal, a line per epoch when the
output goes to a file, nothing with ``--quiet``. Writes to ``--out`` (default
``runs/``, checked writable before training starts) ``RNN_sin_to_cos_<cell>.npz``
(the trained weights) and, unless ``--no-plots``, ``RNN_sin_to_cos_<cell>.png``
(three test sequences and the loss curves). The last line printed is
``test mse: <number>``.
"""
import argparse
import os
import time

import numpy as np

import mtorch
from mtorch import Module, Sequential, layers
from mtorch.data import DataLoader
from mtorch.datasets import SineWaves
from mtorch.loss import MSELoss
from mtorch.optim import Adam, clip_grad_norm
from mtorch.optim.lr_scheduler import CosineAnnealingLR
from mtorch.utils import (nonnegative_float, nonnegative_int, positive_float, positive_int, progress, shows_bars,
                          writable_dir)

CELLS = {"rnn": layers.RNN, "lstm": layers.LSTM, "gru": layers.GRU}
LEARNING_RATES = {"rnn": 5e-3, "lstm": 1e-2, "gru": 1e-2}   # the plain RNN is steadier at a smaller rate


class SinToCos(Module):
    def __init__(self, cell, hidden):
        super().__init__(Sequential([
            CELLS[cell](1, hidden, batch_first=True),     # (N, T, 1) -> (N, T, hidden)
            layers.Linear(hidden, 1),                     # applied at every step: (N, T, 1)
        ]))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cell", choices=sorted(CELLS), default="lstm")
    p.add_argument("--hidden", type=positive_int, default=32, help="hidden state size")
    p.add_argument("--seq-len", type=positive_int, default=50, help="time steps per sequence")
    p.add_argument("--dt", type=positive_float, default=0.1, help="time between steps")
    p.add_argument("--max-freq", type=positive_float, default=1.0,
                   help="angular frequencies are drawn from U(1, max-freq) (default 1: fixed)")
    p.add_argument("--warmup", type=nonnegative_int, default=5, help="first steps left out of loss and test error")
    p.add_argument("--train-size", type=positive_int, default=1024, help="training sequences")
    p.add_argument("--test-size", type=positive_int, default=256, help="held-out test sequences")
    p.add_argument("--batch-size", type=positive_int, default=32)
    p.add_argument("--epochs", type=positive_int, default=30)
    p.add_argument("--lr", type=positive_float, default=None,
                   help="Adam's learning rate, annealed to 0 along a cosine "
                        "(default: 5e-3 for rnn, 1e-2 for lstm and gru)")
    p.add_argument("--clip", type=nonnegative_float, default=1.0, help="clip the gradient norm to this (0: off)")
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.add_argument("--out", type=writable_dir, default="runs", help="folder for the weights and the figure")
    p.add_argument("--no-plots", action="store_true", help="do not save the figure")
    p.add_argument("--quiet", action="store_true", help="print only the last line (the test mse)")
    args = p.parse_args(argv)
    if args.lr is None:
        args.lr = LEARNING_RATES[args.cell]
    if not 0 <= args.warmup < args.seq_len:
        p.error(f"--warmup must be in [0, seq-len), got {args.warmup}")
    if args.max_freq < 1:
        p.error(f"--max-freq must be >= 1, got {args.max_freq}")
    return args


def masked_mse(pred, target, warmup):
    """MSE over the steps from ``warmup`` on; returns ``(value, dL/dpred)`` with zeros at the warm-up steps."""
    loss = MSELoss()(pred[:, warmup:], target[:, warmup:])
    grad = np.zeros_like(pred)
    grad[:, warmup:] = loss.grad
    return loss.value, grad


def evaluate(model, data, warmup):
    """The test MSE after the warm-up steps, and the predictions (all sequences in one batch)."""
    model.eval()
    pred = model(data.inputs)
    model.train()
    return masked_mse(pred, data.targets, warmup)[0], pred


def train(model, train_set, test_set, args):
    """Adam with cosine-annealed learning rate; returns per-epoch (train loss, test mse)."""
    optimizer = Adam(model, lr=args.lr)
    scheduler = CosineAnnealingLR(optimizer, T_max=args.epochs)
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    history = []
    bar = progress(range(1, args.epochs + 1), desc=f"{args.cell} epochs", unit="epoch", quiet=args.quiet)
    for epoch in bar:
        losses = []
        for x, y in loader:
            value, grad = masked_mse(model(x), y, args.warmup)
            model.backward(grad)               # backprop through time, stores every p.grad
            if args.clip > 0:
                clip_grad_norm(model, args.clip)
            optimizer.step()
            losses.append(value)
        scheduler.step()
        history.append((float(np.mean(losses)), evaluate(model, test_set, args.warmup)[0]))
        bar.set_postfix(train=f"{history[-1][0]:.2e}", test=f"{history[-1][1]:.2e}")
        if not args.quiet and not shows_bars():
            print(f"epoch {epoch:3d}/{args.epochs}: train loss {history[-1][0]:.3e}, test mse {history[-1][1]:.3e}")
    return history


def plot(test_set, pred, history, args, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_seq, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.5))
    t = np.arange(args.seq_len) * args.dt
    for k, color in zip(range(3), ("tab:blue", "tab:orange", "tab:green")):
        ax_seq.plot(t, test_set.inputs[k, :, 0], ":", color=color, alpha=0.6)
        ax_seq.plot(t, test_set.targets[k, :, 0], "-", color=color, lw=3, alpha=0.35)
        ax_seq.plot(t, pred[k, :, 0], "--", color=color)
    ax_seq.axvspan(-0.5 * args.dt, (args.warmup - 0.5) * args.dt, color="grey", alpha=0.15, label="warm-up")
    ax_seq.plot([], [], "k:", label="input sin")
    ax_seq.plot([], [], "k-", lw=3, alpha=0.35, label="true cos")
    ax_seq.plot([], [], "k--", label="predicted cos")
    ax_seq.set(title=f"{args.cell.upper()}: three held-out test sequences", xlabel="t", ylim=(-1.6, 1.6))
    ax_seq.legend(loc="upper center", ncol=4, fontsize=8)
    epochs = np.arange(1, len(history) + 1)
    ax_loss.semilogy(epochs, [h[0] for h in history], label="train loss")
    ax_loss.semilogy(epochs, [h[1] for h in history], label="test mse")
    ax_loss.set(title="mean squared error after the warm-up steps", xlabel="epoch")
    ax_loss.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    """Train, plot, print; returns the test MSE."""
    args = parse_args(argv)
    mtorch.manual_seed(args.seed)
    freq_range = (1.0, args.max_freq)
    train_set = SineWaves(args.train_size, args.seq_len, args.dt, freq_range, seed=args.seed)
    test_set = SineWaves(args.test_size, args.seq_len, args.dt, freq_range, seed=args.seed + 10_000)
    model = SinToCos(args.cell, args.hidden)
    log = (lambda *a: None) if args.quiet else print
    log(f"model: {model.sequential[0]!r} + {model.sequential[1]!r}, "
        f"{sum(p.size for p in model.parameters())} parameters")
    log(f"train: {train_set!r}; test: {len(test_set)} sequences with other phases")

    start = time.perf_counter()
    history = train(model, train_set, test_set, args)
    test_mse, pred = evaluate(model, test_set, args.warmup)
    log(f"trained in {time.perf_counter() - start:.1f} s")

    os.makedirs(args.out, exist_ok=True)
    weights = os.path.join(args.out, f"RNN_sin_to_cos_{args.cell}.npz")
    mtorch.save(model.state_dict(), weights)
    log(f"weights saved to {weights}")
    if not args.no_plots:
        path = os.path.join(args.out, f"RNN_sin_to_cos_{args.cell}.png")
        plot(test_set, pred, history, args, path)
        log(f"figure saved to {path}")
    print(f"test mse: {test_mse:.6g}")
    return test_mse


if __name__ == "__main__":
    main()
