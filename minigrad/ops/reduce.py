"""Reductions: sum, mean, max over all elements or over some dims."""
from ..autograd import Function
from ..device import array_module as xp


def _normalize_dims(dim, ndim):
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"dim {d} is out of range for a tensor of {ndim} dims")
        out.append(d % max(ndim, 1))
    return tuple(sorted(set(out))) if ndim else ()


def _expand_back(g, in_shape, dims, keepdim):
    """Broadcast a reduced gradient back over the reduced dims."""
    if not keepdim:
        g = xp(g).expand_dims(g, dims)
    return xp(g).broadcast_to(g, in_shape)


class Sum(Function):
    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        dims = _normalize_dims(dim, a.ndim)
        ctx.meta = a.shape, dims, keepdim
        return a.sum(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        shape, dims, keepdim = ctx.meta
        return _expand_back(g, shape, dims, keepdim)


class Mean(Function):
    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        dims = _normalize_dims(dim, a.ndim)
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
    (PyTorch's ``max(dim)``, whose index is ``indices``)."""
    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        if a.size == 0:
            raise ValueError("max() of an empty tensor")
        m = xp(a)
        if dim is None:
            out = a.max()
            ctx.save_for_backward(a == out)
            ctx.meta = None
            return out
        (d,) = _normalize_dims(dim, a.ndim)
        idx = m.expand_dims(a.argmax(axis=d), d)
        ctx.save_for_backward(idx)
        ctx.meta = a.shape, d, keepdim
        out = m.take_along_axis(a, idx, axis=d)
        return out if keepdim else out.squeeze(d)

    @staticmethod
    def backward(ctx, g):
        (saved,) = ctx.saved_tensors
        m = xp(g)
        if ctx.meta is None:
            mask = saved
            return mask * (g / mask.sum())
        shape, d, keepdim = ctx.meta
        if not keepdim:
            g = m.expand_dims(g, d)
        positions = m.arange(shape[d]).reshape((-1,) + (1,) * (len(shape) - d - 1))
        return (positions == saved) * g
