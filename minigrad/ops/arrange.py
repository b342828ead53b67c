"""Ops that repeat, reverse or mask values along dims: ``expand`` (a broadcast view),
``repeat`` (tiling), ``flip``, ``tril``/``triu``, and the running sum ``cumsum``."""
from ..autograd import Function
from ..device import get_array_module
from .elementwise import unbroadcast


class Expand(Function):
    """y = a broadcast to ``shape`` (a read-only view, as NumPy makes it);
    dy/da sums g over the broadcast dims."""
    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        return get_array_module(a).broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return unbroadcast(g, ctx.in_shape)


class Repeat(Function):
    """y = a tiled ``reps[i]`` times along dim i (leading new dims when reps is longer);
    dy/da sums the copies: g seen as (r₀, n₀, r₁, n₁, …), summed over the r axes."""
    @staticmethod
    def forward(ctx, a, reps):
        xp = get_array_module(a)
        shape = (1,) * (len(reps) - a.ndim) + a.shape
        ctx.meta = a.shape, shape, reps
        return xp.tile(a.reshape(shape), reps)

    @staticmethod
    def backward(ctx, g):
        in_shape, shape, reps = ctx.meta
        split = []
        for r, n in zip(reps, shape):
            split += [r, n]
        summed = g.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return summed.reshape(in_shape)


class Flip(Function):
    """y = a reversed along ``dims``; dy/da = g reversed the same way."""
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return get_array_module(a).flip(a, dims).copy()

    @staticmethod
    def backward(ctx, g):
        return get_array_module(g).flip(g, ctx.dims).copy()


class Triangle(Function):
    """y = a below (``lower``) or above the ``diagonal``-th diagonal of its last two dims,
    zeros elsewhere; dy/da = g masked the same way."""
    @staticmethod
    def forward(ctx, a, diagonal, lower):
        ctx.meta = diagonal, lower
        xp = get_array_module(a)
        return xp.tril(a, diagonal) if lower else xp.triu(a, diagonal)

    @staticmethod
    def backward(ctx, g):
        diagonal, lower = ctx.meta
        xp = get_array_module(g)
        return xp.tril(g, diagonal) if lower else xp.triu(g, diagonal)


class Cumsum(Function):
    """yᵢ = Σ_{j ≤ i} aⱼ along ``dim``; dy/da: the running sum of g from the other end."""
    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        return get_array_module(a).cumsum(a, axis=dim)

    @staticmethod
    def backward(ctx, g):
        xp = get_array_module(g)
        return xp.flip(xp.cumsum(xp.flip(g, ctx.dim), axis=ctx.dim), ctx.dim).copy()
