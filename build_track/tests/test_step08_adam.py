"""Step 8: Adam, against torch.optim.Adam and minigrad.optim.Adam over several steps."""
import numpy as np
import pytest
import torch

import minigrad
from build_track.check import assert_close
from build_track.track import step, under_test

S = under_test(8)
Tensor = step(2).Tensor
rng = np.random.default_rng(0)
SHAPES = [(3, 4), (5,)]
STARTS = [rng.standard_normal(s) for s in SHAPES]
# Gradients of very different scales: Adam's step does not follow their size.
GRADS = [[rng.standard_normal(s) * 10.0 ** rng.integers(-3, 3) for s in SHAPES]
         for _ in range(6)]
SETTINGS = [dict(lr=1e-3), dict(lr=0.1, betas=(0.8, 0.9), eps=1e-6)]


def run_mine(settings):
    params = [Tensor(a.copy()) for a in STARTS]
    opt = S.Adam(params, **settings)
    for t, grads in enumerate(GRADS, 1):
        opt.zero_grad()
        for p, g in zip(params, grads):
            p.grad = g.copy()
        opt.step()
        yield t, [p.data for p in params]


@pytest.mark.parametrize("settings", SETTINGS, ids=str)
def test_adam_matches_pytorch_step_by_step(settings):
    params = [torch.tensor(a.copy(), requires_grad=True) for a in STARTS]
    opt = torch.optim.Adam(params, **settings)
    for (t, mine), grads in zip(run_mine(settings), GRADS):
        opt.zero_grad()
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g)
        opt.step()
        for k, (a, p) in enumerate(zip(mine, params)):
            assert_close(f"Adam({settings}): parameter {k} after step {t}, against PyTorch", a,
                         p.detach().numpy())


@pytest.mark.parametrize("settings", SETTINGS, ids=str)
def test_adam_matches_minigrad(settings):
    params = [minigrad.tensor(a.copy(), requires_grad=True) for a in STARTS]
    opt = minigrad.optim.Adam(params, **settings)
    for (t, mine), grads in zip(run_mine(settings), GRADS):
        for p, g in zip(params, grads):
            p.grad = minigrad.tensor(g)
        opt.step()
        for k, (a, p) in enumerate(zip(mine, params)):
            assert_close(f"Adam({settings}): parameter {k} after step {t}, against minigrad", a,
                         p.detach().numpy())


def test_updates_in_place_skips_missing_gradients_and_zero_grad_clears():
    a, b = Tensor(np.ones(3)), Tensor(np.ones(2))
    data = a.data
    opt = S.Adam([a, b], lr=0.5)
    a.grad = np.array([1.0, -2.0, 0.0])
    opt.step()
    assert a.data is data, "step() must change p.data in place, not replace the array"
    # the first step moves each parameter by lr * sign(g) (m_hat = g, v_hat = g^2)
    assert_close("a after one step of lr 0.5", a.data, [0.5, 1.5, 1.0], atol=1e-7)
    assert_close("b (its .grad is None) after one step", b.data, [1.0, 1.0])
    opt.zero_grad()
    assert a.grad is None and b.grad is None, "zero_grad() must set every .grad to None"
