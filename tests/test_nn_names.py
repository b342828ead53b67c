"""The nn names a tutorial types beyond the CNN's: LayerNorm / F.layer_norm,
Identity, Dropout2d, SiLU, ReLU6, Hardtanh, LogSigmoid, Softsign, Mish, SELU, PReLU,
Unflatten, ParameterDict, KLDivLoss / F.kl_div — against PyTorch (values and gradients,
float64 and float32, CPU and GPU) and by finite differences, in the style of test_losses."""
import functools

import numpy as np
import pytest
import torch

import minigrad
from helpers import check_against_torch, gradcheck_numpy

rng = np.random.default_rng(21)


def normal(*shape):
    return rng.standard_normal(shape)


def away_from(points, *shape):
    """Normal values at least 0.05 from each kink in ``points`` (finite differences across a
    kink are meaningless)."""
    x = normal(*shape)
    for p in points:
        x = np.where(np.abs(x - p) < 0.05, p + 0.1, x)
    return x


def log_probs(*shape):
    x = normal(*shape)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def probs(*shape):
    return np.exp(log_probs(*shape))


def like(x):
    """A module's dtype and device arguments that match ``x``."""
    return {"dtype": x.dtype, "device": x.device}


# name: (f(m, *tensors) with m minigrad or torch, inputs)
CASES = {
    "layer_norm_int": (lambda m, x: m.nn.LayerNorm(5, **like(x))(x) * 1,
                       [normal(3, 5) * 3 + 1]),
    "layer_norm_tuple": (lambda m, x: m.nn.LayerNorm((3, 4), eps=1e-3, **like(x))(x),
                         [normal(2, 3, 4)]),
    "layer_norm_affine": (lambda m, x, w, b: m.nn.functional.layer_norm(x, (4,), w, b),
                          [normal(2, 3, 4), normal(4), normal(4)]),
    "layer_norm_no_affine": (lambda m, x: m.nn.LayerNorm(4, elementwise_affine=False)(x),
                             [normal(5, 4)]),
    "layer_norm_affine_2d": (lambda m, x, w, b: m.nn.functional.layer_norm(x, (2, 3), w, b,
                                                                           eps=1e-4),
                             [normal(4, 2, 3), normal(2, 3), normal(2, 3)]),
    "silu": (lambda m, x: m.nn.SiLU()(x), [normal(3, 4) * 3]),
    "silu_functional": (lambda m, x: m.nn.functional.silu(x), [normal(5)]),
    "relu6": (lambda m, x: m.nn.ReLU6()(x), [away_from([0, 6], 3, 4) * 4]),
    "hardtanh": (lambda m, x: m.nn.Hardtanh()(x), [away_from([-1, 1], 3, 4) * 2]),
    "hardtanh_bounds": (lambda m, x: m.nn.functional.hardtanh(x, -0.5, 2.0),
                        [away_from([-0.5, 2.0], 3, 4) * 2]),
    "logsigmoid": (lambda m, x: m.nn.LogSigmoid()(x), [normal(3, 4) * 5]),
    "softsign": (lambda m, x: m.nn.Softsign()(x), [away_from([0], 3, 4)]),
    "mish": (lambda m, x: m.nn.Mish()(x), [normal(3, 4) * 3]),
    "selu": (lambda m, x: m.nn.SELU()(x), [away_from([0], 3, 4)]),
    "selu_inplace": (lambda m, x: m.nn.functional.selu(x * 1, inplace=True),
                     [away_from([0], 3, 4)]),
    "silu_inplace": (lambda m, x: m.nn.SiLU(inplace=True)(x + 0), [normal(4)]),
    "prelu_one": (lambda m, x: m.nn.PReLU(**like(x))(x), [away_from([0], 3, 4)]),
    "prelu_channels": (lambda m, x: m.nn.PReLU(3, init=0.1, **like(x))(x),
                       [away_from([0], 2, 3, 4)]),
    "prelu_functional_4d": (lambda m, x, w: m.nn.functional.prelu(x, w),
                            [away_from([0], 2, 3, 2, 2), normal(3)]),
    "prelu_functional": (lambda m, x, w: m.nn.functional.prelu(x, w),
                         [away_from([0], 2, 3), normal(3)]),
    "identity": (lambda m, x: m.nn.Identity(54, unused=1)(x) * 2, [normal(3)]),
    "unflatten": (lambda m, x: m.nn.Unflatten(1, (2, 3))(x), [normal(4, 6)]),
    "kl_div_batchmean": (lambda m, x, y: m.nn.KLDivLoss(reduction="batchmean")(x, y),
                         [log_probs(4, 5), probs(4, 5)]),
    "kl_div_sum": (lambda m, x, y: m.nn.functional.kl_div(x, y, reduction="sum"),
                   [log_probs(4, 5), probs(4, 5)]),
    "kl_div_none": (lambda m, x, y: m.nn.functional.kl_div(x, y, reduction="none"),
                    [log_probs(3, 5), probs(3, 5)]),
    "kl_div_log_target": (lambda m, x, y: m.nn.KLDivLoss(reduction="batchmean",
                                                         log_target=True)(x, y),
                          [log_probs(4, 5), log_probs(4, 5)]),
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


@pytest.mark.filterwarnings("ignore:reduction")
def test_kl_div_mean_and_zero_targets_like_torch():
    x, y = log_probs(3, 4), probs(3, 4)
    y[0, 1] = 0.0                            # 0·log 0 counts as 0, and its gradient too
    ours_x = minigrad.tensor(x, requires_grad=True)
    ours_y = minigrad.tensor(y, requires_grad=True)
    ref_x = torch.tensor(x, requires_grad=True)
    ref_y = torch.tensor(y, requires_grad=True)
    with pytest.warns(UserWarning, match="batchmean"):
        ours = minigrad.nn.functional.kl_div(ours_x, ours_y)
    ref = torch.nn.functional.kl_div(ref_x, ref_y)
    assert abs(ours.item() - ref.item()) < 1e-12
    ours.backward()
    ref.backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), ref_x.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours_y.grad.numpy()[y > 0], ref_y.grad.numpy()[y > 0],
                               rtol=1e-10)
    assert np.isfinite(ours_y.grad.numpy()).all()


def test_layer_norm_module_parameters_and_dtypes_like_torch():
    for m in (minigrad, torch):
        ln = m.nn.LayerNorm((2, 3), dtype=m.float64)
        assert ln.weight.shape == (2, 3) and ln.weight.dtype == m.float64
        assert [n for n, _ in ln.named_parameters()] == ["weight", "bias"]
        assert m.nn.LayerNorm(3, bias=False).bias is None
        assert m.nn.LayerNorm(3, elementwise_affine=False).weight is None
        assert list(m.nn.LayerNorm(3, elementwise_affine=False).parameters()) == []
    out = minigrad.nn.LayerNorm(4)(minigrad.randn(2, 4))
    assert out.dtype == minigrad.float32 and out.shape == (2, 4)


@pytest.mark.parametrize("call", [
    lambda m: m.nn.LayerNorm(3)(m.zeros(2, 4)),
    lambda m: m.nn.functional.layer_norm(m.zeros(2, 3), (3, 2)),
    lambda m: m.nn.functional.layer_norm(m.zeros(2, 3), (3,), m.ones(4)),
    lambda m: m.nn.PReLU(3)(m.zeros(2, 4)),
    lambda m: m.nn.Dropout2d(p=1.5),
    lambda m: m.nn.KLDivLoss(reduction="avg")(m.zeros(2), m.zeros(2)),
])
def test_errors_where_torch_refuses(call):
    with pytest.raises((RuntimeError, ValueError)):
        call(torch)
    with pytest.raises((RuntimeError, ValueError)):
        call(minigrad)


def test_hardtanh_refuses_min_above_max():
    with pytest.raises(AssertionError):          # PyTorch asserts
        torch.nn.Hardtanh(2.0, 1.0)
    with pytest.raises(ValueError, match="min_val"):
        minigrad.nn.Hardtanh(2.0, 1.0)


def test_dropout2d_zeros_whole_channels(device):
    minigrad.manual_seed(0)
    x = minigrad.ones(8, 16, 3, 3, device=device, requires_grad=True)
    layer = minigrad.nn.Dropout2d(0.5)
    y = layer(x)
    planes = y.detach().cpu().numpy().reshape(8, 16, 9)
    assert ((planes == 0).all(-1) | (planes == 2.0).all(-1)).all()      # kept ones × 1/(1-p)
    assert 0 < (planes[..., 0] == 0).sum() < 8 * 16
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), planes.reshape(x.shape))
    with pytest.warns(UserWarning, match="interpreted as shape \\(N, C, L\\)"):
        three_d = minigrad.nn.functional.dropout2d(minigrad.ones(6, 2, 3, device=device), 0.5)
    u = three_d.cpu().numpy()                       # as PyTorch: (N, C, L), per (n, c)
    assert ((u == 0).all(-1) | (u == 2.0).all(-1)).all()
    layer.eval()
    assert layer(x) is x
    with pytest.raises(ValueError):
        minigrad.nn.functional.dropout2d(minigrad.ones(3, 4), 0.5)


def test_parameter_dict_registers_like_torch():
    for m in (minigrad, torch):
        d = m.nn.ParameterDict({"a": m.nn.Parameter(m.zeros(2)), "b": m.ones(3)})
        d["c"] = m.nn.Parameter(m.zeros(1))
        assert list(d.keys()) == ["a", "b", "c"] and len(d) == 3 and "b" in d
        assert isinstance(d["b"], m.nn.Parameter) and d["b"].requires_grad
        assert [n for n, _ in d.named_parameters()] == ["a", "b", "c"]
        model = m.nn.Module()
        model.params = d
        assert sorted(model.state_dict()) == ["params.a", "params.b", "params.c"]
        del d["a"]
        assert list(d) == ["b", "c"]


def test_reprs_like_torch():
    for make in (lambda m: m.nn.LayerNorm((3, 4)), lambda m: m.nn.LayerNorm(3, bias=False),
                 lambda m: m.nn.LayerNorm(5, eps=1e-6, elementwise_affine=False),
                 lambda m: m.nn.SiLU(), lambda m: m.nn.ReLU6(), lambda m: m.nn.Hardtanh(),
                 lambda m: m.nn.Hardtanh(-2.0, 2.0, inplace=True), lambda m: m.nn.LogSigmoid(),
                 lambda m: m.nn.Softsign(), lambda m: m.nn.Mish(), lambda m: m.nn.SELU(),
                 lambda m: m.nn.PReLU(), lambda m: m.nn.PReLU(4), lambda m: m.nn.Identity(),
                 lambda m: m.nn.Unflatten(1, (2, 5)), lambda m: m.nn.Dropout2d(0.2),
                 lambda m: m.nn.KLDivLoss(reduction="batchmean")):
        assert repr(make(minigrad)) == repr(make(torch))
