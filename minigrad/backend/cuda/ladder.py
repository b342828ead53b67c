"""The GEMM ladder's launchers: C = op(A) @ op(B) by each rung of ``kernels/gemm_ladder.cu``.

    1 "naive"      one thread per output, everything from global memory
    2 "tiled"      TILE x TILE tiles staged in shared memory
    3 "coalesced"  the same, staging transposed operands in memory order (what
                   kernels/gemm.cu does, with tile shapes picked per product)
    4 "regblock"   each thread computes RB x RB outputs from registers

For learning and benchmarking (docs/ladder.md, ``python -m benchmarks.bench_ops --ladder``,
and ``--ladder --emulated`` for each rung's memory accesses counted without a GPU):
the layers use ``backend.cuda.gemm`` (conv.py). Operands are 2-D, float32 or float64, on the
GPU.
"""
import numpy as np

from .runtime import MAX_GRID_YZ, RB, THREADS, TILE, get_cupy, grid_1d, launch, max_blocks, ready

RUNGS = {"naive": "gemm_naive", "tiled": "gemm_tiled", "coalesced": "gemm_coalesced",
         "regblock": "gemm_regblock"}


def _operands(a, b, trans_a, trans_b, who):
    a = ready(a, who)
    b = ready(b, who, dtype=a.dtype)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"{who}: operands must be 2-D, got {a.shape} and {b.shape}")
    m, k = a.shape[::-1] if trans_a else a.shape
    k2, n = b.shape[::-1] if trans_b else b.shape
    if k != k2:
        raise ValueError(f"{who}: inner dimensions differ: op(A) is {m}x{k}, op(B) is "
                         f"{k2}x{n} (A {a.shape}, B {b.shape})")
    return a, b, m, n, k


def launch_shape(rung, m, n):
    """(grid, block) of a rung for an M x N output: a 1-D grid-stride launch for the naive
    rung, else one block per output tile (TILE, or RB*TILE for regblock), capped like the
    production GEMM's grid (the kernels loop over the tiles beyond it)."""
    if rung == "naive":
        return grid_1d(m * n), (THREADS,)
    edge = TILE * (RB if rung == "regblock" else 1)
    cap = max_blocks()
    return ((min(-(-n // edge), cap), min(-(-m // edge), cap, MAX_GRID_YZ)),
            (TILE, TILE))


def gemm(rung, a, b, trans_a=False, trans_b=False):
    """op(A) @ op(B) by the ladder's rung ``rung`` (a name of RUNGS)."""
    cupy = get_cupy()
    if rung not in RUNGS:
        raise ValueError(f"ladder.gemm: unknown rung {rung!r}; one of {list(RUNGS)}")
    a, b, m, n, k = _operands(a, b, trans_a, trans_b, f"ladder.gemm[{rung}]")
    if m == 0 or n == 0:
        return cupy.empty((m, n), dtype=a.dtype)
    if k == 0:                          # an empty sum: zeros (the kernels would write them
        return cupy.zeros((m, n), dtype=a.dtype)   # too, but A or B is a null pointer)
    c = cupy.empty((m, n), dtype=a.dtype)
    grid, block = launch_shape(rung, m, n)
    launch("gemm_ladder.cu", RUNGS[rung], a, grid, block,
                 (a, b, c) + tuple(np.int32(v) for v in (m, n, k, trans_a, trans_b)),
                 [a.shape, b.shape])
    return c
