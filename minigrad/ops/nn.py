"""The CNN layers as differentiable ops. The math of each (shapes, what is saved, how the
gradients combine) lives here once, for both devices.

Which arithmetic goes where — the one rule of minigrad's dispatch:

- **Backend functions** do the work of conv2d, max-pool, sigmoid, linear, the fused
  softmax-cross-entropy and Adam: ``backend_of(x).conv2d_fwd(...)`` runs the NumPy twin in
  ``backend/cpu.py`` or launches a hand-written kernel through ``backend/cuda.py``
  (``fused_backend_of`` for the functions that fuse a step's work: cross-entropy with its
  reduction, the linear backward, Adam over many tensors).
- **Generic array code** does everything else, the same lines on both devices:
  ``xp = get_array_module(x)`` then ``xp.maximum(x, 0)``. Here that is ReLU and LogSoftmax;
  elsewhere every op in ``elementwise``, ``reduce`` and
  ``shape``. On the GPU those run CuPy's own kernels, not ours.
"""
from ..autograd import Function
from ..backend import backend_of, fused_backend_of
from ..device import get_array_module


class Conv2d(Function):
    """y[n] = W_mat @ im2col(x)[n] + b, with W_mat the weight seen as (OC, C·KH·KW).

    Backward, with g = dL/dy seen as (N, OC, P):
        dW = Σ_n g[n] @ cols[n]ᵀ      db = Σ over n and P of g
        dx = col2im(W_matᵀ @ g[n])

    Each backend does this as a pair, ``conv2d_fwd`` / ``conv2d_bwd``, because each lays out
    the column matrix its own way: the CPU batch-last (see backend/cpu.py); the GPU reads the
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
        return fused_backend_of(g).linear_bwd(g, x, weight, ctx.needs_input_grad[:3])


class CrossEntropy(Function):
    """loss[b] = logsumexp(z[b]) − z[b, t[b]], then reduced by mean, sum or not at all;
    d loss[b] / dz[b] = softmax(z[b]) − onehot(t[b]).

    One backend call each way (one kernel on the GPU): the reduction happens inside, and so
    does, when ``stats`` is given, adding the batch's mean loss, correct predictions and size
    to those running totals (see ``nn.functional.cross_entropy``)."""
    fresh_grads = True

    @staticmethod
    def forward(ctx, logits, target, reduction, stats=None):
        out, lse = fused_backend_of(logits).cross_entropy_fwd(logits, target, reduction, stats)
        ctx.save_for_backward(logits, lse, target)
        ctx.reduction = reduction
        return out

    @staticmethod
    def backward(ctx, g):
        logits, lse, target = ctx.saved_tensors
        return fused_backend_of(g).cross_entropy_bwd(g, logits, lse, target, ctx.reduction), None


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
