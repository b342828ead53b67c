"""The torch and Tensor names a tutorial types, against PyTorch (values and
gradients in float64 and float32, on the CPU and the GPU) and by finite differences, in the
style of test_torch_functions; then what the cases cannot say: integer results, dtypes,
grad modes, hooks, in-place versions, the default dtype and the random state."""
import functools

import numpy as np
import pytest
import torch

import minigrad
from helpers import check_against_torch, gradcheck_numpy

rng = np.random.default_rng(21)


def normal(*shape):
    return rng.standard_normal(shape)


def positive(*shape):
    return rng.uniform(0.5, 2.0, shape)


def distinct(*shape):
    """Tie-free values (min and max pick single elements)."""
    return rng.permutation(np.prod(shape)).reshape(shape) / 7.0 - 1.0


def with_zeros(*shape):
    """Normal values with some exact zeros (one in a row, two in another): prod's and
    cumprod's gradients must not divide by them."""
    x = normal(*shape)
    x[0, 1] = 0.0
    x[-1, 0] = x[-1, 2] = 0.0
    return x


def index(n, *shape):
    return rng.integers(0, n, shape)


# name: (f(m, *tensors) with m minigrad or torch, inputs)
CASES = {
    "prod_all": (lambda m, a: m.prod(a), [positive(3, 4)]),
    "prod_dim": (lambda m, a: a.prod(1), [normal(3, 4)]),
    "prod_keepdim": (lambda m, a: m.prod(a, 0, keepdim=True), [normal(3, 4)]),
    "prod_zeros": (lambda m, a: a.prod(1) + a.prod(0).sum(), [with_zeros(3, 4)]),
    "prod_all_one_zero": (lambda m, a: a.prod(), [with_zeros(3, 4)[:2]]),
    "cumprod": (lambda m, a: m.cumprod(a, 1), [normal(3, 4)]),
    "cumprod_zeros": (lambda m, a: a.cumprod(dim=1) + a.cumprod(0), [with_zeros(3, 4)]),
    "repeat_interleave_int": (lambda m, a: a.repeat_interleave(2), [normal(2, 3)]),
    "repeat_interleave_dim": (lambda m, a: m.repeat_interleave(a, 3, dim=1), [normal(2, 3)]),
    "repeat_interleave_tensor": (lambda m, a: a.repeat_interleave(m.tensor([1, 0, 2]), dim=1),
                                 [normal(2, 3)]),
    "amin": (lambda m, a: m.amin(a, (0, 2)), [distinct(2, 3, 4)]),
    "amin_keepdim": (lambda m, a: a.amin(1, keepdim=True), [distinct(3, 4)]),
    "aminmax": (lambda m, a: m.aminmax(a, dim=0).min * m.aminmax(a, dim=0).max,
                [distinct(3, 4)]),
    "diag_matrix": (lambda m, a: m.diag(a), [normal(3, 4)]),
    "diag_vector": (lambda m, a: m.diag(a, 1) + 0, [normal(3)]),
    "diag_vector_below": (lambda m, a: a.diag(-2), [normal(3)]),
    "diagonal": (lambda m, a: m.diagonal(a, 1), [normal(3, 4)]),
    "diagonal_dims": (lambda m, a: a.diagonal(offset=-1, dim1=2, dim2=0), [normal(4, 2, 3)]),
    "trace": (lambda m, a: m.trace(a), [normal(3, 4)]),
    "tan": (lambda m, a: m.tan(a), [normal(3, 4) * 0.5]),
    "sinh_cosh": (lambda m, a: m.sinh(a) * a.cosh(), [normal(3, 4)]),
    "erf": (lambda m, a: m.erf(a), [normal(3, 4)]),
    "atan2": (lambda m, a, b: m.atan2(a, b), [normal(3, 4), normal(3, 4)]),
    "atan2_broadcast": (lambda m, a, b: a.atan2(b), [normal(3, 4), normal(4)]),
    "lerp": (lambda m, a, b: m.lerp(a, b, 0.3), [normal(3, 4), normal(3, 4)]),
    "lerp_tensor_weight": (lambda m, a, b, w: a.lerp(b, w), [normal(3, 4), normal(3, 4),
                                                             normal(4)]),
    "addcmul": (lambda m, a, b, c: m.addcmul(a, b, c, value=0.5),
                [normal(3, 4), normal(3, 4), normal(4)]),
    "addcdiv": (lambda m, a, b, c: a.addcdiv(b, c, value=-2),
                [normal(3, 4), normal(3, 4), positive(3, 4)]),
    "mv": (lambda m, a, v: m.mv(a, v), [normal(3, 4), normal(4)]),
    "mT": (lambda m, a: a.mT * 1, [normal(2, 3, 4)]),
    "tensor_split_sections": (lambda m, a: m.tensor_split(a, 3, dim=1)[0] * 2 +
                              a.tensor_split(3, 1)[1][:, :1], [normal(2, 7)]),
    "tensor_split_indices": (lambda m, a: a.tensor_split([1, 3])[1] * a.tensor_split([1, 3])[2],
                             [normal(5, 2)]),
    "meshgrid_ij": (lambda m, a, b: m.meshgrid(a, b, indexing="ij")[0] *
                    m.meshgrid(a, b, indexing="ij")[1], [normal(3), normal(4)]),
    "meshgrid_xy": (lambda m, a, b, c: m.meshgrid(a, b, c, indexing="xy")[0] +
                    m.meshgrid([a, b, c], indexing="xy")[2] ** 2 *
                    m.meshgrid(a, b, c, indexing="xy")[1],
                    [normal(3), normal(4), normal(2)]),
    "index_add": (lambda m, a, s: m.index_add(a, 0, m.tensor([2, 0, 2]), s, alpha=2),
                  [normal(3, 4), normal(3, 4)]),
    "index_add_dim1": (lambda m, a, s: a.index_add(1, m.tensor([1, 3]), s),
                       [normal(3, 4), normal(3, 2)]),
    "index_fill": (lambda m, a: m.index_fill(a, 1, m.tensor([0, 2]), -1.5), [normal(3, 4)]),
    "scatter_inplace": (lambda m, a, s: (a * 1).scatter_(1, m.tensor([[0, 2], [1, 3]]), s),
                        [normal(2, 4), normal(2, 2)]),
    "scatter_add_inplace": (lambda m, a, s: (a * 1).scatter_add_(0, m.tensor([[1, 0], [1, 1]]),
                                                                  s),
                            [normal(2, 2), normal(2, 2)]),
    "index_add_inplace": (lambda m, a, s: (a + 0).index_add_(0, m.tensor([1, 1]), s),
                          [normal(2, 3), normal(2, 3)]),
    "index_fill_inplace": (lambda m, a: (a * 2).index_fill_(0, m.tensor([1]), 0.0),
                           [normal(3, 2)]),
    "unsqueeze_squeeze_inplace": (lambda m, a: (a * 1).unsqueeze_(1).squeeze_(1).unsqueeze_(0),
                                  [normal(3, 2)]),
    "normal_tensors": (lambda m, a, s: _seeded(m, lambda: m.normal(a, s)) * 0 + a * s,
                       [normal(3), positive(3)]),
}


def _seeded(m, draw):
    m.manual_seed(0)
    return draw()


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


# ---- what the cases above cannot say ---------------------------------------------------------
def test_integer_results_and_dtypes_like_torch(device):
    a = [[3, 1, 2], [0, 5, 4]]
    for name, call in [
        ("prod", lambda m, t: m.prod(t)), ("prod_dim", lambda m, t: t.prod(1)),
        ("cumprod", lambda m, t: t.cumprod(0)), ("amin", lambda m, t: t.amin(1)),
        ("repeat_interleave", lambda m, t: t.repeat_interleave(2, dim=0)),
        ("diag", lambda m, t: m.diag(t)), ("trace", lambda m, t: t.trace()),
        ("argwhere", lambda m, t: m.argwhere(t)),
        ("index_fill", lambda m, t: t.index_fill(1, m.tensor([1]), 9)),
        ("index_add", lambda m, t: t.index_add(0, m.tensor([1, 1]), t)),
        ("bool_prod", lambda m, t: (t > 0).prod()),
        ("tensor_split", lambda m, t: m.tensor_split(t, 2, dim=1)[1]),
        ("comparisons", lambda m, t: m.greater(t, 2) & t.less_equal(4) | m.not_equal(t, 0)),
    ]:
        ours = call(minigrad, minigrad.tensor(a, device=device))
        ref = call(torch, torch.tensor(a))
        assert ours.cpu().tolist() == ref.tolist(), name
        assert str(ours.dtype) == str(ref.dtype).replace("torch.", ""), name


def test_aminmax_and_unique_like_torch(device):
    t = [[3.0, -1.0, 2.0], [3.0, 0.5, -1.0]]
    ours = minigrad.aminmax(minigrad.tensor(t, device=device))
    ref = torch.aminmax(torch.tensor(t))
    assert (ours.min.item(), ours.max.item()) == (ref.min.item(), ref.max.item())
    ours = minigrad.tensor(t, device=device).aminmax(dim=1, keepdim=True)
    ref = torch.tensor(t).aminmax(dim=1, keepdim=True)
    assert ours.min.cpu().tolist() == ref.min.tolist()
    assert ours.max.cpu().tolist() == ref.max.tolist()
    for kw in ({}, {"return_inverse": True}, {"return_counts": True},
               {"return_inverse": True, "return_counts": True}):
        ours = minigrad.unique(minigrad.tensor(t, device=device), **kw)
        ref = torch.unique(torch.tensor(t), **kw)
        ours, ref = (ours, ref) if kw else ((ours,), (ref,))
        for o, r in zip(ours, ref):
            assert o.cpu().tolist() == r.tolist() and o.shape == tuple(r.shape)
            assert str(o.dtype) == str(r.dtype).replace("torch.", "")
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    assert not x.unique().requires_grad
    with pytest.raises(NotImplementedError):
        minigrad.unique(minigrad.tensor(t), dim=0)


def test_repeat_interleave_of_counts_like_torch():
    counts = [2, 0, 3]
    assert minigrad.repeat_interleave(minigrad.tensor(counts)).tolist() == \
        torch.repeat_interleave(torch.tensor(counts)).tolist()
    for m in (minigrad, torch):
        with pytest.raises(RuntimeError):
            m.tensor([1.0, 2.0]).repeat_interleave(m.tensor([1, 2, 3]), dim=0)


def test_prod_gradient_with_zeros_is_the_product_of_the_others():
    x = minigrad.tensor([2.0, 0.0, 3.0, 4.0], requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 24.0, 0.0, 0.0]
    x = minigrad.tensor([0.0, 3.0, 0.0], requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_set_grad_enabled_as_call_and_context_manager():
    w = minigrad.tensor([1.0], requires_grad=True)
    with minigrad.set_grad_enabled(False):
        assert not minigrad.is_grad_enabled()
        assert not (w * 2).requires_grad
    assert minigrad.is_grad_enabled()
    with minigrad.no_grad():
        with minigrad.set_grad_enabled(True):
            assert (w * 2).requires_grad
        assert not minigrad.is_grad_enabled()
    try:
        minigrad.set_grad_enabled(False)
        assert not minigrad.is_grad_enabled() and not (w * 2).requires_grad
    finally:
        minigrad.set_grad_enabled(True)
    assert minigrad.is_grad_enabled()
    with pytest.raises(TypeError):
        minigrad.set_grad_enabled("no")

    @minigrad.set_grad_enabled(False)
    def evaluate(x):
        return x * 2
    assert minigrad.is_grad_enabled()                  # decorating changed nothing
    assert not evaluate(w).requires_grad and minigrad.is_grad_enabled()


def test_inference_mode_records_no_graph():
    w = minigrad.tensor([1.0], requires_grad=True)
    with minigrad.inference_mode():
        assert not (w * 2).requires_grad
    with minigrad.inference_mode(False):
        assert (w * 2).requires_grad

    @minigrad.inference_mode()
    def f(x):
        return x * 2

    @minigrad.inference_mode
    def g(x):
        return x * 2
    assert not f(w).requires_grad and not g(w).requires_grad
    assert minigrad.is_grad_enabled()


def test_default_dtype_float64_and_back():
    assert minigrad.get_default_dtype() == minigrad.float32
    try:
        minigrad.set_default_dtype(minigrad.float64)
        assert minigrad.get_default_dtype() == minigrad.float64
        assert minigrad.tensor([1.5]).dtype == minigrad.float64
        assert minigrad.randn(2).dtype == minigrad.float64
        assert minigrad.zeros(2).dtype == minigrad.float64
        assert minigrad.arange(0.0, 1.0, 0.5).dtype == minigrad.float64
        assert (minigrad.tensor([1, 2]) * 0.5).dtype == minigrad.float64
        assert (minigrad.tensor([1, 2]) / 2).dtype == minigrad.float64
        assert minigrad.nn.Linear(2, 3).weight.dtype == minigrad.float64
        assert minigrad.nn.LayerNorm(3).weight.dtype == minigrad.float64
        assert minigrad.tensor([1, 2]).dtype == minigrad.int64
        assert repr(minigrad.tensor([1.5])) == "tensor([1.5000])"
        assert "float32" in repr(minigrad.tensor([1.5], dtype=minigrad.float32))
    finally:
        minigrad.set_default_dtype(minigrad.float32)
    assert minigrad.tensor([1.5]).dtype == minigrad.float32
    with pytest.raises(TypeError, match="float32 and float64"):
        minigrad.set_default_dtype(minigrad.int64)
    with pytest.raises(TypeError):
        torch.set_default_dtype(torch.int64)


def test_register_hook_on_leaf_and_non_leaf_like_torch():
    def run(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        seen = []
        x.register_hook(lambda g: seen.append(g.tolist()))
        y = x * x
        y.register_hook(lambda g: g * 10)              # replaces y's gradient
        handle = y.register_hook(lambda g: g + 100)
        handle.remove()
        (y.sum() + x.sum()).backward()
        return x.grad.tolist(), seen
    assert run(minigrad) == run(torch)


def test_retain_grad_keeps_a_non_leaf_gradient_like_torch():
    def run(m):
        x = m.tensor([1.0, -2.0], requires_grad=True)
        y = x * 3
        z = y.exp()
        flags = (y.retains_grad, x.retains_grad)
        y.retain_grad()
        z.retain_grad()
        y.register_hook(lambda g: g * 2)              # the retained grad is after the hook
        z.sum().backward(retain_graph=True)
        first = (y.grad.tolist(), z.grad.tolist())
        z.sum().backward()
        return flags, y.retains_grad, x.retains_grad, first, y.grad.tolist(), x.grad.tolist()
    ours, ref = run(minigrad), run(torch)
    assert ours[:3] == ref[:3]
    np.testing.assert_allclose(np.array(ours[3][0]), np.array(ref[3][0]), rtol=1e-6)
    np.testing.assert_allclose(ours[4], ref[4], rtol=1e-6)
    np.testing.assert_allclose(ours[5], ref[5], rtol=1e-6)
    for m in (minigrad, torch):
        with pytest.raises(RuntimeError):
            m.tensor([1.0]).register_hook(lambda g: g)
    x = minigrad.tensor([1.0], requires_grad=True)
    x.register_hook(lambda g: minigrad.zeros(3))
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).sum().backward()


def test_memory_facts_like_torch(device):
    for make in (lambda m: m.zeros(2, 3, 4), lambda m: m.zeros(2, 3, 4).permute(2, 0, 1),
                 lambda m: m.zeros(3, 1).expand(3, 4), lambda m: m.zeros(2, 3, 4)[:, 1]):
        ours, ref = make(minigrad), make(torch)
        if device == "cuda":
            ours = ours.to("cuda")
        assert ours.stride() == ref.stride() or device == "cuda"
        assert ours.is_contiguous() == ref.is_contiguous() or device == "cuda"
        assert ours.contiguous().is_contiguous()
        assert (ours.nelement(), ours.ndimension()) == (ref.nelement(), ref.ndimension())
        assert (ours.itemsize, ours.nbytes) == (ref.itemsize, ref.nbytes)
    t = minigrad.zeros(2, device=device)
    assert (t.is_cuda, t.is_cpu) == (device == "cuda", device == "cpu")
    assert minigrad.zeros(2, 3).stride(1) == 1
    assert minigrad.zeros(2).int().dtype == minigrad.int32


def test_inplace_index_ops_bump_the_version_and_write_in_place():
    for call in (lambda t: t.scatter_(0, minigrad.tensor([1]), 5.0),
                 lambda t: t.scatter_add_(0, minigrad.tensor([1]), minigrad.ones(1)),
                 lambda t: t.index_add_(0, minigrad.tensor([2]), minigrad.ones(1)),
                 lambda t: t.index_fill_(0, minigrad.tensor([0]), -1.0)):
        t = minigrad.zeros(3)
        alias = t
        before = t._version
        assert call(t) is t and t._version == before + 1
        assert alias.tolist() == t.tolist() and t.tolist() != [0.0, 0.0, 0.0]
    leaf = minigrad.zeros(3, requires_grad=True)
    for m, t in ((minigrad, leaf), (torch, torch.zeros(3, requires_grad=True))):
        with pytest.raises(RuntimeError, match="leaf"):
            t.index_fill_(0, m.tensor([0]), 1.0)
        with pytest.raises(RuntimeError, match="leaf"):
            t.unsqueeze_(0)
    t = minigrad.zeros(3)
    assert t.unsqueeze_(0) is t and t.shape == (1, 3)
    assert t.squeeze_() is t and t.shape == (3,)


def test_meshgrid_and_normal_arguments():
    for m in (minigrad, torch):
        with pytest.raises(RuntimeError):
            m.meshgrid(m.zeros(2), m.zeros(3), indexing="yx")
    minigrad.manual_seed(0)
    x = minigrad.normal(2.0, 3.0, size=(4000,))
    assert x.shape == (4000,) and x.dtype == minigrad.float32
    assert abs(x.mean().item() - 2.0) < 0.3 and abs(x.std().item() - 3.0) < 0.3
    mean = minigrad.zeros(2, 1)
    assert minigrad.normal(mean, minigrad.ones(3)).shape == (2, 3)
    assert minigrad.normal(mean, 2.0).shape == (2, 1)
    with pytest.raises(TypeError):
        minigrad.normal(0.0, 1.0)


def test_seeds_and_rng_state():
    minigrad.manual_seed(123)
    assert minigrad.initial_seed() == 123
    state = minigrad.get_rng_state()
    a = minigrad.randn(5)
    b = minigrad.rand(2)
    minigrad.set_rng_state(state)
    assert minigrad.randn(5).tolist() == a.tolist() and minigrad.rand(2).tolist() == b.tolist()
    s = minigrad.seed()
    assert minigrad.initial_seed() == s and isinstance(s, int)
    with pytest.raises(RuntimeError):
        minigrad.set_rng_state(minigrad.zeros(3))


def test_axis_is_another_name_for_dim():
    """d2l writes X.sum(axis=1) and y_hat.argmax(axis=1); PyTorch takes axis= as dim=."""
    x = distinct(3, 4)
    for name, kw in [("sum", {}), ("mean", {"keepdim": True}), ("argmax", {}), ("argmin", {}),
                     ("prod", {}), ("std", {}), ("cumsum", {}), ("softmax", {}),
                     ("logsumexp", {}), ("amax", {})]:
        for dtype in ("float64", "float32"):
            ours = getattr(minigrad.tensor(x, dtype=getattr(minigrad, dtype)), name)(axis=1, **kw)
            ref = getattr(torch.tensor(x, dtype=getattr(torch, dtype)), name)(axis=1, **kw)
            np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-5, err_msg=name)
    v, i = minigrad.tensor(x).max(axis=0)
    rv, ri = torch.tensor(x).max(axis=0)
    assert np.array_equal(v.numpy(), rv.numpy()) and np.array_equal(i.numpy(), ri.numpy())
    assert np.array_equal(minigrad.sum(minigrad.tensor(x), axis=0).numpy(),
                          torch.sum(torch.tensor(x), axis=0).numpy())
    with pytest.raises(TypeError):
        minigrad.tensor(x).sum(0, axis=1)


def test_any_and_all_along_dims():
    x = np.array([[0, 1, 0], [0, 1, 1]]) > 0
    for kw in ({}, {"dim": 1}, {"dim": 0, "keepdim": True}, {"dim": (0, 1)}, {"dim": -1}):
        for name in ("any", "all"):
            ours = getattr(minigrad.tensor(x), name)(**kw)
            ref = getattr(torch.tensor(x), name)(**kw)
            assert ours.dtype == minigrad.bool and ours.shape == tuple(ref.shape), (name, kw)
            assert np.array_equal(ours.numpy(), ref.numpy()), (name, kw)
    assert minigrad.any(minigrad.tensor(x), dim=0).tolist() == [False, True, True]


def test_where_with_the_condition_alone_gives_indices():
    x = normal(3, 4)
    ours = minigrad.where(minigrad.tensor(x) > 0)
    ref = torch.where(torch.tensor(x) > 0)
    assert isinstance(ours, tuple) and len(ours) == 2
    for o, r in zip(ours, ref):
        assert o.dtype == minigrad.int64 and np.array_equal(o.numpy(), r.numpy())
    with pytest.raises(TypeError):
        minigrad.where(minigrad.tensor(x) > 0, 1.0)


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4), (2, 3, 4, 2)])
def test_softmax_without_dim_picks_pytorchs_implicit_dim(shape):
    import minigrad.nn.functional as F
    x = normal(*shape)
    for name in ("softmax", "log_softmax"):
        with pytest.warns(UserWarning, match="Implicit dimension"):
            ours = getattr(F, name)(minigrad.tensor(x))
        with pytest.warns(UserWarning, match="Implicit dimension"):
            ref = getattr(torch.nn.functional, name)(torch.tensor(x))
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-10)


def test_keepdims_is_another_name_for_keepdim():
    """makemore writes P.sum(1, keepdims=True); PyTorch takes it as keepdim."""
    x = positive(3, 4)
    for name in ("sum", "mean", "amax", "std"):
        ours = getattr(minigrad.tensor(x), name)(1, keepdims=True)
        ref = getattr(torch.tensor(x), name)(1, keepdims=True)
        assert ours.shape == tuple(ref.shape) == (3, 1), name
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-10, err_msg=name)
    p = minigrad.tensor(x)
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(p.sum(1).numpy(), np.ones(3), rtol=1e-12)
    with pytest.raises(TypeError):
        minigrad.tensor(x).sum(1, True, keepdims=True)


def test_equal_is_shape_and_values_as_torch():
    for a, b in [([1.0, 2.0], [1.0, 2.0]), ([1.0, 2.0], [1.0, 3.0]), ([1.0], [[1.0]]),
                 ([1, 2], [1.0, 2.0])]:
        ref = torch.equal(torch.tensor(a), torch.tensor(b))
        assert minigrad.equal(minigrad.tensor(a), minigrad.tensor(b)) is ref, (a, b)
        assert minigrad.tensor(a).equal(minigrad.tensor(b)) is ref, (a, b)


def test_softmax_and_log_softmax_take_a_dtype():
    """torch.softmax(x, dim, dtype=torch.float64), a mixed-precision idiom (a TypeError
    before): the input is converted first, as PyTorch."""
    x = normal(3, 4).astype(np.float32)
    for name in ("softmax", "log_softmax"):
        ours = getattr(minigrad, name)(minigrad.tensor(x), 1, dtype=minigrad.float64)
        ref = getattr(torch, name)(torch.tensor(x), 1, dtype=torch.float64)
        assert ours.dtype == minigrad.float64
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)
        ours = getattr(minigrad.tensor(x), name)(-1, dtype=minigrad.float64)
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)
