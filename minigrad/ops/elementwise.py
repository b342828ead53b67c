"""Elementwise ops with NumPy broadcasting. Each backward sums its gradient back to the
shape of the input it belongs to (``unbroadcast``)."""
import contextlib

import numpy as np

from ..autograd import Function
from ..device import get_array_module


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched, so it has ``shape``."""
    if grad.shape == tuple(shape):
        return grad
    lead = grad.ndim - len(shape)
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    return grad.sum(axis=tuple(range(lead)) + stretched).reshape(shape)


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        return a + b

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        return unbroadcast(g, sa), unbroadcast(g, sb)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        return a - b

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        return unbroadcast(g, sa), unbroadcast(-g, sb)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = unbroadcast(g * b, a.shape) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(g * a, b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """y = a / b;  dy/da = 1/b,  dy/db = −a/b²."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with _quiet(a):                       # x / 0 is ±inf or nan, as in PyTorch
            return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        with _quiet(a):
            ga = unbroadcast(g / b, a.shape) if ctx.needs_input_grad[0] else None
            gb = unbroadcast(-g * a / (b * b), b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g


class Pow(Function):
    """y = aᵇ, b a number or an array;  dy/da = b·aᵇ⁻¹ (0 where b = 0),  dy/db = y·ln a
    (0 where a = 0 and b ≥ 0: the limit there). PyTorch's rules."""
    @staticmethod
    def forward(ctx, a, b):
        y = integer_power(a, b) if a.dtype.kind in "iu" else a ** b
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        xp, zero = get_array_module(g), g.dtype.type(0)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            with _quiet(a):
                ga = unbroadcast(xp.where(b == 0, zero, g * (b * a ** (b - 1))), a.shape)
        if ctx.needs_input_grad[1]:
            with _quiet(a):
                gb = unbroadcast(xp.where((a == 0) & (b >= 0), zero, g * y * xp.log(a)), b.shape)
        return ga, gb


def integer_power(a, b):
    """aᵇ for integer arrays, as PyTorch computes it: a negative power of an integer is
    1/aⁿ rounded toward zero (0 unless a is ±1), where NumPy would raise."""
    xp = get_array_module(a)
    if not (xp.asarray(b) < 0).any():
        return a ** b
    magnitude = a ** xp.abs(b)
    return xp.where(xp.asarray(b) >= 0, magnitude, xp.where(abs(a) == 1, magnitude, 0))


class FloorDivide(Function):
    """y = ⌊a / b⌋ (Python's //). Like PyTorch, minigrad defines no gradient for it."""
    @staticmethod
    def forward(ctx, a, b):
        with _quiet(a):
            return get_array_module(a).floor_divide(a, b)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("the derivative for 'floor_divide' is not implemented.")


class Remainder(Function):
    """y = a − ⌊a / b⌋·b (the sign of b, as Python's %);  dy/da = 1,  dy/db = −⌊a / b⌋."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with _quiet(a):
            return get_array_module(a).remainder(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = unbroadcast(g, a.shape) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            with _quiet(a):
                gb = unbroadcast(-g * get_array_module(a).floor_divide(a, b), b.shape)
        return ga, gb


class Maximum(Function):
    """y = max(a, b) elementwise (NaN where either is NaN). The gradient goes to the larger
    one; where a = b each gets half, and where a NaN is involved both get it (PyTorch)."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return get_array_module(a).maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        xp, zero = get_array_module(g), g.dtype.type(0)
        share = xp.where(a == b, g / 2, g)
        ga = unbroadcast(xp.where(a < b, zero, share), a.shape) if ctx.needs_input_grad[0] \
            else None
        gb = unbroadcast(xp.where(a > b, zero, share), b.shape) if ctx.needs_input_grad[1] \
            else None
        return ga, gb


class Exp(Function):
    """y = eᵃ;  dy/da = y."""
    @staticmethod
    def forward(ctx, a):
        y = get_array_module(a).exp(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class Log(Function):
    """y = ln a;  dy/da = 1/a."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with _quiet(a):
            return get_array_module(a).log(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / a


class Sqrt(Function):
    """y = √a;  dy/da = 1/(2y)."""
    @staticmethod
    def forward(ctx, a):
        with _quiet(a):
            y = get_array_module(a).sqrt(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g / (2 * y)


class Tanh(Function):
    """y = tanh a;  dy/da = 1 − y²."""
    @staticmethod
    def forward(ctx, a):
        y = get_array_module(a).tanh(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1 - y * y)


class Abs(Function):
    """y = |a|;  dy/da = sign(a) (0 at 0, as PyTorch)."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return abs(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * get_array_module(a).sign(a)


class Clamp(Function):
    """y = min(max(a, lo), hi); the gradient passes where lo ≤ a ≤ hi (PyTorch's rule)."""
    @staticmethod
    def forward(ctx, a, lo, hi):
        ctx.save_for_backward(a)
        ctx.bounds = lo, hi
        return get_array_module(a).clip(a, lo, hi)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        inside = get_array_module(a).ones(a.shape, dtype=bool)
        if lo is not None:
            inside &= a >= lo
        if hi is not None:
            inside &= a <= hi
        return g * inside


class Where(Function):
    """y = a where cond else b."""
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        ctx.shapes = a.shape, b.shape
        return get_array_module(a).where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        sa, sb = ctx.shapes
        xp, zero = get_array_module(g), g.dtype.type(0)
        ga = unbroadcast(xp.where(cond, g, zero), sa) if ctx.needs_input_grad[1] else None
        gb = unbroadcast(xp.where(cond, zero, g), sb) if ctx.needs_input_grad[2] else None
        return None, ga, gb


def _quiet(a):
    """Silence NumPy's divide/invalid warnings: log(0) = -inf and sqrt(-1) = nan are the
    answers, as in PyTorch, not events."""
    if get_array_module(a) is np:
        return np.errstate(divide="ignore", invalid="ignore")
    return contextlib.nullcontext()
