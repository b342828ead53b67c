"""Exercise 2: a naive GEMM rung whose loads of a transposed A are coalesced."""
import numpy as np
import pytest

from exercise_help import emulated_cuda, not_done
from helpers import rel_err

pytestmark = pytest.mark.exercise


def test_naive_coalesced_rung_is_right():
    from minigrad.backend import cuda
    from minigrad.backend.cuda import ladder
    if "naive_coalesced" not in ladder.RUNGS or \
            "gemm_naive_coalesced" not in cuda.KERNELS["gemm_ladder.cu"]:
        not_done("no rung 'naive_coalesced' (kernel gemm_naive_coalesced) in the ladder")
    undo = emulated_cuda()
    try:
        import cupy
        rng = np.random.default_rng(0)
        for m, n, k in [(1, 1, 1), (17, 33, 19), (70, 5, 37)]:
            for ta in (False, True):
                for tb in (False, True):
                    a = rng.standard_normal((k, m) if ta else (m, k))
                    b = rng.standard_normal((n, k) if tb else (k, n))
                    want = (a.T if ta else a) @ (b.T if tb else b)
                    got = ladder.gemm("naive_coalesced", cupy.asarray(a), cupy.asarray(b),
                                      ta, tb)
                    assert rel_err(got.get(), want) <= 1e-12, ((m, n, k), ta, tb)
    finally:
        undo()
