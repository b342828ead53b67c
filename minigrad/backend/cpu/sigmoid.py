"""Sigmoid, fast: each pass writes into the output (no temporaries), spread over the
threads in 64-element-aligned parts (the same bits on any number of threads).
"""
import numpy as np

from .buffers import _empty_like
from .threads import _elementwise


def sigmoid_fwd(x):
    """σ(x) = 1 / (1 + e⁻ˣ), in four passes that write only into the output (negate, exp,
    add one, divide 1 by it). For x below about −88 (float32; −709 in float64) e⁻ˣ overflows to
    ∞ and σ comes out 0, where the exact value is under 10⁻³⁸ (10⁻³⁰⁸)."""
    y = _empty_like(x)

    def work(out, x):
        with np.errstate(over="ignore"):
            np.negative(x, out=out)
            np.exp(out, out=out)
        out += 1
        np.divide(out.dtype.type(1), out, out=out)    # (np.reciprocal: same bits, slower)
    _elementwise(work, y, x)
    return y


def sigmoid_bwd(g, y):
    """dσ/dx = σ(x)(1 − σ(x)) from the saved output y = σ(x): dx = g · (y − y²)."""
    dx = _empty_like(y)

    def work(out, g, y):
        np.multiply(y, y, out=out)
        np.subtract(y, out, out=out)
        out *= g
    _elementwise(work, dx, g, y)
    return dx
