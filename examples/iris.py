"""Iris with mtorch: a small MLP, or a linear SVM built from the same layers.

The SVM is one ``Linear`` layer (a score per class, ``s = x W^T + b``) trained
with the multi-class hinge loss ``MultiMarginLoss`` plus an L2 penalty on ``W``
(the optimizer's ``weight_decay``): the classic linear SVM objective
``mean hinge(s, y) + weight_decay / 2 * ||W||^2``, minimised by gradient descent.

    python examples/iris.py --model svm
    python examples/iris.py --model mlp --epochs 200

30% of the flowers, stratified by species, are held out for testing; the
features are standardised with the training set's mean and deviation. The
figure shows the loss curves and the decision regions of the same model
trained on petal length and petal width only (two features can be drawn).

Prints the losses five times during training (nothing but the last line with
``--quiet``) and writes to ``--out`` (default ``runs/``, checked writable
before training starts) ``iris_<model>.npz`` (the trained weights) and, unless
``--no-plots``, ``iris_<model>.png``. The last line printed is
``test accuracy: <fraction>``.
"""
import argparse
import os
import sys
import time

import numpy as np

import mtorch
from mtorch import Module, Sequential, layers
from mtorch.data import DataLoader, TensorDataset, stratified_split
from mtorch.datasets import DatasetNotFoundError, Iris
from mtorch.loss import CrossEntropyLoss, MultiMarginLoss
from mtorch.optim import SGD
from mtorch.utils import nonnegative_float, nonnegative_int, positive_float, positive_int, writable_dir

PLOT_FEATURES = (2, 3)          # petal length, petal width: the two most telling features


class IrisMLP(Module):
    def __init__(self, in_features=4, classes=3, hidden=16):
        super().__init__(Sequential([
            layers.Linear(in_features, hidden), layers.ReLU(),
            layers.Linear(hidden, classes),
        ]))


class LinearSVM(Module):
    def __init__(self, in_features=4, classes=3):
        super().__init__(Sequential([layers.Linear(in_features, classes)]))


DEFAULTS = {  # epochs, learning rate, weight decay
    "mlp": dict(epochs=100, lr=0.05, weight_decay=0.0),
    "svm": dict(epochs=100, lr=0.05, weight_decay=1e-3),
}


def build(kind, in_features, lr, weight_decay):
    """The model, its loss and its optimizer. The SVM's bias is not decayed, as in a textbook SVM."""
    if kind == "svm":
        module = LinearSVM(in_features)
        loss_func = MultiMarginLoss(backward_func=module.backward)
        linear = module.sequential[0]
        optimizer = SGD([{"params": [linear.weight], "weight_decay": weight_decay},
                         {"params": [linear.bias], "weight_decay": 0.0}], lr=lr, momentum=0.9)
    else:
        module = IrisMLP(in_features)
        loss_func = CrossEntropyLoss(backward_func=module.backward)
        optimizer = SGD(module, lr=lr, momentum=0.9, weight_decay=weight_decay)
    return module, loss_func, optimizer


def accuracy(module, x, y):
    module.eval()
    correct = np.mean(np.argmax(module(x), axis=1) == y)
    module.train()
    return float(correct)


def train(kind, x_train, y_train, x_test, y_test, epochs, lr, weight_decay, log_every=0):
    """Train one model; returns it and the per-epoch (train loss, test loss, test accuracy)."""
    module, loss_func, optimizer = build(kind, x_train.shape[1], lr, weight_decay)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=16, shuffle=True)
    history = []
    for epoch in range(1, epochs + 1):
        losses = []
        for x, y in loader:
            loss = loss_func(module(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.value)
        module.eval()
        test_loss = loss_func(module(x_test), y_test).value
        module.train()
        history.append((np.mean(losses), test_loss, accuracy(module, x_test, y_test)))
        if log_every and (epoch % log_every == 0 or epoch == epochs):
            print(f"epoch {epoch:4d}/{epochs}  train loss {history[-1][0]:.4f}  "
                  f"test loss {test_loss:.4f}  test acc {history[-1][2]:.4f}")
    return module, np.array(history)


def standardise(x_train, x_test):
    """Subtract the training mean, divide by the training standard deviation (both parts)."""
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    return (x_train - mean) / std, (x_test - mean) / std, mean, std


def plot(kind, iris, train_idx, test_idx, history, args, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    # The same model, trained on the two plotted features only.
    f = list(PLOT_FEATURES)
    x2_train, x2_test, mean, std = standardise(iris.features[train_idx][:, f], iris.features[test_idx][:, f])
    y_train, y_test = iris.labels[train_idx], iris.labels[test_idx]
    mtorch.manual_seed(args.seed)
    module2, history2 = train(kind, x2_train, y_train, x2_test, y_test, args.epochs, args.lr, args.weight_decay)

    lo = iris.features[:, f].min(axis=0) - 0.5
    hi = iris.features[:, f].max(axis=0) + 0.5
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], 400), np.linspace(lo[1], hi[1], 400))
    grid = (np.stack([g0.ravel(), g1.ravel()], axis=1).astype(np.float32) - mean) / std
    module2.eval()
    regions = np.argmax(module2(grid), axis=1).reshape(g0.shape)

    colours = ["#1f77b4", "#ff7f0e", "#2ca02c"]
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(13, 5.2))
    ax0.contourf(g0, g1, regions, levels=[-0.5, 0.5, 1.5, 2.5], cmap=ListedColormap(colours), alpha=0.25)
    for c, name in enumerate(iris.class_names):
        for idx, marker, part in ((train_idx, "o", "train"), (test_idx, "x", "test")):
            pts = iris.features[idx][iris.labels[idx] == c][:, f]
            ax0.scatter(pts[:, 0], pts[:, 1], c=colours[c], marker=marker, s=28,
                        edgecolors="k" if marker == "o" else None, linewidths=0.5, label=f"{name} ({part})")
    ax0.set_xlabel(iris.feature_names[f[0]])
    ax0.set_ylabel(iris.feature_names[f[1]])
    ax0.set_title(f"{kind.upper()} decision regions, trained on these 2 features only\n"
                  f"(2-feature test accuracy {history2[-1, 2]:.3f})")
    ax0.legend(fontsize=7, ncol=2, loc="upper left")

    epochs = np.arange(1, len(history) + 1)
    loss_name = "multi-class hinge loss (without the L2 term)" if kind == "svm" else "cross-entropy"
    ax1.plot(epochs, history[:, 0], label="train loss (mean over batches)")
    ax1.plot(epochs, history[:, 1], label="test loss")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel(loss_name)
    ax1.set_yscale("log")
    ax1.grid(True, alpha=0.3)
    ax2 = ax1.twinx()
    ax2.plot(epochs, history[:, 2], color="tab:green", alpha=0.6, label="test accuracy")
    ax2.set_ylabel("test accuracy")
    ax2.set_ylim(0, 1.02)
    lines = ax1.get_lines() + ax2.get_lines()
    ax1.legend(lines, [line.get_label() for line in lines], loc="center right")
    ax1.set_title(f"{kind.upper()} on all 4 features: final test accuracy {history[-1, 2]:.3f}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=["mlp", "svm"], default="mlp",
                        help="mlp: 4 -> 16 -> 3 with ReLU and cross-entropy; svm: one Linear layer "
                             "with the multi-class hinge loss and L2 weight decay")
    parser.add_argument("--epochs", type=positive_int, default=None, help="default: 100")
    parser.add_argument("--lr", type=positive_float, default=None, help="default: 0.05")
    parser.add_argument("--weight-decay", type=nonnegative_float, default=None,
                        help="L2 penalty on the weights (default: 1e-3 for svm, 0 for mlp)")
    parser.add_argument("--seed", type=nonnegative_int, default=0,
                        help="seeds the split, the weights and the batch order")
    parser.add_argument("--data-dir", default=None, help="data root holding iris/iris.csv "
                        "(default: $MTORCH_DATA_DIR, else datasets/)")
    parser.add_argument("--out", type=writable_dir, default="runs", help="folder for the figure and the weights")
    parser.add_argument("--no-plots", action="store_true", help="do not save the figure")
    parser.add_argument("--quiet", action="store_true", help="print only the last line (the test accuracy)")
    args = parser.parse_args(argv)
    for key, value in DEFAULTS[args.model].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main(argv=None):
    args = parse_args(argv)
    log = (lambda *a: None) if args.quiet else print
    start = time.perf_counter()
    try:
        iris = Iris(args.data_dir)
    except (DatasetNotFoundError, ValueError) as error:
        sys.exit(f"error: {error}")
    train_idx, test_idx = stratified_split(iris.labels, 0.3, seed=args.seed)
    x_train, x_test, _, _ = standardise(iris.features[train_idx], iris.features[test_idx])
    y_train, y_test = iris.labels[train_idx], iris.labels[test_idx]
    log(f"Iris: {len(train_idx)} training and {len(test_idx)} test flowers, model {args.model}, "
        f"{args.epochs} epochs, lr {args.lr}, weight decay {args.weight_decay}")

    mtorch.manual_seed(args.seed)
    module, history = train(args.model, x_train, y_train, x_test, y_test, args.epochs, args.lr,
                            args.weight_decay, log_every=0 if args.quiet else max(args.epochs // 5, 1))
    test_accuracy = accuracy(module, x_test, y_test)
    log(f"trained in {time.perf_counter() - start:.2f} s")

    os.makedirs(args.out, exist_ok=True)
    weights = os.path.join(args.out, f"iris_{args.model}.npz")
    mtorch.save(module.state_dict(), weights)
    log(f"weights saved to {weights}")
    if not args.no_plots:
        figure = os.path.join(args.out, f"iris_{args.model}.png")
        plot(args.model, iris, train_idx, test_idx, history, args, figure)
        log(f"figure saved to {figure}")
    print(f"test accuracy: {test_accuracy:.4f}")
    return test_accuracy


if __name__ == "__main__":
    main()
