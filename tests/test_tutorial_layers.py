"""The layers PyTorch's MNIST example and d2l's LeNet add (issue 15) against PyTorch, forward
and every input's gradient, in float64 and float32, on the CPU and (the ``device`` fixture's
cuda case) on the GPU or its emulator; and by finite differences on odd shapes:
average pooling, dropout, nll_loss, cross_entropy's weight / ignore_index / label_smoothing,
flatten, view_as, and the weight initialisers."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad
import minigrad.nn.functional as F
from helpers import check_against_torch, gradcheck_numpy, rel_err
from minigrad import nn
from minigrad.backend import loops

rng = np.random.default_rng(0)


def normal(*shape):
    return rng.standard_normal(shape)


# ---- average pooling ---------------------------------------------------------------------------
AVG_CASES = [   # (x shape, keyword arguments)
    ((2, 6, 28, 28), dict(kernel_size=2, stride=2)),                        # d2l's LeNet
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1)),               # padding counted
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ((1, 2, 7, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((1, 2, 7, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                        count_include_pad=False)),
    ((1, 2, 6, 6), dict(kernel_size=2, stride=2, ceil_mode=True)),          # ceil = floor here
    ((2, 2, 5, 7), dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 0))),  # rectangular
    ((1, 3, 9, 5), dict(kernel_size=(2, 3), stride=(3, 1), padding=(1, 1), ceil_mode=True,
                        count_include_pad=False)),
    ((2, 2, 6, 5), dict(kernel_size=3, stride=1, divisor_override=4)),
    ((3, 8, 8), dict(kernel_size=2)),                                       # unbatched
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", AVG_CASES, ids=str)
def test_avg_pool2d(case, dtype, device):
    shape, kw = case
    check_against_torch(lambda x: F.avg_pool2d(x, **kw), lambda x: TF.avg_pool2d(x, **kw),
                        [normal(*shape)], dtype=dtype, device=device)


@pytest.mark.parametrize("case", [AVG_CASES[i] for i in (2, 4, 7, 8)], ids=str)
def test_avg_pool2d_gradcheck(case, device):
    shape, kw = case
    assert gradcheck_numpy(lambda x: F.avg_pool2d(x, **kw), [normal(*shape)], device=device)


@pytest.mark.parametrize("kw", [dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                     count_include_pad=False),
                                dict(kernel_size=2, stride=1)], ids=str)
def test_avg_pool2d_matches_the_textbook_loops(kw):
    x = normal(2, 2, 7, 6)
    k, s, p = kw["kernel_size"], kw["stride"], kw.get("padding", 0)
    ref = loops.avgpool2d_fwd(x, (k, k), (s, s), (p, p), kw.get("ceil_mode", False),
                              kw.get("count_include_pad", True))
    assert rel_err(F.avg_pool2d(minigrad.tensor(x), **kw).numpy(), ref) <= 1e-12
    assert rel_err(TF.avg_pool2d(torch.tensor(x), **kw).numpy(), ref) <= 1e-12


def test_avg_pool2d_errors_name_the_problem():
    x = minigrad.zeros(1, 1, 5, 5)
    with pytest.raises(ValueError, match="at most half the kernel"):
        F.avg_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="larger than the input"):
        F.avg_pool2d(x, 6)
    with pytest.raises(ValueError, match="stride must be ≥ 1"):
        F.avg_pool2d(x, 2, stride=0)
    with pytest.raises(ValueError, match="divisor_override"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        F.avg_pool2d(minigrad.zeros(5, 5), 2)
    with pytest.raises(TypeError, match="floating-point"):
        F.avg_pool2d(minigrad.zeros(1, 1, 4, 4, dtype="int64"), 2)


def test_avg_pool_module_repr_and_defaults_as_torch():
    for args, kw in [((2,), {}), ((3, 2, 1), dict(ceil_mode=True, count_include_pad=False))]:
        ours, theirs = nn.AvgPool2d(*args, **kw), torch.nn.AvgPool2d(*args, **kw)
        assert repr(ours) == repr(theirs)
        x = normal(1, 2, 7, 7)
        assert rel_err(ours(minigrad.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy()) <= 1e-12


# ---- dropout -------------------------------------------------------------------------------------
def expected_mask(shape, p, seed, device):
    """The mask minigrad's dropout draws right after manual_seed(seed): from NumPy's
    generator on the CPU, from Philox(key = seed, counter = (element group, offset 0)) on the
    GPU (kernels/dropout.cu, written out in backend/loops.py)."""
    if device == "cpu":
        keep = np.random.default_rng(seed).random(shape) >= p
        return keep / (1 - p)
    size = int(np.prod(shape))
    return loops.dropout_mask_philox(size, p, seed, 0).reshape(shape)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape, p", [((4, 9216), 0.25), ((3, 5, 7), 0.5), ((13,), 0.9)],
                         ids=str)
def test_dropout_is_pytorchs_formula_on_our_mask(shape, p, dtype, device):
    """Given the same keep mask, dropout is PyTorch's: x · (keep / (1 − p)), forward and
    backward. The mask itself is minigrad's (the bits differ from PyTorch's generator)."""
    mask = expected_mask(shape, p, 7, device)
    keep = torch.tensor(mask != 0)

    def ours(x):
        minigrad.manual_seed(7)
        return F.dropout(x, p)

    def theirs(x):      # PyTorch's own arithmetic: noise = bernoulli(1 − p); noise /= 1 − p
        return x * keep.to(x.dtype).div_(1 - p)

    check_against_torch(ours, theirs, [normal(*shape)], dtype=dtype, device=device)


def test_dropout_keeps_one_minus_p_and_preserves_the_mean(device):
    x = minigrad.ones(200_000, device=device)
    for p in (0.25, 0.5, 0.9):
        y = F.dropout(x, p).cpu().numpy()
        kept = (y != 0).mean()
        assert abs(kept - (1 - p)) < 5 * math.sqrt(p * (1 - p) / y.size), (p, kept)
        np.testing.assert_allclose(y[y != 0], 1 / (1 - p), rtol=1e-6)
        assert abs(y.mean() - 1) < 0.02


def test_dropout_repeats_with_the_seed_and_differs_call_to_call(device):
    x = minigrad.ones(1000, device=device)
    minigrad.manual_seed(3)
    a, b = F.dropout(x, 0.5).cpu().numpy(), F.dropout(x, 0.5).cpu().numpy()
    minigrad.manual_seed(3)
    a2, b2 = F.dropout(x, 0.5).cpu().numpy(), F.dropout(x, 0.5).cpu().numpy()
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)
    assert (a != b).any()
    minigrad.manual_seed(4)
    assert (F.dropout(x, 0.5).cpu().numpy() != a).any()


def test_dropout_identity_in_eval_and_at_p0_zeros_at_p1(device):
    x = minigrad.tensor(normal(3, 4), device=device, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    layer = nn.Dropout(0.5)
    layer.eval()
    assert layer(x) is x
    y = F.dropout(x, 1.0)
    assert (y.detach().cpu().numpy() == 0).all()
    y.sum().backward()
    assert (x.grad.cpu().numpy() == 0).all()


def test_dropout_in_place_writes_into_its_input(device):
    minigrad.manual_seed(1)
    x = minigrad.tensor(normal(5, 6), device=device)
    before = x.cpu().numpy().copy()
    y = F.dropout(x, 0.4, inplace=True)
    assert y is x and x._version == 1
    np.testing.assert_array_equal(x.cpu().numpy(), before * expected_mask((5, 6), 0.4, 1, device))


def test_dropout_gradcheck(device):
    def fn(x):              # the same mask at every call: reseeded each time
        minigrad.manual_seed(11)
        return F.dropout(x, 0.3)
    assert gradcheck_numpy(fn, [normal(3, 7)], device=device)


def test_dropout_errors_and_repr():
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        F.dropout(minigrad.zeros(3), 1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(-0.1)
    with pytest.raises(TypeError, match="floating-point"):
        F.dropout(minigrad.zeros(3, dtype="int64"), 0.5)
    assert repr(nn.Dropout(0.25)) == repr(torch.nn.Dropout(0.25))


# ---- nll_loss and cross_entropy's options --------------------------------------------------------
def class_data(b, k, ignore=()):
    """Log-probabilities (B, K), classes (B,) with some set to -100 (ignored), weights (K,)."""
    logits = normal(b, k) * 2
    target = rng.integers(0, k, b)
    target[list(ignore)] = -100
    return logits, target, rng.random(k) + 0.5


NLL_OPTIONS = [dict(), dict(weight=True), dict(reduction="sum"), dict(reduction="none"),
               dict(reduction="sum", weight=True), dict(reduction="none", weight=True)]


def weights_for(options, weight, dtype, device):
    """The class weights as a constant (no gradient: PyTorch refuses one) in each library,
    or None."""
    if not options.get("weight"):
        return None, None
    return (minigrad.tensor(weight.astype(dtype), device=device),
            torch.tensor(weight, dtype=torch.float64))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("options", NLL_OPTIONS, ids=str)
@pytest.mark.parametrize("b, k, ignore", [(64, 10, ()), (5, 7, (1, 3)), (1, 3, ())], ids=str)
def test_nll_loss(b, k, ignore, options, dtype, device):
    logits, target, weight = class_data(b, k, ignore)
    reduction = options.get("reduction", "mean")
    w, tw = weights_for(options, weight, dtype, device)
    check_against_torch(lambda z, t: F.nll_loss(F.log_softmax(z, 1), t, w, reduction=reduction),
                        lambda z, t: TF.nll_loss(TF.log_softmax(z, 1), t, tw,
                                                 reduction=reduction),
                        [logits, target], dtype=dtype, device=device)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("options", NLL_OPTIONS + [dict(ignore_index=2)], ids=str)
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 1.0])
def test_cross_entropy_weight_ignore_index_label_smoothing(smoothing, options, dtype, device):
    logits, target, weight = class_data(9, 5, ignore=(2, 6))
    if "ignore_index" in options:
        target[target == -100] = options["ignore_index"]
    kw = {k: v for k, v in options.items() if k != "weight"}
    w, tw = weights_for(options, weight, dtype, device)
    if device == "cuda" and not options.get("weight") and smoothing == 0 and not kw.get(
            "ignore_index"):
        # the fused kernel's one difference from PyTorch (documented): on the GPU a target
        # equal to the default ignore_index, -100, gives NaN there; the other rows are right
        z = minigrad.tensor(logits, device="cuda")
        out = F.cross_entropy(z, minigrad.tensor(target, device="cuda"), reduction="none")
        values = out.cpu().numpy()
        assert np.isnan(values[[2, 6]]).all() and np.isfinite(np.delete(values, [2, 6])).all()
        return
    check_against_torch(lambda z, t: F.cross_entropy(z, t, w, label_smoothing=smoothing, **kw),
                        lambda z, t: TF.cross_entropy(z, t, tw, label_smoothing=smoothing,
                                                      **kw),
                        [logits, target], dtype=dtype, device=device)


def test_all_targets_ignored_gives_nan_mean_as_torch():
    logits, target, _ = class_data(3, 4, ignore=(0, 1, 2))
    ours = F.nll_loss(F.log_softmax(minigrad.tensor(logits), 1), minigrad.tensor(target))
    theirs = TF.nll_loss(TF.log_softmax(torch.tensor(logits), 1), torch.tensor(target))
    assert math.isnan(ours.item()) and math.isnan(theirs.item())


NLL_GRADCHECK = {
    "nll_mean_weight_ignore": lambda z, t, w: F.nll_loss(z, t, w),
    "nll_sum": lambda z, t, w: F.nll_loss(z, t, reduction="sum"),
    "nll_none_weight": lambda z, t, w: F.nll_loss(z, t, w, reduction="none"),
    "xent_smooth_weight": lambda z, t, w: F.cross_entropy(z, t, w, label_smoothing=0.2),
    "xent_smooth_none": lambda z, t, w: F.cross_entropy(z, t, label_smoothing=0.3,
                                                       reduction="none"),
}


@pytest.mark.parametrize("name", sorted(NLL_GRADCHECK))
def test_nll_and_smoothing_gradcheck(name, device):
    logits, target, weight = class_data(5, 3, ignore=(1,))
    fn = NLL_GRADCHECK[name]
    inputs = [minigrad.tensor(logits, device=device, requires_grad=True),
              minigrad.tensor(target, device=device), minigrad.tensor(weight, device=device)]
    assert minigrad.autograd.gradcheck(fn, inputs)


def test_nll_loss_errors_name_the_problem():
    z = minigrad.zeros(3, 4)
    with pytest.raises(IndexError, match="nll_loss: target class 7 is out of range"):
        F.nll_loss(z, minigrad.tensor([0, 7, 1]))
    with pytest.raises(ValueError, match=r"weight has shape \(3,\).*\(4,\)"):
        F.nll_loss(z, minigrad.tensor([0, 1, 1]), minigrad.ones(3))
    with pytest.raises(ValueError, match="reduction"):
        F.nll_loss(z, minigrad.tensor([0, 1, 1]), reduction="avg")
    with pytest.raises(TypeError, match="int64 class indices"):
        F.nll_loss(z, minigrad.tensor([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(2,\)"):
        F.nll_loss(z, minigrad.tensor([0, 1]))
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(z, minigrad.tensor([0, 1, 1]), label_smoothing=1.5)


def test_loss_modules_match_torch():
    logits, target, weight = class_data(6, 4, ignore=(2,))
    z, t = minigrad.tensor(logits, requires_grad=True), minigrad.tensor(target)
    tz, tt = torch.tensor(logits, requires_grad=True), torch.tensor(target)
    pairs = [(nn.NLLLoss(minigrad.tensor(weight)), torch.nn.NLLLoss(torch.tensor(weight)),
              True),
             (nn.CrossEntropyLoss(label_smoothing=0.1, reduction="sum"),
              torch.nn.CrossEntropyLoss(label_smoothing=0.1, reduction="sum"), False),
             (nn.CrossEntropyLoss(minigrad.tensor(weight), ignore_index=-100),
              torch.nn.CrossEntropyLoss(torch.tensor(weight), ignore_index=-100), False)]
    for ours, theirs, log_first in pairs:
        a = ours(nn.LogSoftmax(dim=1)(z) if log_first else z, t)
        b = theirs(torch.nn.LogSoftmax(dim=1)(tz) if log_first else tz, tt)
        assert rel_err(a.item(), b.item()) <= 1e-12, ours
    assert repr(nn.LogSoftmax(dim=1)) == repr(torch.nn.LogSoftmax(dim=1))
    assert repr(nn.NLLLoss()) == repr(torch.nn.NLLLoss())


# ---- flatten, view_as -------------------------------------------------------------------------
@pytest.mark.parametrize("start, end", [(0, -1), (1, -1), (1, 2), (-2, -1)])
def test_torch_flatten(start, end, device):
    check_against_torch(lambda x: minigrad.flatten(x, start, end),
                        lambda x: torch.flatten(x, start, end), [normal(2, 3, 4, 5)],
                        device=device)


def test_view_as_and_eq_as_the_mnist_example_uses_them(device):
    pred = minigrad.tensor([[3], [1], [4]], device=device)
    target = minigrad.tensor([3, 2, 4], device=device)
    assert pred.eq(target.view_as(pred)).sum().item() == 2
    check_against_torch(lambda x: x.view_as(minigrad.zeros(2, 3)) * 2,
                        lambda x: x.view_as(torch.zeros(2, 3)) * 2, [normal(6)], device=device)


# ---- initialisation -----------------------------------------------------------------------------
NONLINEARITIES = ["linear", "conv2d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


def test_calculate_gain_is_torchs():
    for name in NONLINEARITIES:
        assert nn.init.calculate_gain(name) == torch.nn.init.calculate_gain(name), name
    assert nn.init.calculate_gain("leaky_relu", 0.2) == \
        torch.nn.init.calculate_gain("leaky_relu", 0.2)
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        nn.init.calculate_gain("swish")


def sample_std(fill, shape=(400, 300, 3)):
    """Fill a large tensor with ``fill`` in minigrad and in PyTorch; their std, and the
    largest |value| of each."""
    ours = minigrad.zeros(*shape)
    theirs = torch.zeros(*shape)
    fill(nn.init, ours)
    fill(torch.nn.init, theirs)
    a, b = ours.numpy(), theirs.numpy()
    return a.std(), b.std(), np.abs(a).max(), np.abs(b).max(), a.mean()


@pytest.mark.parametrize("name, fill, uniform", [
    ("xavier_uniform_", lambda init, t: init.xavier_uniform_(t), True),
    ("xavier_uniform_ gain 2", lambda init, t: init.xavier_uniform_(t, gain=2.0), True),
    ("xavier_normal_", lambda init, t: init.xavier_normal_(t), False),
    ("kaiming_normal_", lambda init, t: init.kaiming_normal_(t), False),
    ("kaiming_normal_ fan_out relu",
     lambda init, t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), False),
    ("kaiming_uniform_ a=√5", lambda init, t: init.kaiming_uniform_(t, a=math.sqrt(5)), True),
    ("kaiming_uniform_ fan_out",
     lambda init, t: init.kaiming_uniform_(t, mode="fan_out"), True),
])
def test_random_initialisers_draw_torchs_distribution(name, fill, uniform):
    """Same shape, same distribution (the numbers come from different generators): the std
    within 1% (120,000 samples give ~0.3%), the mean near 0, and for the uniform ones the
    same bound (the largest value within 0.1% of PyTorch's largest)."""
    ours_std, torch_std, ours_max, torch_max, mean = sample_std(fill)
    assert abs(ours_std / torch_std - 1) < 0.01, name
    assert abs(mean) < 0.02 * ours_std
    if uniform:
        assert abs(ours_max / torch_max - 1) < 1e-3, name


def test_constant_initialisers_through_module_apply():
    """d2l's pattern: ``net.apply(init_fn)`` reaching every layer."""
    net = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Sequential(nn.Conv2d(1, 2, 3)))

    def init(m):
        if type(m) in (nn.Linear, nn.Conv2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        if type(m) is nn.Conv2d:
            nn.init.constant_(m.weight, 0.5)
    assert net.apply(init) is net
    assert (net[0].weight.detach().numpy() == 1).all() and (net[0].bias.detach().numpy() == 0).all()
    assert (net[2][0].weight.detach().numpy() == 0.5).all()
    assert (net[2][0].bias.detach().numpy() == 0).all()


def test_init_errors():
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        nn.init.kaiming_normal_(minigrad.zeros(3, 4), mode="fan_avg")
    with pytest.raises(ValueError, match="at least 2 dims"):
        nn.init.xavier_normal_(minigrad.zeros(3))


def test_loss_weights_move_and_cast_with_the_loss(device):
    """PyTorch keeps a loss's class weights as a buffer, so .to() moves them: the same here."""
    for cls in (minigrad.nn.CrossEntropyLoss, minigrad.nn.NLLLoss):
        loss_fn = cls(weight=minigrad.tensor([1.0, 2.0, 0.5])).to(device).double()
        assert loss_fn.weight.device.type == device and loss_fn.weight.dtype == minigrad.float64
        scores = minigrad.tensor(np.log(np.full((4, 3), 1 / 3)), device=device)
        target = minigrad.tensor(np.array([0, 1, 2, 1]), device=device)
        assert abs(loss_fn(scores, target).item() - np.log(3)) < 1e-12
