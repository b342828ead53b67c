"""The CNN layers as differentiable ops. The math of each (shapes, what is saved, how the
gradients combine) lives here once; the arithmetic is done by the backend of the inputs'
device (``minigrad.backend.cpu`` or ``.cuda``), whose functions have the same names."""
from ..autograd import Function
from ..backend import for_array
from ..device import array_module


class Conv2d(Function):
    """y[n] = W_mat @ im2col(x)[n] + b, with W_mat the weight seen as (OC, C·KH·KW).

    Backward, with g = dL/dy seen as (N, OC, P):
        dW = Σ_n g[n] @ cols[n]ᵀ      db = Σ over n and P of g
        dx = col2im(W_matᵀ @ g[n])
    """
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        be = for_array(x)
        oc, c, kh, kw = weight.shape
        n, _, h, w = x.shape
        cols = be.im2col(x, kh, kw, stride, padding)
        w_mat = weight.reshape(oc, c * kh * kw)
        y = be.gemm(w_mat, cols, bias=bias, bias_axis=0)
        ctx.save_for_backward(cols, w_mat)
        ctx.meta = x.shape, weight.shape, stride, padding
        oh, ow = be.out_size(h, kh, stride, padding), be.out_size(w, kw, stride, padding)
        return y.reshape(n, oc, oh, ow)

    @staticmethod
    def backward(ctx, g):
        cols, w_mat = ctx.saved_tensors
        x_shape, w_shape, stride, padding = ctx.meta
        be = for_array(g)
        g = g.reshape(g.shape[0], g.shape[1], -1)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        dx = dw = db = None
        if need_x:
            dcols = be.gemm(w_mat, g, trans_a=True)
            dx = be.col2im(dcols, x_shape, w_shape[2], w_shape[3], stride, padding)
        if need_w:
            dw = be.gemm_batch_sum(g, cols, trans_b=True).reshape(w_shape)
        if need_b:
            db = be.bias_grad(g)
        return dx, dw, db


class MaxPool2d(Function):
    """y[n, c, oh, ow] = max of x over the window at (oh, ow); the gradient goes back to the
    element that was the max."""
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding):
        be = for_array(x)
        kh, kw = kernel_size
        y, arg = be.maxpool2d_fwd(x, kh, kw, stride, padding)
        ctx.save_for_backward(arg)
        ctx.meta = x.shape, kernel_size, stride, padding
        return y

    @staticmethod
    def backward(ctx, g):
        (arg,) = ctx.saved_tensors
        x_shape, (kh, kw), stride, padding = ctx.meta
        return for_array(g).maxpool2d_bwd(g, arg, x_shape, kh, kw, stride, padding)


class Sigmoid(Function):
    """y = 1 / (1 + e⁻ˣ);  dy/dx = y(1 − y)."""
    @staticmethod
    def forward(ctx, x):
        y = for_array(x).sigmoid_fwd(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return for_array(g).sigmoid_bwd(g, y)


class ReLU(Function):
    """y = max(x, 0);  dy/dx = [x > 0]."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return for_array(x).relu_fwd(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return for_array(g).relu_bwd(g, x)


class Linear(Function):
    """y = x @ Wᵀ + b for x (B, in), W (out, in);  dx = g @ W,  dW = gᵀ @ x,  db = Σ_B g."""
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return for_array(x).gemm(x, weight, trans_b=True, bias=bias, bias_axis=1)

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        be = for_array(g)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        dx = be.gemm(g, weight) if need_x else None
        dw = be.gemm(g, x, trans_a=True) if need_w else None
        db = be.bias_grad(g.reshape(g.shape[0], g.shape[1], 1)) if need_b else None
        return dx, dw, db


class CrossEntropy(Function):
    """loss[b] = logsumexp(z[b]) − z[b, t[b]], then reduced by mean, sum or not at all;
    d loss[b] / dz[b] = softmax(z[b]) − onehot(t[b])."""
    @staticmethod
    def forward(ctx, logits, target, reduction):
        be = for_array(logits)
        losses, lse = be.softmax_xent_fwd(logits, target)
        ctx.save_for_backward(logits, lse, target)
        ctx.reduction = reduction
        if reduction == "mean":
            return losses.mean()
        if reduction == "sum":
            return losses.sum()
        return losses

    @staticmethod
    def backward(ctx, g):
        logits, lse, target = ctx.saved_tensors
        if ctx.reduction == "none":
            per_sample = g
        else:   # every sample gets the same share of the scalar's gradient
            share = g / len(target) if ctx.reduction == "mean" else g
            per_sample = array_module(g).broadcast_to(share, target.shape)
        return for_array(g).softmax_xent_bwd(per_sample, logits, lse, target), None


class LogSoftmax(Function):
    """y = z − logsumexp(z) along ``dim``;  dz = g − softmax(z)·Σ g."""
    @staticmethod
    def forward(ctx, z, dim):
        m = z.max(axis=dim, keepdims=True)
        shifted = z - m
        xp = array_module(z)
        y = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g - array_module(y).exp(y) * g.sum(axis=ctx.dim, keepdims=True)
