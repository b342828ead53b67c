"""``minigrad.linalg`` (PyTorch's ``torch.linalg``, the norms): ``vector_norm`` and ``norm``
(vectors, and matrices in the Frobenius norm); and ``cdist``, the distances between two sets
of points (``torch.cdist``). The p-norm is one op, ``ops.linalg.VectorNorm``."""
import math
import numbers

import numpy as np

from . import _dtype
from .arguments import normalize_dims
from .ops.linalg import VectorNorm


def _type_name(dtype):
    """PyTorch's name of a dtype in messages: Long, Float, …"""
    return _dtype.TYPE_NAMES.get(np.dtype(dtype), str(dtype))


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """‖x‖ₚ = (Σ|xᵢ|ᵖ)^(1/p) over ``dim`` (an int, a tuple, or None and [] for all elements),
    ``ord`` p any number: inf is max|xᵢ|, -inf min|xᵢ|, 0 the number of nonzeros. With
    ``dtype`` x is converted first. The gradient is PyTorch's (0 where the norm is 0)."""
    if isinstance(ord, bool) or not isinstance(ord, numbers.Real):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not "
                        f"{type(ord).__name__}")
    if dtype is not None:
        if not _dtype.is_float(_dtype.as_dtype(dtype)):
            raise RuntimeError(f"linalg.vector_norm: dtype should be floating point or "
                               f"complex, but got {_type_name(dtype)}")
        x = x.to(dtype)
    if not _dtype.is_float(x.dtype):
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor "
                           f"as input. Got {_type_name(x.dtype)}")
    dims = normalize_dims(None if dim is None or dim == [] or dim == () else dim, x.ndim)
    if ord < 0 or ord == math.inf:
        if any(x.shape[d] == 0 for d in dims) or x.numel() == 0 and not dims:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord:g} norm on an "
                               "empty tensor because the operation does not have an identity")
    return VectorNorm.apply(x, ord=float(ord), dims=dims, keepdim=keepdim)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """The vector norm of ``A`` over ``dim`` (an int or 1-tuple), or the matrix norm over a
    2-tuple ``dim``; without ``dim``, ord None is the 2-norm of all elements, else A must be
    a vector or a matrix. Matrix norms: ord None or 'fro' only, √(Σ aᵢⱼ²) (the others need
    singular values or are not written: a NotImplementedError)."""
    if dim is not None:
        dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
        if len(dims) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or "
                               f"2. Got {list(dims)}")
    elif ord is None:
        return vector_norm(A.reshape(-1), 2, keepdim=False, dtype=dtype).reshape(
            (1,) * A.ndim if keepdim else ())
    elif A.ndim in (1, 2):
        dims = tuple(range(A.ndim))
    else:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                           f"be 1D or 2D. Got {A.ndim}D.")
    if len(dims) == 1:
        if isinstance(ord, str) and dim is None:                # 'fro' of a vector
            raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                               "dimensions.")
        if isinstance(ord, str):
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dims[0]}")
        return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    if ord not in (None, "fro"):
        if ord in ("nuc", 2, -2, 1, -1, math.inf, -math.inf):
            raise NotImplementedError(f"linalg.norm: minigrad computes the Frobenius matrix "
                                      f"norm only (ord=None or 'fro'), not ord={ord!r}")
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    return vector_norm(A, 2, dims, keepdim, dtype=dtype)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distance of every row of x1 (…, P, M) to every row of x2 (…, R, M):
    out[…, i, j] = ‖x1[…, i, :] − x2[…, j, :]‖ₚ, shape (…, P, R), the batch dims broadcast.
    Computed as that formula for every p ≥ 0 (PyTorch may use a matrix product for p = 2,
    which rounds differently), with the norm's gradient (0 for two equal points)."""
    for name, x in (("X1", x1), ("X2", x2)):
        if x.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: "
                               f"{x.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    try:
        np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    except ValueError:
        raise RuntimeError(f"cdist: the batch dims {x1.shape[:-2]} and {x2.shape[:-2]} cannot "
                           "be broadcast together") from None
    if not _dtype.is_float(x1.dtype) or not _dtype.is_float(x2.dtype):
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: "
                           f"{_type_name(x1.dtype)}")
    difference = x1.unsqueeze(-2) - x2.unsqueeze(-3)           # (…, P, R, M)
    return vector_norm(difference, p, dim=-1)
