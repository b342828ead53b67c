"""The ``torch.`` function forms and the Tensor methods behind them, against PyTorch (values
and gradients in float64 and float32, on the CPU and the GPU) and by finite differences.

Each case is written once, for a module ``m`` that is ``minigrad`` or ``torch``: the same
code runs on both, as a user's would after ``import minigrad as torch``."""
import functools

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
    """Tie-free values (max, min, sort and topk pick single elements)."""
    return rng.permutation(np.prod(shape)).reshape(shape) / 7.0 - 1.0


def index(high, *shape):
    return rng.integers(0, high, shape)


# name: (f(m, *tensors), inputs)
CASES = {
    "sum_dim": (lambda m, a: m.sum(a, 1), [normal(2, 3, 4)]),
    "sum_all": (lambda m, a: m.sum(a), [normal(2, 3)]),
    "mean_keepdim": (lambda m, a: m.mean(a, -1, keepdim=True), [normal(2, 3, 4)]),
    "exp": (lambda m, a: m.exp(a), [normal(3, 4)]),
    "log": (lambda m, a: m.log(a), [positive(3, 4)]),
    "sqrt": (lambda m, a: m.sqrt(a), [positive(3, 4)]),
    "rsqrt": (lambda m, a: m.rsqrt(a), [positive(3, 4)]),
    "abs": (lambda m, a: m.abs(a), [normal(3, 4)]),
    "tanh": (lambda m, a: m.tanh(a), [normal(3, 4)]),
    "sigmoid": (lambda m, a: m.sigmoid(a), [normal(3, 4)]),
    "square": (lambda m, a: m.square(a), [normal(3, 4)]),
    "max_all": (lambda m, a: m.max(a), [distinct(3, 4)]),
    "max_dim_values": (lambda m, a: m.max(a, 1).values, [distinct(3, 4)]),
    "max_dim_keepdim": (lambda m, a: m.max(a, 0, keepdim=True)[0], [distinct(3, 4)]),
    "max_pair": (lambda m, a, b: m.max(a, b), [distinct(3, 4), distinct(4)]),
    "min_all": (lambda m, a: m.min(a), [distinct(3, 4)]),
    "min_dim": (lambda m, a: m.min(a, dim=1).values, [distinct(3, 4)]),
    "min_pair": (lambda m, a, b: m.min(a, b), [distinct(3, 4), distinct(3, 4) + 0.01]),
    "minimum": (lambda m, a, b: m.minimum(a, b), [distinct(3, 4), distinct(1, 4) + 0.01]),
    "var": (lambda m, a: m.var(a, 1), [normal(3, 5)]),
    "var_unbiased_false": (lambda m, a: a.var(0, unbiased=False, keepdim=True), [normal(3, 5)]),
    "std_all": (lambda m, a: m.std(a), [normal(3, 5)]),
    "clamp": (lambda m, a: m.clamp(a, -0.5, 0.5), [normal(4, 5)]),
    "add_alpha": (lambda m, a, b: m.add(a, b, alpha=2.5), [normal(3, 4), normal(4)]),
    "sub_alpha": (lambda m, a, b: a.sub(b, alpha=-3), [normal(3, 4), normal(3, 1)]),
    "mul_div": (lambda m, a, b: m.div(m.mul(a, b), b * b + 1), [normal(3, 4), normal(3, 4)]),
    "pow_tensor": (lambda m, a, b: m.pow(a, b), [positive(3, 4), normal(3, 4)]),
    "pow_number": (lambda m, a: m.pow(a, 3), [normal(3, 4)]),
    "neg": (lambda m, a: m.neg(a), [normal(3)]),
    "softmax": (lambda m, a: m.softmax(a, 1), [normal(3, 5)]),
    "softmax_dim0": (lambda m, a: a.softmax(0) * a, [normal(3, 5)]),
    "log_softmax": (lambda m, a: m.log_softmax(a, -1), [normal(2, 3, 5)]),
    "matmul": (lambda m, a, b: m.matmul(a, b), [normal(2, 3, 4), normal(4, 2)]),
    "mm": (lambda m, a, b: m.mm(a, b), [normal(3, 4), normal(4, 2)]),
    "bmm": (lambda m, a, b: m.bmm(a, b), [normal(2, 3, 4), normal(2, 4, 5)]),
    "einsum_matmul": (lambda m, a, b: m.einsum("ij,jk->ik", a, b), [normal(3, 4), normal(4, 2)]),
    "einsum_batch": (lambda m, a, b: m.einsum("bij,bjk->bik", a, b),
                     [normal(2, 3, 4), normal(2, 4, 5)]),
    "einsum_implicit": (lambda m, a, b: m.einsum("ij,kj", a, b), [normal(3, 4), normal(2, 4)]),
    "einsum_summed_out": (lambda m, a, b: m.einsum("ij,k->i", a, b), [normal(3, 4), normal(5)]),
    "einsum_dot": (lambda m, a, b: m.einsum("i,i->", a, b), [normal(4), normal(4)]),
    "einsum_outer_list": (lambda m, a, b: m.einsum("i,j->ij", [a, b]), [normal(3), normal(4)]),
    "einsum_ellipsis": (lambda m, a: m.einsum("...ij->...ji", a), [normal(2, 3, 4)]),
    "cat_dim0": (lambda m, a, b: m.cat([a, b]), [normal(2, 3), normal(4, 3)]),
    "cat_dim1_three": (lambda m, a, b, c: m.cat((a, b, c), dim=-1),
                       [normal(2, 3), normal(2, 1), normal(2, 2)]),
    "concat": (lambda m, a, b: m.concat([a, b], 1), [normal(2, 3, 2), normal(2, 1, 2)]),
    "stack": (lambda m, a, b: m.stack([a, b]), [normal(2, 3), normal(2, 3)]),
    "stack_last": (lambda m, a, b: m.stack([a, b, a], dim=-1), [normal(2, 3), normal(2, 3)]),
    "split_size": (lambda m, a: m.split(a, 2, dim=1)[1] * 2, [normal(3, 5)]),
    "split_sizes": (lambda m, a: m.cat([p * (i + 1) for i, p in enumerate(a.split([1, 3, 1], 1))],
                                       1), [normal(3, 5)]),
    "chunk": (lambda m, a: m.chunk(a, 3)[2], [normal(7, 2)]),
    "unbind": (lambda m, a: m.unbind(a, 1)[2] * m.unbind(a)[0][1], [normal(3, 4)]),
    "narrow": (lambda m, a: m.narrow(a, 1, 1, 2), [normal(3, 4)]),
    "gather": (lambda m, a, i: m.gather(a, 1, i), [normal(3, 4), index(4, 3, 5)]),
    "gather_smaller": (lambda m, a, i: a.gather(0, i), [normal(4, 5), index(4, 2, 3)]),
    "scatter": (lambda m, a, i, s: m.scatter(a, 1, i, s),
                [normal(3, 5), np.array([[0, 3], [4, 1], [2, 0]]), normal(3, 2)]),
    "scatter_value": (lambda m, a, i: a.scatter(0, i, 2.5), [normal(3, 4),
                                                            np.array([[2, 0, 1, 2]])]),
    "scatter_add": (lambda m, a, i, s: m.scatter_add(a, 0, i, s),
                    [normal(3, 4), index(3, 5, 4), normal(5, 4)]),
    "index_select": (lambda m, a, i: m.index_select(a, 1, i), [normal(3, 4), index(4, 6)]),
    "index_select_dim0": (lambda m, a, i: a.index_select(0, i), [normal(3, 4), index(3, 5)]),
    "masked_fill": (lambda m, a, i: m.masked_fill(a, i > 0, -1.5), [normal(3, 4), index(2, 4)]),
    "sort": (lambda m, a: m.sort(a, 1).values, [distinct(3, 5)]),
    "sort_descending": (lambda m, a: a.sort(0, descending=True)[0], [distinct(3, 5)]),
    "topk": (lambda m, a: m.topk(a, 2).values, [distinct(3, 5)]),
    "topk_smallest": (lambda m, a: a.topk(3, dim=0, largest=False)[0], [distinct(4, 2)]),
    "reshape": (lambda m, a: m.reshape(a, (4, -1)), [normal(2, 3, 4)]),
    "transpose": (lambda m, a: m.transpose(a, 0, 2), [normal(2, 3, 4)]),
    "permute": (lambda m, a: m.permute(a, (1, 2, 0)), [normal(2, 3, 4)]),
    "squeeze_unsqueeze": (lambda m, a: m.unsqueeze(m.squeeze(a), 0), [normal(3, 1, 4)]),
    "clone": (lambda m, a: m.clone(a) * 2, [normal(3)]),
    "expand": (lambda m, a: a.expand(2, 3, -1) * 1, [normal(3, 1)]),
    "expand_as": (lambda m, a, b: a.expand_as(b) * b, [normal(1, 4), normal(3, 4)]),
    "repeat": (lambda m, a: a.repeat(2, 1, 3), [normal(3, 2)]),
    "flip": (lambda m, a: m.flip(a, (0, 2)), [normal(2, 3, 4)]),
    "tril": (lambda m, a: m.tril(a), [normal(4, 4)]),
    "triu_offset": (lambda m, a: m.triu(a, 1), [normal(2, 3, 4)]),
    "cumsum": (lambda m, a: m.cumsum(a, 1), [normal(3, 4)]),
    "sin_cos": (lambda m, a: m.sin(a) * m.cos(a * 2), [normal(3, 4)]),
    "floor_round": (lambda m, a: a * 2 + m.floor(a) + m.round(a) + a.ceil() + a.sign(),
                    [normal(3, 4)]),
    "norm": (lambda m, a: m.norm(a), [normal(3, 4)]),
    "norm_dim": (lambda m, a: a.norm(dim=1), [normal(3, 4)]),
    "norm_p1": (lambda m, a: a.norm(p=1), [normal(3, 4)]),
    "dot": (lambda m, a, b: m.dot(a, b), [normal(4), normal(4)]),
    "outer": (lambda m, a, b: m.outer(a, b), [normal(3), normal(4)]),
    "masked_fill_": (lambda m, a, i: (a * 1).masked_fill_(i > 0, 2.0), [normal(3, 4),
                                                                        index(2, 3, 4)]),
    "amax": (lambda m, a: m.amax(a, (0, 2)), [distinct(2, 3, 4)]),
    "t": (lambda m, a: m.t(a) * 1, [normal(3, 4)]),
    "movedim": (lambda m, a: m.movedim(a, 0, 2), [normal(2, 3, 4)]),
    "swapaxes": (lambda m, a: m.swapaxes(a, 0, 1), [normal(2, 3, 4)]),
    "unflatten": (lambda m, a: a.unflatten(1, (2, -1)), [normal(3, 4)]),
    "tile_roll": (lambda m, a: m.roll(m.tile(a, (2,)), 3, 1) + m.roll(a.repeat(1, 2), -1),
                  [normal(2, 3)]),
    "roll_all": (lambda m, a: m.roll(a, 2), [normal(2, 3)]),
    "logsumexp": (lambda m, a: m.logsumexp(a, 1), [normal(3, 4) * 5]),
    "logsumexp_keep": (lambda m, a: a.logsumexp(0, keepdim=True), [normal(3, 4)]),
    "reciprocal_log2_log10": (lambda m, a: m.reciprocal(a) + m.log2(a) * m.log10(a),
                              [positive(3, 4)]),
    "expm1": (lambda m, a: m.expm1(a), [normal(3, 4)]),
    "clamp_min_max": (lambda m, a: m.clamp_min(a, -0.5) * m.clamp_max(a, 0.5), [normal(3, 4)]),
    "where_method": (lambda m, a, b: a.where(a > 0, b), [normal(3, 4), normal(4)]),
    "masked_select": (lambda m, a, i: m.masked_select(a, i > 0), [normal(3, 4), index(2, 4)]),
    "inplace_math": (lambda m, a: (a * 1).exp_() + (a * 1).tanh_() + (a * 1).sigmoid_() +
                     (a * 1).neg_() + (a * 1).square_() + (a * 1).abs_(), [normal(3, 4)]),
    "sqrt_log_inplace": (lambda m, a: (a * 1).sqrt_() + (a * 1).log_(), [positive(3)]),
}


def _run(case, module):
    f, _ = CASES[case]
    return functools.partial(f, module)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_against_torch(name, dtype, device):
    check_against_torch(_run(name, minigrad), _run(name, torch), CASES[name][1], dtype=dtype,
                        device=device)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name, device):
    assert gradcheck_numpy(_run(name, minigrad), CASES[name][1], device=device)


def test_every_method_with_a_torch_function_form_has_one():
    """A Tensor method whose name PyTorch also has as a function (torch.sum, torch.exp, ...)
    exists as minigrad.<name> too."""
    missing = [name for name in dir(minigrad.Tensor) if not name.startswith("_")
               and callable(getattr(torch, name, None)) and not isinstance(getattr(torch, name),
                                                                           type)
               and not hasattr(minigrad, name)]
    assert not missing


# ---- what the cases above cannot say: integer results, named tuples, errors --------------
def test_max_and_min_with_dim_are_named_pairs(device):
    a = np.array([[1.0, 5.0, 3.0], [7.0, 2.0, 2.5]])
    for name in ("max", "min"):
        ours = getattr(minigrad, name)(minigrad.tensor(a, device=device), 1)
        ref = getattr(torch, name)(torch.tensor(a), 1)
        assert ours.values.tolist() == ref.values.tolist()
        assert ours.indices.tolist() == ref.indices.tolist()
        assert ours.indices.dtype == minigrad.int64
        values, indices = ours
        assert values is ours[0] and indices is ours[1]
    assert minigrad.argmin(minigrad.tensor(a), 0).tolist() == torch.argmin(torch.tensor(a),
                                                                            0).tolist()
    assert minigrad.argmax(minigrad.tensor(a)).item() == torch.argmax(torch.tensor(a)).item()


def test_sort_and_topk_indices_like_torch(device):
    a = distinct(4, 6)
    for kw in ({}, {"descending": True}, {"dim": 0}):
        ours = minigrad.sort(minigrad.tensor(a, device=device), **kw)
        ref = torch.sort(torch.tensor(a), **kw)
        assert ours.indices.tolist() == ref.indices.tolist()
        assert np.array_equal(ours.values.cpu().numpy(), ref.values.numpy())
    ours = minigrad.topk(minigrad.tensor(a, device=device), 3, dim=1)
    ref = torch.topk(torch.tensor(a), 3, dim=1)
    assert ours.indices.tolist() == ref.indices.tolist()
    assert minigrad.argsort(minigrad.tensor(a), 1).tolist() == torch.argsort(
        torch.tensor(a), 1).tolist()
    ties = [3, 1, 3, 1, 2]
    assert minigrad.sort(minigrad.tensor(ties), stable=True).indices.tolist() == \
        torch.sort(torch.tensor(ties), stable=True).indices.tolist()


def test_split_chunk_unbind_shapes_like_torch():
    a = np.arange(30.0).reshape(6, 5)
    for f in (lambda m, x: m.split(x, 4), lambda m, x: m.split(x, [2, 3], 1),
              lambda m, x: m.chunk(x, 4), lambda m, x: m.chunk(x, 4, 1),
              lambda m, x: x.chunk(2, 1), lambda m, x: m.unbind(x, 1)):
        ours, ref = f(minigrad, minigrad.tensor(a)), f(torch, torch.tensor(a))
        assert isinstance(ours, tuple) and len(ours) == len(ref)
        assert [o.tolist() for o in ours] == [r.tolist() for r in ref]


def test_split_pieces_are_views():
    a = minigrad.zeros(4, 3)
    first, _ = a.split(2)
    first[0, 0] = 5.0
    assert a[0, 0].item() == 5.0


def test_cat_promotes_and_skips_empty_like_torch():
    ints, floats = [[1, 2]], [[0.5, 1.5]]
    ours = minigrad.cat([minigrad.tensor(ints), minigrad.tensor(floats)])
    ref = torch.cat([torch.tensor(ints), torch.tensor(floats)])
    assert str(ours.dtype) == str(ref.dtype).split(".")[1] and ours.tolist() == ref.tolist()
    ours = minigrad.cat([minigrad.zeros(0), minigrad.ones(2, 3)])
    assert ours.shape == (2, 3)


@pytest.mark.parametrize("call, error", [
    (lambda m: m.cat([m.zeros(2, 3), m.zeros(2, 4)]), RuntimeError),
    (lambda m: m.cat([]), (RuntimeError, ValueError)),
    (lambda m: m.stack([m.zeros(2), m.zeros(3)]), RuntimeError),
    (lambda m: m.split(m.zeros(5), [2, 2]), RuntimeError),
    (lambda m: m.gather(m.zeros(2, 3), 1, m.tensor([[0, 3]])), RuntimeError),
    (lambda m: m.gather(m.zeros(2, 3), 1, m.tensor([[0.0]])), RuntimeError),
    (lambda m: m.zeros(3).masked_fill(m.ones(3), 0.0), RuntimeError),
    (lambda m: m.topk(m.zeros(3), 4), RuntimeError),
    (lambda m: m.bmm(m.zeros(2, 3), m.zeros(3, 2)), RuntimeError),
    (lambda m: m.zeros(2, 3) & m.zeros(2, 3), RuntimeError),
])
def test_errors_where_torch_refuses(call, error):
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error):
        call(minigrad)


def test_bool_logic_like_torch(device):
    a, b = [True, False, True, False], [True, True, False, False]
    ta, tb = torch.tensor(a), torch.tensor(b)
    ma, mb = minigrad.tensor(a, device=device), minigrad.tensor(b, device=device)
    for f in (lambda x, y: x & y, lambda x, y: x | y, lambda x, y: x ^ y,
              lambda x, y: ~x, lambda x, y: x & True, lambda x, y: False | y,
              lambda x, y: x.logical_and(y), lambda x, y: x.logical_or(y),
              lambda x, y: x.logical_xor(y)):
        ours, ref = f(ma, mb), f(ta, tb)
        assert ours.dtype == minigrad.bool and ours.tolist() == ref.tolist()
    ints = [6, 3, -1]
    assert (minigrad.tensor(ints) & 5).tolist() == (torch.tensor(ints) & 5).tolist()
    assert (~minigrad.tensor(ints)).tolist() == (~torch.tensor(ints)).tolist()


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_div_rounding_modes_like_torch(mode):
    for a, b in (([7.0, -7.0, 7.5], [2.0, 2.0, -2.0]), ([7, -7, 8], [2, 2, -3])):
        ours = minigrad.div(minigrad.tensor(a), minigrad.tensor(b), rounding_mode=mode)
        ref = torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode)
        assert ours.tolist() == ref.tolist() and str(ours.dtype) == str(ref.dtype)[6:]


def test_from_numpy_and_numpy_share_memory():
    array = np.zeros(3)
    t = minigrad.from_numpy(array)
    assert t.dtype == minigrad.float64
    t[1] = 2.0
    t += 1
    assert array.tolist() == [1.0, 3.0, 1.0]
    array[0] = -1
    assert t[0].item() == -1.0
    n = t.numpy()
    n[2] = 7.0
    assert t[2].item() == 7.0 and array[2] == 7.0
    with pytest.raises(TypeError):
        minigrad.from_numpy([1, 2])
    with pytest.raises(TypeError, match="uint32"):
        minigrad.from_numpy(np.zeros(2, np.uint32))
    assert minigrad.from_numpy(np.zeros(2, np.int32)).dtype == minigrad.int32


def test_randint_randperm_and_like_functions():
    minigrad.manual_seed(0)
    a = minigrad.randint(3, 8, (1000,))
    assert a.dtype == minigrad.int64 and a.shape == (1000,)
    assert a.min().item() == 3 and a.max().item() == 7
    assert minigrad.randint(5, (2, 3)).shape == (2, 3)
    assert minigrad.randint(5, size=(4,)).max().item() < 5
    p = minigrad.randperm(10)
    assert p.dtype == minigrad.int64 and sorted(p.tolist()) == list(range(10))
    minigrad.manual_seed(1)
    first = minigrad.randperm(10).tolist()
    minigrad.manual_seed(1)
    assert minigrad.randperm(10).tolist() == first
    x = minigrad.randn(2, 3, dtype=minigrad.float64)
    for like in (minigrad.empty_like(x), minigrad.full_like(x, 7), minigrad.zeros_like(x),
                 minigrad.ones_like(x), minigrad.rand_like(x), minigrad.randn_like(x)):
        assert like.shape == (2, 3) and like.dtype == minigrad.float64
    assert minigrad.full_like(x, 7).tolist() == torch.full_like(torch.zeros(2, 3), 7).tolist()
    r = minigrad.randint_like(x, 10)
    assert r.shape == (2, 3) and r.dtype == minigrad.float64
    with pytest.raises(RuntimeError):
        minigrad.randint(5, 5, (2,))


def test_linspace_eye_empty_like_torch():
    assert np.allclose(minigrad.linspace(0, 1, 5).tolist(), torch.linspace(0, 1, 5).tolist())
    assert minigrad.linspace(-1, 1, 3).dtype == minigrad.float32
    assert minigrad.eye(3, 2).tolist() == torch.eye(3, 2).tolist()
    assert minigrad.empty(2, 3).shape == (2, 3) and minigrad.empty((4,)).dtype == minigrad.float32
    assert minigrad.is_tensor(minigrad.zeros(1)) and not minigrad.is_tensor([1])


def test_function_forms_of_comparisons_and_reductions():
    a, b = normal(3, 4), normal(3, 4)
    for name in ("eq", "ne", "lt", "le", "gt", "ge", "maximum"):
        ours = getattr(minigrad, name)(minigrad.tensor(a), minigrad.tensor(b))
        ref = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        assert ours.tolist() == ref.tolist()
    m = minigrad.tensor(a) > 0
    assert minigrad.any(m).item() == torch.any(torch.tensor(a) > 0).item()
    assert minigrad.all(m).item() == torch.all(torch.tensor(a) > 0).item()
    assert minigrad.numel(minigrad.tensor(a)) == 12
    assert minigrad.sum(minigrad.tensor([True, True, False])).item() == 2
    with pytest.raises(NotImplementedError, match="out="):
        minigrad.exp(minigrad.tensor(a), out=minigrad.tensor(b))


def test_more_methods_values_like_torch():
    a = normal(3, 4)
    for f in (lambda m, x: m.isclose(x, x + 1e-9), lambda m, x: m.allclose(x, x * 1.1),
              lambda m, x: x.new_zeros(2, 3), lambda m, x: x.new_ones((2,)),
              lambda m, x: x.new_full((2, 2), 7.0), lambda m, x: x.new_tensor([1, 2]),
              lambda m, x: m.nn.functional.one_hot(m.tensor([0, 2, 1]), 4),
              lambda m, x: m.nn.functional.one_hot(m.tensor([[1], [3]])),
              lambda m, x: m.cumsum(m.tensor([True, False, True]), 0),
              lambda m, x: m.round(m.tensor([0.5, 1.5, 2.5, -0.5])),
              lambda m, x: m.round(m.tensor([1.234, 5.678]), decimals=1),
              lambda m, x: m.tensor([3, -2]).floor()):
        ours, ref = f(minigrad, minigrad.tensor(a)), f(torch, torch.tensor(a))
        if isinstance(ref, bool):
            assert ours == ref
            continue
        assert str(ours.dtype) == str(ref.dtype).replace("torch.", "")
        np.testing.assert_allclose(np.asarray(ours.tolist()), np.asarray(ref.tolist()),
                                   rtol=1e-6)
    x = minigrad.zeros(3, 1)
    assert x.expand(3, 4).shape == (3, 4)
    with pytest.raises(RuntimeError):
        x.expand(2, 4)
    with pytest.raises(RuntimeError):
        minigrad.nn.functional.one_hot(minigrad.tensor([3]), 2)


def test_tests_counts_and_types_like_torch():
    a = np.array([[0.0, np.nan, 2.0], [np.inf, 0.0, -1.0]])
    for f in (lambda m, x: m.isnan(x), lambda m, x: m.isinf(x), lambda m, x: m.isfinite(x),
              lambda m, x: m.nonzero(x), lambda m, x: m.count_nonzero(x),
              lambda m, x: x.count_nonzero(1), lambda m, x: (x > 0).type(m.float),
              lambda m, x: m.nonzero(x, as_tuple=True)[1]):
        ours, ref = f(minigrad, minigrad.tensor(a)), f(torch, torch.tensor(a))
        assert str(ours.dtype) == str(ref.dtype).replace("torch.", "")
        assert ours.tolist() == ref.tolist()
    x = minigrad.tensor(a)
    assert x.type() == "minigrad.DoubleTensor" and x.is_floating_point()
    assert x.element_size() == 8 and not minigrad.tensor([1]).is_floating_point()
    minigrad.manual_seed(0)
    b = minigrad.full((2000,), 0.25).bernoulli()
    assert b.dtype == minigrad.float32 and set(b.tolist()) <= {0.0, 1.0}
    assert 0.2 < b.mean().item() < 0.3
    assert x.new_empty(2).shape == (2,)


def test_multinomial():
    minigrad.manual_seed(0)
    probs = minigrad.tensor([0.0, 1.0, 3.0])
    draws = minigrad.multinomial(probs, 4000, replacement=True)
    assert draws.dtype == minigrad.int64 and draws.shape == (4000,)
    counts = np.bincount(draws.numpy(), minlength=3)
    assert counts[0] == 0 and 0.70 < counts[2] / 4000 < 0.80
    rows = minigrad.tensor([[1.0, 1.0, 1.0], [2.0, 1.0, 1.0]]).multinomial(3)
    assert rows.shape == (2, 3) and all(sorted(r) == [0, 1, 2] for r in rows.tolist())
    assert minigrad.tensor([[1.0, 1.0], [0.0, 1.0]]).multinomial(1)[1, 0].item() == 1
    with pytest.raises(RuntimeError):                 # PyTorch draws a zero-probability one
        minigrad.tensor([0.0, 0.0, 1.0]).multinomial(2)
    with pytest.raises(RuntimeError):
        minigrad.tensor([1.0, 1.0]).multinomial(3)
    with pytest.raises(RuntimeError):
        minigrad.tensor([-1.0, 1.0]).multinomial(1)


# ---- float16 on the CPU ---------------------------------------------------------------------
def test_half_arithmetic_like_torch():
    a, b = normal(4, 5), positive(4, 5)
    ours = minigrad.tensor(a).half()
    ref = torch.tensor(a).half()
    assert ours.dtype == minigrad.float16 and ours.dtype == minigrad.half
    assert str(ref.dtype) == "torch.float16"
    mb, tb = minigrad.tensor(b).half(), torch.tensor(b).half()
    for f in (lambda x, y: x + y, lambda x, y: x * y - 1.5, lambda x, y: x / y,
              lambda x, y: (x * 2).exp(), lambda x, y: y.sqrt() + y.log(),
              lambda x, y: x @ y.T, lambda x, y: x.softmax(1), lambda x, y: x.relu()):
        o, r = f(ours, mb), f(ref, tb)
        assert o.dtype == minigrad.float16
        # float16 has 11 bits of mantissa: results agree to a few units in the last place
        np.testing.assert_allclose(o.numpy().astype(np.float64), r.numpy().astype(np.float64),
                                   rtol=4e-3, atol=4e-3)
    assert (ours + minigrad.tensor(a).float()).dtype == minigrad.float32     # promotion as PyTorch
    assert (ours + minigrad.tensor(a).double()).dtype == minigrad.float64
    assert (ours + 1).dtype == minigrad.float16
    assert minigrad.zeros(2, dtype=minigrad.half).dtype == minigrad.float16
    assert "dtype=minigrad.float16" in repr(ours)


def test_half_gradient_like_torch():
    a = normal(3, 4)
    x = minigrad.tensor(a).half().requires_grad_()
    (x * x).sum().backward()
    t = torch.tensor(a).half().requires_grad_()
    (t * t).sum().backward()
    assert x.grad.dtype == minigrad.float16
    np.testing.assert_allclose(x.grad.numpy().astype(float), t.grad.numpy().astype(float),
                               rtol=2e-3)


def test_generator_objects_repeat_and_leave_the_global_one_alone():
    def draws(g):
        return (minigrad.randn(3, generator=g).tolist(), minigrad.rand(2, generator=g).tolist(),
                minigrad.randint(0, 100, (4,), generator=g).tolist(),
                minigrad.randperm(5, generator=g).tolist(),
                minigrad.tensor([1.0, 2.0, 3.0]).multinomial(2, generator=g).tolist())
    first = draws(minigrad.Generator().manual_seed(2147483647))
    minigrad.manual_seed(0)
    expected_global = minigrad.randn(2).tolist()
    minigrad.manual_seed(0)
    again = draws(minigrad.Generator().manual_seed(2147483647))
    assert first == again
    assert minigrad.randn(2).tolist() == expected_global        # the global one was not used
    parts = minigrad.utils.data.random_split(range(10), [5, 5],
                                             generator=minigrad.Generator().manual_seed(1))
    again = minigrad.utils.data.random_split(range(10), [5, 5],
                                             generator=minigrad.Generator().manual_seed(1))
    assert parts[0].indices == again[0].indices
    with pytest.raises(TypeError):
        minigrad.randn(2, generator=object())


def test_a_makemore_style_step_runs():
    """Character-level MLP as in makemore part 2, with only the import changed."""
    torch_ = minigrad
    g = torch_.Generator().manual_seed(2147483647)
    C = torch_.randn((27, 10), generator=g)
    W1 = torch_.randn((30, 200), generator=g) * 0.2
    b1 = torch_.randn(200, generator=g) * 0.01
    W2 = torch_.randn((200, 27), generator=g) * 0.01
    b2 = torch_.zeros(27)
    parameters = [C, W1, b1, W2, b2]
    for p in parameters:
        p.requires_grad = True
    X = torch_.randint(0, 27, (32, 3), generator=g)
    Y = torch_.randint(0, 27, (32,), generator=g)
    losses = []
    for _ in range(5):
        emb = C[X]
        h = torch_.tanh(emb.view(-1, 30) @ W1 + b1)
        logits = h @ W2 + b2
        loss = torch_.nn.functional.cross_entropy(logits, Y)
        for p in parameters:
            p.grad = None
        loss.backward()
        for p in parameters:
            p.data += -0.1 * p.grad.data
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    probs = torch_.softmax(logits[:1], dim=1)
    ix = torch_.multinomial(probs, num_samples=1, replacement=True, generator=g).item()
    assert 0 <= ix < 27
