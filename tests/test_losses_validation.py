"""Every bad input to a loss gets a clear error naming the loss class, the argument, what was
expected and what came; ints and bools are accepted as PyTorch does."""
import numpy as np
import pytest

import mtorch.loss as mloss
from mtorch.errors import ShapeError


def _valid_calls():
    """One valid call per loss class: (class, call arguments by name)."""
    rng = np.random.default_rng(5)
    x, t = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    labels, signs = np.array([0, 3, 1]), np.where(rng.random((3, 4)) < 0.5, -1.0, 1.0)
    bits, probs = (rng.random((3, 4)) < 0.5).astype(float), rng.uniform(0.1, 0.9, (3, 4))
    return [
        (mloss.MSELoss, {"input": x, "target": t}),
        (mloss.L1Loss, {"input": x, "target": t}),
        (mloss.SmoothL1Loss, {"input": x, "target": t}),
        (mloss.CrossEntropyLoss, {"input": x, "target": labels}),
        (mloss.NLLLoss, {"input": x, "target": labels}),
        (mloss.BCELoss, {"input": probs, "target": bits}),
        (mloss.BCEWithLogitsLoss, {"input": x, "target": bits}),
        (mloss.MultiMarginLoss, {"input": x, "target": labels}),
    ]


CALLS = _valid_calls()
ARGUMENTS = [(cls, name) for cls, args in CALLS for name in args]
LATER_ARGUMENTS = [(cls, name) for cls, args in CALLS for name in list(args)[1:]]   # checked against the first
BAD_ARRAYS = [None, "abc", np.array(["a", "b"]), np.ones((3, 4), dtype=complex), np.array([object(), 1.0])]


def test_every_public_loss_is_checked_here():
    assert {cls.__name__ for cls, _ in CALLS} == set(mloss.__all__) - {"Loss", "LossResult", "SquareLoss"}


@pytest.mark.parametrize("bad", BAD_ARRAYS, ids=["None", "str", "str_array", "complex", "object"])
@pytest.mark.parametrize("cls, name", ARGUMENTS, ids=[f"{c.__name__}-{n}" for c, n in ARGUMENTS])
def test_non_numeric_inputs_and_targets_are_refused(cls, name, bad):
    args = dict(dict(CALLS)[cls], **{name: bad})
    with pytest.raises(TypeError, match=rf"^{cls.__name__}: {name} must be a real-valued array.*got "):
        cls()(**args)


@pytest.mark.parametrize("cls, name", LATER_ARGUMENTS, ids=[f"{c.__name__}-{n}" for c, n in LATER_ARGUMENTS])
def test_wrongly_shaped_arguments_are_refused(cls, name):
    args = dict(CALLS)[cls]
    wrong = np.zeros(np.shape(args[name])[:-1] + (7,), dtype=np.asarray(args[name]).dtype)
    with pytest.raises(ShapeError, match=rf"^{cls.__name__}: .*{name} of shape .*\(.*7,?\)"):
        cls()(**dict(args, **{name: wrong}))


@pytest.mark.parametrize("cls, args", CALLS, ids=[c.__name__ for c, _ in CALLS])
def test_integer_and_bool_inputs_become_float32(cls, args):
    rounded = {k: np.round(v).astype(np.int64) if k in cls.differentiable_inputs else v for k, v in args.items()}
    result = cls()(**rounded)
    as_float = cls()(**{k: v.astype(np.float32) if k in cls.differentiable_inputs else v
                        for k, v in rounded.items()})
    grads = result.grad if isinstance(result.grad, tuple) else (result.grad,)
    assert all(g.dtype == np.float32 for g in grads)
    assert result.value == as_float.value


BAD_ARGUMENTS = [
    (mloss.CrossEntropyLoss, "ignore_index", 1.5, TypeError, r"an int \(a class index\), got 1.5 \(float\)"),
    (mloss.CrossEntropyLoss, "ignore_index", "4", TypeError, r"an int"),
    (mloss.NLLLoss, "ignore_index", True, TypeError, r"an int"),
    (mloss.CrossEntropyLoss, "label_smoothing", 1.5, ValueError, r"a number in \[0, 1\], got 1.5"),
    (mloss.CrossEntropyLoss, "label_smoothing", float("nan"), ValueError, r"a number in \[0, 1\], got nan"),
    (mloss.CrossEntropyLoss, "label_smoothing", "0.1", TypeError, r"a number in \[0, 1\], got '0.1' \(str\)"),
    (mloss.SmoothL1Loss, "beta", -1, ValueError, r"a number >= 0, got -1"),
    (mloss.SmoothL1Loss, "beta", float("nan"), ValueError, r"a number >= 0, got nan"),
    (mloss.MultiMarginLoss, "p", 3, ValueError, r"1 or 2, got 3"),
    (mloss.MultiMarginLoss, "p", 4.5, TypeError, r"1 or 2, got 4.5 \(float\)"),
    (mloss.MultiMarginLoss, "p", "1", TypeError, r"1 or 2, got '1' \(str\)"),
    (mloss.MultiMarginLoss, "margin", -1.0, ValueError, r"a number >= 0, got -1.0"),
    (mloss.MultiMarginLoss, "margin", float("nan"), ValueError, r"a number >= 0, got nan"),
    (mloss.NLLLoss, "weight", np.ones((2, 3)), ShapeError, r"1-D \(one per class\), got shape \(2, 3\)"),
    (mloss.MultiMarginLoss, "weight", ["a", "b"], TypeError, r"a real-valued array"),
    (mloss.BCELoss, "weight", 1j, TypeError, r"a real-valued array"),
    (mloss.BCEWithLogitsLoss, "pos_weight", "abc", TypeError, r"a real-valued array"),
    (mloss.MSELoss, "backward_func", 3, TypeError, r"callable or a Layer, got 3 \(int\)"),
]


@pytest.mark.parametrize("cls, name, value, error, message", BAD_ARGUMENTS,
                         ids=[f"{c.__name__}-{n}-{v!r}" for c, n, v, _, _ in BAD_ARGUMENTS])
def test_bad_constructor_arguments(cls, name, value, error, message):
    with pytest.raises(error, match=rf"^{cls.__name__}: {name} must be {message}"):
        cls(**{name: value})
