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


# ==== Issue 15: average pooling, dropout masks, NLL loss, Adadelta and RMSprop ==============
# Self-contained plain NCHW NumPy (they share no helper with the functions above), each with
# a twin of the same name in cuda.py.
from .. import random  # noqa: E402  (minigrad's seeded generator, for dropout masks)
from ..shapes import pool_out_size  # noqa: E402  (out_size, or rounded up with ceil_mode)


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
    return -w * picked, w


def nll_bwd(g, target, weight, ignore_index, num_classes):
    """d loss[b] / d logp[b, k] = −w[b] where k = t[b], else 0; scaled by g[b]: (B,) -> (B, K)."""
    ignored = target == ignore_index
    safe = np.where(ignored, 0, target)
    w = weight[safe] if weight is not None else np.ones(len(target), dtype=g.dtype)
    w = np.where(ignored, 0, w).astype(g.dtype)
    d = np.zeros((len(target), num_classes), dtype=g.dtype)
    d[np.arange(len(target)), safe] = -w * g
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
