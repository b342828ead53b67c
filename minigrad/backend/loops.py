"""The loops form of the backend: each layer as plain Python loops, one number at a time.

Each function computes what ``textbook.py`` computes with vectorised NumPy, ``cpu/`` with
blocked batch-last NumPy on threads and ``kernels/*.cu`` with one GPU thread per output, in
the order a textbook writes the sums. The names and signatures are the interface's, so
``MINIGRAD_CPU=loops`` trains a (tiny) network with them; they are slow (pure Python) and
meant for small shapes: the tests check the other forms against them, so a reader can see the
same layer three ways, each tested against the others.

Where a loop form would say nothing the textbook does not (the matrix products ``gemm``,
``gemm_batch_sum`` and ``bias_grad``, ``im2col``/``col2im``, the dropout mask, the NLL loss,
average pooling's backward, Adadelta and RMSprop), this module takes the textbook's function
itself: ``loops.gemm is textbook.gemm``.

Shapes: N batch, C channels in, OC channels out, H×W image, KH×KW kernel, OH×OW output.
Arrays come in as NumPy arrays; results have the input's dtype.
"""
import math

import numpy as np

from ..arguments import (
    out_size,  # floor((size + 2·pad − kernel) / stride) + 1
    pool_out_size,  # out_size, or rounded up with ceil_mode
)
from .textbook import (  # noqa: F401  (no loop form: the textbook's own, see above)
    adadelta_step,
    avgpool2d_bwd,
    bias_grad,
    col2im,
    dropout_mask,
    gemm,
    gemm_batch_sum,
    im2col,
    nll_bwd,
    nll_fwd,
    rmsprop_step,
)


def padded(x, pad, fill=0.0):
    """x (N, C, H, W) with ``pad`` rows/columns of ``fill`` around each image."""
    n, c, h, w = x.shape
    out = np.full((n, c, h + 2 * pad, w + 2 * pad), fill, dtype=x.dtype)
    for b in range(n):
        for ch in range(c):
            for y in range(h):
                for xx in range(w):
                    out[b, ch, y + pad, xx + pad] = x[b, ch, y, xx]
    return out


# ---- conv2d -------------------------------------------------------------------------------
def corr2d(image, kernel, stride=1):
    """2-D cross-correlation of one (H, W) image with one (KH, KW) kernel:

        out[oh, ow] = Σ_i Σ_j image[oh·stride + i, ow·stride + j] · kernel[i, j]
    """
    kh, kw = kernel.shape
    oh, ow = out_size(image.shape[0], kh, stride, 0), out_size(image.shape[1], kw, stride, 0)
    out = np.zeros((oh, ow), dtype=image.dtype)
    for r in range(oh):
        for c in range(ow):
            total = 0.0
            for i in range(kh):
                for j in range(kw):
                    total += image[r * stride + i, c * stride + j] * kernel[i, j]
            out[r, c] = total
    return out


def conv2d_fwd(x, weight, bias, stride, pad):
    """y[n, o] = b[o] + Σ_c corr2d(xpad[n, c], weight[o, c]):  (N, C, H, W) -> (N, OC, OH, OW);
    saved for the backward: (x, weight)."""
    n, c = x.shape[:2]
    oc, _, kh, kw = weight.shape
    xpad = padded(x, pad)
    oh, ow = out_size(x.shape[2], kh, stride, pad), out_size(x.shape[3], kw, stride, pad)
    y = np.zeros((n, oc, oh, ow), dtype=x.dtype)
    for b in range(n):
        for o in range(oc):
            y[b, o] = bias[o] if bias is not None else 0.0
            for ch in range(c):
                y[b, o] += corr2d(xpad[b, ch], weight[o, ch], stride)
    return y, (x, weight)


def conv2d_bwd(g, saved, x_shape, w_shape, stride, pad, needs):
    """The three gradients of conv2d from g = dL/dy (N, OC, OH, OW). Every output y[n, o, r, s]
    was a sum of x-pixel × weight products, so each product hands its share back:

        dxpad[n, c, r·stride + i, s·stride + j] += g[n, o, r, s] · weight[o, c, i, j]
        dw[o, c, i, j]      += g[n, o, r, s] · xpad[n, c, r·stride + i, s·stride + j]
        db[o]               += g[n, o, r, s]

    and dx is dxpad without its border. ``needs``: which of (dx, dw, db) to return."""
    x, weight = saved
    n, c, h, w = x_shape
    oc, _, kh, kw = w_shape
    xpad = padded(x, pad)
    dxpad = np.zeros_like(xpad)
    dw = np.zeros_like(weight)
    db = np.zeros(oc, dtype=g.dtype)
    for b in range(n):
        for o in range(oc):
            for r in range(g.shape[2]):
                for s in range(g.shape[3]):
                    gv = g[b, o, r, s]
                    db[o] += gv
                    for ch in range(c):
                        for i in range(kh):
                            for j in range(kw):
                                y, xx = r * stride + i, s * stride + j
                                dxpad[b, ch, y, xx] += gv * weight[o, ch, i, j]
                                dw[o, ch, i, j] += gv * xpad[b, ch, y, xx]
    dx = dxpad[:, :, pad:pad + h, pad:pad + w].copy()
    return tuple(d if need else None for d, need in zip((dx, dw, db), needs))


# ---- linear ---------------------------------------------------------------------------------
def linear_bwd(g, x, weight, needs):
    """dx[b, i] = Σ_o g[b, o]·weight[o, i],  dw[o, i] = Σ_b g[b, o]·x[b, i],
    db[o] = Σ_b g[b, o]; each None unless ``needs`` asks for it. (The forward is ``gemm``.)"""
    batch, n_in = x.shape
    n_out = weight.shape[0]
    dx, dw, db = np.zeros_like(x), np.zeros_like(weight), np.zeros(n_out, dtype=g.dtype)
    for b in range(batch):
        for o in range(n_out):
            db[o] += g[b, o]
            for i in range(n_in):
                dx[b, i] += g[b, o] * weight[o, i]
                dw[o, i] += g[b, o] * x[b, i]
    return tuple(d if need else None for d, need in zip((dx, dw, db), needs))


# ---- max-pool -----------------------------------------------------------------------------
def maxpool2d_fwd(x, kh, kw, stride, pad):
    """y[n, c, r, s] = max over the window at (r, s), and arg = i·KW + j, where in the window
    that max was: the first position in row-major order wins a tie, the last NaN wins over
    everything (y is then NaN, as PyTorch); padding is −∞ and never wins."""
    n, c, h, w = x.shape
    oh, ow = out_size(h, kh, stride, pad), out_size(w, kw, stride, pad)
    y = np.zeros((n, c, oh, ow), dtype=x.dtype)
    arg = np.zeros((n, c, oh, ow), dtype=np.int32)
    for b in range(n):
        for ch in range(c):
            for r in range(oh):
                for s in range(ow):
                    best, at = -math.inf, 0
                    for i in range(kh):
                        for j in range(kw):
                            row, col = r * stride + i - pad, s * stride + j - pad
                            v = x[b, ch, row, col] if 0 <= row < h and 0 <= col < w \
                                else -math.inf
                            if v > best or math.isnan(v):
                                best, at = v, i * kw + j
                    y[b, ch, r, s], arg[b, ch, r, s] = best, at
    return y, arg


def maxpool2d_bwd(g, arg, x_shape, kh, kw, stride, pad):
    """dx[the max of window (r, s)] += g[n, c, r, s]; every other pixel gets nothing."""
    dx = np.zeros(x_shape, dtype=g.dtype)
    n, c, oh, ow = g.shape
    for b in range(n):
        for ch in range(c):
            for r in range(oh):
                for s in range(ow):
                    i, j = divmod(int(arg[b, ch, r, s]), kw)
                    row, col = r * stride + i - pad, s * stride + j - pad
                    if 0 <= row < x_shape[2] and 0 <= col < x_shape[3]:
                        dx[b, ch, row, col] += g[b, ch, r, s]
    return dx


# ---- average pool -----------------------------------------------------------------------------
def avgpool2d_fwd(x, kernel, stride, pad, ceil_mode=False, count_include_pad=True,
                  divisor=None):
    """y[n, c, r, s] = (sum of x over the window at (r, s)) / (how many cells it counts):
    every cell of the window that lies inside the padded image when ``count_include_pad``,
    else only those inside the image; ``divisor`` instead when given. kernel, stride and pad
    are (height, width) pairs."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    oh = pool_out_size(h, kh, sh, ph, ceil_mode)
    ow = pool_out_size(w, kw, sw, pw, ceil_mode)
    y = np.zeros((n, c, oh, ow), dtype=x.dtype)
    for b in range(n):
        for ch in range(c):
            for r in range(oh):
                for s in range(ow):
                    total, cells, cells_in_image = 0.0, 0, 0
                    for i in range(kh):
                        for j in range(kw):
                            row, col = r * sh + i - ph, s * sw + j - pw
                            if row < h + ph and col < w + pw:
                                cells += 1                  # inside the padded image
                            if 0 <= row < h and 0 <= col < w:
                                total += x[b, ch, row, col]
                                cells_in_image += 1
                    y[b, ch, r, s] = total / (divisor or (cells if count_include_pad
                                                          else cells_in_image))
    return y


# ---- sigmoid --------------------------------------------------------------------------------
def sigmoid_fwd(x):
    """y = 1 / (1 + e^(−x)), element by element (as e^x / (1 + e^x) for x < 0: no overflow)."""
    y = np.zeros_like(x)
    for i, v in np.ndenumerate(x):
        y[i] = 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))
    return y


def sigmoid_bwd(g, y):
    """dx = g · y · (1 − y)."""
    dx = np.zeros_like(g)
    for i, v in np.ndenumerate(y):
        dx[i] = g[i] * v * (1.0 - v)
    return dx


# ---- softmax + cross-entropy -----------------------------------------------------------------
def softmax_xent_fwd(logits, target):
    """loss[b] = −log softmax(z[b])[t[b]] = lse[b] − z[b, t[b]], with
    lse[b] = log Σ_k e^(z[b, k]) (the row max subtracted first, so that no e^z overflows)."""
    batch, classes = logits.shape
    loss, lse = np.zeros(batch, dtype=logits.dtype), np.zeros(batch, dtype=logits.dtype)
    for b in range(batch):
        m = max(logits[b, k] for k in range(classes))
        lse[b] = m + math.log(sum(math.exp(logits[b, k] - m) for k in range(classes)))
        loss[b] = lse[b] - logits[b, target[b]]
    return loss, lse


def softmax_xent_bwd(g, logits, lse, target):
    """d loss[b] / d z[b, k] = (softmax(z[b])_k − [k = t[b]]) · g[b]."""
    batch, classes = logits.shape
    dz = np.zeros_like(logits)
    for b in range(batch):
        for k in range(classes):
            p = math.exp(logits[b, k] - lse[b])
            dz[b, k] = (p - (1.0 if k == target[b] else 0.0)) * g[b]
    return dz


def cross_entropy_fwd(logits, target, reduction, stats=None, ignore_index=-100):
    """The per-sample losses of softmax_xent_fwd, summed, averaged over the counted rows
    ("mean") or kept ("none"), with the count: (out, lse, kept). A row whose target is
    ``ignore_index`` has loss 0 and is not counted. ``stats`` (4 float64s, or None) gets the
    counted rows' mean loss, their correct predictions (the first largest logit is the
    target), their number and 1 added."""
    batch, classes = logits.shape
    safe = np.array([0 if target[b] == ignore_index else target[b] for b in range(batch)],
                    dtype=np.int64)
    loss, lse = softmax_xent_fwd(logits, safe)
    total, kept = 0.0, 0
    for b in range(batch):
        if target[b] == ignore_index:
            loss[b] = 0.0
        else:
            total += loss[b]
            kept += 1
    if stats is not None and kept:
        correct = 0
        for b in range(batch):
            best = 0
            for k in range(classes):
                if logits[b, k] > logits[b, best]:
                    best = k
            correct += best == target[b]
        stats += (total / kept, correct, kept, 1)
    count = np.array(kept, dtype=logits.dtype)
    if reduction == "none":
        return loss, lse, count
    out = (total / kept if kept else math.nan) if reduction == "mean" else total
    return np.array(out, dtype=logits.dtype), lse, count


def cross_entropy_bwd(g, logits, lse, target, reduction, kept=None, ignore_index=-100):
    """d loss / d z[b, k] = (softmax(z[b])_k − [k = t[b]]) · g_b, where g_b is g[b] for
    "none", and the loss's gradient g (divided by ``kept``, the rows counted, for "mean")
    otherwise; 0 for a row whose target is ``ignore_index``."""
    batch = logits.shape[0]
    count = batch if kept is None else kept
    per_sample = np.zeros(batch, dtype=logits.dtype)
    safe = np.zeros(batch, dtype=np.int64)
    for b in range(batch):
        if target[b] == ignore_index:
            continue
        safe[b] = target[b]
        per_sample[b] = g[b] if reduction == "none" else g / count if reduction == "mean" \
            else g
    return softmax_xent_bwd(per_sample, logits, lse, safe)


# ---- batch normalisation ---------------------------------------------------------------------
def batchnorm_fwd(x, weight, bias, running_mean, running_var, training, momentum, eps):
    """Per channel c of x (N, C, L), over its M = N·L values: mean and biased var (training;
    the running statistics updated in place, with the unbiased var·M/(M − 1)) or the running
    statistics (evaluation), then x̂ = (x − mean)/√(var + eps) and y = γ·x̂ + β."""
    n, c, length = x.shape
    m = n * length
    y, xhat, invstd = np.empty_like(x), np.empty_like(x), np.empty(c, dtype=x.dtype)
    for ch in range(c):
        if training:
            total = 0.0
            for i in range(n):
                for j in range(length):
                    total += x[i, ch, j]
            mean = total / m
            squares = 0.0
            for i in range(n):
                for j in range(length):
                    squares += (x[i, ch, j] - mean) ** 2
            var = squares / m
            if running_mean is not None:
                running_mean[ch] = (1 - momentum) * running_mean[ch] + momentum * mean
                running_var[ch] = (1 - momentum) * running_var[ch] + momentum * var * m / (m - 1)
        else:
            mean, var = running_mean[ch], running_var[ch]
        r = 1 / math.sqrt(var + eps)
        invstd[ch] = r
        gamma = weight[ch] if weight is not None else 1.0
        beta = bias[ch] if bias is not None else 0.0
        for i in range(n):
            for j in range(length):
                xhat[i, ch, j] = (x[i, ch, j] - mean) * r
                y[i, ch, j] = gamma * xhat[i, ch, j] + beta
    return y, (xhat, invstd)


def batchnorm_bwd(g, saved, weight, training, needs):
    """Per channel: Σg and Σg·x̂ (= dβ and dγ), then for every element
    dx = γ/σ·(g − Σg/M − x̂·Σg·x̂/M) in training, γ/σ·g in evaluation."""
    xhat, invstd = saved
    n, c, length = g.shape
    m = n * length
    dx = np.empty_like(g) if needs[0] else None
    dweight = np.empty(c, dtype=g.dtype) if needs[1] else None
    dbias = np.empty(c, dtype=g.dtype) if needs[2] else None
    for ch in range(c):
        sum_g = sum_gx = 0.0
        for i in range(n):
            for j in range(length):
                sum_g += g[i, ch, j]
                sum_gx += g[i, ch, j] * xhat[i, ch, j]
        if dweight is not None:
            dweight[ch] = sum_gx
        if dbias is not None:
            dbias[ch] = sum_g
        if dx is not None:
            scale = (weight[ch] if weight is not None else 1.0) * invstd[ch]
            for i in range(n):
                for j in range(length):
                    if training:
                        dx[i, ch, j] = scale * (g[i, ch, j] - sum_g / m
                                                - xhat[i, ch, j] * sum_gx / m)
                    else:
                        dx[i, ch, j] = scale * g[i, ch, j]
    return dx, dweight, dbias


# ---- Adam ------------------------------------------------------------------------------------
def adam_step(param, grad, m, v, step, lr, beta1, beta2, eps, weight_decay):
    """Algorithm 1 of Kingma & Ba (2015), PyTorch's form, element by element and in place:

        g = grad + weight_decay·param
        m = β1·m + (1 − β1)·g                    v = β2·v + (1 − β2)·g²
        m̂ = m / (1 − β1ᵗ)                        v̂ = v / (1 − β2ᵗ)
        param = param − lr · m̂ / (√v̂ + eps)
    """
    for i in np.ndindex(param.shape):
        g = grad[i] + weight_decay * param[i]
        m[i] = beta1 * m[i] + (1 - beta1) * g
        v[i] = beta2 * v[i] + (1 - beta2) * g * g
        m_hat = m[i] / (1 - beta1 ** step)
        v_hat = v[i] / (1 - beta2 ** step)
        param[i] = param[i] - lr * m_hat / (math.sqrt(v_hat) + eps)


def adam_multi(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, eps,
               weight_decay):
    """Adam on each tensor in turn, each step count (a 0-d float64 array) advanced first."""
    for p, g, m, v, t in zip(params, grads, exp_avgs, exp_avg_sqs, steps):
        t += 1
        adam_step(p, g, m, v, int(t), lr, beta1, beta2, eps, weight_decay)


# ---- Philox4x32-10: the GPU's dropout masks ---------------------------------------------------
def philox4x32_10(counter, key):
    """Salmon et al.'s counter-based generator, one counter at a time: four 32-bit words
    ``counter`` and two ``key`` in, four uniformly random 32-bit words out. Ten rounds of:
    multiply two words by fixed odd constants, keep the high and low halves of the 64-bit
    products, xor the high halves into the other words and the key; the key steps by two
    Weyl constants between rounds."""
    mask = 0xFFFFFFFF
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for round_ in range(10):
        if round_ > 0:
            k0, k1 = (k0 + 0x9E3779B9) & mask, (k1 + 0xBB67AE85) & mask
        p0, p1 = 0xD2511F53 * c0, 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & mask, (p0 >> 32) ^ c3 ^ k1, p0 & mask
    return c0, c1, c2, c3


def dropout_mask_philox(size, p, seed, offset, dtype=np.float64):
    """The mask kernels/dropout.cu draws: element 4q + e is kept when word e of
    Philox(counter = (q, offset) as two 64-bit halves, key = seed) is at least
    floor(p·2³²); kept elements hold 1/(1 − p), the others 0."""
    mask32 = 0xFFFFFFFF
    threshold = min(int(p * 2.0**32), 2**32)
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    out = np.zeros(size, dtype=dtype)
    for q in range(-(-size // 4)):
        words = philox4x32_10((q & mask32, q >> 32, offset & mask32, offset >> 32),
                              (seed & mask32, seed >> 32))
        for e in range(4):
            if 4 * q + e < size and words[e] >= threshold:
                out[4 * q + e] = scale
    return out
