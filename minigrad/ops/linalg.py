"""``einsum``: products and sums named by letters, one op for all of them."""
import string

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
