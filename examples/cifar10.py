"""Classify CIFAR-10's 32x32 colour photos (planes, cars, birds, ...) with an MLP or a small CNN.

    python examples/cifar10.py                    # MLP, 20 epochs
    python examples/cifar10.py --model cnn        # three conv blocks with batch norm, 10 epochs
    python examples/cifar10.py --model cnn --resume runs/cifar10_cnn.npz --epochs 15

The data is the binary version of CIFAR-10 (``cifar-10-batches-bin/``), read from
``--data-dir``, else ``$MTORCH_DATA_DIR``, else the repository's ``datasets/``
folder, and downloaded there if missing (163 MB, MD5-checked). Images stay uint8
in memory; each batch is scaled to float32 and normalised as it is drawn.

The same options, output and helpers as ``MNIST_recognition.py``: one line per
epoch (``--quiet``: only the last line), and in ``--out`` (default ``runs/``,
checked writable before anything starts) ``cifar10_<model>.npz`` (checkpoint
after every epoch) and, unless ``--no-plots``, ``cifar10_<model>_curves.png``,
``_misclassified.png`` and ``_confusion.png`` (with ``--inspect`` also
``_activations.png`` and ``_gradient_flow.png``). The last line printed is
``test accuracy: <fraction>``.
"""
from MNIST_recognition import load_datasets, parse_args, train  # first: it sets the BLAS threads

import mtorch
from mtorch import Module, Sequential, layers
from mtorch.datasets import CIFAR10


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


MODELS = {"mlp": CifarMLP, "cnn": CifarCNN}
DEFAULT_EPOCHS = {"mlp": 20, "cnn": 10}


def main(argv=None):
    args = parse_args(argv, __doc__, MODELS, {"cifar10": CIFAR10}, DEFAULT_EPOCHS, recipes={})
    mtorch.manual_seed(args.seed)
    transform = CIFAR10.standard_transform()                 # uint8 (N, 3, 32, 32) -> float32, mean 0, std 1
    train_set, test_set = load_datasets(CIFAR10, args.data_dir, transform)
    return train(args, MODELS[args.model](), train_set, test_set, name=f"cifar10_{args.model}")


if __name__ == "__main__":
    main()
