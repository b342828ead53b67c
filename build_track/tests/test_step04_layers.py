"""Step 4: linear, sigmoid, cross-entropy, against PyTorch, minigrad and finite
differences (float64)."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad
from build_track.check import assert_close, compare_with_torch, gradcheck
from build_track.track import under_test
from minigrad.nn import functional as MF

S = under_test(4)
rng = np.random.default_rng(0)
X, W, B = rng.standard_normal((5, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)
Z = rng.standard_normal((6, 10)) * 3
LABELS = np.array([0, 9, 3, 3, 7, 1])


def test_linear_matches_pytorch():
    compare_with_torch("linear: x (5, 4), W (3, 4), b (3,)", S.Tensor, S.linear, TF.linear,
                       [X, W, B])


def test_sigmoid_matches_pytorch():
    compare_with_torch("sigmoid", S.Tensor, S.sigmoid, torch.sigmoid, [Z])


def test_cross_entropy_matches_pytorch():
    compare_with_torch("cross_entropy: logits (6, 10)", S.Tensor,
                       lambda z: S.cross_entropy(z, LABELS),
                       lambda z: TF.cross_entropy(z, torch.tensor(LABELS)), [Z])


@pytest.mark.parametrize("name", ["linear", "sigmoid", "cross_entropy"])
def test_gradients_match_finite_differences(name):
    T = S.Tensor
    if name == "linear":
        gradcheck("linear", S.linear, [T(X.copy()), T(W.copy()), T(B.copy())])
    elif name == "sigmoid":
        gradcheck("sigmoid", S.sigmoid, [T(Z[:2].copy())])
    else:
        gradcheck("cross_entropy", lambda z: S.cross_entropy(z, LABELS), [T(Z.copy())])


def _minigrad(f, *arrays):
    ts = [minigrad.tensor(a, requires_grad=True) for a in arrays]
    out = f(*ts)
    out.sum().backward()
    return out.detach().numpy(), [t.grad.numpy() for t in ts]


def _mine(f, *arrays):
    ts = [S.Tensor(a.copy()) for a in arrays]
    out = f(*ts)
    out.backward(np.ones_like(out.data))
    return out.data, [t.grad for t in ts]


@pytest.mark.parametrize("name", ["linear", "sigmoid", "cross_entropy"])
def test_matches_minigrad(name):
    pairs = {"linear": (S.linear, MF.linear, (X, W, B)),
             "sigmoid": (S.sigmoid, MF.sigmoid, (Z,)),
             "cross_entropy": (lambda z: S.cross_entropy(z, LABELS),
                               lambda z: MF.cross_entropy(z, minigrad.tensor(LABELS)), (Z,))}
    mine, theirs, arrays = pairs[name]
    out, grads = _mine(mine, *arrays)
    want, want_grads = _minigrad(theirs, *arrays)
    assert_close(f"{name}: forward against minigrad", out, want)
    for k, (g, w) in enumerate(zip(grads, want_grads)):
        assert_close(f"{name}: gradient of input {k} against minigrad", g, w)


def test_extreme_inputs_do_not_overflow():
    z = np.array([[-800.0, 0.0, 800.0], [1000.0, 1000.0, -1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # an overflow warning fails the test
        y = S.sigmoid(S.Tensor(z))
        y.backward(np.ones_like(z))
        loss = S.cross_entropy(S.Tensor(z), np.array([2, 0]))
        loss.backward()
    assert_close("sigmoid of [-800, 0, 800], [1000, 1000, -1000]", y.data,
                 torch.sigmoid(torch.tensor(z)).numpy())
    assert_close("cross_entropy of logits +-1000", loss.data,
                 TF.cross_entropy(torch.tensor(z), torch.tensor([2, 0])).numpy())
