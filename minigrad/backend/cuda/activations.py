"""The sigmoid on the GPU (``kernels/sigmoid.cu``): one thread per element."""
import numpy as np

from .runtime import (
    THREADS,
    get_cupy,
    grid_1d,
    launch,
    ready,
)


# ---- activations ---------------------------------------------------------------------------
def sigmoid_fwd(x):
    cupy = get_cupy()
    x = ready(x, "sigmoid_fwd")
    y = cupy.empty_like(x)
    if x.size == 0:
        return y
    launch("sigmoid.cu", "sigmoid_fwd", x, grid_1d(x.size), (THREADS,),
            (x, y, np.int64(x.size)), [x.shape])
    return y


def sigmoid_bwd(g, y):
    cupy = get_cupy()
    g, y = ready(g, "sigmoid_bwd"), ready(y, "sigmoid_bwd", dtype=g.dtype)
    if g.shape != y.shape:
        raise ValueError(f"sigmoid_bwd: gradient {g.shape} and output {y.shape} differ")
    dx = cupy.empty_like(g)
    if g.size == 0:
        return dx
    launch("sigmoid.cu", "sigmoid_bwd", g, grid_1d(g.size), (THREADS,),
            (g, y, dx, np.int64(g.size)), [g.shape])
    return dx
