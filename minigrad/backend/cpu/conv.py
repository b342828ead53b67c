"""conv2d, fast: the textbook's im2col + one product, over batch-last memory, one cache-sized
block of output rows at a time, the blocks spread over the threads (the same bits on any
number of threads). The math is ``textbook.conv2d_fwd`` / ``conv2d_bwd``; only where the
numbers live and in which order the blocks run differ.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from ...arguments import out_size
from .buffers import _empty
from .layout import _pad_hw, _windows, from_batch_last, to_batch_last
from .threads import _grain, _one_blas_thread, _split

COLUMN_BYTES = 3 << 18   # a block's column matrix: 3/4 of a core's L2 cache here (1 MiB)
BLOCK = 2048             # columns per BLAS call when a product's columns run long
ROW_PAD = 16             # spare elements at the end of each row of a column matrix
SCRATCH_SHIFT = 128      # elements (512 B of float32) a block's column room is shifted by


def _matrix(rows, cols, dtype):
    """An uninitialised (rows, cols) matrix whose rows lie ROW_PAD elements further apart than
    they must: rows exactly a multiple of 4 KiB apart (2048 floats, LeNet's row of OW·N)
    map to the same cache sets, and a product that streams them all at once slows down."""
    return _empty((rows, cols + ROW_PAD), dtype)[:, :cols]


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
        """Room for one block's columns (each thread has its own). It starts SCRATCH_SHIFT
        elements into its buffer: x and the room come from the same allocator, so they would
        start at the same place in a 4 KiB page, and the fill's copy would then read rows of
        x and write rows of the room at the same offsets in their pages, which stalls it
        (LeNet's first layer: each step's fills took twice as long)."""
        size = (self.k + self.bias) * self.rows * self.width * self.n
        return _empty((SCRATCH_SHIFT + size,), self.xpad.dtype)[SCRATCH_SHIFT:]

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
    dxpad = _empty((c, h + 2 * pad, w + 2 * pad, n), dtype)

    def work(lo, hi):
        dxpad[lo:hi] = 0
        rows = dcols_of(lo, hi).reshape(hi - lo, kh, kw, oh, ow, n)
        win = _windows(dxpad[lo:hi], kh, kw, stride, oh, ow)
        for i in range(kh):
            for j in range(kw):
                win[:, i, j] += rows[:, i, j]
    _split(c, work, grain=_grain(dxpad[0].size, passes=kh * kw))
    return dxpad[:, pad:pad + h, pad:pad + w] if pad else dxpad


@_one_blas_thread
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
    y = _empty((oc, cols.oh, cols.ow, cols.n), x.dtype)
    y_mat = y.reshape(oc, -1)

    def work(lo, hi):
        room = cols.scratch()
        for b in range(lo, hi):
            np.matmul(w_mat, cols.fill(room, b), out=y_mat[:, cols.span(b)[-1]])
    _split(cols.blocks, work)
    return from_batch_last(y), (cols, w_mat)


@_one_blas_thread
def conv2d_bwd(g, saved, x_shape, w_shape, stride, pad, needs):
    """The three gradients of conv2d_fwd, with g = dL/dy as (OC, OH·OW·N) batch-last rows:

        dW_mat = g @ colsᵀ             (a sum over every image and pixel; its last column is
                                        db when the forward had a bias)
        dx     = fold(W_matᵀ @ g)      (each column entry added back onto its pixel)

    ``needs``: which of dx, dW, db to compute. dW_mat is summed block by block of output
    rows, each block's product kept apart and the blocks added in order (the same bits on
    any number of threads). dx: all C·KH·KW rows of W_matᵀ @ g at once, one product per
    BLOCK of columns, the blocks spread over the threads (one tall product runs faster in
    OpenBLAS than one per channel: K = OC is short), then the fold, channel by channel.
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
        dcols = _matrix(k, gm.shape[1], g.dtype)

        def product(lo, hi):        # BLOCKs lo..hi−1: the same BLAS calls on any thread count
            span = slice(lo * BLOCK, min(hi * BLOCK, gm.shape[1]))
            _product(w_t, gm[:, span], dcols[:, span])
        _split(-(-gm.shape[1] // BLOCK), product)
        kk = kh * kw
        dx = from_batch_last(_fold(lambda lo, hi: dcols[lo * kk:hi * kk], (c, h, w, n),
                                   g.dtype, kh, kw, stride, pad))
    return dx, dw, db
