"""Activations beyond the CNN's sigmoid and ReLU (which are layer ops with kernels):
softmax, leaky ReLU, ELU and GELU as generic array code (NumPy or CuPy)."""
import math

import numpy as np

from ..autograd import Function
from ..device import get_array_module


class Softmax(Function):
    """y = eᶻ / Σ eᶻ along ``dim`` (computed as e^(z − max z), which cannot overflow);
    dz = y·(g − Σ g·y)."""
    @staticmethod
    def forward(ctx, z, dim):
        xp = get_array_module(z)
        e = xp.exp(z - z.max(axis=dim, keepdims=True))
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return y * (g - (g * y).sum(axis=ctx.dim, keepdims=True))


class LeakyReLU(Function):
    """y = x for x > 0, else slope·x;  dy/dx = 1 or slope (slope at 0, as PyTorch)."""
    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return get_array_module(x).where(x > 0, x, x * x.dtype.type(slope))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return get_array_module(g).where(x > 0, g, g * g.dtype.type(ctx.slope))


class ELU(Function):
    """y = x for x > 0, else α·(eˣ − 1);  dy/dx = 1 or α·eˣ (= y + α)."""
    @staticmethod
    def forward(ctx, x, alpha):
        xp = get_array_module(x)
        alpha = x.dtype.type(alpha)
        y = xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))
        ctx.save_for_backward(x, y)
        ctx.alpha = alpha
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return get_array_module(g).where(x > 0, g, g * (y + ctx.alpha))


class GELU(Function):
    """y = x·Φ(x), Φ the standard normal CDF, Φ(x) = (1 + erf(x/√2)) / 2;
    dy/dx = Φ(x) + x·φ(x) with φ(x) = e^(−x²/2)/√(2π).

    ``approximate="tanh"``: Φ(x) ≈ (1 + tanh(u)) / 2 with u = √(2/π)·(x + 0.044715·x³);
    dy/dx = (1 + t)/2 + x·(1 − t²)·u′/2 with t = tanh(u), u′ = √(2/π)·(1 + 3·0.044715·x²)."""
    @staticmethod
    def forward(ctx, x, approximate):
        xp = get_array_module(x)
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            u = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)
            return 0.5 * x * (1 + xp.tanh(u))
        return x * _normal_cdf(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xp = get_array_module(x)
        if ctx.approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            t = xp.tanh(k * (x + 0.044715 * x ** 3))
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x))
        pdf = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return g * (_normal_cdf(x) + x * pdf)


def _normal_cdf(x):
    """Φ(x) = (1 + erf(x/√2)) / 2 in x's dtype. NumPy has no erf: on the CPU it is
    Python's ``math.erf`` element by element (exact, slow for big arrays); on the GPU
    ``cupyx.scipy.special.erf`` (where that is missing, as on the host emulator, the host's)."""
    xp = get_array_module(x)
    if xp is np:
        return (0.5 * (1 + _host_erf(x / math.sqrt(2)))).astype(x.dtype, copy=False)
    try:
        from cupyx.scipy.special import erf
    except ImportError:
        host = _host_erf(np.asarray(x.get()) / math.sqrt(2))
        return (0.5 * (1 + xp.asarray(host))).astype(x.dtype, copy=False)
    return (0.5 * (1 + erf(x / math.sqrt(2)))).astype(x.dtype, copy=False)


_host_erf = np.vectorize(math.erf, otypes=[np.float64])


class Log1p(Function):
    """y = ln(1 + a), exact for tiny a;  dy/da = 1/(1 + a)."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        if get_array_module(a) is np:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.log1p(a)
        return get_array_module(a).log1p(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / (1 + a)


class Sin(Function):
    """y = sin a;  dy/da = cos a."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return get_array_module(a).sin(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * get_array_module(a).cos(a)


class Cos(Function):
    """y = cos a;  dy/da = −sin a."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return get_array_module(a).cos(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return -g * get_array_module(a).sin(a)


class Step(Function):
    """y = floor, ceil, round, trunc or sign of a (``how``, the array module's function):
    piecewise constant, so dy/da = 0 (PyTorch's gradient too)."""
    @staticmethod
    def forward(ctx, a, how):
        return getattr(get_array_module(a), how)(a)

    @staticmethod
    def backward(ctx, g):
        return get_array_module(g).zeros_like(g)
