"""Learning-rate schedulers: lr sequences against hand values, the closed forms and torch."""
import math

import numpy as np
import pytest

from mtorch import Parameter
from mtorch.errors import StateDictError
from mtorch.optim import SGD, Adam
from mtorch.optim.lr_scheduler import (CosineAnnealingLR, ExponentialLR, MultiStepLR, OneCycleLR,
                                       ReduceLROnPlateau, StepLR)


def sgd(lr=0.1, **kwargs):
    return SGD([Parameter([1.0])], lr=lr, **kwargs)


def lrs(scheduler, steps):
    """get_last_lr() after construction, then after each of ``steps`` steps."""
    out = [scheduler.get_last_lr()[0]]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        out.append(scheduler.get_last_lr()[0])
        assert out[-1] == scheduler.optimizer.param_groups[0]["lr"]
    return out


def test_step_lr():
    got = lrs(StepLR(sgd(), step_size=3, gamma=0.5), 8)
    assert got == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025], rel=1e-15)


def test_multistep_lr_with_a_repeated_milestone():
    got = lrs(MultiStepLR(sgd(), milestones=[2, 5, 5], gamma=0.1), 7)
    assert got == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.01, 1e-4, 1e-4, 1e-4], rel=1e-12)


def test_exponential_lr():
    assert lrs(ExponentialLR(sgd(), gamma=0.9), 6) == pytest.approx([0.1 * 0.9 ** e for e in range(7)],
                                                                    rel=1e-14)


def test_cosine_annealing_lr_follows_the_closed_form():
    got = lrs(CosineAnnealingLR(sgd(), T_max=4, eta_min=0.01), 12)
    expected = [0.01 + 0.09 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(13)]
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert got[4] == pytest.approx(0.01) and got[8] == pytest.approx(0.1)


def test_one_cycle_lr_hand_values_and_momentum():
    scheduler = OneCycleLR(sgd(momentum=0.9), max_lr=1.0, total_steps=10)
    group = scheduler.optimizer.param_groups[0]
    assert group["initial_lr"] == 0.04 and group["min_lr"] == pytest.approx(4e-6)
    momenta = [group["momentum"]]
    got = [scheduler.get_last_lr()[0]]
    for _ in range(9):
        scheduler.optimizer.step()
        scheduler.step()
        got.append(scheduler.get_last_lr()[0])
        momenta.append(group["momentum"])
    assert got[:3] == pytest.approx([0.04, 0.52, 1.0])       # warm-up ends at step 0.3 * 10 - 1 = 2
    assert got[-1] == pytest.approx(4e-6)

    def anneal(start, end, pct):
        return end + (start - end) * (1 + math.cos(math.pi * pct)) / 2

    expected = [anneal(0.04, 1.0, s / 2) if s <= 2 else anneal(1.0, 4e-6, (s - 2) / 7) for s in range(10)]
    assert got == pytest.approx(expected, rel=1e-12)
    expected_m = [anneal(0.95, 0.85, s / 2) if s <= 2 else anneal(0.85, 0.95, (s - 2) / 7) for s in range(10)]
    assert momenta == pytest.approx(expected_m, rel=1e-12)
    scheduler.step()                                          # the 10th step is allowed, as in torch
    with pytest.raises(ValueError, match="total_steps is 10"):
        scheduler.step()


def test_one_cycle_linear_three_phase_and_betas():
    optimizer = Adam([Parameter([1.0])])
    scheduler = OneCycleLR(optimizer, max_lr=0.5, epochs=2, steps_per_epoch=5, anneal_strategy="linear",
                           three_phase=True, div_factor=10, final_div_factor=100)
    got = lrs(scheduler, 9)
    # phases end at steps 2, 4 and 9: 0.05 -> 0.5 -> 0.05 -> 0.0005, linearly
    expected = [0.05, 0.275, 0.5, 0.275, 0.05, 0.05 - 0.0495 * 0.2, 0.05 - 0.0495 * 0.4,
                0.05 - 0.0495 * 0.6, 0.05 - 0.0495 * 0.8, 0.0005]
    assert got == pytest.approx(expected, rel=1e-12)
    assert optimizer.param_groups[0]["betas"] == pytest.approx((0.95, 0.999))


def test_reduce_lr_on_plateau():
    optimizer = sgd()
    scheduler = ReduceLROnPlateau(optimizer, patience=2, factor=0.5)
    got = []
    for metric in [1.0, 0.9, 0.9, 0.9, 0.9, 0.5, 0.5, 0.5, 0.5]:
        scheduler.step(metric)
        got.append(scheduler.get_last_lr()[0])
    assert got == [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025]


def test_reduce_lr_on_plateau_max_mode_cooldown_and_min_lr():
    scheduler = ReduceLROnPlateau(sgd(), mode="max", patience=0, factor=0.1, cooldown=1,
                                  threshold=0.1, threshold_mode="abs", min_lr=0.002)
    got = []
    for metric in [1.0, 1.05, 1.05, 1.05, 1.05, 1.2, 1.2]:
        scheduler.step(metric)
        got.append(scheduler.get_last_lr()[0])
    # 1.05 is not better than 1.0 + 0.1: reduce, then one epoch of cooldown, then reduce to min_lr
    assert got == pytest.approx([0.1, 0.01, 0.01, 0.002, 0.002, 0.002, 0.002])


SCHEDULERS = [
    (lambda o: StepLR(o, step_size=3, gamma=0.5), "StepLR", dict(step_size=3, gamma=0.5)),
    (lambda o: MultiStepLR(o, [2, 5, 5], gamma=0.3), "MultiStepLR", dict(milestones=[2, 5, 5], gamma=0.3)),
    (lambda o: ExponentialLR(o, gamma=0.8), "ExponentialLR", dict(gamma=0.8)),
    (lambda o: CosineAnnealingLR(o, T_max=5, eta_min=0.001), "CosineAnnealingLR",
     dict(T_max=5, eta_min=0.001)),
    (lambda o: OneCycleLR(o, max_lr=0.3, total_steps=12), "OneCycleLR", dict(max_lr=0.3, total_steps=12)),
    (lambda o: OneCycleLR(o, max_lr=[0.3, 0.6], total_steps=12, pct_start=0.25, anneal_strategy="linear",
                          three_phase=True), "OneCycleLR",
     dict(max_lr=[0.3, 0.6], total_steps=12, pct_start=0.25, anneal_strategy="linear", three_phase=True)),
]


def two_group_sgd(lr=0.1):
    return SGD([{"params": [Parameter([1.0])]}, {"params": [Parameter([2.0])], "lr": 0.2}],
               lr=lr, momentum=0.9)


@pytest.mark.parametrize("make, name, kwargs", SCHEDULERS, ids=[s[1] + str(i) for i, s in enumerate(SCHEDULERS)])
def test_matches_torch(make, name, kwargs):
    torch = pytest.importorskip("torch")
    scheduler = make(two_group_sgd())
    params = [torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)]
    toptim = torch.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.2}], lr=0.1, momentum=0.9)
    tscheduler = getattr(torch.optim.lr_scheduler, name)(toptim, **kwargs)
    for _ in range(11):
        assert scheduler.get_last_lr() == pytest.approx(tscheduler.get_last_lr(), rel=1e-12)
        assert ([g["momentum"] for g in scheduler.optimizer.param_groups]
                == pytest.approx([g["momentum"] for g in toptim.param_groups], rel=1e-12))
        scheduler.optimizer.step()
        toptim.step()
        scheduler.step()
        tscheduler.step()


def test_reduce_lr_on_plateau_matches_torch():
    torch = pytest.importorskip("torch")
    scheduler = ReduceLROnPlateau(two_group_sgd(), patience=1, factor=0.5, cooldown=1, min_lr=[0.01, 0.05])
    toptim = torch.optim.SGD([{"params": [torch.zeros(1)]}, {"params": [torch.zeros(1)], "lr": 0.2}], lr=0.1)
    tscheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(toptim, patience=1, factor=0.5, cooldown=1,
                                                            min_lr=[0.01, 0.05])
    for metric in np.random.default_rng(0).uniform(size=30):
        scheduler.step(metric)
        tscheduler.step(metric)
        assert scheduler.get_last_lr() == pytest.approx(tscheduler.get_last_lr(), rel=1e-15)


@pytest.mark.parametrize("make", [s[0] for s in SCHEDULERS] + [lambda o: ReduceLROnPlateau(o, patience=1)],
                         ids=[s[1] + str(i) for i, s in enumerate(SCHEDULERS)] + ["ReduceLROnPlateau"])
def test_state_dict_resumes_the_same_sequence(make):
    def advance(scheduler, n):
        for i in range(n):
            scheduler.optimizer.step()
            if isinstance(scheduler, ReduceLROnPlateau):
                scheduler.step(1.0 if i % 3 else 0.5)
            else:
                scheduler.step()
        return scheduler.get_last_lr()

    full = make(two_group_sgd())
    advance(full, 4)
    part = make(two_group_sgd())
    advance(part, 4)
    saved, saved_optimizer = part.state_dict(), part.optimizer.state_dict()
    advance(part, 1)                                   # the snapshot must not follow
    optimizer = two_group_sgd(lr=0.7)
    resumed = make(optimizer)
    optimizer.load_state_dict(saved_optimizer)
    resumed.load_state_dict(saved)
    for _ in range(5):
        assert advance(resumed, 1) == advance(full, 1)
        assert resumed.optimizer.param_groups[0]["momentum"] == full.optimizer.param_groups[0]["momentum"]


def test_load_state_dict_refuses_another_kind_of_scheduler():
    scheduler = StepLR(sgd(), step_size=2)
    with pytest.raises(StateDictError, match="StepLR.load_state_dict"):
        scheduler.load_state_dict(ExponentialLR(sgd(), gamma=0.5).state_dict())
    assert scheduler.step_size == 2


@pytest.mark.parametrize("make, fragment", [
    (lambda o: StepLR(o, step_size=0), r"step_size must be an int >= 1, got 0"),
    (lambda o: MultiStepLR(o, milestones=[5, 2]), "increasing"),
    (lambda o: ExponentialLR(o, gamma=-0.5), r"gamma must be a number > 0, got -0.5"),
    (lambda o: CosineAnnealingLR(o, T_max=0), r"T_max must be an int >= 1, got 0"),
    (lambda o: OneCycleLR(o, max_lr=1.0), "total_steps"),
    (lambda o: OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1.5), r"pct_start must be a number in \[0, 1\], got 1.5"),
    (lambda o: OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="exp"), "anneal_strategy"),
    (lambda o: OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=10), "2 values for 1"),
    (lambda o: ReduceLROnPlateau(o, factor=1.0), r"^ReduceLROnPlateau: factor must be a number in \[0, 1\), got 1.0"),
    (lambda o: ReduceLROnPlateau(o, mode="lowest"), "mode"),
    (lambda o: StepLR(o, step_size=2, last_epoch=3), "initial_lr"),
])
def test_invalid_arguments(make, fragment):
    with pytest.raises(ValueError, match=fragment):
        make(sgd())


@pytest.mark.parametrize("make, fragment", [
    (lambda o: StepLR(o, step_size=2.5), r"step_size must be an int >= 1, got 2.5 \(float\)"),
    (lambda o: StepLR(o, step_size="2"), r"^StepLR: step_size must be an int >= 1, got '2' \(str\)"),
    (lambda o: StepLR(o, step_size=2, gamma=None), "gamma must be a number > 0, got None"),
    (lambda o: MultiStepLR(o, milestones=3), "milestones must be a list"),
    (lambda o: MultiStepLR(o, milestones=[1, 2.0]), r"milestones\[\] must be an int"),
    (lambda o: CosineAnnealingLR(o, T_max=True), "T_max must be an int"),
    (lambda o: OneCycleLR(o, max_lr="1", total_steps=3), "max_lr must be a number >= 0"),
    (lambda o: OneCycleLR(o, max_lr=1.0, total_steps=3, three_phase="yes"), "three_phase must be True or False"),
    (lambda o: ReduceLROnPlateau(o, patience=1.5), "patience must be an int >= 0, got 1.5"),
    (lambda o: StepLR(o, step_size=2, last_epoch="0"), "last_epoch must be an int >= -1"),
])
def test_arguments_of_the_wrong_type(make, fragment):
    with pytest.raises(TypeError, match=fragment):
        make(sgd())


def test_reduce_on_plateau_takes_numbers_only():
    scheduler = ReduceLROnPlateau(sgd(), patience=0)
    for bad in ("abc", None, [0.5, 0.4], True, np.zeros(2)):
        with pytest.raises(TypeError, match=r"^ReduceLROnPlateau.step: metrics must be a number"):
            scheduler.step(bad)
    assert scheduler.last_epoch == 0 and scheduler.num_bad_epochs == 0
    scheduler.step(np.array(1.0))                     # a 0-d array (e.g. a loss from numpy) is a number
    scheduler.step(np.float32(2.0))
    scheduler.step(float("nan"))                      # as in PyTorch: nan never improves
    assert scheduler.best == 1.0 and scheduler.get_last_lr() == pytest.approx([0.001])


@pytest.mark.parametrize("change, fragment", [
    (lambda d: d.update(last_epoch="3"), "last_epoch must be like"),
    (lambda d: d.update(base_lrs=[0.1, 0.2]), "base_lrs must be a list"),
    (lambda d: d.update(gamma=None), "gamma must be like"),
    (lambda d: d.update(_initial=1), "_initial must be like"),
])
def test_scheduler_load_state_dict_checks_values_first(change, fragment):
    scheduler = StepLR(sgd(), step_size=2, gamma=0.5)
    saved = scheduler.state_dict()
    change(saved)
    before = scheduler.state_dict()
    with pytest.raises(StateDictError, match=fragment):
        scheduler.load_state_dict(saved)
    assert scheduler.state_dict() == before


def test_plateau_state_of_another_mode_is_refused():
    scheduler = ReduceLROnPlateau(sgd(), mode="min")
    with pytest.raises(StateDictError, match="mode is 'max', this scheduler was built with 'min'"):
        scheduler.load_state_dict(ReduceLROnPlateau(sgd(), mode="max").state_dict())


def test_needs_an_optimizer():
    with pytest.raises(TypeError, match="Optimizer"):
        StepLR([Parameter([1.0])], step_size=1)
    with pytest.raises(ValueError, match="cycle_momentum"):
        from mtorch.optim import Adagrad
        OneCycleLR(Adagrad([Parameter([1.0])]), max_lr=1.0, total_steps=5)
