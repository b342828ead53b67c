"""``einsum``: products and sums named by letters, one op for all of them; ``VectorNorm``,
the p-norm over some dims (``linalg.vector_norm``, ``linalg.norm``, ``cdist``)."""
import math
import string

import numpy as np

from ..autograd import Function
from ..device import get_array_module


def parse_einsum(equation, shapes):
    """``equation`` ("ij,jk->ik", "bij,bjk", "...ij->...ji") as explicit letters: a list of
    input subscripts and the output subscript. Without "->" the output is the letters that
    appear once, in alphabetical order (NumPy's and PyTorch's rule); "..." becomes letters
    not used elsewhere, one per dim it stands for."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(f"einsum(): the equation names {len(inputs)} operands but "
                         f"{len(shapes)} were given")
    spare = [c for c in string.ascii_letters if c not in equation]
    widest = 0
    for s, shape in zip(inputs, shapes):
        if "..." in s:
            widest = max(widest, len(shape) - (len(s) - 3))
    dots = "".join(spare[:widest])

    def expand(s, ndim=None):
        if "..." not in s:
            return s
        n = widest if ndim is None else ndim - (len(s) - 3)
        return s.replace("...", dots[widest - n:] if n else "")

    inputs = [expand(s, len(shape)) for s, shape in zip(inputs, shapes)]
    for s, shape in zip(inputs, shapes):
        if len(s) != len(shape) or not s.isalpha():
            raise ValueError(f"einsum(): subscript {s!r} does not fit an operand of shape "
                             f"{tuple(shape)}")
    if arrow:
        output = expand(rhs)
    else:
        letters = "".join(inputs)
        output = dots + "".join(sorted(c for c in set(letters) - set(dots)
                                       if letters.count(c) == 1))
    return inputs, output


class Einsum(Function):
    """y = einsum(inputs → output). Each output element is a sum of products of one element
    of every operand; so dy/d(operand i) is the einsum of g with the other operands, written
    to operand i's letters (the letters only operand i has were summed over in the forward:
    the gradient is the same along them, a broadcast)."""
    @staticmethod
    def forward(ctx, *arrays, inputs, output):
        xp = get_array_module(*arrays)
        ctx.save_for_backward(*arrays)
        ctx.subscripts = inputs, output
        return xp.einsum(",".join(inputs) + "->" + output, *arrays)

    @staticmethod
    def backward(ctx, g):
        arrays = ctx.saved_tensors
        inputs, output = ctx.subscripts
        xp = get_array_module(g)
        grads = []
        for i, (s, a) in enumerate(zip(inputs, arrays)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            if len(set(s)) != len(s):
                raise NotImplementedError(f"einsum: no gradient for an operand with a "
                                          f"repeated subscript ({s!r}, a diagonal)")
            others = [(t, b) for j, (t, b) in enumerate(zip(inputs, arrays)) if j != i]
            known = set(output).union(*(set(t) for t, _ in others))
            kept = "".join(c for c in s if c in known)
            spec = ",".join([output] + [t for t, _ in others]) + "->" + kept
            gi = xp.einsum(spec, g, *(b for _, b in others))
            if kept != s:                         # broadcast along the summed-out letters
                gi = xp.expand_dims(gi, tuple(k for k, c in enumerate(s) if c not in known))
                gi = xp.broadcast_to(gi, a.shape)
            grads.append(xp.ascontiguousarray(gi))
        return tuple(grads)


class VectorNorm(Function):
    """‖x‖ₚ = (Σ|xᵢ|ᵖ)^(1/p) over ``dims`` (kept as size 1 in the forward); p = ∞ is max|xᵢ|,
    −∞ min|xᵢ|, 0 the number of nonzero xᵢ.

    ∂‖x‖ₚ/∂xᵢ = sign(xᵢ)·|xᵢ|^(p−1) / ‖x‖ₚ^(p−1) (xᵢ/‖x‖ for p = 2, sign(xᵢ) for p = 1), 0
    where the norm is 0 (PyTorch's subgradient, also for |xᵢ|^(p−1) at xᵢ = 0 when p < 1); for
    ±∞ the gradient is shared evenly by the elements at the extreme; for 0 it is 0."""
    @staticmethod
    def forward(ctx, x, ord, dims, keepdim):
        xp = get_array_module(x)
        a = xp.abs(x)
        with np.errstate(divide="ignore", over="ignore"):      # 0 ** (negative p) is inf
            if ord == math.inf:
                n = a.max(axis=dims, keepdims=True)
            elif ord == -math.inf:
                n = a.min(axis=dims, keepdims=True)
            elif ord == 0:
                n = (a != 0).sum(axis=dims, keepdims=True).astype(x.dtype)
            elif ord == 1:
                n = a.sum(axis=dims, keepdims=True)
            elif ord == 2:
                n = xp.sqrt((x * x).sum(axis=dims, keepdims=True))
            else:
                n = (a ** ord).sum(axis=dims, keepdims=True) ** (1.0 / ord)
        ctx.save_for_backward(x, n)
        ctx.meta = ord, dims
        return n if keepdim else n.squeeze(dims)

    @staticmethod
    def backward(ctx, g):
        x, n = ctx.saved_tensors
        p, dims = ctx.meta
        xp = get_array_module(g)
        g = g.reshape(n.shape)                              # the reduced dims back, size 1
        if p == 0:
            return xp.zeros_like(x)
        if p in (math.inf, -math.inf):
            at = xp.abs(x) == n
            return xp.sign(x) * at * (g / at.sum(axis=dims, keepdims=True))
        if p == 1:
            return xp.sign(x) * g

        def where_norm_zero(v, then):
            return xp.where(n == 0, then, v / xp.where(n == 0, 1, n) ** (p - 1))
        if p == 2:
            return x * where_norm_zero(g, 0)
        a = xp.abs(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            power = xp.where(x == 0, 0, xp.where(x == 0, 1, a) ** (p - 1))  # |x|^(p−1), 0 at 0
        if p < 1:         # the norm may be 0 with zeros around (p < 0): |x|^(p−1)·‖x‖^(1−p)
            return xp.sign(x) * power * g * n ** (1 - p)
        return xp.sign(x) * power * where_norm_zero(g, 0)
