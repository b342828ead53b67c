"""Activations as functions (re-exported by ``nn.functional``): tanh, leaky_relu, elu, gelu,
softmax and softplus. The ops are in
``minigrad.ops.activations`` (generic array code, so they run on the GPU too)."""
import warnings

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


def implicit_dim(name, ndim):
    """The dim PyTorch's deprecated ``F.softmax(x)`` (no dim) picks, with its warning: 0 for
    0-, 1- and 3-D inputs, else 1."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                  "call to include dim=X as an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, dtype=None):
    """e^x / Σ e^x along ``dim`` (without one, PyTorch's deprecated implicit choice)."""
    x = input if dtype is None else input.to(dtype)
    _check("softmax", x)
    if dim is None:
        dim = implicit_dim("softmax", x.ndim)
    return A.Softmax.apply(x, dim=normalize_dim(dim, x.ndim))


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + e^(βx)) / β, and x itself where βx > threshold (PyTorch's rule)."""
    _check("softplus", input)
    from ..creation import where
    z = input * beta
    smooth = (z.clamp(min=0) + (-z.abs()).exp().log1p()) / beta
    return where(z > threshold, input, smooth)


# ---- more activations, each composed of differentiable Tensor ops --------------------------
def silu(input, inplace=False):
    """x·σ(x) (also called swish)."""
    _check("silu", input)
    return _maybe_inplace(input, inplace, "silu_", lambda t: t * t.sigmoid())


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clamped to [min_val, max_val]; the gradient passes strictly inside, none at the
    edges (PyTorch's rule, where clamp passes it at the edges too)."""
    _check("hardtanh", input)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    lo, hi = float(min_val), float(max_val)

    def fn(t):
        from ..creation import where
        return where((t > lo).logical_and(t < hi), t, t.detach().clamp(lo, hi))
    return _maybe_inplace(input, inplace, "hardtanh_", fn)


def relu6(input, inplace=False):
    """min(max(x, 0), 6): ``hardtanh(x, 0, 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def logsigmoid(input):
    """log σ(x): x − log(1 + eˣ) for x < 0, −log(1 + e⁻ˣ) otherwise, so e only ever sees
    a number ≤ 0 (no overflow for large |x|); the derivative at 0 is σ(0) = ½."""
    _check("logsigmoid", input)
    from ..creation import where
    neg, pos = input.clamp(max=0), input.clamp(min=0)
    return where(input < 0, neg - neg.exp().log1p(), -(-pos).exp().log1p())


def softsign(input):
    """x / (1 + |x|)."""
    _check("softsign", input)
    return input / (1 + input.abs())


def mish(input, inplace=False):
    """x·tanh(softplus(x))."""
    _check("mish", input)
    return _maybe_inplace(input, inplace, "mish_", lambda t: t * softplus(t).tanh())


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale·elu(x, α) with the constants of Klambauer et al. (2017), as PyTorch."""
    _check("selu", input)
    return _maybe_inplace(input, inplace, "selu_",
                          lambda t: A.ELU.apply(t, alpha=SELU_ALPHA) * SELU_SCALE)


def prelu(input, weight):
    """x for x > 0, else a·x, with ``weight`` a learnt slope: one for all channels, or one
    per channel (dim 1 of the input)."""
    _check("prelu", input)
    if weight.ndim != 1:
        raise RuntimeError(f"prelu: weight must be 1-D, got {weight.ndim}-D")
    n = weight.numel()
    if n != 1:
        channels = input.shape[1] if input.ndim >= 2 else (input.shape[0] if input.ndim else 1)
        if n != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {n} and channel size = {channels}.")
        if input.ndim >= 2:
            weight = weight.reshape((1, n) + (1,) * (input.ndim - 2))
    from ..creation import where
    return where(input > 0, input, weight * input)


def _maybe_inplace(x, inplace, name, fn):
    """fn(x), or written into x with ``inplace`` (recorded in the graph as PyTorch does)."""
    if inplace:
        return x._arith_inplace(name, None, lambda t, _: fn(t))
    return fn(x)
