"""Cross-entropy and negative log-likelihood on the GPU (``kernels/softmax_xent.cu``,
``kernels/nll.cu``): the training step's cross-entropy is one launch each way, its mean and
running totals included."""
import numpy as np

from .runtime import (
    THREADS,
    XENT_THREADS,
    get_cupy,
    grid_1d,
    i32,
    launch,
    ready,
)


# ---- cross-entropy -------------------------------------------------------------------------
def softmax_xent_fwd(logits, target):
    cupy = get_cupy()
    z = ready(logits, "softmax_xent_fwd", 2)
    t = ready(target, "softmax_xent_fwd target", 1, np.int64)
    if t.shape[0] != z.shape[0]:
        raise ValueError(f"softmax_xent_fwd: logits {z.shape} and target {t.shape} differ")
    b, k = z.shape
    if k == 0 and b > 0:
        raise ValueError(f"softmax_xent_fwd: logits of shape {z.shape} have no class")
    loss, lse = cupy.empty((b,), z.dtype), cupy.empty((b,), z.dtype)
    if b == 0:
        return loss, lse
    launch("softmax_xent.cu", "softmax_xent_fwd", z, grid_1d(b), (THREADS,),
            (z, t, loss, lse) + i32(b, k), [z.shape])
    return loss, lse


def softmax_xent_bwd(g, logits, lse, target):
    z = ready(logits, "softmax_xent_bwd", 2)
    g = ready(g, "softmax_xent_bwd", 1, z.dtype)
    lse = ready(lse, "softmax_xent_bwd lse", 1, z.dtype)
    t = ready(target, "softmax_xent_bwd target", 1, np.int64)
    b, k = z.shape
    if not g.shape == lse.shape == t.shape == (b,):
        raise ValueError(f"softmax_xent_bwd: g {g.shape}, lse {lse.shape} and target "
                         f"{t.shape} must all be ({b},)")
    return _xent_bwd(g, z, lse, t, 1, None, NO_TARGET)


NO_TARGET = np.iinfo(np.int64).min      # an ignore_index no target equals: none ignored


def _xent_bwd(g, z, lse, t, g_step, kept, ignore_index):
    """dz in one launch; ``kept`` (a 1-value device array, or None for 1) divides g."""
    cupy = get_cupy()
    dz = cupy.empty_like(z)
    if z.size == 0:
        return dz
    b, k = z.shape
    launch("softmax_xent.cu", "softmax_xent_bwd", z, grid_1d(z.size), (THREADS,),
            (g, z, lse, t, dz) + i32(b, k, g_step) + (kept, np.int64(ignore_index)),
            [z.shape])
    return dz


# ---- the cross-entropy of a training step: one launch each way ------------------------------
def cross_entropy_fwd(logits, target, reduction, stats=None, ignore_index=-100):
    """(loss, lse, kept): the loss reduced by "mean" or "sum" (a 0-d array), or per sample
    ("none"), each row's log-sum-exp and the number of rows counted (a 0-d array: a row whose
    target is ``ignore_index`` is not; the mean's divisor, read by the backward on the
    device) — in one launch, which also adds to ``stats`` (a float64 array of 4 on the
    device, or None): the batch's mean loss, its correct predictions (argmax == target), the
    rows counted and 1 (see softmax_xent.cu)."""
    cupy = get_cupy()
    z = ready(logits, "cross_entropy", 2)
    t = ready(target, "cross_entropy target", 1, np.int64)
    b, k = z.shape
    if t.shape[0] != b:
        raise ValueError(f"cross_entropy: logits {z.shape} and target {t.shape} differ")
    if k == 0 and b > 0:
        raise ValueError(f"cross_entropy: logits of shape {z.shape} have no class")
    if stats is not None and (stats.dtype != np.float64 or stats.shape != (4,)):
        raise ValueError(f"cross_entropy: stats must be a float64 array of shape (4,), got "
                         f"{stats.dtype} {stats.shape}")
    lse, kept = cupy.empty((b,), z.dtype), cupy.empty((), z.dtype)   # the kernel fills both
    out = cupy.empty((b,) if reduction == "none" else (), z.dtype)
    if b == 0:                      # the mean of no loss is NaN, the sum 0; nothing to count
        if reduction != "none":
            out.fill(np.nan if reduction == "mean" else 0)
        kept.fill(0)
        return out, lse, kept
    losses, total = (out, None) if reduction == "none" else (None, out)
    launch("softmax_xent.cu", "softmax_xent_loss", z, (1,), (XENT_THREADS,),
            (z, t, lse, losses, total, stats, kept) + i32(b, k, reduction == "mean")
            + (np.int64(ignore_index),), [z.shape])
    return out, lse, kept


def cross_entropy_bwd(g, logits, lse, target, reduction, kept=None, ignore_index=-100):
    """d loss / d logits from the loss's gradient ``g`` (0-d for "mean" and "sum", per
    sample for "none"); a mean's division by the rows counted (``kept``, from the forward;
    None: all of them) happens in the kernel, and an ignored row's gradient is 0."""
    cupy = get_cupy()
    z = ready(logits, "cross_entropy", 2)
    g = ready(g, "cross_entropy gradient", dtype=z.dtype)
    t = ready(target, "cross_entropy target", 1, np.int64)
    per_sample = reduction == "none"
    if g.shape != (z.shape[0],) if per_sample else g.size != 1:
        raise ValueError(f"cross_entropy: gradient of shape {g.shape} for a "
                         f"{reduction!r} loss of {z.shape[0]} samples")
    if reduction == "mean":
        kept = cupy.full((), z.shape[0], z.dtype) if kept is None else \
            ready(kept, "cross_entropy kept", 0, z.dtype)
    else:
        kept = None
    return _xent_bwd(g, z, lse, t, int(per_sample), kept, ignore_index)


# ---- negative log-likelihood -----------------------------------------------------------------
def _nll_operands(logp, target, weight, who):
    z = ready(logp, who, 2)
    t = ready(target, f"{who} target", 1, np.int64)
    b, k = z.shape
    if t.shape != (b,):
        raise ValueError(f"{who}: log-probabilities {z.shape} and target {t.shape} differ")
    if weight is not None:
        weight = ready(weight, f"{who} weight", 1, z.dtype)
        if weight.shape != (k,):
            raise ValueError(f"{who}: weight has shape {weight.shape}, expected ({k},)")
    return z, t, weight


def nll_fwd(logp, target, weight, ignore_index):
    cupy = get_cupy()
    z, t, weight = _nll_operands(logp, target, weight, "nll_fwd")
    b, k = z.shape
    loss, w = cupy.empty((b,), z.dtype), cupy.empty((b,), z.dtype)
    if b == 0:
        return loss, w
    if k == 0:
        raise ValueError(f"nll_fwd: log-probabilities of shape {z.shape} have no class")
    launch("nll.cu", "nll_fwd", z, grid_1d(b), (THREADS,),
            (z, t, weight if weight is not None else z, loss, w) + i32(b, k)
            + (np.int64(ignore_index), np.int32(weight is not None)), [z.shape])
    return loss, w


def nll_bwd(g, target, weight, ignore_index, num_classes):
    cupy = get_cupy()
    g = ready(g, "nll_bwd", 1)
    t = ready(target, "nll_bwd target", 1, np.int64)
    if t.shape != g.shape:
        raise ValueError(f"nll_bwd: gradient {g.shape} and target {t.shape} differ")
    if weight is not None:
        weight = ready(weight, "nll_bwd weight", 1, g.dtype)
        if weight.shape != (num_classes,):
            raise ValueError(f"nll_bwd: weight has shape {weight.shape}, expected "
                             f"({num_classes},)")
    d = cupy.empty((g.shape[0], num_classes), dtype=g.dtype)
    if d.size == 0:
        return d
    launch("nll.cu", "nll_bwd", g, grid_1d(d.size), (THREADS,),
            (g, t, weight if weight is not None else g, d) + i32(g.shape[0], num_classes)
            + (np.int64(ignore_index), np.int32(weight is not None)), [d.shape])
    return d
