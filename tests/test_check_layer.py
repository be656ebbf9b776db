"""mtorch.testing.check_layer: it passes every built-in layer, catches each common mistake
from docs/custom_layers.md, and the tutorial's code runs as written with the output it shows."""
import inspect
import io
import json
import runpy
import sys

import numpy as np
import pytest

import mtorch
from mtorch import Layer, Parameter, Sequential, layers
from mtorch.errors import LayerCheckError
from mtorch.testing import assert_layer_ok, check_layer

from doc_blocks import DOCS, run_page

# --------------------------------------------------------------- the tutorial


@pytest.fixture(scope="module")
def tutorial():
    return run_page("custom_layers.md")


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
    "Conv1d": [(lambda: layers.Conv1d(2, 4, 3, stride=2, padding=1, groups=2), (2, 2, 7))],
    "ConvTranspose1d": [(lambda: layers.ConvTranspose1d(2, 3, 3, stride=2), (2, 2, 4))],
    "ConvTranspose2d": [(lambda: layers.ConvTranspose2d(2, 4, 3, stride=2, padding=1, groups=2), (2, 2, 3, 3))],
    "MaxPool1d": [(lambda: layers.MaxPool1d(3, stride=2, padding=1), (2, 3, 7))],
    "AvgPool1d": [(lambda: layers.AvgPool1d(2, ceil_mode=True), (2, 3, 5))],
    "AdaptiveAvgPool1d": [(lambda: layers.AdaptiveAvgPool1d(3), (2, 3, 5))],
    "AdaptiveMaxPool1d": [(lambda: layers.AdaptiveMaxPool1d(3), (2, 3, 5))],
    "AdaptiveMaxPool2d": [(lambda: layers.AdaptiveMaxPool2d((2, 3)), (2, 3, 5, 4))],
    "ZeroPad1d": [(lambda: layers.ZeroPad1d((1, 2)), (2, 3, 4))],
    "ZeroPad2d": [(lambda: layers.ZeroPad2d((1, 0, 2, 1)), (2, 3, 4, 4))],
    "ConstantPad1d": [(lambda: layers.ConstantPad1d(2, 0.5), (2, 3, 4))],
    "ConstantPad2d": [(lambda: layers.ConstantPad2d((1, -1, 0, 2), 0.5), (2, 3, 4, 4))],
    "ReflectionPad1d": [(lambda: layers.ReflectionPad1d((2, 1)), (2, 3, 4))],
    "ReflectionPad2d": [(lambda: layers.ReflectionPad2d((1, 2, 3, 0)), (2, 3, 4, 4))],
    "ReplicationPad1d": [(lambda: layers.ReplicationPad1d((2, 1)), (2, 3, 4))],
    "ReplicationPad2d": [(lambda: layers.ReplicationPad2d((1, 2, 3, 0)), (2, 3, 4, 4))],
    "CircularPad1d": [(lambda: layers.CircularPad1d((2, 1)), (2, 3, 4))],
    "CircularPad2d": [(lambda: layers.CircularPad2d((1, 2, 3, 0)), (2, 3, 4, 4))],
    "Upsample": [(lambda: layers.Upsample(scale_factor=2), (2, 3, 3, 2)),
                 (lambda: layers.Upsample(size=(3, 5), mode="bicubic", align_corners=True), (2, 1, 2, 3)),
                 (lambda: layers.Upsample(scale_factor=1.5, mode="linear"), (2, 3, 4))],
    "PixelShuffle": [(lambda: layers.PixelShuffle(2), (2, 8, 2, 3))],
    "PixelUnshuffle": [(lambda: layers.PixelUnshuffle(2), (2, 2, 4, 6))],
    "BatchNorm1d": [(lambda: layers.BatchNorm1d(3), (5, 3))],
    "BatchNorm2d": [(lambda: layers.BatchNorm2d(2), (4, 2, 3, 3))],
    "InstanceNorm1d": [(lambda: layers.InstanceNorm1d(2, affine=True), (3, 2, 5))],
    "InstanceNorm2d": [(lambda: layers.InstanceNorm2d(2, affine=True, track_running_stats=True), (3, 2, 3, 3))],
    "GroupNorm": [(lambda: layers.GroupNorm(2, 4), (3, 4, 3))],
    "RNN": [(lambda: layers.RNN(3, 4), (5, 2, 3)),
            (lambda: layers.RNN(3, 4, num_layers=2, nonlinearity="relu", batch_first=True), (2, 4, 3))],
    "LSTM": [(lambda: layers.LSTM(3, 4), (4, 2, 3))],
    "GRU": [(lambda: layers.GRU(3, 4, batch_first=True), (2, 4, 3))],
    "RNNCell": [(lambda: layers.RNNCell(3, 4), (5, 3)), (lambda: layers.RNNCell(3, 4, nonlinearity="relu"), (5, 3))],
    "GRUCell": [(lambda: layers.GRUCell(3, 4), (5, 3))],
    "LSTMCell": [],             # returns (h, c); tests/test_recurrent_cells.py checks it through a wrapper
    "Sequential": [(lambda: layers.Sequential(layers.Linear(3, 4), layers.Tanh()), (2, 3))],
    "Residual": [(lambda: layers.Residual(layers.Sequential(layers.Linear(3, 3), layers.Tanh())), (2, 3)),
                 (lambda: layers.Residual(layers.Linear(3, 2), layers.Linear(3, 2, bias=False)), (2, 3))],
    "Concat": [(lambda: layers.Concat(layers.Linear(3, 2), layers.Tanh(), dim=-1), (2, 3))],
    "ModuleList": [],           # holders without a forward of their own
    "ModuleDict": [],
    "Embedding": [],            # integer input: checked in test_embedding.py
    "LayerNorm": [(lambda: layers.LayerNorm(4), (3, 4)), (lambda: layers.LayerNorm((2, 3), bias=False), (2, 2, 3))],
    "RMSNorm": [(lambda: layers.RMSNorm(4), (3, 4))],
    "MultiheadAttention": [(lambda: layers.MultiheadAttention(4, 2, batch_first=True), (2, 3, 4)),
                           (lambda: layers.MultiheadAttention(4, 2, dropout=0.2, add_bias_kv=True, add_zero_attn=True,
                                                              batch_first=True), (2, 3, 4))],
    "TransformerEncoderLayer": [(lambda: layers.TransformerEncoderLayer(4, 2, 8, batch_first=True), (2, 3, 4)),
                                (lambda: layers.TransformerEncoderLayer(4, 2, 8, activation="gelu", norm_first=True,
                                                                        batch_first=True), (2, 3, 4))],
    "TransformerEncoder": [(lambda: layers.TransformerEncoder(
        layers.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True), 2, norm=layers.LayerNorm(4)), (2, 3, 4))],
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


def test_the_example_shows_one_layer_passing_and_one_failing(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["custom_layer.py"])          # its command line, not pytest's
    runpy.run_path(str(DOCS.parent / "examples" / "custom_layer.py"), run_name="__main__")
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


# ------------------------------------------------- random parameters, reference, report data


class _Scale(Layer):
    """y = x * gamma; ``forgets`` drops gamma from dL/dx (invisible at gamma = 1)."""

    def __init__(self, n, forgets=False):
        super().__init__()
        self.gamma = Parameter(np.ones(n))
        self.forgets = forgets
        self._x = None

    def forward(self, x):
        self._x = self.check_input(x, ("N", self.gamma.shape[0]))
        return self._x * self.gamma.data

    def backward(self, grad_out):
        g = self.check_grad_out(grad_out, None if self._x is None else self._x.shape)
        self.gamma.add_grad((g * self._x).sum(axis=0))
        return g if self.forgets else g * self.gamma.data


def test_parameters_are_moved_before_the_checks_on_a_copy_only(rng):
    layer = _Scale(3, forgets=True)
    report = check_layer(layer, input_shape=(4, 3), verbose=False)
    assert _failed(report) == ["gradient of input"]
    assert "moved to random values" in report.header[-1]
    assert check_layer(layer, input_shape=(4, 3), randomize=False, verbose=False)
    np.testing.assert_array_equal(layer.gamma.data, np.ones(3))
    with pytest.raises(mtorch.GradcheckError, match="wrong gradient of input"):
        mtorch.gradcheck(layer, rng.standard_normal((4, 3)))
    assert mtorch.gradcheck(layer, rng.standard_normal((4, 3)), randomize=False)


def test_randomize_parameters_keeps_to_the_layers_constraints():
    from mtorch.testing import randomize_parameters

    class Temperature(Layer):
        parameter_constraints = {"tau": "positive", "mask": "fixed", "p": (0.2, 0.4), "shift": lambda d, rng: d + 7}

        def __init__(self):
            super().__init__()
            self.tau = Parameter(np.full(1000, 0.01))
            self.mask = Parameter(np.ones(3))
            self.p = Parameter(np.zeros(50))
            self.shift = Parameter(np.zeros(2))
            self.free = Parameter(np.zeros((4, 4)))

    layer = randomize_parameters(Temperature(), seed=3)
    assert layer.tau.data.min() > 0 and layer.tau.dtype == np.float32
    assert 0.0049 < layer.tau.data.min() < 0.009 and 0.011 < layer.tau.data.max() < 0.0201
    np.testing.assert_array_equal(layer.mask.data, np.ones(3))
    assert 0.2 < layer.p.data.min() and layer.p.data.max() < 0.4
    np.testing.assert_array_equal(layer.shift.data, [7, 7])
    assert np.std(layer.free.data) > 0.2                        # an all-zero array moves by N(0, 0.5^2)
    again = randomize_parameters(Temperature(), seed=3)
    np.testing.assert_array_equal(again.free.data, layer.free.data)

    class Unknown(Layer):
        parameter_constraints = {"scale": "positive"}

    with pytest.raises(ValueError, match=r"Unknown.parameter_constraints names \['scale'\]"):
        randomize_parameters(Unknown())

    class BadRule(Temperature):
        parameter_constraints = {"tau": "big"}

    with pytest.raises(ValueError, match="rule must be 'positive'"):
        randomize_parameters(BadRule())


def test_a_shared_parameter_is_moved_once():
    from mtorch.testing import randomize_parameters
    first = layers.Linear(3, 3)
    net = Sequential(first, first.share())
    randomize_parameters(net)
    assert net[0].weight is net[1].weight


def test_reference_kinds_and_their_errors():
    report = check_layer(layers.Linear(3, 2), reference=layers.Linear(3, 2), verbose=False)
    assert report["reference forward"].passed and report["reference gradients"].passed
    report = check_layer(layers.Linear(3, 2), reference=layers.Linear, verbose=False)
    assert "pass an instance" in report["reference forward"].message
    report = check_layer(layers.Linear(3, 2), reference=layers.Linear(3, 2, bias=False), verbose=False)
    assert "unexpected keys ['bias']" in report["reference forward"].message
    report = check_layer(layers.Linear(3, 2), reference=lambda state, x: x @ state["weight"].T, verbose=False)
    assert not report["reference forward"].passed and report["reference forward"].numbers["wrong"] > 0
    assert "reference gradients" not in [c.name for c in report.checks]
    bn = check_layer(layers.BatchNorm1d(3), input_shape=(5, 3), reference=layers.BatchNorm1d(3), verbose=False)
    assert [c.name for c in bn.checks if c.name.startswith("reference")] == \
        ["reference forward", "reference gradients", "reference buffers", "reference eval"]


def test_torch_references_for_layers_with_buffers_and_losses():
    torch = pytest.importorskip("torch")
    report = check_layer(layers.BatchNorm1d(3), input_shape=(5, 3), reference=torch.nn.BatchNorm1d(3), verbose=False)
    assert report, report.text
    report = check_layer(layers.Conv2d(2, 3, 3, padding=1), input_shape=(2, 2, 5, 5),
                         reference=torch.nn.Conv2d(2, 3, 3, padding=1), verbose=False)
    assert report["reference gradients"].passed
    from mtorch.testing import check_loss
    assert check_loss(mtorch.loss.CrossEntropyLoss(), reference=torch.nn.CrossEntropyLoss(), verbose=False)


def test_the_report_is_data_and_round_trips_through_json():
    from mtorch.testing import LayerReport
    report = check_layer(_Scale(3, forgets=True), input_shape=(4, 3), verbose=False,
                         points={"forward": 2, "gradient of *": 4, "step(lr)": 1, "reference forward": 3})
    data = json.loads(report.to_json())
    assert data["score"] == report.score == 2 + 2 + 1 and data["max_score"] == 10 and not data["passed"]
    grad = next(c for c in data["checks"] if c["name"] == "gradient of input")
    assert grad["passed"] is False and grad["points"] == 0 and grad["max_points"] == 2
    assert set(grad["numbers"]) == {"rel_err", "max_abs_err", "worst_index", "analytic", "numeric", "wrong",
                                    "checked"}
    assert grad["numbers"]["wrong"] == 12 and len(grad["numbers"]["worst_index"]) == 2
    assert LayerReport.from_dict(data).text == report.text


def test_points_default_to_one_per_check_and_not_applicable_keys_earn_theirs():
    from mtorch.testing import score_checks
    from mtorch.testing.report import CheckResult
    checks = [CheckResult("a", True, ""), CheckResult("b", False, ""), CheckResult("c", None, "")]
    assert score_checks(checks) == (1.0, 2.0)
    assert score_checks(checks, {"c": 5, "d": 1, "a": 2}) == (7.0, 8.0)


def test_the_report_prints_ascii_marks_where_the_console_cannot_show_them():
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    check_layer(layers.ReLU(), input_shape=(3, 2), file=stream)
    stream.seek(0)
    text = stream.read()
    assert "  + forward" in text and "\u2713" not in text
    stream = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")
    check_layer(_Scale(3, forgets=True), input_shape=(4, 3), file=stream)
    stream.seek(0)
    assert "  X gradient of input" in stream.read()


def test_a_slow_check_times_out_and_the_others_run():
    import time

    class Slow(layers.Tanh):
        def backward(self, grad_out):
            time.sleep(0.5)
            return super().backward(grad_out)

    report = check_layer(Slow(), input_shape=(2, 3), timeout=0.2, verbose=False)
    assert "timed out after 0.2 s" in report["gradients"].message
    assert report["forward"].passed and report["train/eval"].passed


class _TwoTower(mtorch.Module):
    def __init__(self):
        super().__init__()
        self.image, self.text = layers.Linear(4, 3), layers.Linear(5, 3)
        self.head = layers.Concat(layers.Tanh(), layers.Sigmoid(), dim=1)

    def forward(self, image, text):
        return self.head(self.image(image) + self.text(text))

    def backward(self, grad_out):
        g = self.head.backward(grad_out)
        return self.image.backward(g), self.text.backward(g)


def test_a_module_with_its_own_forward_and_two_inputs_passes():
    report = check_layer(_TwoTower(), input_shapes=[(3, 4), (3, 5)], verbose=False)
    assert report, report.text
    assert "gradient of input 1" in [c.name for c in report.checks]
    assert report["shared weights add up"].passed


def test_input_options_are_checked():
    with pytest.raises(ValueError, match="requires_grad has 1 entries for 2 inputs"):
        check_layer(_TwoTower(), input_shapes=[(3, 4), (3, 5)], requires_grad=[True], verbose=False)
    with pytest.raises(ValueError, match="input 0 holds int64 values, which have no gradient"):
        check_layer(layers.ReLU(), x=np.arange(6).reshape(2, 3), requires_grad=True, verbose=False)
    with pytest.raises(TypeError, match="inputs must hold real numbers"):
        check_layer(layers.ReLU(), x=np.array(["a"]), verbose=False)
