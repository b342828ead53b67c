"""The CUDA backend against the textbook NumPy form, function by function (conv, GEMM,
pools, sigmoid, the losses, the dropout mask against the loops form's Philox, the
optimizers), plus what only a GPU can show: bitwise-identical reruns, a healthy GPU after
bad shapes, a LeNet step at training size. (The ops against PyTorch on the GPU are the
cuda cases of the ``device`` fixture in test_functional, test_nn and test_optim.)

The backend-level tests (the ``gpu`` fixture) run on the GPU ("cuda", skipped without one),
again with the block cap forced to 1, 3 and 7 ("cuda-capN": every grid-stride loop and the
GEMM's tile and chunk loops take several trips, with uneven last ones), and "emulated": the
same backend/cuda/ launchers and kernel sources with CuPy replaced by the host emulator in
minigrad/emulate, reporting 1 multiprocessor or, for "emulated-h200", the H200's 132. The
emulated runs check the kernels' indexing and the launch code on any machine; only the GPU
run shows the kernels on real hardware. Under MINIGRAD_EMULATE_CUDA=1 the "cuda" cases run
on the emulator too (make test-emulated)."""
import itertools
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import minigrad
from examples.lenet import lenet
from helpers import forget_the_gpu, rel_err
from minigrad.backend import loops, textbook

TOL = {"float64": 1e-12, "float32": 1e-5}
EMULATED = os.environ.get("MINIGRAD_EMULATE_CUDA") == "1"     # the whole session emulates
CAPS = {"cuda": None, "cuda-cap1": 1, "cuda-cap3": 3, "cuda-cap7": 7}


def _clear_caches(cuda):
    forget_the_gpu()        # (cuda is the backend module, whose caches this clears)


@pytest.fixture(params=[pytest.param(name, marks=pytest.mark.cuda) for name in CAPS]
                + ["emulated", "emulated-h200"])
def gpu(request):
    from minigrad.backend import cuda
    saved, sms = None, None
    if request.param.startswith("emulated") and not EMULATED:
        from minigrad.emulate import fake_cupy
        if shutil.which("g++") is None:
            pytest.skip("the emulated backend needs g++")
        saved = fake_cupy.install()
        sms = fake_cupy._Device.attributes["MultiProcessorCount"]
        fake_cupy.set_sm_count(fake_cupy.H200_SMS if request.param == "emulated-h200" else 1)
    _clear_caches(cuda)
    cuda.limit_blocks(CAPS.get(request.param))
    yield cuda
    cuda.limit_blocks(None)
    _clear_caches(cuda)
    if saved is not None:
        fake_cupy.set_sm_count(sms)
        fake_cupy.uninstall(saved)


def on_emulator():
    import cupy
    return cupy.__name__.endswith("fake_cupy")


def both(gpu, name, *args, **kw):
    """Run backend function ``name`` on the CPU and on the GPU with the same inputs."""
    import cupy
    ref = getattr(textbook, name)(*[a.copy() if isinstance(a, np.ndarray) else a for a in args],
                             **kw)
    dev = lambda a: cupy.asarray(a) if isinstance(a, np.ndarray) else a
    ours = getattr(gpu, name)(*map(dev, args), **{k: dev(v) for k, v in kw.items()})
    return ref, ours


def get(a):
    return a.get() if hasattr(a, "get") else a


rng = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape, k, s, p", [((2, 3, 9, 8), 3, 2, 1), ((256, 1, 28, 28), 5, 1, 0),
                                            ((1, 2, 7, 5), 5, 1, 2)])
def test_im2col_col2im_match_numpy(gpu, shape, k, s, p, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    ref, ours = both(gpu, "im2col", x, k, k, s, p)
    np.testing.assert_array_equal(get(ours), ref)            # a copy: exact
    ref2, ours2 = both(gpu, "col2im", ref, shape, k, k, s, p)
    assert rel_err(get(ours2), ref2) <= TOL[dtype]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("m, n, k", [(1, 1, 1), (17, 33, 15), (256, 120, 256), (6, 25, 70)])
@pytest.mark.parametrize("ta, tb", [(False, False), (True, False), (False, True)])
def test_gemm_matches_numpy_at_any_size(gpu, m, n, k, ta, tb, dtype):
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    bias = rng.standard_normal(n).astype(dtype)
    ref, ours = both(gpu, "gemm", a, b, trans_a=ta, trans_b=tb, bias=bias)
    assert rel_err(get(ours), ref) <= TOL[dtype]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batched_gemm_with_shared_weight_and_row_bias(gpu, dtype):
    w = rng.standard_normal((16, 150)).astype(dtype)
    cols = rng.standard_normal((5, 150, 64)).astype(dtype)
    bias = rng.standard_normal(16).astype(dtype)
    ref, ours = both(gpu, "gemm", w, cols, bias=bias, bias_axis=0)
    assert rel_err(get(ours), ref) <= TOL[dtype]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("chunk", [1, 3, 4, 13, 20])
def test_split_k_with_an_uneven_last_chunk(gpu, chunk, dtype, monkeypatch):
    """A batch of 13 split into chunks of ``chunk`` items (the last one shorter but for 1 and
    13; one chunk for 13 and 20), K = 13 x 40."""
    monkeypatch.setattr(gpu.conv, "SPLIT_CHUNK", chunk)
    g = rng.standard_normal((13, 5, 40)).astype(dtype)
    cols = rng.standard_normal((13, 18, 40)).astype(dtype)
    ref, ours = both(gpu, "gemm_batch_sum", g, cols, trans_b=True)
    assert rel_err(get(ours), ref) <= TOL[dtype]
    a, b = cols.transpose(0, 2, 1).copy(), g.transpose(0, 2, 1).copy()
    ref, ours = both(gpu, "gemm_batch_sum", a, b, trans_a=True)          # Σ A[n]ᵀ·B[n]
    assert rel_err(get(ours), ref) <= TOL[dtype]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_split_k_weight_gradient_at_lenet_size(gpu, dtype):
    """conv1's weight gradient: 6 x 25 output, K = 256 images x 576 pixels."""
    g = rng.standard_normal((256, 6, 576)).astype(dtype)
    cols = rng.random((256, 25, 576)).astype(dtype)
    ref, ours = both(gpu, "gemm_batch_sum", g, cols, trans_b=True)
    # float32: a sum of 147,456 products; the two orders of summation differ by ~1e-6
    assert rel_err(get(ours), ref) <= (1e-4 if dtype == "float32" else 1e-12)


def test_split_k_gives_the_same_bits_whatever_the_device_size(gpu):
    """The chunking of the batch is a constant, not a function of the multiprocessor count:
    the same sum comes out bit for bit with any block cap (on the GPU: on any GPU model)."""
    import cupy
    g = cupy.asarray(rng.standard_normal((50, 6, 100)).astype(np.float32))
    cols = cupy.asarray(rng.random((50, 25, 100)).astype(np.float32))
    results = []
    for cap in (1, 5, 132 * 32):
        gpu.limit_blocks(cap)
        results.append(get(gpu.gemm_batch_sum(g, cols, trans_b=True)))
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pool_sigmoid_xent_bias_adam_match_numpy(gpu, dtype):
    x = (rng.permutation(2 * 3 * 11 * 10).reshape(2, 3, 11, 10) / 7.0).astype(dtype)
    (out, arg), (gout, garg) = both(gpu, "maxpool2d_fwd", x, 3, 3, 2, 1)
    np.testing.assert_array_equal(get(gout), out)
    np.testing.assert_array_equal(get(garg), arg)
    g = rng.standard_normal(out.shape).astype(dtype)
    ref, ours = both(gpu, "maxpool2d_bwd", g, arg.astype(np.int32), x.shape, 3, 3, 2, 1)
    assert rel_err(get(ours), ref) <= TOL[dtype]

    z = (rng.standard_normal(1000) * 50).astype(dtype)
    ref, ours = both(gpu, "sigmoid_fwd", z)
    assert rel_err(get(ours), ref) <= TOL[dtype]
    ref, ours = both(gpu, "sigmoid_bwd", z, ref)
    assert rel_err(get(ours), ref) <= TOL[dtype]

    logits = (rng.standard_normal((37, 10)) * 5).astype(dtype)
    t = rng.integers(0, 10, 37)
    (loss, lse), (gloss, glse) = both(gpu, "softmax_xent_fwd", logits, t)
    assert rel_err(get(gloss), loss) <= TOL[dtype] and rel_err(get(glse), lse) <= TOL[dtype]
    w = rng.standard_normal(37).astype(dtype)
    ref, ours = both(gpu, "softmax_xent_bwd", w, logits, lse, t)
    assert rel_err(get(ours), ref) <= TOL[dtype]

    g3 = rng.standard_normal((7, 5, 13)).astype(dtype)
    ref, ours = both(gpu, "bias_grad", g3)
    assert rel_err(get(ours), ref) <= TOL[dtype]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adam_step_matches_numpy(gpu, dtype):
    import cupy
    p, g, m, v = (rng.standard_normal(1000).astype(dtype) for _ in range(4))
    v = np.abs(v)
    gp, gm, gv = cupy.array(p), cupy.array(m), cupy.array(v)     # copies: updated in place
    for step in (1, 2, 3):
        textbook.adam_step(p, g, m, v, step, 1e-3, 0.9, 0.999, 1e-8, 0.01)
        gpu.adam_step(gp, cupy.array(g), gm, gv, step, 1e-3, 0.9, 0.999, 1e-8, 0.01)
    for a, b in ((gp, p), (gm, m), (gv, v)):
        assert rel_err(get(a), b) <= TOL[dtype]


# ---- the fused step functions against their NumPy twins ------------------------------------
NEEDS = list(itertools.product((False, True), repeat=3))          # (dx, dw, db), each or not


def assert_grads_match(ref, ours, needs, tol):
    for name, wanted, r, o in zip(("dx", "dw", "db"), needs, ref, ours):
        if not wanted:
            assert r is None and o is None, name
        else:
            assert o.shape == r.shape and rel_err(get(o), r) <= tol, name


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("with_bias", [True, False])
def test_conv2d_with_stride_2_and_padding_1_matches_numpy(gpu, with_bias, dtype):
    """conv_fwd, conv_dcols + col2im and conv_wgrad with a stride and padding: 3 images of
    9 x 8 (5 x 4 outputs, so column tiles straddle images) and every subset of the
    gradients (no db without a bias: the layer never asks for one)."""
    import cupy
    x = rng.standard_normal((3, 2, 9, 8)).astype(dtype)
    w = rng.standard_normal((5, 2, 3, 3)).astype(dtype)
    b = rng.standard_normal(5).astype(dtype) if with_bias else None
    y_ref, saved_ref = textbook.conv2d_fwd(x, w, b, 2, 1)
    y, saved = gpu.conv2d_fwd(cupy.asarray(x), cupy.asarray(w),
                              None if b is None else cupy.asarray(b), 2, 1)
    assert y.shape == y_ref.shape == (3, 5, 5, 4) and rel_err(get(y), y_ref) <= TOL[dtype]
    g = rng.standard_normal(y_ref.shape).astype(dtype)
    for needs in NEEDS if with_bias else [n for n in NEEDS if not n[2]]:
        ref = textbook.conv2d_bwd(g.copy(), saved_ref, x.shape, w.shape, 2, 1, needs)
        ours = gpu.conv2d_bwd(cupy.asarray(g), saved, x.shape, w.shape, 2, 1, needs)
        assert_grads_match(ref, ours, needs, TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("needs", NEEDS)
def test_linear_bwd_matches_numpy_for_each_subset(gpu, needs, dtype):
    """dx = g @ W; dW and db from one product with a column of ones (the CPU: two)."""
    import cupy
    g, x, w = (rng.standard_normal(s).astype(dtype) for s in ((7, 5), (7, 13), (5, 13)))
    ref = textbook.linear_bwd(g, x, w, needs)
    ours = gpu.linear_bwd(*map(cupy.asarray, (g, x, w)), needs)
    assert_grads_match(ref, ours, needs, TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("with_stats", [True, False])
def test_cross_entropy_fwd_bwd_match_numpy(gpu, reduction, with_stats, dtype):
    """The one-launch loss (reduced in the kernel) and its gradient, and the running stats it
    adds to: totals that already hold a batch, plus this batch's mean loss, correct
    predictions, size and 1 (the counts exact, the mean loss to the dtype's tolerance)."""
    import cupy
    logits = (rng.standard_normal((37, 10)) * 3).astype(dtype)
    target = rng.integers(0, 10, 37)
    target[:20] = logits[:20].argmax(axis=1)               # at least 20 correct predictions
    stats_ref = np.array([2.5, 11.0, 32.0, 1.0]) if with_stats else None
    stats = cupy.asarray(stats_ref) if with_stats else None
    (loss_ref, lse_ref, kept_ref) = textbook.cross_entropy_fwd(logits, target, reduction,
                                                               stats_ref)
    loss, lse, kept = gpu.cross_entropy_fwd(cupy.asarray(logits), cupy.asarray(target),
                                            reduction, stats)
    assert float(get(kept)) == float(kept_ref) == 37
    assert loss.shape == np.shape(loss_ref) and loss.dtype == logits.dtype
    assert rel_err(get(loss), loss_ref) <= TOL[dtype]
    assert rel_err(get(lse), lse_ref) <= TOL[dtype]
    if with_stats:
        got = get(stats)
        assert stats_ref[1] >= 31 and got[1:].tolist() == stats_ref[1:].tolist()
        assert abs(got[0] - stats_ref[0]) <= TOL[dtype] * abs(stats_ref[0])
    g = rng.standard_normal(37 if reduction == "none" else ()).astype(dtype)
    ref = textbook.cross_entropy_bwd(g, logits, lse_ref, target, reduction, kept_ref)
    ours = gpu.cross_entropy_bwd(cupy.asarray(g), cupy.asarray(logits), lse,
                                 cupy.asarray(target), reduction, kept)
    assert ours.shape == ref.shape and rel_err(get(ours), ref) <= TOL[dtype]


def test_adam_multi_over_more_tensors_than_one_launch_takes(gpu):
    """adam_multi on 2·ADAM_MAX_TENSORS + 3 float32 tensors and ADAM_MAX_TENSORS + 2 float64
    ones, interleaved, of uneven sizes, with weight decay, four steps —
    against textbook.adam_multi (textbook.adam_step on each). Each dtype takes its own chunks of
    ADAM_MAX_TENSORS, the last one shorter. Not bitwise: the kernel computes (1−β2)·g·g where
    the CPU computes (g·g)·(1−β2), its step size and √(1−β2ᵗ) from the device's pow, and
    nvcc may fuse a multiply and an add; each such difference is an ulp or two, so float64
    agrees to 1e-12 and float32 to 1e-5 (normwise relative, as the other backend tests).
    The step counts are exact, an empty tensor's included (PyTorch counts its steps too)."""
    import cupy
    dtypes = ["float32"] * (2 * gpu.ADAM_MAX_TENSORS + 3) + ["float64"] * (
        gpu.ADAM_MAX_TENSORS + 2)
    dtypes = [dtypes[i] for i in rng.permutation(len(dtypes))]
    sizes = [0] + [int(s) for s in rng.integers(1, 300, len(dtypes) - 1)]
    host = [[rng.standard_normal(size).astype(dt), rng.standard_normal(size).astype(dt),
             np.abs(rng.standard_normal(size)).astype(dt)]        # param, exp_avg, exp_avg_sq
            for size, dt in zip(sizes, dtypes)]
    dev = [[cupy.array(a) for a in t] for t in host]               # copies: updated in place
    steps_ref = [np.zeros(()) for _ in host]
    steps = [cupy.zeros(()) for _ in host]
    for _ in range(4):
        grads = [rng.standard_normal(p.shape).astype(p.dtype) for p, _, _ in host]
        args = (3e-3, 0.9, 0.999, 1e-8, 0.01)
        params, exp_avgs, exp_avg_sqs = zip(*host)
        textbook.adam_multi(params, grads, exp_avgs, exp_avg_sqs, steps_ref, *args)
        params, exp_avgs, exp_avg_sqs = zip(*dev)
        gpu.adam_multi(params, [cupy.asarray(g) for g in grads], exp_avgs, exp_avg_sqs, steps,
                       *args)
    assert [float(get(t)) for t in steps] == [float(t) for t in steps_ref] == [4.0] * len(host)
    for j, (ref, ours) in enumerate(zip(host, dev)):
        for name, r, o in zip(("param", "exp_avg", "exp_avg_sq"), ref, ours):
            assert o.dtype == r.dtype and rel_err(get(o), r) <= TOL[r.dtype.name], (j, name)


@pytest.mark.cuda
def test_training_twice_gives_bitwise_identical_parameters():
    def train():
        minigrad.manual_seed(0)
        net = lenet(minigrad.nn).to("cuda")
        opt = minigrad.optim.Adam(net.parameters())
        g = np.random.default_rng(1)
        batch = 32 if EMULATED else 256      # the emulator takes seconds per step at 256
        for _ in range(5):
            x = minigrad.tensor(g.random((batch, 1, 28, 28)), dtype="float32", device="cuda")
            y = minigrad.tensor(g.integers(0, 10, batch), device="cuda")
            opt.zero_grad()
            minigrad.nn.CrossEntropyLoss()(net(x), y).backward()
            opt.step()
        return [p.detach().cpu().numpy().copy() for p in net.parameters()]
    for a, b in zip(train(), train()):
        np.testing.assert_array_equal(a, b)


def test_bad_shapes_are_python_errors_not_cuda_faults(gpu):
    import cupy
    with pytest.raises(ValueError, match="inner dimensions differ"):
        gpu.gemm(cupy.zeros((3, 4), np.float32), cupy.zeros((5, 2), np.float32))
    with pytest.raises(ValueError, match="bias has shape"):
        gpu.gemm(cupy.zeros((3, 4), np.float32), cupy.zeros((4, 2), np.float32),
                 bias=cupy.zeros(3, np.float32))
    with pytest.raises(TypeError, match="float32"):
        gpu.gemm(cupy.zeros((3, 4), np.float32), cupy.zeros((4, 2), np.float64))
    with pytest.raises(ValueError, match="col2im: cols has shape"):
        gpu.col2im(cupy.zeros((1, 9, 5), np.float32), (1, 1, 5, 5), 3, 3, 1, 0)
    with pytest.raises(ValueError, match="maxpool2d_bwd"):
        gpu.maxpool2d_bwd(cupy.zeros((1, 1, 2, 2), np.float32),
                          cupy.zeros((1, 1, 3, 3), np.int32), (1, 1, 4, 4), 2, 2, 2, 0)
    if cupy.ndarray is not np.ndarray:                  # (in the emulator they are the same)
        with pytest.raises(TypeError, match="GPU"):
            gpu.sigmoid_fwd(np.zeros(3, np.float32))
    with pytest.raises(TypeError, match="float32 or float64"):
        gpu.sigmoid_fwd(cupy.zeros(3, np.int64))
    cupy.cuda.get_current_stream().synchronize()      # and the GPU is still healthy


def test_kernels_load_from_a_source_checkout(gpu):
    assert (gpu.kernel_dir() / "gemm.cu").is_file()


@pytest.mark.cuda
def test_out_of_range_target_on_gpu_gives_nan_not_a_fault():
    z = minigrad.zeros(2, 3, device="cuda")
    loss = minigrad.nn.functional.cross_entropy(z, minigrad.tensor([0, 7], device="cuda"),
                                                reduction="none")
    values = loss.cpu().numpy()
    assert np.isfinite(values[0]) and np.isnan(values[1])


# ---- zero sizes: empty results, no launch -------------------------------------------------
f64 = lambda *shape: rng.standard_normal(shape)
EMPTY_CASES = {   # each function with a batch of 0 (or no element at all)
    "im2col": lambda: (f64(0, 1, 28, 28), 5, 5, 1, 0),
    "col2im": lambda: (f64(0, 25, 576), (0, 1, 28, 28), 5, 5, 1, 0),
    "gemm conv": lambda: (f64(6, 25), f64(0, 25, 576), False, False, f64(6), 0),
    "gemm linear": lambda: (f64(0, 256), f64(120, 256), False, True, f64(120), 1),
    "gemm no columns": lambda: (f64(7, 3), f64(3, 0)),
    "gemm_batch_sum": lambda: (f64(0, 6, 576), f64(0, 25, 576), False, True),
    "bias_grad": lambda: (f64(0, 6, 576),),
    "maxpool2d_fwd": lambda: (f64(0, 6, 24, 24), 2, 2, 2, 0),
    "maxpool2d_bwd": lambda: (f64(0, 6, 12, 12), np.zeros((0, 6, 12, 12), np.int32),
                              (0, 6, 24, 24), 2, 2, 2, 0),
    "sigmoid_fwd": lambda: (f64(0, 120),),
    "sigmoid_bwd": lambda: (f64(0, 120), f64(0, 120)),
    "softmax_xent_fwd": lambda: (f64(0, 10), np.zeros(0, np.int64)),
    "softmax_xent_bwd": lambda: (f64(0), f64(0, 10), f64(0), np.zeros(0, np.int64)),
    "avgpool2d_fwd": lambda: (f64(0, 6, 28, 28), (2, 2), (2, 2), (0, 0)),
    "avgpool2d_bwd": lambda: (f64(0, 6, 14, 14), (0, 6, 28, 28), (2, 2), (2, 2), (0, 0)),
    "nll_fwd": lambda: (f64(0, 10), np.zeros(0, np.int64), None, -100),
    "nll_bwd": lambda: (f64(0), np.zeros(0, np.int64), None, -100, 10),
}


@pytest.mark.parametrize("case", sorted(EMPTY_CASES))
def test_a_batch_of_zero_gives_what_the_cpu_gives_without_a_launch(gpu, case, monkeypatch):
    """A zero-size grid is a launch error and an empty CuPy array a null pointer, so nothing
    may be launched: every result is made on the host side, shaped as the CPU's."""
    with gpu.runtime.recording() as launches:
        ref, ours = both(gpu, case.split()[0], *EMPTY_CASES[case]())
    assert not launches, f"{case}: launched a kernel for a zero-size input"
    for r, o in zip(ref if isinstance(ref, tuple) else (ref,),
                    ours if isinstance(ours, tuple) else (ours,)):
        assert o.shape == r.shape
        # Values keep their dtype; a max-pool's window index is the backend's own business
        # (the CPU's 2×2 path keeps it as uint8), so there only its kind must agree.
        if r.dtype.kind in "iu":
            assert o.dtype.kind in "iu"
        else:
            assert o.dtype == r.dtype
        np.testing.assert_array_equal(get(o), r)          # the zeros of an empty sum, too


def test_adam_on_an_empty_parameter_launches_nothing(gpu, monkeypatch):
    import cupy
    p = cupy.zeros((0, 3))
    with gpu.runtime.recording() as launches:
        gpu.adam_step(p, cupy.zeros((0, 3)), cupy.zeros((0, 3)), cupy.zeros((0, 3)), 1, 1e-3,
                      0.9, 0.999, 1e-8, 0.0)
    assert not launches
    assert p.shape == (0, 3)


def test_logits_with_no_class_are_an_error_not_a_read_of_row_0(gpu):
    import cupy
    with pytest.raises(ValueError, match=r"shape \(3, 0\) have no class"):
        gpu.softmax_xent_fwd(cupy.zeros((3, 0)), cupy.zeros(3, np.int64))


def test_gemm_with_k_zero_is_the_bias(gpu):
    """K = 0: an empty dot product, so C is the bias alone (the kernel runs, reads nothing)."""
    ref, ours = both(gpu, "gemm", f64(5, 0), f64(0, 3), bias=f64(3))
    np.testing.assert_array_equal(get(ours), ref)


# ---- grid limits: sizes past 65,535 blocks in y or z --------------------------------------
def test_the_gemm_grid_stays_within_the_device_limits(gpu):
    for m, n, chunks in [(16 * 70_000, 1, 1), (1, 1, 70_000), (10**9, 10**6, 10**7)]:
        grid = gpu.gemm_grid(m, n, chunks)
        assert 1 <= grid[0] <= 2**31 - 1 and all(1 <= d <= 65_535 for d in grid[1:]), grid


# The two tests past 65,535 chunks run once on the GPU and once emulated (H200 grid), not in
# every cap variant: their chunk loops do not depend on the block cap (the capped loops are
# the smaller tests' business), and each emulated run takes seconds (the conv's ~20).
ONE_GPU_RUN = [pytest.param("cuda", marks=pytest.mark.cuda)] + ([] if EMULATED
                                                                 else ["emulated-h200"])


@pytest.mark.parametrize("gpu", ONE_GPU_RUN, indirect=True)
def test_a_batched_gemm_over_more_than_65535_items(gpu):
    """A batched GEMM's items on gridDim.z: 70,000 products of one column and 3 rows."""
    w, cols, bias = f64(2, 3), f64(70_000, 3, 1), f64(2)
    ref, ours = both(gpu, "gemm", w, cols, bias=bias, bias_axis=0)
    assert ours.shape == (70_000, 2, 1) and rel_err(get(ours), ref) <= 1e-12


@pytest.mark.parametrize("gpu", ONE_GPU_RUN, indirect=True)
def test_a_conv_over_more_than_65535_images(gpu):
    """conv2d_fwd and conv2d_bwd over 262,141 images: conv_wgrad sums the batch in chunks of
    SPLIT_CHUNK = 4 images, one chunk per gridDim.z slot, so 65,536 chunks, one past the
    65,535 that gridDim.z can hold (the launcher also caps it at _max_blocks(): the blocks
    loop over the rest). The smallest such case: 1x1 images of one channel, one 1x1 filter.
    conv_fwd and conv_dcols put the batch's pixels on gridDim.x instead (no 65,535 limit
    there; 4,096 tiles of 64 columns here). Against the NumPy backend."""
    import cupy
    n = 4 * 65_535 + 1
    assert -(-n // gpu.SPLIT_CHUNK) > gpu.MAX_GRID_YZ
    x, w, b = f64(n, 1, 1, 1), f64(1, 1, 1, 1), f64(1)
    y_ref, saved_ref = textbook.conv2d_fwd(x, w, b, 1, 0)
    y, saved = gpu.conv2d_fwd(cupy.asarray(x), cupy.asarray(w), cupy.asarray(b), 1, 0)
    assert y.shape == (n, 1, 1, 1) and rel_err(get(y), y_ref) <= 1e-12
    g = f64(n, 1, 1, 1)
    needs = (True, True, True)
    ref = textbook.conv2d_bwd(g.copy(), saved_ref, x.shape, w.shape, 1, 0, needs)
    ours = gpu.conv2d_bwd(cupy.asarray(g), saved, x.shape, w.shape, 1, 0, needs)
    for name, r, o in zip(("dx", "dw", "db"), ref, ours):
        assert o.shape == r.shape and rel_err(get(o), r) <= 1e-12, name


def test_a_linear_over_more_than_a_million_rows(gpu):
    """Rows of a linear layer's GEMM on gridDim.y: 1,048,592 rows = 65,537 row tiles."""
    x, w, bias = f64(1_048_592, 2), f64(1, 2), f64(1)
    ref, ours = both(gpu, "gemm", x, w, trans_b=True, bias=bias)
    assert rel_err(get(ours), ref) <= 1e-12


# ---- max-pool over NaN: PyTorch's rule ------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("k, s, p", [(2, 2, 0), (3, 1, 1), (3, 2, 1)])
def test_maxpool_takes_nan_as_pytorch_does(gpu, k, s, p, dtype):
    """A window holding NaN gives NaN, and of several NaNs the last one (row by row) gets
    the gradient — PyTorch's CPU and CUDA kernels alike. Checked against PyTorch itself."""
    import cupy
    import torch
    x = (rng.permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) / 5.0).astype(dtype)
    x[rng.random(x.shape) < 0.3] = np.nan
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.max_pool2d(tx, k, s, p)
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    ty.backward(torch.tensor(g))
    out, arg = gpu.maxpool2d_fwd(cupy.asarray(x), k, k, s, p)
    np.testing.assert_array_equal(get(out), ty.detach().numpy())     # NaN where torch has NaN
    dx = gpu.maxpool2d_bwd(cupy.asarray(g), arg, x.shape, k, k, s, p)
    np.testing.assert_array_equal(get(dx), tx.grad.numpy())



TOL_PLAIN = {"float32": 1e-6, "float64": 1e-14}   # sums of a few terms


# ---- average pool ---------------------------------------------------------------------------
AVG = [  # (x shape, kernel, stride, pad, ceil_mode, count_include_pad, divisor)
    ((2, 6, 28, 28), (2, 2), (2, 2), (0, 0), False, True, None),
    ((2, 3, 9, 8), (3, 3), (2, 2), (1, 1), False, True, None),
    ((2, 3, 9, 8), (3, 3), (2, 2), (1, 1), True, False, None),
    ((1, 2, 7, 5), (3, 2), (1, 2), (1, 1), True, True, None),
    ((3, 1, 6, 6), (3, 3), (1, 1), (0, 0), False, True, 5),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", AVG, ids=str)
def test_avgpool_matches_numpy(gpu, case, dtype):
    shape, *args = case
    x = rng.standard_normal(shape).astype(dtype)
    ref, ours = both(gpu, "avgpool2d_fwd", x, *args)
    assert ours.shape == ref.shape and rel_err(get(ours), ref) <= TOL_PLAIN[dtype]
    g = rng.standard_normal(ref.shape).astype(dtype)
    ref, ours = both(gpu, "avgpool2d_bwd", g, shape, *args)
    assert ours.shape == shape and rel_err(get(ours), ref) <= TOL_PLAIN[dtype]


# ---- dropout masks --------------------------------------------------------------------------
def test_philox_reference_gives_random123s_known_answers():
    """The three Philox4x32-10 test vectors of Random123 (kat_vectors): counter, key, output."""
    vectors = [
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
        ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
         (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
    ]
    for counter, key, out in vectors:
        assert loops.philox4x32_10(counter, key) == out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("size, p", [(13, 0.3), (1, 0.5), (4097, 0.25), (64, 0.0), (9, 1.0)],
                         ids=str)
def test_dropout_mask_is_philox_bit_for_bit(gpu, size, p, dtype):
    """Mask after mask, the kernel gives exactly the reference's bits for (seed, offset),
    offset counting the masks drawn since manual_seed; any size (a last, partial group of
    four), any p (0 keeps all, 1 none), any grid (the gpu fixture's caps)."""
    minigrad.manual_seed(2**40 + 5)              # a seed wider than 32 bits: both key words
    for offset in range(3):
        mask = gpu.dropout_mask((size,), p, np.dtype(dtype))
        expected = loops.dropout_mask_philox(size, p, 2**40 + 5, offset, dtype)
        assert mask.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(get(mask), expected)
    np.testing.assert_array_equal(get(gpu.philox_state()), [2**40 + 5, 3])


def test_the_generator_state_lives_in_one_device_array(gpu):
    """The kernels read (seed, offset) from device memory and philox_advance moves the
    offset there, so nothing on the host changes between masks (a captured CUDA graph can
    replay them); manual_seed rewrites the same array in place."""
    minigrad.manual_seed(1)
    gpu.dropout_mask((5,), 0.5, np.dtype("float32"))
    state = gpu.philox_state()
    gpu.dropout_mask((5,), 0.5, np.dtype("float32"))
    assert gpu.philox_state() is state and list(get(state)) == [1, 2]
    minigrad.manual_seed(9)
    assert gpu.philox_state() is state and list(get(state)) == [9, 0]


def test_dropout_masks_of_unseeded_generators_differ(gpu):
    minigrad.random._generator = np.random.default_rng()
    a = get(gpu.dropout_mask((256,), 0.5, np.dtype("float32")))
    minigrad.random._generator = np.random.default_rng()
    b = get(gpu.dropout_mask((256,), 0.5, np.dtype("float32")))
    assert (a != b).any()


# ---- NLL ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_matches_numpy(gpu, weighted, dtype):
    logp = rng.standard_normal((37, 10)).astype(dtype)
    t = rng.integers(0, 10, 37)
    t[[3, 20]] = -100
    w = rng.random(10).astype(dtype) if weighted else None
    (loss, wb), (gloss, gwb) = both(gpu, "nll_fwd", logp, t, w, -100)
    assert rel_err(get(gloss), loss) <= TOL_PLAIN[dtype]
    assert rel_err(get(gwb), wb) <= TOL_PLAIN[dtype]
    g = rng.standard_normal(37).astype(dtype)
    ref, ours = both(gpu, "nll_bwd", g, t, w, -100, 10)
    np.testing.assert_array_equal(get(ours), ref)


def test_nll_class_out_of_range_gives_nan_not_a_fault(gpu):
    import cupy
    loss, w = gpu.nll_fwd(cupy.zeros((2, 3)), cupy.asarray(np.array([1, 7])), None, -100)
    assert np.isfinite(get(loss)[0]) and np.isnan(get(loss)[1]) and np.isnan(get(w)[1])


# ---- Adadelta and RMSprop ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_adadelta_step_matches_numpy(gpu, weight_decay, dtype):
    import cupy
    p, g, s, acc = (rng.standard_normal(1000).astype(dtype) for _ in range(4))
    s, acc = np.abs(s), np.abs(acc)
    gp, gs, gacc = cupy.array(p), cupy.array(s), cupy.array(acc)     # updated in place
    for _ in range(3):
        textbook.adadelta_step(p, g, s, acc, 1.0, 0.9, 1e-6, weight_decay)
        gpu.adadelta_step(gp, cupy.array(g), gs, gacc, 1.0, 0.9, 1e-6, weight_decay)
    for a, b in ((gp, p), (gs, s), (gacc, acc)):
        assert rel_err(get(a), b) <= TOL_PLAIN[dtype]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("centered, momentum, weight_decay",
                         [(False, 0.0, 0.0), (True, 0.0, 0.0), (False, 0.9, 0.01),
                          (True, 0.5, 0.01)])
def test_rmsprop_step_matches_numpy(gpu, centered, momentum, weight_decay, dtype):
    import cupy
    p, g = (rng.standard_normal(999).astype(dtype) for _ in range(2))
    s = np.abs(rng.standard_normal(999)).astype(dtype) + 1
    gbar = (rng.standard_normal(999) * 0.1).astype(dtype) if centered else None
    buf = rng.standard_normal(999).astype(dtype) if momentum else None
    on_gpu = lambda a: cupy.array(a) if a is not None else None
    gp, gs, ggbar, gbuf = on_gpu(p), on_gpu(s), on_gpu(gbar), on_gpu(buf)
    for _ in range(3):
        textbook.rmsprop_step(p, g, s, gbar, buf, 1e-2, 0.99, 1e-8, weight_decay, momentum,
                              centered)
        gpu.rmsprop_step(gp, cupy.array(g), gs, ggbar, gbuf, 1e-2, 0.99, 1e-8, weight_decay,
                         momentum, centered)
    for a, b in ((gp, p), (gs, s), (ggbar, gbar), (gbuf, buf)):
        if b is not None:
            assert rel_err(get(a), b) <= TOL_PLAIN[dtype]


# ---- zero sizes and bad shapes of the pool, NLL, dropout and optimizer kernels ------------
def test_empty_masks_and_parameters_launch_nothing(gpu):
    import cupy
    e = lambda: cupy.zeros((0, 3))
    with gpu.runtime.recording() as launches:
        assert gpu.dropout_mask((0, 5), 0.5, np.dtype("float32")).shape == (0, 5)
        gpu.adadelta_step(e(), e(), e(), e(), 1.0, 0.9, 1e-6, 0.0)
        gpu.rmsprop_step(e(), e(), e(), e(), e(), 1e-2, 0.99, 1e-8, 0.0, 0.9, True)
    assert not launches


def test_bad_shapes_of_pool_nll_and_optimizers_are_python_errors(gpu):
    import cupy
    z = lambda *s: cupy.zeros(s)
    with pytest.raises(ValueError, match="avgpool2d_bwd: gradient"):
        gpu.avgpool2d_bwd(z(1, 1, 3, 3), (1, 1, 4, 4), (2, 2), (2, 2), (0, 0))
    with pytest.raises(ValueError, match="nll_fwd: weight has shape"):
        gpu.nll_fwd(z(2, 3), cupy.zeros(2, np.int64), z(4), -100)
    with pytest.raises(ValueError, match="nll_fwd: log-probabilities"):
        gpu.nll_fwd(z(2, 3), cupy.zeros(3, np.int64), None, -100)
    with pytest.raises(TypeError, match="int64"):
        gpu.nll_fwd(z(2, 3), cupy.zeros(2, np.int32), None, -100)
    with pytest.raises(ValueError, match="acc_delta is"):
        gpu.adadelta_step(z(4), z(4), z(4), z(5), 1.0, 0.9, 1e-6, 0.0)
    with pytest.raises(ValueError, match="grad_avg is"):
        gpu.rmsprop_step(z(4), z(4), z(4), z(3), None, 1e-2, 0.99, 1e-8, 0.0, 0.0, True)
    with pytest.raises(ValueError, match="param must be contiguous"):
        gpu.adadelta_step(z(4, 4)[:, 0], z(4), z(4), z(4), 1.0, 0.9, 1e-6, 0.0)
    cupy.cuda.get_current_stream().synchronize()      # and the GPU is still healthy


# ---- fault attribution ------------------------------------------------------------------
def test_sync_mode_reports_a_fault_at_the_launch_that_caused_it(gpu, monkeypatch):
    """MINIGRAD_CUDA_SYNC=1 waits after each launch, so a fault the stream reports (stood in
    for here by a stream whose synchronize fails) names the kernel and its shapes."""
    import cupy

    class FaultyStream:
        def synchronize(self):
            raise RuntimeError("an illegal memory access was encountered")
    x = cupy.asarray(f64(3, 4))
    monkeypatch.setattr(cupy.cuda, "get_current_stream", lambda: FaultyStream())
    gpu.sigmoid_fwd(x)                                   # without the mode: no wait
    monkeypatch.setenv("MINIGRAD_CUDA_SYNC", "1")
    gpu.runtime.reset()                    # the variable is read at import and by reset()
    try:
        with pytest.raises(RuntimeError, match=r"sigmoid_fwd<double> failed for shapes "
                                               r"\[\(3, 4\)\]: an illegal memory access"):
            gpu.sigmoid_fwd(x)
    finally:
        monkeypatch.delenv("MINIGRAD_CUDA_SYNC")
        gpu.runtime.reset()


FAULT = """
import numpy as np, cupy
from minigrad.backend import cuda
x = cupy.zeros(4, np.float32)
try:   # a size far past the buffer: the kernel faults on the device
    cuda.runtime.launch("sigmoid.cu", "sigmoid_fwd", x, (1024,), (256,), (x, x, np.int64(1 << 34)),
                 [x.shape])
    print("NO ERROR")
except RuntimeError as e:
    print(e)
"""


@pytest.mark.cuda
def test_a_real_fault_names_its_kernel_under_sync_mode():
    """On a GPU, in a child process (a fault ends the CUDA context it happens in)."""
    if EMULATED:
        pytest.skip("needs a real GPU: the emulator cannot fault like a device (make "
                    "test-emulated's sanitizers catch the bad access instead)")
    done = subprocess.run([sys.executable, "-c", FAULT], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "MINIGRAD_CUDA_SYNC": "1"})
    assert "CUDA kernel sigmoid_fwd<float> failed for shapes [(4,)]" in done.stdout, \
        done.stdout + done.stderr


# ---- a LeNet training step at training size against the NumPy backend --------------------
def lenet_step(device, dtype, x, y):
    """One step of the real job from seed 0 — forward, cross-entropy, backward, Adam — and
    what it gives: (loss, {name: gradient}, {name: parameter after the step})."""
    minigrad.manual_seed(0)
    net = lenet(minigrad.nn).to(dtype=dtype).to(device)
    opt = minigrad.optim.Adam(net.parameters(), lr=1e-3)
    loss = minigrad.nn.CrossEntropyLoss()(net(minigrad.tensor(x.astype(dtype), device=device)),
                                          minigrad.tensor(y, device=device))
    loss.backward()
    grads = {n: p.grad.cpu().numpy().astype(np.float64) for n, p in net.named_parameters()}
    opt.step()
    params = {n: p.detach().cpu().numpy().astype(np.float64)
              for n, p in net.named_parameters()}
    return loss.item(), grads, params


@pytest.mark.cuda
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_lenet_step_at_batch_256_matches_the_numpy_backend(dtype):
    """Loss, every gradient and every parameter after Adam, from the same weights and the
    same batch of 256, on the GPU and on the CPU. In float64 the two agree to rounding. In
    float32 the GPU step is compared with the float64 CPU step, to float32's tolerance:
    comparing it with the float32 CPU step would measure the NumPy backend instead, whose
    one-pass float32 sum for conv1's weight gradient (147,456 products that largely cancel)
    is off by ~5e-4 (the GPU's chunked split-K sum: ~1e-6, emulated)."""
    data = np.random.default_rng(5)
    x, y = data.random((256, 1, 28, 28)), data.integers(0, 10, 256)
    loss_g, grads_g, params_g = lenet_step("cuda", dtype, x, y)
    loss_c, grads_c, params_c = lenet_step("cpu", "float64", x, y)
    if dtype == "float64":
        assert abs(loss_g - loss_c) <= 1e-12 * abs(loss_c)
        for name in grads_c:
            assert rel_err(grads_g[name], grads_c[name]) <= 1e-12, name
            assert rel_err(params_g[name], params_c[name]) <= 1e-12, name
        return
    assert abs(loss_g - loss_c) <= 1e-5 * abs(loss_c)
    for name in grads_c:
        assert rel_err(grads_g[name], grads_c[name]) <= 1e-5, name
        # Adam's first step moves each weight by lr·g/(|g| + eps), about lr·sign(g): where
        # float32 gives a tiny gradient the other sign, that weight moves the other way (by
        # up to 2·lr); elsewhere the steps differ only where |g| is near eps, by far less.
        flipped = np.sign(grads_g[name]) != np.sign(grads_c[name])
        diff = np.abs(params_g[name] - params_c[name])
        assert (diff[~flipped] <= 1e-5).all() and (diff <= 2.1e-3).all(), name
