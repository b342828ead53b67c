"""More names tutorial code uses: minigrad.autograd.grad; Conv1d / conv1d, MaxPool1d /
max_pool1d, AvgPool1d / avg_pool1d; linalg.vector_norm, linalg.norm, cdist, addmm, addmv,
baddbmm — against PyTorch (values and gradients, float64 and float32, CPU and GPU) and by
finite differences, in the style of test_torch_names; then the errors PyTorch gives for bad
input."""
import numpy as np
import pytest
import torch

import minigrad
from helpers import TOL, raises_like_torch, rel_err

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
