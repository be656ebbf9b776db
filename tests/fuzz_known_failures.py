"""The known failures: bugs the fuzz tests found in files being rewritten on other branches.

Each entry is a strict xfail (``test_known_*_failure`` replays its example, which must fail):
when a fix lands, the replay passes, the xfail turns into a failure, and the entry must go.
Until then, fuzz trials that fail the same way (class, case pattern, kind: see
``fuzzing.Known``) count as ``known`` instead of failing the suite.

Layers: activation.py, linear.py, reshape.py, dropout.py, pooling.py, conv.py, batchnorm.py,
recurrent/ (the conv, elementwise and recurrent branches). Optimizers: the update formulas
(the optim branch). Nothing else has a known failure.
"""
from fuzzing import Arr, Grad, Known, LayerCase, OptimCase


# ---------------------------------------------------------------- layers
def K(cls, case, kind, what, example):
    return Known("layers", cls, case, kind, what, example)


def C(name, kwargs, *inputs, grad=Grad(), training=True):
    return LayerCase(name, kwargs, inputs, grad, training, key="example")


X = Arr((2, 3))
INF = Arr((2, 3), "inf")                       # holds -inf
ROW_INF = Arr((2, 3), "inf", seed=1)           # a row holds +inf
NAN = Arr((1, 1, 2, 2), "nan", seed=4)         # one NaN
LAYERS = [
    # activation.py
    K("ReLU", "ctor:inplace=*", "unnamed", "ReLU(inplace=False): the TypeError names the private base "
      "'_Elementwise.__init__()'", C("ReLU", {"inplace": False}, X)),
    K("GELU", "*", "raw", "GELU()(0-d input): math.erf gives a Python float, AttributeError '.astype'",
      C("GELU", {}, Arr(()))),
    K("Softmax", "*", "unnamed", "Softmax on a zero-size input: numpy's 'zero-size array to reduction operation "
      "maximum' (torch returns the empty array)", C("Softmax", {"dim": 0}, Arr((0, 2)))),
    K("Softmax", "*", "raw", "Softmax(dim=3) on 2-d input (or dim=-2 on 1-d input): numpy AxisError",
      C("Softmax", {"dim": 3}, X)),
    K("Softmax", "ctor:dim=None*", "value", "Softmax(dim=None) normalises over all entries; torch uses its implicit "
      "dim (1 for 2-d input)", C("Softmax", {"dim": None}, X)),
    K("Softmax", "*/inf", "raw", "Softmax on a row holding +inf: RuntimeWarning 'invalid value in subtract' "
      "(torch: NaN silently)", C("Softmax", {"dim": -1}, ROW_INF)),
    K("LogSoftmax", "*", "unnamed", "LogSoftmax on a zero-size input: numpy's 'zero-size array to reduction'",
      C("LogSoftmax", {"dim": 0}, Arr((0, 2)))),
    K("LogSoftmax", "*", "raw", "LogSoftmax(dim=-2) on a 1-d input: numpy AxisError",
      C("LogSoftmax", {"dim": -2}, Arr((3,)))),
    K("LogSoftmax", "ctor:dim=None*", "value", "LogSoftmax(dim=None) normalises over all entries; torch uses its "
      "implicit dim", C("LogSoftmax", {"dim": None}, X)),
    K("LogSoftmax", "ctor:dim=*", "silent", "LogSoftmax(dim=(0, 1)) normalises over both axes; torch refuses a "
      "tuple", C("LogSoftmax", {"dim": (0, 1)}, X)),
    K("LogSoftmax", "*/inf", "raw", "LogSoftmax on a row holding +inf: RuntimeWarning 'invalid value in subtract'",
      C("LogSoftmax", {"dim": -1}, ROW_INF)),
    K("ELU", "ctor:alpha=*", "raw", "ELU(alpha='abc'): numpy UFuncTypeError (alpha=inf: RuntimeWarning)",
      C("ELU", {"alpha": "abc"}, X)),
    K("ELU", "ctor:alpha=*", "unnamed", "ELU(alpha=None): numpy's TypeError without the class name",
      C("ELU", {"alpha": None}, X)),
    K("ELU", "ctor:alpha=*", "silent", "ELU(alpha=None) on an empty input returns it; torch refuses alpha=None",
      C("ELU", {"alpha": None}, Arr((0,)))),
    K("Softplus", "ctor:*", "unnamed", "Softplus(beta=None): numpy's TypeError without the class name",
      C("Softplus", {"beta": None}, X)),
    K("Softplus", "ctor:*", "raw", "Softplus(beta='abc'): numpy UFuncTypeError (beta=0 or inf: RuntimeWarning)",
      C("Softplus", {"beta": "abc"}, X)),
    K("Softplus", "ctor:*", "silent", "Softplus(threshold=None) on an empty input; torch refuses threshold=None",
      C("Softplus", {"threshold": None}, Arr((0,)))),
    K("Softplus", "*/nan", "raw", "Softplus on NaN: RuntimeWarning 'invalid value in logaddexp'",
      C("Softplus", {}, Arr((3,), "nan"))),
    K("LeakyReLU", "ctor:*", "silent", "LeakyReLU(negative_slope=object) on an empty input; torch refuses it",
      C("LeakyReLU", {"negative_slope": object}, Arr((0,)))),
    K("LeakyReLU", "ctor:*", "unnamed", "LeakyReLU(negative_slope=None): numpy's TypeError without the class name",
      C("LeakyReLU", {"negative_slope": None}, X)),
    K("LeakyReLU", "ctor:*", "raw", "LeakyReLU(negative_slope=1+1j): ComplexWarning in backward",
      C("LeakyReLU", {"negative_slope": complex(1, 1)}, X)),
    # linear.py
    K("Linear", "ctor:*", "unnamed", "Linear('abc', 3): int()'s ValueError without the class name (no "
      "mtorch.validation)", C("Linear", {"in_features": "abc", "out_features": 3}, X)),
    K("Linear", "ctor:*", "silent", "Linear('3', 2) is read as Linear(3, 2) by int(); torch refuses text",
      C("Linear", {"in_features": "3", "out_features": 2}, X)),
    K("Linear", "ctor:*", "raw", "Linear(3, inf): OverflowError from int()",
      C("Linear", {"in_features": 3, "out_features": float("inf")}, X)),
    K("Linear", "*", "raw", "Linear(0, 2): ZeroDivisionError in kaiming_uniform_ (fan_in 0; torch skips the init)",
      C("Linear", {"in_features": 0, "out_features": 2}, Arr((3, 0)))),
    K("Linear", "*/inf", "raw", "Linear on -inf: RuntimeWarning 'invalid value in dot' (torch: NaN silently)",
      C("Linear", {"in_features": 3, "out_features": 2}, INF)),
    K("Linear", "*", "unnamed", "Linear(3, 0).backward: numpy's 'cannot reshape array of size 0 into shape (0)'",
      C("Linear", {"in_features": 3, "out_features": 0}, X)),
    K("Identity", "input0:*", "silent", "Identity passes complex, str and object arrays through (no check_input)",
      C("Identity", {}, Arr((2,), dtype="complex128"))),
    K("Identity", "input0:ragged*", "unnamed", "Identity on a ragged list: numpy's ValueError without the class "
      "name", C("Identity", {}, Arr((2,), form="ragged"))),
    # reshape.py
    K("Flatten", "ctor:*", "unnamed", "Flatten(start_dim=-2.5): 'slice indices must be integers' without the class "
      "name", C("Flatten", {"start_dim": -2.5}, Arr((2, 3, 4)))),
    K("Flatten", "ctor:*", "silent", "Flatten(start_dim=True) is read as 1; torch refuses a bool",
      C("Flatten", {"start_dim": True}, Arr((2, 3, 4)))),
    K("Flatten", "input0:*", "silent", "Flatten accepts complex input (np.asarray, no check_input)",
      C("Flatten", {}, Arr((2, 3, 4), dtype="complex128"))),
    K("Flatten", "input0:ragged*", "unnamed", "Flatten on a ragged list: numpy's ValueError",
      C("Flatten", {}, Arr((2,), form="ragged"))),
    K("Reshape", "ctor:*", "unnamed", "Reshape(None): int()'s TypeError without the class name",
      C("Reshape", {"shape": None}, X)),
    K("Reshape", "ctor:*", "raw", "Reshape(inf): OverflowError from int()", C("Reshape", {"shape": float("inf")}, X)),
    K("Reshape", "ctor:*", "silent", "Reshape('3') is read as (3,) by int(); torch's reshape refuses text",
      C("Reshape", {"shape": "3"}, X)),
    K("Reshape", "input0:ragged*", "unnamed", "Reshape on a ragged list: numpy's ValueError",
      C("Reshape", {"shape": (1,)}, Arr((2,), form="ragged"))),
    K("Reshape", "input0:*", "silent", "Reshape accepts str and object arrays (np.asarray, no check_input)",
      C("Reshape", {"shape": (3,)}, Arr((2, 3), dtype="str"))),
    # dropout.py
    K("Dropout", "ctor:p=*", "unnamed", "Dropout(p='0.5'): '<=' TypeError without the class name",
      C("Dropout", {"p": "0.5"}, X)),
    K("Dropout", "*/inf", "raw", "Dropout dropping an inf: RuntimeWarning in inf * 0", C("Dropout", {"p": 1.0}, INF)),
    K("Dropout2d", "ctor:p=*", "unnamed", "Dropout2d(p='0.5'): '<=' TypeError without the class name",
      C("Dropout2d", {"p": "0.5"}, Arr((2, 3, 2, 2)))),
    K("Dropout2d", "ctor:inplace=*", "unnamed", "Dropout2d(inplace=False): the TypeError names Dropout.__init__()",
      C("Dropout2d", {"inplace": False}, Arr((2, 3, 2, 2)))),
    K("Dropout2d", "input0:ragged*", "unnamed", "Dropout2d on a ragged list: numpy's ValueError (np.ndim before "
      "check_input)", C("Dropout2d", {}, Arr((2,), form="ragged"))),
    K("Dropout2d", "*/inf", "raw", "Dropout2d dropping a channel holding inf: RuntimeWarning in inf * 0",
      C("Dropout2d", {"p": 1.0}, Arr((1, 1, 2, 2), "inf", seed=2))),
    # pooling.py
    K("MaxPool2d", "ctor:*", "unnamed", "MaxPool2d(2, ceil_mode=False): the TypeError names '_Pool2d.__init__()'",
      C("MaxPool2d", {"kernel_size": 2, "ceil_mode": False}, Arr((1, 1, 2, 2)))),
    K("AvgPool2d", "ctor:*", "silent", "AvgPool2d(count_include_pad=None) is read as bool(None) (and padding=True "
      "as 1); torch refuses", C("AvgPool2d", {"kernel_size": 2, "count_include_pad": None}, Arr((1, 1, 2, 2)))),
    K("MaxPool2d", "ctor:*", "silent", "MaxPool2d(2, stride=True) is read as stride 1; torch refuses a bool",
      C("MaxPool2d", {"kernel_size": 2, "stride": True}, Arr((1, 1, 2, 2)))),
    K("AvgPool2d", "*/inf", "raw", "AvgPool2d over inf and -inf: RuntimeWarning in inf + -inf",
      C("AvgPool2d", {"kernel_size": 2}, Arr((1, 1, 2, 2), "inf", seed=2))),
    K("AdaptiveAvgPool2d", "ctor:*", "unnamed", "AdaptiveAvgPool2d(1+1j): int()'s TypeError without the class name",
      C("AdaptiveAvgPool2d", {"output_size": complex(1, 1)}, Arr((1, 1, 2, 2)))),
    K("AdaptiveAvgPool2d", "ctor:*", "raw", "AdaptiveAvgPool2d(inf): OverflowError from int()",
      C("AdaptiveAvgPool2d", {"output_size": float("inf")}, Arr((1, 1, 2, 2)))),
    K("AdaptiveAvgPool2d", "ctor:*", "silent", "AdaptiveAvgPool2d(2.5) is read as 2; torch refuses a float",
      C("AdaptiveAvgPool2d", {"output_size": 2.5}, Arr((1, 1, 2, 2)))),
    K("AdaptiveAvgPool2d", "*/nan", "value", "AdaptiveAvgPool2d: a NaN spreads to every output (the averaging "
      "matrices multiply it by 0)", C("AdaptiveAvgPool2d", {"output_size": 2}, NAN)),
    K("AdaptiveAvgPool2d", "*/inf", "raw", "AdaptiveAvgPool2d on inf: RuntimeWarning in matmul (inf * 0)",
      C("AdaptiveAvgPool2d", {"output_size": 2}, Arr((1, 1, 2, 2), "inf", seed=2))),
    # conv.py
    K("Conv2d", "ctor:*", "unnamed", "Conv2d(1, [2], 3): int()'s TypeError without the class name",
      C("Conv2d", {"in_channels": 1, "out_channels": [2], "kernel_size": 1}, Arr((1, 1, 2, 2)))),
    K("Conv2d", "ctor:*", "silent", "Conv2d(1, 1, 1, padding=True) is read as padding 1; torch refuses a bool",
      C("Conv2d", {"in_channels": 1, "out_channels": 1, "kernel_size": 1, "padding": True}, Arr((1, 1, 2, 2)))),
    K("Conv2d", "*/inf", "raw", "Conv2d on inf: RuntimeWarning 'invalid value in matmul'",
      C("Conv2d", {"in_channels": 1, "out_channels": 1, "kernel_size": 2}, Arr((1, 1, 2, 2), "inf", seed=2))),
    # batchnorm.py
    K("BatchNorm1d", "ctor:*", "unnamed", "BatchNorm1d(None): int()'s TypeError without the class name",
      C("BatchNorm1d", {"num_features": None}, X)),
    K("BatchNorm1d", "input0:ragged*", "unnamed", "BatchNorm1d on a ragged list: numpy's ValueError (np.asarray "
      "before check_input)", C("BatchNorm1d", {"num_features": 2}, Arr((2,), form="ragged"))),
    K("BatchNorm2d", "ctor:*", "unnamed", "BatchNorm2d(3, eps=(1, 2, 3)): numpy broadcast error in forward",
      C("BatchNorm2d", {"num_features": 4, "eps": (1, 2, 3)}, Arr((2, 4, 1, 1)))),
    K("BatchNorm1d", "*", "silent", "BatchNorm1d(track_running_stats=False) in eval mode takes one value per channel; "
      "torch refuses", C("BatchNorm1d", {"num_features": 1, "track_running_stats": False}, Arr((1, 1)),
                         training=False)),
    K("BatchNorm2d", "*", "silent", "BatchNorm2d(track_running_stats=False) in eval mode takes one value per channel",
      C("BatchNorm2d", {"num_features": 1, "track_running_stats": False}, Arr((1, 1, 1, 1)), training=False)),
    K("BatchNorm1d", "*", "raw", "BatchNorm1d on an empty batch: RuntimeWarning in 0 / 0",
      C("BatchNorm1d", {"num_features": 2, "track_running_stats": False}, Arr((0, 2)), training=False)),
    K("BatchNorm2d", "*", "raw", "BatchNorm2d on an empty batch: RuntimeWarning in 0 / 0",
      C("BatchNorm2d", {"num_features": 2, "track_running_stats": False}, Arr((0, 2, 1, 1)), training=False)),
    # recurrent/
    K("RNN", "ctor:*", "silent", "RNN(2, 3, bias=0) is read as bool(0); torch refuses a non-bool bias/batch_first",
      C("RNN", {"input_size": 2, "hidden_size": 3, "bias": 0}, Arr((2, 1, 2)))),
    K("LSTM", "ctor:*", "silent", "LSTM(2, 3, batch_first=0.5) is read as bool(0.5)",
      C("LSTM", {"input_size": 2, "hidden_size": 3, "batch_first": 0.5}, Arr((2, 1, 2)))),
    K("GRU", "ctor:*", "silent", "GRU(2, 3, num_layers=True) is read as 1", C("GRU", {
        "input_size": 2, "hidden_size": 3, "num_layers": True}, Arr((2, 1, 2)))),
    K("RNN", "*/inf", "raw", "RNN on -inf: RuntimeWarning 'invalid value in dot'",
      C("RNN", {"input_size": 3, "hidden_size": 2}, Arr((2, 1, 3), "inf"))),
    K("LSTM", "*/inf", "raw", "LSTM on -inf: RuntimeWarning 'invalid value in dot'",
      C("LSTM", {"input_size": 3, "hidden_size": 2}, Arr((2, 1, 3), "inf"))),
    K("LSTM", "*/large", "value", "float32 LSTM with a saturated gate (pre-activation -16, states ~1000): the "
      "gates' sigmoid is computed as (1 + tanh(a/2)) / 2, which loses a sigmoid of 1e-7 to cancellation in float32, "
      "so dL/dW_hh is 20% off (float64 agrees with torch)", LayerCase(
          "LSTM", {"input_size": 4, "hidden_size": 4, "num_layers": 1, "bias": False}, (Arr((1, 1, 4), seed=194), (
              Arr((1, 1, 4), "large", seed=2475), Arr((1, 1, 4), "large", seed=173))), Grad("match", "integers"),
          double=False, key="example")),
    K("GRU", "*/inf", "raw", "GRU on -inf: RuntimeWarning 'invalid value in dot'",
      C("GRU", {"input_size": 3, "hidden_size": 2}, Arr((2, 1, 3), "inf"))),
]


# ---------------------------------------------------------------- optimizers: a 0-d Parameter (a scalar weight)
SCALAR = Arr(())
OPTIMIZERS = [*(
    Known("optimizers", name, "*", "unnamed", f"{name} on a 0-d Parameter: np.multiply/np.square of a 0-d array "
          "returns a numpy scalar, then 'out=' raises TypeError 'return arrays must be of ArrayType'",
          OptimCase(name, {"lr": 0.1}, (SCALAR,), ((1, {}),), ((SCALAR,),), key="example"))
    for name in ("Adam", "AdamW", "RMSprop", "Adagrad")), Known(
    "optimizers", "SGD", "*", "value", "SGD(momentum=0.9, weight_decay=0.01) on a 0-d Parameter: the momentum buffer "
    "is a numpy scalar (p.data * weight_decay of a 0-d array), so 'buf *= momentum' never updates the stored state; "
    "wrong values from the third step", OptimCase("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
                                                   (SCALAR,), ((1, {}),), ((SCALAR,), (Arr((), seed=1),),
                                                                            (Arr((), seed=2),)),
                                                   key="example"))]

KNOWN_FAILURES = LAYERS + OPTIMIZERS
