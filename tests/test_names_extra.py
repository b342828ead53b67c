"""More names tutorial code types: nn.utils.rnn.pad_sequence, distributions.Categorical,
nn.InstanceNorm1d/2d with F.instance_norm, optim.Adamax and optim.NAdam — against PyTorch
(values and gradients, float64 and float32, CPU and GPU), by finite differences, and
PyTorch's refusals, in the style of test_nn_names."""
import functools

import numpy as np
import pytest
import torch

import minigrad
from helpers import check_against_torch, gradcheck_numpy, rel_err

rng = np.random.default_rng(33)


def normal(*shape):
    return rng.standard_normal(shape)


def positive(*shape):
    return np.abs(normal(*shape)) + 0.2


def simplex(*shape):
    x = normal(*shape)
    return np.exp(x) / np.exp(x).sum(-1, keepdims=True)


def like(x):
    """A module's dtype and device arguments that match ``x``."""
    return {"dtype": x.dtype, "device": x.device}


def _pad(m, *seqs, **kw):
    return m.nn.utils.rnn.pad_sequence(list(seqs), **kw)


# name: (f(m, *tensors) with m minigrad or torch, inputs)
CASES = {
    "pad_sequence": (lambda m, a, b, c: _pad(m, a, b, c), [normal(3), normal(5), normal(1)]),
    "pad_sequence_batch_first": (
        lambda m, a, b: _pad(m, a, b, batch_first=True, padding_value=-2.5),
        [normal(2, 3), normal(4, 3)]),
    "pad_sequence_left": (
        lambda m, a, b, c: _pad(m, a, b, c, batch_first=True, padding_side="left"),
        [normal(2, 2, 3), normal(4, 2, 3), normal(4, 2, 3)]),
    "pad_sequence_left_time_first": (
        lambda m, a, b: _pad(m, a, b, padding_side="left", padding_value=1.0),
        [normal(3, 2), normal(1, 2)]),
    "categorical_log_prob_probs": (
        lambda m, p, i: m.distributions.Categorical(probs=p).log_prob(i),
        [simplex(3, 4) * 2.5, np.array([0, 3, 1])]),
    "categorical_log_prob_logits_broadcast": (
        lambda m, x, i: m.distributions.Categorical(logits=x).log_prob(i),
        [normal(2, 5) * 2, np.array([[4, 0], [2, 2], [1, 3]])]),
    "categorical_entropy_probs": (lambda m, p: m.distributions.Categorical(p).entropy(),
                                  [simplex(2, 3, 4)]),
    "categorical_entropy_logits": (
        lambda m, x: m.distributions.Categorical(logits=x).entropy(), [normal(3, 6) * 2]),
    "categorical_probs_of_logits": (lambda m, x: m.distributions.Categorical(logits=x).probs,
                                    [normal(2, 3)]),
    "categorical_logits_of_probs": (lambda m, p: m.distributions.Categorical(p).logits,
                                    [simplex(4) * 3]),
    "normal_log_prob": (lambda m, mu, s, x: m.distributions.Normal(mu, s).log_prob(x),
                        [normal(3, 1), positive(1, 4), normal(3, 4)]),
    "normal_log_prob_float_scale": (lambda m, mu, x: m.distributions.Normal(mu, 0.7).log_prob(x),
                                    [normal(5), normal(5)]),
    "normal_entropy": (lambda m, mu, s: m.distributions.Normal(mu, s).entropy() + mu * 0,
                       [normal(3), positive(3)]),
    "instance_norm_1d": (lambda m, x: m.nn.InstanceNorm1d(3, **like(x))(x),
                         [normal(2, 3, 5) * 2 + 1]),
    "instance_norm_2d_affine": (
        lambda m, x: m.nn.InstanceNorm2d(3, affine=True, eps=1e-3, **like(x))(x) * 1,
        [normal(2, 3, 4, 3)]),
    "instance_norm_1d_unbatched": (lambda m, x: m.nn.InstanceNorm1d(4)(x), [normal(4, 6)]),
    "instance_norm_2d_unbatched_no_bias": (
        lambda m, x: m.nn.InstanceNorm2d(2, affine=True, bias=False, **like(x))(x),
        [normal(2, 3, 3)]),
    "instance_norm_functional": (
        lambda m, x, w, b: m.nn.functional.instance_norm(x, weight=w, bias=b, eps=1e-4),
        [normal(3, 2, 4, 2), normal(2), normal(2)]),
}


def _run(name, module):
    return functools.partial(CASES[name][0], module)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_against_torch(name, dtype, device):
    check_against_torch(_run(name, minigrad), _run(name, torch), CASES[name][1], dtype=dtype,
                        device=device)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name, device):
    assert gradcheck_numpy(_run(name, minigrad), CASES[name][1], device=device)


# ---- nn.utils.rnn ---------------------------------------------------------------------------
def test_pad_sequence_of_a_tensor_takes_its_rows():
    x = normal(2, 3)
    ours = minigrad.nn.utils.rnn.pad_sequence(minigrad.tensor(x))
    ref = torch.nn.utils.rnn.pad_sequence(torch.tensor(x))
    assert ours.shape == tuple(ref.shape) == (3, 2)
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


@pytest.mark.parametrize("call, match", [
    (lambda m: m.nn.utils.rnn.pad_sequence([]), "received an empty list of sequences"),
    (lambda m: m.nn.utils.rnn.pad_sequence([m.zeros(2, 3), m.zeros(3, 4)]), None),
    (lambda m: m.nn.utils.rnn.pad_sequence([m.zeros(2)], padding_side="mid"),
     "Expected padding_side to be one of left or right, but got mid."),
    (lambda m: m.nn.utils.rnn.pad_sequence([m.zeros(())]), None),
])
def test_pad_sequence_refuses_what_torch_refuses(call, match):
    with pytest.raises(RuntimeError) as ref:
        call(torch)
    with pytest.raises(RuntimeError) as ours:
        call(minigrad)
    if match:
        assert match in str(ref.value) and match in str(ours.value)


def test_packing_says_minigrad_takes_padded_batches():
    from minigrad.nn.utils.rnn import pack_padded_sequence
    with pytest.raises(NotImplementedError, match="padded"):
        pack_padded_sequence(minigrad.zeros(3, 2, 4), [3, 2])


# ---- distributions --------------------------------------------------------------------------
def test_distributions_import_like_torch():
    import minigrad.distributions as dist
    from minigrad.distributions import Categorical, Normal
    assert dist.Categorical is Categorical and minigrad.distributions.Normal is Normal


def test_categorical_shapes_and_repr_like_torch():
    x = normal(2, 3)
    for make in (lambda m, t: m.distributions.Categorical(logits=t),
                 lambda m, t: m.distributions.Categorical(probs=t.softmax(-1))):
        ours, ref = make(minigrad, minigrad.tensor(x)), make(torch, torch.tensor(x))
        assert ours.batch_shape == tuple(ref.batch_shape) == (2,)
        assert ours.event_shape == tuple(ref.event_shape) == ()
        assert ours.sample().shape == tuple(ref.sample().shape) == (2,)
        assert ours.sample((4, 5)).shape == tuple(ref.sample((4, 5)).shape) == (4, 5, 2)
        assert ours.sample().dtype == minigrad.int64
        assert rel_err(ours.probs.numpy(), ref.probs.numpy()) < 1e-12
        assert rel_err(ours.logits.numpy(), ref.logits.numpy()) < 1e-12
    assert repr(minigrad.distributions.Categorical(minigrad.ones(3))) == \
        "Categorical(probs: (3,), logits: (3,))"


def test_categorical_samples_follow_the_probabilities(device):
    """20000 draws: each frequency within 0.015 of its probability (over 4 standard
    deviations), and a seed repeats the draws."""
    p = np.array([[0.1, 0.2, 0.7], [0.5, 0.0, 0.5]])
    d = minigrad.distributions.Categorical(probs=minigrad.tensor(p * 3, device=device))
    minigrad.manual_seed(7)
    draws = d.sample((20000,))
    assert draws.shape == (20000, 2) and draws.device == minigrad.device(device)
    counts = draws.cpu().numpy()
    for row in range(2):
        freq = np.bincount(counts[:, row], minlength=3) / 20000
        assert np.abs(freq - p[row]).max() < 0.015, freq
    minigrad.manual_seed(7)
    assert (d.sample((20000,)).cpu().numpy() == counts).all()


def test_reinforce_loss_gives_the_policy_gradient(device):
    """The REINFORCE step -log π(a)·R: its gradient in the logits is −R·(onehot(a) − π)."""
    logits = minigrad.tensor([[0.3, -1.0, 2.0]], device=device, dtype=minigrad.float64,
                             requires_grad=True)
    m = minigrad.distributions.Categorical(logits.softmax(-1))     # a policy net's output
    a = m.sample()
    loss = -m.log_prob(a) * 2.0
    loss.sum().backward()
    pi = np.exp(logits.detach().cpu().numpy())
    pi /= pi.sum()
    expected = -2.0 * (np.eye(3)[a.cpu().numpy()] - pi)
    np.testing.assert_allclose(logits.grad.cpu().numpy(), expected, rtol=1e-10, atol=1e-14)


def test_normal_rsample_is_differentiable_and_sample_is_not(device):
    mu = minigrad.zeros(3, device=device, requires_grad=True)
    s = minigrad.full((3,), 2.0, device=device, requires_grad=True)
    d = minigrad.distributions.Normal(mu, s)
    minigrad.manual_seed(3)
    x = d.rsample((4,))
    assert x.shape == (4, 3) and x.requires_grad
    x.sum().backward()
    np.testing.assert_allclose(mu.grad.cpu().numpy(), 4.0)
    np.testing.assert_allclose(s.grad.cpu().numpy(), x.detach().cpu().numpy().sum(0) / 2.0,
                               rtol=1e-6)
    assert not d.sample().requires_grad
    minigrad.manual_seed(0)
    many = minigrad.distributions.Normal(1.5, 0.5).sample((40000,)).numpy()
    assert abs(many.mean() - 1.5) < 0.01 and abs(many.std() - 0.5) < 0.01
    for m in (minigrad, torch):
        d = m.distributions.Normal(m.zeros(2), 1.0)
        assert tuple(d.batch_shape) == (2,) and d.scale.shape == (2,)
        assert repr(d) == "Normal(loc: torch.Size([2]), scale: torch.Size([2]))".replace(
            "torch.Size([2])", "(2,)" if m is minigrad else "torch.Size([2])")


@pytest.mark.parametrize("call, match", [
    (lambda m: m.distributions.Categorical(), "Either `probs` or `logits` must be specified"),
    (lambda m: m.distributions.Categorical(m.ones(3), m.ones(3)), "but not both"),
    (lambda m: m.distributions.Categorical(m.tensor(1.0)), "must be at least one-dimensional"),
    (lambda m: m.distributions.Categorical(m.tensor([0.5, -0.1, 0.6])),
     "to satisfy the constraint Simplex()"),
    (lambda m: m.distributions.Categorical(m.ones(3)).log_prob(m.tensor(3)),
     "to be within the support (IntegerInterval(lower_bound=0, upper_bound=2))"),
    (lambda m: m.distributions.Categorical(m.ones(3)).log_prob(m.tensor(1.5)),
     "to be within the support"),
    (lambda m: m.distributions.Normal(0.0, -1.0),
     "to satisfy the constraint GreaterThan(lower_bound=0.0)"),
    (lambda m: m.distributions.Normal(m.zeros(2), 1.0).log_prob(m.tensor([1.0, float("nan")])),
     "to be within the support (Real())"),
])
def test_distributions_refuse_what_torch_refuses(call, match):
    for m in (torch, minigrad):
        with pytest.raises(ValueError, match=None) as caught:
            call(m)
        assert match in str(caught.value), (m.__name__, str(caught.value))


# ---- nn.InstanceNorm ------------------------------------------------------------------------
def test_instance_norm_modules_like_torch():
    for make in (lambda m: m.nn.InstanceNorm1d(3), lambda m: m.nn.InstanceNorm2d(4, affine=True),
                 lambda m: m.nn.InstanceNorm2d(2, eps=1e-3, affine=True, bias=False)):
        ours, ref = make(minigrad), make(torch)
        assert repr(ours) == repr(ref)
        assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
        assert sorted(ours.state_dict()) == sorted(ref.state_dict())
    with pytest.raises(NotImplementedError, match="running"):
        minigrad.nn.InstanceNorm2d(3, track_running_stats=True)


@pytest.mark.parametrize("call, match", [
    (lambda m: m.nn.InstanceNorm1d(3)(m.zeros(2, 3, 4, 5)), "expected 2D or 3D input (got 4D"),
    (lambda m: m.nn.InstanceNorm2d(3)(m.zeros(3, 4)), "expected 3D or 4D input (got 2D"),
    (lambda m: m.nn.InstanceNorm2d(3, affine=True)(m.zeros(2, 4, 4, 5)),
     "to match num_features (3), but got: 4."),
])
def test_instance_norm_refuses_what_torch_refuses(call, match):
    for m in (torch, minigrad):
        with pytest.raises(ValueError) as caught:
            call(m)
        assert match in str(caught.value), (m.__name__, str(caught.value))


# ---- optim.Adamax, optim.NAdam --------------------------------------------------------------
# Both libraries get the same gradients, drawn at random, for 20 steps on parameters of odd
# shapes, so the comparison measures only the update rule (as test_more_names' Adagrad test).
OPTIMIZERS = {
    "adamax_default": ("Adamax", dict()),
    "adamax_tuned": ("Adamax", dict(lr=0.05, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)),
    "adamax_maximize": ("Adamax", dict(lr=0.01, maximize=True, weight_decay=0.01)),
    "nadam_default": ("NAdam", dict()),
    "nadam_tuned": ("NAdam", dict(lr=0.05, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1,
                                  momentum_decay=0.01)),
    "nadam_decoupled": ("NAdam", dict(lr=0.01, weight_decay=0.05,
                                      decoupled_weight_decay=True)),
    "nadam_maximize": ("NAdam", dict(lr=0.01, maximize=True)),
}
STATE = {"Adamax": ["exp_avg", "exp_inf"], "NAdam": ["exp_avg", "exp_avg_sq"]}


def _optimizer_pair(case, dtype, device):
    name, kw = OPTIMIZERS[case]
    g = np.random.default_rng(5)
    values = [g.standard_normal(s) for s in [(3, 5), (7,), (2, 3, 4), (1,)]]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    ours = [minigrad.tensor(v.astype(dtype), device=device, requires_grad=True) for v in values]
    return (getattr(minigrad.optim, name)(ours, **kw), ours,
            getattr(torch.optim, name)(theirs, **kw), theirs)


def _give_gradients(ours, theirs, g, dtype, device):
    for o, t in zip(ours, theirs):
        grad = g.standard_normal(t.shape) * (1 + g.random())
        o.grad = minigrad.tensor(grad.astype(dtype), device=device)
        t.grad = torch.tensor(grad)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", sorted(OPTIMIZERS))
def test_optimizer_tracks_torch_for_20_steps(case, dtype, device):
    """Parameters and state after each step against PyTorch in float64: 1e-12 in float64;
    1e-5 in float32 (each step rounds once per operation; no cancellation)."""
    opt, ours, ref_opt, theirs = _optimizer_pair(case, dtype, device)
    name = OPTIMIZERS[case][0]
    g = np.random.default_rng(1)
    tol = 1e-12 if dtype == "float64" else 1e-5
    for step in range(1, 21):
        _give_gradients(ours, theirs, g, dtype, device)
        opt.step()
        ref_opt.step()
        for i, (o, t) in enumerate(zip(ours, theirs)):
            assert rel_err(o.detach().cpu().numpy(), t.detach().numpy()) <= tol, (step, i)
            for key in STATE[name]:
                err = rel_err(minigrad.as_tensor(opt.state[o][key]).cpu().numpy(),
                              ref_opt.state[t][key].numpy())
                assert err <= tol, (step, i, key)
            assert opt.state[o]["step"] == ref_opt.state[t]["step"].item() == step
            if name == "NAdam":             # PyTorch keeps Π_t as a float32 tensor
                assert abs(opt.state[o]["mu_product"] - ref_opt.state[t]["mu_product"].item()) \
                    <= 1e-7


@pytest.mark.parametrize("case", ["adamax_tuned", "nadam_tuned"])
def test_optimizer_state_dict_round_trip(case, device):
    """Saved after 3 steps and loaded into a fresh optimizer, it continues as the original."""
    name, kw = OPTIMIZERS[case]
    opt, ours, _, theirs = _optimizer_pair(case, "float64", device)
    g = np.random.default_rng(2)
    for _ in range(3):
        _give_gradients(ours, theirs, g, "float64", device)
        opt.step()
    saved = opt.state_dict()
    assert sorted(saved["state"][0]) == sorted(["step"] + STATE[name] + (
        ["mu_product"] if name == "NAdam" else []))
    assert {k: v for k, v in saved["param_groups"][0].items() if k in kw} == kw
    twins = [minigrad.tensor(o.detach().cpu().numpy(), device=device, requires_grad=True)
             for o in ours]
    twin_opt = getattr(minigrad.optim, name)(twins, lr=1.0)
    twin_opt.load_state_dict(saved)
    assert twin_opt.param_groups[0]["lr"] == kw["lr"]
    for _ in range(3):
        grads = [g.standard_normal(o.shape) for o in ours]
        for o, t, grad in zip(ours, twins, grads):
            o.grad = minigrad.tensor(grad, device=device)
            t.grad = minigrad.tensor(grad, device=device)
        opt.step()
        twin_opt.step()
    for o, t in zip(ours, twins):
        assert o.detach().cpu().tolist() == t.detach().cpu().tolist()


@pytest.mark.parametrize("name", ["Adamax", "NAdam"])
@pytest.mark.parametrize("kw, match", [
    (dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    (dict(eps=-1e-3), "Invalid epsilon value: -0.001"),
    (dict(weight_decay=-1), "Invalid weight_decay value: -1"),
])
def test_optimizers_refuse_what_torch_refuses(name, kw, match):
    for m in (torch, minigrad):
        with pytest.raises(ValueError, match=None) as caught:
            getattr(m.optim, name)([m.zeros(1, requires_grad=True)], **kw)
        assert match in str(caught.value), (m.__name__, str(caught.value))
    with pytest.raises(ValueError, match="Invalid momentum_decay value: -1"):
        minigrad.optim.NAdam([minigrad.zeros(1, requires_grad=True)], momentum_decay=-1)
