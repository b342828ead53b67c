"""Indexing along one dim by a tensor of indices: ``gather``, ``scatter`` (and
``scatter_add``), ``index_select``, and ``masked_fill``. Each backward sends the gradient
back to the positions the forward read from (summing where one position was read twice) or
wrote to."""
from ..autograd import Function
from ..device import get_array_module
from .elementwise import unbroadcast


def add_at(target, index, values):
    """target[index] += values, where a position named twice in ``index`` receives both
    (NumPy's ``add.at``; on the GPU ``cupyx.scatter_add``)."""
    xp = get_array_module(target)
    if xp.__name__ == "numpy":
        xp.add.at(target, index, values)
    else:
        import cupyx
        cupyx.scatter_add(target, index, values)


def along(index, dim):
    """The full index tuple that ``index`` (an array of positions along ``dim``) names:
    element i of the result is position (i₀, …, index[i], …, iₙ). gather reads there,
    scatter writes there."""
    xp = get_array_module(index)
    ndim = index.ndim
    grids = [xp.arange(n).reshape((1,) * d + (n,) + (1,) * (ndim - d - 1))  # broadcast
             for d, n in enumerate(index.shape)]            # (CuPy's indices has no sparse=)
    grids[dim] = index
    return tuple(grids)


def _leading(a, shape):
    """a[:shape[0], :shape[1], …]: PyTorch's gather and scatter use only the part of the
    other operand that the index's shape covers."""
    return a[tuple(slice(0, n) for n in shape)]


class Gather(Function):
    """y[i] = a[i₀, …, index[i], …, iₙ] (``index[i]`` in place of i's coordinate along
    ``dim``). dy/da: g added into zeros at the positions read."""
    @staticmethod
    def forward(ctx, a, index, dim):
        where = along(index, dim)
        ctx.meta = a.shape, where
        return a[where]

    @staticmethod
    def backward(ctx, g):
        shape, where = ctx.meta
        out = get_array_module(g).zeros(shape, dtype=g.dtype)
        add_at(out, where, g)
        return out, None


class Scatter(Function):
    """y = a, then y[i₀, …, index[i], …, iₙ] = src[i] for every i of ``index`` (``src`` an
    array or a number). dy/da is g with zeros where y was overwritten; dy/dsrc[i] is g at
    the position src[i] went to. (Two writes to one position: the last one wins here; PyTorch
    leaves that undefined.)"""
    @staticmethod
    def forward(ctx, a, index, src, dim):
        where = along(index, dim)
        ctx.meta = where, index.shape, getattr(src, "shape", None)
        out = a.copy()
        out[where] = _leading(src, index.shape) if hasattr(src, "shape") else src
        return out

    @staticmethod
    def backward(ctx, g):
        where, index_shape, src_shape = ctx.meta
        xp = get_array_module(g)
        ga = gs = None
        if ctx.needs_input_grad[0]:
            ga = g.copy()
            ga[where] = 0
        if ctx.needs_input_grad[2]:
            gs = xp.zeros(src_shape, dtype=g.dtype)
            _leading(gs, index_shape)[...] = g[where]
        return ga, None, gs, None


class ScatterAdd(Function):
    """y = a, then y[i₀, …, index[i], …, iₙ] += src[i] for every i (repeats add up).
    dy/da = g; dy/dsrc[i] = g at the position src[i] was added to."""
    @staticmethod
    def forward(ctx, a, index, src, dim):
        where = along(index, dim)
        ctx.meta = where, index.shape, src.shape
        out = a.copy()
        add_at(out, where, _leading(src, index.shape))
        return out

    @staticmethod
    def backward(ctx, g):
        where, index_shape, src_shape = ctx.meta
        gs = None
        if ctx.needs_input_grad[2]:
            gs = get_array_module(g).zeros(src_shape, dtype=g.dtype)
            _leading(gs, index_shape)[...] = g[where]
        return g, None, gs, None


class IndexSelect(Function):
    """y = a's slices number index[0], index[1], … along ``dim`` (index 1-D). dy/da: each
    slice of g added back to the slice it came from (twice if picked twice)."""
    @staticmethod
    def forward(ctx, a, index, dim):
        ctx.meta = a.shape, dim, index
        return get_array_module(a).take(a, index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        shape, dim, index = ctx.meta
        out = get_array_module(g).zeros(shape, dtype=g.dtype)
        add_at(out, (slice(None),) * dim + (index,), g)
        return out, None


class MaskedFill(Function):
    """y = value where mask (broadcast to a's shape) else a;  dy/da = g where not mask."""
    @staticmethod
    def forward(ctx, a, mask, value):
        xp = get_array_module(a)
        ctx.save_for_backward(mask)
        return xp.where(mask, xp.asarray(value, dtype=a.dtype), a)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return get_array_module(g).where(mask, g.dtype.type(0), g), None, None


class IndexAccumulate(Function):
    """y = a with v added at ``index`` (a tuple of integer arrays, one per leading dim; v
    broadcast to the indexed shape; a position named twice receives both): the out-of-place
    ``index_put_(…, accumulate=True)``. dy/da = g; dy/dv = g[index], summed back to v's
    shape."""
    @staticmethod
    def forward(ctx, a, v, index):
        xp = get_array_module(a)
        out = a.copy()
        picked_shape = a[index].shape
        ctx.meta = index, v.shape
        add_at(out, index, xp.broadcast_to(v, picked_shape))
        return out

    @staticmethod
    def backward(ctx, g):
        index, v_shape = ctx.meta
        gv = unbroadcast(g[index], v_shape) if ctx.needs_input_grad[1] else None
        return (g if ctx.needs_input_grad[0] else None), gv
