"""The Tensor, the engine, factories, dtypes, devices and the errors for bad input: dims
checked as PyTorch checks them, a tensor as a Python object (NumPy's asarray, iteration,
float / int / format), repr as PyTorch prints, and dtype or device objects of other
libraries."""
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

import minigrad
from helpers import mg_torch, raises_like_torch, results
from minigrad import nn


def test_gradients_accumulate_across_backward_calls():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [3 + 2, 3 + 4]


def test_reused_non_leaf():
    a = minigrad.tensor(2.0, requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0


def test_diamond_graph_matches_torch():
    def f(lib_x):
        y = lib_x * 2
        return (y.exp() * y + y.tanh()).sum()
    x = minigrad.tensor([0.1, -0.3], dtype="float64", requires_grad=True)
    f(x).backward()
    t = torch.tensor([0.1, -0.3], dtype=torch.float64, requires_grad=True)
    f(t).backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_100000_deep_chain_backpropagates():
    x = minigrad.tensor(1.0, dtype="float64", requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0000001 ** 100_000, rel=1e-9)
    assert sys.getrecursionlimit() < 100_000


def test_backward_frees_graph_and_second_backward_is_a_clear_error():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    e = x.exp()
    y = (e * x).sum()
    y.backward()
    assert e.grad_fn.freed and e.grad_fn._saved == ()      # what backward needed is gone
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.tolist()
    y.backward()
    np.testing.assert_allclose(x.grad.tolist(), [2 * g for g in first], rtol=1e-6)


def test_no_grad_context_and_decorator():
    x = minigrad.tensor([1.0], requires_grad=True)
    with minigrad.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None

    @minigrad.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad
    assert (x * 2).requires_grad          # recording is back on afterwards
    with minigrad.no_grad():
        with minigrad.enable_grad():
            assert (x * 2).requires_grad


def test_detach_and_requires_grad_():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    w = minigrad.zeros(2).requires_grad_()
    assert w.requires_grad and w.is_leaf


def test_backward_needs_gradient_for_non_scalar():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"one-element output.*\(2,\)"):
        (x * 2).backward()
    (x * 2).backward(minigrad.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [2.0, 20.0]
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\)"):
        (x * 2).backward(minigrad.tensor([1.0, 1.0, 1.0]))


def test_backward_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        minigrad.tensor([1.0]).sum().backward()


def test_requires_grad_on_integer_tensor_is_an_error():
    with pytest.raises(RuntimeError, match="floating-point.*int64"):
        minigrad.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating-point"):
        minigrad.arange(3).requires_grad_()


def test_shape_mismatch_names_both_shapes():
    a, b = minigrad.zeros(2, 3), minigrad.zeros(4)
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4,\)"):
        a + b
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4,\).*3 != 4"):
        a @ b
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*\(4, 2\)"):
        a.reshape(4, 2)


def test_unknown_device_and_dtype_are_clear_errors():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        minigrad.zeros(2, device="tpu")
    with pytest.raises(ValueError, match="unknown device"):
        minigrad.tensor([1.0]).to("gpu")
    with pytest.raises(TypeError, match="unsupported dtype 'float8'"):
        minigrad.zeros(2, dtype="float8")
    with pytest.raises(TypeError, match="unsupported dtype"):
        minigrad.tensor([1.0], dtype=np.complex64)


def test_dtypes_of_new_tensors():
    assert minigrad.tensor([1.0, 2.0]).dtype == minigrad.float32
    assert minigrad.tensor(1.5).dtype == minigrad.float32
    assert minigrad.tensor(np.array([1.0])).dtype == minigrad.float64
    assert minigrad.tensor(np.array([1.0]), dtype=minigrad.float32).dtype == minigrad.float32
    assert minigrad.tensor([1, 2]).dtype == minigrad.int64
    assert minigrad.tensor(np.array([1, 2], np.int32)).dtype == minigrad.int32   # as torch
    assert minigrad.tensor(np.array([1, 2], np.uint32)).dtype == minigrad.int64  # no uint32
    assert minigrad.tensor([True]).dtype == minigrad.bool
    t = minigrad.tensor([1.7, -2.2])
    assert t.double().dtype == minigrad.float64 and t.long().tolist() == [1, -2]
    assert t.long().float().dtype == minigrad.float32


def test_cast_is_differentiable():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype == minigrad.float32 and x.grad.tolist() == [3.0, 3.0]


def test_properties_and_conversions():
    t = minigrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and t.ndim == 2 and len(t) == 2 and t.numel() == 6
    assert t.device == minigrad.device("cpu") and t.device == "cpu" and str(t.device) == "cpu"
    assert t.sum().item() == 21.0
    assert isinstance(t.numpy(), np.ndarray)
    assert t.cpu() is t or t.cpu().tolist() == t.tolist()
    assert t.to(minigrad.device("cpu")).tolist() == t.tolist()
    with pytest.raises(ValueError, match="one element"):
        t.item()
    with pytest.raises(RuntimeError, match="detach"):
        t.requires_grad_().numpy()


def test_repr_like_torch():
    assert repr(minigrad.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(minigrad.tensor([1.5, 2.0], requires_grad=True)) == \
        "tensor([1.5000, 2.0000], requires_grad=True)"
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward>)"
    assert repr((x * 2).sum()) == "tensor(6., grad_fn=<SumBackward>)"
    assert repr(minigrad.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(minigrad.tensor(np.array([1.0]))) == "tensor([1.], dtype=minigrad.float64)"


def test_factories():
    assert minigrad.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert minigrad.zeros((2, 3)).shape == (2, 3)
    assert minigrad.ones(2, dtype=minigrad.float64).dtype == minigrad.float64
    assert minigrad.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert minigrad.full((2,), 7).dtype == minigrad.int64
    assert minigrad.arange(4).tolist() == [0, 1, 2, 3]
    assert minigrad.arange(1, 2, 0.5).dtype == minigrad.float32
    assert minigrad.rand(3).dtype == minigrad.float32
    z = minigrad.zeros_like(minigrad.ones(2, 2, dtype="float64"), requires_grad=True)
    assert z.dtype == minigrad.float64 and z.requires_grad
    assert minigrad.ones_like(z).tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert minigrad.randn(2, 2, requires_grad=True).requires_grad


def test_manual_seed_repeats_draws():
    minigrad.manual_seed(42)
    a = minigrad.randn(5).tolist(), minigrad.rand(3).tolist(), nn.Linear(3, 2).weight.tolist()
    minigrad.manual_seed(42)
    b = minigrad.randn(5).tolist(), minigrad.rand(3).tolist(), nn.Linear(3, 2).weight.tolist()
    assert a == b
    minigrad.manual_seed(43)
    assert minigrad.randn(5).tolist() != a[0]


def test_cuda_reports_why_not(monkeypatch):
    reason = minigrad.cuda.unavailable_reason()
    assert minigrad.cuda.is_available() == (reason is None)
    if reason is not None:
        assert isinstance(reason, str) and reason
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            minigrad.zeros(2, device="cuda")


def test_import_does_not_touch_cuda():
    code = ("import sys, minigrad, minigrad.nn, minigrad.optim; "
            "print('cupy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.cuda
def test_mixed_devices_are_an_error_naming_both():
    a = minigrad.zeros(2)
    b = minigrad.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="cpu and cuda"):
        a + b


@pytest.mark.cuda
def test_to_cuda_and_back_is_differentiable():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("cuda")
    assert y.device == "cuda" and "device='cuda'" in repr(y)
    (y * y).sum().backward()
    assert x.grad.device == "cpu" and x.grad.tolist() == [2.0, 4.0]


def test_tensor_copies_its_data_like_torch_tensor():
    a = np.array([1.0, 2.0])
    t = minigrad.tensor(a)
    a[0] = 100.0
    assert t.tolist() == [1.0, 2.0]


def test_device_check_names_both_devices():
    from types import SimpleNamespace

    from minigrad.tensor import check_same_device
    class GpuArray:                      # what minigrad takes for GPU memory
        __cuda_array_interface__ = {}
    on = lambda d: SimpleNamespace(device=minigrad.device(d),
                                   _data=np.zeros(1) if d == "cpu" else GpuArray())
    check_same_device("add", [on("cpu"), on("cpu")])
    with pytest.raises(RuntimeError, match="add: .*cpu and cuda"):
        check_same_device("add", [on("cpu"), on("cuda")])


def test_tensor_from_python_data_with_another_dtype():
    assert minigrad.tensor([1, 2], dtype="float32").tolist() == [1.0, 2.0]
    assert minigrad.tensor([1.5, 2.5], dtype="int64").tolist() == [1, 2]
    assert minigrad.tensor(np.array([1, 2]), dtype="float64").dtype == minigrad.float64


# ---- dimensions are checked as PyTorch checks them ----------------------------------------------
@pytest.mark.parametrize("shape, call", [
    ((2, 3), lambda t: t.unsqueeze(5)), ((2, 3), lambda t: t.unsqueeze(-4)),
    ((2, 3), lambda t: t.squeeze(4)), ((2, 3), lambda t: t.permute(0, 3)),
    ((2, 3), lambda t: t.flatten(start_dim=5)), ((2, 3), lambda t: t.flatten(0, -3)),
    ((2, 3), lambda t: t.transpose(0, 2)), ((2, 3), lambda t: t.sum(2)),
    ((2, 3), lambda t: t.mean(-3)), ((2, 3), lambda t: t.max(2)),
    ((2, 3), lambda t: t.argmax(3)), ((2, 3), lambda t: t.size(2)), ((), lambda t: t.sum(1)),
    ((), lambda t: t.unsqueeze(2)), ((4,), lambda t: torch.nn.functional.log_softmax(t, 1)
                                       if isinstance(t, torch.Tensor)
                                       else nn.functional.log_softmax(t, 1)),
])
def test_out_of_range_dims_are_index_errors_like_torch(shape, call):
    x = np.zeros(shape)
    with pytest.raises(IndexError) as ref:
        call(torch.tensor(x))
    with pytest.raises(IndexError) as ours:
        call(minigrad.tensor(x))
    assert str(ours.value) == str(ref.value)          # "Dimension out of range (...)"
    assert str(ours.value).startswith("Dimension out of range (expected to be in range of [")


@pytest.mark.parametrize("call", [lambda t: t.squeeze(0), lambda t: t.squeeze(-1),
                                  lambda t: t.unsqueeze(-1), lambda t: t.sum(0),
                                  lambda t: t.flatten(), lambda t: t.argmax(0)])
def test_dims_of_a_0d_tensor_like_torch(call):
    ours, ref = call(minigrad.tensor(3.0)), call(torch.tensor(3.0))
    assert ours.shape == tuple(ref.shape) and ours.tolist() == ref.tolist()


def test_squeeze_0_of_a_0d_tensor_like_torch():
    assert minigrad.tensor(2.0).squeeze(0).shape == tuple(torch.tensor(2.0).squeeze(0).shape)


def test_permute_errors_like_torch():
    a, t = minigrad.zeros(2, 3), torch.zeros(2, 3)
    raises_like_torch(RuntimeError, lambda: a.permute(0, 0), lambda: t.permute(0, 0),
                      "duplicate dims are not allowed")
    raises_like_torch(RuntimeError, lambda: a.permute(0, 1, 2), lambda: t.permute(0, 1, 2))
    raises_like_torch(RuntimeError, lambda: minigrad.zeros(2, 3, 4).flatten(2, 1),
                      lambda: torch.zeros(2, 3, 4).flatten(2, 1),
                      "flatten() has invalid args: start_dim cannot come after end_dim")


# ---- tensors as Python objects ------------------------------------------------------------------
def test_numpy_asarray_gives_the_values():
    t, r = mg_torch([[1.0, 2.0], [3.0, 4.0]])
    a = np.asarray(t)
    assert a.dtype == np.float32 and a.tolist() == np.asarray(r).tolist()
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    raises_like_torch(RuntimeError, lambda: np.asarray(minigrad.zeros(2, requires_grad=True)),
                      lambda: np.asarray(torch.zeros(2, requires_grad=True)),
                      "Can't call numpy() on Tensor that requires grad")


def test_iteration_like_torch():
    t, r = mg_torch([[1.0, 2.0], [3.0, 4.0]])
    assert [row.tolist() for row in t] == [row.tolist() for row in r]
    raises_like_torch(TypeError, lambda: list(minigrad.tensor(1.0)),
                      lambda: list(torch.tensor(1.0)), "iteration over a 0-d tensor")


def test_comparison_with_none_like_torch():
    t, r = mg_torch([1.0, 2.0])
    assert (t == None) is (r == None) is False        # noqa: E711 (the point of the test)
    assert (t != None) is (r != None) is True         # noqa: E711
    assert t not in [None] and r not in [None]


def test_float_int_and_format_like_torch():
    for values in [[2.75], [[-2.75]], 3.5]:
        t, r = mg_torch(values)
        assert float(t) == float(r) and int(t) == int(r)
    loss, ref = mg_torch(0.123456)
    assert f"{loss:.4f}" == f"{ref:.4f}" == "0.1235"
    assert f"{minigrad.tensor([1.5])}" == f"{torch.tensor([1.5])}"
    raises_like_torch(TypeError, lambda: f"{minigrad.tensor([1.5]):.2f}",
                      lambda: f"{torch.tensor([1.5]):.2f}")
    raises_like_torch(ValueError, lambda: float(minigrad.tensor([1.0, 2.0])),
                      lambda: float(torch.tensor([1.0, 2.0])),
                      "only one element tensors can be converted to Python scalars")
    assert list(range(minigrad.tensor(3))) == [0, 1, 2]
    raises_like_torch(TypeError, lambda: range(minigrad.tensor(3.0)),
                      lambda: range(torch.tensor(3.0)))


@pytest.mark.parametrize("parts", [("f32", "f32"), ("f64", "f64"), ("i64", "i64")])
def test_tensor_from_a_list_of_0d_tensors_like_torch(parts):
    def make(lib):
        dtype = {"f32": lib.float32, "f64": lib.float64, "i64": lib.int64}
        return [lib.tensor(1.5 if p != "i64" else 2, dtype=dtype[p]) for p in parts]
    ours, ref = minigrad.tensor(make(minigrad)), torch.tensor(make(torch))
    assert str(ours.dtype) == str(ref.dtype).replace("torch.", "")
    assert ours.tolist() == ref.tolist()
    grads = minigrad.tensor([minigrad.tensor(1.0, requires_grad=True) * 2, 3.0])
    assert grads.tolist() == [2.0, 3.0] and not grads.requires_grad


# ---- repr of numbers, as PyTorch prints them ----------------------------------------------------
@pytest.mark.parametrize("values", [
    [1e10, 1.0], [1e-5, 1.0], [[1e-5, 2.5], [3.0, 4.0]], [1.0, 2.0, 1e3], [1.0, 2.0, 1e4],
    [math.nan, 1e10, math.inf], 1e10, [0.1, 1e-4], [123456789.0], [0.0, -0.0], [1.5, -2.25],
    [math.nan, 0.0], [], [1.0, 2.0], [[1, 2], [30, 400]], [True, False], [True],
    [0.5, 1e-3, 7.0, 12.0],
])
def test_repr_of_numbers_like_torch(values):
    assert repr(minigrad.tensor(values)) == repr(torch.tensor(values))


def test_repr_of_float64_and_large_tensors_like_torch():
    x = np.arange(2000.0).reshape(2, 1000) * 1e-6
    assert repr(minigrad.tensor(x)) == repr(torch.tensor(x)).replace("torch.", "minigrad.")
    y = np.random.default_rng(0).standard_normal((3, 30)) * 1e5
    assert repr(minigrad.tensor(y, dtype="float32")) == \
        repr(torch.tensor(y, dtype=torch.float32))


# ---- dtype and device objects of other libraries ------------------------------------------------
def test_foreign_dtype_and_device_objects_are_understood_by_name():
    t = minigrad.tensor([1.0, 2.0], dtype=torch.float64)
    assert t.dtype == minigrad.float64
    assert minigrad.tensor([1, 2], dtype=torch.float32).dtype == minigrad.float32
    assert t.to(torch.device("cpu")) is t                         # a device, not a dtype
    assert t.to(torch.float32).dtype == minigrad.float32
    assert minigrad.zeros(2, device=torch.device("cpu")).device == "cpu"
    model = nn.Linear(2, 2).to(torch.float64)
    assert model.weight.dtype == minigrad.float64


@pytest.mark.parametrize("bad", [torch.bfloat16, object(), torch.device("meta"), np.complex64])
def test_unknown_dtype_objects_are_a_type_error_naming_them(bad):
    with pytest.raises(TypeError, match="unsupported dtype") as e:
        minigrad.tensor([1.0], dtype=bad)
    assert repr(bad)[:20] in str(e.value)
    with pytest.raises(TypeError, match="unsupported dtype"):
        minigrad.zeros(2).to(bad)
    with pytest.raises(TypeError, match="unsupported dtype"):
        nn.Linear(2, 2).to(bad)


def test_as_dtype_does_not_read_none_as_float64():
    from minigrad._dtype import as_dtype
    with pytest.raises(TypeError, match="unsupported dtype None"):
        as_dtype(None)


# ---- edge cases PyTorch decides: impossible sizes and values, int64 overflow, a wrong .grad ------
@pytest.mark.parametrize("f, error", [
    (lambda m: m.arange(0, 1, 0), RuntimeError),
    (lambda m: m.arange(0, 5, -1), RuntimeError),
    (lambda m: m.arange(5, 0, 1), RuntimeError),
    (lambda m: m.zeros(2.5), TypeError),
    (lambda m: m.ones((2, 1.5)), TypeError),
    (lambda m: m.nn.functional.max_pool2d(m.zeros(1, 1, 4, 4), 2, 0), RuntimeError),
    (lambda m: m.tensor(2 ** 63), (RuntimeError, ValueError)),
    (lambda m: m.tensor([1e20], dtype=m.int64), RuntimeError),
])
def test_refused_like_torch(f, error):
    for m in (minigrad, torch):
        with pytest.raises(error):
            f(m)


def test_ranges_that_are_fine():
    for args in ((5, 0, -1), (0, 5, 2), (0.0, 1.0, 0.25), (3, 3)):
        ours, ref = results(lambda m, args=args: m.arange(*args))
        assert ours.tolist() == ref.tolist()
    assert minigrad.zeros(minigrad.tensor(2), 3).shape == (2, 3)


def test_int64_overflow_in_an_assignment_like_torch():
    for m in (minigrad, torch):
        x = m.zeros(2, dtype=m.int64)
        with pytest.raises(RuntimeError, match="overflow"):
            x[0] = 1e20
        x[1] = 2.0 ** 62                       # fits
        assert x.tolist() == [0, 2 ** 62]


@pytest.mark.parametrize("value, error", [
    (lambda m: m.zeros(3), RuntimeError),
    (lambda m: m.zeros(2, dtype=m.float64), RuntimeError),
    (lambda m: 3, TypeError),
    (lambda m: [0.0, 0.0], TypeError),
])
def test_assigning_a_wrong_grad_is_refused_like_torch(value, error):
    for m in (minigrad, torch):
        x = m.zeros(2, requires_grad=True)
        with pytest.raises(error):
            x.grad = value(m)
        assert x.grad is None
        x.grad = m.ones(2)
        x.grad = None
