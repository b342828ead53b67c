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
        # A and B both stored transposed: with neighbouring threads on n (rung 1), a warp's
        # loads of B[n, k] are K floats apart, one 32-byte sector per thread; with them on m,
        # A[k, m] is 32 adjacent floats (4 sectors) and B[n, k] one broadcast. The emulator
        # counts the sectors of every warp access (its "memstats" check).
        from minigrad.emulate import fake_cupy
        fake_cupy.CHECKS.add("memstats")
        cuda.reset()                                  # rebuilt with the counting on
        a = cupy.asarray(rng.standard_normal((24, 64)).astype(np.float32))   # (K, M)
        b = cupy.asarray(rng.standard_normal((40, 24)).astype(np.float32))   # (N, K)
        worst = {}
        for rung in ("naive", "naive_coalesced"):
            fake_cupy.memstats_reset()
            ladder.gemm(rung, a, b, True, True)
            sites = fake_cupy.memstats(f"{ladder.RUNGS[rung]}<float>")["sites"]
            worst[rung] = max((s.per_access, s.name, s.line) for s in sites
                              if not s.write and not s.shared)
        assert worst["naive"][0] > 16, f"the counter misses rung 1's strided load: {worst}"
        assert worst["naive_coalesced"][0] <= 4, (
            "not done yet: with A and B stored transposed, a warp's load of "
            f"{worst['naive_coalesced'][1]} (kernel line {worst['naive_coalesced'][2]}) "
            f"touches {worst['naive_coalesced'][0]:.1f} sectors of 32 bytes per access: "
            "neighbouring threads still read addresses far apart (see docs/exercises.md)")
    finally:
        from minigrad.emulate import fake_cupy
        fake_cupy.CHECKS.discard("memstats")
        undo()
