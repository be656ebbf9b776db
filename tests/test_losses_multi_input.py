"""Losses of several inputs (MarginRankingLoss, CosineEmbeddingLoss, TripletMarginLoss,
GaussianNLLLoss): the gradient of each input, the tuple API of ``result.grad`` and
``backward_func``, and scaling a LossResult."""
import math

import numpy as np
import pytest

import mtorch
from mtorch import layers
from mtorch.loss import (CosineEmbeddingLoss, CrossEntropyLoss, GaussianNLLLoss, LossResult, MarginRankingLoss,
                         MSELoss, TripletMarginLoss)

REDUCTIONS = ("mean", "sum", "none")


def _cases(rng):
    """(name, loss class, constructor kwargs, call arguments by name) for every option."""
    x1, x2, y = rng.standard_normal(6), rng.standard_normal(6), np.where(rng.random(6) < 0.5, -1, 1)
    a, b, pairs = rng.standard_normal((5, 4)), rng.standard_normal((5, 4)), np.array([1, -1, -1, 1, -1])
    anchor, positive, negative = rng.standard_normal((3, 6, 4))
    mean, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    var = rng.uniform(0.2, 2.0, (4, 3))
    return [
        ("ranking", MarginRankingLoss, {}, {"input1": x1, "input2": x2, "target": y}),
        ("ranking_margin_zero_targets", MarginRankingLoss, {"margin": 0.5},
         {"input1": x1, "input2": x2, "target": np.array([1.0, 0.0, -1.0, 1.0, 0.0, -1.0])}),
        ("cosine", CosineEmbeddingLoss, {}, {"input1": a, "input2": b, "target": pairs}),
        ("cosine_margin", CosineEmbeddingLoss, {"margin": -0.2}, {"input1": a, "input2": b, "target": pairs}),
        ("cosine_unbatched", CosineEmbeddingLoss, {"margin": 0.1},
         {"input1": a[0], "input2": b[0], "target": np.array(-1)}),
        ("triplet", TripletMarginLoss, {}, {"anchor": anchor, "positive": positive, "negative": negative}),
        ("triplet_p1_swap", TripletMarginLoss, {"p": 1.0, "swap": True, "margin": 2.0},
         {"anchor": anchor, "positive": positive, "negative": negative}),
        ("triplet_p3_eps0", TripletMarginLoss, {"p": 3.0, "eps": 0.0},
         {"anchor": anchor, "positive": positive, "negative": negative}),
        ("triplet_unbatched_swap", TripletMarginLoss, {"swap": True, "margin": 3.0},
         {"anchor": anchor[0], "positive": positive[0], "negative": negative[0]}),
        ("gaussian", GaussianNLLLoss, {}, {"input": mean, "target": target, "var": var}),
        ("gaussian_full_per_sample", GaussianNLLLoss, {"full": True},
         {"input": mean, "target": target, "var": var[:, :1]}),
        ("gaussian_per_sample_short", GaussianNLLLoss, {}, {"input": mean, "target": target, "var": var[:, 0]}),
        ("gaussian_per_feature", GaussianNLLLoss, {}, {"input": mean, "target": target, "var": var[:1]}),
        ("gaussian_one_number", GaussianNLLLoss, {"eps": 1e-3}, {"input": mean, "target": target, "var": 0.7}),
    ]


CASE_NAMES = [c[0] for c in _cases(np.random.default_rng(0))]


def _case(name):
    return next(c for c in _cases(np.random.default_rng(3)) if c[0] == name)


def _inputs(cls, args):
    return tuple(args[name] for name in cls.differentiable_inputs)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", CASE_NAMES)
def test_gradcheck_every_input(name, reduction):
    _, cls, kwargs, args = _case(name)
    assert mtorch.gradcheck(cls(reduction=reduction, **kwargs), _inputs(cls, args), target=args.get("target"))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_reductions_agree(name):
    _, cls, kwargs, args = _case(name)
    none, total, mean = (cls(reduction=r, **kwargs)(**args) for r in REDUCTIONS[::-1])
    n = np.size(none.value)
    assert total.value == pytest.approx(np.sum(none.value), rel=1e-12)
    assert mean.value == pytest.approx(total.value / n, rel=1e-12)
    for g_none, g_sum, g_mean, x in zip(none.grad, total.grad, mean.grad, _inputs(cls, args)):
        assert g_none.shape == np.shape(x)
        np.testing.assert_allclose(g_sum, g_none, rtol=1e-12)
        np.testing.assert_allclose(g_mean, g_none / n, rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", CASE_NAMES)
def test_matches_torch(name, reduction):
    torch = pytest.importorskip("torch")
    _, cls, kwargs, args = _case(name)
    ours = cls(reduction=reduction, **kwargs)(**args)
    theirs_args = {k: torch.tensor(v, dtype=torch.float64, requires_grad=k in cls.differentiable_inputs)
                   if isinstance(v, np.ndarray) else v for k, v in args.items()}
    theirs = getattr(torch.nn, cls.__name__)(reduction=reduction, **kwargs)(**theirs_args)
    theirs.sum().backward()
    np.testing.assert_allclose(ours.value, theirs.detach().numpy(), rtol=1e-10, atol=1e-14)
    for name, grad in zip(cls.differentiable_inputs, ours.grad):
        if isinstance(theirs_args[name], torch.Tensor):
            np.testing.assert_allclose(grad, theirs_args[name].grad.numpy(), rtol=1e-10, atol=1e-14)


def test_float32_inputs_give_float32_gradients(rng):
    for _, cls, kwargs, args in _cases(rng):
        args = {k: v.astype(np.float32) if k in cls.differentiable_inputs and isinstance(v, np.ndarray) else v
                for k, v in args.items()}
        assert all(g.dtype == np.float32 for g in cls(**kwargs)(**args).grad), cls.__name__


# ---------------------------------------------------------- hand-computed values
def test_margin_ranking_by_hand():
    loss = MarginRankingLoss(reduction="none", margin=1.0)(np.array([2.0, 0.5, 1.0]), np.array([0.0, 1.0, 0.0]),
                                                           np.array([1, 1, -1]))
    # h = 1 - y (x1 - x2) = [-1, 1.5, 2]
    np.testing.assert_allclose(loss.value, [0.0, 1.5, 2.0])
    grad1, grad2 = loss.grad
    np.testing.assert_allclose(grad1, [0.0, -1.0, 1.0])
    np.testing.assert_allclose(grad2, [0.0, 1.0, -1.0])
    tie = MarginRankingLoss(reduction="sum")(np.array([1.0]), np.array([1.0]), np.array([1.0]))
    assert tie.value == 0.0 and tie.grad[0][0] == -1.0      # h = 0: PyTorch's clamp passes the gradient


def test_cosine_embedding_by_hand():
    x1, x2 = np.array([[1.0, 0.0], [3.0, 4.0], [1.0, 1.0]]), np.array([[1.0, 1.0], [3.0, 4.0], [-1.0, 1.0]])
    loss = CosineEmbeddingLoss(reduction="none", margin=0.5)(x1, x2, np.array([1, -1, -1]))
    # cosines 1/sqrt(2), 1, 0: similar pays 1 - cos, dissimilar max(0, cos - 0.5)
    np.testing.assert_allclose(loss.value, [1 - 1 / math.sqrt(2), 0.5, 0.0], rtol=1e-10)
    grad1, grad2 = loss.grad
    # dcos/dx1 = x2 / (|x1| |x2|) - cos x1 / |x1|^2 = [1, 1]/sqrt(2) - [1, 0]/sqrt(2); loss = 1 - cos
    np.testing.assert_allclose(grad1[0], [0.0, -1 / math.sqrt(2)], atol=1e-10)
    np.testing.assert_allclose(grad2[0], -(np.array([1.0, 0.0]) / math.sqrt(2) - np.array([1.0, 1.0]) / 2 / math.sqrt(2)),
                               atol=1e-10)
    np.testing.assert_allclose(grad1[1:], 0.0, atol=1e-10)   # parallel vectors: the cosine is at its maximum
    zero = CosineEmbeddingLoss()(np.zeros((1, 2)), np.ones((1, 2)), np.array([1]))
    assert zero.value == pytest.approx(1.0) and np.all(np.isfinite(zero.grad[0]))


def test_triplet_margin_by_hand():
    a, p, n = np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]), np.array([[0.0, 1.5]])
    loss = TripletMarginLoss(eps=0.0)(a, p, n)
    assert loss.value == pytest.approx(1 + 1 - 1.5)
    grad_a, grad_p, grad_n = loss.grad
    # g(a - p) = (a - p)/1 = [-1, 0];  g(a - n) = (a - n)/1.5 = [0, -1]
    np.testing.assert_allclose(grad_a, [[-1.0, 1.0]])
    np.testing.assert_allclose(grad_p, [[1.0, 0.0]])
    np.testing.assert_allclose(grad_n, [[0.0, -1.0]])
    l1 = TripletMarginLoss(eps=0.0, p=1.0, margin=2.0)(np.array([[0.0, 0.0]]), np.array([[1.0, -2.0]]),
                                                         np.array([[1.0, 1.0]]))
    assert l1.value == pytest.approx(2 + 3 - 2)
    np.testing.assert_allclose(l1.grad[0], [[-1.0 + 1.0, 1.0 + 1.0]])    # sign(a - p) - sign(a - n)
    # swap: d(p, n) = 1 < d(a, n) = 1.5 becomes the negative distance, pulling on p and n only
    swapped = TripletMarginLoss(eps=0.0, swap=True)(a, np.array([[0.0, 0.5]]), n)
    assert swapped.value == pytest.approx(1 + 0.5 - 1.0)
    np.testing.assert_allclose(swapped.grad[0], [[0.0, -1.0]])
    np.testing.assert_allclose(swapped.grad[1], [[0.0, 1.0 + 1.0]])
    np.testing.assert_allclose(swapped.grad[2], [[0.0, -1.0]])
    # a tie between d(a, n) and d(p, n) splits the gradient in half, as in PyTorch
    tie = TripletMarginLoss(eps=0.0, swap=True)(a, np.array([[1.0, 0.0]]), np.array([[0.5, 0.0]]))
    np.testing.assert_allclose(tie.grad[0], [[-0.5, 0.0]])
    np.testing.assert_allclose(tie.grad[2], [[0.0, 0.0]])


def test_gaussian_nll_by_hand():
    loss = GaussianNLLLoss(reduction="none")(np.array([1.0, 3.0]), np.array([0.0, 0.0]), np.array([4.0, 1.0]))
    np.testing.assert_allclose(loss.value, [0.5 * (math.log(4) + 1 / 4), 0.5 * (0 + 9)])
    grad_x, grad_var = loss.grad
    np.testing.assert_allclose(grad_x, [1 / 4, 3.0])
    np.testing.assert_allclose(grad_var, [0.5 * (1 / 4 - 1 / 16), 0.5 * (1 - 9)])
    full = GaussianNLLLoss(reduction="none", full=True)(np.array([1.0, 3.0]), np.zeros(2), np.array([4.0, 1.0]))
    np.testing.assert_allclose(full.value - loss.value, 0.5 * math.log(2 * math.pi))
    # one variance per sample: its gradient adds up the sample's entries
    shared = GaussianNLLLoss(reduction="sum")(np.array([[1.0, 3.0]]), np.zeros((1, 2)), np.array([[1.0]]))
    assert shared.grad[1].shape == (1, 1)
    np.testing.assert_allclose(shared.grad[1], [[0.5 * (1 - 1) + 0.5 * (1 - 9)]])
    # below eps the variance is clamped, and its gradient passes the clamp (as in PyTorch)
    tiny = GaussianNLLLoss(reduction="sum", eps=0.5)(np.array([1.0]), np.array([0.0]), np.array([0.1]))
    assert tiny.value == pytest.approx(0.5 * (math.log(0.5) + 2))
    np.testing.assert_allclose(tiny.grad[1], [0.5 * (2 - 4)])


# ------------------------------------------------------------- the tuple API
def _towers(rng):
    a, b = layers.Linear(3, 2).double(), layers.Linear(3, 2).double()
    xa, xb = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    return a, b, xa, xb


def test_grad_is_a_tuple_in_argument_order(rng):
    x1, x2, y = rng.standard_normal(5), rng.standard_normal(5), np.ones(5)
    grad1, grad2 = MarginRankingLoss(margin=10.0)(x1, x2, y).grad
    np.testing.assert_allclose(grad1, -np.ones(5) / 5)
    np.testing.assert_allclose(grad2, np.ones(5) / 5)
    assert isinstance(MSELoss()(x1, x2).grad, np.ndarray)       # one input: a plain array, as before


def test_backward_func_tuple_sends_each_tower_its_gradient(rng):
    tower_a, tower_b, xa, xb = _towers(rng)
    loss_func = CosineEmbeddingLoss(margin=0.2, backward_func=(tower_a, tower_b))
    loss = loss_func(tower_a(xa), tower_b(xb), np.array([1, -1, 1, -1]))
    grad_xa, grad_xb = loss.backward()
    grad_a, grad_b = loss.grad
    np.testing.assert_allclose(tower_a.weight.grad, grad_a.T @ xa)
    np.testing.assert_allclose(tower_b.weight.grad, grad_b.T @ xb)
    np.testing.assert_allclose(grad_xa, grad_a @ tower_a.weight.data)
    np.testing.assert_allclose(grad_xb, grad_b @ tower_b.weight.data)


def test_backward_func_tuple_of_bound_methods_functions_and_none(rng):
    tower_a, _, xa, _ = _towers(rng)
    seen = []
    loss_func = TripletMarginLoss(backward_func=(tower_a.backward, seen.append, None))
    loss = loss_func(tower_a(xa), rng.standard_normal((4, 2)), rng.standard_normal((4, 2)))
    grad_xa, appended, skipped = loss.backward()
    assert grad_xa.shape == (4, 3) and appended is None and skipped is None
    assert len(seen) == 1 and seen[0] is loss.grad[1]


def test_one_backward_func_gets_every_gradient(rng):
    seen = []
    loss = GaussianNLLLoss(backward_func=lambda *grads: seen.append(grads) or "done")(
        rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), np.ones((2, 1)))
    assert loss.backward() == "done"
    assert seen[0][0] is loss.grad[0] and seen[0][1] is loss.grad[1]


def test_backward_func_tuple_must_have_one_entry_per_input():
    with pytest.raises(ValueError, match=r"MarginRankingLoss: backward_func has 3 entries, expected 2 "
                                         r"\(one per differentiable input: input1, input2\)"):
        MarginRankingLoss(backward_func=(print, print, print))
    with pytest.raises(TypeError, match=r"TripletMarginLoss: backward_func\[1\] must be callable or a Layer, got 3"):
        TripletMarginLoss(backward_func=(print, 3, None))


def test_gradcheck_takes_a_tuple_and_names_the_wrong_input(rng):
    class WrongTriplet(TripletMarginLoss):
        def forward(self, anchor, positive, negative):
            value, (ga, gp, gn) = super().forward(anchor, positive, negative)
            return value, (ga, gp, gn * 1.01)

    a, p, n = rng.standard_normal((3, 4, 2))
    with pytest.raises(mtorch.GradcheckError, match=r"WrongTriplet: wrong gradient of negative"):
        mtorch.gradcheck(WrongTriplet(margin=5.0), (a, p, n))
    with pytest.raises(ValueError, match=r"takes x as a tuple \(anchor, positive, negative\)"):
        mtorch.gradcheck(TripletMarginLoss(), a)
    with pytest.raises(ValueError, match=r"needs its target"):
        mtorch.gradcheck(MarginRankingLoss(), (a, p))


# ------------------------------------------------------------- scaling a result
@pytest.mark.parametrize("scale", [lambda r: r / 4, lambda r: r * 0.25, lambda r: 0.25 * r])
def test_scaling_a_result_scales_value_and_gradients(scale, rng):
    hook = []
    single = MSELoss(backward_func=hook.append)(rng.standard_normal(3).astype(np.float32), np.zeros(3))
    scaled = scale(single)
    assert isinstance(scaled, LossResult) and scaled is not single
    assert scaled.value == pytest.approx(single.value / 4)
    assert scaled.grad.dtype == np.float32
    np.testing.assert_allclose(scaled.grad, single.grad / 4, rtol=1e-6)
    scaled.backward()
    assert hook[0] is scaled.grad
    multi = scale(MarginRankingLoss(reduction="none", margin=3.0)(np.ones(2), np.zeros(2), np.ones(2)))
    np.testing.assert_allclose(multi.value, [0.5, 0.5])
    np.testing.assert_allclose(multi.grad[0], [-0.25, -0.25])
    np.testing.assert_allclose(multi.grad[1], [0.25, 0.25])


def test_scaled_micro_batches_add_up_to_the_full_batch(rng):
    z, y = rng.standard_normal((8, 3)), rng.integers(0, 3, 8)
    grads = []
    loss_func = CrossEntropyLoss(backward_func=grads.append)
    for part in (slice(0, 4), slice(4, 8)):
        (loss_func(z[part], y[part]) / 2).backward()
    np.testing.assert_allclose(np.concatenate(grads), loss_func(z, y).grad, rtol=1e-12)


def test_scaling_refuses_what_is_not_a_number():
    loss = MSELoss()(np.ones(2), np.zeros(2))
    with pytest.raises(ZeroDivisionError, match="LossResult: cannot divide a loss by 0"):
        loss / 0
    for other in ("2", None, np.ones(2), True):
        with pytest.raises(TypeError):
            loss * other
        with pytest.raises(TypeError):
            other * loss
    assert (np.float64(2) * loss).value == (loss * 2).value == 2 * loss.value
