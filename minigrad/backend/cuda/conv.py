"""conv2d, linear and the products behind them on the GPU: im2col / col2im, the tiled GEMM
(``kernels/gemm.cu``: tiles picked per product, register-blocked where the output is big
enough, split-K where K is huge and the output tiny), the conv's own fused products and the
bias gradient. The twins of ``textbook.conv2d_fwd`` and its neighbours.
"""
import functools

import numpy as np

from ...arguments import out_size
from .runtime import (
    GEMM_TILES,
    GEMM_TK,
    MAX_GRID_YZ,
    REDUCE_LANES,
    THREADS,
    cache,
    fits_int32,
    get_cupy,
    grid_1d,
    i32,
    launch,
    max_blocks,
    ready,
)

SPLIT_CHUNK = 4    # batch items per split-K partial sum: fixed, so the bits are too
# conv's weight gradient sums over K = N·OH·OW (batch × pixels): split into pieces of
# WGRAD_SPLIT_TILES K-tiles (512 products), at most WGRAD_MAX_SPLITS pieces (then longer ones,
# so the partials stay small). From the shape alone, so the bits are the same on every GPU.
WGRAD_SPLIT_TILES = 32
WGRAD_MAX_SPLITS = 4096
# A register-blocked tile (several outputs a thread) is taken only when the product still
# fills this many blocks: two per multiprocessor of an H200. A constant, so the choice depends
# on the shape only (and the tile never changes an output's sum, only who computes it).
REGBLOCK_MIN_BLOCKS = 264


# ---- im2col / col2im -----------------------------------------------------------------
def im2col(x, kh, kw, stride, pad):
    cupy = get_cupy()
    x = ready(x, "im2col", 4)
    n, c, h, w = x.shape
    oh, ow = out_size(h, kh, stride, pad), out_size(w, kw, stride, pad)
    cols = cupy.empty((n, c * kh * kw, oh * ow), dtype=x.dtype)
    if cols.size == 0:
        return cols
    launch("im2col.cu", "im2col", x, grid_1d(cols.size), (THREADS,),
            (x, cols) + i32(n, c, h, w, kh, kw, stride, pad, oh, ow), [x.shape])
    return cols


def col2im(cols, x_shape, kh, kw, stride, pad):
    cupy = get_cupy()
    n, c, h, w = x_shape
    oh, ow = out_size(h, kh, stride, pad), out_size(w, kw, stride, pad)
    cols = ready(cols, "col2im", 3)
    if cols.shape != (n, c * kh * kw, oh * ow):
        raise ValueError(f"col2im: cols has shape {cols.shape}, expected "
                         f"{(n, c * kh * kw, oh * ow)} for images {tuple(x_shape)}")
    if cols.size == 0:              # nothing to add up: no pixel, or no window covers one
        return cupy.zeros(x_shape, dtype=cols.dtype)
    dx = cupy.empty(x_shape, dtype=cols.dtype)
    launch("im2col.cu", "col2im", cols, grid_1d(dx.size), (THREADS,),
            (cols, dx) + i32(n, c, h, w, kh, kw, stride, pad, oh, ow), [cols.shape, x_shape])
    return dx


# ---- GEMM ------------------------------------------------------------------------------
def _gemm_operands(a, b, trans_a, trans_b, who):
    a, b = ready(a, who), ready(b, who, dtype=a.dtype)
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


@functools.lru_cache(maxsize=None)
def gemm_tile(m, n, blocked_ok=True):
    """The (TM, TN, RM, RN) tile of GEMM_TILES for an M x N product. Among the one-output tiles,
    the one that pads it least (a 6-row conv output gets 8 x 32 tiles, not 16 x 16 ones with 10
    idle rows; 16 x 16 on a tie); a register-blocked tile instead (unless not ``blocked_ok``)
    where it pads no more and still gives REGBLOCK_MIN_BLOCKS tiles (conv1's forward: 8 x 128,
    four columns a thread)."""
    def padded(tile):
        tm, tn = tile[:2]
        return -(-m // tm) * tm * (-(-n // tn) * tn)

    def tiles(tile):
        return -(-m // tile[0]) * -(-n // tile[1])
    plain = min((t for t in GEMM_TILES if t[2] * t[3] == 1), key=padded)
    blocked = [t for t in GEMM_TILES if t[2] * t[3] > 1 and padded(t) <= padded(plain)
               and tiles(t) >= REGBLOCK_MIN_BLOCKS] if blocked_ok else []
    return min(blocked, key=padded) if blocked else plain


def gemm_grid(m, n, chunks, tile=None):
    """(column tiles, row tiles, batch chunks), each capped by max_blocks() and the y and z
    limits of 65,535; the kernel loops over the rest, so any size launches."""
    tm, tn = (gemm_tile(m, n) if tile is None else tile)[:2]
    cap = max_blocks()
    return (min(-(-n // tn), cap), min(-(-m // tm), cap, MAX_GRID_YZ),
            min(chunks, cap, MAX_GRID_YZ))


def _tiled(name, m, n, chunks=1, blocked_ok=True):
    """(kernel, grid, block, tile index) of a tiled product of M x N outputs in ``chunks``
    chunks: ``name``, or ``name``_blocked for a register-blocked tile (the kernels come in
    both kinds); a block of (TN/RN, TM/RM) threads; the index the kernel takes as ``tile``.
    Kept per arguments and block cap (a step asks for the same few products every time)."""
    key = (name, m, n, chunks, blocked_ok, max_blocks())
    plan = _plans.get(key)
    if plan is None:
        if len(_plans) > 4096:                    # sizes that never repeat: do not pile up
            _plans.clear()
        tile = gemm_tile(m, n, blocked_ok)
        tm, tn, rm, rn = tile
        kernel = name + ("_blocked" if rm * rn > 1 else "")
        plan = _plans[key] = (kernel, gemm_grid(m, n, chunks, tile), (tn // rn, tm // rm),
                              np.int32(GEMM_TILES.index(tile)))
    return plan


_plans = cache("gemm_plans")


def _gemm_launch(a, b, c, bias, m, n, k, trans_a, trans_b, stride_a, stride_b, batch,
                 per_block, bias_mode, ones=False):
    """C (chunks, M, N) from ``batch`` items, ``per_block`` of them summed per chunk; M, N and
    batch are > 0 (K may be 0: then only the bias is written). ``ones``: one more column of
    op(B), all ones, whose results (the sums of op(A)'s rows) follow each chunk's M x N."""
    key = (m, n, k, trans_a, trans_b, stride_a, stride_b, batch, per_block, bias_mode, ones,
           max_blocks())
    plan = _plans.get(key)              # (kernel, grid, block, the launch's scalars)
    if plan is None:
        fits_int32("gemm", M=m, N=n + 1, K=k, batch=batch)
        kernel, grid, block, tile = _tiled("gemm", m, n + ones, -(-batch // per_block))
        plan = _plans[key] = (kernel, grid, block, i32(m, n, k, trans_a, trans_b)
                              + (np.int64(stride_a), np.int64(stride_b))
                              + i32(batch, per_block, bias_mode, ones) + (tile,))
    kernel, grid, block, scalars = plan
    launch("gemm.cu", kernel, a, grid, block, (a, b, c, bias) + scalars, [a.shape, b.shape])


def gemm(a, b, trans_a=False, trans_b=False, bias=None, bias_axis=1):
    cupy = get_cupy()
    a, b, m, n, k, batch, sa, sb = _gemm_operands(a, b, trans_a, trans_b, "gemm")
    mode = 0
    if bias is not None:
        bias = ready(bias, "gemm bias", 1, a.dtype)
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
    cupy = get_cupy()
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
    """out = Σ_s partial[s] (sum_partials: REDUCE_LANES threads an element, each adding a
    strided share of the partials in order, then a tree of the lanes: the order of the sum
    depends on the number of partials only)."""
    cupy = get_cupy()
    out = cupy.empty(shape, dtype=partial.dtype)
    splits, size = partial.shape[0], out.size
    grid = (max(1, min(-(-size // 32), max_blocks())),)
    launch("gemm.cu", "sum_partials", partial, grid, (32, REDUCE_LANES),
            (partial, out, np.int32(splits), np.int64(size)), shapes)
    return out


def wgrad_split(k):
    """(splits, kSplit): conv's weight gradient sums over K = N·OH·OW products, cut into
    ``splits`` pieces of kSplit (a multiple of GEMM_TK; the last may be shorter): pieces of
    WGRAD_SPLIT_TILES K-tiles, or longer ones where that would make more than
    WGRAD_MAX_SPLITS. A function of K alone."""
    tiles = -(-k // GEMM_TK)
    per = max(WGRAD_SPLIT_TILES, -(-tiles // WGRAD_MAX_SPLITS))
    k_split = per * GEMM_TK
    return -(-k // k_split), k_split


def bias_grad(g):
    cupy = get_cupy()
    g = ready(g, "bias_grad", 3)
    outer, c, inner = g.shape
    if g.size == 0:                 # no channel, or an empty sum for each one
        return cupy.zeros((c,), dtype=g.dtype)
    db = cupy.empty((c,), dtype=g.dtype)
    launch("gemm.cu", "bias_grad", g, (c,), (THREADS,), (g, db) + i32(outer, c, inner),
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
    fits_int32(who, columns=n * oh * ow, rows=c * kh * kw, input=n * c * h * w)
    return n, c, h, w, oc, kh, kw, oh, ow


def conv2d_fwd(x, weight, bias, stride, pad):
    """(y, saved): y = W @ im2col(x) + b for the whole batch in ONE product (conv_fwd), the
    columns read straight from x, never written; saved = (x, weight) for the backward."""
    cupy = get_cupy()
    x = ready(x, "conv2d", 4)
    w = ready(weight, "conv2d weight", 4, x.dtype)
    if bias is not None:
        bias = ready(bias, "conv2d bias", 1, x.dtype)
    n, c, h, wd, oc, kh, kw, oh, ow = _conv_shape(x.shape, w.shape, stride, pad, "conv2d")
    y = cupy.empty((n, oc, oh, ow), dtype=x.dtype)
    if y.size:
        kernel, grid, block, tile = _tiled("conv_fwd", oc, n * oh * ow)
        launch("gemm.cu", kernel, x, grid, block,
                (x, w, bias, y) + i32(n, c, h, wd, oc, kh, kw, stride, pad, oh, ow) + (tile,),
                [x.shape, w.shape])
    return y, (x, w)


def conv2d_bwd(g, saved, x_shape, w_shape, stride, pad, needs):
    """(dx, dw, db), each None unless asked for in ``needs``:
    dx = col2im(Wᵀ @ g) (conv_dcols: one product over the whole batch, then col2im);
    dw and db together by split-K over the batch's pixels (conv_wgrad): K = N·OH·OW cut by
    wgrad_split (from the shape alone), each piece summing g[n][:, p] ⊗ cols[n][:, p] over its
    (n, p) and, through a column of ones, g's entries; the partials added in a fixed order
    (sum_partials). Two launches for both gradients."""
    cupy = get_cupy()
    x, w = saved
    g = ready(g, "conv2d gradient", 4, x.dtype)
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
            kernel, grid, block, tile = _tiled("conv_dcols", k, n * p)
            launch("gemm.cu", kernel, g, grid, block,
                    (w, g, dcols) + i32(n, oc, k, oh, ow) + (tile,), [g.shape, w.shape])
        elif dcols.size:
            dcols.fill(0)                       # no output channel: nothing flows back
        dx = col2im(dcols, x_shape, kh, kw, stride, pad)
    if need_w or need_b:
        width = oc * k + (oc if need_b else 0)
        if n == 0 or p == 0 or oc == 0:
            out = cupy.zeros((width,), dtype=g.dtype)
        else:
            splits, k_split = wgrad_split(n * p)
            partial = cupy.empty((splits, width), dtype=g.dtype)
            kernel, grid, block, tile = _tiled("conv_wgrad", oc, k + need_b, splits,
                                               blocked_ok=False)
            launch("gemm.cu", kernel, g, grid, block,
                    (g, x, partial) + i32(n, c, h, wd, oc, kh, kw, stride, pad, oh, ow,
                                           k_split, need_b) + (tile,), [g.shape, x.shape])
            out = _sum_partials(partial, (width,), [g.shape, x.shape])
        dw = out[:oc * k].reshape(w_shape) if need_w else None
        db = out[oc * k:] if need_b else None
    return dx, dw, db


def linear_bwd(g, x, weight, needs):
    """(dx, dw, db) of y = x @ Wᵀ + b, each None unless asked for: dx = g @ W; dW = gᵀ @ x
    and db = Σ_B g in ONE product, db through a column of ones appended to x."""
    cupy = get_cupy()
    g = ready(g, "linear gradient", 2)
    x, w = ready(x, "linear", 2, g.dtype), ready(weight, "linear weight", 2, g.dtype)
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
