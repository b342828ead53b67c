"""The CNN layers (minigrad.nn.functional) against PyTorch, forward and every input's
gradient, on LeNet's shapes and odder ones; and by finite differences."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad
import minigrad.nn.functional as F
from helpers import check_against_torch, gradcheck_numpy

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
