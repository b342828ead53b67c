"""The GPU backend: the functions of ``backend/cpu.py``, same names and signatures, each
launching a hand-written kernel from ``kernels/*.cu``.

Every kernel file is compiled by NVRTC once per process, on first use, into a cached
``cupy.RawModule`` with a float and a double instance of each template. Inputs are made
contiguous and checked here, in Python, before a launch: RawKernel checks nothing, and a
wrong shape would otherwise be a silent wrong answer or a fault inside CUDA. Scalars go as
``np.int32`` / ``np.int64`` / the array's float type, exactly what the signatures say.
Nothing here waits for the GPU, so a whole training step can later be captured as a graph.

Zero sizes never reach a kernel: an empty output is returned as it is, and an output that
sums over an empty input is zeros (a grid of 0 blocks is a launch error, and an empty CuPy
array is a null pointer). Launch shapes never depend on the GPU model where that would
change the arithmetic: the split-K chunk is a constant, so a seed trains to the same bits on
any GPU. With MINIGRAD_CUDA_SYNC=1 every launch waits for its kernel, so that a fault is
reported by the launch that caused it, with the kernel's name and shapes (debugging only:
it stalls the stream and cannot be used inside a CUDA graph capture).
"""
import functools
import os
from pathlib import Path

import numpy as np

from ..arguments import out_size

# Each kernel file and the templates it defines; each gets <float> and <double>.
KERNELS = {
    "im2col.cu": ["im2col", "col2im"],
    "gemm.cu": ["gemm", "conv_fwd", "conv_wgrad", "conv_dcols", "sum_partials", "bias_grad"],
    "maxpool.cu": ["maxpool2d_fwd", "maxpool2d_bwd"],
    "sigmoid.cu": ["sigmoid_fwd", "sigmoid_bwd"],
    "softmax_xent.cu": ["softmax_xent_fwd", "softmax_xent_loss", "softmax_xent_bwd"],
    "adam.cu": ["adam_step", "adam_count_steps", "adam_multi"],
    "gemm_ladder.cu": ["gemm_naive", "gemm_tiled", "gemm_coalesced", "gemm_regblock"],  # ladder.py
}
_CTYPE = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
THREADS = 256
# The GEMM's tiles: a block of 256 threads owns a TM x TN tile of the output, the shape picked
# per product (gemm_tile) from these; K is staged GEMM_TK at a time. Passed to the kernels as
# -D defines: defined only here, so the launcher and the kernels cannot disagree.
TILE_SHAPES = ((16, 16), (8, 32), (4, 64), (32, 8))
GEMM_TK = 16
XENT_THREADS = 256         # the one block of softmax_xent_loss (a power of two)
ADAM_MAX_TENSORS = 16      # tensors per adam_multi launch (its AdamList struct)
TILE = 16                  # the GEMM ladder's square tile edge (gemm_ladder.cu, ladder.py)
RB = 4                     # the ladder's register block (gemm_regblock: RB x RB outputs a thread)
DEFINES = {"GEMM_TK": GEMM_TK, "GEMM_TM_MAX": max(tm for tm, _ in TILE_SHAPES),
           "GEMM_TN_MAX": max(tn for _, tn in TILE_SHAPES), "XENT_THREADS": XENT_THREADS,
           "ADAM_MAX_TENSORS": ADAM_MAX_TENSORS, "TILE": TILE, "RB": RB}
SPLIT_CHUNK = 4    # batch items per split-K partial sum: fixed, so the bits are too
MAX_GRID_YZ = 65535


def kernel_dir():
    """The folder of the .cu files, found from this file's own place, never through the
    import system (an editable install of another checkout must not lend us its kernels):
    ``minigrad/kernels/`` beside this package in an installed wheel, else ``kernels/`` at the
    root of the source checkout this file belongs to."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "kernels"
    return installed if installed.is_dir() else package.parent / "kernels"


def compile_options():
    """The NVRTC options every kernel file is compiled with (the tests use them too)."""
    return ("--std=c++14",) + tuple(f"-D{k}={v}" for k, v in DEFINES.items())


@functools.lru_cache(maxsize=None)
def _module(filename):
    import cupy
    source = (kernel_dir() / filename).read_text()
    names = [f"{k}<{t}>" for k in KERNELS[filename] for t in ("float", "double")]
    return cupy.RawModule(code=source, options=compile_options(), name_expressions=names)


@functools.lru_cache(maxsize=None)
def _kernel(filename, name, ctype):
    return _module(filename).get_function(f"{name}<{ctype}>")


@functools.lru_cache(maxsize=None)
def _max_blocks():
    """The most blocks a grid-stride launch uses: 32 per multiprocessor. Only how the work is
    shared out depends on it, never which operations produce a result, so results do not
    change with it (tests force it down to 1, 3 and 7 to run every loop's later trips)."""
    import cupy
    sms = cupy.cuda.Device().attributes["MultiProcessorCount"]
    return sms * 32


def _grid(total):
    """A 1-D grid for ``total`` > 0 items, one per thread, capped (the kernels loop)."""
    return (max(1, min(-(-int(total) // THREADS), _max_blocks())),)


def _ctype(array, who):
    try:
        return _CTYPE[array.dtype]
    except KeyError:
        raise TypeError(f"{who}: float32 or float64 expected, got {array.dtype}") from None


def _ready(array, who, ndim=None, dtype=None):
    """The array as a contiguous CuPy array, its rank and dtype checked."""
    import cupy
    if not isinstance(array, cupy.ndarray):
        raise TypeError(f"{who}: expected a GPU (CuPy) array, got {type(array).__name__}")
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{who}: expected {ndim} dims, got shape {array.shape}")
    if dtype is not None and array.dtype != dtype:
        raise TypeError(f"{who}: expected {np.dtype(dtype)}, got {array.dtype}")
    out = cupy.ascontiguousarray(array)
    return out if array.ndim else out.reshape(())   # CuPy's makes a 0-d array (1,)


def _launch(filename, name, like, grid, block, args, shapes):
    """Launch one kernel; any error says which kernel, for which shapes. (The one place a
    kernel is launched from.)"""
    kernel = _kernel(filename, name, _ctype(like, name))
    try:
        kernel(grid, block, args)
        if os.environ.get("MINIGRAD_CUDA_SYNC") == "1":     # a fault surfaces here, not later
            import cupy
            cupy.cuda.get_current_stream().synchronize()
    except Exception as e:  # a launch error (bad configuration, a sticky fault) says where
        raise RuntimeError(f"CUDA kernel {name}<{_ctype(like, name)}> failed for shapes "
                           f"{shapes}: {e}") from e


def _i32(*values):
    return tuple(np.int32(v) for v in values)


# ---- im2col / col2im -----------------------------------------------------------------
def im2col(x, kh, kw, stride, pad):
    import cupy
    x = _ready(x, "im2col", 4)
    n, c, h, w = x.shape
    oh, ow = out_size(h, kh, stride, pad), out_size(w, kw, stride, pad)
    cols = cupy.empty((n, c * kh * kw, oh * ow), dtype=x.dtype)
    if cols.size == 0:
        return cols
    _launch("im2col.cu", "im2col", x, _grid(cols.size), (THREADS,),
            (x, cols) + _i32(n, c, h, w, kh, kw, stride, pad, oh, ow), [x.shape])
    return cols


def col2im(cols, x_shape, kh, kw, stride, pad):
    import cupy
    n, c, h, w = x_shape
    oh, ow = out_size(h, kh, stride, pad), out_size(w, kw, stride, pad)
    cols = _ready(cols, "col2im", 3)
    if cols.shape != (n, c * kh * kw, oh * ow):
        raise ValueError(f"col2im: cols has shape {cols.shape}, expected "
                         f"{(n, c * kh * kw, oh * ow)} for images {tuple(x_shape)}")
    if cols.size == 0:              # nothing to add up: no pixel, or no window covers one
        return cupy.zeros(x_shape, dtype=cols.dtype)
    dx = cupy.empty(x_shape, dtype=cols.dtype)
    _launch("im2col.cu", "col2im", cols, _grid(dx.size), (THREADS,),
            (cols, dx) + _i32(n, c, h, w, kh, kw, stride, pad, oh, ow), [cols.shape, x_shape])
    return dx


# ---- GEMM ------------------------------------------------------------------------------
def _gemm_operands(a, b, trans_a, trans_b, who):
    a, b = _ready(a, who), _ready(b, who, dtype=a.dtype)
    if a.ndim not in (2, 3) or b.ndim not in (2, 3):
        raise ValueError(f"{who}: operands must be 2-D or 3-D, got {a.shape} and {b.shape}")
    m, k = a.shape[-1:-3:-1] if trans_a else a.shape[-2:]
    k2, n = b.shape[-1:-3:-1] if trans_b else b.shape[-2:]
    if k != k2:
        raise ValueError(f"{who}: inner dimensions differ: op(A) is {m}x{k}, op(B) is "
                         f"{k2}x{n} (A {a.shape}, B {b.shape})")
    batches = {x.shape[0] for x in (a, b) if x.ndim == 3}
    if len(batches) > 1:
        raise ValueError(f"{who}: batch sizes differ: {a.shape} and {b.shape}")
    batch = batches.pop() if batches else None        # None: not batched; 0: an empty batch
    stride_a = m * k if a.ndim == 3 else 0
    stride_b = k * n if b.ndim == 3 else 0
    return a, b, m, n, k, batch, stride_a, stride_b


def gemm_tile(m, n):
    """The (TM, TN) tile for an M x N product: the one that pads it least (a 6-row conv
    output gets 8 x 32 tiles, not 16 x 16 ones with 10 idle rows); 16 x 16 on a tie."""
    def padded(shape):
        tm, tn = shape
        return -(-m // tm) * tm * (-(-n // tn) * tn)
    return min(TILE_SHAPES, key=padded)


def gemm_grid(m, n, chunks, tile=None):
    """(column tiles, row tiles, batch chunks), each capped by _max_blocks() and the y and z
    limits of 65,535; the kernel loops over the rest, so any size launches."""
    tm, tn = gemm_tile(m, n) if tile is None else tile
    cap = _max_blocks()
    return (min(-(-n // tn), cap), min(-(-m // tm), cap, MAX_GRID_YZ),
            min(chunks, cap, MAX_GRID_YZ))


def _tiled(m, n, chunks=1):
    """(grid, block) of a tiled product of M x N outputs in ``chunks`` chunks."""
    tm, tn = gemm_tile(m, n)
    return gemm_grid(m, n, chunks, (tm, tn)), (tn, tm)


def _fits_int32(who, **sizes):
    for name, v in sizes.items():
        if v > 2**31 - 1:
            raise ValueError(f"{who}: {name} = {v} does not fit the kernel's 32-bit indices")


def _gemm_launch(a, b, c, bias, m, n, k, trans_a, trans_b, stride_a, stride_b, batch,
                 per_block, bias_mode, ones=False):
    """C (chunks, M, N) from ``batch`` items, ``per_block`` of them summed per chunk; M, N and
    batch are > 0 (K may be 0: then only the bias is written). ``ones``: one more column of
    op(B), all ones, whose results (the sums of op(A)'s rows) follow each chunk's M x N."""
    _fits_int32("gemm", M=m, N=n + 1, K=k, batch=batch)
    grid, block = _tiled(m, n + ones, -(-batch // per_block))
    _launch("gemm.cu", "gemm", a, grid, block,
            (a, b, c, bias) + _i32(m, n, k, trans_a, trans_b)
            + (np.int64(stride_a), np.int64(stride_b)) + _i32(batch, per_block, bias_mode, ones),
            [a.shape, b.shape])


def gemm(a, b, trans_a=False, trans_b=False, bias=None, bias_axis=1):
    import cupy
    a, b, m, n, k, batch, sa, sb = _gemm_operands(a, b, trans_a, trans_b, "gemm")
    mode = 0
    if bias is not None:
        bias = _ready(bias, "gemm bias", 1, a.dtype)
        want = m if bias_axis == 0 else n
        if bias.shape != (want,):
            raise ValueError(f"gemm: bias has shape {bias.shape}, expected ({want},)")
        mode = 1 if bias_axis == 0 else 2
    shape = (m, n) if batch is None else (batch, m, n)
    c = cupy.empty(shape, dtype=a.dtype)
    if c.size == 0:
        return c
    _gemm_launch(a, b, c, bias, m, n, k, trans_a, trans_b, sa, sb,
                 1 if batch is None else batch, 1, mode)
    return c


def gemm_batch_sum(a, b, trans_a=False, trans_b=False):
    """Σ_n op(A[n]) @ op(B[n]) as split-K over the batch: the batch is cut into chunks of
    SPLIT_CHUNK items (the last may be shorter), each summed into a partial M x N result by
    its own blocks; ``sum_partials`` adds the partials in a fixed order. The chunking depends
    on the batch size only, so every GPU (and the emulator) adds in the same order."""
    import cupy
    a, b, m, n, k, batch, sa, sb = _gemm_operands(a, b, trans_a, trans_b, "gemm_batch_sum")
    if batch is None:
        return gemm(a, b, trans_a, trans_b)
    if m == 0 or n == 0 or batch == 0 or k == 0:       # an empty sum, or an empty result
        return cupy.zeros((m, n), dtype=a.dtype)
    splits = -(-batch // SPLIT_CHUNK)
    partial = cupy.empty((splits, m, n), dtype=a.dtype)
    _gemm_launch(a, b, partial, None, m, n, k, trans_a, trans_b, sa, sb, batch, SPLIT_CHUNK,
                 0)
    return _sum_partials(partial, (m, n), [a.shape, b.shape])


def _sum_partials(partial, shape, shapes):
    import cupy
    out = cupy.empty(shape, dtype=partial.dtype)
    splits, size = partial.shape[0], out.size
    _launch("gemm.cu", "sum_partials", partial, _grid(size), (THREADS,),
            (partial, out, np.int32(splits), np.int64(size)), shapes)
    return out


def bias_grad(g):
    import cupy
    g = _ready(g, "bias_grad", 3)
    outer, c, inner = g.shape
    if g.size == 0:                 # no channel, or an empty sum for each one
        return cupy.zeros((c,), dtype=g.dtype)
    db = cupy.empty((c,), dtype=g.dtype)
    _launch("gemm.cu", "bias_grad", g, (c,), (THREADS,), (g, db) + _i32(outer, c, inner),
            [g.shape])
    return db


# ---- conv2d and linear: the layers' products ---------------------------------------------------
def _conv_shape(x_shape, w_shape, stride, padding, who):
    n, c, h, w = x_shape
    oc, c2, kh, kw = w_shape
    if c != c2:
        raise ValueError(f"{who}: input has {c} channels but the weight {tuple(w_shape)} "
                         f"expects {c2}")
    oh, ow = out_size(h, kh, stride, padding), out_size(w, kw, stride, padding)
    _fits_int32(who, columns=n * oh * ow, rows=c * kh * kw, input=n * c * h * w)
    return n, c, h, w, oc, kh, kw, oh, ow


def conv2d_fwd(x, weight, bias, stride, pad):
    """(y, saved): y = W @ im2col(x) + b for the whole batch in ONE product (conv_fwd), the
    columns read straight from x, never written; saved = (x, weight) for the backward."""
    import cupy
    x = _ready(x, "conv2d", 4)
    w = _ready(weight, "conv2d weight", 4, x.dtype)
    if bias is not None:
        bias = _ready(bias, "conv2d bias", 1, x.dtype)
    n, c, h, wd, oc, kh, kw, oh, ow = _conv_shape(x.shape, w.shape, stride, pad, "conv2d")
    y = cupy.empty((n, oc, oh, ow), dtype=x.dtype)
    if y.size:
        grid, block = _tiled(oc, n * oh * ow)
        _launch("gemm.cu", "conv_fwd", x, grid, block,
                (x, w, bias, y) + _i32(n, c, h, wd, oc, kh, kw, stride, pad, oh, ow),
                [x.shape, w.shape])
    return y, (x, w)


def conv2d_bwd(g, saved, x_shape, w_shape, stride, pad, needs):
    """(dx, dw, db), each None unless asked for in ``needs``:
    dx = col2im(Wᵀ @ g) (conv_dcols: one product over the whole batch, then col2im);
    dw and db together by split-K over the batch (conv_wgrad): chunks of SPLIT_CHUNK
    images, each summing g[n] @ cols[n]ᵀ and, through a column of ones, g[n]'s rows; the
    partials added in a fixed order (sum_partials). Two launches for both gradients."""
    import cupy
    x, w = saved
    g = _ready(g, "conv2d gradient", 4, x.dtype)
    n, c, h, wd, oc, kh, kw, oh, ow = _conv_shape(x_shape, w_shape, stride, pad,
                                                  "conv2d backward")
    k, p = c * kh * kw, oh * ow
    if g.shape != (n, oc, oh, ow):
        raise ValueError(f"conv2d backward: gradient {g.shape}, expected {(n, oc, oh, ow)}")
    need_x, need_w, need_b = needs
    dx = dw = db = None
    if need_x:
        dcols = cupy.empty((n, k, p), dtype=g.dtype)
        if dcols.size and oc:
            grid, block = _tiled(k, n * p)
            _launch("gemm.cu", "conv_dcols", g, grid, block,
                    (w, g, dcols) + _i32(n, oc, k, p), [g.shape, w.shape])
        elif dcols.size:
            dcols.fill(0)                       # no output channel: nothing flows back
        dx = col2im(dcols, x_shape, kh, kw, stride, pad)
    if need_w or need_b:
        width = oc * k + (oc if need_b else 0)
        if n == 0 or p == 0 or oc == 0:
            out = cupy.zeros((width,), dtype=g.dtype)
        else:
            splits = -(-n // SPLIT_CHUNK)
            partial = cupy.empty((splits, width), dtype=g.dtype)
            grid, block = _tiled(oc, k + need_b, splits)
            _launch("gemm.cu", "conv_wgrad", g, grid, block,
                    (g, x, partial) + _i32(n, c, h, wd, oc, kh, kw, stride, pad, oh, ow,
                                           SPLIT_CHUNK, need_b), [g.shape, x.shape])
            out = _sum_partials(partial, (width,), [g.shape, x.shape])
        dw = out[:oc * k].reshape(w_shape) if need_w else None
        db = out[oc * k:] if need_b else None
    return dx, dw, db


def linear_bwd(g, x, weight, needs):
    """(dx, dw, db) of y = x @ Wᵀ + b, each None unless asked for: dx = g @ W; dW = gᵀ @ x
    and db = Σ_B g in ONE product, db through a column of ones appended to x."""
    import cupy
    g = _ready(g, "linear gradient", 2)
    x, w = _ready(x, "linear", 2, g.dtype), _ready(weight, "linear weight", 2, g.dtype)
    need_x, need_w, need_b = needs
    dx = gemm(g, w) if need_x else None
    dw = db = None
    if need_w or need_b:
        batch, out_f = g.shape
        in_f = x.shape[1]
        width = out_f * in_f + (out_f if need_b else 0)
        both = cupy.empty((width,), dtype=g.dtype)
        if batch == 0 or out_f == 0:
            both.fill(0)
        elif both.size:
            _gemm_launch(g, x, both, None, out_f, in_f, batch, True, False, 0, 0, 1, 1, 0,
                         ones=need_b)
        dw = both[:out_f * in_f].reshape(out_f, in_f) if need_w else None
        db = both[out_f * in_f:] if need_b else None
    return dx, dw, db


# ---- max-pool ----------------------------------------------------------------------------
def maxpool2d_fwd(x, kh, kw, stride, pad):
    import cupy
    x = _ready(x, "maxpool2d_fwd", 4)
    n, c, h, w = x.shape
    oh, ow = out_size(h, kh, stride, pad), out_size(w, kw, stride, pad)
    out = cupy.empty((n, c, oh, ow), dtype=x.dtype)
    arg = cupy.empty((n, c, oh, ow), dtype=np.int32)
    if out.size == 0:
        return out, arg
    _launch("maxpool.cu", "maxpool2d_fwd", x, _grid(out.size), (THREADS,),
            (x, out, arg) + _i32(n, c, h, w, kh, kw, stride, pad, oh, ow), [x.shape])
    return out, arg


def maxpool2d_bwd(g, arg, x_shape, kh, kw, stride, pad):
    import cupy
    g = _ready(g, "maxpool2d_bwd", 4)
    arg = _ready(arg, "maxpool2d_bwd arg", 4, np.int32)
    n, c, h, w = x_shape
    oh, ow = out_size(h, kh, stride, pad), out_size(w, kw, stride, pad)
    if g.shape != (n, c, oh, ow) or arg.shape != g.shape:
        raise ValueError(f"maxpool2d_bwd: gradient {g.shape} and arg {arg.shape} must both "
                         f"be {(n, c, oh, ow)} for input {tuple(x_shape)}")
    if g.size == 0:                 # no window: nothing routed back
        return cupy.zeros(x_shape, dtype=g.dtype)
    dx = cupy.empty(x_shape, dtype=g.dtype)
    _launch("maxpool.cu", "maxpool2d_bwd", g, _grid(dx.size), (THREADS,),
            (g, arg, dx) + _i32(n, c, h, w, kh, kw, stride, pad, oh, ow), [g.shape, x_shape])
    return dx


# ---- activations ---------------------------------------------------------------------------
def sigmoid_fwd(x):
    import cupy
    x = _ready(x, "sigmoid_fwd")
    y = cupy.empty_like(x)
    if x.size == 0:
        return y
    _launch("sigmoid.cu", "sigmoid_fwd", x, _grid(x.size), (THREADS,),
            (x, y, np.int64(x.size)), [x.shape])
    return y


def sigmoid_bwd(g, y):
    import cupy
    g, y = _ready(g, "sigmoid_bwd"), _ready(y, "sigmoid_bwd", dtype=g.dtype)
    if g.shape != y.shape:
        raise ValueError(f"sigmoid_bwd: gradient {g.shape} and output {y.shape} differ")
    dx = cupy.empty_like(g)
    if g.size == 0:
        return dx
    _launch("sigmoid.cu", "sigmoid_bwd", g, _grid(g.size), (THREADS,),
            (g, y, dx, np.int64(g.size)), [g.shape])
    return dx


# ---- cross-entropy -------------------------------------------------------------------------
def softmax_xent_fwd(logits, target):
    import cupy
    z = _ready(logits, "softmax_xent_fwd", 2)
    t = _ready(target, "softmax_xent_fwd target", 1, np.int64)
    if t.shape[0] != z.shape[0]:
        raise ValueError(f"softmax_xent_fwd: logits {z.shape} and target {t.shape} differ")
    b, k = z.shape
    if k == 0 and b > 0:
        raise ValueError(f"softmax_xent_fwd: logits of shape {z.shape} have no class")
    loss, lse = cupy.empty((b,), z.dtype), cupy.empty((b,), z.dtype)
    if b == 0:
        return loss, lse
    _launch("softmax_xent.cu", "softmax_xent_fwd", z, _grid(b), (THREADS,),
            (z, t, loss, lse) + _i32(b, k), [z.shape])
    return loss, lse


def softmax_xent_bwd(g, logits, lse, target):
    z = _ready(logits, "softmax_xent_bwd", 2)
    g = _ready(g, "softmax_xent_bwd", 1, z.dtype)
    lse = _ready(lse, "softmax_xent_bwd lse", 1, z.dtype)
    t = _ready(target, "softmax_xent_bwd target", 1, np.int64)
    b, k = z.shape
    if not g.shape == lse.shape == t.shape == (b,):
        raise ValueError(f"softmax_xent_bwd: g {g.shape}, lse {lse.shape} and target "
                         f"{t.shape} must all be ({b},)")
    return _xent_bwd(g, z, lse, t, 1, 1)


def _xent_bwd(g, z, lse, t, g_step, denominator):
    import cupy
    dz = cupy.empty_like(z)
    if z.size == 0:
        return dz
    b, k = z.shape
    _launch("softmax_xent.cu", "softmax_xent_bwd", z, _grid(z.size), (THREADS,),
            (g, z, lse, t, dz) + _i32(b, k, g_step) + (z.dtype.type(denominator),), [z.shape])
    return dz


# ---- the cross-entropy of a training step: one launch each way ------------------------------
def cross_entropy_fwd(logits, target, reduction, stats=None):
    """(loss, lse): the loss reduced by "mean" or "sum" (a 0-d array), or per sample
    ("none"), and each row's log-sum-exp for the backward — in one launch, which also adds
    to ``stats`` (a float64 array of 4 on the device, or None): the batch's mean loss, its
    correct predictions (argmax == target), its size and 1 (see softmax_xent.cu)."""
    import cupy
    z = _ready(logits, "cross_entropy", 2)
    t = _ready(target, "cross_entropy target", 1, np.int64)
    b, k = z.shape
    if t.shape[0] != b:
        raise ValueError(f"cross_entropy: logits {z.shape} and target {t.shape} differ")
    if k == 0 and b > 0:
        raise ValueError(f"cross_entropy: logits of shape {z.shape} have no class")
    if stats is not None and (stats.dtype != np.float64 or stats.shape != (4,)):
        raise ValueError(f"cross_entropy: stats must be a float64 array of shape (4,), got "
                         f"{stats.dtype} {stats.shape}")
    lse = cupy.empty((b,), z.dtype)
    out = cupy.empty((b,) if reduction == "none" else (), z.dtype)
    if b == 0:                      # the mean of no loss is NaN, the sum 0; nothing to count
        if reduction != "none":
            out.fill(np.nan if reduction == "mean" else 0)
        return out, lse
    losses, total = (out, None) if reduction == "none" else (None, out)
    _launch("softmax_xent.cu", "softmax_xent_loss", z, (1,), (XENT_THREADS,),
            (z, t, lse, losses, total, stats) + _i32(b, k, reduction == "mean"), [z.shape])
    return out, lse


def cross_entropy_bwd(g, logits, lse, target, reduction):
    """d loss / d logits from the loss's gradient ``g`` (0-d for "mean" and "sum", per
    sample for "none"); a mean's division by the batch size happens in the kernel."""
    z = _ready(logits, "cross_entropy", 2)
    g = _ready(g, "cross_entropy gradient", dtype=z.dtype)
    per_sample = reduction == "none"
    if g.shape != (z.shape[0],) if per_sample else g.size != 1:
        raise ValueError(f"cross_entropy: gradient of shape {g.shape} for a "
                         f"{reduction!r} loss of {z.shape[0]} samples")
    return _xent_bwd(g, z, lse, target, int(per_sample),
                     z.shape[0] if reduction == "mean" else 1)


# ---- Adam ----------------------------------------------------------------------------------
def _adam_operands(who, param, grad, m, v):
    """Check one tensor's Adam operands (param, m and v are updated where they are, so they
    must be contiguous: a copy would lose the update); returns grad ready for a kernel."""
    for name, arr in (("param", param), ("exp_avg", m), ("exp_avg_sq", v)):
        if not arr.flags.c_contiguous:
            raise ValueError(f"{who}: {name} must be contiguous to be updated in place")
    grad = _ready(grad, f"{who} grad", dtype=param.dtype)
    if not param.shape == grad.shape == m.shape == v.shape:
        raise ValueError(f"{who}: param {param.shape}, grad {grad.shape}, exp_avg {m.shape} "
                         f"and exp_avg_sq {v.shape} must have one shape")
    return grad


def adam_step(param, grad, m, v, step, lr, beta1, beta2, eps, weight_decay):
    """In place, like cpu.adam_step; param, m and v must already be contiguous (they are
    updated where they are, so a copy would lose the update)."""
    grad = _adam_operands("adam_step", param, grad, m, v)
    if param.size == 0:
        return
    f = param.dtype.type
    step_size = lr / (1 - beta1 ** step)
    bc2_sqrt = (1 - beta2 ** step) ** 0.5
    _launch("adam.cu", "adam_step", param, _grid(param.size), (THREADS,),
            (param, grad, m, v, np.int64(param.size), f(step_size), f(beta1), f(beta2), f(eps),
             f(weight_decay), f(bc2_sqrt)), [param.shape])


# adam.cu's AdamList, field for field (8-byte fields: no padding on either side)
ADAM_LIST = np.dtype([("count", np.int64), ("start", np.int64, (ADAM_MAX_TENSORS + 1,))]
                     + [(f, np.uint64, (ADAM_MAX_TENSORS,))
                        for f in ("param", "grad", "exp_avg", "exp_avg_sq", "step")])
_adam_lists = {}               # the pointers of a launch -> its AdamList (reused every step)


def adam_multi(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, eps,
               weight_decay):
    """Adam on many tensors at once, in place: each step count (a 0-d float64 device array
    per tensor) advanced by one kernel, then every element of every tensor updated by one
    more — two launches per ADAM_MAX_TENSORS tensors of a dtype, whatever their number and
    sizes, and no number from the host that changes from step to step (a CUDA graph replays
    it as step t+1). The same arithmetic as adam_step."""
    lists = {}
    for p, g, m, v, t in zip(params, grads, exp_avgs, exp_avg_sqs, steps):
        g = _adam_operands("adam", p, g, m, v)
        if t.dtype != np.float64 or t.shape != ():
            raise ValueError(f"adam: the step count must be a 0-d float64 device array, got "
                             f"{t.dtype} {t.shape}")
        lists.setdefault(p.dtype, []).append((p, g, m, v, t))   # an empty one's t counts too
    d_lr, d_b1, d_b2 = np.float64(lr), np.float64(beta1), np.float64(beta2)
    for dtype, tensors in lists.items():
        f = dtype.type
        for first in range(0, len(tensors), ADAM_MAX_TENSORS):
            chunk = tensors[first:first + ADAM_MAX_TENSORS]
            adam_list = _adam_list(chunk)
            total = int(adam_list["start"][0, len(chunk)])
            shapes = [p.shape for p, *_ in chunk]
            _launch("adam.cu", "adam_count_steps", chunk[0][0], (1,), (ADAM_MAX_TENSORS,),
                    (adam_list,), shapes)
            if total:
                _launch("adam.cu", "adam_multi", chunk[0][0], _grid(total), (THREADS,),
                        (adam_list, d_lr, d_b1, d_b2, f(beta1), f(beta2), f(eps),
                         f(weight_decay)), shapes)


def _adam_list(chunk):
    """The AdamList of these tensors, made once for each set of addresses (a step's
    gradients usually come back at the same addresses, a captured graph's always do)."""
    key = tuple((p.size,) + tuple(a.data.ptr for a in (p, *rest)) for p, *rest in chunk)
    adam_list = _adam_lists.get(key)
    if adam_list is None:
        if len(_adam_lists) > 64:            # addresses that keep changing: do not pile up
            _adam_lists.clear()
        adam_list = np.zeros(1, ADAM_LIST)
        adam_list["count"] = len(chunk)
        adam_list["start"][0, 1:len(chunk) + 1] = np.cumsum([p.size for p, *_ in chunk])
        for j, tensors in enumerate(chunk):
            for field, a in zip(("param", "grad", "exp_avg", "exp_avg_sq", "step"), tensors):
                adam_list[field][0, j] = a.data.ptr
        _adam_lists[key] = adam_list
    return adam_list


# ==== average pooling, dropout masks, NLL loss, Adadelta and RMSprop ========================
# The twins of the functions at the end of cpu.py. Their kernel files are registered here,
# beside the functions that launch them.
from .. import random  # noqa: E402  (minigrad's generator: the dropout masks' seed)
from ..arguments import pool_out_size  # noqa: E402  (out_size, or rounded up with ceil_mode)

KERNELS.update({
    "avgpool.cu": ["avgpool2d_fwd", "avgpool2d_bwd"],
    "dropout.cu": ["dropout_mask", "philox_advance"],
    "nll.cu": ["nll_fwd", "nll_bwd"],
    "adadelta.cu": ["adadelta_step"],
    "rmsprop.cu": ["rmsprop_step"],
})


# ---- average pool ------------------------------------------------------------------------
def _avgpool_args(x_shape, kernel, stride, pad, ceil_mode, count_include_pad, divisor):
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    oh, ow = pool_out_size(h, kh, sh, ph, ceil_mode), pool_out_size(w, kw, sw, pw, ceil_mode)
    return (n, c, oh, ow), _i32(n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow,
                                bool(count_include_pad), divisor or 0)


def avgpool2d_fwd(x, kernel, stride, pad, ceil_mode=False, count_include_pad=True,
                  divisor=None):
    import cupy
    x = _ready(x, "avgpool2d_fwd", 4)
    out_shape, args = _avgpool_args(x.shape, kernel, stride, pad, ceil_mode,
                                    count_include_pad, divisor)
    out = cupy.empty(out_shape, dtype=x.dtype)
    if out.size == 0:
        return out
    _launch("avgpool.cu", "avgpool2d_fwd", x, _grid(out.size), (THREADS,), (x, out) + args,
            [x.shape])
    return out


def avgpool2d_bwd(g, x_shape, kernel, stride, pad, ceil_mode=False, count_include_pad=True,
                  divisor=None):
    import cupy
    g = _ready(g, "avgpool2d_bwd", 4)
    out_shape, args = _avgpool_args(x_shape, kernel, stride, pad, ceil_mode,
                                    count_include_pad, divisor)
    if g.shape != out_shape:
        raise ValueError(f"avgpool2d_bwd: gradient {g.shape} must be {out_shape} for input "
                         f"{tuple(x_shape)}")
    if g.size == 0:                 # no window: nothing to spread back
        return cupy.zeros(x_shape, dtype=g.dtype)
    dx = cupy.empty(x_shape, dtype=g.dtype)
    _launch("avgpool.cu", "avgpool2d_bwd", g, _grid(dx.size), (THREADS,), (g, dx) + args,
            [g.shape, tuple(x_shape)])
    return dx


# ---- dropout masks -------------------------------------------------------------------------
# The generator's state on the GPU: one int64 array (seed, offset) in device memory. The
# seed comes from minigrad's generator (the number given to manual_seed, or the entropy it
# drew without one); the offset counts the masks drawn since. The kernels read both from
# device memory and philox_advance adds 1 to the offset after each mask, so nothing on the
# host changes from one mask to the next: a captured CUDA graph replays with a fresh mask
# every time. A new minigrad generator (manual_seed) rewrites the same array in place.
_philox = {"generator": None, "state": None}


def philox_state():
    """The device array (seed, offset) that dropout masks are drawn from, set up for the
    current minigrad generator (so the same manual_seed gives the same masks)."""
    import cupy
    gen = random.generator()
    if _philox["generator"] is not gen:
        seed = int(gen.bit_generator.seed_seq.entropy) % 2**63
        values = np.array([seed, 0], dtype=np.int64)
        if _philox["state"] is None:
            _philox["state"] = cupy.asarray(values)
        else:                       # in place: a graph holding the array sees the new seed
            _philox["state"][...] = cupy.asarray(values)
        _philox["generator"] = gen
    return _philox["state"]


def dropout_mask(shape, p, dtype):
    """Like cpu.dropout_mask, from Philox4x32-10 (kernels/dropout.cu): keep / (1 − p) per
    element, P(keep) = 1 − p. Different bits from the CPU's mask and from PyTorch's."""
    import cupy
    mask = cupy.empty(shape, dtype=dtype)
    if mask.size == 0:
        return mask
    state = philox_state()
    f = mask.dtype.type
    threshold = np.int64(min(int(p * 2.0**32), 2**32))
    scale = f(0.0 if p == 1 else 1.0 / (1.0 - p))
    _launch("dropout.cu", "dropout_mask", mask, _grid(-(-mask.size // 4)), (THREADS,),
            (mask, np.int64(mask.size), state, threshold, scale), [mask.shape])
    _launch("dropout.cu", "philox_advance", mask, (1,), (1,), (state,), [mask.shape])
    return mask


# ---- negative log-likelihood -----------------------------------------------------------------
def _nll_operands(logp, target, weight, who):
    z = _ready(logp, who, 2)
    t = _ready(target, f"{who} target", 1, np.int64)
    b, k = z.shape
    if t.shape != (b,):
        raise ValueError(f"{who}: log-probabilities {z.shape} and target {t.shape} differ")
    if weight is not None:
        weight = _ready(weight, f"{who} weight", 1, z.dtype)
        if weight.shape != (k,):
            raise ValueError(f"{who}: weight has shape {weight.shape}, expected ({k},)")
    return z, t, weight


def nll_fwd(logp, target, weight, ignore_index):
    import cupy
    z, t, weight = _nll_operands(logp, target, weight, "nll_fwd")
    b, k = z.shape
    loss, w = cupy.empty((b,), z.dtype), cupy.empty((b,), z.dtype)
    if b == 0:
        return loss, w
    if k == 0:
        raise ValueError(f"nll_fwd: log-probabilities of shape {z.shape} have no class")
    _launch("nll.cu", "nll_fwd", z, _grid(b), (THREADS,),
            (z, t, weight if weight is not None else z, loss, w) + _i32(b, k)
            + (np.int64(ignore_index), np.int32(weight is not None)), [z.shape])
    return loss, w


def nll_bwd(g, target, weight, ignore_index, num_classes):
    import cupy
    g = _ready(g, "nll_bwd", 1)
    t = _ready(target, "nll_bwd target", 1, np.int64)
    if t.shape != g.shape:
        raise ValueError(f"nll_bwd: gradient {g.shape} and target {t.shape} differ")
    if weight is not None:
        weight = _ready(weight, "nll_bwd weight", 1, g.dtype)
        if weight.shape != (num_classes,):
            raise ValueError(f"nll_bwd: weight has shape {weight.shape}, expected "
                             f"({num_classes},)")
    d = cupy.empty((g.shape[0], num_classes), dtype=g.dtype)
    if d.size == 0:
        return d
    _launch("nll.cu", "nll_bwd", g, _grid(d.size), (THREADS,),
            (g, t, weight if weight is not None else g, d) + _i32(g.shape[0], num_classes)
            + (np.int64(ignore_index), np.int32(weight is not None)), [d.shape])
    return d


# ---- Adadelta and RMSprop ------------------------------------------------------------------
def _in_place_operands(who, param, grad, states):
    """The gradient made contiguous; the parameter and the state arrays, which are updated
    where they are, must already be (a copy would lose the update)."""
    for name, arr in (("param", param),) + tuple(states.items()):
        if not arr.flags.c_contiguous:
            raise ValueError(f"{who}: {name} must be contiguous to be updated in place")
        if arr.shape != param.shape or arr.dtype != param.dtype:
            raise ValueError(f"{who}: {name} is {arr.dtype} {arr.shape}, the parameter "
                             f"{param.dtype} {param.shape}")
    grad = _ready(grad, f"{who} grad", dtype=param.dtype)
    if grad.shape != param.shape:
        raise ValueError(f"{who}: grad {grad.shape} and param {param.shape} differ")
    return grad


def adadelta_step(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay):
    """In place, like cpu.adadelta_step (kernels/adadelta.cu)."""
    grad = _in_place_operands("adadelta_step", param, grad,
                              {"square_avg": square_avg, "acc_delta": acc_delta})
    if param.size == 0:
        return
    f = param.dtype.type
    _launch("adadelta.cu", "adadelta_step", param, _grid(param.size), (THREADS,),
            (param, grad, square_avg, acc_delta, np.int64(param.size), f(lr), f(rho),
             f(1 - rho), f(eps), f(weight_decay)), [param.shape])


def rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                 weight_decay, momentum, centered):
    """In place, like cpu.rmsprop_step (kernels/rmsprop.cu). ``grad_avg`` may be None unless
    centered, ``momentum_buffer`` None unless momentum > 0: an empty array (a null pointer)
    goes in their place, which the kernel never reads."""
    states = {"square_avg": square_avg}
    if centered:
        states["grad_avg"] = grad_avg
    if momentum > 0:
        states["momentum_buffer"] = momentum_buffer
    import cupy
    grad = _in_place_operands("rmsprop_step", param, grad, states)
    if param.size == 0:
        return
    f = param.dtype.type
    unused = cupy.empty(0, dtype=param.dtype)     # a null pointer the kernel never reads
    _launch("rmsprop.cu", "rmsprop_step", param, _grid(param.size), (THREADS,),
            (param, grad, square_avg, grad_avg if centered else unused,
             momentum_buffer if momentum > 0 else unused, np.int64(param.size), f(lr),
             f(alpha), f(1 - alpha), f(eps), f(weight_decay), f(momentum),
             np.int32(bool(centered))),
            [param.shape])
