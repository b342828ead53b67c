"""The CPU backend: each CNN building block in NumPy, written to read like its math.

Every function here has a twin of the same name and signature in ``cuda.py`` that launches
a hand-written kernel (``kernels/*.cu``); read this one first. Shapes use N (batch),
C (channels), H, W (image), KH, KW (kernel), OH, OW (output), P = OH·OW (output pixels).

No Python loop runs over the batch, the channels or the pixels. The only loops are over
the KH·KW offsets inside a window: each iteration moves a whole strided slab of the batch.
"""
import ctypes
import sys

import numpy as np

from ..shapes import out_size


def tune_malloc():
    """Keep NumPy's big temporaries in the heap between training steps (glibc only).

    NumPy allocates large temporaries every step (im2col's columns are 15 MB at LeNet's
    first layer). glibc returns blocks that large to the OS when they are freed, and the next
    step faults them in again page by page. Raising malloc's mmap and trim thresholds keeps
    them for reuse. It changes the whole process (every library's allocations), so minigrad
    never does it on import: entry scripts that want it call this (the LeNet example and the
    benchmarks do, for minigrad and PyTorch alike). Returns True when it was applied."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3          # from glibc's <malloc.h>
    return bool(libc.mallopt(m_mmap_threshold, 64 << 20)) and \
        bool(libc.mallopt(m_trim_threshold, 256 << 20))


def _window(xpad, i, j, oh, ow, stride):
    """The (N, C, OH, OW) slab of ``xpad`` that offset (i, j) of every window sees."""
    return xpad[:, :, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride]


def im2col(x, kh, kw, stride, pad):
    """Unfold image patches into columns, so that a convolution becomes a matrix product.

    x: (N, C, H, W)  ->  cols: (N, C·KH·KW, OH·OW), where

        cols[n, (c, i, j), (oh, ow)] = xpad[n, c, oh·stride + i, ow·stride + j]

    and xpad is x with ``pad`` zeros on each side of H and W. Then for each image n,
    conv(x)[n] = W_mat @ cols[n] with W_mat the (OC, C·KH·KW) weight.

    ``sliding_window_view`` gives every window as a view (N, C, OH, OW, KH, KW) without
    copying; one copy in the order (N, C, KH, KW, OH, OW) is the column matrix.
    """
    n, c, h, w = x.shape
    oh, ow = out_size(h, kh, stride, pad), out_size(w, kw, stride, pad)
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x
    windows = np.lib.stride_tricks.sliding_window_view(xpad, (kh, kw), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride][:, :, :oh, :ow]
    return np.ascontiguousarray(windows.transpose(0, 1, 4, 5, 2, 3)).reshape(n, c * kh * kw,
                                                                          oh * ow)


def col2im(cols, x_shape, kh, kw, stride, pad):
    """The adjoint of im2col: add every column entry back onto the pixel it came from.

    cols: (N, C·KH·KW, OH·OW)  ->  dx: (N, C, H, W), where

        dx[n, c, y, x] = Σ over (i, j, oh, ow) with oh·stride + i − pad = y and
                           ow·stride + j − pad = x  of  cols[n, (c, i, j), (oh, ow)]

    A pixel covered by several windows receives the sum of all of them: for each kernel
    offset (i, j), the (OH, OW) grid of entries lands on a strided slab of the image. The
    sums run with the N·C images last in memory, so that each slab addition moves long
    contiguous rows rather than rows of OW numbers.
    """
    n, c, h, w = x_shape
    oh, ow = out_size(h, kh, stride, pad), out_size(w, kw, stride, pad)
    hp, wp = h + 2 * pad, w + 2 * pad
    cols = np.ascontiguousarray(cols.reshape(n * c, kh, kw, oh, ow).transpose(1, 2, 3, 4, 0))
    dxpad = np.zeros((hp, wp, n * c), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            dxpad[i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride] += \
                cols[i, j]
    dx = np.ascontiguousarray(dxpad[pad:pad + h, pad:pad + w].transpose(2, 0, 1))
    return dx.reshape(n, c, h, w)


def gemm(a, b, trans_a=False, trans_b=False, bias=None, bias_axis=1):
    """C = op(A) @ op(B) (+ bias), op being a transpose of the last two dims when asked.

    A, B: 2-D, or 3-D batches (a 2-D operand is shared by every batch item).
    bias: (M,) added to each row when ``bias_axis`` is 0 (a conv's per-channel bias on
    W @ cols), or (N,) added to each column when it is 1 (a linear layer's x @ Wᵀ + b).
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
    over the batch too (a conv's weight gradient: Σ_n g[n] @ cols[n]ᵀ)."""
    if trans_a:
        a = a.swapaxes(-1, -2)
    if trans_b:
        b = b.swapaxes(-1, -2)
    return np.matmul(a, b).sum(axis=0)


def bias_grad(g):
    """db[c] = Σ over batch and space of g: g is (outer, C, inner) -> (C,)."""
    return g.sum(axis=(0, 2))


def conv2d_fwd(x, weight, bias, stride, padding):
    """(y, saved) of a convolution, composed of the functions above:
    y[n] = W_mat @ im2col(x)[n] + b, W_mat the weight seen as (OC, C·KH·KW); saved is what
    conv2d_bwd reads (the columns and W_mat)."""
    oc, c, kh, kw = weight.shape
    n, _, h, w = x.shape
    cols = im2col(x, kh, kw, stride, padding)
    w_mat = weight.reshape(oc, c * kh * kw)
    y = gemm(w_mat, cols, bias=bias, bias_axis=0)
    oh, ow = out_size(h, kh, stride, padding), out_size(w, kw, stride, padding)
    return y.reshape(n, oc, oh, ow), (cols, w_mat)


def conv2d_bwd(g, saved, x_shape, w_shape, stride, padding, needs):
    """(dx, dw, db), each None unless asked for in ``needs``; with g = dL/dy as (N, OC, P):
        dW = Σ_n g[n] @ cols[n]ᵀ      db = Σ over n and P of g
        dx = col2im(W_matᵀ @ g[n])"""
    cols, w_mat = saved
    g = g.reshape(g.shape[0], g.shape[1], -1)
    need_x, need_w, need_b = needs
    dx = dw = db = None
    if need_x:
        dcols = gemm(w_mat, g, trans_a=True)
        dx = col2im(dcols, x_shape, w_shape[2], w_shape[3], stride, padding)
    if need_w:
        dw = gemm_batch_sum(g, cols, trans_b=True).reshape(w_shape)
    if need_b:
        db = bias_grad(g)
    return dx, dw, db


def maxpool2d_fwd(x, kh, kw, stride, pad):
    """Max over each window and where it was.

    x: (N, C, H, W)  ->  out: (N, C, OH, OW), arg: (N, C, OH, OW) int32 with

        out[n, c, oh, ow] = max over (i, j) of xpad[n, c, oh·stride + i, ow·stride + j]
        arg[n, c, oh, ow] = i·KW + j of the first (i, j) reaching that max

    Padding is −∞, so it never wins.
    """
    n, c, h, w = x.shape
    oh, ow = out_size(h, kh, stride, pad), out_size(w, kw, stride, pad)
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)),
                  constant_values=-np.inf) if pad else x
    out = _window(xpad, 0, 0, oh, ow, stride).copy()
    arg = np.zeros(out.shape, dtype=np.int32)
    for i in range(kh):
        for j in range(kw):
            if i == j == 0:
                continue
            slab = _window(xpad, i, j, oh, ow, stride)
            better = slab > out                    # strictly: the first max keeps its place
            arg += better * (i * kw + j - arg)     # arg = i·KW + j where better
            np.maximum(out, slab, out=out)
    return out, arg


def maxpool2d_bwd(g, arg, x_shape, kh, kw, stride, pad):
    """Route each output's gradient to the input pixel that was the max of its window:

        dx[n, c, y, x] = Σ over windows whose max sat at (y, x) of g[n, c, oh, ow]

    The max of window (oh, ow) sat at y = oh·stride + arg // KW − pad, x = ow·stride +
    arg % KW − pad. Windows that do not overlap (stride ≥ kernel) never share a pixel, so a
    plain scatter does; overlapping ones add up their shares.
    """
    n, c, h, w = x_shape
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


def sigmoid_fwd(x):
    """σ(x) = 1 / (1 + e⁻ˣ), computed so that no exponent is ever positive:

        σ(x) = e^{min(x, 0)} / (1 + e^{−|x|})

    which is 1/(1 + e⁻ˣ) for x ≥ 0 and eˣ/(1 + eˣ) for x < 0. Nothing overflows for any x,
    and for very negative x the tiny result keeps its relative precision."""
    num = np.exp(np.minimum(x, 0))
    den = np.exp(-np.abs(x))
    den += 1
    num /= den
    return num


def sigmoid_bwd(g, y):
    """dσ/dx = σ(x)(1 − σ(x)), from the saved output y = σ(x)."""
    return g * y * (1 - y)


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

    eps is added after the bias correction, as PyTorch does (Chainer adds it before).
    """
    if weight_decay:
        grad = grad + weight_decay * param
    m += (1 - beta1) * (grad - m)
    v *= beta2
    v += (1 - beta2) * grad * grad
    step_size = lr / (1 - beta1 ** step)
    denom = np.sqrt(v) / np.sqrt(1 - beta2 ** step) + eps
    param -= step_size * (m / denom)
