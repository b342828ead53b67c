"""Products and a few more elementwise functions: ``prod`` and ``cumprod`` (with gradients
that stay right when an element is zero), tan, sinh, cosh, erf and atan2. Generic array
code (``xp`` is NumPy or CuPy), so each runs on the CPU and the GPU alike."""
import math

import numpy as np

from ..autograd import Function
from ..device import get_array_module
from .activations import _host_erf
from .elementwise import _quiet, unbroadcast


def _exclusive_cumprod(a, axis, reverse=False):
    """Along ``axis``, the product of the elements strictly before each one (strictly after
    it with ``reverse``): 1 for the first. No division, so zeros are no problem."""
    xp = get_array_module(a)
    if reverse:
        return xp.flip(_exclusive_cumprod(xp.flip(a, axis), axis), axis)
    ones = xp.ones_like(xp.take(a, [0], axis=axis))
    shifted = xp.concatenate([ones, xp.take(a, xp.arange(a.shape[axis] - 1), axis=axis)],
                             axis=axis)
    return xp.cumprod(shifted, axis=axis)


class Prod(Function):
    """y = Π aᵢ over ``dim`` (all elements when None). dy/daᵢ is the product of the other
    elements: (product before i)·(product after i), computed without dividing by aᵢ, so
    the gradient is right when some aᵢ are zero (one zero: only it gets a gradient)."""
    @staticmethod
    def forward(ctx, a, dim, keepdim):
        ctx.save_for_backward(a)
        ctx.meta = dim, keepdim
        return a.prod() if dim is None else a.prod(axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        dim, keepdim = ctx.meta
        xp = get_array_module(a)
        if a.size == 0:
            return xp.zeros_like(a)
        if dim is None:
            flat = a.reshape(-1)
            others = _exclusive_cumprod(flat, 0) * _exclusive_cumprod(flat, 0, reverse=True)
            return (g * others).reshape(a.shape)
        if not keepdim:
            g = xp.expand_dims(g, dim)
        others = _exclusive_cumprod(a, dim) * _exclusive_cumprod(a, dim, reverse=True)
        return g * others


class Cumprod(Function):
    """yᵢ = Π_{j ≤ i} aⱼ along ``dim``. dL/daₖ = Σ_{i ≥ k} gᵢ·Π_{j ≤ i, j ≠ k} aⱼ
    = (Π_{j < k} aⱼ)·Σ_{i ≥ k} gᵢ·Π_{k < j ≤ i} aⱼ: one running product per k (n² work
    along the dim, n the dim's length), no division, so zeros in a are no problem."""
    @staticmethod
    def forward(ctx, a, dim):
        ctx.save_for_backward(a)
        ctx.dim = dim
        return get_array_module(a).cumprod(a, axis=dim)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        xp = get_array_module(a)
        a_last, g_last = xp.moveaxis(a, ctx.dim, -1), xp.moveaxis(g, ctx.dim, -1)
        before = _exclusive_cumprod(a_last, -1)
        grad = xp.empty_like(a_last)
        for k in range(a_last.shape[-1]):
            # Π_{k < j ≤ i} aⱼ for i = k … n−1: 1, a_{k+1}, a_{k+1}·a_{k+2}, …
            after = xp.concatenate([xp.ones_like(a_last[..., :1]),
                                    xp.cumprod(a_last[..., k + 1:], axis=-1)], axis=-1)
            grad[..., k] = before[..., k] * (g_last[..., k:] * after).sum(-1)
        return xp.moveaxis(grad, -1, ctx.dim)


class Tan(Function):
    """y = tan a; dy/da = 1 + y²."""
    @staticmethod
    def forward(ctx, a):
        y = get_array_module(a).tan(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1 + y * y)


class Sinh(Function):
    """y = sinh a; dy/da = cosh a."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with _quiet(a):
            return get_array_module(a).sinh(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        with _quiet(a):
            return g * get_array_module(a).cosh(a)


class Cosh(Function):
    """y = cosh a; dy/da = sinh a."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with _quiet(a):
            return get_array_module(a).cosh(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        with _quiet(a):
            return g * get_array_module(a).sinh(a)


def erf(x):
    """The error function of an array, in its dtype. NumPy has none: on the CPU Python's
    ``math.erf`` element by element; on the GPU ``cupyx.scipy.special.erf`` (the host's
    where that is missing, as on the emulator)."""
    xp = get_array_module(x)
    if xp is np:
        return _host_erf(x).astype(x.dtype, copy=False)
    try:
        from cupyx.scipy.special import erf as device_erf
    except ImportError:
        return xp.asarray(_host_erf(np.asarray(x.get()))).astype(x.dtype, copy=False)
    return device_erf(x).astype(x.dtype, copy=False)


class Erf(Function):
    """y = erf a = (2/√π)∫₀ᵃ e^(−t²) dt; dy/da = (2/√π)·e^(−a²)."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return erf(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * (2 / math.sqrt(math.pi)) * get_array_module(a).exp(-a * a)


class Atan2(Function):
    """y = atan2(a, b), the angle of the point (b, a); dy/da = b/(a² + b²),
    dy/db = −a/(a² + b²). Both broadcast."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return get_array_module(a).arctan2(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        with _quiet(a):
            r2 = a * a + b * b
            return unbroadcast(g * b / r2, a.shape), unbroadcast(-g * a / r2, b.shape)


class NanToNum(Function):
    """y = a with NaN → ``nan``, +∞ → ``posinf``, −∞ → ``neginf``; dy/da = 1 where a is
    finite and 0 where a value was replaced (PyTorch's gradient)."""
    @staticmethod
    def forward(ctx, a, nan, posinf, neginf):
        xp = get_array_module(a)
        finite = xp.isfinite(a)
        ctx.save_for_backward(finite)
        out = xp.where(xp.isnan(a), a.dtype.type(nan), a)
        out = xp.where(xp.isinf(a) & (a > 0), a.dtype.type(posinf), out)
        return xp.where(xp.isinf(a) & (a < 0), a.dtype.type(neginf), out)

    @staticmethod
    def backward(ctx, g):
        (finite,) = ctx.saved_tensors
        return g * finite
