"""Batch-last memory, the layout the fast conv and pool keep inside the layer.

An (N, C, H, W) array whose memory is ordered (C, H, W, N), i.e. the NCHW view
``mem.transpose(3, 0, 1, 2)`` of a contiguous (C, H, W, N) block. Every other function sees an
ordinary NCHW array (NumPy's ufuncs keep the layout they are given), so nothing outside conv
and pool knows. It pays because a window offset (i, j) then reads, for each channel and
output row, one contiguous run of OW·N numbers: im2col is one copy with long runs, col2im is
KH·KW additions of long runs, and the columns of the product W_mat @ cols, ordered
(oh, ow, n), are already the output's memory.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from .buffers import _empty
from .threads import _grain, _split


def to_batch_last(x):
    """The (C, H, W, N) memory of the NCHW array ``x``: free when x already lives batch-last
    (as everything conv and pool return does), else one transposing copy, row by row over
    the threads."""
    xt = x.transpose(1, 2, 3, 0)
    if xt.flags.c_contiguous:
        return xt
    out = _empty(xt.shape, x.dtype)
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
