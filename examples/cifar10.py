"""Classify CIFAR-10's 32x32 colour photos (planes, cars, birds, ...) with an MLP or a small CNN.

    python examples/cifar10.py                    # MLP, 20 epochs
    python examples/cifar10.py --model cnn        # three conv blocks with batch norm, 10 epochs
    python examples/cifar10.py --model cnn --resume runs/cifar10_cnn.npz --epochs 15

The data is the binary version of CIFAR-10 (``cifar-10-batches-bin/``), read from
``--data-dir``, else ``$MTORCH_DATA_DIR``, else the repository's ``datasets/``
folder, and downloaded there if missing (163 MB, MD5-checked). Images stay uint8
in memory; each batch is scaled to float32 and normalised as it is drawn.

The same conventions and helpers as ``MNIST_recognition.py``: writes to ``--out``
(default ``runs/``) ``cifar10_<model>.npz`` (checkpoint after every epoch) and,
unless ``--no-plots``, ``cifar10_<model>_curves.png``, ``_misclassified.png`` and
``_confusion.png`` (with ``--inspect`` also ``_activations.png`` and
``_gradient_flow.png``). The last line printed is ``test accuracy: <fraction>``.
"""
import argparse
import os
import time

from MNIST_recognition import (evaluate, resume, save_checkpoint, save_figures,  # sets BLAS threads first
                               save_inspection)

import numpy as np
from tqdm import tqdm

import mtorch
from mtorch import Module, Sequential, layers
from mtorch.data import DataLoader
from mtorch.datasets import CIFAR10
from mtorch.loss import CrossEntropyLoss
from mtorch.optim import SGD, Adam
from mtorch.optim.lr_scheduler import CosineAnnealingLR
from mtorch.plot import GradientFlowRecorder


class CifarMLP(Module):
    """A multi-layer perceptron: 3 x 32 x 32 = 3072 pixel values -> 512 -> 256 -> 10 logits."""

    def __init__(self):
        super().__init__(Sequential([
            layers.Flatten(),
            layers.Linear(3072, 512), layers.ReLU(), layers.Dropout(0.2),
            layers.Linear(512, 256), layers.ReLU(), layers.Dropout(0.2),
            layers.Linear(256, 10),
        ]))


def conv_block(in_channels, out_channels):
    """3x3 convolution (same size), batch norm, ReLU, then 2x2 max pooling: halves the height and width."""
    return [layers.Conv2d(in_channels, out_channels, 3, padding=1), layers.BatchNorm2d(out_channels),
            layers.ReLU(), layers.MaxPool2d(2)]


class CifarCNN(Module):
    """Three convolution blocks (32x32 -> 16x16 -> 8x8 -> 4x4 pixels, 32 -> 64 -> 128 channels),
    then two dense layers: (N, 3, 32, 32) -> (N, 10) logits."""

    def __init__(self):
        super().__init__(Sequential(
            conv_block(3, 32) + conv_block(32, 64) + conv_block(64, 128) + [
                layers.Flatten(),
                layers.Linear(128 * 4 * 4, 256), layers.ReLU(), layers.Dropout(0.3),
                layers.Linear(256, 10),
            ]))


EVAL_BATCH = 250          # test batches of 1000 would hold about 2 GB of the CNN's activations

MODELS = {"mlp": CifarMLP, "cnn": CifarCNN}
DEFAULT_EPOCHS = {"mlp": 20, "cnn": 10}
DEFAULT_LR = {"adam": 1e-3, "sgd": 0.05}


def main(argv=None):
    args = parse_args(argv)
    mtorch.manual_seed(args.seed)
    transform = CIFAR10.standard_transform()                 # uint8 (N, 3, 32, 32) -> float32, mean 0, std 1
    train_set = CIFAR10(args.data_dir, train=True, transform=transform)
    test_set = CIFAR10(args.data_dir, train=False, transform=transform)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)

    module = MODELS[args.model]()
    loss_func = CrossEntropyLoss(backward_func=module.backward)
    if args.optimizer == "adam":
        optimizer = Adam(module, lr=args.lr)
    else:
        optimizer = SGD(module, lr=args.lr, momentum=0.9, nesterov=True)
    scheduler = CosineAnnealingLR(optimizer, T_max=args.epochs * len(train_loader))   # stepped per batch

    name = f"cifar10_{args.model}"
    checkpoint_path = os.path.join(args.out, f"{name}.npz")
    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
    first_epoch = 0
    if args.resume:
        first_epoch, history = resume(args, module, optimizer, scheduler, len(train_loader))
    print(f"{name}: {len(train_set)} training and {len(test_set)} test images; "
          f"{sum(p.size for p in module.parameters()):,} parameters; {args.optimizer}, lr {args.lr:g}")

    flow = GradientFlowRecorder(module, every=10) if args.inspect else None   # backward hooks on every layer
    predictions = None
    for epoch in range(first_epoch, args.epochs):
        start = time.perf_counter()
        module.train()
        loss_sum = correct = seen = 0
        bar = tqdm(train_loader, desc=f"epoch {epoch + 1}/{args.epochs}", unit="batch", leave=False)
        for imgs, targets in bar:
            logits = module(imgs)
            loss = loss_func(logits, targets)
            loss.backward()                    # module.backward(dL/dlogits): every layer stores p.grad
            optimizer.step()                   # updates every Parameter from its grad
            scheduler.step()
            loss_sum += loss.value * len(targets)
            correct += int((logits.argmax(axis=1) == targets).sum())
            seen += len(targets)
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.4f}", refresh=False)
        test_loss, predictions = evaluate(module, loss_func, test_set, batch_size=EVAL_BATCH)
        for key, value in (("train_loss", loss_sum / seen), ("train_acc", correct / seen),
                           ("test_loss", test_loss), ("test_acc", np.mean(predictions == test_set.labels))):
            history[key].append(float(value))
        print(f"epoch {epoch + 1:2d}/{args.epochs}: train loss {history['train_loss'][-1]:.4f}, "
              f"train acc {history['train_acc'][-1]:.4f}, test loss {test_loss:.4f}, "
              f"test acc {history['test_acc'][-1]:.4f}, {time.perf_counter() - start:.1f} s")
        save_checkpoint(checkpoint_path, args, epoch + 1, module, optimizer, scheduler, history)

    if predictions is None:
        _, predictions = evaluate(module, loss_func, test_set, batch_size=EVAL_BATCH)
    print(f"weights saved to {checkpoint_path}")
    if not args.no_plots:
        save_figures(os.path.join(args.out, name), history, test_set, predictions)
    if args.inspect:
        save_inspection(os.path.join(args.out, name), module, flow, test_set)
    accuracy = float(np.mean(predictions == test_set.labels))
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=sorted(MODELS), default="mlp")
    p.add_argument("--epochs", type=int, default=None,
                   help=f"default: {', '.join(f'{k} {v}' for k, v in DEFAULT_EPOCHS.items())}")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--optimizer", choices=sorted(DEFAULT_LR), default="adam",
                   help="adam, or sgd with Nesterov momentum 0.9")
    p.add_argument("--lr", type=float, default=None,
                   help="starting learning rate, annealed to 0 along a cosine "
                        f"(default: {', '.join(f'{k} {v:g}' for k, v in DEFAULT_LR.items())})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None, help="data folder holding cifar-10-batches-bin/ "
                   "(default: $MTORCH_DATA_DIR, else datasets/)")
    p.add_argument("--out", default="runs", help="folder for the checkpoint and the figures")
    p.add_argument("--no-plots", action="store_true", help="do not save the figures")
    p.add_argument("--inspect", action="store_true",
                   help="also save activation histograms and per-layer gradient norms (gradient flow)")
    p.add_argument("--resume", metavar="PATH", help="continue training from a checkpoint saved by this script")
    args = p.parse_args(argv)
    if args.epochs is None:
        args.epochs = DEFAULT_EPOCHS[args.model]
    if args.epochs < 1 or args.batch_size < 1:
        p.error("--epochs and --batch-size must be at least 1")
    if args.lr is None:
        args.lr = DEFAULT_LR[args.optimizer]
    args.dataset = "cifar10"          # recorded in the checkpoint and checked by --resume
    return args


if __name__ == "__main__":
    main()
