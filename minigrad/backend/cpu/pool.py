"""Max-pool, fast: the textbook's window argmax over batch-last memory, with the 2×2,
stride-2 pool LeNet uses as a tournament of the window's four quarters, spread over the
threads. ``arg`` is uint8 on that path (int32 otherwise); its values are the textbook's.
"""
import numpy as np

from ...arguments import out_size
from .buffers import _empty
from .layout import _pad_hw, _windows, from_batch_last, to_batch_last
from .threads import _grain, _split


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
    out = _empty(q[:, 0, 0].shape, xb.dtype)
    arg = _empty(out.shape, np.uint8)

    def work(lo, hi):
        a, b, c, d = q[lo:hi, 0, 0], q[lo:hi, 0, 1], q[lo:hi, 1, 0], q[lo:hi, 1, 1]
        top = np.maximum(a, b, out=_empty(a.shape, a.dtype))
        bottom = np.maximum(c, d, out=_empty(a.shape, a.dtype))
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
        dx = np.zeros((c, h, w, n), g.dtype) if h % 2 or w % 2 else _empty((c, h, w, n), g.dtype)
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
