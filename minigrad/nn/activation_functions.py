"""Activations as functions (re-exported by ``nn.functional``): tanh, leaky_relu, elu, gelu,
softmax and softplus. The ops are in
``minigrad.ops.activations`` (generic array code, so they run on the GPU too)."""
from .. import _dtype
from ..arguments import normalize_dim
from ..ops import activations as A
from ..ops import elementwise as E


def _check(op, x):
    if not _dtype.is_float(x.dtype):
        raise RuntimeError(f'"{op}" not implemented for \'{x.dtype}\' (a floating-point tensor '
                           "is needed)")


def _apply(x, inplace, name, op, **params):
    """op(x), or written into x with ``inplace`` (recorded in the graph as PyTorch does)."""
    if inplace:
        return x._arith_inplace(name, None, lambda t, _: op.apply(t, **params))
    return op.apply(x, **params)


def tanh(input):
    _check("tanh", input)
    return E.Tanh.apply(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, else negative_slope·x."""
    _check("leaky_relu", input)
    return _apply(input, inplace, "leaky_relu_", A.LeakyReLU, slope=float(negative_slope))


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, else α·(eˣ − 1)."""
    _check("elu", input)
    return _apply(input, inplace, "elu_", A.ELU, alpha=float(alpha))


def gelu(input, approximate="none"):
    """x·Φ(x), Φ the normal CDF; ``approximate="tanh"`` for the tanh formula."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got "
                           f"{approximate!r}")
    _check("gelu", input)
    return A.GELU.apply(input, approximate=approximate)


def softmax(input, dim, dtype=None):
    """e^x / Σ e^x along ``dim`` (PyTorch's implicit dim is not guessed: give it)."""
    x = input if dtype is None else input.to(dtype)
    _check("softmax", x)
    return A.Softmax.apply(x, dim=normalize_dim(dim, x.ndim))


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + e^(βx)) / β, and x itself where βx > threshold (PyTorch's rule)."""
    _check("softplus", input)
    from ..creation import where
    z = input * beta
    smooth = (z.clamp(min=0) + (-z.abs()).exp().log1p()) / beta
    return where(z > threshold, input, smooth)
