"""The known failures: bugs the fuzz tests found in files being rewritten on other branches.

Each entry is a strict xfail (``test_known_*_failure`` replays its example, which must fail):
when a fix lands, the replay passes, the xfail turns into a failure, and the entry must go.
Until then, fuzz trials that fail the same way (class, case pattern, kind: see
``fuzzing.Known``) count as ``known`` instead of failing the suite.

Optimizers: the update formulas (the optim branch). Nothing else has a known failure.
"""
from fuzzing import Arr, Grad, Known, LayerCase, OptimCase


# ---------------------------------------------------------------- layers
def K(cls, case, kind, what, example):
    return Known("layers", cls, case, kind, what, example)


def C(name, kwargs, *inputs, grad=Grad(), training=True):
    return LayerCase(name, kwargs, inputs, grad, training, key="example")


LAYERS = []


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
