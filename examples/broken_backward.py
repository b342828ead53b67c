"""Exercise 4 of docs/exercises.md: three small ops, and one of them has a wrong backward.

Each forward is right. Use ``minigrad.autograd.gradcheck`` to find the op whose backward
disagrees with finite differences, work out its derivative on paper, and fix it (only the
backward; tests/exercises/test_ex4_broken_backward.py checks all three).
"""
from minigrad.autograd import Function
from minigrad.device import get_array_module


class Softplus(Function):
    """y = log(1 + eˣ), computed as max(x, 0) + log1p(e^−|x|) so large |x| cannot overflow."""
    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        ctx.save_for_backward(x)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def backward(ctx, g):                 # dy/dx = σ(x) = 1 / (1 + e⁻ˣ)
        (x,) = ctx.saved_tensors
        xp = get_array_module(x)
        return g / (1 + xp.exp(-x))


class Swish(Function):
    """y = x·σ(x) (also called SiLU)."""
    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        s = 1 / (1 + xp.exp(-x))
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved_tensors
        return g * s * (1 - s)


class Reciprocal(Function):
    """y = 1/x."""
    @staticmethod
    def forward(ctx, x):
        y = 1 / x
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):                 # dy/dx = −1/x² = −y²
        (y,) = ctx.saved_tensors
        return -g * y * y


OPS = {"softplus": Softplus, "swish": Swish, "reciprocal": Reciprocal}
