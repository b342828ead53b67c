"""The layers (minigrad.nn.functional) against PyTorch, forward and every input's gradient,
in float64 and float32, on the CPU and (the ``device`` fixture's cuda case) on the GPU or its
emulator, on LeNet's shapes and odder ones; and by finite differences. Conv, max-pool,
linear, sigmoid, relu, (log-)softmax and cross-entropy; average pooling, dropout, nll_loss
and cross_entropy's weight / ignore_index / label_smoothing; and the edge cases: an empty
batch, a NaN in a pooling window, infinite gradients."""
import functools
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


def tie_free(*shape):
    """Distinct values: max-pool's gradient goes to one element per window, so no ties."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 10.0 - 3.0


# (x shape, weight shape, stride, padding, bias?)
CONV_CASES = [
    ((2, 1, 28, 28), (6, 1, 5, 5), 1, 0, True),       # LeNet conv1
    ((2, 6, 12, 12), (16, 6, 5, 5), 1, 0, True),      # LeNet conv2
    ((1, 3, 7, 9), (4, 3, 3, 3), 1, 1, True),         # batch 1, RGB, non-square, padding 1
    ((2, 3, 9, 8), (2, 3, 3, 3), 2, 1, False),        # stride 2, no bias
    ((2, 2, 10, 7), (3, 2, 5, 5), 2, 2, True),        # kernel 5, stride 2, padding 2
    ((1, 1, 6, 6), (2, 1, 3, 5), 1, 0, True),         # rectangular kernel
]
POOL_CASES = [
    ((2, 6, 24, 24), 2, 2, 0),                         # LeNet pool1
    ((1, 3, 7, 9), 3, 2, 0),                           # overlapping windows, floor size
    ((2, 2, 10, 11), 3, 3, 1),                         # window 3, stride 3, padding 1
    ((1, 2, 5, 8), 2, 3, 1),                           # stride larger than the window
]


def conv_arrays(xs, ws, bias):
    arrays = [normal(*xs), normal(*ws) * 0.3]
    return arrays + ([normal(ws[0])] if bias else [])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv2d(case, dtype, device):
    xs, ws, stride, pad, bias = case
    check_against_torch(lambda x, w, *b: F.conv2d(x, w, *b, stride=stride, padding=pad),
                        lambda x, w, *b: TF.conv2d(x, w, *b, stride=stride, padding=pad),
                        conv_arrays(xs, ws, bias), dtype=dtype, device=device)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_max_pool2d(case, dtype, device):
    xs, k, s, p = case
    check_against_torch(lambda x: F.max_pool2d(x, k, s, p), lambda x: TF.max_pool2d(x, k, s, p),
                        [tie_free(*xs)], dtype=dtype, device=device)


def test_max_pool2d_default_stride_is_the_kernel():
    x = tie_free(1, 1, 7, 7)
    ours = F.max_pool2d(minigrad.tensor(x), 2)
    assert ours.shape == (1, 1, 3, 3)
    np.testing.assert_array_equal(ours.numpy(), TF.max_pool2d(torch.tensor(x), 2).numpy())


LINEAR_CASES = [((256, 256), (120, 256), True), ((1, 84), (10, 84), True), ((3, 5), (4, 5), False)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", LINEAR_CASES, ids=str)
def test_linear(case, dtype, device):
    xs, ws, bias = case
    arrays = [normal(*xs), normal(*ws) * 0.1] + ([normal(ws[0])] if bias else [])
    check_against_torch(F.linear, TF.linear, arrays, dtype=dtype, device=device)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(2, 6, 24, 24), (7,), (3, 5)])
def test_sigmoid_and_relu(shape, dtype, device):
    check_against_torch(F.sigmoid, torch.sigmoid, [normal(*shape) * 3], dtype=dtype, device=device)
    check_against_torch(F.relu, torch.relu, [normal(*shape)], dtype=dtype, device=device)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sigmoid_extremes_are_finite_and_exact(dtype, device):
    x = np.array([-1000.0, -745.0, -100.0, -30.0, -1e-8, 0.0, 1e-8, 30.0, 100.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):   # no overflow warning
        errors = check_against_torch(F.sigmoid, torch.sigmoid, [x], dtype=dtype, device=device)
    y = F.sigmoid(minigrad.tensor(x.astype(dtype), device=device)).cpu().numpy()
    assert np.isfinite(y).all() and y[0] == 0.0 and y[-1] == 1.0
    # elementwise too, not only normwise: the tiny values must be right, not just small
    # (up to the subnormal range, where the dtype itself has no relative precision left)
    ref = torch.sigmoid(torch.tensor(x)).numpy()
    np.testing.assert_allclose(y, ref, rtol=1e-6 if dtype == "float32" else 1e-14,
                               atol=np.finfo(dtype).tiny)
    assert errors["out"] <= 1e-10 or dtype == "float32"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(256, 10), (1, 3), (5, 7)])
def test_cross_entropy(shape, reduction, dtype, device):
    logits = normal(*shape) * 2
    target = rng.integers(0, shape[1], shape[0])
    check_against_torch(lambda z, t: F.cross_entropy(z, t, reduction=reduction),
                        lambda z, t: TF.cross_entropy(z, t, reduction=reduction),
                        [logits, target], dtype=dtype, device=device)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cross_entropy_with_huge_logits_is_finite_and_exact(dtype, device):
    logits = np.array([[500.0, -500.0, 0.0], [-500.0, 500.0, 499.0], [0.0, 0.0, -500.0]])
    target = np.array([1, 2, 0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        check_against_torch(lambda z, t: F.cross_entropy(z, t, reduction="none"),
                            lambda z, t: TF.cross_entropy(z, t, reduction="none"),
                            [logits, target], dtype=dtype, device=device)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_log_softmax(dtype, device):
    check_against_torch(lambda z: F.log_softmax(z, dim=1), lambda z: TF.log_softmax(z, dim=1),
                        [normal(4, 6) * 3], dtype=dtype, device=device)


def test_flatten_matches_torch():
    x = normal(2, 3, 4, 5)
    assert F.flatten(minigrad.tensor(x)).shape == torch.flatten(torch.tensor(x), 1).shape


GRADCHECK = {
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
               conv_arrays((1, 2, 6, 5), (3, 2, 3, 3), True)),
    "conv2d_lenet_like": (lambda x, w, b: F.conv2d(x, w, b),
                          conv_arrays((2, 1, 8, 8), (2, 1, 5, 5), True)),
    "max_pool2d": (lambda x: F.max_pool2d(x, 3, 2, 1), [tie_free(1, 2, 7, 6)]),
    "max_pool2d_2x2": (lambda x: F.max_pool2d(x, 2), [tie_free(2, 2, 6, 6)]),
    "sigmoid": (F.sigmoid, [normal(3, 4) * 3]),
    "relu": (F.relu, [normal(3, 4)]),
    "linear": (F.linear, [normal(3, 5), normal(4, 5), normal(4)]),
    "cross_entropy_mean": (lambda z, t: F.cross_entropy(z, t),
                           [normal(4, 5), rng.integers(0, 5, 4)]),
    "cross_entropy_none": (lambda z, t: F.cross_entropy(z, t, reduction="none"),
                           [normal(4, 5), rng.integers(0, 5, 4)]),
    "log_softmax": (lambda z: F.log_softmax(z, -1), [normal(3, 5)]),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck(name, device):
    fn, arrays = GRADCHECK[name]
    assert gradcheck_numpy(fn, arrays, device=device)


# ---- bad input -------------------------------------------------------------------------
def test_conv2d_errors_name_the_problem():
    x, w = minigrad.zeros(2, 3, 8, 8), minigrad.zeros(4, 2, 3, 3)
    with pytest.raises(ValueError, match="3 channels.*expects 2"):
        F.conv2d(x, w)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        F.conv2d(minigrad.zeros(8, 8), w)
    with pytest.raises(ValueError, match="bias has shape"):
        F.conv2d(x, minigrad.zeros(4, 3, 3, 3), minigrad.zeros(3))
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.conv2d(minigrad.zeros(1, 3, 2, 2), minigrad.zeros(4, 3, 3, 3))
    with pytest.raises(TypeError, match="floating-point"):
        F.conv2d(minigrad.zeros(2, 3, 8, 8, dtype="int64"), minigrad.zeros(4, 3, 3, 3))
    with pytest.raises(TypeError, match="different dtypes"):
        F.conv2d(x.double(), minigrad.zeros(4, 3, 3, 3))


def test_conv2d_takes_the_default_dilation_and_groups_spelled_out_like_torch():
    """nn.Conv2d(..., dilation=1, groups=1, padding_mode="zeros") as PyTorch code writes it
    (an unexpected-keyword TypeError before); other values are refused by name."""
    x = np.random.default_rng(5).standard_normal((1, 2, 5, 5))
    mg_conv = minigrad.nn.Conv2d(2, 3, 3, padding=1, dilation=1, groups=1, padding_mode="zeros")
    ref_conv = torch.nn.Conv2d(2, 3, 3, padding=1, dilation=1, groups=1, padding_mode="zeros")
    ours = F.conv2d(minigrad.tensor(x), mg_conv.weight.detach().double(), None, 1, 1,
                    dilation=1, groups=1)
    weight = torch.tensor(mg_conv.weight.detach().numpy()).double()
    ref = TF.conv2d(torch.tensor(x), weight, None, 1, 1, dilation=1, groups=1)
    assert rel_err(ours.numpy(), ref.numpy()) < 1e-10
    assert mg_conv.weight.shape == tuple(ref_conv.weight.shape)
    for kw in (dict(groups=2), dict(dilation=2), dict(padding_mode="reflect")):
        with pytest.raises(NotImplementedError, match="dilation=1, groups=1"):
            minigrad.nn.Conv2d(2, 2, 3, **kw)
    with pytest.raises(NotImplementedError, match="groups"):
        F.conv2d(minigrad.zeros(1, 2, 5, 5), minigrad.zeros(2, 1, 3, 3), groups=2)


def test_linear_and_pool_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"\(3, 5\).*\(4, 6\)"):
        F.linear(minigrad.zeros(3, 5), minigrad.zeros(4, 6))
    with pytest.raises(ValueError, match="larger than the input"):
        F.max_pool2d(minigrad.zeros(1, 1, 2, 2), 3)


def test_cross_entropy_errors_name_the_problem():
    z = minigrad.zeros(3, 4)
    with pytest.raises(IndexError, match="class 4 is out of range for 4 classes"):
        F.cross_entropy(z, minigrad.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match="class -1"):
        F.cross_entropy(z, minigrad.tensor([0, -1, 1]))
    with pytest.raises(TypeError, match="int64 class indices.*float32"):
        F.cross_entropy(z, minigrad.tensor([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(2,\)"):
        F.cross_entropy(z, minigrad.tensor([0, 1]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(z, minigrad.tensor([0, 1, 2]), reduction="avg")


# ---- any leading dims, unbatched images, relu at NaN --------------------------------------------
@pytest.mark.parametrize("shape", [(7,), (2, 3, 7), (2, 1, 4, 7), (0, 7)])
def test_linear_on_any_leading_dims_like_torch(shape):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape), rng.standard_normal((5, 7)), rng.standard_normal(5)]
    check_against_torch(nn.functional.linear, torch.nn.functional.linear, arrays)


@pytest.mark.parametrize("layer", ["conv", "conv_pad_stride", "pool"])
def test_conv_and_pool_on_an_unbatched_image_like_torch(layer):
    rng = np.random.default_rng(1)
    x = rng.permutation(3 * 8 * 9).reshape(3, 8, 9) / 10.0       # tie-free for the pool
    if layer == "pool":
        check_against_torch(lambda a: nn.functional.max_pool2d(a, 2),
                            lambda a: torch.nn.functional.max_pool2d(a, 2), [x])
        assert nn.MaxPool2d(2)(minigrad.tensor(x)).shape == (3, 4, 4)
        return
    kw = dict(stride=2, padding=1) if layer == "conv_pad_stride" else {}
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    check_against_torch(lambda a, w, b: nn.functional.conv2d(a, w, b, **kw),
                        lambda a, w, b: torch.nn.functional.conv2d(a, w, b, **kw), [x, w, b])


def test_relu_gradient_at_nan_and_under_a_nan_upstream_like_torch():
    x = np.array([math.nan, -1.0, 0.0, 2.0])
    up = np.array([1.0, math.nan, math.nan, 5.0])
    t, r = minigrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    nn.functional.relu(t).backward(minigrad.tensor(up))
    torch.relu(r).backward(torch.tensor(up))
    np.testing.assert_array_equal(t.grad.numpy(), r.grad.numpy())


# ---- average pooling ----------------------------------------------------------------------------
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


# ---- dropout ------------------------------------------------------------------------------------
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


# ---- nll_loss and cross_entropy's options -------------------------------------------------------
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
    check_against_torch(lambda z, t: F.cross_entropy(z, t, w, label_smoothing=smoothing, **kw),
                        lambda z, t: TF.cross_entropy(z, t, tw, label_smoothing=smoothing,
                                                      **kw),
                        [logits, target], dtype=dtype, device=device)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(2, 4, 3), (2, 4, 3, 2)], ids=str)
@pytest.mark.parametrize("options", [{}, dict(label_smoothing=0.1), dict(ignore_index=1),
                                     dict(weighted=True)], ids=str)
def test_cross_entropy_and_nll_with_a_class_at_each_position(options, shape, reduction, dtype,
                                                             device):
    """Scores (N, K, d1, ...) and classes (N, d1, ...), PyTorch's form for sequences and
    pixels (a ValueError before)."""
    g = np.random.default_rng(8)
    logits = g.standard_normal(shape)
    target = g.integers(0, shape[1], shape[:1] + shape[2:])
    kw = {k: v for k, v in options.items() if k != "weighted"}
    w = tw = None
    if "weighted" in options:
        weight = g.uniform(0.5, 2.0, shape[1])
        w = minigrad.tensor(weight.astype(dtype), device=device)
        tw = torch.tensor(weight)
    for ours, ref in ((F.cross_entropy, TF.cross_entropy), (F.nll_loss, TF.nll_loss)):
        if ours is F.nll_loss and "label_smoothing" in kw:
            continue
        check_against_torch(functools.partial(ours, weight=w, reduction=reduction, **kw),
                            functools.partial(ref, weight=tw, reduction=reduction, **kw),
                            [logits, target], dtype=dtype, device=device)
    with pytest.raises(ValueError, match=r"\(N, d1, ...\)"):
        F.cross_entropy(minigrad.zeros(*shape), minigrad.zeros(2, 5, dtype="int64"))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore", [(2, 6), (0,), tuple(range(9))], ids=str)
def test_fused_cross_entropy_ignores_the_default_index(ignore, reduction, dtype, device):
    """Without weight and smoothing the fused path (one kernel on the GPU) leaves out the
    targets of -100 as PyTorch does: loss 0 and no gradient there, the mean over the rest;
    with every target ignored the mean is NaN and the gradient 0, as PyTorch's."""
    logits, target, _ = class_data(9, 5, ignore=ignore)
    z = minigrad.tensor(logits.astype(dtype), device=device, requires_grad=True)
    t = minigrad.tensor(target, device=device)
    out = F.cross_entropy(z, t, reduction=reduction)
    zt = torch.tensor(logits, requires_grad=True)
    ref = TF.cross_entropy(zt, torch.tensor(target), reduction=reduction)
    g = rng.random(9) if reduction == "none" else np.array(1.5)
    out.backward(minigrad.tensor(g.astype(dtype), device=device))
    ref.backward(torch.tensor(g))
    tol = 1e-10 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(out.detach().cpu().numpy(), ref.detach().numpy(), rtol=tol,
                               atol=tol, equal_nan=True)
    np.testing.assert_allclose(z.grad.cpu().numpy(), zt.grad.numpy(), rtol=tol, atol=tol)
    assert np.isnan(ref.detach().numpy()).any() == (len(ignore) == 9 and reduction == "mean")
    if reduction == "none":
        assert (out.detach().cpu().numpy()[list(ignore)] == 0).all()


def test_fused_cross_entropy_stats_count_only_the_kept_rows(device):
    logits, target, _ = class_data(9, 5, ignore=(2, 6))
    stats = minigrad.zeros(4, dtype="float64", device=device)
    loss = F.cross_entropy(minigrad.tensor(logits, device=device),
                           minigrad.tensor(target, device=device), stats=stats)
    kept = target != -100
    correct = int(((logits.argmax(1) == target) & kept).sum())
    np.testing.assert_allclose(stats.cpu().numpy(), [loss.item(), correct, 7, 1], rtol=1e-12)


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


# Edge cases. Both backends follow PyTorch here: an empty batch gives empty results and zero
# gradients through every layer, and a NaN in a pooling window wins it (the last NaN in
# row-major order when there are several), forward and backward.
# ---- an empty batch (N = 0) through every layer -------------------------------------------------
def compare(fn, torch_fn, arrays, device, ints=()):
    """Forward and every float input's gradient, minigrad on ``device`` vs PyTorch (float64)."""
    ours = [minigrad.tensor(a, device=device, requires_grad=i not in ints)
            for i, a in enumerate(arrays)]
    refs = [torch.tensor(a, requires_grad=i not in ints) for i, a in enumerate(arrays)]
    out, ref = fn(*ours), torch_fn(*refs)
    assert out.shape == tuple(ref.shape)
    np.testing.assert_array_equal(np.isnan(out.detach().cpu().numpy()),
                                  np.isnan(ref.detach().numpy()))
    assert rel_err(np.nan_to_num(out.detach().cpu().numpy()),
                   np.nan_to_num(ref.detach().numpy())) <= 1e-10
    upstream = np.random.default_rng(0).standard_normal(tuple(ref.shape))
    out.backward(minigrad.tensor(upstream, device=device))
    ref.backward(torch.tensor(upstream))
    for i, (o, r) in enumerate(zip(ours, refs)):
        if i in ints:
            continue
        assert o.grad is not None and o.grad.shape == o.shape, i
        np.testing.assert_allclose(o.grad.cpu().numpy(), r.grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=f"input {i}")


def fixed_normal(*shape):
    """Normal values from one seed, the same at every call."""
    return np.random.default_rng(1).standard_normal(shape)


def empty_target():
    return np.zeros(0, dtype=np.int64)


N0_CASES = {
    "max_pool2d": (lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2),
                   [fixed_normal(0, 6, 24, 24)], ()),
    "sigmoid": (F.sigmoid, torch.sigmoid, [fixed_normal(0, 6, 24, 24)], ()),
    "relu": (F.relu, torch.relu, [fixed_normal(0, 84)], ()),
    "flatten": (F.flatten, lambda x: torch.flatten(x, 1), [fixed_normal(0, 16, 4, 4)], ()),
    "linear": (F.linear, TF.linear,
               [fixed_normal(0, 256), fixed_normal(120, 256), fixed_normal(120)], ()),
    "log_softmax": (lambda z: F.log_softmax(z, 1), lambda z: TF.log_softmax(z, 1),
                    [fixed_normal(0, 10)], ()),
    "cross_entropy_sum": (lambda z, t: F.cross_entropy(z, t, reduction="sum"),
                          lambda z, t: TF.cross_entropy(z, t, reduction="sum"),
                          [fixed_normal(0, 10), empty_target()], (1,)),
    "cross_entropy_none": (lambda z, t: F.cross_entropy(z, t, reduction="none"),
                           lambda z, t: TF.cross_entropy(z, t, reduction="none"),
                           [fixed_normal(0, 10), empty_target()], (1,)),
    "cross_entropy_mean": (lambda z, t: F.cross_entropy(z, t),        # the mean of nothing: NaN
                           lambda z, t: TF.cross_entropy(z, t),
                           [fixed_normal(0, 10), empty_target()], (1,)),
}


N0_BACKEND = {
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b), lambda x, w, b: TF.conv2d(x, w, b),
               [fixed_normal(0, 1, 28, 28), fixed_normal(6, 1, 5, 5), fixed_normal(6)], ()),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")     # NumPy's "mean of empty slice"
@pytest.mark.parametrize("name", sorted(N0_CASES))
def test_empty_batch(name, device):
    fn, torch_fn, arrays, ints = N0_CASES[name]
    compare(fn, torch_fn, arrays, device, ints)


@pytest.mark.parametrize("name", sorted(N0_BACKEND))
def test_empty_batch_through_the_backend(name, device):
    fn, torch_fn, arrays, ints = N0_BACKEND[name]
    compare(fn, torch_fn, arrays, device, ints)


# ---- max-pool over a window holding NaN ---------------------------------------------------------
NAN_WINDOWS = {
    "nan_not_first": [[1.0, math.nan], [3.0, 4.0]],
    "nan_first": [[math.nan, 5.0], [3.0, 4.0]],
    "two_nans": [[1.0, math.nan], [math.nan, 4.0]],
}


@pytest.mark.parametrize("name", sorted(NAN_WINDOWS))
def test_max_pool_forward_with_nan_is_nan(name, device):
    x = np.array(NAN_WINDOWS[name])[None, None]
    out = F.max_pool2d(minigrad.tensor(x, device=device), 2).cpu().numpy()
    assert np.isnan(out).all() and np.isnan(TF.max_pool2d(torch.tensor(x), 2).numpy()).all()


@pytest.mark.parametrize("name", sorted(NAN_WINDOWS))
def test_max_pool_gradient_goes_to_the_nan(name, device):
    """PyTorch takes the NaN as the window's max, so the gradient goes there."""
    x = np.array(NAN_WINDOWS[name])[None, None]
    ref = torch.tensor(x, requires_grad=True)
    TF.max_pool2d(ref, 2).sum().backward()
    ours = minigrad.tensor(x, device=device, requires_grad=True)
    F.max_pool2d(ours, 2).sum().backward()
    np.testing.assert_array_equal(ours.grad.cpu().numpy(), ref.grad.numpy())


# ---- infinite and NaN gradients go only where PyTorch sends them --------------------------------
def test_max_pool_backward_sends_an_infinite_gradient_to_the_max_alone(device):
    """0 · ∞ is NaN: routing by multiplying with a mask would spread NaN over a window."""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    g = np.array([[[[math.inf, 1.0], [math.nan, -math.inf]]]])
    ours = minigrad.tensor(x, device=device, requires_grad=True)
    F.max_pool2d(ours, 2).backward(minigrad.tensor(g, device=device))
    ref = torch.tensor(x, requires_grad=True)
    TF.max_pool2d(ref, 2).backward(torch.tensor(g))
    np.testing.assert_array_equal(ours.grad.cpu().numpy(), ref.grad.numpy())


def test_nll_loss_of_an_ignored_row_is_zero_even_at_minus_infinity(device):
    """An ignored row's term is 0, not 0 · (−∞) = NaN, forward and backward."""
    logp = np.array([[-math.inf, 0.0], [-0.5, -1.0]])
    target = np.array([-100, 1])
    for reduction in ("mean", "sum", "none"):
        ours = minigrad.tensor(logp, device=device, requires_grad=True)
        loss = F.nll_loss(ours, minigrad.tensor(target, device=device), reduction=reduction)
        ref = torch.tensor(logp, requires_grad=True)
        ref_loss = TF.nll_loss(ref, torch.tensor(target), reduction=reduction)
        np.testing.assert_array_equal(loss.detach().cpu().numpy(), ref_loss.detach().numpy())
        loss.sum().backward()
        ref_loss.sum().backward()
        np.testing.assert_array_equal(ours.grad.cpu().numpy(), ref.grad.numpy())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("amounts, value", [((1, 2), None), ((1, 1, 2, 0), -1.0),
                                            ((0, 0, 0, 0, 1, 1), 2.0), ((-1, 2), None),
                                            ((1, -2, -1, 0), 0.5)], ids=str)
def test_pad_in_constant_mode_like_torch(amounts, value, dtype, device):
    """F.pad(x, (left, right, top, bottom), value=...): amounts from the last dim backwards,
    negative ones crop; the gradient reaches the input."""
    x = np.random.default_rng(9).standard_normal((2, 3, 4))
    kw = {} if value is None else {"value": value}
    check_against_torch(lambda t: F.pad(t, amounts, **kw), lambda t: TF.pad(t, amounts, **kw),
                        [x], dtype=dtype, device=device)
    if dtype == "float64":
        assert gradcheck_numpy(lambda t: F.pad(t, amounts, **kw), [x], device=device)


def test_pad_errors_name_the_problem():
    x = minigrad.zeros(2, 3)
    with pytest.raises(ValueError, match="even number"):
        F.pad(x, (1,))
    with pytest.raises(ValueError, match="at most 2 per dim"):
        F.pad(x, (1, 1, 1, 1, 1, 1))
    with pytest.raises(NotImplementedError, match="constant"):
        F.pad(x, (1, 1), mode="reflect")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3)], ids=str)
@pytest.mark.parametrize("options", [{}, dict(label_smoothing=0.2), dict(weighted=True)],
                         ids=str)
def test_cross_entropy_with_class_probabilities_like_torch(options, shape, reduction, dtype,
                                                           device):
    """Soft targets (mixup, distillation): a float target of the input's shape (a TypeError
    before); gradients reach both the logits and the probabilities."""
    g = np.random.default_rng(11)
    logits = g.standard_normal(shape)
    probs = g.uniform(0.1, 1.0, shape)
    probs /= probs.sum(1, keepdims=True)
    kw = {k: v for k, v in options.items() if k != "weighted"}
    w = tw = None
    if "weighted" in options:
        weight = g.uniform(0.5, 2.0, shape[1])
        w, tw = minigrad.tensor(weight.astype(dtype), device=device), torch.tensor(weight)
    check_against_torch(functools.partial(F.cross_entropy, weight=w, reduction=reduction, **kw),
                        functools.partial(TF.cross_entropy, weight=tw, reduction=reduction,
                                          **kw),
                        [logits, probs], dtype=dtype, device=device)


def test_cross_entropy_with_class_probabilities_refuses_ignore_index_like_torch():
    z, q = np.zeros((2, 3)), np.full((2, 3), 1 / 3)
    with pytest.raises((ValueError, RuntimeError), match="ignore_index"):
        TF.cross_entropy(torch.tensor(z), torch.tensor(q), ignore_index=1)
    with pytest.raises(ValueError, match="ignore_index is not supported"):
        F.cross_entropy(minigrad.tensor(z), minigrad.tensor(q), ignore_index=1)
