"""Argument arithmetic shared by the Tensor, the layers and every backend: how big a sliding
window's output is, what a dim or shape argument means. No arrays here, no device."""
import math
import operator

import numpy as np


def out_size(size, kernel, stride, pad):
    """Output length of a sliding window: floor((size + 2·pad − kernel) / stride) + 1."""
    return (size + 2 * pad - kernel) // stride + 1


def pool_out_size(size, kernel, stride, pad, ceil_mode=False):
    """Output length of a pooling window, as PyTorch computes it: ``out_size`` rounded up
    instead of down with ``ceil_mode``, except that the last window must start inside the
    input or its left padding (a window over right padding alone is dropped)."""
    if not ceil_mode:
        return out_size(size, kernel, stride, pad)
    n = -(-(size + 2 * pad - kernel) // stride) + 1
    if (n - 1) * stride >= size + pad:
        n -= 1
    return n


def pair(v, name):
    """An int or a pair of ints as a pair: kernel_size=5 means (5, 5)."""
    if isinstance(v, int):
        return v, v
    if isinstance(v, (tuple, list)) and len(v) == 2 and isinstance(v[0], int) and \
            isinstance(v[1], int):
        return tuple(v)
    raise TypeError(f"{name} must be an int or a pair of ints, got {v!r}")


def normalize_dim(dim, ndim):
    """One ``dim`` argument of a tensor with ``ndim`` dims (negatives count from the end) as
    a non-negative int. A 0-d tensor accepts 0 and -1, as in PyTorch."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"dim must be an int, got {dim!r} of type {type(dim).__name__}")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return int(dim) % n


def normalize_dims(dim, ndim):
    """``dim`` (None for all, an int or a sequence, negatives counting from the end) as a
    sorted tuple of distinct non-negative dims of a tensor with ``ndim`` dims."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if not isinstance(dim, (tuple, list)) else tuple(dim)
    out = [normalize_dim(d, ndim) for d in dims]
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {out} appears multiple times in the list of dims")
    return tuple(sorted(out)) if ndim else ()


def shape_arg(shape):
    """``f(2, 3)`` and ``f((2, 3))`` both as the tuple (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(_size(n) for n in shape)


def _size(n):
    """One size as an int: an int, a NumPy int or a one-element integer tensor; a float
    (``zeros(2.5)``) is a TypeError, as in PyTorch, not rounded."""
    try:
        return operator.index(n)
    except TypeError:
        raise TypeError(f"size must be a tuple of ints, but got {type(n).__name__} "
                        f"{n!r}") from None


def resolve_shape(shape, from_shape):
    """``shape`` with its one allowed -1 filled in, checked to hold as many elements."""
    numel = math.prod(from_shape)
    unknown = [i for i, n in enumerate(shape) if n == -1]
    known = math.prod(n for n in shape if n != -1)
    bad = len(unknown) > 1 or any(n < -1 for n in shape)
    if not bad and unknown:
        bad = known == 0 or numel % known != 0
        if not bad:
            shape = shape[:unknown[0]] + (numel // known,) + shape[unknown[0] + 1:]
    if bad or math.prod(shape) != numel:
        raise ValueError(f"cannot reshape a tensor of shape {tuple(from_shape)} "
                         f"({numel} elements) into {shape}")
    return shape
