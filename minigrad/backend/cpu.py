"""The CPU backend: each CNN building block in NumPy, written to read like its math.

Each layer function here — conv2d_fwd/bwd (and the textbook im2col, col2im, gemm,
gemm_batch_sum, bias_grad), maxpool2d_fwd/bwd, avgpool2d_fwd/bwd, sigmoid_fwd/bwd,
softmax_xent_fwd/bwd, cross_entropy_fwd/bwd, nll_fwd/bwd, linear_bwd, dropout_mask, and the
optimizer steps adam_step, adam_multi, adadelta_step, rmsprop_step — has a twin of the same
name and signature in ``cuda.py`` that launches hand-written kernels (``kernels/*.cu``);
read this one first.
The process helpers (``tune_malloc``, ``set_num_threads``) and the batch-last layout helpers
have no twin. ReLU and the element-wise, reduction and shape ops are not here at all: they
are generic array code in ``ops/``, which on the GPU runs CuPy's own kernels, not ours.
Shapes use N (batch), C (channels), H, W (image), KH, KW (kernel), OH, OW (output),
P = OH·OW (output pixels).

No Python loop runs over the batch, the channels or the pixels. The only loops are over
the KH·KW offsets inside a window: each iteration moves a whole strided slab of the batch.

Two choices make it fast without changing the math:

- **Batch-last memory** inside the convolutional layers (``to_batch_last`` says why).
- **Threads** (``set_num_threads``): a layer's work is cut into parts that write disjoint
  pieces of the result, run at once on the caller's thread and helper threads. NumPy lets
  go of Python's lock inside its loops, copies and BLAS calls, so the parts really run in
  parallel. The results are the same bits on any number of threads.
"""
import ctypes
import math
import os
import queue
import sys
import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..arguments import out_size


# ---- the process: malloc and threads (entry scripts opt in; importing changes nothing) ----
def tune_malloc():
    """Keep NumPy's big temporaries in the heap between training steps (glibc only).

    NumPy allocates large temporaries every step (the column matrix of LeNet's first layer is
    15 MB). glibc can hand blocks that large back to the OS when they are freed, and the next
    step then faults them in again page by page. Raising malloc's mmap and trim thresholds
    keeps them for reuse. It changes the whole process (every library's allocations), so
    minigrad never does it on import: entry scripts that want it call this (the LeNet example
    and the benchmarks do). Returns True when it was applied."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3          # from glibc's <malloc.h>
    return bool(libc.mallopt(m_mmap_threshold, 64 << 20)) and \
        bool(libc.mallopt(m_trim_threshold, 256 << 20))


_threads = 1            # threads a layer's work is spread over: the caller and _threads − 1 helpers
_helpers = []
_pool_lock = threading.Lock()
_pinned = {}            # "cpus": the cores the threads are pinned to; "caller": its old affinity


def set_num_threads(n=None, pin=True):
    """Spread each CPU layer over ``n`` threads: the calling thread and n − 1 helper threads
    (started on first use). ``None``: one per core this process may run on. The default,
    until this is called, is 1: importing minigrad starts no thread.

    With n > 1 it also
    - holds OpenBLAS to one thread of its own: each of our threads makes its own BLAS calls,
      and OpenBLAS's workers would compete with them for the cores (they keep spinning for
      a while after every call);
    - unless ``pin`` is False, pins the calling thread to the first core it may run on and
      helper k to the k-th (Linux), as OMP_PROC_BIND does: the helpers sleep between layers,
      and the scheduler, seeing threads that sleep so much, tends to wake one on the other's
      core, where the two take turns (measured: the first ~5 steps after any pause ran at
      1.5× the time). Threads the caller starts afterwards inherit its core. On a machine
      busy with other work, unpinned threads can dodge it better.
    ``set_num_threads(1)`` gives OpenBLAS back its thread count and the caller its cores. Like
    ``tune_malloc`` this changes the process, so only entry scripts call it (the LeNet
    example and the benchmarks do, with every usable core). The results are the same bits
    whatever ``n`` is."""
    global _threads
    cores = _pinned.get("caller") or (sorted(os.sched_getaffinity(0))
                                      if hasattr(os, "sched_getaffinity") else None)
    if n is None:
        n = len(cores) if cores else os.cpu_count()
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads: need at least 1 thread, got {n}")
    blas = _openblas()
    if blas is not None:
        if n > 1:
            blas.setdefault("restore", blas["get"]())
            blas["set"](1)
        elif "restore" in blas:
            blas["set"](blas.pop("restore"))
    if n > 1 and pin and cores and len(cores) > 1:
        _pinned.setdefault("caller", cores)
        _pinned["cpus"] = cores
        os.sched_setaffinity(0, {cores[0]})
        for h in _helpers:                         # (new helpers pin themselves)
            os.sched_setaffinity(h.native_id, {cores[h.k % len(cores)]})
    elif (n == 1 or not pin) and "caller" in _pinned:
        for thread in (0, *(h.native_id for h in _helpers)):
            os.sched_setaffinity(thread, cores)
        _pinned.clear()
    _threads = n


def get_num_threads():
    return _threads


def blas_num_threads():
    """The thread count of the OpenBLAS that NumPy uses, or None when it cannot be asked."""
    blas = _openblas()
    return blas["get"]() if blas is not None else None


_blas = []


def _openblas():
    """OpenBLAS's set/get_num_threads, found among the libraries loaded into this process
    (NumPy's wheels carry their own copy under a private name: NumPy's first), or None
    (another BLAS, or not Linux). Asked once."""
    if not _blas:
        _blas.append(_find_openblas())
    return _blas[0]


def _find_openblas():
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted((p for p in paths if p.startswith("/")), key=lambda p: "numpy" not in p):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""),
                               ("openblas", "64_"), ("openblas", "")):
            try:
                set_, get = (getattr(lib, f"{prefix}_{verb}_num_threads{suffix}")
                             for verb in ("set", "get"))
            except AttributeError:
                continue
            set_.argtypes, set_.restype, get.restype = [ctypes.c_int], None, ctypes.c_int
            return {"set": set_, "get": get, "path": path}
    return None


class _Helper(threading.Thread):
    """Helper k: runs work(start, stop) for each span it is sent, says when done; pinned to
    the k-th core when set_num_threads pinned the threads."""

    def __init__(self, k):
        super().__init__(name=f"minigrad-cpu-{k}", daemon=True)
        self.k = k
        self.inbox, self.done = queue.SimpleQueue(), queue.SimpleQueue()
        self.start()

    def run(self):
        cpus = _pinned.get("cpus")
        if cpus:
            os.sched_setaffinity(0, {cpus[self.k % len(cpus)]})
        while True:
            work, span = self.inbox.get()
            try:
                work(*span)
                self.done.put(None)
            except BaseException as e:           # handed to the caller, raised there
                self.done.put(e)


def _forget_helpers():           # in a forked child the helper threads do not exist
    global _pool_lock
    _helpers.clear()
    _pinned.clear()
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helpers)


MIN_PART = 1 << 16      # elements below which a part is not worth a thread (~20 µs of work)


def _grain(unit, passes=1):
    """How many units of ``unit`` elements (each gone over ``passes`` times) make a part
    worth a thread."""
    return -(-MIN_PART // max(unit * passes, 1))


def _split(n, work, align=1, grain=1):
    """Call ``work(start, stop)`` on contiguous spans that together cover range(n), one span
    per thread, all at once; span boundaries are multiples of ``align``, and no span is
    shorter than ``grain`` (handing work to a thread costs about 10–20 µs).

    Each span must write its own part of the result and combine nothing across spans, so
    which thread ran it, and how many there were, never changes a bit of the result. A second
    caller arriving while the helpers are busy (another user thread) runs its spans itself."""
    t = min(_threads, n // max(grain, align, 1)) if n else 1
    if t <= 1 or not _pool_lock.acquire(blocking=False):
        work(0, n)
        return
    try:
        while len(_helpers) < t - 1:
            _helpers.append(_Helper(len(_helpers) + 1))
        cuts = [min(n, -(-n * k // t // align) * align) for k in range(t)] + [n]
        spans = [(lo, hi) for lo, hi in zip(cuts, cuts[1:]) if hi > lo]
        busy = _helpers[:len(spans) - 1]
        for helper, span in zip(busy, spans[1:]):
            helper.inbox.put((work, span))
        errors = []
        try:
            work(*spans[0])
        except BaseException as e:
            errors.append(e)
        errors += [e for e in (helper.done.get() for helper in busy) if e is not None]
        if errors:
            raise errors[0]
    finally:
        _pool_lock.release()


def _flat(a):
    """A 1-D view of the memory of ``a`` when it is one dense block (contiguous in some axis
    order, as every array here is), else None."""
    if a.flags.c_contiguous:
        return a.reshape(-1)
    if a.ndim == 4 and a.transpose(1, 2, 3, 0).flags.c_contiguous:        # batch-last
        return a.transpose(1, 2, 3, 0).reshape(-1)
    order = np.argsort(a.strides)[::-1]
    dense = a.transpose(order)
    return dense.reshape(-1) if dense.flags.c_contiguous else None


def _elementwise(fn, out, *inputs):
    """fn(out_part, *input_parts) over the threads, on flat views of arrays that share one
    memory layout (else in one call). Parts are cut at multiples of 64 elements, so NumPy's
    vector loops see the same element groups as in one call: the same bits."""
    flats = [_flat(a) for a in (out,) + inputs]
    if any(f is None for f in flats) or any(a.strides != out.strides for a in inputs):
        fn(out, *inputs)
        return
    _split(out.size, lambda lo, hi: fn(*(f[lo:hi] for f in flats)), align=64, grain=MIN_PART)


# ---- the convolution's memory layout ----------------------------------------------------------
# Inside conv and pool the CPU keeps images *batch-last*: an (N, C, H, W) array whose memory
# is ordered (C, H, W, N), i.e. the NCHW view ``mem.transpose(3, 0, 1, 2)`` of a contiguous
# (C, H, W, N) block. Every other function sees an ordinary NCHW array (NumPy's ufuncs keep
# the layout they are given), so nothing outside this file knows. It pays because a window
# offset (i, j) then reads, for each channel and output row, one contiguous run of OW·N
# numbers: im2col is one copy with long runs, col2im is KH·KW additions of long runs, and the
# columns of the product W_mat @ cols, ordered (oh, ow, n), are already the output's memory.
def to_batch_last(x):
    """The (C, H, W, N) memory of the NCHW array ``x``: free when x already lives batch-last
    (as everything conv and pool return does), else one transposing copy, row by row over
    the threads."""
    xt = x.transpose(1, 2, 3, 0)
    if xt.flags.c_contiguous:
        return xt
    out = np.empty(xt.shape, dtype=x.dtype)
    _split(xt.shape[1], lambda lo, hi: np.copyto(out[:, lo:hi], xt[:, lo:hi]),
           grain=_grain(x.size // max(xt.shape[1], 1)))
    return out


def from_batch_last(mem):
    """The NCHW view of (C, H, W, N) memory."""
    return mem.transpose(3, 0, 1, 2)


def _windows(xb, kh, kw, stride, oh, ow):
    """The view win[c, i, j, oh, ow, n] = xb[c, oh·stride + i, ow·stride + j, n] of batch-last
    xb (C, H, W, N): for every kernel offset (i, j), the slab of pixels it sees. No copy."""
    c, _, _, n = xb.shape
    sc, sh, sw, sn = xb.strides
    return as_strided(xb, (c, kh, kw, oh, ow, n), (sc, sh, sw, sh * stride, sw * stride, sn),
                      writeable=xb.flags.writeable)


def _pad_hw(xb, pad, value=0):
    if not pad:
        return xb
    return np.pad(xb, ((0, 0), (pad, pad), (pad, pad), (0, 0)), constant_values=value)


# ---- conv2d: the column matrix, one block of output rows at a time ----------------------
COLUMN_BYTES = 3 << 18   # a block's column matrix: 3/4 of a core's L2 cache here (1 MiB)
BLOCK = 2048             # columns per BLAS call when a product's columns run long
ROW_PAD = 16             # spare elements at the end of each row of a column matrix


def _matrix(rows, cols, dtype):
    """An uninitialised (rows, cols) matrix whose rows lie ROW_PAD elements further apart than
    they must: rows exactly a multiple of 4 KiB apart (2048 floats, LeNet's row of OW·N)
    map to the same cache sets, and a product that streams them all at once slows down."""
    return np.empty((rows, cols + ROW_PAD), dtype)[:, :cols]


def _as_shape(a, shape):
    """``a`` reshaped as a view, or an error (a reshape that silently copied would make
    writes into it vanish)."""
    v = a.view()
    v.shape = shape
    return v


class _Columns:
    """The column matrix of a convolution over batch-last memory,

        cols[(c, i, j), (oh, ow, n)] = xpad[c, oh·stride + i, ow·stride + j, n],

    made one block of output rows at a time. The whole matrix would be large (15 MB at
    LeNet's first layer: writing it out and reading it back twice costs more than the
    products), so it never exists: each block gets its (C·KH·KW [+1], rows·OW·N) columns in
    a scratch matrix that stays in cache, for the forward's product, and again for the weight
    gradient's. The blocks depend only on the shapes, never on the threads.
    """

    def __init__(self, x, kh, kw, stride, pad, bias):
        self.xpad = _pad_hw(to_batch_last(x), pad)
        c, hp, wp, self.n = self.xpad.shape
        self.oh, self.ow = (hp - kh) // stride + 1, (wp - kw) // stride + 1
        self.k, self.bias = c * kh * kw, bias
        self.win = _windows(self.xpad, kh, kw, stride, self.oh, self.ow)
        # A block is `rows` whole output rows, or `width` output columns of one row when a
        # whole row's columns would not fit in COLUMN_BYTES.
        pixel_bytes = (self.k + 1) * self.n * x.dtype.itemsize
        fit = max(1, COLUMN_BYTES // max(pixel_bytes, 1))               # output pixels
        per_row = -(-self.ow // fit)                                     # blocks in a row
        self.rows, self.width = max(1, fit // self.ow), -(-self.ow // per_row)
        self.blocks = self.oh * per_row if per_row > 1 else -(-self.oh // self.rows)

    def span(self, b):
        """Block b's output rows [r0, r1) and columns [o0, o1), and its columns in the
        (OH·OW·N) order of the product."""
        if self.width == self.ow:
            r0, r1, o0, o1 = b * self.rows, min(self.oh, (b + 1) * self.rows), 0, self.ow
        else:
            r0, o0 = divmod(b, -(-self.ow // self.width))
            r1, o0 = r0 + 1, o0 * self.width
            o1 = min(self.ow, o0 + self.width)
        start = (r0 * self.ow + o0) * self.n
        return r0, r1, o0, o1, slice(start, start + (r1 - r0) * (o1 - o0) * self.n)

    def scratch(self):
        """Room for one block's columns (each thread has its own)."""
        return np.empty((self.k + self.bias) * self.rows * self.width * self.n, self.xpad.dtype)

    def fill(self, room, b):
        """Block b's columns as a contiguous (C·KH·KW [+1], pixels·N) matrix in ``room``: one
        copy of the window view, then the row of ones that multiplies the bias."""
        r0, r1, o0, o1, cols = self.span(b)
        width = cols.stop - cols.start
        m = room[:(self.k + self.bias) * width].reshape(self.k + self.bias, width)
        c, kh, kw = self.win.shape[:3]
        _as_shape(m[:self.k], (c, kh, kw, r1 - r0, o1 - o0, self.n))[...] = \
            self.win[:, :, :, r0:r1, o0:o1]
        if self.bias:
            m[self.k] = 1
        return m


def _product(a, b, out):
    """out = a @ b for a b with many columns, one BLAS call per BLOCK of them (a single
    product tens of thousands of columns wide runs slower in OpenBLAS), issued as one stacked
    matmul over a blocked view, then the rest."""
    full = b.shape[1] // BLOCK

    def blocks(m):                                  # (full, rows, BLOCK) view of m's columns
        return as_strided(m, (full, m.shape[0], BLOCK), (BLOCK * m.strides[1],) + m.strides,
                          writeable=m.flags.writeable)
    if full:
        np.matmul(a, blocks(b), out=blocks(out))
    np.matmul(a, b[:, full * BLOCK:], out=out[:, full * BLOCK:])
    return out


def _fold(dcols_of, x_shape_bl, dtype, kh, kw, stride, pad):
    """The adjoint of the column matrix, channels spread over the threads:

        dxpad[c, oh·stride + i, ow·stride + j, n] += dcols[(c, i, j), (oh, ow, n)]

    one slab addition per kernel offset (i, j), each a run of OW·N numbers per row.
    ``dcols_of(lo, hi)`` gives the (hi − lo, KH·KW, OH·OW·N) rows of dcols of channels
    lo..hi−1."""
    c, h, w, n = x_shape_bl
    oh, ow = out_size(h, kh, stride, pad), out_size(w, kw, stride, pad)
    dxpad = np.empty((c, h + 2 * pad, w + 2 * pad, n), dtype=dtype)

    def work(lo, hi):
        dxpad[lo:hi] = 0
        rows = dcols_of(lo, hi).reshape(hi - lo, kh, kw, oh, ow, n)
        win = _windows(dxpad[lo:hi], kh, kw, stride, oh, ow)
        for i in range(kh):
            for j in range(kw):
                win[:, i, j] += rows[:, i, j]
    _split(c, work, grain=_grain(dxpad[0].size, passes=kh * kw))
    return dxpad[:, pad:pad + h, pad:pad + w] if pad else dxpad


def im2col(x, kh, kw, stride, pad):
    """Unfold image patches into columns, so that a convolution becomes a matrix product.

    x: (N, C, H, W)  ->  cols: (N, C·KH·KW, OH·OW), where

        cols[n, (c, i, j), (oh, ow)] = xpad[n, c, oh·stride + i, ow·stride + j]

    and xpad is x with ``pad`` zeros on each side of H and W. Then for each image n,
    conv(x)[n] = W_mat @ cols[n] with W_mat the (OC, C·KH·KW) weight. This is the textbook
    layout (the CUDA kernel's): ``conv2d_fwd`` keeps the columns batch-last, in blocks.
    """
    cols = _Columns(x, kh, kw, stride, pad, bias=False)
    full = np.empty((cols.k, cols.oh * cols.ow * cols.n), dtype=x.dtype)
    room = cols.scratch()
    for b in range(cols.blocks):
        full[:, cols.span(b)[-1]] = cols.fill(room, b)
    full = full.reshape(cols.k, cols.oh * cols.ow, cols.n)
    return np.ascontiguousarray(full.transpose(2, 0, 1))


def col2im(cols, x_shape, kh, kw, stride, pad):
    """The adjoint of im2col: add every column entry back onto the pixel it came from.

    cols: (N, C·KH·KW, OH·OW)  ->  dx: (N, C, H, W), where

        dx[n, c, y, x] = Σ over (i, j, oh, ow) with oh·stride + i − pad = y and
                           ow·stride + j − pad = x  of  cols[n, (c, i, j), (oh, ow)]

    A pixel covered by several windows receives the sum of all of them.
    """
    n, c, h, w = x_shape
    rows = np.ascontiguousarray(cols.transpose(1, 2, 0)).reshape(c, kh * kw, -1)
    dxb = _fold(lambda lo, hi: rows[lo:hi], (c, h, w, n), cols.dtype, kh, kw, stride, pad)
    return np.ascontiguousarray(from_batch_last(dxb))


def conv2d_fwd(x, weight, bias, stride, pad):
    """y = conv(x, W) + b as a matrix product over batch-last columns (see _Columns):

        y[oc, (oh, ow, n)] = Σ_(c,i,j) W[oc, c, i, j] · cols[(c, i, j), (oh, ow, n)] + b[oc]

    The bias rides along as a last row of ones in cols and a last column b of W_mat, so the
    product adds it (and the weight gradient's last column is then db). One product per
    block of output rows, the blocks spread over the threads. Returns y, an NCHW view of
    (OC, OH, OW, N) memory, and what the backward needs.
    """
    oc = weight.shape[0]
    cols = _Columns(x, weight.shape[2], weight.shape[3], stride, pad, bias is not None)
    w_mat = weight.reshape(oc, cols.k)
    if bias is not None:
        w_mat = np.concatenate([w_mat, bias[:, None]], axis=1)
    y = np.empty((oc, cols.oh, cols.ow, cols.n), dtype=x.dtype)
    y_mat = y.reshape(oc, -1)

    def work(lo, hi):
        room = cols.scratch()
        for b in range(lo, hi):
            np.matmul(w_mat, cols.fill(room, b), out=y_mat[:, cols.span(b)[-1]])
    _split(cols.blocks, work)
    return from_batch_last(y), (cols, w_mat)


def conv2d_bwd(g, saved, x_shape, w_shape, stride, pad, needs):
    """The three gradients of conv2d_fwd, with g = dL/dy as (OC, OH·OW·N) batch-last rows:

        dW_mat = g @ colsᵀ             (a sum over every image and pixel; its last column is
                                        db when the forward had a bias)
        dx     = fold(W_matᵀ @ g)      (each column entry added back onto its pixel)

    ``needs``: which of dx, dW, db to compute. dW_mat is summed block by block of output
    rows, each block's product kept apart and the blocks added in order (the same bits on
    any number of threads). dx goes channel by channel: channel c's KH·KW rows of
    W_matᵀ @ g, then their slab additions, while they are still in cache.
    """
    cols, w_mat = saved
    need_x, need_w, need_b = needs
    n, c, h, w = x_shape
    oc, _, kh, kw = w_shape
    k = cols.k
    gm = to_batch_last(g).reshape(oc, -1)
    dx = dw = db = None
    if need_w or need_b:
        parts = np.empty((cols.blocks, w_mat.shape[1], oc), dtype=g.dtype)

        def work(lo, hi):           # (dW_mat)ᵀ = cols @ gᵀ: OpenBLAS runs this shape faster
            room = cols.scratch()
            for b in range(lo, hi):
                g_b = np.ascontiguousarray(gm[:, cols.span(b)[-1]])
                # np.dot, not matmul: NumPy's matmul keeps Python's lock while it computes a
                # product with as few elements as this one, and the threads would take turns.
                np.dot(cols.fill(room, b), g_b.T, out=parts[b])
        _split(cols.blocks, work)
        d_wmat_t = parts.sum(axis=0)
        dw = np.ascontiguousarray(d_wmat_t[:k].T).reshape(w_shape) if need_w else None
        db = d_wmat_t[k].copy() if need_b else None
    if need_x:
        w_t = np.ascontiguousarray(w_mat[:, :k].T)              # rows (c, i, j)
        kk = kh * kw

        def rows(lo, hi):                                        # channels lo..hi−1 of W_matᵀ @ g
            out = _matrix((hi - lo) * kk, gm.shape[1], g.dtype)
            return _product(w_t[lo * kk:hi * kk], gm, out)
        dx = from_batch_last(_fold(rows, (c, h, w, n), g.dtype, kh, kw, stride, pad))
    return dx, dw, db


def gemm(a, b, trans_a=False, trans_b=False, bias=None, bias_axis=1):
    """C = op(A) @ op(B) (+ bias), op being a transpose of the last two dims when asked.

    A, B: 2-D, or 3-D batches (a 2-D operand is shared by every batch item).
    bias: (M,) added to each row when ``bias_axis`` is 0 (a conv's per-channel bias on
    W @ cols), or (N,) added to each column when it is 1 (a linear layer's x @ Wᵀ + b).
    One BLAS call on the caller's thread: at LeNet's sizes (tens of µs) handing half of it
    to a helper costs as much as it saves.
    """
    if trans_a:
        a = a.swapaxes(-1, -2)
    if trans_b:
        b = b.swapaxes(-1, -2)
    c = np.matmul(a, b)
    if bias is not None:
        c += bias[:, None] if bias_axis == 0 else bias
    return c


def gemm_batch_sum(a, b, trans_a=False, trans_b=False):
    """C = Σ_n op(A[n]) @ op(B[n]) for batches A, B: a product whose inner dimension runs
    over the batch too (a conv's weight gradient in the textbook layout: Σ_n g[n] @ cols[n]ᵀ)."""
    if trans_a:
        a = a.swapaxes(-1, -2)
    if trans_b:
        b = b.swapaxes(-1, -2)
    return np.matmul(a, b).sum(axis=0)


def bias_grad(g):
    """db[c] = Σ over batch and space of g: g is (outer, C, inner) -> (C,)."""
    return g.sum(axis=(0, 2))


# ---- max-pool ----------------------------------------------------------------------------------
def maxpool2d_fwd(x, kh, kw, stride, pad):
    """Max over each window and where it was.

    x: (N, C, H, W)  ->  out: (N, C, OH, OW), arg: (N, C, OH, OW) with

        out[n, c, oh, ow] = max over (i, j) of xpad[n, c, oh·stride + i, ow·stride + j]
        arg[n, c, oh, ow] = i·KW + j of the first (i, j) reaching that max, or of the last
                            NaN when the window holds one (out is then NaN), as PyTorch

    Padding is −∞, so it never wins. Both come back batch-last; ``arg`` is uint8 on the
    2×2 path LeNet uses, int32 otherwise.
    """
    xb = to_batch_last(x)
    if (kh, kw, stride, pad) == (2, 2, 2, 0) and xb.size:
        out, arg, nan = _maxpool_2x2(xb)
        if not nan:
            return from_batch_last(out), from_batch_last(arg)
    c, h, w, n = xb.shape
    oh, ow = out_size(h, kh, stride, pad), out_size(w, kw, stride, pad)
    win = _windows(_pad_hw(xb, pad, -np.inf), kh, kw, stride, oh, ow)
    out = win[:, 0, 0].copy()
    arg = np.zeros(out.shape, dtype=np.int32)
    for i in range(kh):
        for j in range(kw):
            slab = win[:, i, j]
            take = (slab > out) | np.isnan(slab)        # strictly: the first max keeps its place
            np.copyto(out, slab, where=take)
            np.copyto(arg, i * kw + j, where=take)
    if (kh, kw, stride, pad) == (2, 2, 2, 0):
        arg = arg.astype(np.uint8)
    return from_batch_last(out), from_batch_last(arg)


def _maxpool_2x2(xb):
    """The 2×2, stride-2 pool as a tournament of the four quarters a b / c d of each window:
    the top row's winner (b only if b > a), the bottom row's (d only if d > c), then the
    bottom row's only if its winner is larger: the first max wins, as in the scan. Exact when
    no window holds a NaN; says whether one did (out then has one: np.maximum passes it on)."""
    q = _windows(xb, 2, 2, 2, xb.shape[1] // 2, xb.shape[2] // 2)
    out = np.empty(q[:, 0, 0].shape, dtype=xb.dtype)
    arg = np.empty(out.shape, dtype=np.uint8)

    def work(lo, hi):
        a, b, c, d = q[lo:hi, 0, 0], q[lo:hi, 0, 1], q[lo:hi, 1, 0], q[lo:hi, 1, 1]
        top, bottom = np.maximum(a, b), np.maximum(c, d)
        right_top, right_bottom, lower = b > a, d > c, bottom > top
        np.maximum(top, bottom, out=out[lo:hi])
        # arg = 2·lower + (right_bottom if lower else right_top), in bit operations
        right = right_top ^ (lower & (right_top ^ right_bottom))
        np.add(right.view(np.uint8), lower.view(np.uint8) << 1, out=arg[lo:hi])
        nan.append(np.isnan(out[lo:hi].max()))
    nan = []
    _split(xb.shape[0], work, grain=_grain(out[0].size, passes=8))
    return out, arg, any(nan)


def maxpool2d_bwd(g, arg, x_shape, kh, kw, stride, pad):
    """Route each output's gradient to the input pixel that was the max of its window:

        dx[n, c, y, x] = Σ over windows whose max sat at (y, x) of g[n, c, oh, ow]

    The max of window (oh, ow) sat at y = oh·stride + arg // KW − pad, x = ow·stride +
    arg % KW − pad. On the 2×2 path each pixel belongs to one window, and the quarter (i, j)
    of dx is g where arg = i·2 + j and 0 elsewhere: four writes that cover dx. Otherwise a
    scatter (stride ≥ kernel: windows never share a pixel) or a sum over shared pixels.
    """
    n, c, h, w = x_shape
    if (kh, kw, stride, pad) == (2, 2, 2, 0):
        gb, argb = to_batch_last(g), to_batch_last(arg)
        oh, ow = gb.shape[1:3]
        dx = (np.zeros if h % 2 or w % 2 else np.empty)((c, h, w, n), dtype=g.dtype)
        quarters = _windows(dx, 2, 2, 2, oh, ow)

        def work(lo, hi):
            g_part, arg_part = gb[lo:hi], argb[lo:hi]
            finite = np.isfinite(g_part).all()
            for i in range(2):
                for j in range(2):
                    quarter, mine = quarters[lo:hi, i, j], arg_part == i * 2 + j
                    if finite:                              # g · mask: one fast pass
                        np.multiply(g_part, mine, out=quarter)
                    else:                                   # (0 · ±∞ or NaN would be NaN)
                        quarter[...] = 0
                        np.copyto(quarter, g_part, where=mine)
        _split(c, work, grain=_grain(gb[0].size, passes=8))
        return from_batch_last(dx)
    oh, ow = g.shape[2:]
    hp, wp = h + 2 * pad, w + 2 * pad
    rows = np.arange(oh).reshape(oh, 1) * stride + arg // kw
    cols = np.arange(ow) * stride + arg % kw
    planes = np.arange(n * c).reshape(n, c, 1, 1) * (hp * wp)
    where = (planes + rows * wp + cols).ravel()
    if stride >= kh and stride >= kw:
        dxpad = np.zeros(n * c * hp * wp, dtype=g.dtype)
        dxpad[where] = g.ravel()
    else:
        dxpad = np.bincount(where, weights=g.ravel(), minlength=n * c * hp * wp)
        dxpad = dxpad.astype(g.dtype, copy=False)
    dxpad = dxpad.reshape(n, c, hp, wp)
    return dxpad[:, :, pad:pad + h, pad:pad + w] if pad else dxpad


# ---- sigmoid, cross-entropy, Adam ------------------------------------------------------------
def sigmoid_fwd(x):
    """σ(x) = 1 / (1 + e⁻ˣ), in four passes that write only into the output (negate, exp,
    add one, divide 1 by it). For x below about −88 (float32; −709 in float64) e⁻ˣ overflows to
    ∞ and σ comes out 0, where the exact value is under 10⁻³⁸ (10⁻³⁰⁸)."""
    y = np.empty_like(x)

    def work(out, x):
        with np.errstate(over="ignore"):
            np.negative(x, out=out)
            np.exp(out, out=out)
        out += 1
        np.divide(out.dtype.type(1), out, out=out)    # (np.reciprocal: same bits, slower)
    _elementwise(work, y, x)
    return y


def sigmoid_bwd(g, y):
    """dσ/dx = σ(x)(1 − σ(x)) from the saved output y = σ(x): dx = g · (y − y²)."""
    dx = np.empty_like(y)

    def work(out, g, y):
        np.multiply(y, y, out=out)
        np.subtract(y, out, out=out)
        out *= g
    _elementwise(work, dx, g, y)
    return dx


def softmax_xent_fwd(logits, target):
    """Cross-entropy of each row of raw logits against its class:

        loss[b] = log Σ_k e^{z[b,k]} − z[b, t[b]],   computed as m + log Σ_k e^{z[b,k] − m}
        with m = max_k z[b, k] (the log-sum-exp trick: nothing overflows).

    logits: (B, K), target: (B,) int64  ->  loss: (B,), lse: (B,) (saved for the backward).
    """
    m = logits.max(axis=1)
    lse = m + np.log(np.exp(logits - m[:, None]).sum(axis=1))
    picked = np.take_along_axis(logits, target[:, None], axis=1)[:, 0]
    return lse - picked, lse


def softmax_xent_bwd(g, logits, lse, target):
    """d loss[b] / d z[b, k] = softmax(z[b])_k − [k = t[b]], scaled by g[b]: (B,) -> (B, K)."""
    d = np.exp(logits - lse[:, None])
    d[np.arange(len(target)), target] -= 1
    return d * g[:, None]


def adam_step(param, grad, m, v, step, lr, beta1, beta2, eps, weight_decay):
    """One Adam update of ``param``, ``m`` and ``v`` in place, PyTorch's formula:

        g  = grad + weight_decay·param
        m  = m + (1 − β1)(g − m)                  (= β1·m + (1 − β1)·g)
        v  = β2·v + (1 − β2)·g²
        param −= lr / (1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + eps)

    eps is added after the bias correction, as PyTorch does (Chainer adds it before). Every
    scalar is a Python float, so float32 stays float32 (a NumPy float64 scalar would promote
    the whole update to float64 under NumPy 2's rules), and one scratch array t serves
    every line.
    """
    lr, beta1, beta2, eps, weight_decay = map(float, (lr, beta1, beta2, eps, weight_decay))
    step_size = lr / (1 - beta1 ** step)
    bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
    if weight_decay:
        grad = grad + weight_decay * param
    t = np.subtract(grad, m, out=np.empty_like(m))     # out=: an array even when 0-d
    t *= 1 - beta1
    m += t
    v *= beta2
    np.multiply(grad, grad, out=t)
    t *= 1 - beta2
    v += t
    np.sqrt(v, out=t)
    t /= bias_correction2_sqrt
    t += eps
    np.divide(m, t, out=t)
    t *= step_size
    param -= t


# ---- a training step's fused functions: what the GPU does in one or two launches ----------
# (cross-entropy with its reduction and running totals, the linear backward, Adam over many
# tensors with step counts in arrays) composed of the functions above, so the CPU's numbers
# stay what they were before the GPU fused them.
def cross_entropy_fwd(logits, target, reduction, stats=None):
    """(loss, lse): the loss reduced by "mean" or "sum", or per sample ("none"), and each
    row's log-sum-exp. ``stats`` (float64, 4 values, or None) gets the batch's mean loss,
    its correct predictions (argmax of the logits = target), its size and 1 added."""
    losses, lse = softmax_xent_fwd(logits, target)
    out = losses.mean() if reduction == "mean" else losses.sum() if reduction == "sum" \
        else losses
    if stats is not None and len(target):
        correct = np.count_nonzero(logits.argmax(axis=1) == target)
        stats += (float(losses.mean()), correct, len(target), 1)
    return out, lse


def cross_entropy_bwd(g, logits, lse, target, reduction):
    """d loss / d logits from the loss's gradient ``g``: every sample gets the same share of
    a reduced loss's gradient (divided by the batch size for a mean)."""
    if reduction == "none":
        per_sample = g
    else:
        share = g / len(target) if reduction == "mean" else g
        per_sample = np.broadcast_to(share, target.shape)
    return softmax_xent_bwd(per_sample, logits, lse, target)


def linear_bwd(g, x, weight, needs):
    """(dx, dw, db) of y = x @ Wᵀ + b, each None unless asked for:
    dx = g @ W,  dW = gᵀ @ x,  db = Σ_B g."""
    need_x, need_w, need_b = needs
    dx = gemm(g, weight) if need_x else None
    dw = gemm(g, x, trans_a=True) if need_w else None
    db = bias_grad(g.reshape(g.shape[0], g.shape[1], 1)) if need_b else None
    return dx, dw, db


def adam_multi(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, eps,
               weight_decay):
    """Adam on each tensor in turn (adam_step), each step count (a 0-d float64 array)
    advanced first."""
    for p, g, m, v, t in zip(params, grads, exp_avgs, exp_avg_sqs, steps):
        t += 1
        adam_step(p, g, m, v, int(t), lr, beta1, beta2, eps, weight_decay)


# ==== average pooling, dropout masks, NLL loss, Adadelta and RMSprop ========================
# Self-contained plain NCHW NumPy (they share no helper with the functions above), each with
# a twin of the same name in cuda.py.
from .. import random  # noqa: E402  (minigrad's seeded generator, for dropout masks)
from ..arguments import pool_out_size  # noqa: E402  (out_size, or rounded up with ceil_mode)


def avgpool_divisor(h, w, kernel, stride, pad, ceil_mode, count_include_pad, divisor):
    """What each output of an average pool divides its window's sum by, (OH, OW), PyTorch's
    rule: the window clipped to the padded image (padding counts) when
    ``count_include_pad``, else clipped to the image itself; ``divisor`` overrides both."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    oh = pool_out_size(h, kh, sh, ph, ceil_mode)
    ow = pool_out_size(w, kw, sw, pw, ceil_mode)
    if divisor:
        return np.full((oh, ow), divisor)

    def extent(n_out, size, k, s, p):
        start = np.arange(n_out) * s - p
        end = np.minimum(start + k, size + p)                 # inside the padded image
        if count_include_pad:
            return end - start
        return np.minimum(end, size) - np.maximum(start, 0)   # inside the image
    return extent(oh, h, kh, sh, ph)[:, None] * extent(ow, w, kw, sw, pw)[None, :]


def _avgpool_padded_shape(h, w, kernel, stride, pad, oh, ow):
    """Rows and columns of zeros after the image so that every window, even the last one of
    ``ceil_mode``, lies inside the array: (bottom, right)."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    return max(ph, (oh - 1) * sh + kh - ph - h), max(pw, (ow - 1) * sw + kw - pw - w)


def avgpool2d_fwd(x, kernel, stride, pad, ceil_mode=False, count_include_pad=True,
                  divisor=None):
    """The mean of each window:

        out[n, c, oh, ow] = Σ over (i, j) of xpad[n, c, oh·SH + i, ow·SW + j] / d[oh, ow]

    x: (N, C, H, W) -> (N, C, OH, OW); xpad is x with zeros around it, d is
    ``avgpool_divisor``. kernel, stride and pad are (height, width) pairs. As in max-pool,
    the loop runs over the KH·KW offsets, each adding a strided slab of the whole batch."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    oh, ow = pool_out_size(h, kh, sh, ph, ceil_mode), pool_out_size(w, kw, sw, pw, ceil_mode)
    bottom, right = _avgpool_padded_shape(h, w, kernel, stride, pad, oh, ow)
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, bottom), (pw, right)))
    total = np.zeros((n, c, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            total += xpad[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
    d = avgpool_divisor(h, w, kernel, stride, pad, ceil_mode, count_include_pad, divisor)
    return total / d.astype(x.dtype)


def avgpool2d_bwd(g, x_shape, kernel, stride, pad, ceil_mode=False, count_include_pad=True,
                  divisor=None):
    """Each output's gradient, divided by its divisor, goes back to every pixel of its
    window (padding takes its share and drops it):

        dx[n, c, y, x] = Σ over windows (oh, ow) holding (y, x) of g[n, c, oh, ow] / d[oh, ow]
    """
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    oh, ow = g.shape[2:]
    bottom, right = _avgpool_padded_shape(h, w, kernel, stride, pad, oh, ow)
    d = avgpool_divisor(h, w, kernel, stride, pad, ceil_mode, count_include_pad, divisor)
    share = g / d.astype(g.dtype)
    dxpad = np.zeros((n, c, ph + h + bottom, pw + w + right), dtype=g.dtype)
    for i in range(kh):
        for j in range(kw):
            dxpad[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw] += share
    return np.ascontiguousarray(dxpad[:, :, ph:ph + h, pw:pw + w])


def dropout_mask(shape, p, dtype):
    """The mask dropout multiplies by: each element kept with probability 1 − p, and scaled
    so that the mean is unchanged,

        mask = keep / (1 − p),   keep ~ Bernoulli(1 − p)   (all zeros when p = 1)

    drawn from minigrad's generator (``manual_seed`` makes it repeat). The GPU twin draws
    from a counter-based generator instead, so the two devices give different masks."""
    keep = random.generator().random(shape) >= p
    scale = np.dtype(dtype).type(0.0 if p == 1 else 1.0 / (1.0 - p))
    return keep * scale


def nll_fwd(logp, target, weight, ignore_index):
    """Negative log-likelihood of each row's class, weighted:

        w[b]    = weight[t[b]] (1 without a weight), or 0 when t[b] = ignore_index
        loss[b] = −w[b] · logp[b, t[b]]

    logp: (B, K) log-probabilities, target: (B,) int64, weight: (K,) or None. Returns loss
    and w, both (B,): a mean reduction divides Σ loss by Σ w, as PyTorch does."""
    ignored = target == ignore_index
    safe = np.where(ignored, 0, target)                 # any class: its term is zeroed below
    w = weight[safe] if weight is not None else np.ones(len(target), dtype=logp.dtype)
    w = np.where(ignored, 0, w).astype(logp.dtype)
    picked = np.take_along_axis(logp, safe[:, None], axis=1)[:, 0]
    with np.errstate(invalid="ignore"):             # 0 · (−∞) of an ignored row: set to 0
        loss = np.where(ignored, 0, -w * picked).astype(logp.dtype)
    return loss, w


def nll_bwd(g, target, weight, ignore_index, num_classes):
    """d loss[b] / d logp[b, k] = −w[b] where k = t[b], else 0; scaled by g[b]: (B,) -> (B, K)."""
    ignored = target == ignore_index
    safe = np.where(ignored, 0, target)
    w = weight[safe] if weight is not None else np.ones(len(target), dtype=g.dtype)
    w = np.where(ignored, 0, w).astype(g.dtype)
    d = np.zeros((len(target), num_classes), dtype=g.dtype)
    with np.errstate(invalid="ignore"):             # an ignored row gets 0, even for g = ±∞
        d[np.arange(len(target)), safe] = np.where(ignored, 0, -w * g)
    return d


def adadelta_step(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay):
    """One Adadelta update (Zeiler 2012) of ``param``, ``square_avg`` and ``acc_delta`` in
    place, PyTorch's formula:

        g     = grad + weight_decay·param
        s     = ρ·s + (1 − ρ)·g²                       (running mean of g²)
        delta = √(acc + eps) / √(s + eps) · g          (the step, in the units of param)
        acc   = ρ·acc + (1 − ρ)·delta²                 (running mean of delta²)
        param −= lr·delta
    """
    if weight_decay:
        grad = grad + weight_decay * param
    square_avg *= rho
    square_avg += (1 - rho) * grad * grad
    delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * grad
    acc_delta *= rho
    acc_delta += (1 - rho) * delta * delta
    param -= lr * delta


def rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                 weight_decay, momentum, centered):
    """One RMSprop update in place, PyTorch's formula:

        g   = grad + weight_decay·param
        s   = α·s + (1 − α)·g²                         (running mean of g²)
        avg = √(s − ḡ²) + eps with ḡ ← ḡ + (1 − α)(g − ḡ) when centered, else √s + eps
        with momentum:  buf = momentum·buf + g / avg,  param −= lr·buf
        without:        param −= lr · g / avg

    ``grad_avg`` (ḡ) is used only when centered, ``momentum_buffer`` only with momentum."""
    if weight_decay:
        grad = grad + weight_decay * param
    square_avg *= alpha
    square_avg += (1 - alpha) * grad * grad
    if centered:
        grad_avg += (1 - alpha) * (grad - grad_avg)
        avg = np.sqrt(square_avg - grad_avg * grad_avg)
    else:
        avg = np.sqrt(square_avg)
    avg += eps
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += grad / avg
        param -= lr * momentum_buffer
    else:
        param -= lr * (grad / avg)
