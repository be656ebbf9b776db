"""What a training script does besides the training loop: evaluate in batches, keep the history.

::

    history = History()
    for epoch in range(epochs):
        ...                                             # the loop over the training batches
        test_loss, logits = evaluate(model, test_set, loss_func)
        history.add(test_loss=test_loss, test_acc=float((logits.argmax(1) == test_set.labels).mean()))
    history.plot("runs/curves.png")
"""
import numpy as np

from ..data import DataLoader


def evaluate(model, data, loss_func=None, batch_size=256):
    """Run ``model`` in eval mode over ``data`` in batches; returns ``(mean loss, outputs)``.

    Batches keep the layers' caches small (a CNN on 10,000 images at once
    would hold gigabytes of activations). The model's mode (train or eval) is
    restored afterwards.

    Args:
        model: a Layer/Module whose output's first axis is the batch.
        data: a dataset of ``(input, target)`` samples, or a DataLoader over one.
        loss_func: called as ``loss_func(outputs, targets)``, returning a loss
            result (with ``.value``) or a number: the mean over each batch.
            None: no loss (the first value returned is None).
        batch_size: samples per batch when ``data`` is a dataset.

    Returns:
        ``(loss, outputs)``: the mean loss over all samples (weighted by batch
        size) or None, and the outputs of all batches concatenated in order.
    """
    loader = data if isinstance(data, DataLoader) else DataLoader(data, batch_size=batch_size)
    was_training = model.training
    model.eval()
    total, count, outputs = 0.0, 0, []
    try:
        for batch in loader:
            if not isinstance(batch, (tuple, list)) or len(batch) != 2:
                raise TypeError(f"evaluate: data must give (input, target) pairs, got a batch of "
                                f"{type(batch).__name__}")
            inputs, targets = batch
            out = model(inputs)
            if loss_func is not None:
                loss = loss_func(out, targets)
                total += float(getattr(loss, "value", loss)) * len(out)
            count += len(out)
            outputs.append(out)
    finally:
        model.train(was_training)
    if not outputs:
        raise ValueError("evaluate: the data is empty")
    return (total / count if loss_func is not None else None), np.concatenate(outputs)


class History:
    """Metrics recorded once per epoch, by name: ``history.add(train_loss=0.31, test_acc=0.97)``.

    ``history["test_acc"]`` is the list of values; ``history.plot(path)`` draws
    one panel per metric with a curve per split, the split being what comes
    before the first underscore (``train_loss`` and ``test_loss`` share the
    panel "loss"). ``state_dict()`` / ``load_state_dict()`` put it in a checkpoint.
    """

    def __init__(self):
        self._values = {}

    def add(self, **values):
        """Append one value per metric (numbers)."""
        for name, value in values.items():
            self._values.setdefault(name, []).append(float(value))

    def __getitem__(self, name):
        return self._values[name]

    def __contains__(self, name):
        return name in self._values

    def __len__(self):
        """The number of epochs recorded (the longest list)."""
        return max((len(v) for v in self._values.values()), default=0)

    def last(self, name):
        return self._values[name][-1]

    def state_dict(self):
        return {name: list(values) for name, values in self._values.items()}

    def load_state_dict(self, state_dict):
        if not isinstance(state_dict, dict) or not all(
                isinstance(k, str) and isinstance(v, (list, tuple)) for k, v in state_dict.items()):
            raise ValueError(f"History.load_state_dict: expected a dict of lists of numbers, got {state_dict!r}")
        self._values = {name: [float(v) for v in values] for name, values in state_dict.items()}

    def plot(self, path=None, xlabel="epoch"):
        """The curves as a matplotlib Figure, saved to ``path`` when given (``mtorch.plot``)."""
        from ..plot import plot_training_curves

        panels = {}
        for name, values in self._values.items():
            split, _, metric = name.partition("_")
            panels.setdefault(metric or split, {})[split if metric else name] = values
        return plot_training_curves(panels, path, xlabel=xlabel)

    def __repr__(self):
        return f"History({', '.join(f'{k}: {len(v)}' for k, v in self._values.items())})"
