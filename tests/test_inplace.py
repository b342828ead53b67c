"""In-place ops and version counters: each case side by side with
PyTorch — the values, the gradients, and the errors where PyTorch refuses."""
from functools import partial

import numpy as np
import pytest
import torch

import minigrad
from minigrad import nn


def both(values, requires_grad=False, dtype="float64"):
    """The same tensor in minigrad and in PyTorch."""
    return (minigrad.tensor(np.array(values, dtype=dtype), requires_grad=requires_grad),
            torch.tensor(np.array(values, dtype=dtype), requires_grad=requires_grad))


def same(ours, ref):
    np.testing.assert_array_equal(ours.detach().numpy(), ref.detach().numpy())


def errors_like_torch(fn_ours, fn_ref, match):
    """Both raise RuntimeError, and our message starts the way PyTorch's does."""
    with pytest.raises(RuntimeError) as ref_err:
        fn_ref()
    with pytest.raises(RuntimeError) as our_err:
        fn_ours()
    assert str(ref_err.value).startswith(match), str(ref_err.value)
    assert str(our_err.value).startswith(match), str(our_err.value)
    return str(our_err.value)


# ---- the operators are in place --------------------------------------------------------
@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/=", "**=", "//=", "%="])
def test_augmented_assignment_changes_the_object_and_its_aliases(op):
    outcome = []
    for x in both([1.0, 2.0, 3.0]):
        names = {"x": x}
        exec(f"x {op} 2", {}, names)             # the statement, as a user writes it
        assert names["x"] is x                    # the same object, not a new one
        outcome.append(x)
    same(*outcome)
    assert outcome[0]._version == outcome[1]._version == 1


def test_y_equals_x_then_x_plus_equals_shows_in_y():
    x, tx = both([1.0, 2.0])
    y, ty = x, tx
    x += 1
    tx += 1
    same(y, ty)
    assert x._version == tx._version == 1


def test_hand_written_sgd_loop_trains():
    """The classic loop: p -= lr * p.grad under no_grad updates the model's parameters."""
    torch.manual_seed(0)
    ref = torch.nn.Linear(3, 2).double()
    ours = nn.Linear(3, 2).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3))
    version = ours.weight._version
    for _ in range(3):
        for model, lib in [(ours, minigrad), (ref, torch)]:
            loss = (model(lib.tensor(x)) ** 2).mean()
            loss.backward()
            with lib.no_grad():
                for p in model.parameters():
                    p -= 0.1 * p.grad
                    p.grad = None
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.detach().numpy(), ref.state_dict()[name].numpy(),
                                   rtol=1e-12)
    assert ours.weight._version == version + 3


@pytest.mark.parametrize("method, args", [
    ("add_", (2.0,)), ("sub_", (0.5,)), ("mul_", (3.0,)), ("div_", (4.0,)), ("zero_", ()),
    ("fill_", (7.0,)), ("clamp_", (1.5, 2.5)), ("pow_", (2,)),
])
def test_named_in_place_methods_match_torch(method, args):
    x, tx = both([1.0, 2.0, 3.0])
    assert getattr(x, method)(*args) is x
    getattr(tx, method)(*args)
    same(x, tx)
    assert x._version == tx._version == 1


def test_add_and_sub_with_alpha_and_tensor_operand():
    x, tx = both([[1.0, 2.0], [3.0, 4.0]])
    o, to = both([10.0, 20.0])
    x.add_(o, alpha=0.5).sub_(o, alpha=2)
    tx.add_(to, alpha=0.5).sub_(to, alpha=2)
    same(x, tx)


def test_copy_broadcasts_and_converts():
    x = minigrad.zeros(2, 3, dtype="int64")
    tx = torch.zeros(2, 3, dtype=torch.int64)
    x.copy_(minigrad.tensor([1.7, -2.2, 3.0]))
    tx.copy_(torch.tensor([1.7, -2.2, 3.0]))
    same(x, tx)
    assert x.dtype == minigrad.int64


def test_random_fills_draw_from_the_seeded_generator():
    minigrad.manual_seed(5)
    a = minigrad.zeros(1000).uniform_(-2, 3)
    minigrad.manual_seed(5)
    b = minigrad.zeros(1000).uniform_(-2, 3)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    values = a.numpy()
    assert values.min() >= -2 and values.max() < 3 and abs(values.mean() - 0.5) < 0.15
    n = minigrad.zeros(20000, dtype="float64").normal_(1.0, 2.0).numpy()
    assert abs(n.mean() - 1.0) < 0.05 and abs(n.std() - 2.0) < 0.05


@pytest.mark.parametrize("index", [1, (0, slice(None)), (slice(None), 1), "mask", "list"])
def test_setitem_matches_torch(index):
    x, tx = both([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]])
    if index == "mask":
        x[x < 0] = 0.0
        tx[tx < 0] = 0.0
    elif index == "list":
        x[[0, 1], [2, 0]] = minigrad.tensor([9.0, 8.0], dtype="float64")
        tx[[0, 1], [2, 0]] = torch.tensor([9.0, 8.0], dtype=torch.float64)
    else:
        x[index] = 7.5
        tx[index] = 7.5
    same(x, tx)
    assert x._version == 1


def test_writes_through_views_show_in_the_base():
    x, tx = both([[1.0, 2.0], [3.0, 4.0]])
    for lib_x in (x, tx):
        lib_x[0].mul_(10)          # x[0] is a view, as in PyTorch
        lib_x.view(4)[3] = -1.0
        lib_x.T[1].add_(100)
    same(x, tx)
    assert x._version == tx._version == 3


# ---- the rules ----------------------------------------------------------------------------
def test_leaf_requiring_grad_cannot_change_in_place_outside_no_grad():
    x, tx = both([1.0, 2.0], requires_grad=True)
    for op in [lambda t: t.add_(1), lambda t: t.__iadd__(1), lambda t: t.zero_()]:
        errors_like_torch(partial(op, x), partial(op, tx),
                          "a leaf Variable that requires grad is being used in an in-place "
                          "operation.")
    for op in [lambda t: t[0:1].add_(1), lambda t: t.__setitem__(0, 5.0)]:
        errors_like_torch(partial(op, x), partial(op, tx),
                          "a view of a leaf Variable that requires grad is being used in an "
                          "in-place operation.")
    with minigrad.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0, 3.0] and x.requires_grad and x.is_leaf


@pytest.mark.parametrize("case", ["output_saved", "leaf_input_saved", "nonleaf_input_saved",
                                  "view_of_saved", "optimizer_step", "setitem"])
def test_modifying_a_saved_tensor_is_an_error_not_a_wrong_gradient(case):
    def build(lib, values):
        a = lib.tensor(np.array(values), requires_grad=True)
        if case == "output_saved":                   # Exp saves its output
            y = a.exp()
            y.add_(1)
            return y.sum(), a
        if case == "leaf_input_saved":               # Mul saves both inputs
            w = lib.tensor(np.array([2.0, 3.0, 4.0]))
            y = a * w
            w.mul_(2)
            return y.sum(), a
        if case == "nonleaf_input_saved":
            b = a * 1
            y = b * b
            b.add_(1)
            return y.sum(), a
        if case == "view_of_saved":                  # a write through a view of a saved tensor
            w = lib.tensor(np.array([2.0, 3.0, 4.0]))
            y = a * w
            w[1:].fill_(0)
            return y.sum(), a
        if case == "optimizer_step":                 # step() between forward and backward
            opt = lib.optim.SGD([a], lr=0.1)
            y = (a * a).sum()
            a.grad = lib.ones_like(a)
            opt.step()
            return y, a
        if case == "setitem":
            b = a.exp()
            b[0] = 0.0
            return b.sum(), a
    loss, _ = build(minigrad, [1.0, 2.0, 3.0])
    ref_loss, _ = build(torch, [1.0, 2.0, 3.0])
    msg = errors_like_torch(loss.backward, ref_loss.backward,
                            "one of the variables needed for gradient computation has been "
                            "modified by an inplace operation: [")
    assert "is at version" in msg and "expected version" in msg


def test_the_message_names_the_tensor_like_torch():
    a, ta = both([1.0, 2.0, 3.0], requires_grad=True, dtype="float32")
    y, ty = a.exp(), ta.exp()
    y.add_(1)
    ty.add_(1)
    msg = errors_like_torch(y.sum().backward, ty.sum().backward, "one of the variables")
    assert "[minigrad.FloatTensor [3]], which is output 0 of Exp, is at version 1; expected " \
           "version 0 instead." in msg


@pytest.mark.parametrize("op", ["add", "mul", "setitem", "copy", "div_by_tensor", "clamp"])
def test_in_place_ops_inside_a_graph_give_torch_gradients(op):
    """On a non-leaf, a recorded in-place op rewrites the tensor's history (PyTorch's
    rebase): backward goes through the op and on to the old history."""
    def run(lib):
        a = lib.tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
        w = lib.tensor(np.array([3.0, 0.25, -2.0]), requires_grad=True)
        b = a * 2
        if op == "add":
            b += w
        elif op == "mul":
            b *= w
        elif op == "setitem":
            b[1] = w[0] * 5
        elif op == "copy":
            b[:2].copy_(w[1:] * 3) if lib is torch else b.__setitem__(slice(0, 2), w[1:] * 3)
        elif op == "div_by_tensor":
            b.div_(w)
        elif op == "clamp":
            b.clamp_(-1.0, 1.0)
        (b * b * w).sum().backward()
        return a.grad, w.grad
    for ours, ref in zip(run(minigrad), run(torch)):
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)


def test_in_place_on_a_tensor_without_grad_with_a_grad_operand():
    def run(lib):
        w = lib.tensor(np.array([1.0, 2.0]), requires_grad=True)
        x = lib.zeros(2, dtype=lib.float64)
        x += w * 3
        assert x.requires_grad and not x.is_leaf
        (x * x).sum().backward()
        return w.grad
    np.testing.assert_allclose(run(minigrad).numpy(), run(torch).numpy())


def test_recorded_in_place_through_a_view_is_refused_not_wrong():
    """minigrad does not replay views (PyTorch's CopySlices): such a write, or a view made
    before its base's history changed, is a clear error instead of a wrong gradient."""
    a = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 1
    with pytest.raises(RuntimeError, match="view .* does not track in-place"):
        b[0:2].mul_(a[0:2])
    v = b[0:2]
    b.mul_(2)                                     # recorded: b has a new history
    with pytest.raises(RuntimeError, match="cannot replay the view"):
        (v * 1).sum()
    with minigrad.no_grad():                      # values only: fine
        assert v.tolist() == [2.0, 4.0]


def test_in_place_dtype_and_shape_errors_match_torch():
    for dtype, op, other in [("int64", "add_", 1.5), ("int64", "div_", 2), ("bool", "add_", 1)]:
        x = minigrad.zeros(2, dtype=dtype)
        tx = torch.zeros(2, dtype=getattr(torch, dtype))
        errors_like_torch(partial(getattr(x, op), other), partial(getattr(tx, op), other),
                          "result type ")
    errors_like_torch(lambda: minigrad.zeros(3).add_(minigrad.zeros(2, 3)),
                      lambda: torch.zeros(3).add_(torch.zeros(2, 3)),
                      "output with shape [3] doesn't match the broadcast shape [2, 3]")
    f32 = minigrad.zeros(2)
    f32 += minigrad.tensor(np.array([1.0, 2.0]))       # float64 into float32: allowed
    assert f32.dtype == minigrad.float32 and f32.tolist() == [1.0, 2.0]


# ---- p.data = tensor ------------------------------------------------------------------------
def test_assigning_a_tensor_to_data_keeps_the_array():
    p = nn.Parameter(np.zeros(3, np.float32))
    tp = torch.nn.Parameter(torch.zeros(3))
    p.data = minigrad.tensor([1.0, 2.0, 3.0])
    tp.data = torch.tensor([1.0, 2.0, 3.0])
    assert p.tolist() == tp.tolist()
    assert p.requires_grad and isinstance(p, nn.Parameter)
    (p * 2).sum().backward()
    assert p.grad.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(TypeError, match="data must be set to a Tensor or an array"):
        p.data = "nonsense"


# ---- p.data: a Tensor on the same memory, outside the graph --------------------------------
def test_data_is_a_tensor_on_the_same_memory_without_grad():
    p, tp = nn.Parameter(np.arange(3.0)), torch.nn.Parameter(torch.arange(3.0).double())
    d, td = p.data, tp.data
    assert type(d) is minigrad.Tensor and type(td) is torch.Tensor      # not a Parameter
    assert (d.requires_grad, d.is_leaf, d.grad_fn) == (td.requires_grad, td.is_leaf, None)
    assert td.grad_fn is None and not d.requires_grad
    assert np.shares_memory(d.numpy(), p.detach().numpy())
    d[0] = 7.0                                           # a write through .data shows in p
    td[0] = 7.0
    same(p, tp)


def test_data_numpy_shares_memory_like_torch():
    x, tx = both([1.0, 2.0, 3.0], requires_grad=True)
    a, ta = x.data.numpy(), tx.data.numpy()
    a[1] = -5.0
    ta[1] = -5.0
    same(x, tx)
    assert np.shares_memory(a, x.detach().numpy())


def test_data_of_a_non_leaf_is_a_leaf_without_history():
    x, tx = both([1.0, -2.0], requires_grad=True)
    y, ty = x * 3, tx * 3
    d, td = y.data, ty.data
    assert (d.requires_grad, d.is_leaf, d.grad_fn) == (td.requires_grad, td.is_leaf, None)
    assert td.grad_fn is None and y.grad_fn is not None
    same(d, td)
    with pytest.raises(RuntimeError):
        (d * 2).sum().backward()                         # nothing requires grad: as torch
    with pytest.raises(RuntimeError):
        (td * 2).sum().backward()


def test_inplace_through_data_is_not_seen_by_the_version_check():
    x, tx = both([1.0, 2.0, 3.0], requires_grad=True)
    y, ty = (x * x).sum(), (tx * tx).sum()               # the product saves x
    x.data.mul_(2)
    tx.data.mul_(2)
    assert x._version == tx._version == 0
    y.backward()                                         # no error: the write was hidden
    ty.backward()
    same(x.grad, tx.grad)                                # 2 * (the changed x), as torch
    z, tz = (x * x).sum(), (tx * tx).sum()
    with torch.no_grad():
        tx.mul_(2)                                       # a visible write for contrast
    with minigrad.no_grad():
        x.mul_(2)
    with pytest.raises(RuntimeError):
        tz.backward()
    with pytest.raises(RuntimeError):
        z.backward()


def test_data_normal_init_idiom_changes_the_weight():
    minigrad.manual_seed(0)
    m, tm = nn.Linear(200, 100), torch.nn.Linear(200, 100)
    before = m.weight.detach().numpy().copy()
    out, tout = m.weight.data.normal_(0, .01), tm.weight.data.normal_(0, .01)
    assert type(out) is minigrad.Tensor and out.shape == tuple(tout.shape)
    w, tw = m.weight.detach().numpy(), tm.weight.detach().numpy()
    assert not np.array_equal(w, before) and m.weight.requires_grad
    for a in (w, tw):                                    # both draw N(0, 0.01^2), in place
        assert abs(a.mean()) < 1e-3 and abs(a.std() - 0.01) < 1e-3
    m.bias.data.fill_(0)
    tm.bias.data.fill_(0)
    same(m.bias, tm.bias)


def test_data_sgd_by_hand_matches_torch():
    w0, x0 = np.linspace(-1, 1, 6).reshape(2, 3), np.linspace(0.5, 2, 12).reshape(4, 3)
    f, tf = both(w0, requires_grad=True)
    for _ in range(3):
        for lib, t in ((minigrad, f), (torch, tf)):
            t.grad = None
            loss = (lib.tensor(x0) @ t.T).tanh().sum()
            loss.backward()
            t.data.sub_(t.grad.data * 0.1)
    np.testing.assert_allclose(f.detach().numpy(), tf.detach().numpy(), rtol=1e-12)
    assert f.requires_grad and f.is_leaf


def test_data_max_counts_correct_like_torch():
    out0 = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    labels = np.array([1, 0, 1, 2])
    counts = []
    for lib in (minigrad, torch):
        out = lib.tensor(out0, requires_grad=True) * 2
        _, pred = out.data.max(1)
        counts.append((pred == lib.tensor(labels)).sum().item())
        assert pred.tolist() == [1, 0, 2, 0]
    assert counts == [2, 2]


def test_data_copy_like_torch():
    p, tp = nn.Parameter(np.zeros(3)), torch.nn.Parameter(torch.zeros(3).double())
    p.data.copy_(minigrad.tensor([1.0, 2.0, 3.0]))
    tp.data.copy_(torch.tensor([1.0, 2.0, 3.0]))
    same(p, tp)
    assert p._version == tp._version == 0 and p.requires_grad


# ---- backward twice through a graph that saved nothing -------------------------------------
def test_backward_twice_without_saved_values_accumulates_like_torch():
    def run(lib):
        a = lib.tensor(np.array([1.0, 2.0]), requires_grad=True)
        y = ((a + 1).sum() - a.reshape(2, 1).sum()) + (-a).sum()   # nodes that save nothing
        y.backward()
        y.backward()
        return a.grad
    np.testing.assert_array_equal(run(minigrad).numpy(), run(torch).numpy())


def test_copy_from_a_source_that_does_not_fit_is_an_error_like_torch():
    with pytest.raises(RuntimeError):
        torch.zeros(3).copy_(torch.zeros(2, 3))
    with pytest.raises(RuntimeError, match=r"source of shape \[2, 3\] cannot be broadcast to "
                                           r"\[3\]"):
        minigrad.zeros(3).copy_(minigrad.zeros(2, 3))


def test_writing_into_read_only_memory_is_a_clear_error():
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    t = minigrad.as_tensor(frozen)
    with pytest.raises(RuntimeError, match="read-only"):
        t += 1


def test_in_place_ops_versions_and_views_on_each_device(device):
    """The same rules on the GPU: writes through views, setitem, the version check, and a
    recorded in-place op's gradient."""
    x = minigrad.tensor(np.arange(6.0).reshape(2, 3), device=device)
    x[0].mul_(10)
    x[:, 1] = -1.0
    x[x > 20] = 0.0
    x += minigrad.tensor([1.0, 2.0, 3.0], device=device)
    ref = torch.arange(6.0).reshape(2, 3)
    ref[0].mul_(10)
    ref[:, 1] = -1.0
    ref[ref > 20] = 0.0
    ref += torch.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(x.cpu().numpy(), ref.numpy())
    assert x._version == 4

    a = minigrad.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    y = a.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    w = minigrad.tensor([2.0, 3.0, 4.0], device=device, requires_grad=True)
    b = a * 1
    b *= w
    b[0] = w[1] * 2
    (b * b).sum().backward()
    ta = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tw = torch.tensor([2.0, 3.0, 4.0], requires_grad=True)
    tb = ta * 1
    tb *= tw
    tb[0] = tw[1] * 2
    (tb * tb).sum().backward()
    np.testing.assert_allclose(a.grad.cpu().numpy(), ta.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(w.grad.cpu().numpy(), tw.grad.numpy(), rtol=1e-6)


def test_an_op_that_returns_its_input_memory_shares_the_version():
    class Identity(minigrad.autograd.Function):     # returns the very array it was given
        @staticmethod
        def forward(ctx, a):
            return a

        @staticmethod
        def backward(ctx, g):
            return g
    x = minigrad.tensor([1.0, 2.0])
    for alias in (Identity.apply(x), x.reshape(2), x.to("cpu", dtype=minigrad.float32)):
        alias.add_(1)
    assert x.tolist() == [4.0, 5.0] and x._version == 3


# ---- a view made under no_grad, written with grad on ---------------------------------------------
@pytest.mark.parametrize("make_base", [
    lambda m: m.ones(3, requires_grad=True) * 1,
    lambda m: m.ones(3, requires_grad=True),
])
def test_a_no_grad_view_written_with_grad_on_is_refused_like_torch(make_base):
    for m in (minigrad, torch):
        x = make_base(m)
        with m.no_grad():
            v = x[:2]
        with pytest.raises(RuntimeError, match="view was created in no_grad mode"):
            v.mul_(2)
        with m.no_grad():
            v.mul_(2)                        # both inside no_grad: fine
        assert x.tolist() == [2.0, 2.0, 1.0]
    for m in (minigrad, torch):             # a base without grad: nothing to be ambiguous
        x = m.ones(3)
        with m.no_grad():
            v = x[:2]
        v.mul_(2)
        assert x.tolist() == [2.0, 2.0, 1.0]
