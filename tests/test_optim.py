"""The optimizers and learning-rate schedules track PyTorch step by step, and their state
saves and restores.

Two kinds of tracking. In training: LeNet from the same weights on the same batches for 20
steps (float64: 1e-10; the forward and backward passes' rounding is in too), for Adam, SGD,
Adadelta, RMSprop and AdamW. And the update rule alone (Adadelta, RMSprop, AdamW): both
libraries get the same random gradients for 20 steps on parameters of odd shapes (float64:
1e-12 at every step, parameters and state). On the GPU (the ``device`` fixture's cuda case)
the update is each optimizer's kernel. Also what an optimizer accepts (as PyTorch: no bare
tensor, no non-leaf, frozen parameters left alone), state keyed by the parameter, and
LambdaLR, OneCycleLR and ReduceLROnPlateau step by step."""
import math

import numpy as np
import pytest
import torch

import minigrad
from examples.lenet import lenet
from helpers import raises_like_torch, rel_err
from minigrad import nn
from minigrad.optim import lr_scheduler as ours_sched


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


# ---- what optimizers accept ---------------------------------------------------------------------
@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_optimizer_refuses_a_bare_tensor_like_torch(opt):
    w, tw = minigrad.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    raises_like_torch(TypeError, lambda: getattr(minigrad.optim, opt)(w, lr=0.1),
                      lambda: getattr(torch.optim, opt)(tw, lr=0.1),
                      "params argument given to the optimizer should be an iterable of "
                      "Tensors or dicts, but got ")
    with pytest.raises(TypeError, match="but got minigrad.FloatTensor"):
        getattr(minigrad.optim, opt)(w, lr=0.1)


@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_optimizer_refuses_a_non_leaf_like_torch(opt):
    w, tw = minigrad.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    raises_like_torch(ValueError, lambda: getattr(minigrad.optim, opt)([w * 2], lr=0.1),
                      lambda: getattr(torch.optim, opt)([tw * 2], lr=0.1),
                      "can't optimize a non-leaf Tensor")


def test_frozen_parameters_are_accepted_and_left_alone_like_torch():
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)).double()
    ours = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    ref[0].requires_grad_(False)
    ours[0].requires_grad_(False)                       # fine-tuning: the first layer frozen
    x = np.random.default_rng(1).standard_normal((5, 3))
    for model, lib in [(ours, minigrad), (ref, torch)]:
        opt = lib.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, weight_decay=0.1)
        for _ in range(2):
            opt.zero_grad()
            (model(lib.tensor(x)) ** 2).sum().backward()
            opt.step()
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.detach().numpy(), ref.state_dict()[name].numpy(),
                                   rtol=1e-12, err_msg=name)
    assert ours[0].weight.grad is None


def test_param_group_with_a_single_tensor_like_torch():
    w, tw = minigrad.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    for lib, p in [(minigrad, w), (torch, tw)]:
        opt = lib.optim.SGD([{"params": p}], lr=0.5)
        assert opt.param_groups[0]["params"][0] is p
        (p * 3).sum().backward()
        opt.step()
    assert w.tolist() == tw.tolist() == [-0.5, -0.5]


# ---- Adadelta, RMSprop, AdamW: the update rule alone ----------------------------------------
# Both libraries get the same gradients, drawn at random, for 20 steps, on parameters of odd
# shapes, so that the comparison measures only the update rule (float64: 1e-12 at every step,
# parameters and state). On the GPU (the ``device`` fixture's cuda case) the update is each
# optimizer's kernel.
SHAPES = [(3, 5), (7,), (2, 3, 4), (1,)]

OPTIMIZERS = {  # name: (minigrad's, PyTorch's, keyword arguments)
    "adadelta": ("Adadelta", dict()),
    "adadelta_tuned": ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)),
    "rmsprop": ("RMSprop", dict()),
    "rmsprop_centered": ("RMSprop", dict(lr=1e-3, centered=True)),
    "rmsprop_momentum": ("RMSprop", dict(lr=1e-3, momentum=0.9, weight_decay=0.01)),
    "rmsprop_all": ("RMSprop", dict(lr=1e-3, alpha=0.9, eps=1e-6, momentum=0.5, centered=True,
                                    weight_decay=0.1)),
    "adamw": ("AdamW", dict()),
    "adamw_tuned": ("AdamW", dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
}
STATE_NAMES = {"Adadelta": ["square_avg", "acc_delta"],
               "RMSprop": ["square_avg", "grad_avg", "momentum_buffer"],
               "AdamW": ["exp_avg", "exp_avg_sq"]}


def make_pair(name, dtype, device, seed=0):
    cls, kw = OPTIMIZERS[name]
    g = np.random.default_rng(seed)
    values = [g.standard_normal(s) for s in SHAPES]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    ours = [minigrad.tensor(v.astype(dtype), device=device, requires_grad=True) for v in values]
    return (getattr(minigrad.optim, cls)(ours, **kw), ours,
            getattr(torch.optim, cls)(theirs, **kw), theirs)


def give_gradients(ours, theirs, g, dtype, device):
    for o, t in zip(ours, theirs):
        grad = g.standard_normal(t.shape) * (1 + g.random())     # varied sizes and signs
        o.grad = minigrad.tensor(grad.astype(dtype), device=device)
        t.grad = torch.tensor(grad)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_update_rule_tracks_torch_for_20_steps(name, dtype, device):
    """Parameters and every state array after each step; the reference is PyTorch in
    float64. float32 keeps 1e-5: each step rounds once per operation, and these updates
    divide by √(running mean) without any near-cancellation."""
    opt, ours, ref_opt, theirs = make_pair(name, dtype, device)
    g = np.random.default_rng(1)
    tol = 1e-12 if dtype == "float64" else 1e-5
    cls = OPTIMIZERS[name][0]
    if cls == "AdamW" and dtype == "float32" and device == "cuda":
        # kernels/adam.cu (which Adam and AdamW share) forms 1 − β2 in float: 1 − 0.999f is
        # 1.3e-5 off 0.001, so exp_avg_sq is 1.28e-5 away after one step (measured in the
        # emulator)
        tol = 3e-5
    for step in range(1, 21):
        give_gradients(ours, theirs, g, dtype, device)
        opt.step()
        ref_opt.step()
        for i, (o, t) in enumerate(zip(ours, theirs)):
            assert rel_err(o.detach().cpu().numpy(), t.detach().numpy()) <= tol, (step, i)
            for key in STATE_NAMES[cls]:
                if key in ref_opt.state[t]:
                    err = rel_err(minigrad.as_tensor(opt.state[o][key]).cpu().numpy(),
                                  ref_opt.state[t][key].numpy())
                    assert err <= tol, (step, i, key)


# ---- Adadelta, RMSprop, AdamW in training: LeNet, 20 steps ------------------------------------
TRAINING = {
    "adadelta": (lambda p: torch.optim.Adadelta(p), lambda p: minigrad.optim.Adadelta(p)),
    "rmsprop": (lambda p: torch.optim.RMSprop(p, lr=1e-3, momentum=0.9, centered=True),
                lambda p: minigrad.optim.RMSprop(p, lr=1e-3, momentum=0.9, centered=True)),
    "adamw": (lambda p: torch.optim.AdamW(p, lr=1e-3, weight_decay=0.1),
              lambda p: minigrad.optim.AdamW(p, lr=1e-3, weight_decay=0.1)),
}


# Parameters in float32, as ADAM_PARAM_TOL allows Adam 1e-4 above: under a per-element scaling
# an element whose gradient is tiny moves by an amount its rounding decides. RMSprop's first
# steps are the most sign-like (g / √(0.01·g²) = ±10). Measured on this LeNet after 20 steps
# of this centered RMSprop, against PyTorch's float64 run: PyTorch's float32 run is 4.5e-4
# away, minigrad's (its fast CPU conv sums in another order) 7.0e-4; the two float32 runs
# are 1.15e-3 apart, their errors in different elements (AdamW: 3.1e-5, Adadelta: 3.9e-7
# from float64). So RMSprop gets 2e-3.
FLOAT32_PARAM_TOL = {"adadelta": 1e-4, "adamw": 1e-4, "rmsprop": 2e-3}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(TRAINING))
def test_lenet_training_tracks_torch_for_20_steps(name, dtype):
    """Losses to 1e-10 (float64) / 1e-5 (float32) at every step; parameters to 1e-10
    (float64) or as FLOAT32_PARAM_TOL says."""
    make_ref, make = TRAINING[name]
    param_tol = FLOAT32_PARAM_TOL[name] if dtype == "float32" else ADAM_PARAM_TOL[dtype]
    for step, (loss_err, param_err) in enumerate(run_both(make_ref, make, dtype, "cpu"), 1):
        assert loss_err <= TOL[dtype], (step, loss_err)
        assert param_err <= param_tol, (step, param_err)


@pytest.mark.cuda
def test_adadelta_lenet_training_on_the_gpu_tracks_torch():
    """The MNIST example's optimizer, its kernel, in float64, 20 LeNet steps."""
    make_ref, make = TRAINING["adadelta"]
    hist = run_both(make_ref, make, "float64", "cuda")
    assert max(max(h) for h in hist) <= 1e-10, hist[-1]


# ---- state -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["adadelta", "rmsprop_all", "adamw_tuned"])
def test_state_dict_round_trip_continues_identically(name, tmp_path, device):
    """Save after 3 steps (through minigrad.save / load, with a StepLR), restore into a fresh
    optimizer and schedule, take 3 more steps: the same bits as 6 steps without a break."""
    dtype = "float64"

    def run(steps, start=None):
        opt, params, _, _ = make_pair(name, dtype, device)
        sched = minigrad.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        g = np.random.default_rng(5)
        if start is not None:
            saved = minigrad.load(start)
            for p, v in zip(params, saved["params"]):
                p.data = minigrad.as_tensor(v).to(device).data
            opt.load_state_dict(saved["optim"])
            sched.load_state_dict(saved["sched"])
            for _ in range(3):                      # the gradients the first part used
                give_gradients(params, shadows(params), g, dtype, device)
        for _ in range(steps):
            give_gradients(params, shadows(params), g, dtype, device)
            opt.step()
            sched.step()
        return opt, sched, params

    straight = run(6)[2]
    opt, sched, params = run(3)
    minigrad.save({"params": [p.detach() for p in params], "optim": opt.state_dict(),
                   "sched": sched.state_dict()}, tmp_path / "ck.npz")
    _, sched2, resumed = run(3, start=tmp_path / "ck.npz")
    assert sched2.get_last_lr() == [OPTIMIZERS[name][1].get("lr", default_lr(name)) * 0.5 ** 3]
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())


def shadows(params):
    """PyTorch tensors to receive the gradients give_gradients draws (unused here)."""
    return [torch.zeros(p.shape, dtype=torch.float64) for p in params]


def default_lr(name):
    return {"Adadelta": 1.0, "RMSprop": 1e-2, "AdamW": 1e-3}[OPTIMIZERS[name][0]]


def test_optimizer_arguments_are_checked():
    p = [minigrad.zeros(2, requires_grad=True)]
    for cls, kw in [("Adadelta", dict(rho=1.5)), ("Adadelta", dict(lr=-1)),
                    ("RMSprop", dict(alpha=-0.1)), ("RMSprop", dict(momentum=-1)),
                    ("AdamW", dict(betas=(0.9, 1.0)))]:
        with pytest.raises(ValueError, match="invalid"):
            getattr(minigrad.optim, cls)(p, **kw)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_amsgrad_false_is_accepted_true_is_a_clear_refusal(name):
    """PyTorch code passes amsgrad=False explicitly; it was an unexpected-keyword TypeError.
    amsgrad=True (a different update) is refused by name rather than run as plain Adam."""
    w = [minigrad.ones(2, requires_grad=True)]
    opt = getattr(minigrad.optim, name)(w, lr=0.1, amsgrad=False)
    w[0].sum().backward()
    opt.step()
    ref = torch.ones(2, requires_grad=True)
    ref_opt = getattr(torch.optim, name)([ref], lr=0.1, amsgrad=False)
    ref.sum().backward()
    ref_opt.step()
    assert rel_err(w[0].detach().numpy(), ref.detach().numpy()) < 1e-6
    with pytest.raises(NotImplementedError, match="amsgrad"):
        getattr(minigrad.optim, name)(w, amsgrad=True)


def test_frozen_parameters_are_left_alone():
    a = minigrad.ones(3, requires_grad=True)
    b = minigrad.ones(3, requires_grad=True)
    for cls in ("Adadelta", "RMSprop", "AdamW"):
        opt = getattr(minigrad.optim, cls)([a, b])
        a.grad = minigrad.ones(3)
        opt.step()
        assert (b.detach().numpy() == 1).all() and b not in opt.state


# ---- learning-rate schedules ---------------------------------------------------------------------
SCHEDULES = {   # name: (class name, keyword arguments)
    "step": ("StepLR", dict(step_size=3, gamma=0.5)),
    "multistep": ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3)),
    "exponential": ("ExponentialLR", dict(gamma=0.9)),
    "cosine": ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
    "cosine_to_zero": ("CosineAnnealingLR", dict(T_max=4)),
}


def schedule_pair(names, lrs=(0.1, 0.03)):
    """An optimizer with two parameter groups in each library, and the named schedules on
    it (several: chained, each acting on the lr the others left)."""
    groups = lambda tensor: [{"params": [tensor(np.zeros(2), requires_grad=True)], "lr": lr}
                             for lr in lrs]
    ours = minigrad.optim.SGD(groups(minigrad.tensor), lr=1.0)
    theirs = torch.optim.SGD(groups(torch.tensor), lr=1.0)
    make = lambda lib, opt: [getattr(lib.optim.lr_scheduler, SCHEDULES[n][0])(
        opt, **SCHEDULES[n][1]) for n in names]
    return ours, make(minigrad, ours), theirs, make(torch, theirs)


@pytest.mark.parametrize("names", [["step"], ["multistep"], ["exponential"], ["cosine"],
                                   ["cosine_to_zero"], ["step", "exponential"],
                                   ["cosine", "multistep"]], ids=str)
def test_schedules_track_torch_for_25_epochs(names):
    """Every epoch's lr of both groups, and get_last_lr(), to 1e-12 (they are the same
    recurrences, so in practice equal); 25 epochs take the cosines through valleys and back."""
    ours, scheds, theirs, ref_scheds = schedule_pair(names)
    for epoch in range(25):
        for o, t in zip(ours.param_groups, theirs.param_groups):
            assert abs(o["lr"] - t["lr"]) <= 1e-12 * abs(t["lr"]) + 1e-15, (epoch, o["lr"])
        for s, r in zip(scheds, ref_scheds):
            np.testing.assert_allclose(s.get_last_lr(), r.get_last_lr(), rtol=1e-12)
        ours.step()
        theirs.step()
        for s, r in zip(scheds, ref_scheds):
            s.step()
            r.step()


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_state_dict_round_trip(name, tmp_path):
    """A schedule saved after 6 epochs (with its optimizer, through minigrad.save / load)
    and restored into fresh ones continues with the same lrs as one never interrupted."""
    def fresh():
        opt = minigrad.optim.SGD([minigrad.zeros(2, requires_grad=True)], lr=0.2)
        return opt, getattr(minigrad.optim.lr_scheduler, SCHEDULES[name][0])(
            opt, **SCHEDULES[name][1])

    opt, sched = fresh()
    for _ in range(6):
        sched.step()
    minigrad.save({"optim": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "s.npz")
    straight = []
    for _ in range(10):
        sched.step()
        straight.append(opt.param_groups[0]["lr"])
    opt2, sched2 = fresh()
    saved = minigrad.load(tmp_path / "s.npz")
    opt2.load_state_dict(saved["optim"])
    sched2.load_state_dict(saved["sched"])
    resumed = []
    for _ in range(10):
        sched2.step()
        resumed.append(opt2.param_groups[0]["lr"])
    assert resumed == straight


def test_resuming_with_last_epoch_needs_initial_lr_and_an_optimizer():
    opt = minigrad.optim.SGD([minigrad.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        minigrad.optim.lr_scheduler.StepLR(opt, 2, last_epoch=4)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        minigrad.optim.lr_scheduler.ExponentialLR(object(), 0.9)
    with pytest.raises(ValueError, match="step_size"):
        minigrad.optim.lr_scheduler.StepLR(opt, 0)


# ---- parameter groups and per-parameter state ----------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda m, ps: m.optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda m, ps: m.optim.Adam(ps, lr=0.1),
    lambda m, ps: m.optim.RMSprop(ps, lr=0.1),
    lambda m, ps: m.optim.Adadelta(ps),
])
def test_state_is_keyed_by_the_parameter(make):
    p = minigrad.ones(3, requires_grad=True)
    t = torch.ones(3, requires_grad=True)
    ours, ref = make(minigrad, [p]), make(torch, [t])
    for param, opt in ((p, ours), (t, ref)):
        (param * param).sum().backward()
        opt.step()
    assert p in ours.state and t in ref.state
    assert sorted(ours.state[p]) == sorted(ref.state[t])
    for key, value in ref.state[t].items():
        if value.ndim:
            np.testing.assert_allclose(np.asarray(minigrad.as_tensor(ours.state[p][key])),
                                       value.numpy(), rtol=1e-6)
    again = make(minigrad, [p])
    again.load_state_dict(ours.state_dict())
    assert p in again.state


def test_a_parameter_in_two_groups_is_an_error_like_torch():
    for m in (minigrad, torch):
        a, b = m.ones(2, requires_grad=True), m.ones(2, requires_grad=True)
        with pytest.raises(ValueError, match="more than one parameter group"):
            m.optim.SGD([{"params": [a, b]}, {"params": [a], "lr": 1.0}], lr=0.1)
        m.optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)     # fine


def test_shared_parameter_of_two_modules_is_stepped_once():
    shared = minigrad.nn.Linear(2, 2)
    model = minigrad.nn.Sequential(shared, shared)
    opt = minigrad.optim.SGD([{"params": [shared.weight]}, {"params": [shared.bias]}], lr=1.0)
    shared.weight.grad = minigrad.ones(2, 2)
    before = shared.weight.detach().clone()
    opt.step()
    assert np.allclose((before - shared.weight.detach()).numpy(), 1.0)
    assert len(list(model.parameters())) == 2


# ---- LambdaLR, OneCycleLR and ReduceLROnPlateau --------------------------------------------------
# PyTorch warns when a schedule steps before its optimizer: these tests step schedules alone
steps_schedules_alone = pytest.mark.filterwarnings("ignore:Detected call of")


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


@steps_schedules_alone
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


@steps_schedules_alone
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


@steps_schedules_alone
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


@steps_schedules_alone
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


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adadelta"])
def test_step_with_a_closure_returns_its_loss_like_torch(name):
    """opt.step(closure), as PyTorch code for LBFGS-style loops writes it (a TypeError before):
    the closure recomputes the loss and gradients before the update; step returns the loss."""
    start = np.array([1.0, -2.0, 0.5])
    out = {}
    for lib in (minigrad, torch):
        w = lib.tensor(start.copy(), requires_grad=True)
        opt = getattr(lib.optim, name)([w], lr=0.1)

        def closure(w=w, opt=opt):
            opt.zero_grad()
            loss = (w ** 2).sum()
            loss.backward()
            return loss
        losses = [opt.step(closure).item() for _ in range(3)]
        out[lib.__name__] = (losses, w.detach().numpy())
        assert opt.step() is None
    np.testing.assert_allclose(out["minigrad"][0], out["torch"][0], rtol=1e-12)
    np.testing.assert_allclose(out["minigrad"][1], out["torch"][1], rtol=1e-12)
