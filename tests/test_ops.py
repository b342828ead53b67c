"""Every generic op, forward and backward, against PyTorch (float64 and float32, on broadcast
shapes) and by finite differences; result dtypes, powers, division and indexing as
PyTorch's, and where max sends the gradient among ties and NaN."""
import math

import numpy as np
import pytest
import torch

import minigrad
from helpers import check_against_torch, gradcheck_numpy, raises_like_torch, results
from minigrad import nn

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


# ---- result dtypes, powers, floor division and remainder ----------------------------------------
@pytest.mark.parametrize("left, right", [
    ("f32", "f64_0d"), ("f64_0d", "f32"), ("i64", "f64_0d"), ("i64", "f32_0d"),
    ("bool", "i64_0d"), ("f32", "i64_0d"), ("f32_0d", "f64_0d"), ("i64_0d", "f32"),
    ("f32", "f64"), ("i64", "f32"), ("bool", "f32_0d"), ("f32", "py_float"),
    ("i64", "py_float"), ("bool", "py_int"), ("i64_0d", "py_float"), ("f64_0d", "py_float"),
])
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "<"])
def test_result_dtype_like_torch(left, right, op):
    def make(lib, spec):
        if spec == "py_float":
            return 0.5
        if spec == "py_int":
            return 2
        kind, _, zero_d = spec.partition("_")
        dtype = {"f32": "float32", "f64": "float64", "i64": "int64", "bool": "bool"}[kind]
        values = np.array(1 if zero_d else [1, 2, 3]).astype(dtype)
        return lib.tensor(values) if lib is minigrad else torch.from_numpy(values)
    expr = f"a {op} b"
    try:
        ref = eval(expr, {"a": make(torch, left), "b": make(torch, right)})
    except RuntimeError as e:                          # bool - x: PyTorch refuses
        with pytest.raises(RuntimeError, match="with a bool tensor is not supported"):
            eval(expr, {"a": make(minigrad, left), "b": make(minigrad, right)})
        assert "with a bool tensor is not supported" in str(e)
        return
    ours = eval(expr, {"a": make(minigrad, left), "b": make(minigrad, right)})
    assert str(ours.dtype) == str(ref.dtype).replace("torch.", "")


def test_centring_by_a_float64_mean_keeps_float32_for_linear():
    x = minigrad.tensor(np.arange(6.0).reshape(2, 3), dtype="float32")
    mean = minigrad.tensor(np.float64(0.5))              # or the .sum() of a float64 tensor
    assert (x - mean).dtype == minigrad.float32
    assert (x - minigrad.tensor(np.arange(3.0)).sum()).dtype == minigrad.float32
    assert nn.Linear(3, 2)(x - mean).dtype == minigrad.float32


@pytest.mark.parametrize("expr", ["2 ** t_int", "2.0 ** t_int", "2.0 ** t_f32", "3 ** t_f64",
                                  "t_int ** 2", "t_int ** 1.5", "t_int ** t_int",
                                  "t_f32 ** t_int", "2 ** t_neg", "t_int ** t_neg"])
def test_powers_are_exact_like_torch(expr):
    def env(lib):
        return {"t_int": lib.tensor([0, 1, 5, 15, 31]),
                "t_f32": lib.tensor([0.0, 1.5, 15.0, 2.0, -3.0]),
                "t_f64": lib.tensor(np.array([0.5, 2.0, 10.0, -1.0, 0.0])),
                "t_neg": lib.tensor([-2, -1, 3, 0, 1])}
    ours, ref = eval(expr, env(minigrad)), eval(expr, env(torch))
    assert str(ours.dtype) == str(ref.dtype).replace("torch.", "")
    if ours.dtype.kind == "i" or "2" in expr.split("**")[0]:
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())   # exactly: 2^15 = 32768
    else:      # a float32 power of a non-integer: the libraries' pow may differ by an ulp
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=2e-7)


def test_power_gradients_like_torch():
    def run(lib):
        a = lib.tensor(np.array([0.0, 0.5, 2.0, 3.0]), requires_grad=True)
        b = lib.tensor(np.array([2.0, 0.0, -1.5, 0.5]), requires_grad=True)
        ((a ** b).sum() + (2.5 ** a).sum() + (a ** 3).sum()).backward()
        return a.grad.numpy(), b.grad.numpy()
    for ours, ref in zip(run(minigrad), run(torch)):
        np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_integer_to_a_negative_power_is_an_error_like_torch():
    raises_like_torch(RuntimeError, lambda: minigrad.tensor([2, 3]) ** -1,
                      lambda: torch.tensor([2, 3]) ** -1,
                      "Integers to negative integer powers are not allowed.")


@pytest.mark.parametrize("expr", ["a // b", "a % b", "a // 2", "a % 3", "7 // b", "-7.5 % b",
                                  "i // 3", "i % -3", "-7 // i", "i % j"])
def test_floor_division_and_remainder_like_torch(expr):
    def env(lib):
        return {"a": lib.tensor([-7.5, 7.5, 3.0, -0.5]), "b": lib.tensor([2.0, -2.0, 0.7, 3.0]),
                "i": lib.tensor([-7, 7, 3, 1]), "j": lib.tensor([2, -3, 3, 5])}
    ours, ref = eval(expr, env(minigrad)), eval(expr, env(torch))
    assert str(ours.dtype) == str(ref.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6)


def test_remainder_gradient_and_integer_division_by_zero_like_torch():
    def run(lib):
        a = lib.tensor(np.array([-7.5, 7.5, 3.0]), requires_grad=True)
        b = lib.tensor(np.array([2.0, -2.0, 0.7]), requires_grad=True)
        (a % b).sum().backward()
        return a.grad.numpy(), b.grad.numpy()
    for ours, ref in zip(run(minigrad), run(torch)):
        np.testing.assert_array_equal(ours, ref)
    raises_like_torch(RuntimeError, lambda: minigrad.tensor([1, 2]) // 0,
                      lambda: torch.tensor([1, 2]) // 0, "ZeroDivisionError")
    raises_like_torch(RuntimeError, lambda: minigrad.tensor([1, 2]) % minigrad.tensor([1, 0]),
                      lambda: torch.tensor([1, 2]) % torch.tensor([1, 0]), "ZeroDivisionError")
    x = minigrad.tensor([1.5], requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative for 'floor_divide' is not implemented"):
        (x // 1).sum().backward()


# ---- max with NaN and ties: where the gradient goes ---------------------------------------------
@pytest.mark.parametrize("values", [[1.0, math.nan, 3.0], [math.nan, 2.0, math.nan],
                                    [1.0, 3.0, 3.0]])
def test_max_of_all_routes_the_gradient_like_torch(values):
    t = minigrad.tensor(np.array(values), requires_grad=True)
    r = torch.tensor(np.array(values), requires_grad=True)
    t.max().backward()
    r.max().backward()
    np.testing.assert_array_equal(t.grad.numpy(), r.grad.numpy())


def test_max_along_a_dim_with_nan_like_torch():
    x = np.array([[1.0, math.nan, 3.0], [4.0, 2.0, math.nan]])
    t, r = minigrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (v, i), (rv, ri) = t.max(1), r.max(1)
    np.testing.assert_array_equal(v.detach().numpy(), rv.detach().numpy())
    assert i.tolist() == ri.tolist()
    v.sum().backward()
    rv.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), r.grad.numpy())


def test_elementwise_maximum_with_ties_and_nan_like_torch():
    a = np.array([1.0, 2.0, math.nan, 4.0, 0.5])
    b = np.array([3.0, 2.0, 1.0, math.nan, 0.25])
    ta, tb = minigrad.tensor(a, requires_grad=True), minigrad.tensor(b, requires_grad=True)
    ra, rb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, ref = ta.max(tb), ra.max(rb)                # the overload: elementwise maximum
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    (out * minigrad.tensor(np.arange(1.0, 6.0))).sum().backward()
    (ref * torch.arange(1.0, 6.0, dtype=torch.float64)).sum().backward()
    np.testing.assert_array_equal(ta.grad.numpy(), ra.grad.numpy())
    np.testing.assert_array_equal(tb.grad.numpy(), rb.grad.numpy())


# ---- indexing -----------------------------------------------------------------------------------
@pytest.mark.parametrize("index", [(0, slice(None), [1, 2]), (slice(None), 0, [3, 1]),
                                   (0, None, [1, 1])])
def test_an_integer_next_to_an_index_list_selects_first_like_torch(index):
    """NumPy would move the list's dim to the front; PyTorch selects with the int first."""
    x = np.arange(60.0).reshape(3, 4, 5)
    t, r = minigrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = t[index], r[index]
    assert out.shape == tuple(ref.shape)
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), r.grad.numpy())
    w, tw = minigrad.tensor(x), torch.tensor(x)
    w[index] = -1.0
    tw[index] = -1.0
    np.testing.assert_array_equal(w.numpy(), tw.numpy())


# ---- flatten, view_as ---------------------------------------------------------------------------
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


# ---- an empty dim, a float bound on an int tensor ------------------------------------------------
def test_max_over_an_empty_batch_like_torch():
    ours, ref = results(lambda m: m.zeros(0, 3).max(1))
    assert ours.values.shape == tuple(ref.values.shape) == (0,)
    assert ours.indices.dtype == minigrad.int64
    ours, ref = results(lambda m: m.zeros(0, 3).min(1))
    assert ours.values.shape == (0,)
    for m in (minigrad, torch):
        with pytest.raises(IndexError):
            m.zeros(3, 0).max(1)
        with pytest.raises((IndexError, RuntimeError)):
            m.zeros(0).max()


@pytest.mark.parametrize("f", [
    lambda m: m.tensor([0, 1, 2]).clamp(min=0.5),
    lambda m: m.tensor([0, 1, 2]).clamp(0, 1.5),
    lambda m: m.tensor([-3, 1, 7]).clamp(-1, 2),
    lambda m: m.tensor([0.25, 1.0]).clamp(min=0.5),
])
def test_clamp_dtype_like_torch(f):
    ours, ref = results(f)
    assert str(ours.dtype) == str(ref.dtype).replace("torch.", "")
    assert ours.tolist() == ref.tolist()
