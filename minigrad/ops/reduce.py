"""Reductions: sum, mean, max over all elements or over some dims."""
from ..arguments import normalize_dims
from ..autograd import Function
from ..device import get_array_module


def _expand_back(g, in_shape, dims, keepdim):
    """Broadcast a reduced gradient back over the reduced dims."""
    xp = get_array_module(g)
    if not keepdim:
        g = xp.expand_dims(g, dims)
    return xp.broadcast_to(g, in_shape)


class Sum(Function):
    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        dims = normalize_dims(dim, a.ndim)
        ctx.meta = a.shape, dims, keepdim
        return a.sum(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        shape, dims, keepdim = ctx.meta
        return _expand_back(g, shape, dims, keepdim)


class Mean(Function):
    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        dims = normalize_dims(dim, a.ndim)
        count = 1
        for d in dims:
            count *= a.shape[d]
        ctx.meta = a.shape, dims, keepdim, count
        return a.mean(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        shape, dims, keepdim, count = ctx.meta
        return _expand_back(g / count, shape, dims, keepdim)


class Max(Function):
    """Max over ``dim`` (or all). The gradient goes to the maxima; ties share it equally when
    reducing everything (PyTorch's ``max()``), and go to the returned index with a dim
    (PyTorch's ``max(dim)``, whose index is ``indices``). A NaN is the max wherever it is
    (the max is NaN), so the gradient goes to the NaN elements, as in PyTorch."""
    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        if a.size == 0 and (dim is None or a.shape[normalize_dims(dim, a.ndim)[0]] == 0):
            raise IndexError("max(): Expected reduction dim to have non-zero size (an empty "
                             "tensor has no max)")
        xp = get_array_module(a)
        if dim is None:
            out = a.max()
            # the max is NaN exactly when some element is: then the NaNs are "the max"
            ctx.save_for_backward((a == out) | (xp.isnan(a) & xp.isnan(out)))
            ctx.meta = None
            return out
        (d,) = normalize_dims(dim, a.ndim)
        idx = xp.expand_dims(a.argmax(axis=d), d)
        ctx.save_for_backward(idx)
        ctx.meta = a.shape, d, keepdim
        out = xp.take_along_axis(a, idx, axis=d)
        return out if keepdim else out.squeeze(d)

    @staticmethod
    def backward(ctx, g):
        (saved,) = ctx.saved_tensors
        xp = get_array_module(g)
        if ctx.meta is None:
            mask = saved
            return mask * (g / mask.sum())
        shape, d, keepdim = ctx.meta
        if not keepdim:
            g = xp.expand_dims(g, d)
        positions = xp.arange(shape[d]).reshape((-1,) + (1,) * (len(shape) - d - 1))
        return (positions == saved) * g
