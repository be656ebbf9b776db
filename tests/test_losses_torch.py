"""Every mtorch loss against PyTorch, in float64, on PyTorch's own sample inputs.

The samples are those PyTorch tests its losses with: ``module_db`` (each
ModuleInfo's ``module_inputs_func`` gives constructor and forward inputs) and
``common_nn`` (the ``*_no_batch_dim_*`` criterion tests and the ``*_no_reduce``
functional tests). Running a sample's torch code with the loss functions of
``torch.nn.functional`` spied on tells exactly which loss it calls, with which
inputs and options; mtorch's loss is built from those options, both run on the
same float64 inputs, and values and the gradient of every differentiable input
must agree to 1e-6 relative.
"""
import functools
import inspect
import warnings
from collections import Counter

import numpy as np
import pytest

import mtorch.loss as mloss

torch = pytest.importorskip("torch")
try:
    from torch.testing._internal import common_modules, common_nn
except ImportError:             # PyTorch's test utilities need the expecttest package
    common_modules = common_nn = None
F = torch.nn.functional

OURS = {"l1_loss": mloss.L1Loss, "mse_loss": mloss.MSELoss, "smooth_l1_loss": mloss.SmoothL1Loss,
        "huber_loss": mloss.HuberLoss, "cross_entropy": mloss.CrossEntropyLoss, "nll_loss": mloss.NLLLoss,
        "binary_cross_entropy": mloss.BCELoss, "binary_cross_entropy_with_logits": mloss.BCEWithLogitsLoss,
        "multilabel_soft_margin_loss": mloss.MultiLabelSoftMarginLoss, "soft_margin_loss": mloss.SoftMarginLoss,
        "kl_div": mloss.KLDivLoss, "poisson_nll_loss": mloss.PoissonNLLLoss,
        "gaussian_nll_loss": mloss.GaussianNLLLoss, "multi_margin_loss": mloss.MultiMarginLoss,
        "multilabel_margin_loss": mloss.MultiLabelMarginLoss, "hinge_embedding_loss": mloss.HingeEmbeddingLoss,
        "margin_ranking_loss": mloss.MarginRankingLoss, "cosine_embedding_loss": mloss.CosineEmbeddingLoss,
        "triplet_margin_loss": mloss.TripletMarginLoss}
DATA = {"input", "target", "var", "input1", "input2", "anchor", "positive", "negative"}
LEGACY = {"size_average", "reduce"}

# PyTorch samples mtorch refuses on purpose, and the error it gives instead.
REFUSED = {
    "common_nn-L1Loss_no_reduce_complex": (TypeError, r"L1Loss: input must hold real numbers .*got complex numbers"),
    # an unbatched (C,) input takes a target of shape () (PyTorch accepts (1,) too)
    "common_nn-MultiMarginLoss_1d_no_reduce": (ValueError, r"MultiMarginLoss: expected target of shape \(\)"),
}


def _module_db_samples():
    torch.manual_seed(0)
    ours = {cls.__name__ for cls in OURS.values()}
    for info in common_modules.module_db:
        name = info.module_cls.__name__
        if name not in ours:
            continue
        for i, sample in enumerate(info.module_inputs_func(info, device="cpu", dtype=torch.float64,
                                                           requires_grad=True, training=True)):
            ctor, fwd = sample.constructor_input, sample.forward_input
            yield (f"module_db-{name}-{i}-{sample.desc}",
                   lambda cls=info.module_cls, c=ctor, f=fwd: cls(*c.args, **c.kwargs)(*f.args, **f.kwargs))


def _common_nn_tests():
    torch.manual_seed(0)
    prefixes = tuple(cls.__name__.lower() for cls in OURS.values())
    for test in common_nn.criterion_tests + common_nn.get_new_module_tests():
        name = test.get("fullname", "")
        if name.lower().startswith(prefixes):
            yield f"common_nn-{name}", lambda test=test: _run_common_nn(test)


def _make(test, what):
    if f"{what}_fn" in test:
        return test[f"{what}_fn"]()
    if what == "input" and "input" in test:
        return test["input"]
    return torch.randn(test[f"{what}_size"], dtype=torch.float64)


def _run_common_nn(test):
    inputs = _make(test, "input")
    args = inputs if isinstance(inputs, tuple) else (inputs,)
    if "target_fn" in test or "target_size" in test:
        args += (_make(test, "target"),)
    test["constructor"](*test.get("constructor_args", ()))(*args)


SAMPLES = list(_module_db_samples()) + list(_common_nn_tests()) if common_modules else []
RUNS = dict(SAMPLES)


@functools.lru_cache(maxsize=None)
def _spied_call(sample_id):
    """(functional name, its arguments by name) of the first loss function the sample calls."""
    run, calls = RUNS[sample_id], []
    originals = {name: getattr(F, name) for name in OURS}

    def spy(name):
        def call(*args, **kwargs):
            calls.append((name, inspect.signature(originals[name]).bind(*args, **kwargs).arguments))
            return originals[name](*args, **kwargs)
        return call

    try:
        for name in OURS:
            setattr(F, name, spy(name))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run()
    finally:
        for name, original in originals.items():
            setattr(F, name, original)
    assert calls, "the sample called no loss function of torch.nn.functional"
    return calls[0]


def _as_float64(value):
    return value.detach().to(torch.float64) if torch.is_floating_point(value) else value.detach()


def _compare(fname, arguments):
    """Run mtorch's loss and the original torch functional on the sample's arguments, in float64."""
    cls = OURS[fname]
    data = {k: _as_float64(v) if isinstance(v, torch.Tensor) else v for k, v in arguments.items() if k in DATA}
    options = {k: v for k, v in arguments.items() if k not in DATA | LEGACY and v is not None}
    if any(arguments.get(k) is not None for k in LEGACY):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            options["reduction"] = torch.nn._reduction.legacy_get_string(arguments.get("size_average"),
                                                                         arguments.get("reduce"))
    differentiable = [k for k in cls.differentiable_inputs if isinstance(data.get(k), torch.Tensor)]
    for k in differentiable:
        data[k].requires_grad_(True)
    torch_options = {k: _as_float64(v) if isinstance(v, torch.Tensor) else v for k, v in options.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = getattr(F, fname)(**data, **torch_options)
    expected.sum().backward()

    ours_options = {k: v.numpy() if isinstance(v, torch.Tensor) else v for k, v in torch_options.items()}
    result = cls(**ours_options)(**{k: v.detach().numpy() if isinstance(v, torch.Tensor) else v
                                    for k, v in data.items()})
    np.testing.assert_allclose(result.value, expected.detach().numpy(), rtol=1e-6, atol=1e-12)
    grads = result.grad if isinstance(result.grad, tuple) else (result.grad,)
    for name, grad in zip(cls.differentiable_inputs, grads):
        if name in differentiable:
            np.testing.assert_allclose(grad, data[name].grad.numpy(), rtol=1e-6, atol=1e-12,
                                       err_msg=f"gradient of {name}")
    return cls


@pytest.mark.parametrize("sample_id, run", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_matches_torch_on_its_own_samples(sample_id, run):
    fname, arguments = _spied_call(sample_id)
    if sample_id in REFUSED:
        error, message = REFUSED[sample_id]
        with pytest.raises(error, match=message):
            _compare(fname, arguments)
    else:
        _compare(fname, arguments)


def test_every_loss_meets_torch_samples():
    """Each loss class runs on at least 3 of PyTorch's samples."""
    if common_modules is None:
        pytest.skip("PyTorch's test samples need the expecttest package")
    counts = Counter(OURS[_spied_call(sample_id)[0]].__name__ for sample_id in RUNS if sample_id not in REFUSED)
    assert set(counts) == {cls.__name__ for cls in OURS.values()}
    assert min(counts.values()) >= 3, counts


NAN_INF = np.array([np.nan, np.inf, -np.inf, 1.0])
PROPAGATION = [
    (mloss.MSELoss, {"input": NAN_INF, "target": np.zeros(4)}),
    (mloss.SmoothL1Loss, {"input": NAN_INF, "target": np.zeros(4)}),
    (mloss.HuberLoss, {"input": NAN_INF, "target": np.zeros(4)}),
    (mloss.KLDivLoss, {"input": NAN_INF, "target": np.ones(4)}),
    (mloss.PoissonNLLLoss, {"input": NAN_INF, "target": np.ones(4)}),
    (mloss.MarginRankingLoss, {"input1": NAN_INF, "input2": np.zeros(4), "target": np.ones(4)}),
    (mloss.GaussianNLLLoss, {"input": np.zeros(4), "target": np.ones(4), "var": np.array([np.nan, np.inf, 1.0, 2.0])}),
    (mloss.CrossEntropyLoss, {"input": np.array([[np.nan, 0, 1], [np.inf, 0, 1], [1, 2, 3]]), "target": np.array([1, 0, 2])}),
]


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
@pytest.mark.parametrize("reduction", ["none", "mean"])
@pytest.mark.parametrize("cls, args", PROPAGATION, ids=[c.__name__ for c, _ in PROPAGATION])
def test_nan_and_inf_propagate_as_in_torch(cls, args, reduction):
    ours = cls(reduction=reduction)(**args)
    theirs_args = {k: torch.tensor(v, requires_grad=k in cls.differentiable_inputs) if v.dtype.kind == "f"
                   else torch.tensor(v) for k, v in args.items()}
    theirs = getattr(torch.nn, cls.__name__)(reduction=reduction)(*theirs_args.values())   # in forward's order
    theirs.sum().backward()
    assert not np.isfinite(ours.value).all()
    np.testing.assert_allclose(ours.value, theirs.detach().numpy(), rtol=1e-12)
    grads = ours.grad if isinstance(ours.grad, tuple) else (ours.grad,)
    for name, grad in zip(cls.differentiable_inputs, grads):
        np.testing.assert_allclose(grad, theirs_args[name].grad.numpy(), rtol=1e-12, err_msg=name)


_a, _b = np.array([[3.0, 4.0]]), np.array([[4.0, 3.0]])
_COS = float((_a * _b).sum() / np.sqrt(((_a * _a).sum() + 1e-12) * ((_b * _b).sum() + 1e-12)))
KINKS = [    # inputs exactly where a loss bends: the gradient there is PyTorch's choice
    (mloss.L1Loss, {}, {"input": np.array([1.0, -2.0]), "target": np.array([1.0, -2.0])}),
    (mloss.SmoothL1Loss, {"beta": 0.5}, {"input": np.array([0.5, -0.5]), "target": np.zeros(2)}),
    (mloss.HuberLoss, {"delta": 0.5}, {"input": np.array([0.5, -0.5]), "target": np.zeros(2)}),
    (mloss.HingeEmbeddingLoss, {}, {"input": np.array([1.0, 0.5]), "target": np.array([-1.0, 1.0])}),
    (mloss.MarginRankingLoss, {"margin": 0.5}, {"input1": np.array([1.0, 2.0]), "input2": np.array([0.5, 2.5]),
                                                "target": np.array([1.0, -1.0])}),
    (mloss.MultiMarginLoss, {}, {"input": np.array([[1.0, 0.0, 0.5]]), "target": np.array([0])}),
    (mloss.MultiLabelMarginLoss, {}, {"input": np.array([[1.0, 0.0, 0.5]]), "target": np.array([[0, -1, 0]])}),
    (mloss.CosineEmbeddingLoss, {"margin": _COS}, {"input1": _a, "input2": _b, "target": np.array([-1.0])}),
    (mloss.TripletMarginLoss, {"eps": 0.0}, {"anchor": np.array([[0.0, 0.0]]), "positive": np.array([[1.0, 0.0]]),
                                             "negative": np.array([[2.0, 0.0]])}),
]


@pytest.mark.parametrize("cls, kwargs, args", KINKS, ids=[c.__name__ for c, _, _ in KINKS])
def test_gradients_at_the_kinks_are_torchs(cls, kwargs, args):
    ours = cls(reduction="sum", **kwargs)(**args)
    theirs_args = {k: torch.tensor(v, requires_grad=k in cls.differentiable_inputs) if v.dtype.kind == "f"
                   else torch.tensor(v) for k, v in args.items()}
    theirs = getattr(torch.nn, cls.__name__)(reduction="sum", **kwargs)(*theirs_args.values())
    theirs.backward()
    np.testing.assert_allclose(ours.value, theirs.item(), rtol=1e-12, atol=1e-15)
    grads = ours.grad if isinstance(ours.grad, tuple) else (ours.grad,)
    for name, grad in zip(cls.differentiable_inputs, grads):
        np.testing.assert_allclose(grad, theirs_args[name].grad.numpy(), rtol=1e-12, atol=1e-15, err_msg=name)
