"""One interface, several forms: the textbook NumPy (backend/textbook.py), the loops
(backend/loops.py), the fast CPU form (backend/cpu/) and CUDA (backend/cuda/).

Every form defines every name of ``backend.INTERFACE`` with one signature; every function is
called on the same small float64 inputs in each form (``exercise``) and the results compared
with the textbook's: the fast overrides and CUDA to 1e-12 (bitwise where the fast form only
selects numbers, as max-pool does), the loops to 1e-12 as well. The loops are also checked
against PyTorch, so the three oracles hang together. ``MINIGRAD_CPU`` picks the form that
trains: textbook and fast training agree, and a tiny network trains on the loops."""
import inspect
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minigrad
from examples.lenet_fashion import lenet
from helpers import rel_err
from minigrad.backend import INTERFACE, backend_of, cpu, cpu_form, loops, textbook

ROOT = Path(__file__).parent.parent
TOL = 1e-12


def as_numpy(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


def exercise(be, put=lambda a: a):
    """Call every interface function of the form ``be`` on small float64 inputs (``put``
    moves an array to the form's device): {name, or name/variant: [its results as NumPy
    arrays]}, in-place functions giving the arrays they updated. The inputs depend on
    nothing but a fixed seed, so two forms see the same numbers."""
    g = np.random.default_rng(0)
    r = lambda *shape: g.standard_normal(shape)
    out = {}
    # conv2d, stride 2 and padding 1, and the products behind it
    x, w, b = r(2, 3, 7, 6), r(4, 3, 3, 3), r(4)
    y, saved = be.conv2d_fwd(put(x), put(w), put(b), 2, 1)
    out["conv2d_fwd"] = [y]
    out["conv2d_bwd"] = be.conv2d_bwd(put(r(*y.shape)), saved, x.shape, w.shape, 2, 1,
                                      (True, True, True))
    y, saved = be.conv2d_fwd(put(x), put(w), None, 1, 0)
    out["conv2d_bwd/no bias, dx only"] = be.conv2d_bwd(put(r(*y.shape)), saved, x.shape,
                                                       w.shape, 1, 0, (True, False, False))[:1]
    cols = be.im2col(put(x), 3, 3, 2, 1)
    out["im2col"] = [cols]
    out["col2im"] = [be.col2im(put(r(*cols.shape)), x.shape, 3, 3, 2, 1)]
    out["gemm"] = [be.gemm(put(r(5, 4)), put(r(3, 4)), trans_b=True, bias=put(r(3)))]
    out["gemm/batched, row bias"] = [be.gemm(put(r(4, 6)), put(r(2, 6, 5)), bias=put(r(4)),
                                             bias_axis=0)]
    out["gemm_batch_sum"] = [be.gemm_batch_sum(put(r(3, 4, 6)), put(r(3, 5, 6)), trans_b=True)]
    out["bias_grad"] = [be.bias_grad(put(r(3, 4, 5)))]
    out["linear_bwd"] = be.linear_bwd(put(r(5, 3)), put(r(5, 4)), put(r(3, 4)),
                                      (True, True, True))
    # pools (max-pool inputs tie-free)
    for variant, (shape, k, s, p) in {"": ((2, 3, 8, 8), 2, 2, 0),
                                      "/3x3, stride 2, pad 1": ((2, 3, 7, 8), 3, 2, 1)}.items():
        xp = g.permutation(int(np.prod(shape))).reshape(shape) / 7.0
        pooled, arg = be.maxpool2d_fwd(put(xp), k, k, s, p)
        out["maxpool2d_fwd" + variant] = [pooled, arg]
        out["maxpool2d_bwd" + variant] = [be.maxpool2d_bwd(put(r(*pooled.shape)), arg, shape,
                                                           k, k, s, p)]
    avg = ((3, 2), (2, 1), (1, 1), True, False, None)
    pooled = be.avgpool2d_fwd(put(x), *avg)
    out["avgpool2d_fwd"] = [pooled]
    out["avgpool2d_bwd"] = [be.avgpool2d_bwd(put(r(*pooled.shape)), x.shape, *avg)]
    # activations
    s = be.sigmoid_fwd(put(4 * r(3, 5)))
    out["sigmoid_fwd"] = [s]
    out["sigmoid_bwd"] = [be.sigmoid_bwd(put(r(3, 5)), s)]
    mask = as_numpy(be.dropout_mask((1000,), 0.25, np.dtype("float64")))
    out["dropout_mask"] = [np.unique(mask)]          # the draws differ by device; the values not
    # losses
    z, t = put(3 * r(6, 5)), put(g.integers(0, 5, 6))
    loss, lse = be.softmax_xent_fwd(z, t)
    out["softmax_xent_fwd"] = [loss, lse]
    out["softmax_xent_bwd"] = [be.softmax_xent_bwd(put(r(6)), z, lse, t)]
    for reduction in ("mean", "sum", "none"):
        stats = put(np.zeros(4))
        loss, lse, kept = be.cross_entropy_fwd(z, t, reduction, stats)
        out["cross_entropy_fwd/" + reduction] = [loss, lse, stats, kept]
        gl = put(np.array(1.5) if reduction != "none" else r(6))
        out["cross_entropy_bwd/" + reduction] = [be.cross_entropy_bwd(gl, z, lse, t,
                                                                      reduction, kept)]
        t_ign = put(np.array([0, 4, -100, 2, -100, 1]))          # ignore_index's rows
        stats = put(np.zeros(4))
        loss, lse, kept = be.cross_entropy_fwd(z, t_ign, reduction, stats)
        out["cross_entropy_fwd/ignore/" + reduction] = [loss, lse, stats, kept]
        out["cross_entropy_bwd/ignore/" + reduction] = [be.cross_entropy_bwd(
            gl, z, lse, t_ign, reduction, kept)]
    t_nll = put(np.array([0, 4, -100, 2, 2, 1]))
    loss, wb = be.nll_fwd(z, t_nll, put(g.random(5)), -100)
    out["nll_fwd"] = [loss, wb]
    out["nll_bwd"] = [be.nll_bwd(put(r(6)), t_nll, put(g.random(5)), -100, 5)]
    # batch normalisation: training (the running statistics updated in place), then eval
    xb, wb, bb = r(4, 3, 5), r(3), r(3)
    rm, rv = put(r(3)), put(1 + g.random(3))
    y, saved = be.batchnorm_fwd(put(xb), put(wb), put(bb), rm, rv, True, 0.1, 1e-5)
    out["batchnorm_fwd"] = [y, *saved, rm, rv]
    out["batchnorm_bwd"] = be.batchnorm_bwd(put(r(4, 3, 5)), saved, put(wb), True,
                                            (True, True, True))
    y, saved = be.batchnorm_fwd(put(xb), None, None, rm, rv, False, 0.1, 1e-5)
    out["batchnorm_fwd/eval, no affine"] = [y, *saved]
    out["batchnorm_bwd/eval, dx only"] = be.batchnorm_bwd(put(r(4, 3, 5)), saved, None, False,
                                                          (True, False, False))[:1]
    # optimizers, three steps each, in place
    p, m, v, grads = put(r(7)), put(np.zeros(7)), put(np.zeros(7)), [r(7) for _ in range(3)]
    for step, grad in enumerate(grads, 1):
        be.adam_step(p, put(grad), m, v, step, 1e-2, 0.9, 0.999, 1e-8, 0.1)
    out["adam_step"] = [p, m, v]
    ps, ms, vs = [put(r(4)), put(r(2, 3))], [put(np.zeros(4)), put(np.zeros((2, 3)))], \
        [put(np.zeros(4)), put(np.zeros((2, 3)))]
    steps = [put(np.zeros(())), put(np.zeros(()))]
    for _ in range(3):
        be.adam_multi(ps, [put(r(4)), put(r(2, 3))], ms, vs, steps, 1e-2, 0.9, 0.999, 1e-8, 0.0)
    out["adam_multi"] = ps + ms + vs + steps
    p, s_avg, acc = put(r(7)), put(np.zeros(7)), put(np.zeros(7))
    for _ in range(3):
        be.adadelta_step(p, put(r(7)), s_avg, acc, 1.0, 0.9, 1e-6, 0.01)
    out["adadelta_step"] = [p, s_avg, acc]
    p, s_avg, gbar, buf = put(r(7)), put(np.zeros(7)), put(np.zeros(7)), put(np.zeros(7))
    for _ in range(3):
        be.rmsprop_step(p, put(r(7)), s_avg, gbar, buf, 1e-2, 0.99, 1e-8, 0.01, 0.9, True)
    out["rmsprop_step"] = [p, s_avg, gbar, buf]
    return {name: [as_numpy(a) for a in results] for name, results in out.items()}


def assert_forms_agree(ours, ref, tol=TOL, exact=()):
    """Every result of ``ours`` within ``tol`` of the textbook's (bit for bit for the keys in
    ``exact``), and every interface name exercised."""
    assert {name.split("/")[0] for name in ref} == set(INTERFACE)
    assert ours.keys() == ref.keys()
    bad = {}
    for name in ref:
        for i, (a, b) in enumerate(zip(ours[name], ref[name], strict=True)):
            if name in exact:
                if not np.array_equal(a, b):
                    bad[f"{name}[{i}]"] = "not the same bits"
            elif not rel_err(a, b) <= tol:
                bad[f"{name}[{i}]"] = rel_err(a, b)
    assert not bad, bad


# ---- one interface ------------------------------------------------------------------------------
def test_every_form_defines_every_interface_name_with_one_signature():
    from minigrad.backend import cuda
    for form in (cpu, loops, cuda):
        for name in INTERFACE:
            assert callable(getattr(form, name, None)), f"{form.__name__} lacks {name}"
            assert inspect.signature(getattr(form, name)) == \
                inspect.signature(getattr(textbook, name)), f"{form.__name__}.{name}"


def test_what_the_fast_form_does_not_override_is_the_textbook():
    for name in INTERFACE:
        if name in cpu.OVERRIDES:
            assert getattr(cpu, name) is not getattr(textbook, name), name
        else:
            assert getattr(cpu, name) is getattr(textbook, name), name


def test_importing_the_cuda_form_does_not_import_cupy():
    code = "import sys, minigrad.backend.cuda; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == "False"


def test_minigrad_cpu_picks_the_form(monkeypatch):
    x = np.zeros(3)
    monkeypatch.delenv("MINIGRAD_CPU", raising=False)
    assert cpu_form() == "fast" and backend_of(x) is cpu
    for form, module in (("textbook", textbook), ("loops", loops), ("fast", cpu)):
        monkeypatch.setenv("MINIGRAD_CPU", form)
        assert cpu_form() == form and backend_of(x) is module


@pytest.mark.parametrize("value", ["slow", "", "Textbook", "cuda"])
def test_a_bad_minigrad_cpu_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("MINIGRAD_CPU", value)
    with pytest.raises(ValueError, match=r"MINIGRAD_CPU=.*fast, textbook, loops"):
        backend_of(np.zeros(3))


# ---- the forms against the textbook ------------------------------------------------------------
def test_the_fast_form_matches_the_textbook():
    """Each fast override against its textbook twin. Max-pool only selects numbers, so its
    values and their places are the same bits, and so is the 2×2 backward, where each pixel
    gets at most one gradient (overlapping windows add theirs in another order)."""
    assert_forms_agree(exercise(cpu), exercise(textbook),
                       exact=("maxpool2d_fwd", "maxpool2d_fwd/3x3, stride 2, pad 1",
                              "maxpool2d_bwd"))


def test_the_loops_match_the_textbook():
    assert_forms_agree(exercise(loops), exercise(textbook))


def test_cuda_matches_the_textbook(gpu_device):
    """On a GPU, or on the host emulator (the kernels' own source, compiled by g++)."""
    import cupy

    from minigrad.backend import cuda
    assert_forms_agree(exercise(cuda, cupy.asarray), exercise(textbook))


@pytest.mark.parametrize("form", [textbook, loops, cpu])
def test_an_empty_batch_goes_through_conv_and_pool(form):
    x, w = np.zeros((0, 3, 7, 6)), np.ones((4, 3, 3, 3))
    y, saved = form.conv2d_fwd(x, w, np.ones(4), 2, 1)
    dx, dw, db = form.conv2d_bwd(np.zeros(y.shape), saved, x.shape, w.shape, 2, 1,
                                 (True, True, True))
    assert y.shape == (0, 4, 4, 3) and dx.shape == x.shape
    assert dw.shape == w.shape and not dw.any() and db.shape == (4,) and not db.any()
    out, arg = form.maxpool2d_fwd(x, 3, 3, 2, 1)
    assert out.shape == arg.shape == (0, 3, 4, 3)
    assert form.maxpool2d_bwd(out, arg, x.shape, 3, 3, 2, 1).shape == x.shape


@pytest.mark.parametrize("form", [textbook, loops])
def test_the_sigmoid_does_not_underflow_where_it_need_not(form):
    """σ(−90) = e⁻⁹⁰ / (1 + e⁻⁹⁰) ≈ 8.19e-40: a float32 subnormal, not 0; σ(90) is 1."""
    y = form.sigmoid_fwd(np.array([-90.0, 0.0, 90.0], dtype=np.float32))
    assert y.dtype == np.float32
    assert 8.1e-40 < y[0] < 8.3e-40 and y[1] == 0.5 and y[2] == 1


# ---- the loops against PyTorch: the third oracle ------------------------------------------------
@pytest.mark.parametrize("shape, oc, k, stride, pad", [((2, 3, 6, 5), 4, 3, 1, 0),
                                                       ((1, 2, 7, 7), 3, 3, 2, 1),
                                                       ((2, 1, 5, 6), 2, 2, 1, 2)])
def test_the_loops_conv2d_matches_pytorch(shape, oc, k, stride, pad):
    g = np.random.default_rng(0)
    x, w, b = g.standard_normal(shape), g.standard_normal((oc, shape[1], k, k)), \
        g.standard_normal(oc)
    y, saved = loops.conv2d_fwd(x, w, b, stride, pad)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = TF.conv2d(xt, wt, bt, stride, pad)
    gy = g.standard_normal(y.shape)
    yt.backward(torch.tensor(gy))
    assert rel_err(y, yt.detach().numpy()) <= TOL
    grads = loops.conv2d_bwd(gy, saved, x.shape, w.shape, stride, pad, (True, True, True))
    for ours, ref in zip(grads, (xt.grad, wt.grad, bt.grad)):
        assert rel_err(ours, ref.numpy()) <= TOL


@pytest.mark.parametrize("shape, k, stride, pad", [((2, 2, 6, 6), 2, 2, 0),
                                                   ((1, 3, 7, 5), 3, 2, 1)])
def test_the_loops_maxpool_matches_pytorch(shape, k, stride, pad):
    g = np.random.default_rng(0)
    x = g.permutation(int(np.prod(shape))).reshape(shape) / 7.0      # tie-free
    y, arg = loops.maxpool2d_fwd(x, k, k, stride, pad)
    xt = torch.tensor(x, requires_grad=True)
    yt = TF.max_pool2d(xt, k, stride, pad)
    gy = g.standard_normal(y.shape)
    yt.backward(torch.tensor(gy))
    np.testing.assert_array_equal(y, yt.detach().numpy())
    np.testing.assert_array_equal(loops.maxpool2d_bwd(gy, arg, x.shape, k, k, stride, pad),
                                  xt.grad.numpy())


def test_the_loops_cross_entropy_and_adam_match_pytorch():
    g = np.random.default_rng(0)
    z, t = g.standard_normal((6, 5)) * 3, g.integers(0, 5, 6)
    loss, lse, kept = loops.cross_entropy_fwd(z, t, "mean")
    zt = torch.tensor(z, requires_grad=True)
    ref = TF.cross_entropy(zt, torch.tensor(t))
    ref.backward()
    assert abs(float(loss) - ref.item()) <= TOL * abs(ref.item())
    assert rel_err(loops.cross_entropy_bwd(np.array(1.0), z, lse, t, "mean", kept),
                   zt.grad.numpy()) <= TOL
    p0 = g.standard_normal(7)
    p, m, v = p0.copy(), np.zeros(7), np.zeros(7)
    pt = torch.tensor(p0.copy(), requires_grad=True)
    opt = torch.optim.Adam([pt], lr=1e-2, weight_decay=0.1)
    for step in range(1, 4):
        grad = g.standard_normal(7)
        loops.adam_step(p, grad, m, v, step, 1e-2, 0.9, 0.999, 1e-8, 0.1)
        pt.grad = torch.tensor(grad)
        opt.step()
    assert rel_err(p, pt.detach().numpy()) <= TOL


# ---- training under each form --------------------------------------------------------------------
def train(form, net_fn, x, y, steps, dtype, monkeypatch, lr=1e-3):
    """The losses of ``steps`` Adam steps on one batch under MINIGRAD_CPU=form, and the
    trained parameters."""
    monkeypatch.setenv("MINIGRAD_CPU", form)
    minigrad.manual_seed(0)
    net = net_fn().to(dtype=getattr(minigrad, dtype))
    opt = minigrad.optim.Adam(net.parameters(), lr=lr)
    xt, yt = minigrad.tensor(x, dtype=dtype), minigrad.tensor(y)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = minigrad.nn.CrossEntropyLoss()(net(xt), yt)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses), [p.detach().numpy().copy() for p in net.parameters()]


def test_twenty_textbook_steps_match_twenty_fast_steps(monkeypatch):
    """LeNet in float32, batch 8: the two forms add in other orders (blocked products, the
    rearranged Adam), so they agree to float32 rounding, not to the bit."""
    g = np.random.default_rng(1)
    x, y = g.random((8, 1, 28, 28)), g.integers(0, 10, 8)
    fast = train("fast", lenet, x, y, 20, "float32", monkeypatch)
    plain = train("textbook", lenet, x, y, 20, "float32", monkeypatch)
    assert fast[0][-1] < fast[0][0]                       # it learns
    assert rel_err(plain[0], fast[0]) <= 1e-5
    for a, b in zip(plain[1], fast[1]):
        assert rel_err(a, b) <= 1e-4


def tiny_lenet():
    """LeNet's layers at a size the loops run in a moment: 8×8 images, 3 classes."""
    nn = minigrad.nn
    return nn.Sequential(nn.Conv2d(1, 2, kernel_size=3, padding=1), nn.Sigmoid(),
                         nn.MaxPool2d(kernel_size=2, stride=2), nn.Flatten(),
                         nn.Linear(2 * 4 * 4, 3))


def test_a_tiny_lenet_trains_under_the_loops_as_under_the_textbook(monkeypatch):
    g = np.random.default_rng(2)
    x, y = g.random((4, 1, 8, 8)), g.integers(0, 3, 4)
    looped = train("loops", tiny_lenet, x, y, 5, "float64", monkeypatch, lr=0.05)
    assert looped[0][-1] < looped[0][0]
    plain = train("textbook", tiny_lenet, x, y, 5, "float64", monkeypatch, lr=0.05)
    assert rel_err(looped[0], plain[0]) <= 1e-10


@pytest.mark.parametrize("form", ["textbook", "loops"])
def test_minigrad_cpu_picks_the_form_of_a_new_process(form):
    code = ("import minigrad.backend as b; print(b.cpu_form(), "
            "b.backend_of(__import__('numpy').zeros(1)).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={**os.environ, "MINIGRAD_CPU": form}).stdout
    assert out.split() == [form, f"minigrad.backend.{form}"]
