"""Adam and SGD track PyTorch step by step, and their state saves and restores."""
import numpy as np
import pytest
import torch

import minigrad
from examples.lenet import lenet
from helpers import rel_err
from minigrad import nn


def batches(n_steps, n=16, seed=0):
    g = np.random.default_rng(seed)
    return [(g.random((n, 1, 28, 28)), g.integers(0, 10, n)) for _ in range(n_steps)]


def run_both(make_opt_ref, make_opt, dtype, device, steps=20):
    torch.manual_seed(0)
    tdt = getattr(torch, dtype)
    ref = lenet(torch.nn).to(tdt)
    ours = lenet(nn).to(dtype).to(device)
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    opt_ref, opt = make_opt_ref(ref.parameters()), make_opt(ours.parameters())
    loss_fn_ref, loss_fn = torch.nn.CrossEntropyLoss(), nn.CrossEntropyLoss()
    history = []
    for x, y in batches(steps):
        opt_ref.zero_grad()
        l_ref = loss_fn_ref(ref(torch.tensor(x, dtype=tdt)), torch.tensor(y))
        l_ref.backward()
        opt_ref.step()
        opt.zero_grad()
        l = loss_fn(ours(minigrad.tensor(x, dtype=dtype, device=device)),
                    minigrad.tensor(y, device=device))
        l.backward()
        opt.step()
        params_err = max(rel_err(p.detach().cpu().numpy(), ref.state_dict()[k].numpy())
                         for k, p in ours.named_parameters())
        history.append((abs(l.item() - l_ref.item()) / l_ref.item(), params_err))
    return history


# Losses agree to 1e-5 in float32. Parameters under Adam get 1e-4: Adam divides each gradient
# element by its own √v, so an element whose gradient is near eps moves by ~lr whatever its
# rounding, and float32 rounding decides that move. PyTorch's own float32 Adam lands 3e-5 away
# from its float64 Adam after one step on this LeNet (linear weights; measured), so 1e-5 would
# fail PyTorch itself.
TOL = {"float64": 1e-10, "float32": 1e-5}
ADAM_PARAM_TOL = {"float64": 1e-10, "float32": 1e-4}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_adam_tracks_torch_for_20_steps(dtype, device):
    hist = run_both(lambda p: torch.optim.Adam(p, lr=1e-3),
                    lambda p: minigrad.optim.Adam(p, lr=1e-3), dtype, device)
    for step, (loss_err, param_err) in enumerate(hist, 1):
        assert loss_err <= TOL[dtype], (step, loss_err)
        assert param_err <= ADAM_PARAM_TOL[dtype], (step, param_err)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_adam_with_weight_decay_tracks_torch(dtype):
    hist = run_both(lambda p: torch.optim.Adam(p, lr=1e-3, betas=(0.8, 0.99), weight_decay=0.1),
                    lambda p: minigrad.optim.Adam(p, lr=1e-3, betas=(0.8, 0.99),
                                                  weight_decay=0.1), dtype, "cpu", steps=10)
    assert max(h[0] for h in hist) <= TOL[dtype]
    assert max(h[1] for h in hist) <= ADAM_PARAM_TOL[dtype]


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sgd_momentum_tracks_torch_for_20_steps(dtype, nesterov, device):
    kw = dict(lr=0.1, momentum=0.9, weight_decay=1e-3, nesterov=nesterov)
    hist = run_both(lambda p: torch.optim.SGD(p, **kw),
                    lambda p: minigrad.optim.SGD(p, **kw), dtype, device)
    assert max(max(h) for h in hist) <= TOL[dtype], hist[-1]


def test_adam_state_dict_roundtrip_continues_identically(tmp_path):
    x, y = (minigrad.tensor(a) for a in batches(1)[0])
    x = x.float()

    def make():
        minigrad.manual_seed(3)
        m = lenet(nn)
        return m, minigrad.optim.Adam(m.parameters(), lr=1e-2)

    def step(m, opt):
        opt.zero_grad()
        nn.CrossEntropyLoss()(m(x), y).backward()
        opt.step()

    m1, o1 = make()
    step(m1, o1)
    minigrad.save({"model": m1.state_dict(), "optim": o1.state_dict()}, tmp_path / "ck.npz")
    step(m1, o1)

    m2, o2 = make()
    ck = minigrad.load(tmp_path / "ck.npz")
    m2.load_state_dict(ck["model"])
    o2.load_state_dict(ck["optim"])
    assert o2.state_dict()["param_groups"][0]["betas"] == (0.9, 0.999)
    step(m2, o2)
    for (k, a), (_, b) in zip(m1.state_dict().items(), m2.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)


def test_optimizer_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        minigrad.optim.Adam([])
    with pytest.raises(ValueError, match="invalid"):
        minigrad.optim.Adam([minigrad.zeros(2, requires_grad=True)], lr=-1)
    opt = minigrad.optim.Adam([minigrad.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="different number"):
        opt.load_state_dict({"state": {}, "param_groups": []})
