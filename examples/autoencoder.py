"""Compress MNIST digits to 32 numbers and back with a convolutional autoencoder.

    python examples/autoencoder.py                 # 5 epochs, the defaults
    python examples/autoencoder.py --latent 8 --epochs 3

The encoder halves the image twice with strided convolutions and squeezes
what is left into a code of ``--latent`` numbers; the decoder mirrors it,
doubling the image twice with transposed convolutions::

    (N, 28, 28) -> Conv2d 1->16, stride 2 -> (N, 16, 14, 14) -> Conv2d 16->32, stride 2 -> (N, 32, 7, 7)
                -> Linear 1568 -> latent                     (the code)
                -> Linear latent -> 1568 -> ConvTranspose2d 32->16 -> ConvTranspose2d 16->1 -> Sigmoid -> (N, 28, 28)

It learns without labels: the target is the input itself, pixels in [0, 1],
and the loss the mean squared error between them (``MSELoss``).

A progress bar per epoch on a terminal, a line per epoch when the output goes
to a file, nothing with ``--quiet``. Writes to ``--out`` (default ``runs/``,
checked writable before training starts) ``autoencoder.npz`` (checkpoint after
every epoch: weights, optimizer, history; ``mtorch.load(path)["model"]`` is
the state dict) and, unless ``--no-plots``, ``autoencoder_reconstructions.png``
(test images above their reconstructions) and ``autoencoder_curves.png``.
The last line printed is ``test mse: <number>``.
"""
from MNIST_recognition import load_datasets  # first: it sets the BLAS threads

import argparse
import os
import time

import numpy as np

import mtorch
from mtorch import Module, Sequential, layers
from mtorch.data import DataLoader
from mtorch.datasets import MNIST, Normalize
from mtorch.loss import MSELoss
from mtorch.optim import Adam
from mtorch.optim.lr_scheduler import CosineAnnealingLR
from mtorch.plot import plot_image_grid
from mtorch.utils import History, evaluate, nonnegative_int, positive_float, positive_int, progress, \
    save_checkpoint, writable_dir


class ConvAutoencoder(Module):
    """``decoder(encoder(x))``: images ``(N, 28, 28)`` in [0, 1] -> codes ``(N, latent)`` -> images."""

    def __init__(self, latent=32):
        super().__init__()
        self.encoder = Sequential([
            layers.Reshape((1, 28, 28)),
            layers.Conv2d(1, 16, 3, stride=2, padding=1), layers.ReLU(),        # (16, 14, 14)
            layers.Conv2d(16, 32, 3, stride=2, padding=1), layers.ReLU(),       # (32, 7, 7)
            layers.Flatten(),
            layers.Linear(32 * 7 * 7, latent),
        ])
        self.decoder = Sequential([
            layers.Linear(latent, 32 * 7 * 7), layers.ReLU(),
            layers.Reshape((32, 7, 7)),
            layers.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), layers.ReLU(),   # (16, 14, 14)
            layers.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1),                  # (1, 28, 28)
            layers.Sigmoid(),
            layers.Reshape((28, 28)),
        ])

    def forward(self, x):
        return self.decoder(self.encoder(x))

    def backward(self, grad_out):
        return self.encoder.backward(self.decoder.backward(grad_out))


def main(argv=None):
    """Train, evaluate, plot, print; returns the test MSE."""
    args = parse_args(argv)
    mtorch.manual_seed(args.seed)
    log = (lambda *a: None) if args.quiet else print
    train_set, test_set = load_datasets(MNIST, args.data_dir, Normalize())    # uint8 -> float32 in [0, 1]
    model = ConvAutoencoder(args.latent)
    loss_func = MSELoss(backward_func=model.backward)
    optimizer = Adam(model, lr=args.lr)
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    scheduler = CosineAnnealingLR(optimizer, T_max=args.epochs * len(loader))   # stepped per batch
    checkpoint_path = os.path.join(args.out, "autoencoder.npz")
    log(f"autoencoder: {len(train_set)} training and {len(test_set)} test images; code of {args.latent} numbers; "
        f"{sum(p.size for p in model.parameters()):,} parameters; adam, lr {args.lr:g}")

    history = History()
    for epoch in range(args.epochs):
        start = time.perf_counter()
        loss_sum = seen = 0
        bar = progress(loader, desc=f"epoch {epoch + 1}/{args.epochs}", unit="batch", quiet=args.quiet)
        for imgs, _ in bar:                        # the labels are not used
            loss = loss_func(model(imgs), imgs)    # the target is the input
            loss.backward()                        # model.backward(dL/d(reconstruction)): decoder, then encoder
            optimizer.step()
            scheduler.step()
            loss_sum += loss.value * len(imgs)
            seen += len(imgs)
            bar.set_postfix(mse=f"{loss_sum / seen:.4f}", refresh=False)
        test_mse, reconstructions = test(model, test_set)
        history.add(train_mse=loss_sum / seen, test_mse=test_mse)
        log(f"epoch {epoch + 1:2d}/{args.epochs}: train mse {loss_sum / seen:.5f}, test mse {test_mse:.5f}, "
            f"{time.perf_counter() - start:.1f} s")
        save_checkpoint(checkpoint_path, model, optimizer, scheduler, epoch=epoch + 1,
                        history=history.state_dict(), config={"latent": args.latent})
    log(f"weights saved to {checkpoint_path}")
    if not args.no_plots:
        prefix = os.path.join(args.out, "autoencoder")
        history.plot(f"{prefix}_curves.png")
        save_reconstructions(f"{prefix}_reconstructions.png", test_set, reconstructions, test_mse)
        log(f"figures saved to {prefix}_{{reconstructions,curves}}.png")
    print(f"test mse: {test_mse:.5f}")
    return test_mse


def test(model, test_set):
    """``(mean squared error, reconstructions)`` over the test set, in eval mode and in batches."""
    reconstructions = evaluate(model, test_set, batch_size=500)[1]
    originals = test_set.transform(test_set.images)
    return float(np.mean((reconstructions - originals) ** 2)), reconstructions


def save_reconstructions(path, test_set, reconstructions, test_mse):
    """Two rows: the first test image of each digit, and below each its reconstruction."""
    picks = [np.flatnonzero(test_set.labels == digit)[0] for digit in range(10) if digit in test_set.labels]
    images = np.concatenate([test_set.transform(test_set.images[picks]), reconstructions[picks]])
    fig = plot_image_grid(images, ncols=len(picks))
    fig.suptitle(f"test images (top) and their reconstructions (bottom); test mse {test_mse:.4f}")
    fig.savefig(path, dpi=110)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--latent", type=positive_int, default=32, help="numbers in the code (default 32)")
    p.add_argument("--epochs", type=positive_int, default=5)
    p.add_argument("--batch-size", type=positive_int, default=128)
    p.add_argument("--lr", type=positive_float, default=2e-3, help="Adam's starting learning rate, annealed to 0 "
                                                                   "along a cosine (default 2e-3)")
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.add_argument("--data-dir", default=None, help="data folder (default: $MTORCH_DATA_DIR, else datasets/)")
    p.add_argument("--out", type=writable_dir, default="runs", help="folder for the checkpoint and the figures")
    p.add_argument("--no-plots", action="store_true", help="do not save the figures")
    p.add_argument("--quiet", action="store_true", help="print only the last line (the test mse)")
    return p.parse_args(argv)


if __name__ == "__main__":
    main()
