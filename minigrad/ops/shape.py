"""Ops that move values around without arithmetic (reshape, permute, indexing), the matrix
product, and dtype and device changes."""
from ..autograd import Function
from ..device import device_of, get_array_module, move
from .elementwise import unbroadcast


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape)


class Permute(Function):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return g.transpose(inverse)


def _is_advanced(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(not isinstance(p, (int, slice, type(None), type(Ellipsis))) for p in parts)


class Index(Function):
    """y = a[index]. The backward scatters the gradient into zeros shaped like ``a``; with
    integer-array indices a position picked twice receives the sum of both gradients."""
    @staticmethod
    def forward(ctx, a, index):
        ctx.meta = a.shape, index
        parts = index if isinstance(index, tuple) else (index,)
        if not _is_advanced(index) and Ellipsis not in parts:
            return a[parts + (Ellipsis,)]    # a view even for one element: x[0] is 0-d, not a copy
        return a[index]

    @staticmethod
    def backward(ctx, g):
        shape, index = ctx.meta
        xp = get_array_module(g)
        out = xp.zeros(shape, dtype=g.dtype)
        if _is_advanced(index):
            if xp.__name__ == "numpy":
                xp.add.at(out, index, g)
            else:
                import cupyx
                cupyx.scatter_add(out, index, g)
        else:
            out[index] = g
        return out


class IndexPut(Function):
    """y = a with y[index] = v (v broadcast to the indexed shape): the out-of-place twin of
    ``a[index] = v``. dy/da is g with zeros at ``index``; dy/dv is g[index], summed back to
    v's shape."""
    @staticmethod
    def forward(ctx, a, v, index):
        ctx.meta = index, getattr(v, "shape", ())
        out = a.copy()
        out[index] = v
        return out

    @staticmethod
    def backward(ctx, g):
        index, v_shape = ctx.meta
        ga = gv = None
        if ctx.needs_input_grad[0]:
            ga = g.copy()
            ga[index] = 0
        if ctx.needs_input_grad[1]:
            picked = g[index]
            if picked.ndim < len(v_shape):
                picked = picked.reshape((1,) * (len(v_shape) - picked.ndim) + picked.shape)
            gv = unbroadcast(picked, v_shape)
        return ga, gv


class Overwrite(Function):
    """y = src broadcast to a's shape and cast to a's dtype: the out-of-place twin of
    ``a.copy_(src)`` and ``a.fill_(v)``. y does not depend on a (its gradient is 0)."""
    @staticmethod
    def forward(ctx, a, src):
        xp = get_array_module(a)
        ctx.src_shape = getattr(src, "shape", ())
        return xp.array(xp.broadcast_to(xp.asarray(src), a.shape), dtype=a.dtype)

    @staticmethod
    def backward(ctx, g):
        ga = get_array_module(g).zeros_like(g) if ctx.needs_input_grad[0] else None
        gs = unbroadcast(g, ctx.src_shape) if ctx.needs_input_grad[1] else None
        return ga, gs


class Clone(Function):
    """y = a, in memory of its own (writing to one never shows in the other)."""
    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        return g


class MatMul(Function):
    """C = A @ B over the last two dims, leading dims broadcast (both at least 2-D);
    dA = dC @ Bᵀ and dB = Aᵀ @ dC, summed over any broadcast batch dims."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = unbroadcast(g @ b.swapaxes(-1, -2), a.shape) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(a.swapaxes(-1, -2) @ g, b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype):
        ctx.in_dtype = a.dtype
        return a.astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.in_dtype, copy=False)


class ToDevice(Function):
    @staticmethod
    def forward(ctx, a, device):
        ctx.in_device = device_of(a)
        return move(a, device)

    @staticmethod
    def backward(ctx, g):
        return move(g, ctx.in_device)
