"""Optimizers: parameters after several steps against the update formulas written out
here, against literal hand-computed numbers, and against torch.optim in float64."""
import doctest
import importlib
import math

import numpy as np
import pytest

from mtorch import Parameter, Sequential
from mtorch.errors import ShapeError, StateDictError
from mtorch.layers import Linear, ReLU
from mtorch.optim import SGD, Adagrad, Adam, AdamW, RMSprop, clip_grad_norm, clip_grad_norm_

SHAPES = [(3, 4), (4,), (2, 1, 3)]
STEPS = 5


def make_problem(rng, dtype=np.float64):
    """Initial values and a gradient sequence (one list of arrays per step)."""
    init = [rng.normal(size=s) for s in SHAPES]
    grads = [[rng.normal(size=s) for s in SHAPES] for _ in range(STEPS)]
    return [Parameter(x, dtype=dtype) for x in init], init, grads


def run(optimizer, params, grads):
    """Steps with the given gradients (None: that Parameter has none at that step)."""
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else np.array(g, dtype=p.dtype)
        optimizer.step()
    return [p.data for p in params]


# ----------------------------------------------------------- the formulas by hand
def ref_sgd(p, gs, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False):
    b = None
    for g in gs:
        g = g + weight_decay * p
        if momentum:
            b = g.copy() if b is None else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
    return p


def ref_adam(p, gs, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, decoupled=False):
    m, v, vmax = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(gs, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        vmax = np.maximum(vmax, v)
        m_hat = m / (1 - betas[0] ** t)
        v_hat = (vmax if amsgrad else v) / (1 - betas[1] ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def ref_rmsprop(p, gs, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
    s, c, b = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for g in gs:
        g = g + weight_decay * p
        s = alpha * s + (1 - alpha) * g * g
        c = alpha * c + (1 - alpha) * g
        a = np.sqrt(s - c * c if centered else s) + eps
        if momentum:
            b = momentum * b + g / a
            p = p - lr * b
        else:
            p = p - lr * g / a
    return p


def ref_adagrad(p, gs, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10):
    s = np.full_like(p, initial_accumulator_value)
    for t, g in enumerate(gs, start=1):
        g = g + weight_decay * p
        s = s + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
    return p


CASES = [
    (SGD, ref_sgd, dict(lr=0.1)),
    (SGD, ref_sgd, dict(lr=0.1, momentum=0.9)),
    (SGD, ref_sgd, dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    (SGD, ref_sgd, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    (Adam, ref_adam, dict()),
    (Adam, ref_adam, dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    (Adam, ref_adam, dict(lr=0.01, amsgrad=True)),
    (AdamW, lambda p, gs, **kw: ref_adam(p, gs, decoupled=True, **{"weight_decay": 1e-2, **kw}), dict()),
    (AdamW, lambda p, gs, **kw: ref_adam(p, gs, decoupled=True, **kw),
     dict(lr=0.02, weight_decay=0.5, amsgrad=True)),
    (RMSprop, ref_rmsprop, dict()),
    (RMSprop, ref_rmsprop, dict(lr=0.01, alpha=0.9, weight_decay=0.1, momentum=0.5)),
    (RMSprop, ref_rmsprop, dict(lr=0.01, centered=True, momentum=0.9, eps=1e-4)),
    (Adagrad, ref_adagrad, dict()),
    (Adagrad, ref_adagrad, dict(lr=0.1, lr_decay=0.5, weight_decay=0.1, initial_accumulator_value=0.3)),
    (SGD, ref_sgd, dict(lr=0.1, weight_decay=0.2)),
    (SGD, ref_sgd, dict(lr=0.05, momentum=0.5, dampening=0.9)),
    (Adam, ref_adam, dict(lr=0.02, betas=(0.5, 0.6), weight_decay=0.3, amsgrad=True)),
    (AdamW, lambda p, gs, **kw: ref_adam(p, gs, decoupled=True, **kw), dict(lr=0.01, weight_decay=0)),
    (RMSprop, ref_rmsprop, dict(lr=0.01, alpha=0.5, centered=True, weight_decay=0.2)),
    (Adagrad, ref_adagrad, dict(lr=0.5, eps=1e-2)),
]
IDS = [f"{cls.__name__}-{i}" for i, (cls, _, _) in enumerate(CASES)]


@pytest.mark.parametrize("cls, ref, kwargs", CASES, ids=IDS)
def test_matches_formula(cls, ref, kwargs, rng):
    params, init, grads = make_problem(rng)
    got = run(cls(params, **kwargs), params, grads)
    for i, (x0, out) in enumerate(zip(init, got)):
        expected = ref(x0, [step[i] for step in grads], **kwargs)
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)
        assert not np.allclose(out, x0)


def run_torch(cls, groups, init, grads, dtype="float64", **kwargs):
    """The same steps with ``torch.optim.<cls name>``: ``groups`` lists the Parameter indices and
    hyper-parameters of each group; a gradient None leaves its Parameter out of that step."""
    torch = pytest.importorskip("torch")
    tparams = [torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True) for x in init]
    topt = getattr(torch.optim, cls.__name__)(
        [{**options, "params": [tparams[i] for i in indices]} for indices, options in groups], **kwargs)
    for step_grads in grads:
        for p, g in zip(tparams, step_grads):
            p.grad = None if g is None else torch.tensor(g, dtype=p.dtype)
        topt.step()
    return [p.detach().numpy() for p in tparams]


@pytest.mark.parametrize("cls, ref, kwargs", CASES, ids=IDS)
def test_matches_torch(cls, ref, kwargs, rng):
    pytest.importorskip("torch")
    params, init, grads = make_problem(rng)
    got = run(cls(params, **kwargs), params, grads)
    expected = run_torch(cls, [(range(len(params)), {})], init, grads, **kwargs)
    for out, theirs in zip(got, expected):
        np.testing.assert_allclose(out, theirs, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cls, ref, kwargs", CASES, ids=IDS)
def test_float32_matches_torch(cls, ref, kwargs, rng):
    pytest.importorskip("torch")
    params, init, grads = make_problem(rng, dtype=np.float32)
    got = run(cls(params, **kwargs), params, grads)
    expected = run_torch(cls, [(range(len(params)), {})], [x.astype(np.float32) for x in init],
                         [[g.astype(np.float32) for g in step] for step in grads], dtype="float32", **kwargs)
    for out, theirs in zip(got, expected):
        assert out.dtype == theirs.dtype == np.float32
        np.testing.assert_allclose(out, theirs, rtol=2e-6, atol=1e-6)


GROUP_CASES = [      # (class, defaults, the two groups' own hyper-parameters)
    (SGD, dict(lr=0.1, momentum=0.9), [dict(lr=0.05, nesterov=True), dict(momentum=0, weight_decay=0.1)]),
    (SGD, dict(lr=0.1), [dict(), dict(momentum=0.5, dampening=0.5)]),
    (Adam, dict(lr=0.01), [dict(amsgrad=True, betas=(0.8, 0.9)), dict(weight_decay=0.2, eps=1e-3)]),
    (AdamW, dict(lr=0.01), [dict(weight_decay=0.0), dict(lr=0.05, amsgrad=True)]),
    (RMSprop, dict(lr=0.01), [dict(centered=True, momentum=0.5), dict(alpha=0.9, weight_decay=0.1)]),
    (Adagrad, dict(lr=0.1, initial_accumulator_value=0.5), [dict(lr_decay=0.1), dict(weight_decay=0.1)]),
]


@pytest.mark.parametrize("cls, defaults, options", GROUP_CASES,
                         ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(GROUP_CASES)])
def test_groups_and_missing_gradients_match_torch(cls, defaults, options, rng):
    """Two parameter groups with their own hyper-parameters; some Parameters get no gradient at
    some steps (skipped: their state, step count included, does not move)."""
    pytest.importorskip("torch")
    params, init, grads = make_problem(rng)
    for step, i in ((0, 2), (1, 0), (3, 2), (3, 1)):
        grads[step][i] = None
    groups = [([0], options[0]), ([1, 2], options[1])]
    optimizer = cls([{**o, "params": [params[i] for i in indices]} for indices, o in groups], **defaults)
    got = run(optimizer, params, grads)
    for out, theirs, x0 in zip(got, run_torch(cls, groups, init, grads, **defaults), init):
        np.testing.assert_allclose(out, theirs, rtol=1e-12, atol=1e-14)
        assert not np.allclose(out, x0)


def test_adagrad_group_starts_from_its_own_accumulator_value(rng):
    """PyTorch starts every group from the constructor's value; a group's own value is used here."""
    params, init, grads = make_problem(rng)
    optimizer = Adagrad([{"params": params[:1], "initial_accumulator_value": 2.0}, {"params": params[1:]}],
                        lr=0.1, initial_accumulator_value=0.5)
    for i, out in enumerate(run(optimizer, params, grads)):
        expected = ref_adagrad(init[i], [step[i] for step in grads], lr=0.1,
                               initial_accumulator_value=2.0 if i == 0 else 0.5)
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cls, ref, kwargs", CASES, ids=IDS)
def test_a_gradient_array_is_only_read(cls, ref, kwargs, rng):
    """One read-only gradient array handed to two Parameters: every step reads it, none writes
    into it or keeps it in the state, and both Parameters follow the formula."""
    init = [rng.normal(size=(3, 4)) for _ in range(2)]
    a, b = (Parameter(x, dtype=np.float64) for x in init)
    optimizer = cls([a, b], **kwargs)
    grads = [rng.normal(size=(3, 4)) for _ in range(3)]
    for g in grads:
        g.flags.writeable = False
        before = g.copy()
        a.grad = b.grad = g
        optimizer.step()
        np.testing.assert_array_equal(g, before)
        assert a.grad is None and b.grad is None
        kept = [v for state in optimizer.state.values() for v in state.values() if isinstance(v, np.ndarray)]
        assert not any(np.shares_memory(v, g) for v in kept)
    for p, x0 in zip((a, b), init):
        np.testing.assert_allclose(p.data, ref(x0, grads, **kwargs), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cls, ref, kwargs", CASES, ids=IDS)
def test_training_goes_on_after_the_model_changes_dtype(cls, ref, kwargs, rng):
    """``double()`` gives the Parameters new arrays: the next steps update those, in float64."""
    net = Sequential(Linear(4, 3))
    optimizer = cls(net, **kwargs)
    for step in range(2):
        if step == 1:
            net.double()
        before = [p.data.copy() for p in net.parameters()]
        net(rng.normal(size=(5, 4)))
        net.backward(rng.normal(size=(5, 3)))
        optimizer.step()
        for p, p0 in zip(net.parameters(), before):
            assert p.data.dtype == p0.dtype and p.grad is None and not np.allclose(p.data, p0)
    assert net[0].weight.data.dtype == np.float64


@pytest.mark.parametrize("module", ["sgd", "adam", "rmsprop", "adagrad"])
def test_docstring_examples_run_as_written(module):
    results = doctest.testmod(importlib.import_module(f"mtorch.optim.{module}"),
                              extraglobs={"np": np, "Parameter": Parameter},
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert results.attempted > 0 and results.failed == 0


@pytest.mark.parametrize("cls, ref, kwargs", CASES, ids=IDS)
def test_float32_stays_float32_in_place(cls, ref, kwargs, rng):
    params, init, grads = make_problem(rng, dtype=np.float32)
    arrays = [p.data for p in params]
    optimizer = cls(params, **kwargs)
    got = run(optimizer, params, grads)
    for array, out, x0 in zip(arrays, got, init):
        assert out is array and out.dtype == np.float32
        expected = ref(x0.astype(np.float32).astype(np.float64),
                       [step[SHAPES.index(x0.shape)].astype(np.float32) for step in grads], **kwargs)
        np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-6)
    kept = [v for state in optimizer.state.values() for v in state.values() if isinstance(v, np.ndarray)]
    assert all(v.dtype == np.float32 for v in kept)
    assert kept or (cls is SGD and not kwargs.get("momentum"))


def test_literal_numbers():
    # SGD with momentum 0.9, lr 0.1, constant gradient 1 from p = 1:
    # b = 1, 1.9, 2.71  ->  p = 0.9, 0.71, 0.439
    p = Parameter([1.0], dtype=np.float64)
    opt = SGD([p], lr=0.1, momentum=0.9)
    for expected in (0.9, 0.71, 0.439):
        p.grad = np.array([1.0])
        opt.step()
        assert p.data[0] == pytest.approx(expected, abs=1e-15)
    # Adam's first step moves every coordinate by lr * g / (|g| + eps)
    p = Parameter([2.0, -3.0], dtype=np.float64)
    p.grad = np.array([0.5, 4.0])
    Adam([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [2.0 - 0.1 * 0.5 / (0.5 + 1e-8), -3.0 - 0.1 * 4 / (4 + 1e-8)], rtol=1e-15)
    # Adagrad: p = 1, g = 2 -> s = 4, p = 1 - 0.1 * 2 / 2 = 0.9; then g = 2 -> s = 8
    p = Parameter([1.0], dtype=np.float64)
    opt = Adagrad([p], lr=0.1, eps=0)
    for expected in (0.9, 0.9 - 0.1 * 2 / math.sqrt(8)):
        p.grad = np.array([2.0])
        opt.step()
        assert p.data[0] == pytest.approx(expected, abs=1e-15)


def test_plain_sgd_on_a_layer_calls_layer_step():
    calls = []

    class Recording(Sequential):
        def step(self, lr):
            calls.append(lr)
            super().step(lr)

    net = Recording(Linear(3, 2))
    w0 = net[0].weight.data.copy()
    net(np.ones((4, 3), np.float32))
    net.backward(np.ones((4, 2), np.float32))
    grad = net[0].weight.grad
    opt = SGD(net, lr=0.5)
    opt.step()
    assert calls == [0.5]
    np.testing.assert_allclose(net[0].weight.data, w0 - 0.5 * grad)
    SGD(net, lr=0.5, momentum=0.9).step()            # stateful rules go per Parameter
    assert calls == [0.5]


def test_module_and_generator_inputs_are_accepted():
    net = Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
    for params in (net, net.parameters(), list(net.parameters())):
        opt = Adam(params)
        assert [p for g in opt.param_groups for p in g["params"]] == list(net.parameters())


def test_a_shared_parameter_is_optimized_once():
    net = Sequential(Linear(3, 3), ReLU(), Linear(3, 3))
    net[2].weight = net[0].weight
    opt = SGD(net, lr=0.1, momentum=0.5)
    assert len(opt.param_groups[0]["params"]) == 3


def test_parameters_without_gradient_are_skipped(rng):
    a, b = Parameter(rng.normal(size=3)), Parameter(rng.normal(size=3))
    b0 = b.data.copy()
    a.grad = np.ones(3, np.float32)
    opt = Adam([a, b], lr=0.1)
    opt.step()
    np.testing.assert_array_equal(b.data, b0)
    assert b not in opt.state and opt.state[a]["step"] == 1


def test_param_groups_use_their_own_hyper_parameters():
    a, b = Parameter([1.0]), Parameter([1.0])
    opt = SGD([{"params": [a], "lr": 0.5}, {"params": [b]}], lr=0.1, momentum=0.5)
    a.grad = b.grad = np.array([1.0], np.float32)
    opt.step()
    assert a.data[0] == pytest.approx(0.5) and b.data[0] == pytest.approx(0.9)
    assert opt.param_groups[0]["momentum"] == opt.param_groups[1]["momentum"] == 0.5


@pytest.mark.parametrize("make, fragment", [
    (lambda p: SGD(p, lr=-0.1), r"^SGD: lr must be a number >= 0, got -0.1$"),
    (lambda p: SGD(p, lr=0.1, momentum=1.0), r"momentum must be a number in \[0, 1\), got 1.0"),
    (lambda p: SGD(p, lr=0.1, momentum=-0.5), "momentum must be a number in"),
    (lambda p: SGD(p, lr=0.1, nesterov=True), "nesterov"),
    (lambda p: SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening"),
    (lambda p: SGD(p, lr=0.1, weight_decay=-1), "weight_decay must be a number >= 0, got -1"),
    (lambda p: SGD(p, lr=math.nan), "lr must be a number >= 0, got nan"),
    (lambda p: SGD(p, lr=math.inf), "lr must be a number >= 0, got inf"),
    (lambda p: Adam(p, betas=(1.0, 0.999)), r"^Adam: betas\[0\] must be a number in \[0, 1\), got 1.0"),
    (lambda p: Adam(p, betas=(0.9, -0.1)), r"betas\[1\] must be a number in \[0, 1\), got -0.1"),
    (lambda p: AdamW(p, eps=-1e-8), r"^AdamW: eps must be a number >= 0, got -1e-08"),
    (lambda p: AdamW(p, lr=-1), r"^AdamW: lr must be a number >= 0, got -1"),
    (lambda p: RMSprop(p, alpha=1.5), r"alpha must be a number in \[0, 1\], got 1.5"),
    (lambda p: RMSprop(p, momentum=1), "momentum must be a number in"),
    (lambda p: Adagrad(p, lr_decay=-1), "lr_decay must be a number >= 0, got -1"),
    (lambda p: Adagrad(p, initial_accumulator_value=-1), "initial_accumulator_value must be a number >= 0"),
    (lambda p: SGD([{"params": p, "learning_rate": 0.1}]), "learning_rate"),
    (lambda p: SGD([], lr=0.1), "empty parameter list"),
    (lambda p: SGD(p + p, lr=0.1), "more than once"),
])
def test_invalid_hyper_parameters_raise(make, fragment):
    with pytest.raises(ValueError, match=fragment):
        make([Parameter([1.0])])


@pytest.mark.parametrize("make, fragment", [
    (lambda p: SGD(p, lr="0.1"), r"^SGD: lr must be a number >= 0, got '0.1' \(str\)"),
    (lambda p: SGD(p, lr=None), "lr must be a number >= 0, got None"),
    (lambda p: SGD(p, lr=True), r"lr must be a number >= 0, got True \(bool\)"),
    (lambda p: SGD(p, lr=np.array([0.1])), "lr must be a number"),
    (lambda p: SGD(p, lr=0.1, nesterov="yes"), "nesterov must be True or False"),
    (lambda p: Adam(p, betas=0.9), r"^Adam: betas must be a pair"),
    (lambda p: Adam(p, betas=(0.9, "0.99")), r"betas\[1\] must be a number"),
    (lambda p: Adam(p, amsgrad=1), "amsgrad must be True or False"),
    (lambda p: RMSprop(p, centered=None), "centered must be True or False"),
    (lambda p: Adagrad(p, eps="small"), "eps must be a number"),
])
def test_hyper_parameters_of_the_wrong_type_raise(make, fragment):
    with pytest.raises(TypeError, match=fragment):
        make([Parameter([1.0])])


def test_integer_parameters_are_refused():
    with pytest.raises(TypeError, match=r"^Adam: can only optimize floating-point Parameters.*int64"):
        Adam([Parameter([1, 2], dtype=np.int64)])


def test_non_parameters_are_refused():
    with pytest.raises(TypeError, match="Parameters"):
        SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match="ndarray"):
        SGD(np.zeros(3), lr=0.1)


def test_gradient_shape_mismatch_is_refused_when_the_gradient_is_set():
    p = Parameter(np.zeros((2, 3)))
    with pytest.raises(ShapeError, match=r"shape \(2, 3\).*\(3, 2\)"):
        p.grad = np.zeros((3, 2), np.float32)
    with pytest.raises(ShapeError, match=r"shape \(2, 3\).*\(3, 2\)"):
        p.add_grad(np.zeros((3, 2), np.float32))
    assert p.grad is None


def test_zero_grad():
    p = Parameter([1.0, 2.0])
    opt = SGD([p], lr=0.1)
    p.grad = np.ones(2, np.float32)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad, 0)
    opt.zero_grad()
    assert p.grad is None


@pytest.mark.parametrize("cls, ref, kwargs", CASES, ids=IDS)
def test_state_dict_resumes_exactly(cls, ref, kwargs, rng):
    params, init, grads = make_problem(rng)
    full = run(cls(params, **kwargs), params, grads)
    first = [Parameter(x, dtype=np.float64) for x in init]
    opt = cls(first, **kwargs)
    run(opt, first, grads[:2])
    saved, saved_params = opt.state_dict(), [p.data.copy() for p in first]
    run(opt, first, grads[2:3])                       # the snapshot must not follow later steps
    second = [Parameter(x, dtype=np.float64) for x in saved_params]
    resumed = cls(second, **kwargs)
    resumed.load_state_dict(saved)
    for a, b in zip(run(resumed, second, grads[2:]), full):
        np.testing.assert_array_equal(a, b)


def test_load_state_dict_checks_before_changing():
    a, b = Parameter(np.zeros(3)), Parameter(np.zeros(2))
    opt = Adam([a, b], lr=0.1)
    a.grad, b.grad = np.ones(3, np.float32), np.ones(2, np.float32)
    opt.step()
    saved = opt.state_dict()
    other = Adam([Parameter(np.zeros(3)), Parameter(np.zeros(5))], lr=0.2)
    with pytest.raises(StateDictError, match="shape"):
        other.load_state_dict(saved)
    assert other.state == {} and other.param_groups[0]["lr"] == 0.2
    with pytest.raises(StateDictError, match="group 0 holds 2 Parameters, this optimizer's holds 1"):
        Adam([Parameter(np.zeros(3))]).load_state_dict(saved)
    with pytest.raises(StateDictError):
        Adam([a, b]).load_state_dict({"state": {}})


def _damaged(saved, where, value):
    """A deep copy of an optimizer state dict with one entry (path of keys) replaced."""
    copy = {"state": {i: dict(e) for i, e in saved["state"].items()},
            "param_groups": [dict(g) for g in saved["param_groups"]]}
    target = copy
    for key in where[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[where[-1]]
    else:
        target[where[-1]] = value
    return copy


_DELETE = object()


@pytest.mark.parametrize("where, value, fragment", [
    (("state", 1, "exp_avg"), "abc", "state 'exp_avg' of Parameter 1 must be an array of real numbers"),
    (("state", 1, "exp_avg"), np.zeros((3, 1)), r"shape \(2,\)"),
    (("state", 1, "exp_avg"), np.array([1 + 2j, 0]), "complex"),
    (("state", 1, "step"), "3", "step must be an int >= 0"),
    (("state", 1, "step"), -1, "step must be an int >= 0"),
    (("state", 1, "exp_avg_sq"), _DELETE, r"missing keys \['exp_avg_sq'\]"),
    (("state", 1, "velocity"), np.zeros(2), r"unknown keys \['velocity'\]"),
    (("state", 7), {}, "Parameter index 7"),
    (("state", "1"), {}, "Parameter index '1'"),
    (("state",), [1, 2], "'state' must be a dict"),
    (("param_groups", 0, "lr"), "0.1", "group 0: Adam: lr must be a number"),
    (("param_groups", 0, "betas"), (0.9, 2.0), r"betas\[1\] must be a number in \[0, 1\)"),
    (("param_groups", 0, "amsgrad"), True, r"missing keys \['max_exp_avg_sq'\]"),
    (("param_groups", 0, "params"), [0, 0], "appears more than once"),
    (("param_groups", 0, "params"), [0, "1"], "indices"),
    (("param_groups",), {}, "'param_groups' must be a list of dicts"),
])
def test_optimizer_load_state_dict_is_all_or_nothing(where, value, fragment):
    a, b = Parameter(np.zeros(3)), Parameter(np.zeros(2))
    opt = Adam([a, b], lr=0.1)
    a.grad, b.grad = np.ones(3, np.float32), np.ones(2, np.float32)
    opt.step()
    target = Adam([Parameter(np.zeros(3)), Parameter(np.zeros(2))], lr=0.2)
    target.param_groups[0]["params"][0].grad = np.ones(3, np.float32)
    target.step()
    before = target.state_dict()
    with pytest.raises(StateDictError, match=fragment) as info:
        target.load_state_dict(_damaged(opt.state_dict(), where, value))
    assert str(info.value).startswith("Adam.load_state_dict: ") and "(nothing was loaded)" in str(info.value)
    after = target.state_dict()
    assert after["param_groups"] == before["param_groups"] and list(after["state"]) == [0]
    np.testing.assert_array_equal(after["state"][0]["exp_avg"], before["state"][0]["exp_avg"])


def test_loaded_state_is_copied_and_cast():
    a = Parameter(np.zeros(3))                                    # float32
    opt = SGD([a], lr=0.1, momentum=0.9)
    buffer = np.arange(3.0)                                       # float64
    opt.load_state_dict({"state": {0: {"momentum_buffer": buffer}},
                         "param_groups": [{"lr": 0.5, "momentum": 0.9, "dampening": 0,
                                           "weight_decay": 0, "nesterov": False, "params": [0]}]})
    loaded = opt.state[a]["momentum_buffer"]
    assert loaded.dtype == np.float32 and not np.shares_memory(loaded, buffer)
    assert opt.param_groups[0]["lr"] == 0.5


# --------------------------------------------------------- gradients as they come
def test_plain_sgd_never_broadcasts_a_gradient():
    net = Sequential(Linear(3, 2))
    w0 = net[0].weight.data.copy()
    for bad in (np.float32(1.0), np.ones(2, np.float32), np.ones((1, 3), np.float32)):
        with pytest.raises(ShapeError, match=r"shape \(2, 3\)"):
            net[0].weight.grad = bad
        with pytest.raises(ShapeError):
            net[0].weight.add_grad(bad)
    SGD(net, lr=0.1).step()                   # nothing was stored, so nothing moves
    np.testing.assert_array_equal(net[0].weight.data, w0)


@pytest.mark.parametrize("cls", [RMSprop, Adagrad, Adam, SGD])
def test_integer_gradients_update_like_float_ones(cls):
    p_int, p_float = Parameter([1.0, 2.0, 3.0]), Parameter([1.0, 2.0, 3.0])
    p_int.grad = np.array([1, -2, 3])                             # int64: stored as float32
    p_float.grad = np.array([1.0, -2.0, 3.0], np.float32)
    cls([p_int], lr=0.1).step()
    cls([p_float], lr=0.1).step()
    np.testing.assert_array_equal(p_int.data, p_float.data)
    assert p_int.data.dtype == np.float32 and not np.array_equal(p_int.data, [1.0, 2.0, 3.0])


def test_clip_grad_norm_of_a_read_only_gradient():
    p = Parameter(np.zeros(4))
    grad = np.full(4, 3.0, np.float32)
    grad.flags.writeable = False
    p.grad = grad
    assert clip_grad_norm(p, 1.0) == pytest.approx(6.0)
    np.testing.assert_allclose(p.grad, 0.5, rtol=1e-5)
    np.testing.assert_array_equal(grad, 3.0)                     # the array handed in is untouched


@pytest.mark.parametrize("call, error, fragment", [
    (lambda p: clip_grad_norm(p, "1"), TypeError, r"^clip_grad_norm: max_norm must be a number >= 0, got '1'"),
    (lambda p: clip_grad_norm(p, math.nan), ValueError, "max_norm must be a number >= 0, got nan"),
    (lambda p: clip_grad_norm(p, 1.0, norm_type="inf"), TypeError, "norm_type must be a number > 0"),
    (lambda p: clip_grad_norm(p, 1.0, error_if_nonfinite=None), TypeError, "error_if_nonfinite"),
    (lambda p: clip_grad_norm([p, np.zeros(3)], 1.0), TypeError, "must hold Parameters, got a ndarray"),
    (lambda p: clip_grad_norm(np.zeros(3), 1.0), TypeError, "got ndarray"),
    (lambda p: clip_grad_norm(3, 1.0), TypeError, "got int"),
])
def test_clip_grad_norm_arguments(call, error, fragment):
    p = Parameter(np.zeros(3))
    p.grad = np.ones(3, np.float32)
    with pytest.raises(error, match=fragment):
        call(p)
    np.testing.assert_array_equal(p.grad, 1.0)


# ------------------------------------------------------------------ clipping
def _grads(rng):
    params = [Parameter(np.zeros(s)) for s in SHAPES]
    for p in params:
        p.grad = rng.normal(size=p.shape).astype(np.float32)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_clip_grad_norm(norm_type, rng):
    params = _grads(rng)
    flat = np.concatenate([p.grad.ravel() for p in params]).astype(np.float64)
    expected = np.linalg.norm(flat, ord=norm_type)
    before = [p.grad.copy() for p in params]
    total = clip_grad_norm(params, max_norm=0.5, norm_type=norm_type)
    assert isinstance(total, float) and total == pytest.approx(expected, rel=1e-6)
    for g0, p in zip(before, params):
        np.testing.assert_allclose(p.grad, g0 * 0.5 / (expected + 1e-6), rtol=1e-6)
        assert p.grad.dtype == np.float32
    after = np.concatenate([p.grad.ravel() for p in params]).astype(np.float64)
    assert np.linalg.norm(after, ord=norm_type) == pytest.approx(0.5, rel=1e-5)


def test_clip_grad_norm_leaves_small_gradients_and_skips_none(rng):
    params = _grads(rng) + [Parameter(np.zeros(2))]
    before = [p.grad.copy() for p in params[:-1]]
    total = clip_grad_norm_(params, max_norm=1e3)
    for g0, p in zip(before, params):
        np.testing.assert_array_equal(p.grad, g0)
    assert params[-1].grad is None and total > 0
    assert clip_grad_norm([Parameter([1.0])], 1.0) == 0.0


def test_clip_grad_norm_accepts_a_layer_and_validates(rng):
    net = Sequential(Linear(3, 2))
    net(rng.normal(size=(4, 3)))
    net.backward(10 * np.ones((4, 2), np.float32))
    clip_grad_norm(net, 1.0)
    total = math.sqrt(sum(float((p.grad.astype(np.float64) ** 2).sum()) for p in net.parameters()))
    assert total == pytest.approx(1.0, rel=1e-5)
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm(net, -1.0)
    with pytest.raises(ValueError, match="norm_type"):
        clip_grad_norm(net, 1.0, norm_type=0)
    p = Parameter([1.0])
    p.grad = np.array([np.inf], np.float32)
    with pytest.raises(RuntimeError, match="inf"):
        clip_grad_norm([p], 1.0, error_if_nonfinite=True)
    assert clip_grad_norm([p], 1.0) == math.inf and p.grad[0] == np.inf


@pytest.mark.parametrize("norm_type", [2.0, 1.5, math.inf])
def test_clip_grad_norm_matches_torch(norm_type, rng):
    torch = pytest.importorskip("torch")
    params = _grads(rng)
    tparams = [torch.zeros(p.shape, dtype=torch.float32, requires_grad=True) for p in params]
    for p, t in zip(params, tparams):
        t.grad = torch.tensor(p.grad)
    total = clip_grad_norm(params, 0.7, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, 0.7, norm_type=norm_type)
    assert total == pytest.approx(float(ttotal), rel=1e-5)
    for p, t in zip(params, tparams):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-5, atol=1e-7)
