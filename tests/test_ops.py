"""Every generic op, forward and backward, against PyTorch (float64 and float32, on broadcast
shapes) and by finite differences."""
import numpy as np
import pytest
import torch

import minigrad
from helpers import check_against_torch, gradcheck_numpy

rng = np.random.default_rng(0)


def normal(*shape):
    return rng.standard_normal(shape)


def positive(*shape):
    return rng.uniform(0.5, 2.0, shape)


def distinct(*shape):
    """Tie-free values (for max, whose gradient picks one element)."""
    return rng.permutation(np.prod(shape)).reshape(shape) / 7.0 - 1.0


# name: (minigrad fn, torch fn, inputs). Both fns get tensors of their own framework.
CASES = {
    "add_broadcast": (lambda a, b: a + b, lambda a, b: a + b, [normal(2, 3, 4), normal(3, 1)]),
    "sub_broadcast": (lambda a, b: a - b, lambda a, b: a - b, [normal(4,), normal(2, 3, 4)]),
    "mul_broadcast": (lambda a, b: a * b, lambda a, b: a * b, [normal(2, 1, 4), normal(3, 1)]),
    "div_broadcast": (lambda a, b: a / b, lambda a, b: a / b, [normal(2, 3), positive(1, 3)]),
    "scalar_reflected": (lambda a: 2 * a - 1 / (1 + a * a) + (1 - a) / 3,
                         lambda a: 2 * a - 1 / (1 + a * a) + (1 - a) / 3, [normal(3, 4)]),
    "neg": (lambda a: -a, lambda a: -a, [normal(3, 4)]),
    "pow_int": (lambda a: a ** 3, lambda a: a ** 3, [normal(3, 4)]),
    "pow_frac": (lambda a: a ** 1.5, lambda a: a ** 1.5, [positive(3, 4)]),
    "pow_neg": (lambda a: a ** -2, lambda a: a ** -2, [positive(5,)]),
    "exp": (lambda a: a.exp(), torch.exp, [normal(3, 4)]),
    "log": (lambda a: a.log(), torch.log, [positive(3, 4)]),
    "sqrt": (lambda a: a.sqrt(), torch.sqrt, [positive(3, 4)]),
    "tanh": (lambda a: a.tanh(), torch.tanh, [normal(3, 4)]),
    "abs": (lambda a: a.abs(), torch.abs, [normal(3, 4)]),
    "sum_all": (lambda a: a.sum(), lambda a: a.sum(), [normal(2, 3, 4)]),
    "sum_dim": (lambda a: a.sum(1), lambda a: a.sum(1), [normal(2, 3, 4)]),
    "sum_dims_keep": (lambda a: a.sum((0, 2), keepdim=True),
                      lambda a: a.sum((0, 2), keepdim=True), [normal(2, 3, 4)]),
    "mean_all": (lambda a: a.mean(), lambda a: a.mean(), [normal(2, 3, 4)]),
    "mean_dim_keep": (lambda a: a.mean(-1, keepdim=True),
                      lambda a: a.mean(-1, keepdim=True), [normal(2, 3, 4)]),
    "max_all": (lambda a: a.max(), lambda a: a.max(), [distinct(3, 4)]),
    "max_dim": (lambda a: a.max(1).values, lambda a: a.max(1).values, [distinct(2, 3, 4)]),
    "max_dim_keep": (lambda a: a.max(0, keepdim=True)[0],
                     lambda a: a.max(0, keepdim=True)[0], [distinct(3, 4)]),
    "matmul_2d": (lambda a, b: a @ b, lambda a, b: a @ b, [normal(3, 4), normal(4, 5)]),
    "matmul_batched": (lambda a, b: a @ b, lambda a, b: a @ b,
                       [normal(2, 3, 4), normal(2, 4, 5)]),
    "matmul_broadcast": (lambda a, b: a @ b, lambda a, b: a @ b,
                         [normal(2, 1, 3, 4), normal(3, 4, 2)]),
    "matmul_vector": (lambda a, b: a @ b, lambda a, b: a @ b, [normal(3, 4), normal(4,)]),
    "reshape": (lambda a: a.reshape(4, -1) * 2, lambda a: a.reshape(4, -1) * 2,
                [normal(2, 3, 4)]),
    "view": (lambda a: a.view(a.shape[0], -1), lambda a: a.view(a.shape[0], -1),
             [normal(2, 3, 4)]),
    "transpose": (lambda a: a.transpose(0, 2), lambda a: a.transpose(0, 2), [normal(2, 3, 4)]),
    "permute": (lambda a: a.permute(1, 2, 0), lambda a: a.permute(1, 2, 0), [normal(2, 3, 4)]),
    "flatten": (lambda a: a.flatten(1), lambda a: a.flatten(1), [normal(2, 3, 4)]),
    "index_slices": (lambda a: a[1:, ::2, -1], lambda a: a[1:, ::2, -1], [normal(3, 4, 5)]),
    "index_int_array": (lambda a: a[minigrad.tensor([0, 2, 0])],
                        lambda a: a[torch.tensor([0, 2, 0])], [normal(3, 4)]),
    "index_pairs": (lambda a: a[[0, 1, 1], [2, 0, 2]], lambda a: a[[0, 1, 1], [2, 0, 2]],
                    [normal(3, 4)]),
    "clamp": (lambda a: a.clamp(-0.5, 0.7), lambda a: a.clamp(-0.5, 0.7), [normal(4, 5)]),
    "clamp_min": (lambda a: a.clamp(min=0.1), lambda a: a.clamp(min=0.1), [normal(4, 5)]),
    "where": (lambda a, b: minigrad.where(a > b, a, b * 2),
              lambda a, b: torch.where(a > b, a, b * 2), [normal(3, 4), normal(4,)]),
    "chain": (lambda a, b: ((a @ b).tanh() * a.sum(1, keepdim=True)).exp().mean(0),
              lambda a, b: ((a @ b).tanh() * a.sum(1, keepdim=True)).exp().mean(0),
              [normal(3, 4) * 0.3, normal(4, 2) * 0.3]),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_against_torch(name, dtype, device):
    mg_fn, torch_fn, arrays = CASES[name]
    check_against_torch(mg_fn, torch_fn, arrays, dtype=dtype, device=device)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name, device):
    mg_fn, _, arrays = CASES[name]
    assert gradcheck_numpy(mg_fn, arrays, device=device)


def test_gradcheck_catches_a_wrong_gradient():
    class WrongExp(minigrad.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return np.exp(a)

        @staticmethod
        def backward(ctx, g):
            return g * 1.01          # should be g * exp(a)

    x = minigrad.tensor(np.zeros(3) + 0.5, requires_grad=True)
    with pytest.raises(minigrad.autograd.GradcheckError, match="input 0"):
        minigrad.autograd.gradcheck(WrongExp.apply, [x])


def test_comparisons_and_argmax(device):
    a = minigrad.tensor([[1.0, 5.0, 3.0], [7.0, 2.0, 2.5]], device=device)
    b = minigrad.tensor([3.0, 2.0, 3.0], device=device)
    for ours, ref in [(a == b, [[0, 0, 1], [0, 1, 0]]), (a < b, [[1, 0, 0], [0, 0, 1]]),
                      (a > b, [[0, 1, 0], [1, 0, 0]]), (a >= 3, [[0, 1, 1], [1, 0, 0]]),
                      (a <= 2, [[1, 0, 0], [0, 1, 0]]), (a != 2, [[1, 1, 1], [1, 0, 1]])]:
        assert ours.dtype == minigrad.bool and not ours.requires_grad
        assert ours.cpu().numpy().tolist() == np.array(ref, bool).tolist()
    assert a.argmax(1).tolist() == [1, 0] and a.argmax(1).dtype == minigrad.int64
    assert a.argmax(0, keepdim=True).tolist() == [[1, 0, 0]]
    assert a.argmax().item() == 3
    assert (a.argmax(1) == minigrad.tensor([1, 1], device=device)).float().sum().item() == 1.0


def test_max_dim_returns_values_and_indices():
    a = minigrad.tensor([[1.0, 5.0], [7.0, 2.0]])
    values, indices = a.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]


def test_max_all_splits_gradient_between_ties_like_torch():
    a = minigrad.tensor([1.0, 3.0, 3.0], requires_grad=True)
    a.max().backward()
    t = torch.tensor([1.0, 3.0, 3.0], requires_grad=True)
    t.max().backward()
    assert a.grad.tolist() == t.grad.tolist()


def test_dtype_promotion_like_torch():
    f32 = minigrad.tensor([1.0, 2.0])
    f64 = minigrad.tensor(np.array([1.0, 2.0]))
    i64 = minigrad.tensor([1, 2])
    assert (f32 + f64).dtype == minigrad.float64
    assert (i64 + f32).dtype == minigrad.float32
    assert (i64 * 2).dtype == minigrad.int64
    assert (i64 * 2.5).dtype == minigrad.float32
    assert (i64 / 2).dtype == minigrad.float32
    assert (f32 * np.float64(2.0)).dtype == minigrad.float32
    assert (np.float64(2.0) * f32).dtype == minigrad.float32
