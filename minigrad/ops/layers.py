"""The CNN layers as differentiable ops. The math of each (shapes, what is saved, how the
gradients combine) lives here once, for both devices.

Which arithmetic goes where — the one rule of minigrad's dispatch:

- **Backend functions** do the work of conv2d, max-pool, sigmoid, linear, the fused
  softmax-cross-entropy and Adam: ``backend_of(x).conv2d_fwd(...)`` runs the NumPy twin in
  ``backend/textbook.py`` (or its fast form ``backend/cpu/``) or launches a hand-written
  kernel through ``backend/cuda/``.
- **Generic array code** does everything else, the same lines on both devices:
  ``xp = get_array_module(x)`` then ``xp.maximum(x, 0)``. Here that is ReLU and LogSoftmax;
  elsewhere every op in ``elementwise``, ``reduce`` and
  ``shape``. On the GPU those run CuPy's own kernels, not ours.
"""
from ..autograd import Function
from ..backend import backend_of
from ..device import get_array_module


class Conv2d(Function):
    """y[n] = W_mat @ im2col(x)[n] + b, with W_mat the weight seen as (OC, C·KH·KW).

    Backward, with g = dL/dy seen as (N, OC, P):
        dW = Σ_n g[n] @ cols[n]ᵀ      db = Σ over n and P of g
        dx = col2im(W_matᵀ @ g[n])

    Each backend does this as a pair, ``conv2d_fwd`` / ``conv2d_bwd``, because each lays out
    the column matrix its own way: the CPU batch-last (see backend/cpu/conv.py); the GPU reads the
    columns straight from x inside its GEMM, never writing them. What crosses this interface
    is NCHW; what the forward saves only the backend reads."""
    fresh_grads = True

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        y, saved = backend_of(x).conv2d_fwd(x, weight, bias, stride, padding)
        ctx.save_for_backward(*saved)
        ctx.meta = x.shape, weight.shape, stride, padding
        return y

    @staticmethod
    def backward(ctx, g):
        x_shape, w_shape, stride, padding = ctx.meta
        return backend_of(g).conv2d_bwd(g, ctx.saved_tensors, x_shape, w_shape, stride,
                                        padding, ctx.needs_input_grad[:3])


class MaxPool2d(Function):
    """y[n, c, oh, ow] = max of x over the window at (oh, ow); the gradient goes back to the
    element that was the max (to the first of equal maxima, to the last NaN if any)."""
    fresh_grads = True

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding):
        kh, kw = kernel_size
        y, arg = backend_of(x).maxpool2d_fwd(x, kh, kw, stride, padding)
        ctx.save_for_backward(arg)
        ctx.meta = x.shape, kernel_size, stride, padding
        return y

    @staticmethod
    def backward(ctx, g):
        (arg,) = ctx.saved_tensors
        x_shape, (kh, kw), stride, padding = ctx.meta
        return backend_of(g).maxpool2d_bwd(g, arg, x_shape, kh, kw, stride, padding)


class Sigmoid(Function):
    """y = 1 / (1 + e⁻ˣ);  dy/dx = y(1 − y)."""
    fresh_grads = True

    @staticmethod
    def forward(ctx, x):
        y = backend_of(x).sigmoid_fwd(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return backend_of(g).sigmoid_bwd(g, y)


class ReLU(Function):
    """y = max(x, 0);  dy/dx = 0 where x ≤ 0, else 1 — so 0 at 0, and the gradient passes
    at NaN (NaN ≤ 0 is false), as PyTorch. Generic array code."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).maximum(x, 0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return get_array_module(g).where(x <= 0, g.dtype.type(0), g)


class Linear(Function):
    """y = x @ Wᵀ + b for x (B, in), W (out, in);  dx = g @ W,  dW = gᵀ @ x,  db = Σ_B g."""
    fresh_grads = True

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return backend_of(x).gemm(x, weight, trans_b=True, bias=bias, bias_axis=1)

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        return backend_of(g).linear_bwd(g, x, weight, ctx.needs_input_grad[:3])


class CrossEntropy(Function):
    """loss[b] = logsumexp(z[b]) − z[b, t[b]], then reduced by mean, sum or not at all;
    d loss[b] / dz[b] = softmax(z[b]) − onehot(t[b]); a row whose target is ``ignore_index``
    has loss 0, gradient 0 and is not counted in the mean (``kept``: the rows counted).

    One backend call each way (one kernel on the GPU): the reduction happens inside, and so
    does, when ``stats`` is given, adding the batch's mean loss, correct predictions and size
    to those running totals (see ``nn.functional.cross_entropy``)."""
    fresh_grads = True

    @staticmethod
    def forward(ctx, logits, target, reduction, stats=None, ignore_index=-100):
        out, lse, kept = backend_of(logits).cross_entropy_fwd(logits, target, reduction, stats,
                                                              ignore_index)
        ctx.save_for_backward(logits, lse, target, kept)
        ctx.reduction, ctx.ignore_index = reduction, ignore_index
        return out

    @staticmethod
    def backward(ctx, g):
        logits, lse, target, kept = ctx.saved_tensors
        return backend_of(g).cross_entropy_bwd(g, logits, lse, target, ctx.reduction, kept,
                                               ctx.ignore_index), None


class LogSoftmax(Function):
    """y = z − logsumexp(z) along ``dim``;  dz = g − softmax(z)·Σ g."""
    @staticmethod
    def forward(ctx, z, dim):
        m = z.max(axis=dim, keepdims=True)
        shifted = z - m
        xp = get_array_module(z)
        y = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g - get_array_module(y).exp(y) * g.sum(axis=ctx.dim, keepdims=True)


# ==== average pooling, dropout, negative log-likelihood =====================================
# Backend functions too (a NumPy twin in backend/textbook.py, a kernel in kernels/): avgpool.cu,
# dropout.cu (the mask), nll.cu.
from .elementwise import _quiet  # noqa: E402  (x / 0 without NumPy's warning)


class AvgPool2d(Function):
    """y[n, c, oh, ow] = (Σ of x over the window at (oh, ow)) / d[oh, ow], the divisor d
    counting the window's cells (with or without padding: ``count_include_pad``) unless
    ``divisor`` overrides it. Linear in x, so the backward spreads g / d over each window."""
    @staticmethod
    def forward(ctx, x, kernel, stride, padding, ceil_mode, count_include_pad, divisor):
        ctx.meta = (x.shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor)
        return backend_of(x).avgpool2d_fwd(x, kernel, stride, padding, ceil_mode,
                                           count_include_pad, divisor)

    @staticmethod
    def backward(ctx, g):
        return backend_of(g).avgpool2d_bwd(g, *ctx.meta)


def dropout_mask(x, p):
    """The mask dropout multiplies ``x`` by, m = keep / (1 − p) with keep ~ Bernoulli(1 − p)
    per element, drawn by the backend of x's device: minigrad's generator on the CPU, a
    counter-based one on the GPU. (``dropout(x, inplace=True)`` multiplies x by it in place.)"""
    return backend_of(x).dropout_mask(x.shape, p, x.dtype)


class Dropout(Function):
    """y = x · m, m = keep / (1 − p) with keep ~ Bernoulli(1 − p) per element (the mean of y
    is x's); dy/dx = m. The mask is ``dropout_mask``'s."""
    @staticmethod
    def forward(ctx, x, p):
        mask = dropout_mask(x, p)
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return g * mask


class NLLLoss(Function):
    """loss[b] = −w[b]·logp[b, t[b]] with w[b] = weight[t[b]] (1 without weights; 0 for a
    target equal to ignore_index), then reduced: the mean is Σ loss / Σ w (a weighted mean,
    as PyTorch), or the sum, or none.  d loss[b] / d logp[b, k] = −w[b] at k = t[b], else 0."""
    @staticmethod
    def forward(ctx, logp, target, weight, ignore_index, reduction):
        losses, w = backend_of(logp).nll_fwd(logp, target, weight, ignore_index)
        ctx.save_for_backward(target, weight)
        ctx.meta = ignore_index, reduction, logp.shape[1]
        if reduction == "mean":
            ctx.total_weight = w.sum()
            with _quiet(losses):            # every target ignored: 0 / 0 = NaN, as PyTorch
                return losses.sum() / ctx.total_weight
        if reduction == "sum":
            return losses.sum()
        return losses

    @staticmethod
    def backward(ctx, g):
        target, weight = ctx.saved_tensors
        ignore_index, reduction, classes = ctx.meta
        if reduction == "none":
            per_sample = g
        else:   # every sample gets the same share of the scalar's gradient
            with _quiet(g):
                share = g / ctx.total_weight if reduction == "mean" else g
            per_sample = get_array_module(g).broadcast_to(share, target.shape)
        dlogp = backend_of(g).nll_bwd(per_sample, target, weight, ignore_index, classes)
        return dlogp, None, None


# ==== batch normalisation =====================================================================
# A backend function (backend/textbook.py's batchnorm_fwd / batchnorm_bwd) and a kernel
# (kernels/batchnorm.cu, one block per channel).
class BatchNorm(Function):
    """Per channel c, over the batch and every position (the axes the mean runs over):

        x̂ = (x − mean) / σ,   σ = √(var + eps),   y = γ·x̂ + β

    Training: mean and var (biased) are the batch's, and the running statistics given as
    arrays are updated in place (the unbiased var, ``momentum`` the weight of the batch);
    evaluation: the running statistics are used as they are. The forward saves x̂ and 1/σ;
    the backward, with g = dL/dy and means over the same axes:

        dβ = Σ g       dγ = Σ g·x̂
        dx = (1/σ)·(g·γ − mean(g·γ) − x̂·mean(g·γ·x̂))     training
        dx = (1/σ)·g·γ                                    evaluation

    Every backend sees x as (N, C, L): (N, C) is L = 1, (N, C, H, W) is L = H·W."""
    fresh_grads = True

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        length = 1
        for size in x.shape[2:]:
            length *= size
        y, saved = backend_of(x).batchnorm_fwd(
            x.reshape(x.shape[0], x.shape[1], length), weight, bias, running_mean,
            running_var, training, momentum, eps)
        ctx.save_for_backward(*saved, weight)
        ctx.meta = x.shape, training
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        xhat, invstd, weight = ctx.saved_tensors
        shape, training = ctx.meta
        dx, dweight, dbias = backend_of(g).batchnorm_bwd(
            g.reshape(xhat.shape), (xhat, invstd), weight, training, ctx.needs_input_grad[:3])
        return (dx.reshape(shape) if dx is not None else None), dweight, dbias
