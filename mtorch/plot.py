"""Seeing inside a network: recorders built on layer hooks, and matplotlib figures.

Recorders attach hooks to every leaf layer of a model and collect what passes
through::

    acts = ActivationRecorder(model)          # forward hooks: each layer's last output
    flow = GradientFlowRecorder(model)        # backward hooks: gradient norms per step
    ... train ...
    plot_activation_histograms(acts, "runs/activations.png")
    plot_gradient_flow(flow, "runs/gradient_flow.png")
    acts.remove(); flow.remove()              # or use them in a ``with`` block

Every ``plot_*`` function returns a ``matplotlib.figure.Figure`` and saves it
when ``path`` is given. Figures are made without ``pyplot``, so nothing needs
a display (no ``matplotlib.use("Agg")`` required); matplotlib is imported
only when a figure is drawn.
"""
import os

import numpy as np


def _leaf_layers(model):
    """``(name, layer)`` for each layer without sub-layers, named like ``'0 Linear'``."""
    return [(f"{name or 'model'} {type(layer).__name__}", layer) for name, layer in model.leaves()]


class _Recorder:
    """Hooks on every leaf layer; ``remove()`` (or leaving a ``with`` block) detaches them."""

    def __init__(self, model, register):
        leaves = _leaf_layers(model)
        self.layer_names = [name for name, _ in leaves]
        self._handles = [register(layer, name) for name, layer in leaves]

    def remove(self):
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


class ActivationRecorder(_Recorder):
    """Keeps each leaf layer's most recent output (a random sample of at most ``max_values`` entries).

    Attributes:
        activations: ``{layer name: 1-D float array}``, in forward order.
    """

    def __init__(self, model, max_values=20000, seed=0):
        self.activations = {}
        self.max_values = max_values
        self._rng = np.random.default_rng(seed)
        super().__init__(model, lambda layer, name: layer.register_forward_hook(
            lambda l, inp, out, name=name: self._record(name, out)))

    def _record(self, name, out):
        values = np.asarray(out).reshape(-1)
        if values.size > self.max_values:
            values = values[self._rng.choice(values.size, self.max_values, replace=False)]
        self.activations[name] = values.astype(np.float32)


class GradientFlowRecorder(_Recorder):
    """Records gradient norms at every ``every``-th backward pass, per leaf layer.

    Attributes:
        param_norms: ``{layer name: [‖dL/dparams‖, ...]}`` for layers with parameters
            (the norm over all of the layer's parameter gradients).
        input_norms: ``{layer name: [‖dL/d(input)‖, ...]}``: the signal passed further back.
        steps: the backward-pass counts at which the norms were taken.
    """

    def __init__(self, model, every=1):
        self.param_norms, self.input_norms, self.steps = {}, {}, []
        self.every, self._count = every, 0
        self._first = None
        super().__init__(model, lambda layer, name: layer.register_backward_hook(
            lambda l, grad_in, grad_out, name=name: self._record(name, l, grad_in)))

    def _record(self, name, layer, grad_in):
        if self._first is None or name == self._first:
            self._first = name
            self._count += 1
            if (self._count - 1) % self.every == 0:
                self.steps.append(self._count)
        if (self._count - 1) % self.every:
            return
        grads = [p.grad for p in layer.parameters() if p.grad is not None]
        if grads:
            self.param_norms.setdefault(name, []).append(float(np.sqrt(sum(np.sum(g * g) for g in grads))))
        if grad_in is not None:                # None: the layer's input is data (see Layer.input_grad)
            self.input_norms.setdefault(name, []).append(float(np.linalg.norm(grad_in)))


def _figure(nrows, ncols, width=4.0, height=3.0):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def _finish(fig, path):
    if path is not None:
        directory = os.path.dirname(os.fspath(path))
        if directory:
            os.makedirs(directory, exist_ok=True)
        fig.savefig(path, dpi=110)
    return fig


def plot_activation_histograms(activations, path=None, bins=60, ncols=4):
    """One histogram per layer of its recorded outputs, with mean, std and the fraction of zeros.

    ``activations`` is an ``ActivationRecorder`` or a dict ``{name: array}``.
    Dead ReLUs show as a tall bar at 0; saturated tanh/sigmoid as bars at the ends.
    """
    activations = getattr(activations, "activations", activations)
    if not activations:
        raise ValueError("plot_activation_histograms: nothing recorded (run a forward pass first)")
    ncols = min(ncols, len(activations))
    nrows = -(-len(activations) // ncols)
    fig, axes = _figure(nrows, ncols, 3.6, 2.6)
    for ax, (name, values) in zip(axes.flat, activations.items()):
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        ax.hist(values, bins=bins, color="tab:blue", alpha=0.85)
        ax.set_title(name, fontsize=9)
        ax.text(0.98, 0.95, f"mean {values.mean():.2g}\nstd {values.std():.2g}\nzeros {np.mean(values == 0):.0%}",
                transform=ax.transAxes, ha="right", va="top", fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in axes.flat[len(activations):]:
        ax.set_visible(False)
    fig.suptitle("activations per layer")
    return _finish(fig, path)


def plot_gradient_flow(recorder, path=None):
    """Gradient norms per layer over training: parameter gradients (left) and dL/d(input) (right).

    ``recorder`` is a ``GradientFlowRecorder``. Log scale: lines that fall
    towards the first layers mean vanishing gradients, rising ones exploding.
    """
    if not recorder.param_norms and not recorder.input_norms:
        raise ValueError("plot_gradient_flow: nothing recorded (run a backward pass through the model first)")
    from matplotlib import colormaps
    fig, axes = _figure(1, 2, 5.5, 3.6)
    names = [n for n in recorder.layer_names if n in recorder.param_norms or n in recorder.input_norms]
    palette = colormaps["viridis"](np.linspace(0, 0.9, max(len(names), 1)))
    colour = dict(zip(names, palette))
    panels = [(axes[0, 0], recorder.param_norms, "‖dL/d parameters‖ per layer"),
              (axes[0, 1], recorder.input_norms, "‖dL/d input‖ per layer")]
    for ax, norms, title in panels:
        for name in names:
            if name in norms:
                ax.plot(recorder.steps[:len(norms[name])], norms[name], label=name, color=colour[name],
                        linewidth=1.2)
        ax.set_yscale("log")
        ax.set_xlabel("backward pass")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        if norms:
            ax.legend(fontsize=7, loc="best", title="first layer dark", title_fontsize=7)
    return _finish(fig, path)


def plot_training_curves(curves, path=None, xlabel="epoch"):
    """One panel per metric: ``{"loss": {"train": [...], "test": [...]}, "accuracy": [...]}``.

    A metric maps to a list of values (one line) or to a dict of named lists
    (one line each, e.g. train and test).
    """
    from matplotlib.ticker import MaxNLocator
    if not curves:
        raise ValueError("plot_training_curves: no curves given")
    fig, axes = _figure(1, len(curves), 4.2, 3.2)
    for ax, (metric, lines) in zip(axes.flat, curves.items()):
        lines = lines if isinstance(lines, dict) else {metric: lines}
        for label, values in lines.items():
            ax.plot(np.arange(1, len(values) + 1), values, marker="o" if len(values) < 30 else None,
                    markersize=3, label=label)
        ax.set_title(metric)
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        if len(lines) > 1:
            ax.legend(fontsize=8)
    return _finish(fig, path)


def _as_images(images):
    images = np.asarray(images)
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"plot_image_grid: cannot make square images from rows of {images.shape[1]} values")
        return images.reshape(-1, side, side)
    if images.ndim == 4 and images.shape[1] in (1, 3) and images.shape[-1] not in (1, 3):
        images = images.transpose(0, 2, 3, 1)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4):
        raise ValueError(f"plot_image_grid: expected images (N, H, W), (N, C, H, W), (N, H, W, C) "
                         f"or flattened (N, H*W), got shape {images.shape}")
    return images


def plot_image_grid(images, labels=None, predictions=None, path=None, ncols=8, class_names=None, cmap="gray"):
    """A grid of images titled with their labels (and predictions: red when wrong).

    ``images``: (N, H, W), (N, 1, H, W), (N, 3, H, W), (N, H, W, 3) or flattened (N, H*W).
    """
    images = _as_images(images)
    n = len(images)
    if n == 0:
        raise ValueError("plot_image_grid: no images")
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = _figure(nrows, ncols, 1.3, 1.5)
    name = (lambda c: class_names[int(c)]) if class_names is not None else (lambda c: str(int(c)))
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        image = images[i].astype(np.float64)
        if image.ndim == 3:
            image = (image - image.min()) / max(image.max() - image.min(), 1e-12)
        ax.imshow(image, cmap=cmap if image.ndim == 2 else None)
        if predictions is not None and labels is not None:
            wrong = int(predictions[i]) != int(labels[i])
            ax.set_title(f"{name(predictions[i])}\n(true {name(labels[i])})", fontsize=8,
                         color="tab:red" if wrong else "black")
        elif labels is not None:
            ax.set_title(name(labels[i]), fontsize=8)
    return _finish(fig, path)


def plot_confusion_matrix(labels, predictions, class_names=None, path=None):
    """Counts of (true class, predicted class), each row coloured by its share of the true
    class's samples, on a power scale so that the few mistakes show too."""
    from matplotlib.colors import PowerNorm

    labels, predictions = np.asarray(labels), np.asarray(predictions)
    n = len(class_names) if class_names is not None else int(max(labels.max(), predictions.max())) + 1
    names = list(class_names) if class_names is not None else [str(c) for c in range(n)]
    counts = np.bincount(labels * n + predictions, minlength=n * n).reshape(n, n)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, axes = _figure(1, 1, 7.5, 6.5)
    ax = axes[0, 0]
    image = ax.imshow(share, cmap="Blues", norm=PowerNorm(0.3, vmin=0, vmax=1))
    for (i, j), count in np.ndenumerate(counts):
        if count:
            ax.text(j, i, str(count), ha="center", va="center", fontsize=8,
                    color="white" if share[i, j] > 0.3 else "black")
    ax.set_xticks(range(n), names, rotation=45, ha="right")
    ax.set_yticks(range(n), names)
    ax.set(xlabel="predicted", ylabel="true",
           title=f"confusion matrix: {np.trace(counts)} of {counts.sum()} right")
    fig.colorbar(image, ax=ax, label="share of the true class")
    return _finish(fig, path)
