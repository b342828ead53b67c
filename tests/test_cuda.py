"""The CUDA backend against the NumPy one, function by function, plus what only a GPU can
show: bitwise-identical reruns, a healthy GPU after bad shapes. (The ops against PyTorch on
the GPU are the cuda cases of the ``device`` fixture in test_functional, test_nn and
test_optim.)

The backend-level tests run twice: on the GPU ("cuda", skipped without one) and
"emulated": the same backend/cuda.py and the same kernel sources, with CuPy replaced by
NumPy arrays and the kernels compiled by g++ through tests/cuda_emu/shim.h. The emulated
run checks the kernels' indexing and the launch code on any machine; only the GPU run
shows the kernels on real hardware."""
import os
import shutil

import numpy as np
import pytest

import minigrad
from examples.lenet_fashion import lenet
from helpers import rel_err
from minigrad.backend import cpu

TOL = {"float64": 1e-12, "float32": 1e-5}
EMULATED = os.environ.get("MINIGRAD_EMULATE_CUDA") == "1"     # the whole session emulates


def _clear_caches(cuda):
    for f in (cuda._module, cuda._kernel, cuda._max_blocks):
        f.cache_clear()


@pytest.fixture(params=[pytest.param("cuda", marks=pytest.mark.cuda), "emulated"])
def gpu(request):
    from minigrad.backend import cuda
    saved = None
    if request.param == "emulated" and not EMULATED:
        from cuda_emu import fake_cupy
        if shutil.which("g++") is None:
            pytest.skip("the emulated backend needs g++")
        saved = fake_cupy.install()
    _clear_caches(cuda)
    yield cuda
    _clear_caches(cuda)
    if saved is not None:
        fake_cupy.uninstall(saved)


def emulated_too_slow(gpu):
    import cupy
    if cupy.__name__.endswith("fake_cupy"):
        pytest.skip("too large for the emulator (every __syncthreads is an OS-thread barrier); "
                    "the GPU run covers it")


def both(gpu, name, *args, **kw):
    """Run backend function ``name`` on the CPU and on the GPU with the same inputs."""
    import cupy
    ref = getattr(cpu, name)(*[a.copy() if isinstance(a, np.ndarray) else a for a in args],
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
    if m * n * k > 100_000:
        emulated_too_slow(gpu)
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
def test_split_k_with_an_uneven_last_chunk(gpu, dtype):
    """A batch of 13 split into chunks (the last one shorter), K = 13 x 40."""
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
    emulated_too_slow(gpu)
    g = rng.standard_normal((256, 6, 576)).astype(dtype)
    cols = rng.random((256, 25, 576)).astype(dtype)
    ref, ours = both(gpu, "gemm_batch_sum", g, cols, trans_b=True)
    # float32: a sum of 147,456 products; the two orders of summation differ by ~1e-6
    assert rel_err(get(ours), ref) <= (1e-4 if dtype == "float32" else 1e-12)


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
        cpu.adam_step(p, g, m, v, step, 1e-3, 0.9, 0.999, 1e-8, 0.01)
        gpu.adam_step(gp, cupy.array(g), gm, gv, step, 1e-3, 0.9, 0.999, 1e-8, 0.01)
    for a, b in ((gp, p), (gm, m), (gv, v)):
        assert rel_err(get(a), b) <= TOL[dtype]


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
