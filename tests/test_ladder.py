"""The GEMM ladder (kernels/gemm_ladder.cu through backend/cuda/ladder.py): every rung against
NumPy, on shapes that are not multiples of the tile, with each operand transposed or not,
in float32 and float64.

Like tests/test_cuda.py's backend tests they run on the GPU ("cuda", skipped without one,
again with the grid capped at 3 blocks so every tile loop takes several trips) and, on any
machine with g++, through the host emulator ("emulated", and "emulated-cap1": one block
doing every tile). Under MINIGRAD_EMULATE_CUDA=1 (make test-emulated) the "cuda" cases run
on the emulator too, with its sanitizers and race check."""
import os
import shutil

import numpy as np
import pytest

from helpers import forget_the_gpu, rel_err

EMULATED = os.environ.get("MINIGRAD_EMULATE_CUDA") == "1"
CAPS = {"cuda": None, "cuda-cap3": 3, "emulated": None, "emulated-cap1": 1}
TOL = {np.float32: 1e-5, np.float64: 1e-12}
RUNGS = ["naive", "tiled", "coalesced", "regblock"]
# (M, N, K): none a multiple of 16 (nor of regblock's 64) but the 1s; K < TILE and K > TILE
SHAPES = [(1, 1, 1), (17, 33, 19), (70, 5, 37), (3, 66, 2)]


@pytest.fixture(params=[pytest.param(name, marks=pytest.mark.cuda) if name.startswith("cuda")
                        else name for name in CAPS])
def ladder(request):
    from minigrad.backend import cuda
    from minigrad.backend.cuda import ladder
    saved = None
    if request.param.startswith("emulated") and not EMULATED:
        if shutil.which("g++") is None:
            pytest.skip("the emulated backend needs g++")
        from minigrad.emulate import fake_cupy
        saved = fake_cupy.install()
    forget_the_gpu()
    cuda.limit_blocks(CAPS[request.param])
    yield ladder
    cuda.limit_blocks(None)
    forget_the_gpu()
    if saved is not None:
        from minigrad.emulate import fake_cupy
        fake_cupy.uninstall(saved)


def operands(m, n, k, trans_a, trans_b, dtype, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    want = (a.T if trans_a else a).astype(np.float64) @ (b.T if trans_b else b)
    return a, b, want


@pytest.mark.parametrize("rung", RUNGS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_rung_matches_numpy(ladder, rung, dtype):
    import cupy
    for i, (m, n, k) in enumerate(SHAPES):
        for trans_a in (False, True):
            for trans_b in (False, True):
                a, b, want = operands(m, n, k, trans_a, trans_b, dtype, seed=i)
                got = ladder.gemm(rung, cupy.asarray(a), cupy.asarray(b), trans_a, trans_b)
                assert got.shape == (m, n) and got.dtype == dtype
                err = rel_err(np.asarray(got.get(), dtype=np.float64), want)
                assert err <= TOL[dtype], (rung, (m, n, k), trans_a, trans_b, err)


def test_empty_sizes(ladder):
    import cupy
    a, b = cupy.asarray(np.ones((4, 0))), cupy.asarray(np.ones((0, 3)))
    for rung in RUNGS:
        assert np.array_equal(ladder.gemm(rung, a, b).get(), np.zeros((4, 3)))
        assert ladder.gemm(rung, cupy.asarray(np.ones((0, 2))),
                           cupy.asarray(np.ones((2, 3)))).shape == (0, 3)


def test_bad_operands_are_named(ladder):
    import cupy
    a, b = cupy.asarray(np.ones((4, 5))), cupy.asarray(np.ones((6, 3)))
    with pytest.raises(ValueError, match=r"inner dimensions differ: op\(A\) is 4x5"):
        ladder.gemm("tiled", a, b)
    with pytest.raises(ValueError, match="unknown rung 'fast'"):
        ladder.gemm("fast", a, b)
    with pytest.raises(TypeError, match="expected float64, got float32"):
        ladder.gemm("naive", a, cupy.asarray(np.ones((5, 3), np.float32)))


def test_the_benchmarks_cases_run_on_every_rung(ladder):
    """bench_ops --ladder's products (at a batch of 1): every rung and our gemm give cuBLAS's
    (here: the array library's matmul) numbers, so the timings compare like with like."""
    from benchmarks.bench_ops import ladder_cases, ladder_functions
    for name, (_, fns) in ladder_functions(ladder_cases(n=1), dtype=np.float64).items():
        want = np.asarray(fns["cuBLAS"]().get())
        for impl, fn in fns.items():
            assert rel_err(np.asarray(fn().get()), want) <= 1e-12, (name, impl)


def test_bench_ladder_without_a_gpu_says_why(capsys):
    import minigrad
    from benchmarks import bench_ops
    if minigrad.cuda.is_available():
        pytest.skip("a GPU is usable here")
    with pytest.raises(SystemExit, match="--ladder needs a GPU: "):
        bench_ops.main(["--ladder"])
