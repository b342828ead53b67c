"""More names tutorial code uses: minigrad.autograd.grad; Conv1d / conv1d, MaxPool1d /
max_pool1d, AvgPool1d / avg_pool1d; linalg.vector_norm, linalg.norm, cdist, addmm, addmv,
baddbmm — against PyTorch (values and gradients, float64 and float32, CPU and GPU) and by
finite differences, in the style of test_torch_names; then the errors PyTorch gives for bad
input."""
import functools

import numpy as np
import pytest
import torch

import minigrad
from helpers import TOL, check_against_torch, gradcheck_numpy, raises_like_torch, rel_err

rng = np.random.default_rng(23)


def normal(*shape):
    return rng.standard_normal(shape)


# ---- autograd.grad ----------------------------------------------------------------------------
def mlp(m, x, w1, w2):
    """A small network and two intermediate tensors of it: (loss, hidden, pre-activation)."""
    pre = x @ w1
    hidden = m.tanh(pre)
    return ((hidden @ w2) ** 2).sum(), hidden, pre


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_grad_of_leaves_and_intermediates_like_torch(dtype, device):
    arrays = [normal(4, 3), normal(3, 5), normal(5, 2)]
    ref = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours = [minigrad.tensor(a.astype(dtype), device=device, requires_grad=True) for a in arrays]
    loss, hidden, pre = mlp(torch, *ref)
    want = torch.autograd.grad(loss, [ref[1], hidden, ref[0], pre, ref[2]])
    loss, hidden, pre = mlp(minigrad, *ours)
    got = minigrad.autograd.grad(loss, [ours[1], hidden, ours[0], pre, ours[2]])
    assert len(got) == 5
    for g, w, x in zip(got, want, [ours[1], hidden, ours[0], pre, ours[2]]):
        assert g.shape == x.shape and g.dtype == x.dtype and g.device == x.device
        assert g.grad_fn is None and not g.requires_grad
        assert rel_err(g.numpy() if device == "cpu" else g.cpu().numpy(),
                       w.numpy()) <= TOL[dtype]
    assert all(t.grad is None for t in ours)              # no .grad was touched


def test_grad_is_what_backward_accumulates_and_agrees_with_finite_differences():
    x, w = (minigrad.tensor(normal(3, 4), requires_grad=True),
            minigrad.tensor(normal(4), requires_grad=True))

    def f(x, w):
        return (minigrad.sigmoid(x @ w) * x.sum(1)).sum()
    gx, gw = minigrad.autograd.grad(f(x, w), (x, w))
    f(x, w).backward()
    np.testing.assert_array_equal(gx.numpy(), x.grad.numpy())
    np.testing.assert_array_equal(gw.numpy(), w.grad.numpy())
    eps, numerical = 1e-6, np.empty(12)                   # central differences, float64
    for j in range(12):
        plus, minus = (x.detach().numpy().ravel().copy() for _ in range(2))
        plus[j] += eps
        minus[j] -= eps
        with minigrad.no_grad():
            numerical[j] = (f(minigrad.tensor(plus.reshape(3, 4)), w).item() -
                            f(minigrad.tensor(minus.reshape(3, 4)), w).item()) / (2 * eps)
    np.testing.assert_allclose(gx.numpy().ravel(), numerical, rtol=1e-6, atol=1e-8)


def test_grad_with_grad_outputs_several_outputs_and_repeated_inputs_like_torch():
    def run(m):
        x = m.tensor([1.0, -2.0, 0.5], requires_grad=True)
        w = m.tensor([0.3, 0.2, -0.1], requires_grad=True)
        y, z = x * w, (x.exp() * w).sum()
        one = m.autograd.grad(y, [w, x, w], grad_outputs=m.tensor([1.0, 2.0, 3.0]),
                              retain_graph=True)
        both = m.autograd.grad([y, z], [x], grad_outputs=[m.tensor([1.0, 0.0, -1.0]), None],
                               retain_graph=True)
        leaf_out = m.autograd.grad([x, z], x, [m.ones(3), m.tensor(2.0)])
        return [t.tolist() for t in one + both + leaf_out]
    np.testing.assert_allclose(run(minigrad), run(torch), rtol=1e-6)


def test_grad_of_an_intermediate_with_the_flow_on_to_an_input_before_it_like_torch():
    def run(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        a = x * 3
        b = a * a
        y = (a + b).sum()
        return [t.tolist() for t in m.autograd.grad(y, [b, a, x])]
    assert run(minigrad) == run(torch)


def test_grad_runs_hooks_like_torch_and_sets_retained_grads_only():
    def run(m):
        seen = []
        x = m.tensor([1.0, 2.0], requires_grad=True)
        w = m.tensor([3.0, 4.0], requires_grad=True)
        x.register_hook(lambda g: g * 10)               # the input's hooks run, on the sum
        w.register_hook(lambda g: seen.append("w"))     # not an input: its hooks do not
        a = x * w
        a.retain_grad()
        a.register_hook(lambda g: seen.append(g.tolist()))
        y = (a * a).sum() + x.sum()
        gx, ga = m.autograd.grad(y, [x, a])
        return gx.tolist(), ga.tolist(), a.grad.tolist(), x.grad, w.grad, seen
    assert run(minigrad) == run(torch)


def test_grad_leaves_backward_as_it_was():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    a = x * x
    (ga,) = minigrad.autograd.grad(a.sum(), a, retain_graph=True)
    assert "_grad_hooks" not in a.grad_fn.__dict__        # the capture hook is gone
    a.sum().backward()
    assert x.grad.tolist() == [2.0, 4.0] and ga.tolist() == [1.0, 1.0]


def test_grad_retain_graph_like_torch():
    for m in (minigrad, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        m.autograd.grad(y, x, retain_graph=True)
        m.autograd.grad(y, x)
        with pytest.raises(RuntimeError, match="second time"):
            m.autograd.grad(y, x)


def test_grad_unused_inputs_like_torch():
    def run(m, **kw):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        w = m.tensor([3.0], requires_grad=True)
        return m.autograd.grad((x * 2).sum(), [x, w, x[0]], **kw)
    for kw in ({"allow_unused": True}, {"materialize_grads": True}):
        ours, ref = run(minigrad, **kw), run(torch, **kw)
        assert [None if t is None else t.tolist() for t in ours] == \
            [None if t is None else t.tolist() for t in ref]
    raises_like_torch(RuntimeError, lambda: run(minigrad), lambda: run(torch),
                      match="The differentiated Tensor at index 1 appears to not have been "
                            "used in the graph. Set allow_unused=True")
    raises_like_torch(ValueError, lambda: run(minigrad, allow_unused=False,
                                              materialize_grads=True),
                      lambda: run(torch, allow_unused=False, materialize_grads=True),
                      match="Expected allow_unused to be True or not passed")


@pytest.mark.parametrize("call, match", [
    (lambda m, x: m.autograd.grad(x * 2, x), "grad can be implicitly created only for scalar "
                                              "outputs"),
    (lambda m, x: m.autograd.grad(x * 2, x, [None]), "grad can be implicitly created only"),
    (lambda m, x: m.autograd.grad(x * 2, x, m.ones(3)), "Mismatch in shape: grad_output[0] "
                                                        "has a shape of "),
    (lambda m, x: m.autograd.grad((x * 2).sum(), x, []), "got 1 tensors and 0 gradients"),
    (lambda m, x: m.autograd.grad(m.ones(2).sum(), x), "element 0 of tensors does not require "
                                                       "grad and does not have a grad_fn"),
    (lambda m, x: m.autograd.grad(x.sum(), m.ones(2)), "One of the differentiated Tensors "
                                                       "does not require grad"),
    (lambda m, x: m.autograd.grad(x.sum(), []), "`inputs` argument to `grad()` cannot be "
                                                "empty."),
    (lambda m, x: m.autograd.grad(x.sum(), "x"), "all inputs have to be Tensors"),
])
def test_grad_errors_like_torch(call, match):
    x, tx = (m.tensor([1.0, 2.0], requires_grad=True) for m in (minigrad, torch))
    raises_like_torch(RuntimeError, lambda: call(minigrad, x), lambda: call(torch, tx),
                      match=match)


def test_grad_refuses_higher_order_and_batched_grads():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="create_graph=True.*higher-order"):
        minigrad.autograd.grad((x * x).sum(), x, create_graph=True)
    with pytest.raises(NotImplementedError, match="is_grads_batched"):
        minigrad.autograd.grad(x * x, x, minigrad.eye(2), is_grads_batched=True)
    with pytest.warns(FutureWarning, match="only_inputs argument is deprecated"):
        minigrad.autograd.grad((x * x).sum(), x, only_inputs=False)


# ---- the 1-d layers, and the linear algebra: against PyTorch and finite differences -------
def distinct(*shape):
    """Tie-free values (max-pool picks single elements)."""
    return rng.permutation(np.prod(shape)).reshape(shape) / 7.0 - 1.0


# name: (f(m, *tensors) with m minigrad or torch, inputs)
CASES = {
    "conv1d": (lambda m, x, w, b: m.nn.functional.conv1d(x, w, b),
               [normal(2, 3, 9), normal(4, 3, 3), normal(4)]),
    "conv1d_stride_padding": (lambda m, x, w: m.nn.functional.conv1d(x, w, stride=2,
                                                                     padding=1),
                              [normal(2, 3, 9), normal(4, 3, 3)]),
    "conv1d_same_even_kernel": (lambda m, x, w: m.nn.functional.conv1d(x, w, padding="same"),
                                [normal(2, 3, 7), normal(2, 3, 4)]),
    "conv1d_valid_tuple_stride": (lambda m, x, w, b: m.nn.functional.conv1d(
        x, w, b, stride=(3,), padding="valid"), [normal(1, 2, 10), normal(3, 2, 2), normal(3)]),
    "conv1d_unbatched": (lambda m, x, w: m.nn.functional.conv1d(x, w, padding=2),
                         [normal(3, 5), normal(2, 3, 3)]),
    "max_pool1d": (lambda m, x: m.nn.functional.max_pool1d(x, 2), [distinct(2, 3, 9)]),
    "max_pool1d_stride_padding": (lambda m, x: m.nn.functional.max_pool1d(x, 3, 2, 1),
                                  [distinct(2, 3, 8)]),
    "max_pool1d_unbatched": (lambda m, x: m.nn.MaxPool1d(4, stride=1, padding=2)(x),
                             [distinct(3, 6)]),
    "avg_pool1d": (lambda m, x: m.nn.functional.avg_pool1d(x, 3), [normal(2, 3, 10)]),
    "avg_pool1d_padding_ceil": (lambda m, x: m.nn.AvgPool1d(3, 2, 1, ceil_mode=True,
                                                            count_include_pad=False)(x),
                                [normal(2, 3, 8)]),
    "avg_pool1d_unbatched": (lambda m, x: m.nn.functional.avg_pool1d(x, 2, 1, 1),
                             [normal(3, 5)]),
    # linear algebra
    "vector_norm": (lambda m, x: m.linalg.vector_norm(x), [normal(3, 4)]),
    "vector_norm_1_dim": (lambda m, x: m.linalg.vector_norm(x, 1, dim=1), [normal(3, 4)]),
    "vector_norm_3_dims_keepdim": (lambda m, x: m.linalg.vector_norm(x, 3, (0, -1), True),
                                   [normal(2, 3, 4)]),
    "vector_norm_fractional": (lambda m, x: m.linalg.vector_norm(x, 0.5, dim=0),
                               [normal(3, 4)]),
    "vector_norm_negative": (lambda m, x: m.linalg.vector_norm(x, -1.5, dim=-1),
                             [normal(3, 4)]),
    "vector_norm_inf": (lambda m, x: m.linalg.vector_norm(x, float("inf"), dim=1) +
                        m.linalg.vector_norm(x, -float("inf")), [distinct(3, 4)]),
    "vector_norm_0": (lambda m, x: m.linalg.vector_norm(x, 0, dim=1) * x.sum(1),
                      [normal(3, 4)]),            # (no zeros: the count is constant near x)
    "vector_norm_zero_rows": (lambda m, x: m.linalg.vector_norm(x, dim=1) +
                              m.linalg.vector_norm(x, 3, dim=1) +
                              m.linalg.vector_norm(x, 1.5, dim=1), [np.r_[normal(2, 4),
                                                                        np.zeros((1, 4))]]),
    "vector_norm_dtype": (lambda m, x: m.linalg.vector_norm(x, dtype=m.float64).to(x.dtype),
                          [normal(5)]),
    "norm_all": (lambda m, x: m.linalg.norm(x), [normal(2, 3, 4)]),
    "norm_vector_ord": (lambda m, x: m.linalg.norm(x, 4), [normal(5)]),
    "norm_fro": (lambda m, x: m.linalg.norm(x, "fro", keepdim=True), [normal(3, 4)]),
    "norm_matrices": (lambda m, x: m.linalg.norm(x, dim=(2, 0)), [normal(2, 3, 4)]),
    "norm_dim_inf": (lambda m, x: m.linalg.norm(x, float("inf"), dim=1), [distinct(3, 4)]),
    "cdist": (lambda m, a, b: m.cdist(a, b), [normal(5, 3), normal(4, 3)]),
    "cdist_p1_batched": (lambda m, a, b: m.cdist(a, b, p=1), [normal(2, 5, 3), normal(4, 3)]),
    "cdist_p3": (lambda m, a, b: m.cdist(a, b, 3.0), [normal(2, 2, 3), normal(1, 4, 3)]),
    "cdist_inf": (lambda m, a, b: m.cdist(a, b, float("inf")), [distinct(3, 2), normal(4, 2)]),
    "cdist_same_points": (lambda m, a: m.cdist(a, a * 1), [normal(3, 2)]),
    "addmm": (lambda m, c, a, b: m.addmm(c, a, b), [normal(2, 4), normal(2, 3), normal(3, 4)]),
    "addmm_scaled_broadcast": (lambda m, c, a, b: c.addmm(a, b, beta=0.5, alpha=-2),
                               [normal(4), normal(2, 3), normal(3, 4)]),
    "addmm_beta_0": (lambda m, c, a, b: m.addmm(c, a, b, beta=0, alpha=3),
                     [normal(1, 4), normal(2, 3), normal(3, 4)]),
    "addmv": (lambda m, c, a, v: m.addmv(c, a, v, beta=2), [normal(2), normal(2, 3), normal(3)]),
    "addmv_scalar_input": (lambda m, c, a, v: c.addmv(a, v, alpha=0.5),
                           [normal(), normal(2, 3), normal(3)]),
    "baddbmm": (lambda m, c, a, b: m.baddbmm(c, a, b, beta=-1, alpha=0.25),
                [normal(2, 3, 4), normal(2, 3, 5), normal(2, 5, 4)]),
    "baddbmm_broadcast": (lambda m, c, a, b: c.baddbmm(a, b), [normal(3, 1), normal(2, 3, 5),
                                                               normal(2, 5, 4)]),
}


def _run(case, module):
    f, _ = CASES[case]
    return functools.partial(f, module)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")    # PyTorch's
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_against_torch(name, dtype, device):
    check_against_torch(_run(name, minigrad), _run(name, torch), CASES[name][1], dtype=dtype,
                        device=device)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name, device):
    assert gradcheck_numpy(_run(name, minigrad), CASES[name][1], device=device)


# ---- the 1-d modules and errors ---------------------------------------------------------------
def test_conv1d_module_like_torch(device):
    ours = minigrad.nn.Conv1d(3, 4, 3, padding="same", dtype=minigrad.float64, device=device)
    ref = torch.nn.Conv1d(3, 4, 3, padding="same", dtype=torch.float64)
    assert ours.weight.shape == (4, 3, 3) and ours.bias.shape == (4,)
    bound = 1 / np.sqrt(9)                       # PyTorch's init: both within ±1/√(in·K)
    assert np.abs(ours.weight.detach().cpu().numpy()).max() <= bound
    assert np.abs(ours.bias.detach().cpu().numpy()).max() <= bound
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(ours.weight.detach().cpu().numpy()))
        ref.bias.copy_(torch.tensor(ours.bias.detach().cpu().numpy()))
    x = normal(2, 3, 8)
    y = ours(minigrad.tensor(x, device=device))
    assert rel_err(y.detach().cpu().numpy(), ref(torch.tensor(x)).detach().numpy()) <= 1e-12
    assert [n for n, _ in ours.named_parameters()] == ["weight", "bias"]
    for kw in ({"padding": "same"}, {"stride": 2, "padding": 1, "bias": False}, {}):
        assert repr(minigrad.nn.Conv1d(3, 4, 3, **kw)) == repr(torch.nn.Conv1d(3, 4, 3, **kw))
        c, t = minigrad.nn.Conv1d(3, 4, 3, **kw), torch.nn.Conv1d(3, 4, 3, **kw)
        assert (c.kernel_size, c.stride, c.padding, c.dilation) == \
            (t.kernel_size, t.stride, t.padding, t.dilation)
    for args in ((3,), (3, 2, 1)):
        assert repr(minigrad.nn.MaxPool1d(*args)) == repr(torch.nn.MaxPool1d(*args))
        assert repr(minigrad.nn.AvgPool1d(*args)) == repr(torch.nn.AvgPool1d(*args))


X, W = normal(2, 3, 10), normal(4, 3, 3)


@pytest.mark.parametrize("call, match", [
    (lambda m, F, x, w: F.conv1d(x, w, padding="same", stride=2),
     "padding='same' is not supported for strided convolutions"),
    (lambda m, F, x, w: F.conv1d(x, w, padding="full"), "Invalid padding string: 'full'"),
    (lambda m, F, x, w: F.conv1d(x.unsqueeze(0), w), "Expected 2D (unbatched) or 3D (batched) "
                                                     "input to conv1d, but got input of size: "
                                                     "[1, 2, 3, 10]"),
    (lambda m, F, x, w: F.conv1d(x[:, :2], w), "Given groups=1, weight of size [4, 3, 3], "
                                               "expected input[2, 2, 10] to have 3 channels"),
    (lambda m, F, x, w: F.conv1d(x[..., :2], w), "Calculated padded input size per channel: "
                                                 "(2). Kernel size: (3)."),
    (lambda m, F, x, w: F.conv1d(x, w, stride=0), "non-positive stride is not supported"),
    (lambda m, F, x, w: F.conv1d(x, w, padding=-1), "negative padding is not supported"),
    (lambda m, F, x, w: F.conv1d(x, w, m.zeros(3, dtype=x.dtype)),
     "expected bias to be 1-dimensional with 4 elements, but got bias of size [3]"),
    (lambda m, F, x, w: F.conv1d(x, w, stride=(2, 2)), "expected stride to be a single integer "
                                                       "value or a list of 1 values"),
    (lambda m, F, x, w: F.max_pool1d(x, 3, padding=2), "max_pool1d() padding should be at most "
                                                       "half of kernel size, but got padding=2"),
    (lambda m, F, x, w: F.max_pool1d(x, 11), "max_pool1d() Invalid computed output size: 0"),
    (lambda m, F, x, w: F.max_pool1d(x, 3, stride=0), "max_pool1d() stride must be greater "
                                                      "than zero, but got 0"),
    (lambda m, F, x, w: F.max_pool1d(x.unsqueeze(0), 3), "max_pool1d: Expected 2D or 3D "
                                                         "(batch mode) tensor"),
    (lambda m, F, x, w: F.avg_pool1d(x, 3, padding=2), "pad should be at most half of "
                                                       "effective kernel size, but got pad=2"),
    (lambda m, F, x, w: F.avg_pool1d(x, 11), "Given input size: (3x1x10). Calculated output "
                                             "size: (3x1x0). Output size is too small"),
    (lambda m, F, x, w: F.avg_pool1d(x, 3, stride=0), "stride should not be zero"),
    (lambda m, F, x, w: F.avg_pool1d(x.unsqueeze(0), 3), "Expected 2 to 3 dimensions, but got "
                                                         "4-dimensional tensor"),
])
def test_1d_layer_errors_like_torch(call, match):
    raises_like_torch(RuntimeError,
                      lambda: call(minigrad, minigrad.nn.functional, minigrad.tensor(X),
                                   minigrad.tensor(W)),
                      lambda: call(torch, torch.nn.functional, torch.tensor(X), torch.tensor(W)),
                      match=match)


def test_1d_layers_refuse_what_minigrad_lacks():
    x, w = minigrad.randn(1, 2, 8), minigrad.randn(3, 2, 3)
    F = minigrad.nn.functional
    with pytest.raises(NotImplementedError, match="dilation=1 and groups=1"):
        F.conv1d(x, w, dilation=2)
    with pytest.raises(NotImplementedError, match="padding_mode='zeros'"):
        minigrad.nn.Conv1d(2, 3, 3, padding_mode="circular")
    with pytest.raises(NotImplementedError, match="ceil_mode=False"):
        F.max_pool1d(x, 2, ceil_mode=True)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        minigrad.nn.Conv1d(2, 3, 3, stride=2, padding="same")


# ---- linear algebra: what the cases cannot say ------------------------------------------------
@pytest.mark.parametrize("call, match", [
    (lambda m: m.linalg.vector_norm(m.tensor([1, 2])), "linalg.vector_norm: Expected a floating "
                                                       "point or complex tensor as input. Got "
                                                       "Long"),
    (lambda m: m.linalg.vector_norm(m.ones(3), dtype=m.int64), "dtype should be floating point "
                                                               "or complex, but got Long"),
    (lambda m: m.linalg.vector_norm(m.ones(2, 3), dim=(0, 0)), "appears multiple times"),
    (lambda m: m.linalg.vector_norm(m.zeros(0), float("inf")), "cannot compute the inf norm on "
                                                               "an empty tensor"),
    (lambda m: m.linalg.norm(m.ones(2, 3, 4), 2), "If dim is not specified but ord is, the input "
                                                  "must be 1D or 2D. Got 3D."),
    (lambda m: m.linalg.norm(m.ones(3, 4), "fro", dim=1), "linalg.matrix_norm: dim must be a "
                                                          "2-tuple. Got 1"),
    (lambda m: m.linalg.norm(m.ones(3), "fro"), "The input tensor A must have at least 2 "
                                                "dimensions."),
    (lambda m: m.linalg.norm(m.ones(3, 4), dim=(0, 1, 1)), "If dim is specified, it must be of "
                                                           "length 1 or 2. Got [0, 1, 1]"),
    (lambda m: m.linalg.norm(m.ones(3, 4), 3, dim=(0, 1)), "linalg.matrix_norm: Order 3 not "
                                                           "supported."),
    (lambda m: m.cdist(m.ones(3), m.ones(3)), "cdist only supports at least 2D tensors, X1 got: "
                                              "1D"),
    (lambda m: m.cdist(m.ones(2, 3), m.ones(2, 4)), "X1 and X2 must have the same number of "
                                                    "columns. X1: 3 X2: 4"),
    (lambda m: m.cdist(m.ones(2, 3), m.ones(2, 3), p=-1), "cdist only supports non-negative p"),
    (lambda m: m.addmm(m.ones(4), m.ones(2, 3), m.ones(3, 3)),
     "The expanded size of the tensor (3) must match the existing size (4) at non-singleton "
     "dimension 1.  Target sizes: [2, 3].  Tensor sizes: [4]"),
    (lambda m: m.addmm(m.ones(2, 3, 3), m.ones(2, 3), m.ones(3, 3)),
     "the number of sizes provided (2) must be greater or equal to the number of dimensions in "
     "the tensor (3)"),
    (lambda m: m.addmm(m.ones(3), m.ones(2, 3), m.ones(4, 3)), "mat1 and mat2 shapes cannot be "
                                                               "multiplied (2x3 and 4x3)"),
    (lambda m: m.addmv(m.ones(3), m.ones(2, 3), m.ones(3)), "size mismatch, got input (3), mat "
                                                            "(2x3), vec (3)"),
    (lambda m: m.addmv(m.ones(2), m.ones(2, 3), m.ones(4)), "size mismatch, got input (2), mat "
                                                            "(2x3), vec (4)"),
    (lambda m: m.baddbmm(m.ones(2, 3), m.ones(2, 2, 3), m.ones(3, 3, 3)),
     "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [3, 3]."),
])
def test_linalg_errors_like_torch(call, match):
    raises_like_torch(RuntimeError, lambda: call(minigrad), lambda: call(torch), match=match)


def test_norms_refuse_what_minigrad_lacks_and_take_pytorchs_argument_types():
    a = minigrad.ones(3, 4)
    for ord in ("nuc", 2, -2, 1, -1, float("inf")):
        with pytest.raises(NotImplementedError, match="Frobenius matrix norm only"):
            minigrad.linalg.norm(a, ord)
    raises_like_torch(TypeError, lambda: minigrad.linalg.vector_norm(a, "fro"),
                      lambda: torch.linalg.vector_norm(torch.ones(3, 4), "fro"),
                      match="must be Number, not str")


def test_norm_of_zeros_and_beta_0_like_torch():
    def run(m):
        x = m.tensor([[0.0, 2.0, 0.0], [0.0, 0.0, 0.0]], requires_grad=True)
        c = m.tensor([float("nan"), 1.0], requires_grad=True)
        a = m.tensor([[1.0, 2.0], [3.0, 4.0]])
        norms = (m.linalg.vector_norm(x, 0, dim=1) + m.linalg.vector_norm(x, -1, dim=1) +
                 m.linalg.vector_norm(x, 0.5, dim=1))
        out = norms.sum() + m.addmv(c, a, m.tensor([1.0, -1.0]), beta=0).sum()
        out.backward()
        return out.item(), x.grad.tolist(), c.grad.tolist()
    assert run(minigrad) == run(torch)
