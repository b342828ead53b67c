"""PyTorch's semantics where users meet them (issue 10, groups 2-6, the crashes, the
everyday features and the as_dtype bug): each case run in minigrad and in PyTorch 2.13."""
import math

import numpy as np
import pytest
import torch

import minigrad
from minigrad import nn


def raises_like_torch(exc, fn_ours, fn_ref, match=None):
    """Both raise ``exc``; with ``match``, both messages contain it."""
    with pytest.raises(exc) as ref:
        fn_ref()
    with pytest.raises(exc) as ours:
        fn_ours()
    if match is not None:
        assert match in str(ref.value), str(ref.value)
        assert match in str(ours.value), str(ours.value)


def mg_torch(values, **kw):
    return minigrad.tensor(values, **kw), torch.tensor(values, **{
        k: getattr(torch, str(v)) if k == "dtype" else v for k, v in kw.items()})


# ---- 2. optimizers --------------------------------------------------------------------------
@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_optimizer_refuses_a_bare_tensor_like_torch(opt):
    w, tw = minigrad.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    raises_like_torch(TypeError, lambda: getattr(minigrad.optim, opt)(w, lr=0.1),
                      lambda: getattr(torch.optim, opt)(tw, lr=0.1),
                      "params argument given to the optimizer should be an iterable of "
                      "Tensors or dicts, but got ")
    with pytest.raises(TypeError, match="but got minigrad.FloatTensor"):
        getattr(minigrad.optim, opt)(w, lr=0.1)


@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_optimizer_refuses_a_non_leaf_like_torch(opt):
    w, tw = minigrad.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    raises_like_torch(ValueError, lambda: getattr(minigrad.optim, opt)([w * 2], lr=0.1),
                      lambda: getattr(torch.optim, opt)([tw * 2], lr=0.1),
                      "can't optimize a non-leaf Tensor")


def test_frozen_parameters_are_accepted_and_left_alone_like_torch():
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)).double()
    ours = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    ref[0].requires_grad_(False)
    ours[0].requires_grad_(False)                       # fine-tuning: the first layer frozen
    x = np.random.default_rng(1).standard_normal((5, 3))
    for model, lib in [(ours, minigrad), (ref, torch)]:
        opt = lib.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, weight_decay=0.1)
        for _ in range(2):
            opt.zero_grad()
            (model(lib.tensor(x)) ** 2).sum().backward()
            opt.step()
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.detach().numpy(), ref.state_dict()[name].numpy(),
                                   rtol=1e-12, err_msg=name)
    assert ours[0].weight.grad is None


def test_param_group_with_a_single_tensor_like_torch():
    w, tw = minigrad.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    for lib, p in [(minigrad, w), (torch, tw)]:
        opt = lib.optim.SGD([{"params": p}], lr=0.5)
        assert opt.param_groups[0]["params"][0] is p
        (p * 3).sum().backward()
        opt.step()
    assert w.tolist() == tw.tolist() == [-0.5, -0.5]


# ---- 3. dimensions are checked ------------------------------------------------------------
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


def test_permute_errors_like_torch():
    a, t = minigrad.zeros(2, 3), torch.zeros(2, 3)
    raises_like_torch(RuntimeError, lambda: a.permute(0, 0), lambda: t.permute(0, 0),
                      "duplicate dims are not allowed")
    raises_like_torch(RuntimeError, lambda: a.permute(0, 1, 2), lambda: t.permute(0, 1, 2))
    raises_like_torch(RuntimeError, lambda: minigrad.zeros(2, 3, 4).flatten(2, 1),
                      lambda: torch.zeros(2, 3, 4).flatten(2, 1),
                      "flatten() has invalid args: start_dim cannot come after end_dim")


# ---- 4. dtype promotion and powers ----------------------------------------------------------
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


# ---- 5. tensors as Python objects -----------------------------------------------------------
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


# ---- 6. NaN in gradients ------------------------------------------------------------------
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


def test_relu_gradient_at_nan_and_under_a_nan_upstream_like_torch():
    x = np.array([math.nan, -1.0, 0.0, 2.0])
    up = np.array([1.0, math.nan, math.nan, 5.0])
    t, r = minigrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    nn.functional.relu(t).backward(minigrad.tensor(up))
    torch.relu(r).backward(torch.tensor(up))
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


# ---- crashes that are now answers ---------------------------------------------------------
def test_squeeze_0_of_a_0d_tensor_like_torch():
    assert minigrad.tensor(2.0).squeeze(0).shape == tuple(torch.tensor(2.0).squeeze(0).shape)


# ---- everyday features ----------------------------------------------------------------------
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


def test_module_apply_and_requires_grad_like_torch():
    def init_weights(lib):            # d2l's pattern: net.apply(init_weights)
        def init(m):
            if type(m) is lib.nn.Linear:
                lib.nn.init.constant_(m.weight, 0.01)
                lib.nn.init.zeros_(m.bias)
        return init
    ours = nn.Sequential(nn.Linear(3, 2), nn.Sigmoid(), nn.Sequential(nn.Linear(2, 2)))
    ref = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Sigmoid(),
                              torch.nn.Sequential(torch.nn.Linear(2, 2)))
    visited, ref_visited = [], []
    assert ours.apply(lambda m: visited.append(type(m).__name__)) is ours
    ref.apply(lambda m: ref_visited.append(type(m).__name__))
    assert visited == ref_visited
    ours.apply(init_weights(minigrad))
    ref.apply(init_weights(torch))
    for (k, p), (_, r) in zip(ours.named_parameters(), ref.named_parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), r.detach().numpy(), err_msg=k)
    assert ours.requires_grad_(False) is ours
    assert not any(p.requires_grad for p in ours.parameters())


def test_sequential_slices_keep_the_child_names_like_torch():
    from examples.lenet_fashion import lenet
    ours, ref = lenet(nn), lenet(torch.nn)
    for index in [slice(2, 5), slice(None, None, 2), slice(-3, None)]:
        assert list(ours[index].state_dict()) == list(ref[index].state_dict())
        assert repr(ours[index]) == repr(ref[index])
    with pytest.raises(IndexError):
        ours[12]


@pytest.mark.parametrize("shape", [(7,), (2, 3, 7), (2, 1, 4, 7), (0, 7)])
def test_linear_on_any_leading_dims_like_torch(shape):
    from helpers import check_against_torch
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape), rng.standard_normal((5, 7)), rng.standard_normal(5)]
    check_against_torch(nn.functional.linear, torch.nn.functional.linear, arrays)


@pytest.mark.parametrize("layer", ["conv", "conv_pad_stride", "pool"])
def test_conv_and_pool_on_an_unbatched_image_like_torch(layer):
    from helpers import check_against_torch
    rng = np.random.default_rng(1)
    x = rng.permutation(3 * 8 * 9).reshape(3, 8, 9) / 10.0       # tie-free for the pool
    if layer == "pool":
        check_against_torch(lambda a: nn.functional.max_pool2d(a, 2),
                            lambda a: torch.nn.functional.max_pool2d(a, 2), [x])
        assert nn.MaxPool2d(2)(minigrad.tensor(x)).shape == (3, 4, 4)
        return
    kw = dict(stride=2, padding=1) if layer == "conv_pad_stride" else {}
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    check_against_torch(lambda a, w, b: nn.functional.conv2d(a, w, b, **kw),
                        lambda a, w, b: torch.nn.functional.conv2d(a, w, b, **kw), [x, w, b])


def test_init_functions_have_torch_names_and_defaults():
    import inspect
    for name in ["uniform_", "normal_", "constant_", "zeros_", "ones_", "kaiming_uniform_",
                 "xavier_uniform_"]:
        ours = inspect.signature(getattr(nn.init, name)).parameters
        ref = inspect.signature(getattr(torch.nn.init, name)).parameters
        for param, spec in ours.items():
            assert param in ref, (name, param)
            assert spec.default == ref[param].default, (name, param)
    w = minigrad.zeros(2000)
    assert nn.init.uniform_(w) is w
    assert 0 <= w.numpy().min() and w.numpy().max() < 1 and w.numpy().min() < 0.01
    nn.init.uniform_(w, a=-3.0, b=-2.0)
    assert -3 <= w.numpy().min() and w.numpy().max() < -2
    p = nn.Linear(4, 3).weight                                # a leaf that requires grad
    nn.init.xavier_uniform_(p)
    assert np.abs(p.detach().numpy()).max() <= math.sqrt(6 / 7) and p.is_leaf


# ---- repr -------------------------------------------------------------------------------------
@pytest.mark.parametrize("values", [
    [1e10, 1.0], [1e-5, 1.0], [[1e-5, 2.5], [3.0, 4.0]], [1.0, 2.0, 1e3], [1.0, 2.0, 1e4],
    [math.nan, 1e10, math.inf], 1e10, [0.1, 1e-4], [123456789.0], [0.0, -0.0], [1.5, -2.25],
    [math.nan, 0.0], [], [1.0, 2.0], [[1, 2], [30, 400]], [True, False], [True],
    [0.5, 1e-3, 7.0, 12.0],
])
def test_repr_like_torch(values):
    assert repr(minigrad.tensor(values)) == repr(torch.tensor(values))


def test_repr_of_float64_and_large_tensors_like_torch():
    x = np.arange(2000.0).reshape(2, 1000) * 1e-6
    assert repr(minigrad.tensor(x)) == repr(torch.tensor(x)).replace("torch.", "minigrad.")
    y = np.random.default_rng(0).standard_normal((3, 30)) * 1e5
    assert repr(minigrad.tensor(y, dtype="float32")) == \
        repr(torch.tensor(y, dtype=torch.float32))


# ---- the as_dtype bug: foreign dtypes and devices --------------------------------------------
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


# ---- found by the property tests ---------------------------------------------------------
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
