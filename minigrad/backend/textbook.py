"""The textbook form of the backend: every layer of the interface in plain NCHW NumPy, written
to read like its math. Read this one first.

Each function here has a twin of the same name and signature in ``cpu/`` (the fast CPU form,
which overrides only what speed changed), in ``loops.py`` (the same sums one number at a
time) and in ``cuda/`` (launches of the hand-written kernels in ``kernels/*.cu``).
``MINIGRAD_CPU=textbook`` trains with this file. ReLU and the element-wise, reduction and shape
ops are not here at all: they are generic array code in ``ops/``.

Shapes: N (batch), C (channels), H, W (image), KH, KW (kernel), OC (output channels), OH, OW
(output), P = OH·OW (output pixels), K = C·KH·KW (the length of one window). No Python loop
runs over the batch, the channels or the pixels; the only loops run over the KH·KW offsets
inside a window, each moving one strided slab of the whole batch. No threads, no layout
tricks: arrays are ordinary C-ordered NCHW.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import random  # minigrad's seeded generator, for dropout masks
from ..arguments import (
    out_size,  # floor((size + 2·pad − kernel) / stride) + 1
    pool_out_size,  # out_size, or rounded up with ceil_mode
)
from . import INTERFACE

__all__ = list(INTERFACE) + ["avgpool_divisor"]     # what ``from .textbook import *`` takes


# ---- conv2d: im2col + one matrix product ---------------------------------------------------
def _windows(xpad, kh, kw, stride, oh, ow):
    """The view win[n, c, oh, ow, i, j] = xpad[n, c, oh·stride + i, ow·stride + j]: every
    window of every image, without a copy."""
    return sliding_window_view(xpad, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride][
        :, :, :oh, :ow]


def im2col(x, kh, kw, stride, pad):
    """Unfold image patches into columns, so that a convolution becomes a matrix product:

        cols[n, (c, i, j), (oh, ow)] = xpad[n, c, oh·stride + i, ow·stride + j]

    x: (N, C, H, W) -> cols: (N, K, P); xpad is x with ``pad`` zeros on each side of H and W.
    Then conv(x)[n] = W_mat @ cols[n] with W_mat the (OC, K) weight."""
    n, c, h, w = x.shape
    oh, ow = out_size(h, kh, stride, pad), out_size(w, kw, stride, pad)
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = _windows(xpad, kh, kw, stride, oh, ow)                    # (N, C, OH, OW, KH, KW)
    return win.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, oh * ow)


def col2im(cols, x_shape, kh, kw, stride, pad):
    """The adjoint of im2col: add every column entry back onto the pixel it came from,

        dxpad[n, c, oh·stride + i, ow·stride + j] += cols[n, (c, i, j), (oh, ow)]

    one slab addition per kernel offset (i, j); dx is dxpad without its border. A pixel
    covered by several windows receives the sum of all of them."""
    n, c, h, w = x_shape
    oh, ow = out_size(h, kh, stride, pad), out_size(w, kw, stride, pad)
    slabs = cols.reshape(n, c, kh, kw, oh, ow)
    dxpad = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            dxpad[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] += slabs[:, :, i, j]
    return dxpad[:, :, pad:pad + h, pad:pad + w].copy()


def conv2d_fwd(x, weight, bias, stride, pad):
    """y = conv(x, W) + b as one matrix product over the columns of im2col:

        y[n, oc, (oh, ow)] = Σ_(c,i,j) W[oc, c, i, j] · cols[n, (c, i, j), (oh, ow)] + b[oc]

    x: (N, C, H, W), weight: (OC, C, KH, KW), bias: (OC,) or None -> y: (N, OC, OH, OW), and
    what the backward needs: (cols, weight)."""
    n, _, h, w = x.shape
    oc, _, kh, kw = weight.shape
    cols = im2col(x, kh, kw, stride, pad)                           # (N, K, P)
    y = weight.reshape(oc, -1) @ cols                               # (OC, K) @ (N, K, P)
    if bias is not None:
        y += bias[:, None]
    return y.reshape(n, oc, out_size(h, kh, stride, pad), out_size(w, kw, stride, pad)), \
        (cols, weight)


def conv2d_bwd(g, saved, x_shape, w_shape, stride, pad, needs):
    """The three gradients of conv2d_fwd from g = dL/dy (N, OC, OH, OW), as g_mat (N, OC, P):

        dW_mat = Σ_n g_mat[n] @ cols[n]ᵀ        (every image and pixel adds its share)
        db     = Σ over n and pixels of g
        dx     = col2im(W_matᵀ @ g_mat)          (each column entry back onto its pixel)

    ``needs``: which of (dx, dW, db) to compute; the others come back None."""
    cols, weight = saved
    need_x, need_w, need_b = needs
    oc, _, kh, kw = w_shape
    g_mat = g.reshape(g.shape[0], oc, g.shape[2] * g.shape[3])
    dw = gemm_batch_sum(g_mat, cols, trans_b=True).reshape(w_shape) if need_w else None
    db = bias_grad(g_mat) if need_b else None
    dx = col2im(weight.reshape(oc, -1).T @ g_mat, x_shape, kh, kw, stride, pad) \
        if need_x else None
    return dx, dw, db


# ---- the products behind conv2d and linear --------------------------------------------------
def gemm(a, b, trans_a=False, trans_b=False, bias=None, bias_axis=1):
    """C = op(A) @ op(B) (+ bias), op being a transpose of the last two dims when asked.

    A, B: 2-D, or 3-D batches (a 2-D operand is shared by every batch item).
    bias: (M,) added to each row when ``bias_axis`` is 0 (a conv's per-channel bias on
    W @ cols), or (N,) added to each column when it is 1 (a linear layer's x @ Wᵀ + b)."""
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


def linear_bwd(g, x, weight, needs):
    """(dx, dw, db) of y = x @ Wᵀ + b, each None unless asked for:
    dx = g @ W,  dW = gᵀ @ x,  db = Σ_B g."""
    need_x, need_w, need_b = needs
    dx = gemm(g, weight) if need_x else None
    dw = gemm(g, x, trans_a=True) if need_w else None
    db = bias_grad(g.reshape(g.shape[0], g.shape[1], 1)) if need_b else None
    return dx, dw, db


# ---- max-pool: the argmax of each window --------------------------------------------------
def maxpool2d_fwd(x, kh, kw, stride, pad):
    """The max of each window and where it was:

        out[n, c, oh, ow] = max over (i, j) of xpad[n, c, oh·stride + i, ow·stride + j]
        arg[n, c, oh, ow] = i·KW + j of the first (i, j) reaching it, or of the last NaN
                            when the window holds one (out is then NaN), as PyTorch

    x: (N, C, H, W) -> out, arg (int32): (N, C, OH, OW). The padding is −∞: it never wins."""
    n, c, h, w = x.shape
    oh, ow = out_size(h, kh, stride, pad), out_size(w, kw, stride, pad)
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=-np.inf)
    win = _windows(xpad, kh, kw, stride, oh, ow).reshape(n, c, oh, ow, kh * kw)
    arg = win.argmax(axis=-1)                                  # (the first NaN, or max)
    nan = np.isnan(win)
    last_nan = kh * kw - 1 - nan[..., ::-1].argmax(axis=-1)
    arg = np.where(nan.any(axis=-1), last_nan, arg).astype(np.int32)
    return np.take_along_axis(win, arg[..., None], axis=-1)[..., 0], arg


def maxpool2d_bwd(g, arg, x_shape, kh, kw, stride, pad):
    """Each output's gradient goes back to the pixel that was its window's max:

        dxpad[n, c, oh·stride + i, ow·stride + j] += g[n, c, oh, ow]   where arg = i·KW + j

    one slab addition per kernel offset (i, j), as in col2im."""
    n, c, h, w = x_shape
    oh, ow = g.shape[2:]
    dxpad = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=g.dtype)
    for i in range(kh):
        for j in range(kw):
            dxpad[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] += \
                np.where(arg == i * kw + j, g, 0)
    return dxpad[:, :, pad:pad + h, pad:pad + w].copy()


# ---- average pool ----------------------------------------------------------------------------
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


# ---- sigmoid ------------------------------------------------------------------------------------
def sigmoid_fwd(x):
    """σ(x) = 1 / (1 + e⁻ˣ), computed without overflow from e = e^(−|x|) ≤ 1:

        σ(x) = 1 / (1 + e)   for x ≥ 0,        σ(x) = e / (1 + e)   for x < 0

    so σ(−90) in float32 is 8.2e-40 (a subnormal), not 0 as 1 / (1 + e⁹⁰) = 1 / ∞ gives."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def sigmoid_bwd(g, y):
    """dσ/dx = σ(x)·(1 − σ(x)), from the saved output y = σ(x): dx = g · y · (1 − y)."""
    return g * y * (1 - y)


# ---- cross-entropy and negative log-likelihood -------------------------------------------------
def softmax_xent_fwd(logits, target):
    """Cross-entropy of each row of raw logits against its class:

        loss[b] = log Σ_k e^{z[b,k]} − z[b, t[b]],   computed as m + log Σ_k e^{z[b,k] − m}
        with m = max_k z[b, k] (the log-sum-exp trick: nothing overflows).

    logits: (B, K), target: (B,) int64  ->  loss: (B,), lse: (B,) (saved for the backward)."""
    m = logits.max(axis=1)
    lse = m + np.log(np.exp(logits - m[:, None]).sum(axis=1))
    picked = np.take_along_axis(logits, target[:, None], axis=1)[:, 0]
    return lse - picked, lse


def softmax_xent_bwd(g, logits, lse, target):
    """d loss[b] / d z[b, k] = softmax(z[b])_k − [k = t[b]], scaled by g[b]: (B,) -> (B, K)."""
    d = np.exp(logits - lse[:, None])
    d[np.arange(len(target)), target] -= 1
    return d * g[:, None]


def cross_entropy_fwd(logits, target, reduction, stats=None, ignore_index=-100):
    """(loss, lse, kept): the loss reduced by "mean" or "sum", or per sample ("none"), each
    row's log-sum-exp, and the number of rows counted (a 0-d array, the mean's divisor, kept
    for the backward). A row whose target is ``ignore_index`` has loss 0 and is not counted
    (no row counted: the mean is 0/0 = NaN, as PyTorch's). ``stats`` (float64, 4 values, or
    None) gets the counted rows' mean loss, correct predictions (argmax of the logits =
    target), their number and 1 added."""
    keep = target != ignore_index
    losses, lse = softmax_xent_fwd(logits, np.where(keep, target, 0))
    losses = np.where(keep, losses, 0).astype(logits.dtype)
    kept = np.array(np.count_nonzero(keep), dtype=logits.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = losses.sum() / kept
    out = mean if reduction == "mean" else losses.sum() if reduction == "sum" else losses
    if stats is not None and kept:
        correct = np.count_nonzero((logits.argmax(axis=1) == target) & keep)
        stats += (float(mean), correct, int(kept), 1)
    return out, lse, kept


def cross_entropy_bwd(g, logits, lse, target, reduction, kept=None, ignore_index=-100):
    """d loss / d logits from the loss's gradient ``g``: every counted sample gets the same
    share of a reduced loss's gradient (divided by ``kept``, the number counted, for a mean;
    None: all of them), an ignored one none."""
    keep = target != ignore_index
    if reduction == "none":
        per_sample = g
    else:
        count = len(target) if kept is None else kept
        with np.errstate(invalid="ignore", divide="ignore"):     # 0/0: no row counted
            share = g / count if reduction == "mean" else g
        per_sample = np.broadcast_to(share, target.shape)
    d = softmax_xent_bwd(np.where(keep, per_sample, 0), logits, lse, np.where(keep, target, 0))
    return d.astype(logits.dtype, copy=False)


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


# ---- batch normalisation -----------------------------------------------------------------------
def batchnorm_fwd(x, weight, bias, running_mean, running_var, training, momentum, eps):
    """Normalise each channel of x (N, C, L) over its M = N·L values, then scale and shift:

        x̂ = (x − mean) / σ,   σ = √(var + eps),   y = γ·x̂ + β      (per channel c)

    Training: mean and var are the batch's (var biased, divided by M), and, when
    ``running_mean`` is given, the running statistics are updated in place with the
    unbiased variance (as PyTorch):

        running_mean ← (1 − momentum)·running_mean + momentum·mean
        running_var  ← (1 − momentum)·running_var  + momentum·var·M/(M − 1)

    Evaluation: mean and var are running_mean and running_var. γ (``weight``) and β
    (``bias``) are (C,) or None (γ = 1, β = 0). Returns y and what the backward needs:
    (x̂, 1/σ)."""
    c = x.shape[1]
    if training:
        m = x.shape[0] * x.shape[2]
        mean = x.mean(axis=(0, 2))
        var = ((x - mean[:, None]) ** 2).mean(axis=(0, 2))
        if running_mean is not None:
            running_mean[...] = (1 - momentum) * running_mean + momentum * mean
            running_var[...] = (1 - momentum) * running_var + momentum * var * (m / (m - 1))
    else:
        mean, var = running_mean, running_var
    invstd = 1 / np.sqrt(var + eps)
    xhat = (x - mean[:, None]) * invstd[:, None]
    gamma = weight if weight is not None else np.ones(c, dtype=x.dtype)
    beta = bias if bias is not None else np.zeros(c, dtype=x.dtype)
    return gamma[:, None] * xhat + beta[:, None], (xhat, invstd)


def batchnorm_bwd(g, saved, weight, training, needs):
    """The gradients of batchnorm_fwd, with g = dL/dy (N, C, L) and sums over n and l:

        dβ = Σ g        dγ = Σ g·x̂
        dx = (1/σ)·(g·γ − mean(g·γ) − x̂·mean(g·γ·x̂))     training (the statistics depend
                                                           on x too)
        dx = (1/σ)·g·γ                                    evaluation (they are constants)

    ``needs``: which of (dx, dγ, dβ) to compute; the others are None."""
    xhat, invstd = saved
    c = g.shape[1]
    gamma = weight if weight is not None else np.ones(c, dtype=g.dtype)
    gg = g * gamma[:, None]
    dx = None
    if needs[0]:
        if training:
            dx = invstd[:, None] * (gg - gg.mean(axis=(0, 2), keepdims=True)
                                    - xhat * (gg * xhat).mean(axis=(0, 2), keepdims=True))
        else:
            dx = invstd[:, None] * gg
    dweight = (g * xhat).sum(axis=(0, 2)) if needs[1] else None
    dbias = g.sum(axis=(0, 2)) if needs[2] else None
    return dx, dweight, dbias


# ---- dropout ----------------------------------------------------------------------------------
def dropout_mask(shape, p, dtype):
    """The mask dropout multiplies by: each element kept with probability 1 − p, and scaled
    so that the mean is unchanged,

        mask = keep / (1 − p),   keep ~ Bernoulli(1 − p)   (all zeros when p = 1)

    drawn from minigrad's generator (``manual_seed`` makes it repeat). The GPU twin draws
    from a counter-based generator instead, so the two devices give different masks."""
    keep = random.generator().random(shape) >= p
    scale = np.dtype(dtype).type(0.0 if p == 1 else 1.0 / (1.0 - p))
    return keep * scale


# ---- optimizers: in place ---------------------------------------------------------------------
def adam_step(param, grad, m, v, step, lr, beta1, beta2, eps, weight_decay):
    """One Adam update of ``param``, ``m`` and ``v`` in place, as Kingma & Ba (2015) write it,
    with eps added after the bias correction as PyTorch does (Chainer adds it before):

        g = grad + weight_decay·param
        m = β1·m + (1 − β1)·g                    v = β2·v + (1 − β2)·g²
        m̂ = m / (1 − β1ᵗ)                        v̂ = v / (1 − β2ᵗ)
        param −= lr · m̂ / (√v̂ + eps)

    The scalars are Python floats, so float32 arrays stay float32."""
    lr, beta1, beta2, eps, weight_decay = map(float, (lr, beta1, beta2, eps, weight_decay))
    g = grad + weight_decay * param if weight_decay else grad
    m[...] = beta1 * m + (1 - beta1) * g
    v[...] = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** step)
    v_hat = v / (1 - beta2 ** step)
    param -= lr * m_hat / (np.sqrt(v_hat) + eps)


def adam_multi(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, eps,
               weight_decay):
    """Adam on each tensor in turn (adam_step), each step count (a 0-d float64 array)
    advanced first."""
    for p, g, m, v, t in zip(params, grads, exp_avgs, exp_avg_sqs, steps):
        t += 1
        adam_step(p, g, m, v, int(t), lr, beta1, beta2, eps, weight_decay)


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

