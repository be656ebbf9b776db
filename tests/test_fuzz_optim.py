"""Fuzz every optimizer, learning-rate scheduler and ``clip_grad_norm`` against torch.optim (see tests/fuzzing.py).

An optimizer trial draws hyper-parameters (``OPTIMIZERS``: valid values; one may be
spoiled), one or two parameter groups of float64 Parameters of random shapes, and
a few steps of random gradients (NaN, inf, zeros, large; a Parameter without a
gradient is skipped), runs the same steps with ``torch.optim.<name>`` and compares
the Parameters after every step. A scheduler trial (``SCHEDULERS``) builds an SGD
or Adam over one or two groups, steps the scheduler a few times (metrics for
ReduceLROnPlateau) and compares the learning rates (and OneCycleLR's momentum)
with ``torch.optim.lr_scheduler.<name>`` after every step.
"""
import inspect
import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mtorch.optim as moptim
from mtorch import Parameter
from mtorch.optim import lr_scheduler as msched

from fuzzing import (BAD_VALUES, BOOL, SEED, VALUES, Arr, OptimCase, attempt, bad_value_kind, build, check_coverage,
                     differences,
                     fuzz_settings, judge, known_params, mutation, reference, shapes, to_tensor,
                     torch)

FAMILY_OPTIM, FAMILY_SCHED = "optimizers", "schedulers"


def public_optimizers():
    return {n: c for n, c in vars(moptim).items()
            if isinstance(c, type) and issubclass(c, moptim.Optimizer) and c is not moptim.Optimizer}


def public_schedulers():
    return {n: c for n, c in vars(msched).items()
            if isinstance(c, type) and issubclass(c, msched.LRScheduler) and c is not msched.LRScheduler}


# ---------------------------------------------------------------- optimizer table
LR = st.sampled_from((0.1, 0.01, 0.0, 1.0))
DECAY = st.sampled_from((0.0, 0.0, 0.01, 0.5))
EPS = st.sampled_from((1e-8, 1e-3, 0.1))


def sgd_args(d):
    momentum, dampening = d(st.sampled_from((0.0, 0.9, 0.5))), d(st.sampled_from((0.0, 0.0, 0.1)))
    nesterov = d(BOOL) if momentum > 0 and dampening == 0 else False
    return dict(lr=d(LR), momentum=momentum, dampening=dampening, weight_decay=d(DECAY), nesterov=nesterov)


def adam_args(d):
    return dict(lr=d(LR), betas=(d(st.sampled_from((0.9, 0.0, 0.5))), d(st.sampled_from((0.999, 0.9, 0.0)))),
                eps=d(EPS), weight_decay=d(DECAY), amsgrad=d(BOOL))


def rmsprop_args(d, centered):
    alphas = (0.99, 0.5) if centered else (0.99, 0.5, 0.0)       # TORCH_WRONG["rmsprop-centered-zero-variance"]
    return dict(lr=d(LR), alpha=d(st.sampled_from(alphas)), eps=d(EPS), weight_decay=d(DECAY),
                momentum=d(st.sampled_from((0.0, 0.9))), centered=centered)


OPTIMIZERS = {
    "SGD": sgd_args,
    "Adam": adam_args,
    "AdamW": adam_args,
    "RMSprop": lambda d: rmsprop_args(d, d(BOOL)),
    "Adagrad": lambda d: dict(lr=d(LR), lr_decay=d(st.sampled_from((0.0, 0.1))), weight_decay=d(DECAY),
                              initial_accumulator_value=d(st.sampled_from((0.0, 0.1))), eps=d(EPS)),
}

# Ways to spoil the parameters an optimizer is given, and what torch is given for them.
BAD_PARAMS = ("empty", "array", "junk-item", "int-parameter", "group-without-params", "unknown-group-key")


def draw_optim_case(d, name):
    kwargs = OPTIMIZERS[name](d)
    params = tuple(Arr(d(shapes(0, 3, 0, 3)), "normal", "float64", "array", d(SEED))
                   for _ in range(d(st.integers(1, 3))))
    if len(params) > 1 and d(BOOL):
        first = d(st.integers(1, len(params) - 1))
        own = {k: v for k, v in OPTIMIZERS[name](d).items()       # a group's own hyper-parameters (see
               if k not in ("lr", "initial_accumulator_value")}  # TORCH_WRONG["adagrad-group-accumulator"])
        override = d(st.sampled_from(({}, {"lr": 0.5}, own)))
        groups = ((first, {}), (len(params) - first, override))
    else:
        groups = ((len(params), {}),)
    steps = tuple(tuple(None if d(st.integers(0, 5)) == 0 else
                        Arr(p.shape, d(VALUES), "float64", "array", d(SEED)) for p in params)
                  for _ in range(d(st.integers(1, 4))))
    kind, spoil, key = d(st.sampled_from(("valid", "valid", "valid", "ctor", "params")), label="spoil"), "", "valid"
    if kind == "ctor":
        key, arg, value = d(mutation(_optim_params(name)))
        kwargs = dict(kwargs, **{arg: value})
    elif kind == "params":
        spoil = d(st.sampled_from(BAD_PARAMS))
        key = f"params:{spoil}"
    return OptimCase(name, kwargs, params, groups, steps, spoil, key)


def _optim_params(name):
    names = set(inspect.signature(OPT_PUBLIC[name].__init__).parameters) - {"self", "params"}
    if torch is not None:
        names |= set(inspect.signature(getattr(torch.optim, name).__init__).parameters) - {"self", "params"}
    return names


def _grouped(case, params, make_junk):
    """What the optimizer is given: Parameters, or groups of them (spoiled as ``case.spoil`` says)."""
    if case.spoil == "empty":
        return []
    if case.spoil == "array":
        return np.zeros(3)
    if case.spoil == "junk-item":
        return list(params) + [make_junk()]
    out, start = [], 0
    for count, override in case.groups:
        out.append(dict(override, params=params[start:start + count]))
        start += count
    if case.spoil == "group-without-params":
        out.append({"lr": 0.1})
    if case.spoil == "unknown-group-key":
        out[0]["bogus"] = 1.0
    return out if len(out) > 1 or case.spoil else list(params)


def run_optim_mtorch(case):
    cls = OPT_PUBLIC[case.name]
    params = [Parameter(a.build(), dtype=np.float64) for a in case.params]
    if case.spoil == "int-parameter":
        params.append(Parameter(np.arange(3), dtype=np.int64))
    optimizer = attempt("ctor", cls, _grouped(case, params, lambda: "junk"), **build(case.kwargs))
    history = []
    for grads in case.steps:
        for p, g in zip(params, grads):
            p.grad = None if g is None else g.build()
        attempt("step", optimizer.step)
        history.append([p.data.copy() for p in params[:len(case.params)]])
    return history


def run_optim_torch(case):
    kw = case.kwargs
    if case.name == "RMSprop" and kw.get("centered") is True and kw.get("alpha") == 0 and not case.spoil:
        return None                                # TORCH_WRONG["rmsprop-centered-zero-variance"]
    tensors = [to_tensor(a.build(), grad=True) for a in case.params]
    if case.spoil == "int-parameter":
        tensors.append(torch.arange(3))
    if case.spoil == "array":
        reference("ctor", _raise, "a numpy array is not an iterable of tensors")
    optimizer = reference("ctor", getattr(torch.optim, case.name), _grouped(case, tensors, lambda: "junk"),
                          **build(case.kwargs))
    history = []
    for grads in case.steps:
        for p, g in zip(tensors, grads):
            p.grad = None if g is None else to_tensor(g.build())
        reference("step", optimizer.step)
        history.append([p.detach().numpy().copy() for p in tensors[:len(case.params)]])
    return history


def _raise(message):
    raise TypeError(message)


def compare_history(got, expected):
    problems = []
    if expected is None:
        return problems
    for step, (mine, theirs) in enumerate(zip(got, expected)):
        for i, (a, b) in enumerate(zip(mine, theirs)):
            problems += differences(a, b, f"step {step + 1}, Parameter {i}")
        if problems:
            break
    return problems


def check_optim_case(case, tolerate_known=True):
    return judge(FAMILY_OPTIM, case.name, case.key, case, lambda: run_optim_mtorch(case),
                 lambda: run_optim_torch(case), compare_history, tolerate_known=tolerate_known)


# ---------------------------------------------------------------- scheduler table
def one_cycle_args(d):
    args = dict(max_lr=d(st.sampled_from((0.1, 1.0, [0.1, 0.2]))), pct_start=d(st.sampled_from((0.3, 0.0, 0.5, 1.0))),
                anneal_strategy=d(st.sampled_from(("cos", "linear"))), cycle_momentum=d(BOOL),
                div_factor=d(st.sampled_from((25.0, 1.0))), final_div_factor=d(st.sampled_from((1e4, 2.0))),
                three_phase=d(BOOL))
    if d(BOOL):
        args["total_steps"] = d(st.integers(1, 8))
    else:
        args.update(epochs=d(st.integers(1, 3)), steps_per_epoch=d(st.integers(1, 3)))
    return args


SCHEDULERS = {
    "StepLR": lambda d: dict(step_size=d(st.integers(1, 3)), gamma=d(st.sampled_from((0.1, 0.5, 2.0)))),
    "MultiStepLR": lambda d: dict(milestones=sorted(d(st.lists(st.integers(0, 6), max_size=3))),
                                  gamma=d(st.sampled_from((0.1, 0.5)))),
    "ExponentialLR": lambda d: dict(gamma=d(st.sampled_from((0.9, 0.5, 1.0)))),
    "CosineAnnealingLR": lambda d: dict(T_max=d(st.integers(1, 5)), eta_min=d(st.sampled_from((0.0, 0.01)))),
    "OneCycleLR": one_cycle_args,
    "ReduceLROnPlateau": lambda d: dict(mode=d(st.sampled_from(("min", "max"))),
                                        factor=d(st.sampled_from((0.1, 0.5, 0.0))), patience=d(st.integers(0, 2)),
                                        threshold=d(st.sampled_from((1e-4, 0.0, 0.5))),
                                        threshold_mode=d(st.sampled_from(("rel", "abs"))),
                                        cooldown=d(st.integers(0, 2)), min_lr=d(st.sampled_from((0, 0.01, [0, 0.001]))),
                                        eps=d(st.sampled_from((1e-8, 0.0)))),
}

METRICS = st.one_of(st.floats(-10, 10), st.sampled_from((float("nan"), float("inf"), 0.0, 1.0)),
                    st.just(np.array([0.5])), st.sampled_from(("3", None, [1.0], np.zeros(2))))


@dataclass(frozen=True)
class SchedCase:
    name: str
    kwargs: dict
    optimizer: str                   # "SGD" (momentum 0.9) or "Adam"
    lrs: tuple                       # one learning rate per parameter group
    steps: int
    metrics: tuple = ()              # ReduceLROnPlateau.step's arguments
    key: str = "valid"


def draw_sched_case(d, name):
    kwargs = SCHEDULERS[name](d)
    lrs = tuple(d(st.lists(st.sampled_from((0.1, 0.5, 1.0)), min_size=1, max_size=2)))
    for k in ("max_lr", "min_lr"):               # one value per group, or a list of the wrong length
        if isinstance(kwargs.get(k), list) and d(BOOL):
            kwargs[k] = kwargs[k][:len(lrs)] + [0.001] * (len(lrs) - len(kwargs[k]))
    steps = d(st.integers(1, 10))
    metrics = tuple(d(st.lists(METRICS, min_size=steps, max_size=steps))) if name == "ReduceLROnPlateau" else ()
    key = "valid"
    if metrics and any(not isinstance(m, float) for m in metrics):
        key = "metrics:" + next(type(m).__name__ for m in metrics if not isinstance(m, float))
    if d(st.sampled_from(("valid", "valid", "ctor")), label="spoil") == "ctor":
        key, arg, value = d(mutation(_sched_params(name)))
        kwargs = dict(kwargs, **{arg: value})
    return SchedCase(name, kwargs, d(st.sampled_from(("SGD", "Adam"))), lrs, steps, metrics, key)


def _sched_params(name):
    names = set(inspect.signature(SCHED_PUBLIC[name].__init__).parameters) - {"self", "optimizer"}
    if torch is not None:
        names |= set(inspect.signature(getattr(torch.optim.lr_scheduler, name).__init__).parameters)
    return names - {"self", "optimizer", "verbose"}


def _sched_run(case, optimizer, scheduler_cls, wrap, stage):
    scheduler = wrap("ctor", scheduler_cls, optimizer, **case.kwargs)
    history = [_lrs(optimizer)]
    for i in range(case.steps):
        wrap("step", optimizer.step)
        if case.name == "ReduceLROnPlateau":
            metric = case.metrics[i]
            if stage == "torch":                   # ALLOWED_DIFFERENCES["one-element-metric"]
                metric = _torch_metric(metric)
            wrap("step", scheduler.step, metric)
        else:
            wrap("step", scheduler.step)
        history.append(_lrs(optimizer))
    return history


def _torch_metric(metric):
    if isinstance(metric, np.ndarray) and metric.size == 1:
        return float(metric.reshape(()))
    if isinstance(metric, (str, list)) or metric is None or isinstance(metric, np.ndarray):
        raise TypeError(f"not a number: {metric!r}")   # torch's float() would parse "3"; mtorch refuses text
    return metric


def _lrs(optimizer):
    out = []
    for group in optimizer.param_groups:
        momentum = group.get("momentum", group["betas"][0] if "betas" in group else None)
        out.append([float(group["lr"]), float(momentum)])
    return out


def run_sched_mtorch(case):
    params = [Parameter(np.zeros(2), dtype=np.float64) for _ in case.lrs]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, case.lrs)]
    optimizer = moptim.SGD(groups, momentum=0.9) if case.optimizer == "SGD" else moptim.Adam(groups)
    return _sched_run(case, optimizer, SCHED_PUBLIC[case.name], attempt, "mtorch")


def run_sched_torch(case):
    tensors = [torch.zeros(2, dtype=torch.float64, requires_grad=True) for _ in case.lrs]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(tensors, case.lrs)]
    optimizer = torch.optim.SGD(groups, momentum=0.9) if case.optimizer == "SGD" else torch.optim.Adam(groups)
    return _sched_run(case, optimizer, getattr(torch.optim.lr_scheduler, case.name), reference, "torch")


def compare_lrs(got, expected):
    for step, (a, b) in enumerate(zip(got, expected)):
        problems = differences(np.array(a), np.array(b), f"[lr, momentum] per group after {step} steps")
        if problems:
            return problems
    return []


def check_sched_case(case, tolerate_known=True):
    return judge(FAMILY_SCHED, case.name, case.key, case, lambda: run_sched_mtorch(case),
                 lambda: run_sched_torch(case), compare_lrs, tolerate_known=tolerate_known)


# ---------------------------------------------------------------- clip_grad_norm
@dataclass(frozen=True)
class ClipCase:
    grads: tuple                      # an Arr or None per Parameter
    max_norm: object
    norm_type: object
    error_if_nonfinite: object
    key: str = "valid"


NORM_TYPES = st.sampled_from((2.0, 1.0, 0.5, 3, math.inf, 2))


@st.composite
def clip_cases(draw):
    grads = tuple(None if draw(st.integers(0, 4)) == 0 else
                  Arr(draw(shapes(0, 2, 0, 3)), draw(VALUES), "float64", "array", draw(SEED))
                  for _ in range(draw(st.integers(1, 3))))
    args = {"max_norm": draw(st.sampled_from((1.0, 0.0, 0.1, 100.0))), "norm_type": draw(NORM_TYPES),
            "error_if_nonfinite": draw(BOOL)}
    key = "valid"
    if draw(st.sampled_from(("valid", "valid", "ctor"))) == "ctor":
        arg, value = draw(st.sampled_from(sorted(args))), draw(st.sampled_from(BAD_VALUES))
        args[arg], key = value, f"ctor:{arg}={bad_value_kind(value)}"
    return ClipCase(grads, key=key, **args)


def _clip(case, params, clip, wrap):
    total = wrap("clip", clip, params, case.max_norm, case.norm_type, error_if_nonfinite=case.error_if_nonfinite)
    return float(total), [None if p.grad is None else np.array(p.grad.tolist()) for p in params]


def run_clip_mtorch(case):
    params = []
    for g in case.grads:
        p = Parameter(np.zeros(g.shape if g is not None else (1,)), dtype=np.float64)
        p.grad = None if g is None else g.build()
        params.append(p)
    return _clip(case, params, moptim.clip_grad_norm, attempt)


def run_clip_torch(case):
    tensors = []
    for g in case.grads:
        t = torch.zeros(g.shape if g is not None else (1,), dtype=torch.float64, requires_grad=True)
        t.grad = None if g is None else to_tensor(g.build())
        if t.grad is not None and t.grad.numel() == 0 and case.norm_type == math.inf:
            t.grad = None                          # TORCH_WRONG["inf-norm-of-empty"]
        tensors.append(t)
    return _clip(case, tensors, torch.nn.utils.clip_grad_norm_, reference)


def compare_clip(got, expected):
    problems = differences(got[0], expected[0], "total norm")
    if problems or not math.isfinite(got[0]):     # ALLOWED_DIFFERENCES["clip-nonfinite"]
        return problems
    for i, (a, b) in enumerate(zip(got[1], expected[1])):
        if not (b is None and a is not None and a.size == 0):    # an empty gradient torch was not given
            problems += differences(a, b, f"grad {i}")
    return problems


def check_clip_case(case, tolerate_known=True):
    return judge(FAMILY_OPTIM, "clip_grad_norm", case.key, case, lambda: run_clip_mtorch(case),
                 lambda: run_clip_torch(case), compare_clip, extra=(RuntimeError,), tolerate_known=tolerate_known)


OPT_PUBLIC, SCHED_PUBLIC = public_optimizers(), public_schedulers()


# ---------------------------------------------------------------- tests
def test_every_public_optimizer_and_scheduler_has_a_strategy():
    check_coverage(OPT_PUBLIC, OPTIMIZERS, "OPTIMIZERS")
    check_coverage(SCHED_PUBLIC, SCHEDULERS, "SCHEDULERS")


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@fuzz_settings
@given(data=st.data())
def test_fuzz_optimizer(name, data):
    check_optim_case(draw_optim_case(data.draw, name))


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
@fuzz_settings
@given(data=st.data())
def test_fuzz_scheduler(name, data):
    check_sched_case(draw_sched_case(data.draw, name))


@fuzz_settings
@given(case=clip_cases())
def test_fuzz_clip_grad_norm(case):
    check_clip_case(case)


@pytest.mark.parametrize("known", known_params(FAMILY_OPTIM, FAMILY_SCHED))
def test_known_optim_failure(known):
    check = {FAMILY_OPTIM: check_optim_case, FAMILY_SCHED: check_sched_case}[known.family]
    check(known.example, tolerate_known=False)
