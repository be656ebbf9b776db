"""The grading specs of the assignments in ``assignments/``: one ``GradingSpec`` per class.

    python -m mtorch.testing submissions/::LayerNorm --spec coursework/specs.py --json grades.json

Each spec names the class, its constructor arguments, the inputs it is
checked on, the reference it must agree with (mtorch's built-in layer: the
hidden solution) and the points of each check. Edit the points to your
course; a name ending in ``*`` shares its points among the checks it matches.
"""
import time

import numpy as np

import mtorch
from mtorch.testing import CheckResult
from mtorch.testing.grading import GradingSpec


def points(gradients=4, parameters=True, reference=True, extra=None):
    """The usual split: a working forward, float32 throughout, right gradients, the reference."""
    table = {"forward": 1, "dtype": 1, "input unchanged": 1, "backward shape": 1, "gradient of *": gradients,
             "backward uses latest forward": 1}
    if parameters:
        table.update({"shared weights add up": 1, "state_dict round trip": 1})
    if reference:
        table.update({"reference forward": 2, "reference gradients": 1})
    table.update(extra or {})
    return table


def causal_self_attention(state, x):
    """The reference of ``CausalSelfAttention``: softmax(mask(Q K^T / sqrt(E))) V, projected out."""
    e = x.shape[-1]
    q, k, v = np.split(x @ state["in_proj_weight"].T + state["in_proj_bias"], 3, axis=-1)
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(e)
    scores = np.where(np.tril(np.ones(scores.shape[-2:], dtype=bool)), scores, -np.inf)
    p = np.exp(scores - scores.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    return (p @ v) @ state["out_proj.weight"].T + state["out_proj.bias"]


def dropout_statistics(ctx):
    """On a large input of ones: about p of the entries zeroed, the mean kept at 1; eval is the identity."""
    layer, p = ctx.fresh().train(), 0.3
    x = np.ones((500, 200), dtype=np.float32)
    y = layer(x)
    zeroed, mean = float(np.mean(y == 0)), float(np.mean(y))
    problems = []
    if abs(zeroed - p) > 0.02:
        problems.append(f"{zeroed:.3f} of the entries are zero, expected about p = {p}")
    if abs(mean - 1) > 0.02:
        problems.append(f"the mean output for inputs of 1 is {mean:.3f}, expected 1: scale the kept "
                        f"entries by 1 / (1 - p)")
    if not np.array_equal(layer.eval()(x), x):
        problems.append("eval mode changes the input: dropout must be the identity there")
    numbers = {"zeroed": zeroed, "mean": mean}
    if problems:
        return CheckResult("dropout statistics", False, "; ".join(problems), numbers)
    return CheckResult("dropout statistics", True, f"{zeroed:.3f} zeroed (p = {p}), mean {mean:.3f}, "
                                                   f"identity in eval mode", numbers)


dropout_statistics.label = "dropout statistics"


def _best_time(layer, x, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        y = layer(x)
        layer.backward(np.ones_like(y))
        times.append(time.perf_counter() - start)
    return min(times)


def conv_speed(ctx, factor=20):
    """Forward + backward within ``factor`` times mtorch's own Conv2d on a batch of 16 images of 32 x 32."""
    built_in = mtorch.layers.Conv2d(*_CONV["args"], **_CONV["kwargs"])
    x = np.random.default_rng(0).standard_normal((16, built_in.in_channels, 32, 32)).astype(np.float32)
    mine, theirs = _best_time(ctx.fresh(), x), _best_time(built_in, x)
    ratio = mine / theirs
    numbers = {"seconds": mine, "built_in_seconds": theirs, "ratio": ratio}
    message = f"forward + backward {mine * 1e3:.1f} ms, mtorch's Conv2d {theirs * 1e3:.1f} ms ({ratio:.1f} x)"
    if ratio > factor:
        return CheckResult("speed", False, message + f": more than {factor} x slower; is there still a loop "
                                                     f"over samples or pixels?", numbers)
    return CheckResult("speed", True, message, numbers)


conv_speed.label = "speed"

_CONV = dict(args=(2, 3, 3), kwargs={"stride": 2, "padding": 1}, input_shapes=[(2, 2, 7, 7)],
             reference="mtorch.layers.Conv2d")

SPECS = {spec.name: spec for spec in [
    GradingSpec("Linear", args=(5, 3), input_shapes=[(4, 5)], reference="mtorch.layers.Linear",
                points=points(), title="Assignment 1: Linear"),
    GradingSpec("ReLU", input_shapes=[(4, 6)], reference="mtorch.layers.ReLU",
                points=points(gradients=3, parameters=False), title="Assignment 2: ReLU"),
    GradingSpec("SoftmaxCrossEntropy", input_shapes=[(6, 5)], reference="mtorch.loss.CrossEntropyLoss",
                points={"forward": 1, "dtype": 1, "input unchanged": 1, "gradient of input": 4,
                        "reference value": 2, "reference gradient": 1, "large inputs": 2},
                title="Assignment 3: softmax cross-entropy"),
    GradingSpec("Conv2dNaive", **_CONV, points=points(), title="Assignment 4a: Conv2d with loops"),
    GradingSpec("Conv2d", **_CONV, points=points(extra={"speed": 2}), checks=(conv_speed,),
                title="Assignment 4b: Conv2d, vectorised"),
    GradingSpec("MaxPool2d", args=(2,), input_shapes=[(2, 3, 6, 6)], reference="mtorch.layers.MaxPool2d",
                points=points(gradients=3, parameters=False), title="Assignment 5: MaxPool2d"),
    GradingSpec("BatchNorm1d", args=(4,), input_shapes=[(8, 4)], reference="mtorch.layers.BatchNorm1d",
                points=points(extra={"reference buffers": 1, "reference eval": 1}), title="Assignment 6: BatchNorm1d"),
    GradingSpec("Dropout", args=(0.3,), input_shapes=[(8, 10)], checks=(dropout_statistics,),
                points=points(gradients=2, parameters=False, reference=False,
                              extra={"dropout statistics": 3, "train/eval": 1}), title="Assignment 7: Dropout"),
    GradingSpec("RNN", args=(3, 5), input_shapes=[(6, 2, 3)], reference="mtorch.layers.RNN",
                points=points(gradients=5), options={"batch_axis": 1}, title="Assignment 8: RNN and BPTT"),
    GradingSpec("LSTM", args=(3, 4), input_shapes=[(5, 2, 3)], reference="mtorch.layers.LSTM",
                points=points(gradients=5), options={"batch_axis": 1}, title="Assignment 9: LSTM"),
    GradingSpec("LayerNorm", args=(8,), input_shapes=[(3, 4, 8)], reference="mtorch.layers.LayerNorm",
                points=points(), title="Assignment 10: LayerNorm"),
    GradingSpec("Embedding", args=(10, 4), inputs=lambda rng: (rng.integers(0, 10, (4, 6)),),
                reference="mtorch.layers.Embedding", points=points(gradients=3),
                title="Assignment 11: Embedding"),
    GradingSpec("CausalSelfAttention", args=(8,), input_shapes=[(2, 5, 8)], reference=causal_self_attention,
                points=points(gradients=5, reference=False, extra={"reference forward": 3}),
                title="Assignment 12: causal self-attention"),
]}
