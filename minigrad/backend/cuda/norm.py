"""Batch normalisation on the GPU (``kernels/batchnorm.cu``): one launch each way, one block
per channel, the statistics and the backward's two sums added as a fixed-order tree in
shared memory (no atomics: the same bits every run). The running statistics are updated in
place by the forward's kernel, so a training step reads nothing back to the host.

The arrays cross the interface as (N, C, L) (``ops.layers.BatchNorm`` reshapes (N, C) and
(N, C, H, W) to it); the math is ``textbook.batchnorm_fwd`` / ``batchnorm_bwd``'s."""
from .runtime import BN_THREADS, get_cupy, i32, launch, ready


def _per_channel(array, c, x, who):
    """A (C,) array of x's dtype, or None."""
    if array is None:
        return None
    array = ready(array, who, 1, x.dtype)
    if array.shape != (c,):
        raise ValueError(f"{who}: expected shape ({c},), got {array.shape}")
    return array


def _in_place(array, c, x, who):
    """A running statistic the kernel updates in place: it must already be contiguous (a
    copy made here would take the update and be thrown away)."""
    if array is not None and not array.flags.c_contiguous:
        raise ValueError(f"{who}: a running statistic must be contiguous to be updated in place")
    return _per_channel(array, c, x, who)


def batchnorm_fwd(x, weight, bias, running_mean, running_var, training, momentum, eps):
    cupy = get_cupy()
    x = ready(x, "batchnorm_fwd", 3)
    n, c, length = x.shape
    weight = _per_channel(weight, c, x, "batchnorm_fwd weight")
    bias = _per_channel(bias, c, x, "batchnorm_fwd bias")
    running_mean = _in_place(running_mean, c, x, "batchnorm_fwd running_mean")
    running_var = _in_place(running_var, c, x, "batchnorm_fwd running_var")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batchnorm_fwd: running_mean and running_var go together")
    if not training and running_mean is None:
        raise ValueError("batchnorm_fwd: evaluation needs the running statistics")
    y, xhat, invstd = cupy.empty_like(x), cupy.empty_like(x), cupy.empty((c,), x.dtype)
    if c == 0:
        return y, (xhat, invstd)
    real = x.dtype.type
    launch("batchnorm.cu", "batchnorm_fwd", x, (c,), (BN_THREADS,),
           (x, weight, bias, running_mean, running_var, y, xhat, invstd)
           + i32(n, c, length, bool(training)) + (real(momentum), real(eps)), [x.shape])
    return y, (xhat, invstd)


def batchnorm_bwd(g, saved, weight, training, needs):
    cupy = get_cupy()
    xhat, invstd = saved
    g = ready(g, "batchnorm_bwd", 3)
    xhat = ready(xhat, "batchnorm_bwd xhat", 3, g.dtype)
    if xhat.shape != g.shape:
        raise ValueError(f"batchnorm_bwd: gradient {g.shape} and xhat {xhat.shape} differ")
    n, c, length = g.shape
    invstd = _per_channel(invstd, c, g, "batchnorm_bwd invstd")
    weight = _per_channel(weight, c, g, "batchnorm_bwd weight")
    dx = cupy.empty_like(g) if needs[0] else None
    dweight = cupy.empty((c,), g.dtype) if needs[1] else None
    dbias = cupy.empty((c,), g.dtype) if needs[2] else None
    if c > 0 and any(needs):
        launch("batchnorm.cu", "batchnorm_bwd", g, (c,), (BN_THREADS,),
               (g, xhat, invstd, weight, dx, dweight, dbias)
               + i32(n, c, length, bool(training)), [g.shape])
    return dx, dweight, dbias
