"""Draw new MNIST digits from random noise with a DCGAN: a generator and a discriminator trained against each other.

    python examples/gan.py                                   # 4 epochs, the defaults
    python examples/MNIST_recognition.py --model cnn         # a digit classifier to judge the samples with
    python examples/gan.py --judge runs/mnist_cnn.npz

The generator turns a noise vector z into an image; the discriminator gives a
logit: real MNIST digit (1) or the generator's fake (0)::

    generator:      z (N, latent) -> Linear -> (N, 64, 7, 7) -> ConvTranspose2d 64->32 -> (N, 32, 14, 14)
                    -> ConvTranspose2d 32->1 -> Tanh -> (N, 1, 28, 28), pixels in [-1, 1]
    discriminator:  (N, 28, 28) -> Conv2d 1->32 -> (N, 32, 14, 14) -> Conv2d 32->64 -> (N, 64, 7, 7)
                    -> Linear -> (N, 1) logit

with batch norm after the generator's hidden layers (ReLU) and the
discriminator's second convolution (LeakyReLU), as in Radford et al.'s DCGAN.

Each batch trains the discriminator one step (``BCEWithLogitsLoss``: real
images towards 1, generated ones towards 0), then the generator one step
towards making the discriminator say 1. The generator's gradient comes
*through* the discriminator: the discriminator's backward returns
dL/d(fake image), and the generator's backward takes it from there (see
``train_step``).

A progress bar per epoch on a terminal, a line per epoch when the output goes
to a file, nothing with ``--quiet``. Writes to ``--out`` (default ``runs/``,
checked writable before training starts) ``gan.npz`` (after every epoch:
``mtorch.load(path)["model"]`` is the generator's state dict,
``["discriminator"]`` the discriminator's) and, unless ``--no-plots``,
``gan_epoch_<n>.png`` (64 samples from the same fixed noise after every
epoch) and ``gan_curves.png`` (both losses, and the discriminator's mean
probability of "real" for real and for generated images).

``--judge runs/mnist_cnn.npz`` classifies 1,000 new samples with the CNN that
``MNIST_recognition.py --model cnn`` trains: digits it is sure about, and all
ten of them, mean the generator draws recognisable digits of every kind (for
scale, the judge's mean on 1,000 real test digits is printed too). The last line printed is then ``judge: mean top-class probability <p>, <k> of 10
digits``; without ``--judge`` it is the last epoch's losses.
"""
from MNIST_recognition import DigitCNN, load_datasets  # first: it sets the BLAS threads

import argparse
import os
import sys
import time

import numpy as np

import mtorch
from mtorch import Module, Sequential, layers
from mtorch.data import DataLoader
from mtorch.datasets import MNIST, Normalize
from mtorch.errors import CheckpointError, StateDictError
from mtorch.functional import log_softmax, sigmoid
from mtorch.loss import BCEWithLogitsLoss
from mtorch.optim import Adam
from mtorch.plot import plot_image_grid
from mtorch.random import generator as random_generator
from mtorch.utils import History, load_checkpoint, nonnegative_int, positive_float, positive_int, progress, \
    save_checkpoint, writable_dir


class Generator(Module):
    """Noise ``(N, latent)`` -> images ``(N, 1, 28, 28)`` with pixels in [-1, 1]."""

    def __init__(self, latent=64):
        super().__init__(Sequential([
            layers.Linear(latent, 64 * 7 * 7, bias=False), layers.Reshape((64, 7, 7)),
            layers.BatchNorm2d(64), layers.ReLU(),
            layers.ConvTranspose2d(64, 32, 4, stride=2, padding=1, bias=False),        # (32, 14, 14)
            layers.BatchNorm2d(32), layers.ReLU(),
            layers.ConvTranspose2d(32, 1, 4, stride=2, padding=1),                     # (1, 28, 28)
            layers.Tanh(),
        ]))


class Discriminator(Module):
    """Images ``(N, 28, 28)`` or ``(N, 1, 28, 28)`` -> one logit each, ``(N, 1)``: > 0 says "real"."""

    def __init__(self):
        super().__init__(Sequential([
            layers.Reshape((1, 28, 28)),
            layers.Conv2d(1, 32, 4, stride=2, padding=1), layers.LeakyReLU(0.2),       # (32, 14, 14)
            layers.Conv2d(32, 64, 4, stride=2, padding=1, bias=False),                 # (64, 7, 7)
            layers.BatchNorm2d(64), layers.LeakyReLU(0.2),
            layers.Flatten(),
            layers.Linear(64 * 7 * 7, 1),
        ]))


def train_step(generator, discriminator, g_optimizer, d_optimizer, loss_func, real, z):
    """One step of each network on a batch of ``real`` images and a batch of noise ``z``.

    ``loss_func`` is a ``BCEWithLogitsLoss(backward_func=discriminator.backward)``.
    Returns the discriminator's and the generator's loss, and the discriminator's
    mean probability of "real" for the real and for the generated images.
    """
    real_label = np.ones((len(real), 1), np.float32)
    fake_label = np.zeros((len(z), 1), np.float32)
    fake = generator(z)

    # 1. The discriminator: real images towards 1, generated ones towards 0.
    d_optimizer.zero_grad()                    # Gradients add up until a step uses them, and step 2 of the
                                               # previous batch left some in the discriminator (those that told
                                               # the generator how to fool it). Clear them, as PyTorch's
                                               # d_optimizer.zero_grad(): this step must use only its own.
    real_logits = discriminator(real)
    d_loss_real = loss_func(real_logits, real_label)
    d_loss_real.backward()                     # adds dL/d(weights) for the real batch to the discriminator's grads
    fake_logits = discriminator(fake)
    d_loss_fake = loss_func(fake_logits, fake_label)
    d_loss_fake.backward()                     # adds those for the fake batch; it also returns dL/d(fake), which
                                               # we drop: this step trains the discriminator only (PyTorch's
                                               # fake.detach())
    d_optimizer.step()                         # uses the sum of both, then clears it

    # 2. The generator: make the (updated) discriminator say 1 on its images.
    g_loss = loss_func(discriminator(fake), real_label)
    grad_fake = g_loss.backward()              # the discriminator's backward returns dL/d(fake): fake was made by a
                                               # layer (the generator), so it gets a gradient; on data it would not.
                                               # It also adds to the discriminator's grads: cleared in step 1.
    generator.backward(grad_fake)              # the chain goes on through the generator, down to its weights
    g_optimizer.step()
    return (d_loss_real.value + d_loss_fake.value, g_loss.value,
            float(sigmoid(real_logits).mean()), float(sigmoid(fake_logits).mean()))


def noise(n, latent):
    """``n`` noise vectors z ~ N(0, 1), float32 ``(n, latent)``, from mtorch's seeded generator."""
    return random_generator().standard_normal((n, latent), dtype=np.float32)


def main(argv=None):
    """Train, save samples, judge (with ``--judge``), print; returns the last epoch's losses and
    probabilities (the names of ``gan_curves.png``), with ``judge_confidence`` and ``judge_classes`` when judged."""
    args = parse_args(argv)
    mtorch.manual_seed(args.seed)
    log = (lambda *a: None) if args.quiet else print
    judge = load_judge(args.judge) if args.judge else None       # a bad checkpoint stops us before training
    train_set, test_set = load_datasets(MNIST, args.data_dir, Normalize(0.5, 0.5))    # pixels in [-1, 1], as Tanh's
    generator, discriminator = Generator(args.latent), Discriminator()
    loss_func = BCEWithLogitsLoss(backward_func=discriminator.backward)
    g_optimizer = Adam(generator, lr=args.lr, betas=(0.5, 0.999))     # beta1 = 0.5: DCGAN's choice
    d_optimizer = Adam(discriminator, lr=args.lr, betas=(0.5, 0.999))
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    fixed_z = noise(64, args.latent)           # the same 64 points every epoch: watch them become digits
    checkpoint_path = os.path.join(args.out, "gan.npz")
    log(f"gan: {len(train_set)} training images; generator {sum(p.size for p in generator.parameters()):,} "
        f"and discriminator {sum(p.size for p in discriminator.parameters()):,} parameters; adam, lr {args.lr:g}")

    history = History()
    for epoch in range(args.epochs):
        start = time.perf_counter()
        sums, seen = np.zeros(4), 0
        bar = progress(loader, desc=f"epoch {epoch + 1}/{args.epochs}", unit="batch", quiet=args.quiet)
        for real, _ in bar:                    # the labels are not used
            z = noise(len(real), args.latent)
            stats = train_step(generator, discriminator, g_optimizer, d_optimizer, loss_func, real, z)
            sums += len(real) * np.array(stats)        # d_loss, g_loss, D(real), D(fake)
            seen += len(real)
            bar.set_postfix(d_loss=f"{sums[0] / seen:.3f}", g_loss=f"{sums[1] / seen:.3f}", refresh=False)
        d_loss, g_loss, real_score, fake_score = sums / seen
        history.add(discriminator_loss=d_loss, generator_loss=g_loss, real_probability=real_score,
                    fake_probability=fake_score)
        log(f"epoch {epoch + 1:2d}/{args.epochs}: discriminator loss {d_loss:.4f}, generator loss {g_loss:.4f}, "
            f"D(real) {real_score:.3f}, D(fake) {fake_score:.3f}, {time.perf_counter() - start:.1f} s")
        save_checkpoint(checkpoint_path, generator, epoch=epoch + 1, discriminator=discriminator.state_dict(),
                        history=history.state_dict(), config={"latent": args.latent})
        if not args.no_plots:
            save_samples(os.path.join(args.out, f"gan_epoch_{epoch + 1}.png"), generator, fixed_z, epoch + 1)
    log(f"weights saved to {checkpoint_path}")
    if not args.no_plots:
        history.plot(os.path.join(args.out, "gan_curves.png"))
        log(f"figures saved to {os.path.join(args.out, 'gan_epoch_<n>.png')} and gan_curves.png")
    result = {name: values[-1] for name, values in history.state_dict().items()}
    if judge is None:
        print(f"last epoch: discriminator loss {d_loss:.4f}, generator loss {g_loss:.4f}")
        return result
    real_confidence, _ = judge_images(judge, test_set[:1000][0])
    log(f"the judge on {min(1000, len(test_set))} real test digits: mean top-class probability {real_confidence:.3f}")
    confidence, counts = judge_images(judge, sample(generator, 1000, args.latent))
    log("digits the judge sees in 1000 samples: " + ", ".join(f"{digit}: {n}" for digit, n in enumerate(counts)))
    print(f"judge: mean top-class probability {confidence:.3f}, {np.count_nonzero(counts)} of 10 digits")
    return {**result, "judge_confidence": confidence, "judge_classes": int(np.count_nonzero(counts))}


def save_samples(path, generator, z, epoch):
    """The generator's images for the noise ``z``, in eval mode (batch norm's running statistics)."""
    generator.eval()
    images = generator(z)
    generator.train()
    fig = plot_image_grid(images, ncols=8)
    fig.suptitle(f"generated after epoch {epoch}")
    fig.savefig(path, dpi=80)


# ---------------------------------------------------------------- the judge
def load_judge(path):
    """The ``DigitCNN`` saved by ``MNIST_recognition.py --model cnn`` (a checkpoint of another model ends
    the script with a message)."""
    judge = DigitCNN()
    try:
        load_checkpoint(path, judge, restore_rng=False)
    except (OSError, CheckpointError, StateDictError) as error:
        sys.exit(f"error: --judge {path}: {error} (train the judge with: "
                 f"python examples/MNIST_recognition.py --model cnn)")
    return judge.eval()


def sample(generator, n, latent, batch_size=250):
    """``n`` new images ``(n, 1, 28, 28)`` in [-1, 1], made in eval mode and in batches."""
    generator.eval()
    images = np.concatenate([generator(noise(min(batch_size, n - start), latent))
                             for start in range(0, n, batch_size)])
    generator.train()
    return images


def judge_images(judge, images, batch_size=250):
    """Classify images with pixels in [-1, 1]: ``(mean top-class probability, images per predicted digit)``."""
    pixels = (images.reshape(len(images), -1) + 1) / 2                          # (N, 784) in [0, 1]
    inputs = (pixels - MNIST.mean) / MNIST.std                                  # as the judge was trained
    logits = np.concatenate([judge(inputs[start:start + batch_size]) for start in range(0, len(inputs), batch_size)])
    probabilities = np.exp(log_softmax(logits, axis=1))
    return float(probabilities.max(axis=1).mean()), np.bincount(probabilities.argmax(axis=1), minlength=10)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--latent", type=positive_int, default=64, help="size of the noise vector z (default 64)")
    p.add_argument("--epochs", type=positive_int, default=4)
    p.add_argument("--batch-size", type=positive_int, default=64)
    p.add_argument("--lr", type=positive_float, default=2e-4, help="Adam's learning rate, both networks "
                                                                   "(default 2e-4)")
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.add_argument("--data-dir", default=None, help="data folder (default: $MTORCH_DATA_DIR, else datasets/)")
    p.add_argument("--out", type=writable_dir, default="runs", help="folder for the checkpoint and the figures")
    p.add_argument("--judge", metavar="PATH", help="a checkpoint of MNIST_recognition.py --model cnn: classify "
                                                   "1,000 samples with it after training")
    p.add_argument("--no-plots", action="store_true", help="do not save the figures")
    p.add_argument("--quiet", action="store_true", help="print only the last line")
    args = p.parse_args(argv)
    if args.judge and not os.path.isfile(args.judge):
        p.error(f"argument --judge: no file {args.judge!r}")
    return args


if __name__ == "__main__":
    main()
