"""Every layer on an empty batch (N = 0) and max-pool over a window holding NaN, forward and
backward, against PyTorch (issue 10).

Both backends follow PyTorch here: an empty batch gives empty results and zero gradients
through every layer, and a NaN in a pooling window wins it (the last NaN in row-major order
when there are several), forward and backward."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad
import minigrad.nn.functional as F
from examples.lenet_fashion import lenet
from helpers import rel_err


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


def normal(*shape):
    return np.random.default_rng(1).standard_normal(shape)


def empty_target():
    return np.zeros(0, dtype=np.int64)


# ---- N = 0 ----------------------------------------------------------------------------------
N0_CASES = {
    "max_pool2d": (lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2),
                   [normal(0, 6, 24, 24)], ()),
    "sigmoid": (F.sigmoid, torch.sigmoid, [normal(0, 6, 24, 24)], ()),
    "relu": (F.relu, torch.relu, [normal(0, 84)], ()),
    "flatten": (F.flatten, lambda x: torch.flatten(x, 1), [normal(0, 16, 4, 4)], ()),
    "linear": (F.linear, TF.linear, [normal(0, 256), normal(120, 256), normal(120)], ()),
    "log_softmax": (lambda z: F.log_softmax(z, 1), lambda z: TF.log_softmax(z, 1),
                    [normal(0, 10)], ()),
    "cross_entropy_sum": (lambda z, t: F.cross_entropy(z, t, reduction="sum"),
                          lambda z, t: TF.cross_entropy(z, t, reduction="sum"),
                          [normal(0, 10), empty_target()], (1,)),
    "cross_entropy_none": (lambda z, t: F.cross_entropy(z, t, reduction="none"),
                           lambda z, t: TF.cross_entropy(z, t, reduction="none"),
                           [normal(0, 10), empty_target()], (1,)),
    "cross_entropy_mean": (lambda z, t: F.cross_entropy(z, t),        # the mean of nothing: NaN
                           lambda z, t: TF.cross_entropy(z, t),
                           [normal(0, 10), empty_target()], (1,)),
}
N0_BACKEND = {
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b), lambda x, w, b: TF.conv2d(x, w, b),
               [normal(0, 1, 28, 28), normal(6, 1, 5, 5), normal(6)], ()),
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


def test_empty_batch_through_lenet_forward_and_backward(device):
    torch.manual_seed(0)
    ref = lenet(torch.nn).double()
    ours = lenet().double().to(device)
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x = np.zeros((0, 1, 28, 28))
    out, ref_out = ours(minigrad.tensor(x, device=device)), ref(torch.tensor(x))
    assert out.shape == tuple(ref_out.shape) == (0, 10)
    loss = minigrad.nn.CrossEntropyLoss(reduction="sum")(
        out, minigrad.tensor(empty_target(), device=device))
    loss.backward()
    torch.nn.CrossEntropyLoss(reduction="sum")(ref_out, torch.tensor(empty_target())).backward()
    for name, p in ours.named_parameters():
        assert p.grad.cpu().numpy().tolist() == dict(ref.named_parameters())[name].grad.tolist()


# ---- max-pool over a window holding NaN -------------------------------------------------------
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


# ---- infinite and NaN gradients go only where PyTorch sends them ----------------------------
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
