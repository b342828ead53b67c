"""The regression and binary-classification losses and the activations beyond the CNN's,
as modules and functions, against PyTorch (values and gradients of input and target, float64
and float32, CPU and GPU) and by finite differences."""
import functools

import numpy as np
import pytest
import torch

import minigrad
from helpers import check_against_torch, gradcheck_numpy

rng = np.random.default_rng(3)


def normal(*shape):
    return rng.standard_normal(shape)


def probability(*shape):
    return rng.uniform(0.05, 0.95, shape)


def away_from(points, *shape):
    """Normal values at least 0.05 from each of ``points`` (kinks of |d|, of smooth_l1 at
    ±β, of leaky_relu at 0): finite differences across a kink are meaningless."""
    x = normal(*shape)
    for p in points:
        x = np.where(np.abs(x - p) < 0.05, p + 0.1, x)
    return x


WEIGHT = probability(3)      # class weights: constants (PyTorch refuses a weight with a grad)

# name: (f(m, *tensors) with m minigrad or torch, inputs)
CASES = {
    "mse_mean": (lambda m, x, y: m.nn.MSELoss()(x, y), [normal(4, 3), normal(4, 3)]),
    "mse_sum": (lambda m, x, y: m.nn.functional.mse_loss(x, y, reduction="sum"),
                [normal(4, 3), normal(4, 3)]),
    "mse_none": (lambda m, x, y: m.nn.MSELoss(reduction="none")(x, y),
                 [normal(4, 3), normal(4, 3)]),
    "l1": (lambda m, x, y: m.nn.L1Loss()(x, y), [normal(5), normal(5)]),
    "l1_none": (lambda m, x: m.nn.functional.l1_loss(x, m.zeros_like(x), reduction="none"),
                [away_from([0], 3, 4)]),
    "smooth_l1": (lambda m, x: m.nn.SmoothL1Loss()(x, m.zeros_like(x)),
                  [away_from([-1, 0, 1], 6, 3)]),
    "smooth_l1_beta": (lambda m, x: m.nn.functional.smooth_l1_loss(
        x, m.zeros_like(x), beta=0.5, reduction="sum"), [away_from([-0.5, 0, 0.5], 6, 3)]),
    "huber": (lambda m, x, y: m.nn.HuberLoss(delta=0.7)(x, y * 0), [away_from([-0.7, 0.7], 5, 4),
                                                                  normal(5, 4)]),
    "huber_none": (lambda m, x: m.nn.functional.huber_loss(x, m.zeros_like(x),
                                                           reduction="none"),
                   [away_from([-1, 1], 3, 4)]),
    "bce": (lambda m, p, y: m.nn.BCELoss()(p, y), [probability(4, 3), probability(4, 3)]),
    "bce_weight_sum": (lambda m, p, y: m.nn.functional.binary_cross_entropy(
        p, y, weight=m.tensor(WEIGHT).to(p), reduction="sum"),
        [probability(4, 3), probability(4, 3)]),
    "bce_logits": (lambda m, x, y: m.nn.BCEWithLogitsLoss()(x, y),
                   [normal(4, 3) * 4, probability(4, 3)]),
    "bce_logits_pos_weight": (lambda m, x, y: m.nn.BCEWithLogitsLoss(
        pos_weight=m.tensor(3 * WEIGHT).to(x))(x, y), [normal(4, 3) * 4, probability(4, 3)]),
    "bce_logits_weight_none": (lambda m, x, y: m.nn.functional.binary_cross_entropy_with_logits(
        x, y, weight=m.tensor(WEIGHT).to(x), reduction="none"),
        [normal(4, 3), probability(4, 3)]),
    "tanh": (lambda m, x: m.nn.Tanh()(x), [normal(3, 4)]),
    "leaky_relu": (lambda m, x: m.nn.LeakyReLU()(x), [away_from([0], 3, 4)]),
    "leaky_relu_slope": (lambda m, x: m.nn.functional.leaky_relu(x, 0.2), [away_from([0], 3, 4)]),
    "elu": (lambda m, x: m.nn.ELU()(x), [away_from([0], 3, 4)]),
    "elu_alpha": (lambda m, x: m.nn.functional.elu(x, alpha=0.5), [away_from([0], 3, 4)]),
    "gelu": (lambda m, x: m.nn.GELU()(x), [normal(3, 4) * 2]),
    "gelu_tanh": (lambda m, x: m.nn.GELU(approximate="tanh")(x), [normal(3, 4) * 2]),
    "softmax_module": (lambda m, x: m.nn.Softmax(dim=1)(x), [normal(3, 4)]),
    "softmax_functional": (lambda m, x: m.nn.functional.softmax(x, dim=0), [normal(3, 4)]),
    "log_softmax_module": (lambda m, x: m.nn.LogSoftmax(dim=-1)(x), [normal(3, 4)]),
    "softplus": (lambda m, x: m.nn.Softplus()(x), [normal(3, 4) * 3]),
    "softplus_beta": (lambda m, x: m.nn.functional.softplus(x, beta=2, threshold=3),
                      [away_from([1.5], 3, 4) * 2]),
    "relu_inplace": (lambda m, x: m.nn.ReLU(inplace=True)(x * 1) * x,
                     [away_from([0], 3, 4)]),
    "leaky_relu_inplace": (lambda m, x: m.nn.LeakyReLU(0.1, inplace=True)(x * 2),
                           [away_from([0], 3, 4)]),
    "elu_inplace": (lambda m, x: m.nn.functional.elu(x + 0, inplace=True), [away_from([0], 5)]),
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


def test_bce_at_zero_and_one_is_finite_like_torch():
    p, y = [0.0, 1.0, 0.5], [1.0, 0.0, 1.0]
    ours = minigrad.nn.functional.binary_cross_entropy(minigrad.tensor(p), minigrad.tensor(y))
    ref = torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(y))
    assert abs(ours.item() - ref.item()) < 1e-5


def test_bce_with_logits_is_stable_for_huge_logits():
    x, y = [1000.0, -1000.0, 30.0], [0.0, 1.0, 1.0]
    ours = minigrad.nn.BCEWithLogitsLoss(reduction="none")(minigrad.tensor(x), minigrad.tensor(y))
    ref = torch.nn.BCEWithLogitsLoss(reduction="none")(torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6)


@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.parametrize("call", [
    lambda m: m.nn.functional.binary_cross_entropy(m.tensor([1.5]), m.tensor([1.0])),
    lambda m: m.nn.BCELoss()(m.tensor([0.5, 0.5]), m.tensor([1.0])),
    lambda m: m.nn.MSELoss(reduction="avg")(m.zeros(2), m.zeros(2)),
    lambda m: m.nn.functional.mse_loss(m.zeros(2, 3), m.zeros(4)),
    lambda m: m.nn.functional.smooth_l1_loss(m.zeros(2), m.zeros(2), beta=-1.0),
    lambda m: m.nn.functional.gelu(m.zeros(2), approximate="fast"),
])
def test_errors_where_torch_refuses(call):
    with pytest.raises((RuntimeError, ValueError)):
        call(torch)
    with pytest.raises((RuntimeError, ValueError)):
        call(minigrad)


def test_mse_broadcast_warns_like_torch():
    with pytest.warns(UserWarning, match="target size"):
        torch.nn.functional.mse_loss(torch.zeros(3, 1), torch.zeros(3))
    with pytest.warns(UserWarning, match="target size"):
        out = minigrad.nn.functional.mse_loss(minigrad.zeros(3, 1), minigrad.zeros(3))
    assert out.shape == ()


def test_inplace_activations_write_into_the_input():
    x = minigrad.tensor([-1.0, 2.0])
    y = minigrad.nn.ReLU(inplace=True)(x)
    assert y is x and x.tolist() == [0.0, 2.0]
    x = minigrad.tensor([-1.0, 2.0])
    minigrad.nn.functional.leaky_relu(x, 0.5, inplace=True)
    assert x.tolist() == [-0.5, 2.0]
    leaf = minigrad.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        minigrad.nn.functional.relu(leaf, inplace=True)


def test_reprs_like_torch():
    for make in (lambda m: m.nn.ReLU(inplace=True), lambda m: m.nn.ReLU(),
                 lambda m: m.nn.LeakyReLU(0.2), lambda m: m.nn.ELU(),
                 lambda m: m.nn.GELU(), lambda m: m.nn.GELU(approximate="tanh"),
                 lambda m: m.nn.Softmax(dim=1), lambda m: m.nn.Tanh(),
                 lambda m: m.nn.Softplus(), lambda m: m.nn.MSELoss(), lambda m: m.nn.BCELoss(),
                 lambda m: m.nn.Embedding(10, 3), lambda m: m.nn.Embedding(10, 3, padding_idx=0),
                 lambda m: m.nn.AdaptiveAvgPool2d((1, 1))):
        assert repr(make(minigrad)) == repr(make(torch))
