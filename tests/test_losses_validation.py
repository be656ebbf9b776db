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
    vectors = rng.standard_normal((3, 3, 4))
    return [
        (mloss.MSELoss, {"input": x, "target": t}),
        (mloss.L1Loss, {"input": x, "target": t}),
        (mloss.SmoothL1Loss, {"input": x, "target": t}),
        (mloss.HuberLoss, {"input": x, "target": t}),
        (mloss.CrossEntropyLoss, {"input": x, "target": labels}),
        (mloss.NLLLoss, {"input": x, "target": labels}),
        (mloss.BCELoss, {"input": probs, "target": bits}),
        (mloss.BCEWithLogitsLoss, {"input": x, "target": bits}),
        (mloss.MultiLabelSoftMarginLoss, {"input": x, "target": bits}),
        (mloss.SoftMarginLoss, {"input": x, "target": signs}),
        (mloss.KLDivLoss, {"input": np.log(probs), "target": probs}),
        (mloss.PoissonNLLLoss, {"input": x, "target": np.round(probs * 5)}),
        (mloss.GaussianNLLLoss, {"input": x, "target": t, "var": probs}),
        (mloss.MultiMarginLoss, {"input": x, "target": labels}),
        (mloss.MultiLabelMarginLoss, {"input": x, "target": np.array([[0, -1, 0, 0], [3, 1, -1, 2], [0, 1, 2, 3]])}),
        (mloss.HingeEmbeddingLoss, {"input": np.abs(x), "target": signs}),
        (mloss.MarginRankingLoss, {"input1": x, "input2": t, "target": signs}),
        (mloss.CosineEmbeddingLoss, {"input1": x, "input2": t, "target": np.array([1, -1, 1])}),
        (mloss.TripletMarginLoss, {"anchor": vectors[0], "positive": vectors[1], "negative": vectors[2]}),
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
    with pytest.raises(TypeError, match=rf"^{cls.__name__}: {name} must (be an array of|hold) real numbers.*got "):
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
    if cls is mloss.KLDivLoss:
        rounded["input"] = np.zeros((3, 4), dtype=bool)
    result = cls()(**rounded)
    as_float = cls()(**{k: v.astype(np.float32) if k in cls.differentiable_inputs else v
                        for k, v in rounded.items()})
    grads = result.grad if isinstance(result.grad, tuple) else (result.grad,)
    assert all(g.dtype == np.float32 for g in grads)
    assert result.value == as_float.value


@pytest.mark.parametrize("cls", [c for c, _ in CALLS], ids=[c.__name__ for c, _ in CALLS])
@pytest.mark.parametrize("reduction", ["average", None, 1, "MEAN"])
def test_bad_reduction(cls, reduction):
    with pytest.raises(ValueError, match=rf"^{cls.__name__}: reduction must be one of 'mean', .*got "):
        cls(reduction=reduction)


def test_kl_div_alone_takes_batchmean():
    assert mloss.KLDivLoss(reduction="batchmean").reduction == "batchmean"
    with pytest.raises(ValueError, match=r"MSELoss: reduction must be one of 'mean', 'sum', 'none', got 'batchmean'"):
        mloss.MSELoss(reduction="batchmean")


BAD_ARGUMENTS = [
    (mloss.CrossEntropyLoss, "ignore_index", 1.5, TypeError, r"an int, got 1.5 \(float\)"),
    (mloss.CrossEntropyLoss, "ignore_index", "4", TypeError, r"an int"),
    (mloss.NLLLoss, "ignore_index", True, TypeError, r"an int"),
    (mloss.CrossEntropyLoss, "label_smoothing", 1.5, ValueError, r"a number in \[0, 1\], got 1.5"),
    (mloss.CrossEntropyLoss, "label_smoothing", float("nan"), ValueError, r"a number in \[0, 1\], got nan"),
    (mloss.CrossEntropyLoss, "label_smoothing", "0.1", TypeError, r"a number in \[0, 1\], got '0.1' \(str\)"),
    (mloss.SmoothL1Loss, "beta", -1, ValueError, r"a number >= 0, got -1.0"),
    (mloss.SmoothL1Loss, "beta", float("nan"), ValueError, r"a number >= 0, got nan"),
    (mloss.HuberLoss, "delta", 0, ValueError, r"a number > 0, got 0.0"),
    (mloss.HuberLoss, "delta", float("inf"), ValueError, r"a number > 0, got inf"),
    (mloss.MultiMarginLoss, "p", 3, ValueError, r"an int in \[1, 2\], got 3"),
    (mloss.MultiMarginLoss, "p", 4.5, TypeError, r"an int in \[1, 2\], got 4.5 \(float\)"),
    (mloss.MultiMarginLoss, "p", "1", TypeError, r"an int in \[1, 2\], got '1' \(str\)"),
    (mloss.MultiMarginLoss, "margin", -1.0, ValueError, r"a number >= 0, got -1.0"),
    (mloss.MultiMarginLoss, "margin", float("nan"), ValueError, r"a number >= 0, got nan"),
    (mloss.HingeEmbeddingLoss, "margin", -0.5, ValueError, r"a number >= 0"),
    (mloss.MarginRankingLoss, "margin", -0.5, ValueError, r"a number >= 0"),
    (mloss.MarginRankingLoss, "margin", None, TypeError, r"a number >= 0, got None"),
    (mloss.CosineEmbeddingLoss, "margin", 1.5, ValueError, r"a number in \[-1, 1\], got 1.5"),
    (mloss.TripletMarginLoss, "margin", 0.0, ValueError, r"a number > 0, got 0.0"),
    (mloss.TripletMarginLoss, "p", 0.5, ValueError, r"a number >= 1, got 0.5"),
    (mloss.TripletMarginLoss, "p", float("inf"), ValueError, r"a number >= 1, got inf"),
    (mloss.TripletMarginLoss, "eps", -1e-6, ValueError, r"a number >= 0"),
    (mloss.TripletMarginLoss, "swap", 1, TypeError, r"True or False, got 1 \(int\)"),
    (mloss.GaussianNLLLoss, "eps", 0.0, ValueError, r"a number > 0, got 0.0"),
    (mloss.GaussianNLLLoss, "full", "no", TypeError, r"True or False, got 'no' \(str\)"),
    (mloss.PoissonNLLLoss, "eps", -1.0, ValueError, r"a number > 0"),
    (mloss.PoissonNLLLoss, "log_input", None, TypeError, r"True or False, got None"),
    (mloss.KLDivLoss, "log_target", "True", TypeError, r"True or False"),
    (mloss.NLLLoss, "weight", np.ones((2, 3)), ShapeError, r"1-D \(one per class\), got shape \(2, 3\)"),
    (mloss.MultiMarginLoss, "weight", ["a", "b"], TypeError, r"hold real numbers .*got strings"),
    (mloss.BCELoss, "weight", 1j, TypeError, r"hold real numbers .*got complex numbers"),
    (mloss.BCEWithLogitsLoss, "pos_weight", "abc", TypeError, r"hold real numbers .*got strings"),
    (mloss.MSELoss, "backward_func", 3, TypeError, r"callable or a Layer, got 3 \(int\)"),
]


@pytest.mark.parametrize("cls, name, value, error, message", BAD_ARGUMENTS,
                         ids=[f"{c.__name__}-{n}-{v!r}" for c, n, v, _, _ in BAD_ARGUMENTS])
def test_bad_constructor_arguments(cls, name, value, error, message):
    with pytest.raises(error, match=rf"^{cls.__name__}: {name} must (be )?{message}"):
        cls(**{name: value})


BAD_VALUES = [
    (mloss.BCELoss, {"target": np.array([[0.0, 1.5, 0.0, 1.0]] * 3)}, r"target must be a probability in \[0, 1\], "
                                                                      r"got 1.5 at position \(0, 1\)"),
    (mloss.BCELoss, {"input": np.full((3, 4), 1.2)}, r"input must be probabilities in \[0, 1\]"),
    (mloss.HingeEmbeddingLoss, {"target": np.zeros((3, 4))}, r"target must be 1 or -1 \(not 0/1 labels\), "
                                                             r"got 0.0 at position \(0, 0\)"),
    (mloss.CosineEmbeddingLoss, {"target": np.array([1, 0, 1])}, r"target must be 1 or -1 .*got 0 at position \(1,\)"),
    (mloss.GaussianNLLLoss, {"var": -np.ones((3, 4))}, r"var must be a variance >= 0, got -1.0 at position \(0, 0\)"),
    (mloss.MultiLabelMarginLoss, {"target": np.array([[0, -2, 0, 0]] * 3)}, r"target must be a class index in "
                                                                           r"\[0, 4\) or -1 .*got -2"),
    (mloss.MultiLabelMarginLoss, {"target": np.full((3, 4), 4)}, r"target must be .*got 4 at position \(0, 0\)"),
    (mloss.MultiLabelMarginLoss, {"target": np.full((3, 4), 0.5)}, r"target must hold integers, got 0.5"),
    (mloss.CrossEntropyLoss, {"target": np.array([0, 4, 1])}, r"target must be a class index in \[0, 4\) "
                                                              r"for 4 classes, got 4 at position \(1,\)"),
]


@pytest.mark.parametrize("cls, change, message", BAD_VALUES, ids=[f"{c.__name__}-{i}" for i, (c, _, _) in
                                                                   enumerate(BAD_VALUES)])
def test_bad_values_are_refused(cls, change, message):
    with pytest.raises(ValueError, match=rf"^{cls.__name__}: {message}"):
        cls()(**dict(dict(CALLS)[cls], **change))


def test_shape_errors_say_what_was_expected():
    x = np.zeros((3, 4))
    with pytest.raises(ShapeError, match=r"^GaussianNLLLoss: var of shape \(4,\) does not fit the input's shape "
                                         r"\(3, 4\): expected \(3, 4\), \(3,\), \(3, 4\) with one axis of size 1"):
        mloss.GaussianNLLLoss()(x, x, np.ones(4))
    with pytest.raises(ShapeError, match=r"^GaussianNLLLoss: var of shape \(1, 1\)"):
        mloss.GaussianNLLLoss()(x, x, np.ones((1, 1)))            # only one axis may be shared, as in PyTorch
    with pytest.raises(ShapeError, match=r"^TripletMarginLoss: expected negative of shape \(3, 4\) "
                                         r"\(anchor's shape\), got \(4,\)"):
        mloss.TripletMarginLoss()(x, x, np.zeros(4))
    with pytest.raises(ShapeError, match=r"^TripletMarginLoss: expected anchor of shape \(N, D\) or \(D,\), "
                                         r"got \(2, 3, 4\)"):
        mloss.TripletMarginLoss()(*np.zeros((3, 2, 3, 4)))
    with pytest.raises(ShapeError, match=r"^CosineEmbeddingLoss: expected target of shape \(3,\), got \(3, 1\)"):
        mloss.CosineEmbeddingLoss()(x, x, np.ones((3, 1)))
    with pytest.raises(ShapeError, match=r"^MultiLabelSoftMarginLoss: weight of shape \(3,\) does not broadcast"):
        mloss.MultiLabelSoftMarginLoss(weight=np.ones(3))(x, x)
    with pytest.raises(ShapeError, match=r"^MultiLabelMarginLoss: expected input of shape \(N, C\) or \(C,\)"):
        mloss.MultiLabelMarginLoss()(np.zeros((2, 3, 4)), np.zeros((2, 3, 4), dtype=int))
    with pytest.raises(TypeError, match=r"^MSELoss: input must be an array of real numbers, got a list"):
        mloss.MSELoss()([[1.0, 2.0], [3.0]], np.zeros(2))


def test_targets_that_pytorch_uses_as_numbers_are_accepted():
    x = np.array([0.5, -0.5])
    assert mloss.SoftMarginLoss()(x, np.array([0.0, 2.0])).value == pytest.approx(
        np.mean(np.logaddexp(0, [0.0, 1.0])))
    assert mloss.MarginRankingLoss(margin=0.25)(x, x, np.array([0, 0])).value == pytest.approx(0.25)
    kl = mloss.KLDivLoss(reduction="none")(x, np.array([-1.0, 0.5]))
    assert np.isnan(kl.value[0]) and np.isfinite(kl.value[1])      # a negative probability gives NaN
