"""``F.interpolate`` (and ``nn.Upsample``'s math) for the modes that copy input elements:
'nearest' and 'nearest-exact', on (N, C, H, W) inputs.

Along each spatial dim of input size n and output size m, output position i reads input
position

    nearest:        src(i) = min(⌊i·s⌋, n − 1)       (i when m = n, ⌊i/2⌋ when m = 2n)
    nearest-exact:  src(i) = min(⌊(i + ½)·s⌋, n − 1)

with s = 1 / scale_factor when a scale factor is given (and not recomputed), else n / m —
PyTorch's rule for 2-D images, whose products are in single precision (so this computes
them in float32 too: in double a few positions differ). PyTorch's 1-D and 3-D kernels round
differently again; minigrad leaves them out rather than differ.

The output is ``index_select`` along each dim in turn, so the gradient of an input element
is the sum of the gradients of the outputs that copied it."""
import math
import numbers

import numpy as np

from ..tensor import Tensor

MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "lanczos", "area",
         "nearest-exact")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of ``input`` to ``size`` (an int or one per dim) or by
    ``scale_factor`` (output size ⌊n·scale⌋), copying the nearest input element (see the
    module docstring for which one)."""
    spatial = list(input.shape[2:])
    if input.ndim not in (3, 4, 5) or mode not in MODES:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) "
            f"for the modes: {' | '.join(MODES)} (got {mode})")
    if mode not in ("nearest", "nearest-exact"):
        raise NotImplementedError(f"interpolate: mode {mode!r} is not implemented in "
                                  "minigrad; 'nearest' and 'nearest-exact' are")
    if input.ndim != 4:
        raise NotImplementedError(f"interpolate: minigrad resizes (N, C, H, W) inputs only, "
                                  f"got {input.ndim}D")
    if align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating "
                         "modes: linear | bilinear | bicubic | trilinear")
    if antialias:
        raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes "
                         "and requires a 4-D tensor as input")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if size is not None:
        out = _per_dim(size, spatial, "output size", "o")
        scales = [None] * len(spatial)
    else:
        scales = [float(s) for s in _per_dim(scale_factor, spatial, "scale_factor", "s")]
        out = [int(math.floor(n * s)) for n, s in zip(spatial, scales)]
        if recompute_scale_factor:
            scales = [None] * len(spatial)
    if any(m <= 0 for m in out):
        raise RuntimeError("Input and output sizes should be greater than 0, but got input "
                           f"(H: {spatial[0]}, W: {spatial[1]}) output (H: {out[0]}, "
                           f"W: {out[1]})")
    x = input
    for dim, (n, m, s) in enumerate(zip(spatial, out, scales), start=2):
        sources = _sources(n, m, s, mode)
        if m != n or (sources != np.arange(n)).any():
            x = x.index_select(dim, Tensor(sources, device=input.device))
    return x if x is not input else input * 1


def _per_dim(value, spatial, what, letter):
    """``value`` (a number, or one per spatial dim) as a list, one per spatial dim."""
    if isinstance(value, numbers.Number):
        return [value] * len(spatial)
    value = tuple(value)
    if len(value) != len(spatial):
        shown = f"shape {value}" if what == "scale_factor" else value
        raise ValueError(
            f"Input and {what.split()[0]} must have the same number of spatial dimensions, "
            "but got "
            f"input with spatial dimensions of {spatial} and {what} of {shown}. Please "
            f"provide input tensor in (N, C, d1, d2, ...,dK) format and {what} in "
            f"({letter}1, {letter}2, ...,{letter}K) format.")
    return list(value)


def _sources(n, m, scale_factor, mode):
    """The input position each of the m output positions reads along a dim of size n."""
    if mode == "nearest" and m in (n, 2 * n):     # PyTorch's exact shortcuts for 1× and 2×
        return np.arange(m) // (m // n)
    s = np.float32(1.0 / scale_factor if scale_factor else n / m)
    i = np.arange(m, dtype=np.float32)
    if mode == "nearest-exact":
        i = i + np.float32(0.5)
    return np.minimum(np.floor(i * s).astype(np.int64), n - 1)
