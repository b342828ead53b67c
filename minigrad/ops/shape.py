"""Ops that move values around without arithmetic (reshape, permute, indexing), the matrix
product, and dtype and device changes."""
import numpy as np

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


def index_steps(index):
    """``index`` as indices that NumPy applies one after the other, with PyTorch's meaning.

    PyTorch applies integers first (each selects along its dim), then array indices. NumPy
    counts an integer next to an array as one more array, which places the result's dims
    differently: x of shape (3, 4, 5) gives x[0, :, [1, 2]] of shape (4, 2) in PyTorch and
    (2, 4) in NumPy. So when integers and arrays mix, the integers go first as a basic index
    (a view), and the rest after."""
    parts = index if isinstance(index, tuple) else (index,)
    is_int = [isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_))
              for p in parts]
    if not _is_advanced(index):
        # a view even for one element: x[0] of a vector is 0-d, not a copy
        return (parts if Ellipsis in parts else parts + (Ellipsis,)),
    if not any(is_int):
        return (index,)
    select = tuple(p if i or p is Ellipsis else slice(None)
                   for p, i in zip(parts, is_int) if p is not None)
    return select, tuple(p for p, i in zip(parts, is_int) if not i)


def read(a, steps):
    for step in steps:
        a = a[step]
    return a


def write(a, steps, value):
    """a[index] = value, for the ``steps`` of ``index_steps``."""
    read(a, steps[:-1])[steps[-1]] = value


class Index(Function):
    """y = a[index] (see ``index_steps``). The backward scatters the gradient into zeros
    shaped like ``a``; with integer-array indices a position picked twice receives the sum
    of both gradients."""
    @staticmethod
    def forward(ctx, a, index):
        steps = index_steps(index)
        ctx.meta = a.shape, steps
        return read(a, steps)

    @staticmethod
    def backward(ctx, g):
        shape, steps = ctx.meta
        xp = get_array_module(g)
        out = xp.zeros(shape, dtype=g.dtype)
        target = read(out, steps[:-1])            # a view of out
        if _is_advanced(steps[-1]):
            if xp.__name__ == "numpy":
                xp.add.at(target, steps[-1], g)
            else:
                import cupyx
                cupyx.scatter_add(target, steps[-1], g)
        else:
            target[steps[-1]] = g
        return out


class IndexPut(Function):
    """y = a with y[index] = v (v broadcast to the indexed shape): the out-of-place twin of
    ``a[index] = v``. dy/da is g with zeros at ``index``; dy/dv is g[index], summed back to
    v's shape."""
    @staticmethod
    def forward(ctx, a, v, index):
        steps = index_steps(index)
        ctx.meta = steps, getattr(v, "shape", ())
        out = a.copy()
        write(out, steps, v)
        return out

    @staticmethod
    def backward(ctx, g):
        steps, v_shape = ctx.meta
        ga = gv = None
        if ctx.needs_input_grad[0]:
            ga = g.copy()
            write(ga, steps, 0)
        if ctx.needs_input_grad[1]:
            picked = read(g, steps)
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
