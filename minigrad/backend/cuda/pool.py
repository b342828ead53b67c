"""Max-pool and average pool on the GPU (``kernels/maxpool.cu``, ``kernels/avgpool.cu``):
one thread per output forward, one per input pixel backward (a gather, no atomics)."""
import numpy as np

from ...arguments import out_size, pool_out_size
from .runtime import (
    THREADS,
    get_cupy,
    grid_1d,
    i32,
    launch,
    ready,
)


# ---- max-pool ----------------------------------------------------------------------------
def maxpool2d_fwd(x, kh, kw, stride, pad):
    cupy = get_cupy()
    x = ready(x, "maxpool2d_fwd", 4)
    n, c, h, w = x.shape
    oh, ow = out_size(h, kh, stride, pad), out_size(w, kw, stride, pad)
    out = cupy.empty((n, c, oh, ow), dtype=x.dtype)
    arg = cupy.empty((n, c, oh, ow), dtype=np.int32)
    if out.size == 0:
        return out, arg
    launch("maxpool.cu", "maxpool2d_fwd", x, grid_1d(out.size), (THREADS,),
            (x, out, arg) + i32(n, c, h, w, kh, kw, stride, pad, oh, ow), [x.shape])
    return out, arg


def maxpool2d_bwd(g, arg, x_shape, kh, kw, stride, pad):
    cupy = get_cupy()
    g = ready(g, "maxpool2d_bwd", 4)
    arg = ready(arg, "maxpool2d_bwd arg", 4, np.int32)
    n, c, h, w = x_shape
    oh, ow = out_size(h, kh, stride, pad), out_size(w, kw, stride, pad)
    if g.shape != (n, c, oh, ow) or arg.shape != g.shape:
        raise ValueError(f"maxpool2d_bwd: gradient {g.shape} and arg {arg.shape} must both "
                         f"be {(n, c, oh, ow)} for input {tuple(x_shape)}")
    if g.size == 0:                 # no window: nothing routed back
        return cupy.zeros(x_shape, dtype=g.dtype)
    dx = cupy.empty(x_shape, dtype=g.dtype)
    launch("maxpool.cu", "maxpool2d_bwd", g, grid_1d(dx.size), (THREADS,),
            (g, arg, dx) + i32(n, c, h, w, kh, kw, stride, pad, oh, ow), [g.shape, x_shape])
    return dx


# ---- average pool ------------------------------------------------------------------------
def _avgpool_args(x_shape, kernel, stride, pad, ceil_mode, count_include_pad, divisor):
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    oh, ow = pool_out_size(h, kh, sh, ph, ceil_mode), pool_out_size(w, kw, sw, pw, ceil_mode)
    return (n, c, oh, ow), i32(n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow,
                                bool(count_include_pad), divisor or 0)


def avgpool2d_fwd(x, kernel, stride, pad, ceil_mode=False, count_include_pad=True,
                  divisor=None):
    cupy = get_cupy()
    x = ready(x, "avgpool2d_fwd", 4)
    out_shape, args = _avgpool_args(x.shape, kernel, stride, pad, ceil_mode,
                                    count_include_pad, divisor)
    out = cupy.empty(out_shape, dtype=x.dtype)
    if out.size == 0:
        return out
    launch("avgpool.cu", "avgpool2d_fwd", x, grid_1d(out.size), (THREADS,), (x, out) + args,
            [x.shape])
    return out


def avgpool2d_bwd(g, x_shape, kernel, stride, pad, ceil_mode=False, count_include_pad=True,
                  divisor=None):
    cupy = get_cupy()
    g = ready(g, "avgpool2d_bwd", 4)
    out_shape, args = _avgpool_args(x_shape, kernel, stride, pad, ceil_mode,
                                    count_include_pad, divisor)
    if g.shape != out_shape:
        raise ValueError(f"avgpool2d_bwd: gradient {g.shape} must be {out_shape} for input "
                         f"{tuple(x_shape)}")
    if g.size == 0:                 # no window: nothing to spread back
        return cupy.zeros(x_shape, dtype=g.dtype)
    dx = cupy.empty(x_shape, dtype=g.dtype)
    launch("avgpool.cu", "avgpool2d_bwd", g, grid_1d(dx.size), (THREADS,), (g, dx) + args,
            [g.shape, tuple(x_shape)])
    return dx
