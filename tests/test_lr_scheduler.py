"""ember.optim.lr_scheduler against torch: every scheduler's lr sequence over 100 steps,
chaining, SequentialLR, ReduceLROnPlateau on one metric sequence, state dicts, warnings."""
import math
import warnings

import numpy as np
import pytest
import torch

import ember


def _opt(lib, name="SGD", groups=2, **kw):
    ps = [lib.nn.Parameter(lib.ones(2)) for _ in range(groups)]
    return getattr(lib.optim, name)([{"params": [p], "lr": 0.1 * (i + 1)}
                                     for i, p in enumerate(ps)], **kw)


def _make(lib, spec, opt):
    S = lib.optim.lr_scheduler
    name, kw = spec
    if name == "SequentialLR":
        return S.SequentialLR(opt, [S.LinearLR(opt, start_factor=0.1, total_iters=10),
                                    S.CosineAnnealingLR(opt, T_max=30, eta_min=1e-3),
                                    S.StepLR(opt, 7, 0.5)], milestones=[10, 40])
    if name == "ChainedScheduler":
        return S.ChainedScheduler([S.ExponentialLR(opt, 0.98), S.MultiStepLR(opt, [5, 30], 0.5),
                                   S.ConstantLR(opt, 0.5, 8)])
    return getattr(S, name)(opt, **kw)


SPECS = [
    ("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e)),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.97)),
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[10, 30, 30, 60], gamma=0.3)),
    ("ConstantLR", dict(factor=0.25, total_iters=12)),
    ("LinearLR", dict(start_factor=0.2, end_factor=0.9, total_iters=40)),
    ("ExponentialLR", dict(gamma=0.96)),
    ("PolynomialLR", dict(total_iters=60, power=2.0)),
    ("CosineAnnealingLR", dict(T_max=25, eta_min=0.001)),
    ("CosineAnnealingWarmRestarts", dict(T_0=10, T_mult=2, eta_min=0.001)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=9, step_size_down=5)),
    ("CyclicLR", dict(base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=6, mode="triangular2")),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=6, mode="exp_range",
                      gamma=0.97)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=101)),
    ("OneCycleLR", dict(max_lr=[0.5, 1.0], epochs=10, steps_per_epoch=11, three_phase=True,
                        anneal_strategy="linear")),
    ("SequentialLR", {}),
    ("ChainedScheduler", {}),
]


def _key(lib, opt):
    return [(g["lr"], g.get("momentum"), g.get("betas")) for g in opt.param_groups]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s[0] + str(sorted(s[1])))
@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_lr_sequence(spec, opt_name):
    kw = dict(momentum=0.9) if opt_name == "SGD" else {}
    to, eo = _opt(torch, opt_name, **kw), _opt(ember, opt_name, **kw)
    ts, es = _make(torch, spec, to), _make(ember, spec, eo)
    assert es.get_last_lr() == ts.get_last_lr()
    for _ in range(100):
        to.step()
        eo.step()
        ts.step()
        es.step()
        assert es.get_last_lr() == ts.get_last_lr()
        assert _key(ember, eo) == _key(torch, to)
        assert getattr(es, "last_epoch", None) == getattr(ts, "last_epoch", None)


@pytest.mark.parametrize("kw", [
    dict(),
    dict(mode="max", factor=0.5, patience=2, threshold=0.01, threshold_mode="abs",
         cooldown=3, min_lr=[0.01, 0.02]),
    dict(patience=0, cooldown=1, min_lr=0.02, eps=1e-3),
])
def test_reduce_lr_on_plateau(kw):
    rng = np.random.default_rng(0)
    metrics = np.cumsum(rng.standard_normal(100)) * 0.1 + 5
    to, eo = _opt(torch), _opt(ember)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(to, **kw)
    es = ember.optim.lr_scheduler.ReduceLROnPlateau(eo, **kw)
    for m in metrics:
        to.step()
        eo.step()
        ts.step(m)
        es.step(ember.tensor(m))
        assert es.get_last_lr() == ts.get_last_lr()
        assert (es.num_bad_epochs, es.cooldown_counter, es.best) == (
            ts.num_bad_epochs, ts.cooldown_counter, ts.best)


@pytest.mark.parametrize("spec", [s for s in SPECS if s[0] not in ("LambdaLR",
                                                                   "MultiplicativeLR")],
                         ids=lambda s: s[0] + str(sorted(s[1])))
def test_state_dict_resume(spec):
    """Save at step 30, rebuild scheduler and optimizer, load both, continue: same sequence."""
    eo = _opt(ember)
    es = _make(ember, spec, eo)
    lrs = []
    for i in range(60):
        if i == 30:
            sd, osd = es.state_dict(), eo.state_dict()
            assert "optimizer" not in sd
            eo = _opt(ember)
            es = _make(ember, spec, eo)
            es.load_state_dict(sd)
            eo.load_state_dict(osd)
        eo.step()
        es.step()
        lrs.append(es.get_last_lr())
    eo2 = _opt(ember)
    es2 = _make(ember, spec, eo2)
    ref = []
    for i in range(60):
        eo2.step()
        es2.step()
        ref.append(es2.get_last_lr())
    assert lrs == ref


def test_closed_form_with_epoch():
    for lib in (torch, ember):
        opt = _opt(lib)
        s = lib.optim.lr_scheduler.StepLR(opt, 3, 0.5)
        with pytest.warns(UserWarning, match="epoch parameter"):
            s.step(7)
        assert s.get_last_lr() == [0.1 * 0.25, 0.2 * 0.25]


def test_warning_scheduler_before_optimizer():
    for lib in (torch, ember):
        opt = _opt(lib)
        s = lib.optim.lr_scheduler.StepLR(opt, 3)
        with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
            s.step()
    opt = _opt(ember)
    s = ember.optim.lr_scheduler.StepLR(opt, 3)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.step()


def test_get_lr_outside_step_warns():
    s = ember.optim.lr_scheduler.StepLR(_opt(ember), 3)
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()


def test_argument_errors():
    for lib in (torch, ember):
        S = lib.optim.lr_scheduler
        opt = _opt(lib)
        with pytest.raises(ValueError, match="Factor should be"):
            S.ReduceLROnPlateau(opt, factor=1.0)
        with pytest.raises(ValueError, match="unknown"):
            S.ReduceLROnPlateau(opt, mode="avg")
        with pytest.raises(ValueError, match="T_0"):
            S.CosineAnnealingWarmRestarts(opt, T_0=0)
        with pytest.raises(ValueError, match="total_steps"):
            S.OneCycleLR(opt, max_lr=1.0)
        with pytest.raises(TypeError, match="is not an Optimizer"):
            S.StepLR(object(), 3)
        with pytest.raises(KeyError):
            S.StepLR(_opt(lib), 3, last_epoch=5)
        with pytest.raises(ValueError, match="Expected 2 lr_lambdas"):
            S.LambdaLR(opt, [lambda e: 1.0])
        with pytest.raises(ValueError, match="one more than the number of milestone"):
            S.SequentialLR(opt, [S.StepLR(opt, 3)], milestones=[3])
        with pytest.raises(ValueError, match="momentum"):
            S.CyclicLR(lib.optim.Adagrad([lib.nn.Parameter(lib.ones(1))]), 0.1, 1.0)
