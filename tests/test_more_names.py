"""More names tutorial code types: module forward hooks, nan_to_num, index_put, against
PyTorch (values and gradients, float64 and float32, CPU and GPU) and by finite differences,
in the style of test_torch_names; then what the cases cannot say (hook order and removal,
defaults, errors where PyTorch refuses)."""
import functools

import numpy as np
import pytest
import torch

import minigrad
from helpers import check_against_torch, gradcheck_numpy, raises_like_torch, rel_err

rng = np.random.default_rng(23)


def normal(*shape):
    return rng.standard_normal(shape)


def with_non_finite(*shape):
    """Normal values with a NaN, a +inf and a -inf among them."""
    x = normal(*shape).reshape(-1)
    x[[1, 4, 6]] = [np.nan, np.inf, -np.inf]
    return x.reshape(shape)


def index(n, *shape):
    return rng.integers(0, n, shape)


# name: (f(m, *tensors) with m minigrad or torch, inputs)
CASES = {
    "nan_to_num": (lambda m, a: m.nan_to_num(a, posinf=3.0, neginf=-2.0), [with_non_finite(3, 4)]),
    "nan_to_num_nan": (lambda m, a: a.nan_to_num(nan=1.5, posinf=9.0, neginf=-9.0) * a.nan_to_num(
        7.0, 1.0, -1.0), [with_non_finite(2, 5)]),
    "nan_to_num_finite": (lambda m, a: m.nan_to_num(a), [normal(3, 4)]),
    "nan_to_num_inplace": (lambda m, a: (a * 1).nan_to_num_(posinf=1.0, neginf=0.5),
                           [with_non_finite(2, 4)]),
    "index_put": (lambda m, a, v: a.index_put((m.tensor([0, 2]),), v), [normal(3, 4), normal(4)]),
    "index_put_pairs": (lambda m, a, v: m.index_put(a, (m.tensor([0, 2]), m.tensor([3, 1])), v),
                        [normal(3, 4), normal(2)]),
    "index_put_accumulate": (lambda m, a, v: a.index_put((m.tensor([2, 0, 2]),), v,
                                                         accumulate=True),
                             [normal(3, 4), normal(3, 4)]),
    "index_put_accumulate_broadcast": (
        lambda m, a, v: a.index_put((m.tensor([1, 1, 0]), m.tensor([2, 2, 0])), v, True),
        [normal(2, 3, 2), normal(2)]),
    "index_put_mask": (lambda m, a, v: a.index_put((m.tensor([True, False, True]),), v),
                       [normal(3, 2), normal(1, 2)]),
    "index_put_mask_accumulate": (
        lambda m, a, v: a.index_put((m.tensor([[True, False], [False, True]]),), v,
                                    accumulate=True), [normal(2, 2, 3), normal(3)]),
    "index_put_inplace": (lambda m, a, v: (a * 1).index_put_((m.tensor([1, 1]),), v, True),
                          [normal(2, 3), normal(2, 3)]),
    "interpolate_scale_2": (lambda m, x: m.nn.functional.interpolate(x, scale_factor=2),
                            [normal(2, 3, 3, 4)]),
    "interpolate_scale_pair": (lambda m, x: m.nn.functional.interpolate(x, scale_factor=(1.5,
                                                                                        0.6)),
                               [normal(1, 2, 5, 7)]),
    "interpolate_size": (lambda m, x: m.nn.functional.interpolate(x, size=(7, 3)),
                         [normal(1, 2, 4, 5)]),
    "interpolate_size_int_exact": (lambda m, x: m.nn.functional.interpolate(
        x, size=5, mode="nearest-exact"), [normal(2, 1, 3, 4)]),
    "upsample": (lambda m, x: m.nn.Upsample(scale_factor=3)(x), [normal(1, 2, 2, 3)]),
    "upsampling_nearest2d": (lambda m, x: m.nn.UpsamplingNearest2d(size=(3, 5))(x),
                             [normal(2, 1, 2, 2)]),
    "upsample_recompute": (lambda m, x: m.nn.Upsample(scale_factor=1.7,
                                                      recompute_scale_factor=True)(x),
                           [normal(1, 1, 5, 6)]),
    "group_norm": (lambda m, x, w, b: m.nn.functional.group_norm(x, 2, w, b),
                   [normal(3, 4, 5) * 2 + 1, normal(4), normal(4)]),
    "group_norm_images": (lambda m, x: m.nn.functional.group_norm(x, 3, eps=1e-3),
                          [normal(2, 6, 3, 2)]),
    "group_norm_no_positions": (lambda m, x, w: m.nn.functional.group_norm(x, 1, weight=w),
                                [normal(4, 3), normal(3)]),
    "group_norm_module": (lambda m, x: m.nn.GroupNorm(2, 6, **_like(x))(x) * 1,
                          [normal(2, 6, 4, 4) * 3]),
    "group_norm_per_channel": (lambda m, x: m.nn.GroupNorm(4, 4, affine=False)(x),
                               [normal(2, 4, 3)]),
}


def _like(x):
    """A module's dtype and device arguments that match ``x``."""
    return {"dtype": x.dtype, "device": x.device}


def _run(case, module):
    f, _ = CASES[case]
    return functools.partial(f, module)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_against_torch(name, dtype, device):
    check_against_torch(_run(name, minigrad), _run(name, torch), CASES[name][1], dtype=dtype,
                        device=device)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name, device):
    assert gradcheck_numpy(_run(name, minigrad), CASES[name][1], device=device)


# ---- nan_to_num and index_put: what the cases cannot say ----------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nan_to_num_defaults_are_the_dtype_extremes(dtype, device):
    values = [1.0, float("nan"), float("inf"), -float("inf")]
    ours = minigrad.tensor(values, dtype=dtype, device=device).nan_to_num()
    ref = torch.tensor(values, dtype=getattr(torch, dtype)).nan_to_num()
    assert ours.cpu().tolist() == ref.tolist()
    ints = [[3, -1], [0, 2]]
    for m in (minigrad, torch):
        assert m.nan_to_num(m.tensor(ints)).tolist() == ints
        assert str(m.nan_to_num(m.tensor(ints)).dtype).endswith("int64")


def test_nan_to_num_inplace_is_the_same_tensor():
    x = minigrad.tensor([float("nan"), 2.0])
    assert x.nan_to_num_(nan=-1.0) is x and x.tolist() == [-1.0, 2.0]
    assert x._version == 1


def test_index_put_writes_into_self_and_copies_otherwise(device):
    x = minigrad.zeros(2, 3, device=device)
    y = x.index_put((minigrad.tensor([1]),), minigrad.tensor(5.0, device=device))
    assert x.sum().item() == 0 and y.sum().item() == 15
    assert x.index_put_((minigrad.tensor([0]), minigrad.tensor([2])),
                        minigrad.tensor(1.0, device=device), accumulate=True) is x
    x.index_put_((minigrad.tensor([0]), minigrad.tensor([2])),
                 minigrad.tensor(1.0, device=device), accumulate=True)
    assert x.cpu().tolist() == [[0, 0, 2], [0, 0, 0]]


def test_index_put_of_long_tensors_like_torch():
    for accumulate in (False, True):
        ours = minigrad.zeros(4, dtype=minigrad.int64).index_put(
            (minigrad.tensor([1, 1, 3]),), minigrad.tensor([2, 5, 7]), accumulate)
        ref = torch.zeros(4, dtype=torch.int64).index_put(
            (torch.tensor([1, 1, 3]),), torch.tensor([2, 5, 7]), accumulate)
        assert ours.tolist()[2:] == ref.tolist()[2:] and ours.dtype == minigrad.int64
        if accumulate:
            assert ours.tolist() == ref.tolist()


@pytest.mark.parametrize("call, exc, match", [
    (lambda m: m.zeros(3, 4).index_put((m.tensor([0, 1]),), m.ones(2, 1, 4)), RuntimeError,
     "shape mismatch: value tensor of shape [2, 1, 4] cannot be broadcast to indexing result "
     "of shape [2, 4]"),
    (lambda m: m.zeros(3, 4).index_put((m.tensor([0]),), m.ones(4, dtype=m.float64)),
     RuntimeError, "Index put requires the source and destination dtypes match, got Float "
     "for the destination and Double for the source."),
    (lambda m: m.zeros(3).index_put((m.tensor([0.0]),), m.ones(1)), IndexError,
     "tensors used as indices must be long, int, byte or bool tensors"),
    (lambda m: m.zeros(3, 4).index_put((m.tensor([0]),) * 3, m.ones(1)), IndexError,
     "too many indices for tensor of dimension 2 (got 3)"),
    (lambda m: m.zeros(3).index_put((m.tensor([5]),), m.ones(1)), IndexError,
     "out of bounds"),
    (lambda m: m.zeros(3).index_put(m.tensor([1]), m.ones(1)), TypeError,
     "must be tuple of Tensors, not Tensor"),
    (lambda m: m.zeros(3).index_put((m.tensor([1]),), 1.0), TypeError,
     "must be Tensor, not float"),
])
def test_index_put_errors_like_torch(call, exc, match):
    raises_like_torch(exc, lambda: call(minigrad), lambda: call(torch), match)


# ---- module forward hooks ---------------------------------------------------------------
def _pair(seed=0):
    """The same Linear(3, 2) in minigrad and torch."""
    ours = minigrad.nn.Linear(3, 2)
    ref = torch.nn.Linear(3, 2)
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(ours.weight.detach().numpy()))
        ref.bias.copy_(torch.tensor(ours.bias.detach().numpy()))
    return ours, ref


def _hooked_linear(m, layer, x):
    """Two pre-hooks and three forward hooks on ``layer``: what they saw, and the output."""
    seen = []
    layer.register_forward_pre_hook(lambda mod, args: seen.append(("pre", tuple(args[0].shape))))
    layer.register_forward_pre_hook(lambda mod, args: args[0] * 2)    # one value: the args
    layer.register_forward_hook(lambda mod, args, out: seen.append(
        ("post", round(float(args[0].sum()), 4), tuple(out.shape))))
    layer.register_forward_hook(lambda mod, args, out: out + 1)
    layer.register_forward_hook(lambda mod, args, out: out * 3)        # sees out + 1
    return layer(m.tensor(x)).detach().numpy(), seen


def test_forward_hooks_see_and_replace_like_torch():
    x = normal(4, 3).astype(np.float32)
    ours, ref = _pair()
    out, seen = _hooked_linear(minigrad, ours, x)
    ref_out, ref_seen = _hooked_linear(torch, ref, x)
    np.testing.assert_allclose(out, ref_out, rtol=1e-6)
    assert seen == ref_seen and seen[1][1] == round(float(2 * x.sum()), 4)


def _scale_with_hooks(m):
    """A module whose forward takes a keyword, with kwargs hooks and a prepended hook."""
    class Scale(m.nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    order = []
    layer = Scale()
    layer.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": 10.0}),
                                    with_kwargs=True)
    layer.register_forward_hook(lambda mod, args, kwargs, out: order.append(
        ("kw", kwargs["factor"])), with_kwargs=True)
    layer.register_forward_hook(lambda mod, args, out: order.append("first"), prepend=True)
    return layer, order


def test_forward_hooks_with_kwargs_and_prepend_like_torch():
    for m in (minigrad, torch):
        layer, order = _scale_with_hooks(m)
        assert layer(m.ones(2), factor=2.0).tolist() == [10.0, 10.0]
        assert order == ["first", ("kw", 10.0)]
        layer.register_forward_pre_hook(lambda mod, args, kwargs: 5, with_kwargs=True)
        with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple "
                                               r"of \(new_args, new_kwargs\)"):
            layer(m.ones(2))


def test_hook_handles_remove_and_the_module_calls_plainly_again():
    layer = minigrad.nn.Linear(3, 2)
    calls = []
    h1 = layer.register_forward_hook(lambda mod, args, out: calls.append(1))
    h2 = layer.register_forward_pre_hook(lambda mod, args: calls.append(2))
    assert h1.id != h2.id
    layer(minigrad.ones(1, 3))
    assert calls == [2, 1]
    h1.remove()
    h1.remove()                                      # a second remove does nothing
    layer(minigrad.ones(1, 3))
    assert calls == [2, 1, 2]
    assert layer._has_hooks
    with h2:
        pass                                         # leaving the block removes it
    assert not layer._has_hooks
    layer(minigrad.ones(1, 3))
    assert calls == [2, 1, 2]
    with pytest.raises(TypeError, match="callable"):
        layer.register_forward_hook(3)


def test_hooks_on_children_of_a_sequential_collect_activations():
    """The tutorial use: record each layer's output shape during one forward."""
    net = minigrad.nn.Sequential(minigrad.nn.Linear(4, 3), minigrad.nn.ReLU(),
                                 minigrad.nn.Linear(3, 2))
    shapes = {}
    handles = [layer.register_forward_hook(
        lambda mod, args, out, name=name: shapes.__setitem__(name, out.shape))
        for name, layer in net.named_children()]
    out = net(minigrad.ones(5, 4))
    assert shapes == {"0": (5, 3), "1": (5, 3), "2": (5, 2)} and out.shape == (5, 2)
    for h in handles:
        h.remove()
    assert not any(m._has_hooks for m in net.modules())


def test_a_hook_that_replaces_the_output_is_differentiated_through():
    layer = minigrad.nn.Linear(3, 1)
    layer.register_forward_hook(lambda mod, args, out: out * 2)
    x = minigrad.ones(1, 3, requires_grad=True)
    layer(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * layer.weight.detach().numpy())


# ---- nn.init.trunc_normal_ --------------------------------------------------------------
def _truncated_moments(mean, std, a, b):
    """The exact mean and std of N(mean, std²) restricted to [a, b]."""
    import math
    al, be = (a - mean) / std, (b - mean) / std
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)      # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))             # noqa: E731
    z = cdf(be) - cdf(al)
    shift = (pdf(al) - pdf(be)) / z
    var = 1 + (al * pdf(al) - be * pdf(be)) / z - shift * shift
    return mean + std * shift, std * math.sqrt(var)


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 3.0),
                                              (0.0, 0.02, -0.04, 0.04), (1.0, 1.0, 1.5, 4.0)])
def test_trunc_normal_stays_in_bounds_with_the_truncated_moments(mean, std, a, b, device):
    minigrad.manual_seed(3)
    w = minigrad.zeros(300, 200, device=device)
    assert minigrad.nn.init.trunc_normal_(w, mean, std, a, b) is w
    values = w.cpu().numpy().astype(np.float64)
    assert values.min() >= a and values.max() <= b
    want_mean, want_std = _truncated_moments(mean, std, a, b)
    # 60000 samples: the sample mean's standard error is std/245, so 5 of them is loose
    assert abs(values.mean() - want_mean) < 5 * want_std / np.sqrt(values.size)
    assert abs(values.std() / want_std - 1) < 0.02
    ref = torch.nn.init.trunc_normal_(torch.empty(300, 200), mean, std, a, b).double()
    assert abs(ref.mean().item() - want_mean) < 5 * want_std / np.sqrt(values.size)


def test_trunc_normal_defaults_generator_and_refusals():
    w = minigrad.nn.init.trunc_normal_(minigrad.zeros(1000, dtype=minigrad.float64))
    assert w.abs().max().item() <= 2.0 and w.dtype == minigrad.float64
    g1, g2 = minigrad.Generator().manual_seed(7), minigrad.Generator().manual_seed(7)
    p = minigrad.nn.Parameter(minigrad.zeros(5))
    first = minigrad.nn.init.trunc_normal_(p, std=0.1, generator=g1).tolist()
    assert first == minigrad.nn.init.trunc_normal_(minigrad.zeros(5), std=0.1,
                                                   generator=g2).tolist()
    assert p.requires_grad and p.grad_fn is None
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        minigrad.nn.init.trunc_normal_(minigrad.zeros(10), mean=5.0, a=0.0, b=2.0)
    with pytest.raises(ValueError, match="must be below"):
        minigrad.nn.init.trunc_normal_(minigrad.zeros(3), a=1.0, b=1.0)


# ---- optim.Adagrad ----------------------------------------------------------------------
# Both libraries get the same gradients, drawn at random, for 20 steps on parameters of odd
# shapes, so the comparison measures only the update rule, as test_optim's do.
ADAGRAD = {
    "default": dict(),
    "tuned": dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5,
                  eps=1e-6),
    "maximize": dict(lr=0.05, maximize=True, weight_decay=0.01),
}


def _adagrad_pair(kw, dtype, device):
    g = np.random.default_rng(5)
    values = [g.standard_normal(s) for s in [(3, 5), (7,), (2, 3, 4), (1,)]]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    ours = [minigrad.tensor(v.astype(dtype), device=device, requires_grad=True) for v in values]
    return minigrad.optim.Adagrad(ours, **kw), ours, torch.optim.Adagrad(theirs, **kw), theirs


def _give_gradients(ours, theirs, g, dtype, device):
    for o, t in zip(ours, theirs):
        grad = g.standard_normal(t.shape) * (1 + g.random())
        o.grad = minigrad.tensor(grad.astype(dtype), device=device)
        t.grad = torch.tensor(grad)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(ADAGRAD))
def test_adagrad_tracks_torch_for_20_steps(name, dtype, device):
    """Parameters and the sum of squares after each step against PyTorch in float64:
    1e-12 in float64; 1e-5 in float32 (each step rounds once per operation, and the update
    divides by a root of a sum of squares, no cancellation)."""
    opt, ours, ref_opt, theirs = _adagrad_pair(ADAGRAD[name], dtype, device)
    g = np.random.default_rng(1)
    tol = 1e-12 if dtype == "float64" else 1e-5
    for step in range(1, 21):
        _give_gradients(ours, theirs, g, dtype, device)
        opt.step()
        ref_opt.step()
        for i, (o, t) in enumerate(zip(ours, theirs)):
            assert rel_err(o.detach().cpu().numpy(), t.detach().numpy()) <= tol, (step, i)
            err = rel_err(minigrad.as_tensor(opt.state[o]["sum"]).cpu().numpy(),
                          ref_opt.state[t]["sum"].numpy())
            assert err <= tol, (step, i)
            assert opt.state[o]["step"] == ref_opt.state[t]["step"].item() == step


def test_adagrad_state_dict_round_trip(device):
    """Saved after 3 steps and loaded into a fresh optimizer, it continues as the original."""
    kw = ADAGRAD["tuned"]
    opt, ours, ref_opt, theirs = _adagrad_pair(kw, "float64", device)
    g = np.random.default_rng(2)
    for _ in range(3):
        _give_gradients(ours, theirs, g, "float64", device)
        opt.step()
    saved = opt.state_dict()
    assert sorted(saved["state"][0]) == ["step", "sum"]
    assert {k: v for k, v in saved["param_groups"][0].items() if k in kw} == kw
    twins = [minigrad.tensor(o.detach().cpu().numpy(), device=device, requires_grad=True)
             for o in ours]
    twin_opt = minigrad.optim.Adagrad(twins, lr=1.0)
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


@pytest.mark.parametrize("kw, match", [
    (dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (dict(lr_decay=-0.1), "Invalid lr_decay value: -0.1"),
    (dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    (dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
    (dict(eps=-1e-3), "Invalid epsilon value: -0.001"),
])
def test_adagrad_refuses_what_torch_refuses(kw, match):
    raises_like_torch(ValueError,
                      lambda: minigrad.optim.Adagrad([minigrad.zeros(1, requires_grad=True)],
                                                     **kw),
                      lambda: torch.optim.Adagrad([torch.zeros(1, requires_grad=True)], **kw),
                      match)


# ---- F.interpolate, nn.Upsample -----------------------------------------------------------
def test_interpolate_reads_the_elements_torch_reads():
    """Every output position copies the same input element as PyTorch's, over many sizes
    and factors (the positions come from float32 products, which a double computation
    would change in a few places)."""
    x = np.arange(13 * 17, dtype=np.float64).reshape(1, 1, 13, 17)
    F, TF = minigrad.nn.functional, torch.nn.functional
    for mode in ("nearest", "nearest-exact"):
        for h, w in [(1, 1), (2, 3), (5, 4), (13, 17), (7, 16)]:
            part = x[..., :h, :w]
            for kw in [dict(scale_factor=f) for f in (0.3, 0.7, 1.3, 2.05, 2.2, 3, (1.7, 0.6))] + \
                    [dict(scale_factor=f, recompute_scale_factor=True) for f in (1.3, 2.2)] + \
                    [dict(size=s) for s in (1, 4, 11, 26, (9, 22))]:
                if min(int(n * f) for n, f in zip((h, w), np.broadcast_to(
                        kw.get("scale_factor", 1), 2))) == 0:
                    continue                        # an empty output: both refuse
                ours = F.interpolate(minigrad.tensor(part), mode=mode, **kw).numpy()
                ref = TF.interpolate(torch.tensor(part), mode=mode, **kw).numpy()
                assert ours.shape == ref.shape and (ours == ref).all(), (mode, h, w, kw)


def test_interpolate_of_the_same_size_is_a_copy_and_upsample_reprs_like_torch():
    x = minigrad.ones(1, 1, 2, 2)
    y = minigrad.nn.functional.interpolate(x, size=(2, 2))
    assert y is not x and y.tolist() == x.tolist()
    for kw in (dict(scale_factor=2), dict(size=(3, 5)), dict(size=4),
               dict(scale_factor=(2, 3), mode="nearest-exact")):
        assert repr(minigrad.nn.Upsample(**kw)) == repr(torch.nn.Upsample(**kw))
    for kw in (dict(scale_factor=2), dict(size=3)):
        assert repr(minigrad.nn.UpsamplingNearest2d(**kw)) == \
            repr(torch.nn.UpsamplingNearest2d(**kw))


@pytest.mark.parametrize("call, exc, match", [
    (lambda F, x: F.interpolate(x, size=(2,)), ValueError,
     "Input and output must have the same number of spatial dimensions, but got input "
     "with spatial dimensions of [4, 4] and output size of (2,)."),
    (lambda F, x: F.interpolate(x, scale_factor=(2, 3, 4)), ValueError,
     "scale_factor of shape (2, 3, 4)"),
    (lambda F, x: F.interpolate(x), ValueError, "either size or scale_factor should be defined"),
    (lambda F, x: F.interpolate(x, size=2, scale_factor=2), ValueError,
     "only one of size or scale_factor should be defined"),
    (lambda F, x: F.interpolate(x, scale_factor=2, align_corners=True), ValueError,
     "align_corners option can only be set with the interpolating modes"),
    (lambda F, x: F.interpolate(x, scale_factor=2, mode="bogus"), NotImplementedError,
     "(got bogus)"),
    (lambda F, x: F.interpolate(x[0, 0], scale_factor=2), NotImplementedError,
     "Only 3D, 4D and 5D input Tensors supported (got 2D)"),
    (lambda F, x: F.interpolate(x, scale_factor=0.1), RuntimeError,
     "Input and output sizes should be greater than 0, but got input (H: 4, W: 4) output "
     "(H: 0, W: 0)"),
])
def test_interpolate_errors_like_torch(call, exc, match):
    raises_like_torch(exc, lambda: call(minigrad.nn.functional, minigrad.zeros(1, 1, 4, 4)),
                      lambda: call(torch.nn.functional, torch.zeros(1, 1, 4, 4)), match)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "area"])
def test_interpolate_names_the_modes_it_does_not_have(mode):
    with pytest.raises(NotImplementedError, match=f"mode '{mode}' is not implemented"):
        minigrad.nn.functional.interpolate(minigrad.zeros(1, 1, 4, 4), scale_factor=2,
                                           mode=mode)
    with pytest.raises(NotImplementedError, match=r"\(N, C, H, W\) inputs only"):
        minigrad.nn.Upsample(scale_factor=2)(minigrad.zeros(1, 1, 4))


# ---- F.group_norm, nn.GroupNorm -----------------------------------------------------------
def test_group_norm_module_like_torch():
    for kw in (dict(), dict(affine=False, eps=1e-3), dict(bias=False)):
        ours, ref = minigrad.nn.GroupNorm(3, 6, **kw), torch.nn.GroupNorm(3, 6, **kw)
        assert repr(ours) == repr(ref)
        assert list(ours.state_dict()) == list(ref.state_dict())
        for name, t in ref.state_dict().items():
            assert ours.state_dict()[name].tolist() == t.tolist()
    ours = minigrad.nn.GroupNorm(2, 4, dtype=minigrad.float64)
    assert ours.weight.dtype == minigrad.float64
    assert ours(minigrad.ones(1, 4, dtype=minigrad.float64)).dtype == minigrad.float64


@pytest.mark.parametrize("call, exc, match", [
    (lambda m: m.nn.functional.group_norm(m.zeros(2, 6, 3), 4), RuntimeError,
     "Expected number of channels in input to be divisible by num_groups, but got input of "
     "shape [2, 6, 3] and num_groups=4"),
    (lambda m: m.nn.functional.group_norm(m.zeros(2, 6, 3), 3, m.ones(5)), RuntimeError,
     "Expected weight to be a vector of size equal to the number of channels in input, but "
     "got weight of shape [5] and input of shape [2, 6, 3]"),
    (lambda m: m.nn.functional.group_norm(m.zeros(6), 3), RuntimeError,
     "Expected at least 2 dimensions for input tensor but received 1"),
    (lambda m: m.nn.GroupNorm(4, 6), ValueError, "num_channels (6) must be divisible by "
     "num_groups (4)"),
])
def test_group_norm_errors_like_torch(call, exc, match):
    raises_like_torch(exc, lambda: call(minigrad), lambda: call(torch), match)


def test_a_copied_or_pickled_module_keeps_its_hooks():
    import copy
    import pickle
    layer = minigrad.nn.Linear(2, 2)
    layer.register_forward_hook(_zero_output)
    for twin in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert twin(minigrad.ones(1, 2)).tolist() == [[0.0, 0.0]]
    plain = pickle.loads(pickle.dumps(minigrad.nn.Linear(2, 2)))
    assert not plain._has_hooks and plain(minigrad.ones(1, 2)).shape == (1, 2)


def _zero_output(module, args, output):
    """A forward hook that pickle can save (a module-level function)."""
    return output * 0


# ---- full backward hooks ----------------------------------------------------------------
def _backward_hooked(m, layer, x, double):
    """A backward hook that records what it sees (and doubles grad_input when asked)."""
    seen = []

    def hook(module, grad_input, grad_output):
        seen.append(([None if g is None else g.detach().numpy().copy() for g in grad_input],
                     [g.detach().numpy().copy() for g in grad_output]))
        if double and grad_input[0] is not None:
            return (grad_input[0] * 2,)
    layer.register_full_backward_hook(hook)
    inp = m.tensor(x, requires_grad=True)
    (layer(inp) * m.tensor(x[:, :2] + 1)).sum().backward()
    (layer(m.tensor(x)) ** 2).sum().backward()          # an input without grad: None
    return seen, inp.grad.numpy(), layer.weight.grad.numpy()


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")   # PyTorch's, on purpose
@pytest.mark.parametrize("double", [False, True])
def test_full_backward_hook_sees_and_replaces_like_torch(double):
    x = normal(4, 3)
    ours, ref = _pair()
    ours.double(), ref.double()
    seen, grad, wgrad = _backward_hooked(minigrad, ours, x, double)
    ref_seen, ref_grad, ref_wgrad = _backward_hooked(torch, ref, x, double)
    assert len(seen) == len(ref_seen) == 2
    for (gi, go), (ref_gi, ref_go) in zip(seen, ref_seen):
        assert [g is None for g in gi] == [g is None for g in ref_gi]
        for a, b in zip(gi + go, ref_gi + ref_go):
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-12)
    np.testing.assert_allclose(wgrad, ref_wgrad, rtol=1e-12)


def test_full_backward_hook_limits_and_errors():
    class Two(minigrad.nn.Module):
        def forward(self, a, b):
            return a * b

    two, calls = Two(), []
    handle = two.register_full_backward_hook(lambda m, gi, go: calls.append(len(gi)))
    a = minigrad.ones(2, requires_grad=True)
    two(a, minigrad.ones(2)).sum().backward()           # one input needs grad: fine
    assert calls == [2]
    with pytest.raises(NotImplementedError, match="at most one tensor input"):
        two(a, minigrad.ones(2, requires_grad=True))
    with minigrad.no_grad():
        assert two(a, a).tolist() == [1.0, 1.0]          # no graph, no hook
    handle.remove()
    assert not two._has_hooks
    lin = minigrad.nn.Linear(3, 2)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="Backward hook returned an invalid number of "
                                           "grad_input, got 2, but expected 1"):
        lin(minigrad.ones(1, 3, requires_grad=True)).sum().backward()
