"""Recognise handwritten digits (MNIST) or clothes (Fashion-MNIST) with a network trained by hand-written backprop.

    python examples/MNIST_recognition.py                      # MLP on MNIST: about 98.5% in 10 epochs
    python examples/MNIST_recognition.py --dataset fashion    # the same network on Fashion-MNIST
    python examples/MNIST_recognition.py --model cnn          # LeNet-style CNN: over 99% in 5 epochs
    python examples/MNIST_recognition.py --model resnet --dataset fashion   # residual CNN on clothes: 93% in 10 epochs
    python examples/MNIST_recognition.py --optimizer sgd --epochs 15
    python examples/MNIST_recognition.py --resume runs/mnist_mlp.npz --epochs 15
    python examples/MNIST_recognition.py --quiet > log.txt    # prints only the last line

The data is read from ``--data-dir``, else ``$MTORCH_DATA_DIR``, else the
repository's ``datasets/`` folder, and downloaded there if missing. Images stay
uint8 in memory; each batch is scaled to float32 and normalised as it is drawn.

Prints one line per epoch (on a terminal, a progress bar runs during the
epoch; redirected to a file, only the lines are written). Writes to ``--out``
(default ``runs/``, checked writable before anything starts), for
``<name> = <dataset>_<model>``: ``<name>.npz`` (checkpoint after every epoch:
weights, optimizer, schedule, random state, history;
``mtorch.load(path)["model"]`` is the state dict), and unless ``--no-plots``
``<name>_curves.png``, ``<name>_misclassified.png`` and ``<name>_confusion.png``.
With ``--inspect`` also ``<name>_activations.png`` (a histogram of every layer's
output on test images) and ``<name>_gradient_flow.png`` (each layer's gradient
norms during training), both recorded with layer hooks (``mtorch.plot``).
The last line printed is ``test accuracy: <fraction>``.
"""
import argparse
import math
import os
import sys
import time

# One BLAS thread unless you say otherwise (set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS yourself):
# a batch's matrices are small, so more threads gain little, and on a busy machine
# they wait for each other and a step can take ten times longer.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # after the thread settings: numpy's BLAS reads them when it loads

import mtorch
from mtorch import Module, Sequential, layers
from mtorch.data import DataLoader
from mtorch.datasets import MNIST, ChecksumError, DatasetNotFoundError, FashionMNIST
from mtorch.errors import CheckpointError, StateDictError
from mtorch.loss import CrossEntropyLoss
from mtorch.optim import SGD, Adam
from mtorch.optim.lr_scheduler import CosineAnnealingLR
from mtorch.plot import (ActivationRecorder, GradientFlowRecorder, plot_activation_histograms,
                         plot_confusion_matrix, plot_gradient_flow, plot_image_grid)
from mtorch.utils import (History, evaluate, load_checkpoint, fraction, nonnegative_int, positive_float,
                          positive_int, progress, save_checkpoint, writable_dir)


class DigitModule(Module):
    """A multi-layer perceptron: 784 pixels -> 512 -> 256 -> 10 class scores (logits)."""

    def __init__(self):
        super().__init__(Sequential([
            layers.Linear(784, 512), layers.ReLU(), layers.Dropout(0.2),
            layers.Linear(512, 256), layers.ReLU(), layers.Dropout(0.2),
            layers.Linear(256, 10),
        ]))


class DigitCNN(Module):
    """A LeNet-style convolutional network: two blocks of 5x5 convolution, batch norm, ReLU and
    2x2 max pooling (1x28x28 -> 16x14x14 -> 32x5x5), then 800 -> 128 -> 10."""

    def __init__(self):
        super().__init__(Sequential([
            layers.Reshape((1, 28, 28)),
            layers.Conv2d(1, 16, 5, padding=2, bias=False), layers.BatchNorm2d(16), layers.ReLU(),
            layers.MaxPool2d(2),
            layers.Conv2d(16, 32, 5, bias=False), layers.BatchNorm2d(32), layers.ReLU(),
            layers.MaxPool2d(2),
            layers.Flatten(),
            layers.Linear(800, 128), layers.ReLU(), layers.Dropout(0.3),
            layers.Linear(128, 10),
        ]))


def conv_bn(in_channels, out_channels, stride=1):
    """3x3 convolution (no bias: batch norm follows) and batch norm."""
    return [layers.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            layers.BatchNorm2d(out_channels)]


def residual_block(in_channels, out_channels, stride=1):
    """``relu(body(x) + shortcut(x))``: body = conv-bn-relu-conv-bn; the shortcut is the identity, or a
    strided 1x1 convolution with batch norm where the block halves the image and widens the channels."""
    body = Sequential(conv_bn(in_channels, out_channels, stride) + [layers.ReLU()]
                      + conv_bn(out_channels, out_channels))
    shortcut = None
    if stride != 1 or in_channels != out_channels:
        shortcut = Sequential([layers.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                               layers.BatchNorm2d(out_channels)])
    return [layers.Residual(body, shortcut), layers.ReLU()]


class DigitResNet(Module):
    """A small residual network: a 3x3 stem (16 channels at 28x28), three residual blocks that each
    halve the image and widen the channels (32 at 14x14, 64 at 7x7, 128 at 4x4), global average
    pooling and a linear classifier."""

    def __init__(self, stem=16, widths=(32, 64, 128)):
        net = [layers.Reshape((1, 28, 28))] + conv_bn(1, stem) + [layers.ReLU()]
        for previous, width in zip((stem,) + widths, widths):
            net += residual_block(previous, width, stride=2)
        net += [layers.AdaptiveAvgPool2d(1), layers.Flatten(), layers.Linear(widths[-1], 10)]
        super().__init__(Sequential(net))


# Every model takes flattened images (N, 784) and returns logits (N, 10).
MODELS = {"mlp": DigitModule, "cnn": DigitCNN, "resnet": DigitResNet}
DEFAULT_EPOCHS = {"mlp": 10, "cnn": 5, "resnet": 10}
DATASETS = {"mnist": MNIST, "fashion": FashionMNIST}
DEFAULT_LR = {"adam": 1e-3, "sgd": 0.05}
# Where a (model, dataset) trains with other defaults: the residual network takes Adam at 2e-3 and
# label smoothing 0.1, and on clothes a random half of each batch mirrored (a mirrored digit is no digit).
RECIPES = {("resnet", "mnist"): {"lr": {"adam": 2e-3}, "label_smoothing": 0.1},
           ("resnet", "fashion"): {"lr": {"adam": 2e-3}, "label_smoothing": 0.1, "flip": True}}


def main(argv=None):
    args = parse_args(argv)
    mtorch.manual_seed(args.seed)
    dataset = DATASETS[args.dataset]
    transform = dataset.standard_transform(flatten=True)     # uint8 (N, 28, 28) -> float32 (N, 784)
    train_set, test_set = load_datasets(dataset, args.data_dir, transform)
    return train(args, MODELS[args.model](), train_set, test_set, name=f"{args.dataset}_{args.model}")


def load_datasets(dataset, root, transform):
    """``(training set, test set)``; missing or damaged files end the script with the dataset's advice."""
    try:
        return dataset(root, train=True, transform=transform), dataset(root, train=False, transform=transform)
    except (DatasetNotFoundError, ChecksumError) as error:
        sys.exit(f"error: {error}")


def train(args, module, train_set, test_set, name):
    """Train ``module`` on ``train_set`` for ``args.epochs``, evaluating on ``test_set`` after each
    epoch; save checkpoints and figures as ``<args.out>/<name>*``. Returns the test accuracy.
    (``examples/cifar10.py`` trains with it too.)"""
    log = (lambda *a: None) if args.quiet else print
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    loss_func = CrossEntropyLoss(backward_func=module.backward, label_smoothing=args.label_smoothing)
    if args.optimizer == "adam":
        optimizer = Adam(module, lr=args.lr)
    else:
        optimizer = SGD(module, lr=args.lr, momentum=0.9, nesterov=True)
    scheduler = CosineAnnealingLR(optimizer, T_max=args.epochs * len(train_loader))   # stepped per batch

    checkpoint_path = os.path.join(args.out, f"{name}.npz")
    history, first_epoch = History(), 0
    if args.resume:
        first_epoch = resume(args, module, optimizer, scheduler, history, len(train_loader))
        log(f"resumed from {args.resume} after epoch {first_epoch}")
    log(f"{name}: {len(train_set)} training and {len(test_set)} test images; "
        f"{sum(p.size for p in module.parameters()):,} parameters; {args.optimizer}, lr {args.lr:g}")

    flow = GradientFlowRecorder(module, every=10) if args.inspect else None   # backward hooks on every layer
    predictions = None
    for epoch in range(first_epoch, args.epochs):
        start = time.perf_counter()
        module.train()
        loss_sum = correct = seen = 0
        bar = progress(train_loader, desc=f"epoch {epoch + 1}/{args.epochs}", unit="batch", quiet=args.quiet)
        for imgs, targets in bar:
            if args.flip:
                imgs = mirror_half(imgs, train_set.images.shape[1:])
            logits = module(imgs)
            loss = loss_func(logits, targets)
            loss.backward()                    # module.backward(dL/dlogits): every layer adds to p.grad
            optimizer.step()                   # updates every Parameter from its grad, then clears it
            scheduler.step()
            loss_sum += loss.value * len(targets)
            correct += int((logits.argmax(axis=1) == targets).sum())
            seen += len(targets)
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.4f}", refresh=False)
        test_loss, logits = evaluate(module, test_set, loss_func, batch_size=250)
        predictions = logits.argmax(axis=1)
        history.add(train_loss=loss_sum / seen, train_acc=correct / seen, test_loss=test_loss,
                    test_acc=np.mean(predictions == test_set.labels))
        log(f"epoch {epoch + 1:2d}/{args.epochs}: train loss {history.last('train_loss'):.4f}, "
            f"train acc {history.last('train_acc'):.4f}, test loss {test_loss:.4f}, "
            f"test acc {history.last('test_acc'):.4f}, {time.perf_counter() - start:.1f} s")
        save_checkpoint(checkpoint_path, module, optimizer, scheduler, epoch=epoch + 1,
                        history=history.state_dict(),
                        config={"model": args.model, "dataset": args.dataset, "optimizer": args.optimizer})

    if predictions is None:
        predictions = evaluate(module, test_set, batch_size=250)[1].argmax(axis=1)
    log(f"weights saved to {checkpoint_path}")
    if not args.no_plots:
        save_figures(os.path.join(args.out, name), history, test_set, predictions, log)
    if args.inspect:
        save_inspection(os.path.join(args.out, name), module, flow, test_set, log)
    accuracy = float(np.mean(predictions == test_set.labels))
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


def mirror_half(imgs, image_shape):
    """Data augmentation: a random half of the batch mirrored left-right (a shirt mirrored is still a
    shirt; a mirrored digit is not a digit). ``imgs`` are the batch's rows, ``image_shape`` the
    shape of one image, width last."""
    images = imgs.reshape((len(imgs),) + image_shape).copy()
    chosen = mtorch.random.generator().random(len(images)) < 0.5
    images[chosen] = images[chosen, ..., ::-1]
    return images.reshape(imgs.shape)


# ------------------------------------------------------------------ checkpoints
def resume(args, module, optimizer, scheduler, history, batches_per_epoch):
    """Load a checkpoint into the model, optimizer, schedule and history; returns the epochs done.

    Training then goes on up to ``--epochs``. If that differs from the saved
    run's, the cosine schedule is re-planned as if the run had been started with
    the new ``--epochs``: ``lr = lr0 * (1 + cos(pi * step / total_steps)) / 2``.
    """
    try:
        checkpoint = mtorch.load(args.resume)
        config = checkpoint.get("config", {}) if isinstance(checkpoint, dict) else {}
        for key in ("model", "dataset", "optimizer"):
            if config.get(key) != getattr(args, key):
                sys.exit(f"error: --resume {args.resume}: the checkpoint was trained with --{key} "
                         f"{config.get(key)}, not {getattr(args, key)}")
        extra = load_checkpoint(checkpoint, module, optimizer, scheduler)
        history.load_state_dict(extra["history"])
    except (OSError, CheckpointError, StateDictError, KeyError) as error:
        sys.exit(f"error: --resume {args.resume}: {error}")
    total_steps = args.epochs * batches_per_epoch
    if scheduler.T_max != total_steps and scheduler.last_epoch < total_steps:
        scheduler.T_max = total_steps
        for group, lr0 in zip(optimizer.param_groups, scheduler.base_lrs):
            group["lr"] = lr0 * (1 + math.cos(math.pi * scheduler.last_epoch / total_steps)) / 2
    return extra["epoch"]


# ---------------------------------------------------------------------- figures
def save_figures(prefix, history, test_set, predictions, log=print):
    """Loss/accuracy curves, a grid of misclassified test images, and the confusion matrix."""
    if len(history):
        history.plot(f"{prefix}_curves.png")
    wrong = np.flatnonzero(predictions != test_set.labels)[:40]
    if wrong.size:
        fig = plot_image_grid(test_set.images[wrong], labels=test_set.labels[wrong],
                              predictions=predictions[wrong], class_names=short_names(test_set), ncols=8)
        fig.suptitle(f"{len(wrong)} of the {np.sum(predictions != test_set.labels)} misclassified "
                     "test images: predicted (true)")
        fig.savefig(f"{prefix}_misclassified.png", dpi=110)
    plot_confusion_matrix(test_set.labels, predictions, test_set.class_names, f"{prefix}_confusion.png")
    log(f"figures saved to {prefix}_{{curves,misclassified,confusion}}.png")


def save_inspection(prefix, module, flow, test_set, log=print):
    """Histograms of every layer's output on 512 test images (eval mode), and the gradient
    norms per layer that ``flow`` recorded at every 10th batch of training."""
    flow.remove()
    imgs, _ = next(iter(DataLoader(test_set, batch_size=512)))
    module.eval()
    with ActivationRecorder(module) as activations:          # forward hooks on every layer
        module(imgs)
    module.train()
    saved = [f"{prefix}_activations.png"]
    plot_activation_histograms(activations, saved[0])
    if flow.steps:
        saved.append(f"{prefix}_gradient_flow.png")
        plot_gradient_flow(flow, saved[1])
    log(f"inspection figures saved to {', '.join(saved)}")


def short_names(dataset):
    """Class names short enough for a title under a small image ("T-shirt/top" -> "T-shirt")."""
    return [name.split("/")[0] for name in dataset.class_names]


# ------------------------------------------------------------------- arguments
def parse_args(argv=None, description=__doc__, models=MODELS, datasets=DATASETS, default_epochs=DEFAULT_EPOCHS,
               recipes=RECIPES):
    """The command line of the image examples (``cifar10.py`` passes its own models, dataset, epochs
    and recipes). Every value is checked here, before any data is read: a bad one ends the script
    with a usage error. ``recipes[(model, dataset)]`` overrides the defaults of --lr (per optimizer),
    --label-smoothing (0) and --flip (off)."""
    def recipe_help(key, show=str):
        return "".join(f"; {m} on {d}: {show(r[key])}" for (m, d), r in recipes.items() if key in r)

    p = argparse.ArgumentParser(description=description.split("\n")[0])
    p.add_argument("--model", choices=list(models), default="mlp")
    p.add_argument("--dataset", choices=list(datasets), default=next(iter(datasets)))
    p.add_argument("--epochs", type=positive_int, default=None,
                   help=f"default: {', '.join(f'{k} {v}' for k, v in default_epochs.items())}")
    p.add_argument("--batch-size", type=positive_int, default=128)
    p.add_argument("--optimizer", choices=sorted(DEFAULT_LR), default="adam",
                   help="adam, or sgd with Nesterov momentum 0.9")
    p.add_argument("--lr", type=positive_float, default=None,
                   help="starting learning rate, annealed to 0 along a cosine "
                        f"(default: {', '.join(f'{k} {v:g}' for k, v in DEFAULT_LR.items())}"
                        f"{recipe_help('lr', lambda lrs: ', '.join(f'{k} {v:g}' for k, v in lrs.items()))})")
    p.add_argument("--label-smoothing", type=fraction, default=None,
                   help=f"cross-entropy's label smoothing, in [0, 1) (default: 0{recipe_help('label_smoothing')})")
    p.add_argument("--flip", action=argparse.BooleanOptionalAction, default=None,
                   help="mirror a random half of each training batch left-right (default: off"
                        f"{recipe_help('flip', lambda on: 'on' if on else 'off')})")
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.add_argument("--data-dir", default=None, help="data folder (default: $MTORCH_DATA_DIR, else datasets/)")
    p.add_argument("--out", type=writable_dir, default="runs", help="folder for the checkpoint and the figures")
    p.add_argument("--no-plots", action="store_true", help="do not save the figures")
    p.add_argument("--inspect", action="store_true",
                   help="also save activation histograms and per-layer gradient norms (gradient flow)")
    p.add_argument("--resume", metavar="PATH", help="continue training from a checkpoint saved by this script")
    p.add_argument("--quiet", action="store_true", help="print only the last line (the test accuracy)")
    args = p.parse_args(argv)
    if args.epochs is None:
        args.epochs = default_epochs[args.model]
    recipe = recipes.get((args.model, args.dataset), {})
    if args.lr is None:
        args.lr = recipe.get("lr", {}).get(args.optimizer, DEFAULT_LR[args.optimizer])
    if args.label_smoothing is None:
        args.label_smoothing = recipe.get("label_smoothing", 0.0)
    if args.flip is None:
        args.flip = recipe.get("flip", False)
    if args.resume and not os.path.isfile(args.resume):
        p.error(f"argument --resume: no file {args.resume!r}")
    return args


if __name__ == "__main__":
    main()
