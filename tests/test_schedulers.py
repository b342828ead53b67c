"""LambdaLR, OneCycleLR and ReduceLROnPlateau against PyTorch's, step by step (the learning
rates, and OneCycle's momentum, must match to rounding), and random_split and ConcatDataset."""
import math

import numpy as np
import pytest
import torch

import minigrad
from minigrad.optim import lr_scheduler as ours_sched
from minigrad.utils import data as ours_data

# PyTorch warns when a schedule steps before its optimizer: these tests step schedules alone
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of")


def _pair(make_opt):
    """The same optimizer over two parameter groups in both frameworks."""
    mine = [minigrad.zeros(2, requires_grad=True), minigrad.zeros(3, requires_grad=True)]
    theirs = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    return (make_opt(minigrad, [{"params": [mine[0]]}, {"params": [mine[1]], "lr": 0.05}]),
            make_opt(torch, [{"params": [theirs[0]]}, {"params": [theirs[1]], "lr": 0.05}]))


def _lrs(opt):
    return [g["lr"] for g in opt.param_groups]


def _same(a, b):
    return all(math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-15) for x, y in zip(a, b))


def sgd(m, groups):
    return m.optim.SGD(groups, lr=0.1, momentum=0.9)


def adam(m, groups):
    return m.optim.Adam(groups, lr=0.1)


@pytest.mark.parametrize("lam", [lambda e: 0.95 ** e, [lambda e: 1 / (e + 1), lambda e: e % 3]])
def test_lambda_lr_like_torch(lam):
    mine, theirs = _pair(sgd)
    s1 = ours_sched.LambdaLR(mine, lam)
    s2 = torch.optim.lr_scheduler.LambdaLR(theirs, lam)
    for _ in range(8):
        assert _same(_lrs(mine), _lrs(theirs)) and _same(s1.get_last_lr(), s2.get_last_lr())
        mine.step()
        theirs.step()
        s1.step()
        s2.step()
    assert "lr_lambdas" not in s1.state_dict()


@pytest.mark.parametrize("make_opt", [sgd, adam])
@pytest.mark.parametrize("kw", [
    {"max_lr": 1.0, "total_steps": 20},
    {"max_lr": [1.0, 0.3], "epochs": 3, "steps_per_epoch": 7, "anneal_strategy": "linear"},
    {"max_lr": 0.5, "total_steps": 25, "three_phase": True, "pct_start": 0.2},
    {"max_lr": 0.5, "total_steps": 10, "cycle_momentum": False, "div_factor": 10.0},
])
def test_one_cycle_like_torch(make_opt, kw):
    mine, theirs = _pair(make_opt)
    s1 = ours_sched.OneCycleLR(mine, **kw)
    s2 = torch.optim.lr_scheduler.OneCycleLR(theirs, **kw)
    key = "betas" if make_opt is adam else "momentum"
    for _ in range(s1.total_steps - 1):
        assert _same(_lrs(mine), _lrs(theirs))
        for g1, g2 in zip(mine.param_groups, theirs.param_groups):
            m1, m2 = g1[key], g2[key]
            assert _same(np.ravel(m1), np.ravel(m2))
        s1.step()
        s2.step()
    assert _same(_lrs(mine), _lrs(theirs))


def test_one_cycle_errors_like_torch():
    for m, sched in ((minigrad, ours_sched), (torch, torch.optim.lr_scheduler)):
        opt = m.optim.SGD([m.zeros(1, requires_grad=True)], lr=0.1)
        with pytest.raises(ValueError):
            sched.OneCycleLR(opt, max_lr=1.0)
        s = sched.OneCycleLR(opt, max_lr=1.0, total_steps=3)
        with pytest.raises(ValueError):
            for _ in range(4):
                s.step()
        no_momentum = m.optim.SGD([m.zeros(1, requires_grad=True)], lr=0.1)
        if m is minigrad:
            no_momentum.defaults.pop("momentum", None)
            with pytest.raises(ValueError):
                sched.OneCycleLR(no_momentum, max_lr=1.0, total_steps=3)


@pytest.mark.parametrize("kw", [
    {},
    {"mode": "max", "factor": 0.5, "patience": 2},
    {"patience": 1, "cooldown": 2, "min_lr": [0.02, 0.01]},
    {"threshold_mode": "abs", "threshold": 0.1, "patience": 0, "factor": 0.3},
])
def test_reduce_lr_on_plateau_like_torch(kw):
    mine, theirs = _pair(sgd)
    s1 = ours_sched.ReduceLROnPlateau(mine, **kw)
    s2 = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **kw)
    metrics = [1.0, 0.9, 0.95, 0.9, 0.91, 0.92, 0.93, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6,
               0.6, 0.6, 0.6, 0.7, 0.8, 0.9]
    for value in metrics:
        s1.step(minigrad.tensor(value))
        s2.step(torch.tensor(value))                 # float32 both, as a loss is
        assert _same(_lrs(mine), _lrs(theirs)), (value, _lrs(mine), _lrs(theirs))
        assert s1.num_bad_epochs == s2.num_bad_epochs
    with pytest.raises(ValueError):
        ours_sched.ReduceLROnPlateau(mine, factor=1.0)


# ---- datasets ---------------------------------------------------------------------------------
def test_random_split_like_torch():
    ds = ours_data.TensorDataset(minigrad.arange(10))
    minigrad.manual_seed(0)
    parts = ours_data.random_split(ds, [3, 7])
    assert [len(p) for p in parts] == [3, 7]
    seen = sorted(int(p[i][0]) for p in parts for i in range(len(p)))
    assert seen == list(range(10))
    ref = torch.utils.data.random_split(range(10), [0.3, 0.3, 0.4])
    ours = ours_data.random_split(range(10), [0.3, 0.3, 0.4])
    assert [len(p) for p in ours] == [len(p) for p in ref]
    ref = torch.utils.data.random_split(range(11), [0.5, 0.5])
    assert [len(p) for p in ours_data.random_split(range(11), [0.5, 0.5])] == \
        [len(p) for p in ref]
    minigrad.manual_seed(0)
    again = ours_data.random_split(ds, [3, 7])
    assert again[0].indices == parts[0].indices
    with pytest.raises(ValueError):
        ours_data.random_split(ds, [3, 3])


def test_concat_dataset_like_torch():
    a, b = list(range(3)), list(range(10, 15))
    ours = ours_data.ConcatDataset([a, b])
    ref = torch.utils.data.ConcatDataset([a, b])
    assert len(ours) == len(ref) == 8
    assert [ours[i] for i in range(-8, 8)] == [ref[i] for i in range(-8, 8)]
    assert ours.cumulative_sizes == ref.cumulative_sizes
    loader = ours_data.DataLoader(ours, batch_size=4)
    assert [b.tolist() for b in loader] == [[0, 1, 2, 10], [11, 12, 13, 14]]
    with pytest.raises(ValueError):
        ours[-9]
