import doctest
import importlib
import math

import numpy as np
import pytest

import mtorch
from mtorch import layers
from mtorch.errors import ShapeError
from mtorch.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss,
                         L1Loss, LossResult, MSELoss, MultiLabelMarginLoss, MultiLabelSoftMarginLoss,
                         MultiMarginLoss, NLLLoss, PoissonNLLLoss, SmoothL1Loss, SoftMarginLoss, SquareLoss)

REDUCTIONS = ("mean", "sum", "none")


def _softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _dirichlet(rng, shape):
    """Random probability vectors along axis 1 (the class axis)."""
    w = rng.random(shape) + 0.1
    return w / w.sum(axis=1, keepdims=True)


def _cases(rng):
    """(name, loss class, constructor kwargs, input, target) for every loss and option."""
    x, t = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    logits, labels = rng.standard_normal((4, 5)), rng.integers(0, 5, 4)
    spatial, spatial_labels = rng.standard_normal((2, 3, 2, 2)), rng.integers(0, 3, (2, 2, 2))
    probs, bits = rng.uniform(0.05, 0.95, (3, 4)), rng.integers(0, 2, (3, 4)).astype(float)
    weight, some_ignored = rng.uniform(0.2, 2.0, 5), np.where(np.arange(4) == 1, -100, labels)
    spatial_ignored = np.where(rng.random((2, 2, 2)) < 0.3, 1, spatial_labels)
    signs, counts = np.where(rng.random((3, 4)) < 0.5, -1.0, 1.0), rng.integers(0, 6, (3, 4)).astype(float)
    log_q, p = np.log(_dirichlet(rng, (4, 5))), _dirichlet(rng, (4, 5))
    label_lists = np.array([[2, 0, -1, 3, 1], [4, -1, 0, 0, 0], [1, 3, 3, -1, 2], [0, 1, 2, 3, -1]])
    return [
        ("mse", MSELoss, {}, x, t),
        ("l1", L1Loss, {}, x, t),
        ("smooth_l1", SmoothL1Loss, {}, x, t),
        ("smooth_l1_beta0.5", SmoothL1Loss, {"beta": 0.5}, x, t),
        ("smooth_l1_beta0", SmoothL1Loss, {"beta": 0.0}, x, t),
        ("ce_index", CrossEntropyLoss, {}, logits, labels),
        ("ce_index_smooth", CrossEntropyLoss, {"label_smoothing": 0.1}, logits, labels),
        ("ce_probs", CrossEntropyLoss, {}, logits, _dirichlet(rng, (4, 5))),
        ("ce_probs_smooth", CrossEntropyLoss, {"label_smoothing": 0.25}, logits, _dirichlet(rng, (4, 5))),
        ("ce_spatial", CrossEntropyLoss, {}, spatial, spatial_labels),
        ("ce_spatial_smooth", CrossEntropyLoss, {"label_smoothing": 0.2}, spatial, spatial_labels),
        ("ce_spatial_probs", CrossEntropyLoss, {}, spatial, _dirichlet(rng, spatial.shape)),
        ("ce_unbatched", CrossEntropyLoss, {"label_smoothing": 0.1}, logits[0], np.int64(3)),
        ("ce_weight", CrossEntropyLoss, {"weight": weight}, logits, labels),
        ("ce_weight_smooth", CrossEntropyLoss, {"weight": weight, "label_smoothing": 0.3}, logits, labels),
        ("ce_weight_probs_smooth", CrossEntropyLoss, {"weight": weight, "label_smoothing": 0.1},
         logits, _dirichlet(rng, (4, 5))),
        ("ce_ignore", CrossEntropyLoss, {}, logits, some_ignored),
        ("ce_ignore_weight_smooth", CrossEntropyLoss, {"weight": weight, "label_smoothing": 0.2},
         logits, some_ignored),
        ("ce_spatial_ignore_weight", CrossEntropyLoss, {"ignore_index": 1, "weight": weight[:3],
                                                        "label_smoothing": 0.1}, spatial, spatial_ignored),
        ("nll", NLLLoss, {}, logits, labels),
        ("nll_spatial", NLLLoss, {}, spatial, spatial_labels),
        ("nll_unbatched", NLLLoss, {}, logits[0], np.int64(2)),
        ("nll_ignore_weight", NLLLoss, {"weight": weight}, logits, some_ignored),
        ("nll_spatial_ignore_weight", NLLLoss, {"ignore_index": 1, "weight": weight[:3]}, spatial, spatial_ignored),
        ("bce", BCELoss, {}, probs, bits),
        ("bce_soft", BCELoss, {}, probs, rng.random((3, 4))),
        ("bce_logits", BCEWithLogitsLoss, {}, 3 * x, bits),
        ("bce_logits_soft", BCEWithLogitsLoss, {}, 3 * x, rng.random((3, 4))),
        ("bce_weight", BCELoss, {"weight": rng.uniform(0.2, 2.0, 4)}, probs, rng.random((3, 4))),
        ("bce_logits_weights", BCEWithLogitsLoss, {"weight": rng.uniform(0.2, 2.0, (3, 1)),
                                                   "pos_weight": rng.uniform(0.2, 3.0, 4)}, 3 * x, bits),
        ("bce_logits_pos_weight_soft", BCEWithLogitsLoss, {"pos_weight": rng.uniform(0.2, 3.0, 4)},
         3 * x, rng.random((3, 4))),
        ("margin_p1", MultiMarginLoss, {}, logits, labels),
        ("margin_p2", MultiMarginLoss, {"p": 2}, logits, labels),
        ("margin_p1_m0.5", MultiMarginLoss, {"margin": 0.5}, logits, labels),
        ("margin_p2_m2", MultiMarginLoss, {"p": 2, "margin": 2.0}, logits, labels),
        ("margin_unbatched", MultiMarginLoss, {}, logits[1], np.int64(0)),
        ("margin_p1_weight", MultiMarginLoss, {"weight": weight}, logits, labels),
        ("margin_p2_weight", MultiMarginLoss, {"p": 2, "weight": weight}, logits, labels),
        ("huber", HuberLoss, {}, 2 * x, t),
        ("huber_delta0.5", HuberLoss, {"delta": 0.5}, x, t),
        ("kl_div", KLDivLoss, {}, log_q, p),
        ("kl_div_zero_target", KLDivLoss, {}, log_q, np.where(p < 0.15, 0.0, p)),
        ("kl_div_log_target", KLDivLoss, {"log_target": True}, log_q, np.log(p)),
        ("poisson", PoissonNLLLoss, {}, x, counts),
        ("poisson_full", PoissonNLLLoss, {"full": True}, x, counts),
        ("poisson_rate", PoissonNLLLoss, {"log_input": False}, np.abs(x) + 0.1, counts),
        ("poisson_rate_full_eps", PoissonNLLLoss, {"log_input": False, "full": True, "eps": 0.1},
         np.abs(x), counts),
        ("soft_margin", SoftMarginLoss, {}, 3 * x, signs),
        ("multilabel_soft_margin", MultiLabelSoftMarginLoss, {}, 3 * x, bits),
        ("multilabel_soft_margin_weight", MultiLabelSoftMarginLoss, {"weight": rng.uniform(0.2, 2.0, 4)},
         3 * x, rng.random((3, 4))),
        ("multilabel_soft_margin_unbatched", MultiLabelSoftMarginLoss, {}, x[0], bits[0]),
        ("multilabel_margin", MultiLabelMarginLoss, {}, logits, label_lists),
        ("multilabel_margin_unbatched", MultiLabelMarginLoss, {}, logits[2], label_lists[2]),
        ("hinge_embedding", HingeEmbeddingLoss, {}, 2 * np.abs(x), signs),
        ("hinge_embedding_margin2", HingeEmbeddingLoss, {"margin": 2.0}, 2 * np.abs(x), signs),
    ]


CASE_NAMES = [c[0] for c in _cases(np.random.default_rng(0))]


def _case(name):
    return next(c for c in _cases(np.random.default_rng(7)) if c[0] == name)


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", CASE_NAMES)
def test_gradcheck(name, reduction):
    _, cls, kwargs, x, t = _case(name)
    assert mtorch.gradcheck(cls(reduction=reduction, **kwargs), x, target=t)


def test_gradcheck_catches_a_wrong_loss_gradient():
    class WrongMSE(MSELoss):
        def forward(self, input, target):
            value, grad = super().forward(input, target)
            return value, grad * 1.01

    with pytest.raises(mtorch.GradcheckError, match="WrongMSE"):
        mtorch.gradcheck(WrongMSE(), np.ones((2, 2)), target=np.zeros((2, 2)))


def _mean_denominator(cls, kwargs, x, t, n_losses):
    """What 'mean' divides by: the number of losses, or for class-index targets of
    CrossEntropyLoss/NLLLoss the sum of the class weights of the targets not ignored."""
    if cls not in (CrossEntropyLoss, NLLLoss) or np.shape(t) == np.shape(x):
        return n_losses
    t = np.asarray(t)
    kept = t != kwargs.get("ignore_index", -100)
    n_classes = np.shape(x)[1 if np.ndim(x) > 1 else 0]
    return np.asarray(kwargs.get("weight", np.ones(n_classes)))[t[kept]].sum()


@pytest.mark.parametrize("name", CASE_NAMES)
def test_reductions_agree(name):
    _, cls, kwargs, x, t = _case(name)
    none, total, mean = (cls(reduction=r, **kwargs)(x, t) for r in ("none", "sum", "mean"))
    assert none.grad.shape == total.grad.shape == mean.grad.shape == np.shape(x)
    assert isinstance(total.value, float) and isinstance(mean.value, float)
    count = _mean_denominator(cls, kwargs, x, t, np.size(none.value))
    np.testing.assert_allclose(total.value, np.sum(none.value), rtol=1e-12)
    np.testing.assert_allclose(mean.value, total.value / count, rtol=1e-12)
    np.testing.assert_allclose(none.grad, total.grad, rtol=1e-12)
    np.testing.assert_allclose(mean.grad, total.grad / count, rtol=1e-12)


# ---------------------------------------------------------- hand-computed values
def test_mse_values_by_hand():
    x, t = np.array([1.0, 2.0]), np.array([0.0, 0.0])
    loss = MSELoss()(x, t)
    assert loss.value == pytest.approx(2.5)
    np.testing.assert_allclose(loss.grad, [1.0, 2.0])
    np.testing.assert_allclose(MSELoss(reduction="none")(x, t).value, [1.0, 4.0])
    summed = MSELoss(reduction="sum")(x, t)
    assert summed.value == pytest.approx(5.0)
    np.testing.assert_allclose(summed.grad, [2.0, 4.0])
    assert SquareLoss is MSELoss


def test_l1_values_by_hand():
    loss = L1Loss()(np.array([1.0, -2.0, 0.5]), np.array([0.0, 0.0, 0.5]))
    assert loss.value == pytest.approx(1.0)
    np.testing.assert_allclose(loss.grad, [1 / 3, -1 / 3, 0.0])


def test_smooth_l1_values_by_hand():
    x, t = np.array([0.5, 3.0, -1.5]), np.zeros(3)
    loss = SmoothL1Loss(reduction="none")(x, t)
    np.testing.assert_allclose(loss.value, [0.125, 2.5, 1.0])
    np.testing.assert_allclose(loss.grad, [0.5, 1.0, -1.0])
    half = SmoothL1Loss(reduction="none", beta=2.0)(x, t)
    np.testing.assert_allclose(half.value, [0.0625, 2.0, 0.5625])
    np.testing.assert_allclose(half.grad, [0.25, 1.0, -0.75])
    zero = SmoothL1Loss(reduction="none", beta=0.0)(x, t)
    np.testing.assert_allclose(zero.value, [0.5, 3.0, 1.5])
    np.testing.assert_allclose(zero.grad, [1.0, 1.0, -1.0])


def test_cross_entropy_values_by_hand():
    loss = CrossEntropyLoss()(np.array([[2.0, 0.0, 0.0]]), np.array([0]))
    assert loss.value == pytest.approx(-math.log(math.e ** 2 / (math.e ** 2 + 2)))
    p = [math.e ** 2 / (math.e ** 2 + 2), 1 / (math.e ** 2 + 2), 1 / (math.e ** 2 + 2)]
    np.testing.assert_allclose(loss.grad, [[p[0] - 1, p[1], p[2]]])


def test_cross_entropy_against_plain_numpy(rng):
    z, y, eps = rng.standard_normal((6, 4)), rng.integers(0, 4, 6), 0.3
    p = _softmax(z)
    q = (1 - eps) * np.eye(4)[y] + eps / 4
    loss = CrossEntropyLoss(label_smoothing=eps)(z, y)
    assert loss.value == pytest.approx(np.mean(-(q * np.log(p)).sum(axis=1)), rel=1e-12)
    np.testing.assert_allclose(loss.grad, (p - q) / 6, rtol=1e-10, atol=1e-15)
    # one-hot (even as integers) and index targets give the same loss and gradient
    for one_hot in (np.eye(4)[y], np.eye(4, dtype=int)[y]):
        as_probs = CrossEntropyLoss(label_smoothing=eps)(z, one_hot)
        assert as_probs.value == pytest.approx(loss.value, rel=1e-12)
        np.testing.assert_allclose(as_probs.grad, loss.grad, rtol=1e-10, atol=1e-15)


def test_cross_entropy_probability_targets_not_summing_to_one(rng):
    z, t = rng.standard_normal((3, 4)), rng.random((3, 4))
    loss = CrossEntropyLoss(reduction="sum")(z, t)
    p = _softmax(z)
    assert loss.value == pytest.approx(-(t * np.log(p)).sum(), rel=1e-12)
    np.testing.assert_allclose(loss.grad, p * t.sum(axis=1, keepdims=True) - t, rtol=1e-10)


def test_cross_entropy_spatial_equals_flattened(rng):
    z, y = rng.standard_normal((2, 3, 4, 5)), rng.integers(0, 3, (2, 4, 5))
    flat_z, flat_y = z.transpose(0, 2, 3, 1).reshape(-1, 3), y.reshape(-1)
    for eps in (0.0, 0.2):
        spatial = CrossEntropyLoss(reduction="none", label_smoothing=eps)(z, y)
        flat = CrossEntropyLoss(reduction="none", label_smoothing=eps)(flat_z, flat_y)
        assert spatial.value.shape == (2, 4, 5)
        np.testing.assert_allclose(spatial.value.reshape(-1), flat.value, rtol=1e-12)
        np.testing.assert_allclose(spatial.grad.transpose(0, 2, 3, 1).reshape(-1, 3), flat.grad,
                                   rtol=1e-10, atol=1e-15)


def test_class_weights_and_ignore_index_by_hand():
    z, y = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6]])), np.array([0, 1, -100])
    w = np.array([2.0, 1.0, 3.0])
    nll = NLLLoss(weight=w)(z, y)
    assert nll.value == pytest.approx((2 * math.log(2) + 1 * -math.log(0.6)) / (2 + 1))
    np.testing.assert_allclose(nll.grad, [[-2 / 3, 0, 0], [0, -1 / 3, 0], [0, 0, 0]])
    # z are log-probabilities already, so softmax(z) = exp(z) and CE equals NLL
    ce = CrossEntropyLoss(weight=w)(z, y)
    assert ce.value == pytest.approx(nll.value, rel=1e-12)
    np.testing.assert_allclose(ce.grad, [[(0.5 - 1) * 2 / 3, 0.25 * 2 / 3, 0.25 * 2 / 3],
                                         [0.1 / 3, (0.6 - 1) / 3, 0.3 / 3], [0, 0, 0]], atol=1e-15)
    smooth = CrossEntropyLoss(reduction="none", weight=w, label_smoothing=0.3)(z, y)
    expected = [0.7 * 2 * math.log(2) - 0.1 * (w * z[0]).sum(), -0.7 * math.log(0.6) - 0.1 * (w * z[1]).sum(), 0]
    np.testing.assert_allclose(smooth.value, expected, rtol=1e-12)


def test_all_targets_ignored_gives_nan_mean_and_zero_grad():
    for loss in (CrossEntropyLoss(), CrossEntropyLoss(label_smoothing=0.2), NLLLoss()):
        result = loss(np.zeros((2, 3)), np.array([-100, -100]))
        assert math.isnan(result.value) and not result.grad.any()
        assert type(loss)(reduction="sum")(np.zeros((2, 3)), np.array([-100, -100])).value == 0.0


def test_nll_values_by_hand(rng):
    loss = NLLLoss()(np.log(np.array([[0.5, 0.5], [0.9, 0.1]])), np.array([0, 1]))
    assert loss.value == pytest.approx((math.log(2) + math.log(10)) / 2)
    np.testing.assert_allclose(loss.grad, [[-0.5, 0.0], [0.0, -0.5]])
    z, y = rng.standard_normal((5, 3)), rng.integers(0, 3, 5)
    log_p = np.log(_softmax(z))
    assert NLLLoss()(log_p, y).value == pytest.approx(CrossEntropyLoss()(z, y).value, rel=1e-12)


def test_bce_values_by_hand():
    loss = BCELoss()(np.array([0.8, 0.4]), np.array([1.0, 0.0]))
    assert loss.value == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)
    np.testing.assert_allclose(loss.grad, [(0.8 - 1) / (0.8 * 0.2) / 2, 0.4 / (0.4 * 0.6) / 2])


def test_bce_clamps_log_at_minus_100():
    loss = BCELoss(reduction="none")(np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0]))
    np.testing.assert_allclose(loss.value, [100.0, 100.0, 0.0, 0.0])
    np.testing.assert_allclose(loss.grad, [-1e12, 1e12, 0.0, 0.0])


def test_bce_with_logits_values_by_hand(rng):
    loss = BCEWithLogitsLoss()(np.array([0.0, 2.0]), np.array([1.0, 0.0]))
    assert loss.value == pytest.approx((math.log(2) + math.log(1 + math.e ** 2)) / 2)
    np.testing.assert_allclose(loss.grad, [(0.5 - 1) / 2, 1 / (1 + math.exp(-2)) / 2])
    z, t = rng.standard_normal((3, 4)), rng.random((3, 4))
    sig = 1 / (1 + np.exp(-z))
    assert BCEWithLogitsLoss()(z, t).value == pytest.approx(BCELoss()(sig, t).value, rel=1e-12)


def test_binary_weights_by_hand():
    x, y = np.array([[0.0, 2.0]]), np.array([[1.0, 0.0]])
    loss = BCEWithLogitsLoss(reduction="none", weight=[3.0, 0.5], pos_weight=[4.0, 10.0])(x, y)
    # positive term -log sigmoid(0) = log 2 weighted 3 * 4; negative term log(1 + e^2) weighted 0.5
    np.testing.assert_allclose(loss.value, [[12 * math.log(2), 0.5 * math.log(1 + math.e ** 2)]])
    np.testing.assert_allclose(loss.grad, [[3 * 4 * (0.5 - 1), 0.5 / (1 + math.exp(-2))]])
    probs = BCELoss(reduction="none", weight=[[2.0], [0.5]])(np.array([[0.8], [0.4]]), np.array([[1.0], [0.0]]))
    np.testing.assert_allclose(probs.value, [[-2 * math.log(0.8)], [-0.5 * math.log(0.6)]])
    np.testing.assert_allclose(probs.grad, [[2 * -0.2 / 0.16], [0.5 * 0.4 / 0.24]])


def test_multi_margin_values_by_hand():
    x, y = np.array([[0.5, 0.0, 2.0], [3.0, 0.0, 2.5]]), np.array([0, 0])
    hinge = MultiMarginLoss(reduction="none")(x, y)
    # row 0: h = [-, 0.5, 2.5]; row 1: h = [-, -2 (inactive), 0.5]
    np.testing.assert_allclose(hinge.value, [3.0 / 3, 0.5 / 3])
    np.testing.assert_allclose(hinge.grad, [[-2 / 3, 1 / 3, 1 / 3], [-1 / 3, 0.0, 1 / 3]])
    squared = MultiMarginLoss(reduction="none", p=2)(x, y)
    np.testing.assert_allclose(squared.value, [(0.25 + 6.25) / 3, 0.25 / 3])
    np.testing.assert_allclose(squared.grad, [[-6 / 3, 1 / 3, 5 / 3], [-1 / 3, 0.0, 1 / 3]])
    wide = MultiMarginLoss(reduction="none", margin=4.0)(x, y)
    np.testing.assert_allclose(wide.value, [(3.5 + 5.5) / 3, (1.0 + 3.5) / 3])
    # exactly at the margin (h = 0) a class is inactive, as in PyTorch
    kink = MultiMarginLoss(p=1)(np.array([[1.0, 0.0, 0.0]]), np.array([0]))
    assert kink.value == 0.0 and not kink.grad.any()
    # a class weight scales the whole term of a sample whose target is that class
    weighted = MultiMarginLoss(weight=[2.0, 1.0, 1.0])(x, np.array([0, 1]))
    # row 1 with target 1: h = [1 - 0 + 3, -, 1 - 0 + 2.5] = [4, -, 3.5]
    assert weighted.value == pytest.approx((2 * 3.0 / 3 + 7.5 / 3) / 2)
    np.testing.assert_allclose(weighted.grad, [[-2 / 3, 1 / 3, 1 / 3], [1 / 6, -1 / 3, 1 / 6]])


@pytest.mark.parametrize("delta, value, grad", [(1.0, [0.125, 2.5, 1.0], [0.5, 1.0, -1.0]),
                                                 (2.0, [0.125, 2 * (3 - 1), 1.125], [0.5, 2.0, -1.5])])
def test_huber_values_by_hand(delta, value, grad):
    x = np.array([0.5, 3.0, -1.5])
    loss = HuberLoss(reduction="none", delta=delta)(x, np.zeros(3))
    np.testing.assert_allclose(loss.value, value)
    np.testing.assert_allclose(loss.grad, grad)                  # an outlier's gradient is capped at delta
    smooth_l1 = SmoothL1Loss(reduction="none", beta=delta)(x, np.zeros(3))
    np.testing.assert_allclose(loss.value, delta * smooth_l1.value)


def test_kl_div_values_by_hand():
    q, p = np.array([[0.5, 0.5], [0.25, 0.75]]), np.array([[0.9, 0.1], [0.0, 1.0]])
    kl = [0.9 * math.log(1.8) + 0.1 * math.log(0.2), math.log(1 / 0.75)]      # p = 0 adds nothing
    batchmean = KLDivLoss(reduction="batchmean")(np.log(q), p)
    assert batchmean.value == pytest.approx(sum(kl) / 2)
    np.testing.assert_allclose(batchmean.grad, -p / 2)
    assert KLDivLoss()(np.log(q), p).value == pytest.approx(sum(kl) / 4)     # 'mean' divides by N * C
    logged = KLDivLoss(reduction="sum", log_target=True)(np.log(q[:1]), np.log(p[:1]))
    assert logged.value == pytest.approx(kl[0])
    np.testing.assert_allclose(logged.grad, -p[:1])
    assert KLDivLoss(reduction="sum")(np.log(q), q).value == pytest.approx(0.0, abs=1e-15)
    assert KLDivLoss(reduction="batchmean")(np.float64(-1.0), np.float64(0.5)).value == pytest.approx(
        0.5 * (math.log(0.5) + 1))                                            # a scalar's batch is 1


def test_poisson_nll_values_by_hand():
    x, y = np.array([0.0, math.log(2.0)]), np.array([1.0, 3.0])
    loss = PoissonNLLLoss(reduction="none")(x, y)
    np.testing.assert_allclose(loss.value, [1.0, 2 - 3 * math.log(2)])
    np.testing.assert_allclose(loss.grad, [0.0, -1.0])
    full = PoissonNLLLoss(reduction="none", full=True)(x, y)
    # Stirling's log(3!) for y = 3; nothing for y <= 1
    np.testing.assert_allclose(full.value - loss.value, [0.0, 3 * math.log(3) - 3 + 0.5 * math.log(6 * math.pi)])
    np.testing.assert_allclose(full.grad, loss.grad)
    rate = PoissonNLLLoss(reduction="none", log_input=False, eps=0.5)(np.array([1.5, 0.0]), np.array([3.0, 2.0]))
    np.testing.assert_allclose(rate.value, [1.5 - 3 * math.log(2.0), -2 * math.log(0.5)])
    np.testing.assert_allclose(rate.grad, [1 - 3 / 2.0, 1 - 2 / 0.5])


def test_soft_margin_values_by_hand():
    loss = SoftMarginLoss(reduction="none")(np.array([0.0, 2.0, -1.0]), np.array([1.0, -1.0, -1.0]))
    np.testing.assert_allclose(loss.value, [math.log(2), math.log(1 + math.e ** 2), math.log(1 + math.e ** -1)])
    np.testing.assert_allclose(loss.grad, [-0.5, 1 / (1 + math.exp(-2.0)), 1 / (1 + math.exp(1.0))])


def test_multilabel_soft_margin_values_by_hand():
    x, y, w = np.array([[0.0, 2.0], [1.0, -1.0]]), np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([2.0, 1.0])
    loss = MultiLabelSoftMarginLoss(reduction="none", weight=w)(x, y)
    softplus = np.logaddexp(0, [0.0, 2.0, -1.0, 1.0])           # log(1 + e^z)
    np.testing.assert_allclose(loss.value, [(2 * softplus[0] + softplus[1]) / 2,
                                            (2 * softplus[2] + softplus[3]) / 2])
    np.testing.assert_allclose(loss.grad, w * (1 / (1 + np.exp(-x)) - y) / 2)
    mean = MultiLabelSoftMarginLoss(weight=w)(x, y)
    assert mean.value == pytest.approx(loss.value.mean())                     # 'mean' divides by N = 2
    np.testing.assert_allclose(mean.grad, loss.grad / 2)


def test_multilabel_margin_values_by_hand():
    x = np.array([0.1, 0.2, 0.4, 0.8])
    loss = MultiLabelMarginLoss()(x, np.array([3, 0, -1, 1]))       # the set {3, 0}; 1 after the -1 is ignored
    # pairs (3, 1), (3, 2), (0, 1), (0, 2): h = 0.4, 0.6, 1.1, 1.3
    assert loss.value == pytest.approx(3.4 / 4)
    np.testing.assert_allclose(loss.grad, [-0.5, 0.5, 0.5, -0.5])
    twice = MultiLabelMarginLoss()(x, np.array([3, 3, -1, 0]))      # listed twice, counted twice
    assert twice.value == pytest.approx(2 * (0.3 + 0.4 + 0.6) / 4)
    np.testing.assert_allclose(twice.grad, [0.5, 0.5, 0.5, -1.5])
    batch = MultiLabelMarginLoss(reduction="none")(np.array([[5.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
                                                   np.array([[0, -1, 2], [0, 1, 2]]))
    np.testing.assert_allclose(batch.value, [0.0, 0.0])             # margin met; every class in the set
    assert not batch.grad.any()


def test_hinge_embedding_values_by_hand():
    x, y = np.array([0.3, 0.4, 2.0, 1.0]), np.array([1, -1, -1, -1])
    loss = HingeEmbeddingLoss(reduction="sum")(x, y)
    assert loss.value == pytest.approx(0.3 + 0.6)
    # at x = margin exactly the dissimilar pair still gets -1, as PyTorch's clamp passes it
    np.testing.assert_allclose(loss.grad, [1.0, -1.0, 0.0, -1.0])
    assert HingeEmbeddingLoss(reduction="sum", margin=3.0)(x, y).value == pytest.approx(0.3 + 2.6 + 1.0 + 2.0)


@pytest.mark.parametrize("family", ["regression", "classification", "binary", "distribution", "margin", "embedding"])
def test_docstring_examples_run_as_written(family):
    results = doctest.testmod(importlib.import_module(f"mtorch.loss.{family}"), extraglobs={"np": np},
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert results.attempted > 0 and results.failed == 0


# ------------------------------------------------------------- extreme logits
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_are_finite(dtype):
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]], dtype=dtype)
    ce = CrossEntropyLoss(reduction="none")(z, np.array([1, 2]))
    np.testing.assert_allclose(ce.value, [2000.0, 0.0])
    np.testing.assert_allclose(ce.grad, [[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]])
    smooth = CrossEntropyLoss(reduction="none", label_smoothing=0.3)(z, np.array([0, 2]))
    np.testing.assert_allclose(smooth.value, [0.1 * (2000 + 1000), 0.1 * (2000 + 2000)], rtol=1e-6)
    probs = CrossEntropyLoss(reduction="none")(z, np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]))
    np.testing.assert_allclose(probs.value, [1000.0, 0.0])
    logits = BCEWithLogitsLoss(reduction="none")(z, np.eye(2, 3))
    np.testing.assert_allclose(logits.value, [[0.0, 0.0, math.log(2)], [0.0, 1000.0, 1000.0]], rtol=1e-6)
    np.testing.assert_allclose(logits.grad, [[0.0, 0.0, 0.5], [0.0, -1.0, 1.0]], rtol=1e-6)
    margin = MultiMarginLoss(reduction="none")(z, np.array([1, 2]))
    np.testing.assert_allclose(margin.value, [(2001 + 1001) / 3, 0.0])
    for result in (ce, smooth, probs, logits, margin):
        assert np.all(np.isfinite(result.value)) and np.all(np.isfinite(result.grad))
        assert result.grad.dtype == dtype


def test_grad_dtype_follows_input():
    for loss, x, t in [(MSELoss(), np.ones((2, 3), np.float32), np.zeros((2, 3))),
                       (CrossEntropyLoss(label_smoothing=0.1), np.ones((2, 3), np.float32), [0, 2]),
                       (MultiMarginLoss(p=2), np.ones((2, 3), np.float32), [0, 2]),
                       (BCELoss(), np.full((2, 3), 0.5, np.float32), np.ones((2, 3)))]:
        assert loss(x, t).grad.dtype == np.float32
    assert MSELoss()(np.array([1, 2]), np.array([0, 0])).grad.dtype == np.float32


# ------------------------------------------------------------- bad input
@pytest.mark.parametrize("loss", [MSELoss(), L1Loss(), SmoothL1Loss(), BCELoss(), BCEWithLogitsLoss()])
def test_elementwise_wrong_target_shape(loss):
    with pytest.raises(ShapeError, match=rf"{type(loss).__name__}.*\(4, 1\).*got \(4,\)"):
        loss(np.full((4, 1), 0.5), np.zeros(4))


@pytest.mark.parametrize("loss", [CrossEntropyLoss(), NLLLoss(), MultiMarginLoss()])
def test_class_target_wrong_shape(loss):
    with pytest.raises(ShapeError, match=rf"{type(loss).__name__}: expected target of shape \(4,\).*got \(5,\)"):
        loss(np.zeros((4, 3)), np.zeros(5, dtype=int))
    with pytest.raises(ShapeError, match=r"got \(4, 1\)"):
        loss(np.zeros((4, 3)), np.zeros((4, 1), dtype=int))


def test_cross_entropy_shape_error_mentions_probabilities():
    with pytest.raises(ShapeError, match=r"\(2,\) \(class indices\) or \(2, 3\) \(class probabilities\)"):
        CrossEntropyLoss()(np.zeros((2, 3)), np.zeros((2, 4)))


@pytest.mark.parametrize("loss", [CrossEntropyLoss(), NLLLoss(), MultiMarginLoss()])
@pytest.mark.parametrize("bad", [3, -1, 7])
def test_class_index_out_of_range(loss, bad):
    with pytest.raises(ValueError, match=rf"{type(loss).__name__}: target must be a class index in \[0, 3\) "
                                         rf"for 3 classes, got {bad} at position \(1,\)"):
        loss(np.zeros((2, 3)), np.array([0, bad]))


@pytest.mark.parametrize("loss", [CrossEntropyLoss(), NLLLoss(), MultiMarginLoss()])
def test_class_targets_must_be_integers(loss):
    with pytest.raises(ValueError, match=rf"{type(loss).__name__}: target must hold integers, got 1.5 at position \(1,\)"):
        loss(np.zeros((2, 3)), np.array([0.0, 1.5]))
    with pytest.raises(ValueError, match="must hold integers, got nan"):
        loss(np.zeros((2, 3)), np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="dtype bool"):
        loss(np.zeros((2, 3)), np.array([True, False]))
    whole = loss(np.arange(6.0).reshape(2, 3), np.array([0.0, 2.0]))
    assert whole.value == loss(np.arange(6.0).reshape(2, 3), np.array([0, 2])).value


@pytest.mark.parametrize("bad", [np.array([0.5, 1.2]), np.array([-0.1, 0.5]), np.array([np.nan, 0.5])])
def test_bce_rejects_inputs_outside_unit_interval(bad):
    with pytest.raises(ValueError, match=r"BCELoss: input must be probabilities in \[0, 1\].*BCEWithLogitsLoss"):
        BCELoss()(bad, np.array([1.0, 0.0]))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="reduction"):
        MSELoss(reduction="average")
    with pytest.raises(ValueError, match="label_smoothing"):
        CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"p must be an int in \[1, 2\]"):
        MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="beta"):
        SmoothL1Loss(beta=-1)
    with pytest.raises(TypeError, match="backward_func"):
        MSELoss(backward_func=3)


def test_bad_class_weights_and_ignore_index():
    with pytest.raises(ShapeError, match="CrossEntropyLoss: weight has 2 entries but the input of shape \\(4, 3\\) has 3"):
        CrossEntropyLoss(weight=[1.0, 2.0])(np.zeros((4, 3)), np.zeros(4, dtype=int))
    with pytest.raises(ShapeError, match="NLLLoss: weight must be 1-D"):
        NLLLoss(weight=np.ones((2, 3)))
    with pytest.raises(ValueError, match="ignore_index=1 needs class-index targets"):
        CrossEntropyLoss(ignore_index=1)(np.zeros((2, 3)), np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match=r"class index in \[0, 3\) for 3 classes, got -100 at position"):
        NLLLoss(ignore_index=0)(np.zeros((2, 3)), np.array([0, -100]))


def test_binary_weights_must_broadcast():
    with pytest.raises(ShapeError, match=r"BCELoss: weight of shape \(3,\) does not broadcast to the input's shape \(2, 4\)"):
        BCELoss(weight=np.ones(3))(np.full((2, 4), 0.5), np.ones((2, 4)))
    with pytest.raises(ShapeError, match=r"BCEWithLogitsLoss: pos_weight of shape \(2, 4, 1\)"):
        BCEWithLogitsLoss(pos_weight=np.ones((2, 4, 1)))(np.zeros((2, 4)), np.ones((2, 4)))
    with pytest.raises(ShapeError, match="MultiMarginLoss: weight has 2 entries"):
        MultiMarginLoss(weight=[1, 2])(np.zeros((2, 3)), np.array([0, 1]))


def test_bad_input_rank():
    with pytest.raises(ValueError, match="CrossEntropyLoss: expected input of shape"):
        CrossEntropyLoss()(np.float64(1.0), np.int64(0))
    with pytest.raises(ValueError, match=r"MultiMarginLoss: expected input of shape \(N, C\) or \(C,\), got \(2, 3, 4\)"):
        MultiMarginLoss()(np.zeros((2, 3, 4)), np.zeros((2, 4), dtype=int))


# ------------------------------------------------------------- backward hook
def test_backward_calls_function_with_grad_and_returns_its_value():
    seen = []
    loss = MSELoss(backward_func=lambda g: seen.append(g) or "done")(np.ones(3), np.zeros(3))
    assert isinstance(loss, LossResult)
    assert loss.backward() == "done"
    assert len(seen) == 1 and seen[0] is loss.grad


def test_backward_with_a_layer_or_module_uses_its_backward():
    linear = layers.Linear(3, 2).double()
    x, y = np.random.default_rng(0).standard_normal((4, 3)), np.array([0, 1, 1, 0])
    result = CrossEntropyLoss(backward_func=linear)(linear(x), y)
    grad_x = result.backward()
    np.testing.assert_allclose(grad_x, result.grad @ linear.weight.data)
    np.testing.assert_allclose(linear.weight.grad, result.grad.T @ x)

    module = mtorch.Module(mtorch.Sequential([layers.Linear(3, 2)]), input_grad=True)
    result = MSELoss(backward_func=module)(module(x), np.zeros((4, 2)))
    assert result.backward().shape == (4, 3)
    assert module.sequential[0].weight.grad is not None


def test_backward_without_hook_says_how_to_add_one():
    with pytest.raises(RuntimeError, match="backward_func"):
        MSELoss()(np.ones(2), np.zeros(2)).backward()


def test_result_item_and_repr():
    loss = SmoothL1Loss(beta=0.5)(np.array([2.0]), np.array([0.0]))
    assert loss.item() == float(loss) == pytest.approx(1.75)
    assert repr(SmoothL1Loss(beta=0.5)) == "SmoothL1Loss(reduction='mean', beta=0.5)"
    assert repr(CrossEntropyLoss(label_smoothing=0.1)) == "CrossEntropyLoss(reduction='mean', label_smoothing=0.1)"
    assert repr(NLLLoss(weight=[1, 2], ignore_index=0)) == "NLLLoss(reduction='mean', weight=[1.0, 2.0], ignore_index=0)"


# ------------------------------------------------------------- PyTorch parity
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", CASE_NAMES)
def test_matches_torch(name, reduction):
    torch = pytest.importorskip("torch")
    _, cls, kwargs, x, t = _case(name)
    ours = cls(reduction=reduction, **kwargs)(x, t)
    xt = torch.tensor(x, requires_grad=True)
    target = torch.tensor(t) if np.asarray(t).dtype.kind == "f" else torch.tensor(np.asarray(t), dtype=torch.long)
    kwargs = {k: torch.tensor(v) if k in ("weight", "pos_weight") else v for k, v in kwargs.items()}
    theirs = getattr(torch.nn, cls.__name__)(reduction=reduction, **kwargs)(xt, target)
    theirs.sum().backward()
    np.testing.assert_allclose(ours.value, theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_matches_torch_at_the_extremes():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    z = np.array([[1000.0, -1000.0, 0.0, 3.0], [-1000.0, -1000.0, 1000.0, 1000.0]])
    p = np.array([[0.0, 1.0, 1e-7, 0.5], [1.0 - 1e-9, 0.3, 0.0, 1.0]])
    cases = [(CrossEntropyLoss(label_smoothing=0.2), nn.CrossEntropyLoss(label_smoothing=0.2), z, [1, 3]),
             (CrossEntropyLoss(), nn.CrossEntropyLoss(), z, _dirichlet(np.random.default_rng(0), z.shape)),
             (BCEWithLogitsLoss(), nn.BCEWithLogitsLoss(), z, np.eye(2, 4)),
             (BCELoss(), nn.BCELoss(), p, np.array([[1.0, 0.0, 0.3, 1.0], [0.0, 0.5, 0.0, 1.0]])),
             (MultiMarginLoss(p=2), nn.MultiMarginLoss(p=2), z, [1, 0])]
    for ours, loss, x, t in cases:
        mine = ours(x, np.asarray(t))
        xt = torch.tensor(x, requires_grad=True)
        t_t = torch.tensor(np.asarray(t)) if np.asarray(t).dtype.kind == "f" else torch.tensor(t)
        theirs = loss(xt, t_t)
        theirs.backward()
        np.testing.assert_allclose(mine.value, theirs.item(), rtol=1e-12)
        np.testing.assert_allclose(mine.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-14)
