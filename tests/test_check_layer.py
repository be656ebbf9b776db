"""mtorch.testing.check_layer: it passes every built-in layer, catches each common mistake
from docs/custom_layers.md, and the tutorial's code runs as written with the output it shows."""
import contextlib
import inspect
import io
import pathlib
import re
import runpy

import numpy as np
import pytest

import mtorch
from mtorch import Layer, Parameter, Sequential, layers
from mtorch.errors import LayerCheckError
from mtorch.testing import assert_layer_ok, check_layer

TUTORIAL = pathlib.Path(__file__).resolve().parent.parent / "docs" / "custom_layers.md"

# --------------------------------------------------------------- the tutorial


def _run_tutorial():
    """Execute the tutorial's python blocks in order; pair each text block with the output before it."""
    text = TUTORIAL.read_text(encoding="utf-8")
    namespace, pairs, output = {"__name__": "tutorial"}, [], None
    for kind, body in re.findall(r"```(python|text)\n(.*?)```", text, re.S):
        if kind == "python":
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(body, str(TUTORIAL), "exec"), namespace)
            output = buffer.getvalue()
        else:
            pairs.append((body, output))
    return namespace, pairs


@pytest.fixture(scope="module")
def tutorial():
    mtorch.manual_seed(0)
    return _run_tutorial()


def _report_lines(text):
    """The mark and name of every check line (the numbers may differ in the last digits between machines)."""
    return re.findall(r"^  ([\u2713\u2717-]) (.+?)  ", text, re.M)


def test_tutorial_blocks_run_and_show_their_real_output(tutorial):
    _, pairs = tutorial
    assert len(pairs) >= 6
    for shown, actual in pairs:
        assert actual, "a text block must follow a python block that prints"
        assert _report_lines(shown) == _report_lines(actual)
        assert shown.splitlines()[0] == actual.splitlines()[0]


def test_tutorial_layer_passes_and_trains(tutorial):
    namespace, _ = tutorial
    assert namespace["report"] is not None
    assert check_layer(namespace["Affine"](5, 3), verbose=False)
    assert namespace["accuracy"] > 0.95


def _failed(report):
    return [c.name for c in report.failures]


# ---------------------------------------------------------- one test per mistake


def test_catches_forgetting_to_cache(tutorial):
    report = check_layer(tutorial[0]["AffineNoCache"](3, 2), verbose=False)
    assert not report
    assert "backward" in _failed(report)
    assert "does forward cache" in report["backward"].message
    assert report["forward"].passed and report["backward before forward"].passed


def test_catches_a_layer_instance_reused_in_a_network(tutorial):
    Affine = tutorial[0]["Affine"]
    tanh = layers.Tanh()
    report = check_layer(Sequential([Affine(3, 4), tanh, Affine(4, 4), tanh]), verbose=False)
    assert "Tanh() is used at 1 and 3" in report["layers used once"].message
    assert "GradientError: Tanh() was called 2 times in one forward pass" in report["backward"].message
    assert "layer.share()" in report["backward"].message
    fixed = Sequential([Affine(3, 4), layers.Tanh(), Affine(4, 4), layers.Tanh()])
    assert check_layer(fixed, verbose=False)


def test_catches_the_bias_gradient_summed_over_the_wrong_axis(tutorial):
    report = check_layer(tutorial[0]["AffineBadBias"](3, 2), verbose=False)
    assert "backward" in _failed(report)
    message = report["backward"].message
    assert "Parameter 'bias' of shape (2,): got a gradient of shape (4,)" in message
    assert "custom_layers.md" in message           # the line of backward that added it


def test_catches_in_place_edits_of_the_input(tutorial):
    report = check_layer(tutorial[0]["InPlaceReLU"](), verbose=False)
    assert _failed(report) == ["input unchanged", "grad_out unchanged"]
    assert "forward changed x in place" in report["input unchanged"].message


# ---------------------------------------------------------------- more mistakes


def test_a_mean_instead_of_a_sum_is_named_as_a_batch_size_factor(tutorial):
    class AffineMeanBias(tutorial[0]["Affine"]):
        def backward(self, grad_out):
            self.weight.add_grad(grad_out.T @ self._x)
            self.bias.add_grad(grad_out.mean(axis=0))
            return grad_out @ self.weight.data

    report = check_layer(AffineMeanBias(3, 2), verbose=False)
    assert _failed(report) == ["gradient of bias"]
    assert "analytic = 0.25 x numeric: a factor of the batch size N=4" in report["gradient of bias"].message
    assert "worst at [" in report["gradient of bias"].message


def test_a_wrong_weight_gradient_is_the_only_failing_line(tutorial):
    class AffineSign(tutorial[0]["Affine"]):
        def backward(self, grad_out):
            self.weight.add_grad(-grad_out.T @ self._x)
            self.bias.add_grad(grad_out.sum(axis=0))
            return grad_out @ self.weight.data

    report = check_layer(AffineSign(3, 2), verbose=False)
    assert _failed(report) == ["gradient of weight"]
    assert "the sign is flipped" in report["gradient of weight"].message
    with pytest.raises(LayerCheckError, match="FAILED \\(gradient of weight\\)"):
        check_layer(AffineSign(3, 2), verbose=False, raise_on_failure=True)


class _CachesOnce(layers.Tanh):
    def forward(self, x):
        y = np.tanh(self.check_input(x, (...,)))
        if self._y is None:
            self._y = y
        return y


class _UpdatesInBackward(layers.Linear):
    def backward(self, grad_out):
        grad_in = super().backward(grad_out)
        self.step(0.1)
        return grad_in


class _PlainArrays(Layer):
    def __init__(self):
        super().__init__()
        self.weight = np.ones(3, np.float32)
        self.extra = [Parameter(np.ones(3))]
        self._x = None

    def forward(self, x):
        self._x = self.check_input(x, ("N", 3))
        return self._x * self.weight

    def backward(self, grad_out):
        return self.check_grad_out(grad_out, None if self._x is None else self._x.shape) * self.weight


class _CentresTheBatch(Layer):
    """Subtracts the batch mean in training mode (as BatchNorm does), nothing in eval mode."""

    def __init__(self):
        super().__init__()
        self._shape = self._centred = None

    def forward(self, x):
        x = self.check_input(x, (...,))
        self._shape, self._centred = x.shape, self.training
        return x - x.mean(axis=0) if self.training else x

    def backward(self, grad_out):
        g = self.check_grad_out(grad_out, self._shape)
        return g - g.mean(axis=0) if self._centred else g


class _AlwaysDropout(layers.Dropout):
    def forward(self, x):
        training, self.training = self.training, True
        try:
            return super().forward(x)
        finally:
            self.training = training


@pytest.mark.parametrize("layer, failing, words", [
    (_CachesOnce(), ["backward uses latest forward"], "what the latest forward cached"),
    (_UpdatesInBackward(3, 2), ["backward stores grads"], "backward changed weight, bias"),
    (_PlainArrays(), ["parameters registered"], "weight is a plain array"),
    (_CentresTheBatch(), ["batch independence"], "batch_independent = False"),
    (_AlwaysDropout(0.5), ["train/eval"], "two eval forwards differ"),
], ids=["stale cache", "applies update", "unregistered", "mixes batch", "random in eval"])
def test_other_mistakes_are_named(layer, failing, words):
    report = check_layer(layer, input_shape=(4, 3), verbose=False)
    assert _failed(report)[:len(failing)] == failing
    assert words in report[failing[0]].message


def test_a_layer_that_declares_it_mixes_the_batch_is_checked_in_eval_mode_only():
    class Centres(_CentresTheBatch):
        batch_independent = False

    report = check_layer(Centres(), input_shape=(4, 3), verbose=False)
    assert report["batch independence"].passed
    assert "train mode not checked" in report["batch independence"].message


def test_expected_output_shape_and_exceptions_in_forward():
    report = check_layer(layers.Linear(3, 2), expected_output_shape=(4, 3), verbose=False)
    assert _failed(report) == ["forward"] and "expected shape (4, 3)" in report["forward"].message
    report = check_layer(layers.Linear(3, 2), input_shape=(4, 5), verbose=False)
    assert "raised ShapeError" in report["forward"].message and len(report.checks) == 2


def test_the_users_layer_and_random_state_are_untouched():
    layer = layers.Linear(3, 2)
    weight = layer.weight.data.copy()
    calls = []
    layer.register_forward_hook(lambda *args: calls.append(1))
    state = mtorch.random.get_rng_state()
    report = check_layer(layer, verbose=False)
    assert report and calls == [] and layer._x is None and layer.weight.grad is None
    np.testing.assert_array_equal(layer.weight.data, weight)
    assert mtorch.random.get_rng_state() == state


def test_report_is_printed_and_returned(capsys):
    report = check_layer(layers.ReLU(), input_shape=(3, 2))
    printed = capsys.readouterr().out
    assert printed.strip() == report.text == str(report)
    assert printed.startswith("check_layer: ReLU()")
    assert "\u2713 gradient of input" in printed and "rel err" in printed
    assert assert_layer_ok(layers.ReLU(), input_shape=(3, 2))
    assert capsys.readouterr().out == ""


def test_large_arrays_are_sampled_and_say_so():
    report = check_layer(layers.Linear(40, 30), max_entries=50, verbose=False)
    assert report and "(50 of 1200 entries sampled)" in report["gradient of weight"].message


# ------------------------------------------------------- every built-in layer

# class name -> list of (constructor, input shape); a name missing here fails the coverage test.
BUILT_IN = {
    "Linear": [(lambda: layers.Linear(3, 2), (4, 3)), (lambda: layers.Linear(3, 2, bias=False), (2, 3, 3))],
    "Identity": [(layers.Identity, (3, 4))],
    "ReLU": [(layers.ReLU, (3, 4))],
    "LeakyReLU": [(lambda: layers.LeakyReLU(0.2), (3, 4))],
    "ELU": [(layers.ELU, (3, 4))],
    "GELU": [(layers.GELU, (3, 4)), (lambda: layers.GELU("tanh"), (3, 4))],
    "SiLU": [(layers.SiLU, (3, 4))],
    "Mish": [(layers.Mish, (3, 4))],
    "SELU": [(layers.SELU, (3, 4))],
    "CELU": [(lambda: layers.CELU(0.5), (3, 4))],
    "PReLU": [(layers.PReLU, (3, 4)), (lambda: layers.PReLU(3, init=0.1), (2, 3, 2))],
    "ReLU6": [(layers.ReLU6, (3, 4))],
    "Hardtanh": [(lambda: layers.Hardtanh(-0.5, 0.5), (3, 4))],
    "Threshold": [(lambda: layers.Threshold(0.1, -2.0), (3, 4))],
    "Hardsigmoid": [(layers.Hardsigmoid, (3, 4))],
    "Hardswish": [(layers.Hardswish, (3, 4))],
    "LogSigmoid": [(layers.LogSigmoid, (3, 4))],
    "Softsign": [(layers.Softsign, (3, 4))],
    "Tanhshrink": [(layers.Tanhshrink, (3, 4))],
    "Softshrink": [(layers.Softshrink, (3, 4))],
    "Hardshrink": [(layers.Hardshrink, (3, 4))],
    "Softmin": [(lambda: layers.Softmin(dim=1), (3, 4))],
    "Softmax2d": [(layers.Softmax2d, (2, 3, 2, 2))],
    "GLU": [(layers.GLU, (3, 4)), (lambda: layers.GLU(dim=1), (2, 4, 3))],
    "Sigmoid": [(layers.Sigmoid, (3, 4))],
    "Tanh": [(layers.Tanh, (3, 4))],
    "Softplus": [(layers.Softplus, (3, 4))],
    "Softmax": [(lambda: layers.Softmax(dim=-1), (3, 4)), (lambda: layers.Softmax(dim=1), (2, 3, 2))],
    "LogSoftmax": [(lambda: layers.LogSoftmax(dim=-1), (3, 4))],
    "Dropout": [(lambda: layers.Dropout(0.3), (4, 5))],
    "Dropout2d": [(lambda: layers.Dropout2d(0.5), (4, 3, 2, 2))],
    "Flatten": [(layers.Flatten, (2, 3, 2, 2))],
    "Reshape": [(lambda: layers.Reshape((3, 4)), (2, 12))],
    "Unflatten": [(lambda: layers.Unflatten(1, (3, 4)), (2, 12))],
    "Conv2d": [(lambda: layers.Conv2d(2, 3, 3, stride=2, padding=1), (2, 2, 5, 5)),
               (lambda: layers.Conv2d(1, 2, (2, 3), dilation=2, bias=False), (2, 1, 6, 7))],
    "MaxPool2d": [(lambda: layers.MaxPool2d(2), (2, 2, 4, 4)),
                  (lambda: layers.MaxPool2d(3, stride=2, padding=1), (2, 1, 5, 5))],
    "AvgPool2d": [(lambda: layers.AvgPool2d(2), (2, 2, 4, 4))],
    "AdaptiveAvgPool2d": [(lambda: layers.AdaptiveAvgPool2d(1), (2, 3, 3, 3))],
    "BatchNorm1d": [(lambda: layers.BatchNorm1d(3), (5, 3))],
    "BatchNorm2d": [(lambda: layers.BatchNorm2d(2), (4, 2, 3, 3))],
    "InstanceNorm1d": [(lambda: layers.InstanceNorm1d(2, affine=True), (3, 2, 5))],
    "InstanceNorm2d": [(lambda: layers.InstanceNorm2d(2, affine=True, track_running_stats=True), (3, 2, 3, 3))],
    "GroupNorm": [(lambda: layers.GroupNorm(2, 4), (3, 4, 3))],
    "RNN": [(lambda: layers.RNN(3, 4), (5, 2, 3)),
            (lambda: layers.RNN(3, 4, num_layers=2, nonlinearity="relu", batch_first=True), (2, 4, 3))],
    "LSTM": [(lambda: layers.LSTM(3, 4), (4, 2, 3))],
    "GRU": [(lambda: layers.GRU(3, 4, batch_first=True), (2, 4, 3))],
    "Sequential": [(lambda: layers.Sequential(layers.Linear(3, 4), layers.Tanh()), (2, 3))],
    "Residual": [(lambda: layers.Residual(layers.Sequential(layers.Linear(3, 3), layers.Tanh())), (2, 3)),
                 (lambda: layers.Residual(layers.Linear(3, 2), layers.Linear(3, 2, bias=False)), (2, 3))],
    "Concat": [(lambda: layers.Concat(layers.Linear(3, 2), layers.Tanh(), dim=-1), (2, 3))],
    "ModuleList": [],           # holders without a forward of their own
    "ModuleDict": [],
}


def _exported_layers():
    return sorted(name for name, obj in vars(layers).items()
                  if inspect.isclass(obj) and issubclass(obj, Layer) and not name.startswith("_"))


def test_every_exported_layer_is_in_the_table():
    missing = [name for name in _exported_layers() if name not in BUILT_IN]
    assert not missing, f"add constructor arguments and an input shape for {missing} to BUILT_IN"


@pytest.mark.parametrize("make, shape", [case for name in _exported_layers() for case in BUILT_IN.get(name, [])],
                         ids=[f"{name}-{i}" for name in _exported_layers() for i, _ in enumerate(BUILT_IN.get(name, []))])
def test_every_built_in_layer_passes(make, shape):
    assert_layer_ok(make(), input_shape=shape)


def test_a_network_of_built_in_layers_passes():
    net = Sequential([layers.Linear(6, 5), layers.ReLU(), layers.Dropout(0.2), layers.Linear(5, 3),
                      layers.LogSoftmax(dim=1)])
    assert_layer_ok(mtorch.Module(net))


def test_the_example_shows_one_layer_passing_and_one_failing(capsys):
    runpy.run_path(str(TUTORIAL.parent.parent / "examples" / "custom_layer.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "Affine: all checks passed" in out
    assert "AffineMeanBias: FAILED: gradient of bias" in out
    assert "\u2717 gradient of bias" in out and "a factor of the batch size N=4" in out
    assert float(out.rsplit("training accuracy", 1)[1]) > 0.95


def test_batch_norm_is_exempt_from_batch_independence_only_in_training():
    class ClaimsIndependence(layers.BatchNorm1d):
        batch_independent = True

    report = check_layer(ClaimsIndependence(3), input_shape=(5, 3), verbose=False)
    assert _failed(report) == ["batch independence"] and "train mode" in report["batch independence"].message
    report = check_layer(layers.BatchNorm1d(3), input_shape=(5, 3), verbose=False)
    assert "train mode not checked" in report["batch independence"].message
    assert "train and eval outputs differ" in report["train/eval"].message


def test_a_small_cnn_passes_with_an_nchw_input():
    net = Sequential([layers.Conv2d(1, 2, 3, padding=1), layers.BatchNorm2d(2), layers.ReLU(),
                      layers.MaxPool2d(2), layers.Flatten(), layers.Linear(8, 3)])
    report = assert_layer_ok(net, input_shape=(3, 1, 4, 4), expected_output_shape=(3, 3))
    assert report.checks[0].message == "output (3, 3) float32, as expected"


def test_the_hint_counts_wrong_entries_with_the_tolerance_the_user_chose():
    class BiasOffByALittle(mtorch.layers.Linear):
        def backward(self, grad_out):
            grad_in = super().backward(grad_out)
            self.bias.add_grad(np.full(2, 1e-5))
            return grad_in

    report = check_layer(BiasOffByALittle(3, 2), atol=1e-9, rtol=1e-7, verbose=False)
    line = next(c.message for c in report.checks if c.name == "gradient of bias")
    assert "wrong at 2 of 2 entries" in line and "1 x numeric" not in line
