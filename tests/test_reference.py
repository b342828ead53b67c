"""The third oracle: minigrad's layers (the NumPy backend, through the ops) against the
plain-loop textbook versions in minigrad/backend/reference.py, and those against PyTorch.
Small shapes: the loops are pure Python. float64 throughout, so agreement is to rounding."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad
import minigrad.nn.functional as F
from helpers import rel_err
from minigrad.backend import cpu
from minigrad.backend import reference as R

TOL = 1e-12
rng = np.random.default_rng(0)


def leaf(a):
    return minigrad.tensor(a, dtype="float64", requires_grad=True)


@pytest.mark.parametrize("shape, oc, k, stride, pad", [((2, 3, 6, 5), 4, 3, 1, 0),
                                                       ((1, 2, 7, 7), 3, 3, 2, 1),
                                                       ((2, 1, 5, 6), 2, 2, 1, 2)])
def test_conv2d_numpy_matches_loops(shape, oc, k, stride, pad):
    x, w = rng.standard_normal(shape), rng.standard_normal((oc, shape[1], k, k))
    b = rng.standard_normal(oc)
    y_ref = R.conv2d_forward(x, w, b, stride, pad)
    g = rng.standard_normal(y_ref.shape)
    dx_ref, dw_ref, db_ref = R.conv2d_backward(g, x, w, stride, pad)

    xt, wt, bt = leaf(x), leaf(w), leaf(b)
    y = F.conv2d(xt, wt, bt, stride, pad)
    y.backward(minigrad.tensor(g))
    assert rel_err(y.detach().numpy(), y_ref) <= TOL
    for ours, ref in ((xt.grad, dx_ref), (wt.grad, dw_ref), (bt.grad, db_ref)):
        assert rel_err(ours.numpy(), ref) <= TOL
    # and the loops agree with PyTorch
    yt = TF.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride, pad)
    assert rel_err(yt.numpy(), y_ref) <= TOL


@pytest.mark.parametrize("shape, k, stride, pad", [((2, 2, 6, 6), 2, 2, 0),
                                                   ((1, 3, 7, 5), 3, 2, 1)])
def test_maxpool_numpy_matches_loops(shape, k, stride, pad):
    x = rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0      # tie-free
    y_ref, where = R.maxpool2d_forward(x, k, stride, pad)
    g = rng.standard_normal(y_ref.shape)
    dx_ref = R.maxpool2d_backward(g, where, x.shape)
    xt = leaf(x)
    y = F.max_pool2d(xt, k, stride, pad)
    y.backward(minigrad.tensor(g))
    assert rel_err(y.detach().numpy(), y_ref) <= TOL
    assert rel_err(xt.grad.numpy(), dx_ref) <= TOL
    yt = TF.max_pool2d(torch.tensor(x), k, stride, pad)
    assert rel_err(yt.numpy(), y_ref) <= TOL


def test_sigmoid_and_linear_numpy_match_loops():
    x = rng.standard_normal((3, 4)) * 4
    y_ref = R.sigmoid_forward(x)
    g = rng.standard_normal(x.shape)
    xt = leaf(x)
    y = F.sigmoid(xt)
    y.backward(minigrad.tensor(g))
    assert rel_err(y.detach().numpy(), y_ref) <= TOL
    assert rel_err(xt.grad.numpy(), R.sigmoid_backward(g, y_ref)) <= TOL

    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    y_ref = R.linear_forward(x, w, b)
    g = rng.standard_normal(y_ref.shape)
    xt, wt, bt = leaf(x), leaf(w), leaf(b)
    y = F.linear(xt, wt, bt)
    y.backward(minigrad.tensor(g))
    assert rel_err(y.detach().numpy(), y_ref) <= TOL
    for ours, ref in zip((xt.grad, wt.grad, bt.grad), R.linear_backward(g, x, w)):
        assert rel_err(ours.numpy(), ref) <= TOL


def test_cross_entropy_numpy_matches_loops():
    z, t = rng.standard_normal((6, 5)) * 3, rng.integers(0, 5, 6)
    zt = leaf(z)
    loss = F.cross_entropy(zt, minigrad.tensor(t))
    loss.backward()
    assert abs(loss.item() - R.cross_entropy_forward(z, t)) <= TOL * abs(loss.item())
    assert rel_err(zt.grad.numpy(), R.cross_entropy_backward(z, t)) <= TOL
    ref = TF.cross_entropy(torch.tensor(z), torch.tensor(t)).item()
    assert abs(R.cross_entropy_forward(z, t) - ref) <= TOL * abs(ref)


def test_adam_numpy_matches_loops():
    p = rng.standard_normal(7)
    state = {who: [p.copy(), np.zeros(7), np.zeros(7)] for who in ("ours", "ref")}
    for step in range(1, 4):
        g = rng.standard_normal(7)
        for who, adam in (("ours", cpu.adam_step), ("ref", R.adam_step)):
            param, m, v = state[who]
            adam(param, g, m, v, step, 1e-2, 0.9, 0.999, 1e-8, 0.1)
    for ours, ref in zip(state["ours"], state["ref"]):
        assert rel_err(ours, ref) <= TOL
