"""Joining tensors along a dim: ``cat`` (and ``stack``, a ``cat`` of unsqueezed tensors).
Splitting needs no op of its own: ``split``, ``chunk`` and ``unbind`` are slices (``Index``),
each piece a view with its own gradient path."""
from ..autograd import Function
from ..device import get_array_module


class Cat(Function):
    """y = [a₀; a₁; …] along ``dim``: the inputs placed one after the other. The backward
    cuts g back into the inputs' pieces along the same dim: dy/daᵢ is the identity on aᵢ's
    slice of y."""
    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        ctx.sizes = [a.shape[dim] for a in arrays]
        return get_array_module(*arrays).concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        grads, start = [], 0
        for size, needed in zip(ctx.sizes, ctx.needs_input_grad):
            index = (slice(None),) * ctx.dim + (slice(start, start + size),)
            grads.append(g[index] if needed else None)
            start += size
        return tuple(grads)
