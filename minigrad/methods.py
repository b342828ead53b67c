"""More of PyTorch's Tensor methods (a mixin of the Tensor): arithmetic with ``alpha``,
``min``, softmax, indexing by index tensors (gather, scatter, index_select, masked_fill),
sorting (sort, topk), splitting (split, chunk, unbind), batched products, variance, bitwise
logic on bool tensors, and ``half()``. Each is PyTorch's signature and result, built on the
ops in ``minigrad.ops``; the ``torch.``-style functions in ``minigrad.functions`` call them."""
import collections
import math
import numbers

import numpy as np

from . import _dtype
from .arguments import normalize_dim
from .device import move
from .ops import activations as A
from .ops import arrange as R
from .ops import index as I
from .ops import layers as L

# PyTorch's torch.return_types: a (values, indices) pair with those field names
MinResult = collections.namedtuple("min", ["values", "indices"])
SortResult = collections.namedtuple("sort", ["values", "indices"])
TopkResult = collections.namedtuple("topk", ["values", "indices"])


class MethodsMixin:
    """PyTorch's Tensor methods beyond the core ones in ``tensor.py``."""

    # ---- arithmetic as methods -----------------------------------------------------------
    def add(self, other, alpha=1):
        """self + alpha·other."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        """self − alpha·other."""
        return self - (other if alpha == 1 else other * alpha)

    subtract = sub

    def mul(self, other):
        return self * other

    multiply = mul

    def div(self, other, rounding_mode=None):
        """self / other; ``rounding_mode="floor"`` rounds the quotient down (``//``),
        ``"trunc"`` toward zero (both without a gradient, as PyTorch's are zero)."""
        if rounding_mode is None:
            return self / other
        if rounding_mode == "floor":
            return self // other
        if rounding_mode == "trunc":
            a, b = self._operand(other, "trunc")
            xp = a.xp
            with np.errstate(divide="ignore", invalid="ignore"):
                if _dtype.is_float(a.dtype):
                    q = xp.trunc(a._data / b._data)
                else:
                    q = xp.sign(a._data) * xp.sign(b._data) * (abs(a._data) // abs(b._data))
            return type(self)._wrap(q.astype(a.dtype))
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found '{rounding_mode}'")

    divide = true_divide = div

    def pow(self, exponent):
        return self ** exponent

    def neg(self):
        return -self

    negative = neg

    def square(self):
        return self * self

    def rsqrt(self):
        return 1 / self.sqrt()

    def log1p(self):
        """ln(1 + x), exact for tiny x."""
        return A.Log1p.apply(self._floating())

    def relu_(self):
        """ReLU in place (``F.relu(x, inplace=True)``, ``nn.ReLU(inplace=True)``)."""
        return self._arith_inplace("relu_", None, lambda t, _: L.ReLU.apply(t))

    def matmul(self, other):
        return self @ other

    def mm(self, other):
        """Matrix product of two 2-D tensors (no broadcasting, as PyTorch)."""
        if self.ndim != 2 or getattr(other, "ndim", 0) != 2:
            raise RuntimeError(f"mm: expected two 2-D tensors, got {self.ndim}-D and "
                               f"{getattr(other, 'ndim', 0)}-D")
        return self @ other

    def bmm(self, other):
        """Batched matrix product of (b, n, m) and (b, m, p) tensors: (b, n, p)."""
        if self.ndim != 3 or getattr(other, "ndim", 0) != 3:
            raise RuntimeError(f"bmm: batch1 must be a 3D tensor (got {self.ndim}-D) and "
                               f"batch2 too (got {getattr(other, 'ndim', 0)}-D)")
        if self.shape[0] != other.shape[0]:
            raise RuntimeError(f"bmm: batch sizes differ: {self.shape[0]} and "
                               f"{other.shape[0]}")
        return self @ other

    # ---- minimum ------------------------------------------------------------------------
    def min(self, dim=None, keepdim=False):
        """Smallest element; with ``dim``, the pair (values, indices); with a tensor, the
        elementwise minimum — as PyTorch. min(x) = flip(max(flip(x))), so the gradient rules
        are max's (see ``_flip``)."""
        if isinstance(dim, MethodsMixin):
            return self.minimum(dim)
        if dim is None:
            return _flip(_flip(self).max())
        values, _ = _flip(self).max(dim, keepdim)
        return MinResult(_flip(values), self.argmin(dim, keepdim))

    def argmin(self, dim=None, keepdim=False):
        if dim is None:
            return type(self)._wrap(self._data.argmin().astype(np.int64))
        d = normalize_dim(dim, self.ndim)
        if self.ndim == 0:
            return type(self)._wrap(np.zeros((), np.int64))
        idx = self._data.argmin(axis=d).astype(np.int64)
        return type(self)._wrap(self.xp.expand_dims(idx, d) if keepdim else idx)

    def minimum(self, other):
        """Elementwise min: flip(maximum(flip(a), flip(b))) in the dtype of the result."""
        a, b = self._operand(other, "minimum")
        return _flip(_flip(a).maximum(_flip(b)))

    # ---- statistics ---------------------------------------------------------------------
    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """Σ (x − mean)² / (N − correction); correction 1 (Bessel's) unless ``unbiased`` is
        False or ``correction`` says otherwise."""
        if correction is None:
            correction = 0 if unbiased is False else 1
        n = self.numel() if dim is None else math.prod(
            self.shape[d] for d in _dims(dim, self.ndim))
        centred = self - self.mean(dim, keepdim=True)
        return (centred * centred).sum(dim, keepdim=keepdim) / max(n - correction, 0)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()

    # ---- softmax ------------------------------------------------------------------------
    def softmax(self, dim, dtype=None):
        """e^x / Σ e^x along ``dim`` (computed in ``dtype`` if given)."""
        x = (self if dtype is None else self.to(dtype))._floating()
        return A.Softmax.apply(x, dim=normalize_dim(dim, x.ndim))

    def log_softmax(self, dim, dtype=None):
        """x − log Σ e^x along ``dim`` (computed in ``dtype`` if given)."""
        x = (self if dtype is None else self.to(dtype))._floating()
        return L.LogSoftmax.apply(x, dim=normalize_dim(dim, x.ndim))

    # ---- indexing by index tensors ------------------------------------------------------
    def gather(self, dim, index):
        """out[i] = self[i₀, …, index[i], …] (index[i] along ``dim``); out has index's
        shape, which may be smaller than self's in the other dims."""
        d = normalize_dim(dim, self.ndim)
        idx = self._index_tensor("gather", index, d)
        return I.Gather.apply(self, idx, dim=d)

    def scatter(self, dim, index, src=None, value=None, *, reduce=None):
        """A copy of self with out[i₀, …, index[i], …] = src[i] (or a number ``value``)."""
        if reduce is not None:
            raise NotImplementedError("scatter(reduce=...) is not supported; use "
                                      "scatter_add for 'add'")
        if src is None:
            src = value
        d = normalize_dim(dim, self.ndim)
        idx = self._index_tensor("scatter", index, d)
        if isinstance(src, MethodsMixin):
            src = self._source("scatter", src, idx)
            return I.Scatter.apply(self, idx, src, dim=d)
        if not isinstance(src, numbers.Number):
            raise TypeError(f"scatter: src must be a tensor or a number, got "
                            f"{type(src).__name__}")
        return I.Scatter.apply(self, idx, self.dtype.type(src).item(), dim=d)

    def scatter_add(self, dim, index, src):
        """A copy of self with src[i] added at out[i₀, …, index[i], …] (repeats add up)."""
        d = normalize_dim(dim, self.ndim)
        idx = self._index_tensor("scatter_add", index, d)
        return I.ScatterAdd.apply(self, idx, self._source("scatter_add", src, idx), dim=d)

    def index_select(self, dim, index):
        """The slices number index[0], index[1], … along ``dim`` (index 1-D int64 or
        int32)."""
        d = normalize_dim(dim, self.ndim)
        if getattr(index, "ndim", None) not in (0, 1):
            raise IndexError("index_select(): Expected a 1-D (or 0-D) int64 index tensor")
        if index.dtype not in (_dtype.int64, _dtype.int32):
            raise IndexError("index_select(): Expected dtype int32 or int64 for index")
        idx = move(index._data.reshape(-1), self.device).astype(np.int64, copy=False)
        if idx.size and self.device.type == "cpu" and \
                (idx.min() < -self.shape[d] or idx.max() >= self.shape[d]):
            raise IndexError(f"index_select(): index out of range in self (size "
                             f"{self.shape[d]} along dim {d})")
        return I.IndexSelect.apply(self, idx % max(self.shape[d], 1), dim=d)

    def masked_fill(self, mask, value):
        """``value`` where ``mask`` (a bool tensor broadcastable to self) holds, else self."""
        if getattr(mask, "dtype", None) != _dtype.bool_:
            raise RuntimeError("masked_fill only supports boolean masks, but got mask with "
                               f"dtype {getattr(mask, 'dtype', type(mask).__name__)}")
        if isinstance(value, MethodsMixin):
            if value.ndim != 0:
                raise RuntimeError("masked_fill only supports a 0-dimensional value tensor, "
                                   f"but got tensor with {value.ndim} dimension(s).")
            value = value.item()
        try:
            if np.broadcast_shapes(mask.shape, self.shape) != self.shape:
                raise ValueError
        except ValueError:
            raise RuntimeError(f"masked_fill: the mask of shape {mask.shape} cannot be "
                               f"broadcast to {self.shape}") from None
        return I.MaskedFill.apply(self, move(mask._data, self.device), value)

    def _index_tensor(self, op, index, d):
        if getattr(index, "dtype", None) not in (_dtype.int64, _dtype.int32):
            raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index")
        if index.ndim != self.ndim:
            raise RuntimeError(f"{op}(): Index tensor must have the same number of "
                               f"dimensions as self tensor")
        if any(n > m for i, (n, m) in enumerate(zip(index.shape, self.shape)) if i != d):
            raise RuntimeError(f"{op}(): Size does not match at a dim other than {d}: index "
                               f"{index.shape}, self {self.shape}")
        idx = move(index._data, self.device)
        if idx.size and self.device.type == "cpu":
            bad = idx[(idx < 0) | (idx >= self.shape[d])]
            if bad.size:
                raise RuntimeError(f"{op}(): index {int(bad[0])} is out of bounds for "
                                   f"dimension {d} with size {self.shape[d]}")
        return idx.astype(np.int64, copy=False)

    def _source(self, op, src, idx):
        if src.dtype != self.dtype:
            raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype")
        if src.ndim != self.ndim or any(n > m for n, m in zip(idx.shape, src.shape)):
            raise RuntimeError(f"{op}(): src {src.shape} must cover the index {idx.shape}")
        return src

    # ---- sorting ------------------------------------------------------------------------
    def sort(self, dim=-1, descending=False, stable=False):
        """(values, indices) sorted along ``dim`` (equal values keep their order)."""
        d = normalize_dim(dim, self.ndim)
        idx = self.argsort(d, descending)
        return SortResult(self.gather(d, idx) if self.ndim else self, idx)

    def argsort(self, dim=-1, descending=False, stable=False):
        d = normalize_dim(dim, self.ndim)
        if self.ndim == 0:
            return type(self)._wrap(np.zeros((), np.int64))
        xp, a = self.xp, self._data
        if descending:          # a stable sort of the reversed order keeps ties in order
            a = -a if a.dtype != np.bool_ else ~a
        return type(self)._wrap(xp.argsort(a, axis=d, kind="stable").astype(np.int64))

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """The k largest (or smallest) elements along ``dim`` and their indices."""
        d = normalize_dim(dim, self.ndim)
        n = self.shape[d] if self.ndim else 1
        if not 0 <= k <= n:
            raise RuntimeError(f"selected index k out of range (k={k}, size {n})")
        order = self.argsort(d, descending=largest)
        if self.ndim == 0:
            return TopkResult(self, order)
        idx = order[(slice(None),) * d + (slice(0, k),)]
        return TopkResult(self.gather(d, idx), idx)

    # ---- splitting ----------------------------------------------------------------------
    def narrow(self, dim, start, length):
        d = normalize_dim(dim, self.ndim)
        if start < 0:
            start += self.shape[d]
        if not (0 <= start and start + length <= self.shape[d] and length >= 0):
            raise RuntimeError(f"narrow(): start {start} + length {length} exceeds dimension "
                               f"size ({self.shape[d]}).")
        return self[(slice(None),) * d + (slice(start, start + length),)]

    def select(self, dim, index):
        d = normalize_dim(dim, self.ndim)
        return self[(slice(None),) * d + (index,)]

    def split(self, split_size_or_sections, dim=0):
        """Pieces along ``dim``: of ``split_size`` each (the last may be smaller), or of the
        sizes listed. Each is a view, as in PyTorch."""
        d = normalize_dim(dim, self.ndim)
        n = self.shape[d]
        if isinstance(split_size_or_sections, (list, tuple)):
            sizes = list(split_size_or_sections)
            if sum(sizes) != n:
                raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to "
                                   f"{n} (input tensor's size at dimension {d}), but got "
                                   f"split_sizes={sizes}")
        else:
            size = int(split_size_or_sections)
            if size <= 0 and n > 0:
                raise RuntimeError(f"split expects split_size be non-negative, but got "
                                   f"split_size={size}")
            sizes = [min(size, n - s) for s in range(0, n, size)] if n else [0]
        starts = np.cumsum([0] + sizes[:-1])
        return tuple(self.narrow(d, int(s), int(m)) for s, m in zip(starts, sizes))

    def chunk(self, chunks, dim=0):
        """At most ``chunks`` pieces of ceil(n / chunks) each (as PyTorch: maybe fewer)."""
        if chunks <= 0:
            raise RuntimeError("chunk expects `chunks` to be greater than 0")
        n = self.shape[normalize_dim(dim, self.ndim)]
        return self.split(max(-(-n // chunks), 1), dim)

    def unbind(self, dim=0):
        """The slices along ``dim``, that dim removed."""
        d = normalize_dim(dim, self.ndim)
        return tuple(self.select(d, i) for i in range(self.shape[d]))

    # ---- logic on bool (and integer) tensors ---------------------------------------------
    def _bitwise(self, other, name, fn):
        a, b = self._operand(other, name)
        if _dtype.is_float(a.dtype):
            raise RuntimeError(f'"{name}_cpu" not implemented for '
                               f"'{_dtype.tensor_type_name(a.dtype)[9:-6]}'")
        return type(self)._wrap(fn(a._data, b._data))

    def __and__(self, o): return self._bitwise(o, "bitwise_and", lambda a, b: a & b)
    def __or__(self, o): return self._bitwise(o, "bitwise_or", lambda a, b: a | b)
    def __xor__(self, o): return self._bitwise(o, "bitwise_xor", lambda a, b: a ^ b)
    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__
    bitwise_and, bitwise_or, bitwise_xor = __and__, __or__, __xor__

    def bitwise_not(self):
        return ~self

    def logical_and(self, other):
        return type(self)._wrap((self != 0)._data & _as_bool(other, self))

    def logical_or(self, other):
        return type(self)._wrap((self != 0)._data | _as_bool(other, self))

    def logical_xor(self, other):
        return type(self)._wrap((self != 0)._data ^ _as_bool(other, self))

    # ---- repeating, reversing, masking ------------------------------------------------
    def expand(self, *sizes):
        """This tensor broadcast to ``sizes`` (-1 keeps a dim), a view without copying."""
        sizes = _sizes(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be "
                               f"greater or equal to the number of dimensions in the tensor "
                               f"({self.ndim})")
        shape = tuple(self.shape[i - lead] if n == -1 and i >= lead else n
                      for i, n in enumerate(sizes))
        for i, n in enumerate(self.shape):
            if n != 1 and n != shape[lead + i]:
                raise RuntimeError(f"The expanded size of the tensor ({shape[lead + i]}) must "
                                   f"match the existing size ({n}) at non-singleton dimension "
                                   f"{lead + i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                                   f"{list(self.shape)}")
        return R.Expand.apply(self, shape=shape)

    def expand_as(self, other):
        return self.expand(other.shape)

    def repeat(self, *sizes):
        """This tensor tiled sizes[i] times along dim i (a copy)."""
        sizes = _sizes(sizes)
        if len(sizes) < self.ndim:
            raise RuntimeError("Number of dimensions of repeat dims can not be smaller than "
                               "number of dimensions of tensor")
        return R.Repeat.apply(self, reps=sizes)

    def flip(self, *dims):
        dims = tuple(normalize_dim(d, self.ndim) for d in _sizes(dims))
        return R.Flip.apply(self, dims=dims)

    def tril(self, diagonal=0):
        """Zeros above the ``diagonal``-th diagonal (of the last two dims)."""
        if self.ndim < 2:
            raise RuntimeError("tril: input tensor must have at least 2 dimensions")
        return R.Triangle.apply(self, diagonal=int(diagonal), lower=True)

    def triu(self, diagonal=0):
        """Zeros below the ``diagonal``-th diagonal (of the last two dims)."""
        if self.ndim < 2:
            raise RuntimeError("triu: input tensor must have at least 2 dimensions")
        return R.Triangle.apply(self, diagonal=int(diagonal), lower=False)

    def cumsum(self, dim):
        """Running sums along ``dim`` (integers and bools sum as int64)."""
        a = self if _dtype.is_float(self.dtype) or self.dtype == _dtype.int64 else self.long()
        return R.Cumsum.apply(a, dim=normalize_dim(dim, self.ndim))

    def masked_fill_(self, mask, value):
        """``masked_fill`` written into this tensor."""
        return self._arith_inplace("masked_fill_", None, lambda t, _: t.masked_fill(mask, value))

    # ---- more elementwise math -----------------------------------------------------------
    def sin(self):
        return A.Sin.apply(self._floating())

    def cos(self):
        return A.Cos.apply(self._floating())

    def _step(self, how):
        if how != "sign" and not _dtype.is_float(self.dtype):
            return self.clone()                 # integers are already whole
        return A.Step.apply(self, how=how)

    def floor(self): return self._step("floor")
    def ceil(self): return self._step("ceil")
    def trunc(self): return self._step("trunc")
    def sign(self): return self._step("sign")

    def round(self, decimals=0):
        """Round half to even, as PyTorch (and NumPy) do."""
        if decimals:
            return (self * 10 ** decimals)._step("round") / 10 ** decimals
        return self._step("round")

    def norm(self, p="fro", dim=None, keepdim=False):
        """The p-norm (2 for "fro") of all elements or along ``dim``: (Σ|x|ᵖ)^(1/p); inf is
        max |x|."""
        if p == "fro":
            p = 2
        if p == float("inf"):
            return self.abs().amax(dim, keepdim) if dim is not None else self.abs().max()
        if p == 2:
            return (self * self).sum(dim, keepdim=keepdim).sqrt()
        return (self.abs() ** p).sum(dim, keepdim=keepdim) ** (1.0 / p)

    def amax(self, dim=None, keepdim=False):
        if dim is None:
            return self.max()
        out = self
        for d in sorted(_dims(dim, self.ndim), reverse=True):
            out = out.max(d, keepdim=keepdim).values
        return out

    def dot(self, other):
        if self.ndim != 1 or getattr(other, "ndim", 0) != 1:
            raise RuntimeError(f"1D tensors expected, but got {self.ndim}D and "
                               f"{getattr(other, 'ndim', 0)}D tensors")
        return self @ other

    def outer(self, other):
        return self.reshape(-1, 1) * other.reshape(1, -1)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        a, b = self._operand(other, "isclose")
        return type(self)._wrap(a.xp.isclose(a._data, b._data, rtol, atol, equal_nan))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return bool(self.isclose(other, rtol, atol, equal_nan).all())

    def equal(self, other):
        """True if ``other`` has this shape and the same elements (a Python bool)."""
        return self.shape == other.shape and bool((self == other).all())

    # ---- compositions of the ops above ----------------------------------------------------
    def t(self):
        """The transpose of a matrix (a vector or a number as it is)."""
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self.ndim}D")
        return self.transpose(0, 1) if self.ndim == 2 else self

    def swapaxes(self, axis0, axis1):
        return self.transpose(axis0, axis1)

    swapdims = swapaxes

    def movedim(self, source, destination):
        """Dim ``source`` moved to position ``destination``, the others in order."""
        src = normalize_dim(source, self.ndim)
        order = [d for d in range(self.ndim) if d != src]
        order.insert(normalize_dim(destination, self.ndim), src)
        return self.permute(*order)

    moveaxis = movedim

    def unflatten(self, dim, sizes):
        d = normalize_dim(dim, self.ndim)
        from .arguments import resolve_shape
        sizes = resolve_shape(tuple(sizes), (self.shape[d],))
        return self.reshape(self.shape[:d] + tuple(sizes) + self.shape[d + 1:])

    def ravel(self):
        return self.reshape(-1)

    def broadcast_to(self, size):
        return self.expand(size)

    def tile(self, *dims):
        dims = _sizes(dims)
        return self.repeat((1,) * (self.ndim - len(dims)) + dims)

    def roll(self, shifts, dims=None):
        """Elements shifted along ``dims`` by ``shifts``, wrapping around."""
        if dims is None:
            return self.reshape(-1).roll(shifts, 0).reshape(self.shape)
        shifts = shifts if isinstance(shifts, (tuple, list)) else (shifts,)
        dims = dims if isinstance(dims, (tuple, list)) else (dims,)
        from .functions import cat
        out = self
        for shift, dim in zip(shifts, dims):
            d = normalize_dim(dim, self.ndim)
            n = self.shape[d]
            k = shift % n if n else 0
            if k:
                out = cat([out.narrow(d, n - k, k), out.narrow(d, 0, n - k)], d)
        return out

    def logsumexp(self, dim, keepdim=False):
        """log Σ eˣ along ``dim``, computed as m + log Σ e^(x − m) with m the max (so it
        cannot overflow; m is held constant, its gradient cancels anyway)."""
        x = self._floating()
        m = x.detach().amax(dim, keepdim=True)
        m = m.masked_fill(~m.isfinite(), 0.0)
        out = (x - m).exp().sum(dim, keepdim=True).log() + m
        return out if keepdim else out.squeeze(dim)

    def reciprocal(self):
        return 1 / self._floating()

    def expm1(self):
        return self._floating().exp() - 1

    def log2(self):
        return self.log() / math.log(2)

    def log10(self):
        return self.log() / math.log(10)

    def clamp_min(self, min):
        return self.clamp(min=min)

    def clamp_max(self, max):
        return self.clamp(max=max)

    def remainder(self, other):
        return self % other

    def where(self, condition, other):
        """self where ``condition`` holds, else ``other``."""
        from .creation import where
        return where(condition, self, other)

    def masked_select(self, mask):
        """The elements where ``mask`` (broadcast to this shape) holds, as a 1-D tensor."""
        return self[mask.expand(self.shape) if mask.shape != self.shape else mask]

    # ---- tests and counts (no gradient) ---------------------------------------------------
    def isnan(self): return type(self)._wrap(self.xp.isnan(self._data))
    def isinf(self): return type(self)._wrap(self.xp.isinf(self._data))
    def isfinite(self): return type(self)._wrap(self.xp.isfinite(self._data))

    def is_floating_point(self):
        return _dtype.is_float(self.dtype)

    def element_size(self):
        return self.dtype.itemsize

    def nonzero(self, as_tuple=False):
        """The indices of the non-zero elements: (n, ndim) int64, or one tensor per dim."""
        idx = self.xp.nonzero(self._data)
        if as_tuple:
            return tuple(type(self)._wrap(i.astype(np.int64)) for i in idx)
        return type(self)._wrap(self.xp.stack(idx, axis=1).astype(np.int64) if idx else
                                self.xp.zeros((int(bool(self._data)), 0), np.int64))

    def count_nonzero(self, dim=None):
        return (self != 0).sum(dim)

    def type(self, dtype=None):
        """Without an argument, the type's name (minigrad.FloatTensor); with a dtype, this
        tensor converted to it (``(pred == y).type(torch.float)``)."""
        if dtype is None:
            from .tensor import type_name
            return type_name(self)
        return self.to(dtype)

    # ---- in-place forms of the elementwise math ------------------------------------------
    def exp_(self): return self._arith_inplace("exp_", None, lambda t, _: t.exp())
    def log_(self): return self._arith_inplace("log_", None, lambda t, _: t.log())
    def sqrt_(self): return self._arith_inplace("sqrt_", None, lambda t, _: t.sqrt())
    def abs_(self): return self._arith_inplace("abs_", None, lambda t, _: t.abs())
    def neg_(self): return self._arith_inplace("neg_", None, lambda t, _: -t)
    def sigmoid_(self): return self._arith_inplace("sigmoid_", None, lambda t, _: t.sigmoid())
    def tanh_(self): return self._arith_inplace("tanh_", None, lambda t, _: t.tanh())
    def square_(self): return self._arith_inplace("square_", None, lambda t, _: t * t)

    def bernoulli(self, generator=None):
        """1 with probability self (elementwise), else 0, in self's dtype."""
        from . import random
        p = np.asarray(self.detach().cpu()._data, dtype=np.float64)
        draws = (random.generator(generator).random(p.shape) < p).astype(self.dtype)
        return type(self)._wrap(move(draws, self.device))

    # ---- new tensors like this one --------------------------------------------------------
    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        from .creation import zeros
        return zeros(*size, dtype=dtype or self.dtype, device=device or self.device,
                     requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        from .creation import ones
        return ones(*size, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from .creation import full
        return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        return type(self)(data, dtype=dtype or self.dtype, device=device or self.device,
                          requires_grad=requires_grad)

    # ---- sampling -------------------------------------------------------------------------
    def multinomial(self, num_samples, replacement=False, generator=None):
        """Indices drawn with probability proportional to this tensor's values (1-D, or one
        draw per row of a 2-D tensor), from minigrad's generator."""
        from . import random
        probs = np.asarray(self.detach().cpu()._data, dtype=np.float64)
        rows = probs.reshape(-1, probs.shape[-1]) if probs.ndim else probs.reshape(1, 1)
        if (rows < 0).any() or not np.isfinite(rows).all() or (rows.sum(1) <= 0).any():
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0 "
                               "or a negative, inf or nan probability)")
        if not replacement and num_samples > rows.shape[1]:
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                               "replacement")
        if not replacement and num_samples > (rows > 0).sum(1).min():
            # PyTorch then returns categories of probability 0; minigrad refuses
            raise RuntimeError("multinomial: fewer categories of non-zero probability than "
                               "samples asked for without replacement")
        g = random.generator(generator)
        out = np.stack([g.choice(rows.shape[1], size=num_samples, replace=replacement,
                                 p=r / r.sum()) for r in rows]).astype(np.int64)
        out = out.reshape(probs.shape[:-1] + (num_samples,))
        return type(self)._wrap(move(out, self.device))

    # ---- dtypes -------------------------------------------------------------------------
    def half(self):
        """float16 (arithmetic on the CPU; the GPU kernels are float and double only)."""
        return self.to(_dtype.float16)

    def type_as(self, other):
        return self.to(other.dtype)


def _sizes(sizes):
    """``f(2, 3)`` and ``f((2, 3))`` (or a torch.Size) both as (2, 3)."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    return tuple(int(n) for n in sizes)


def _dims(dim, ndim):
    from .arguments import normalize_dims
    return normalize_dims(dim, ndim)


def _as_bool(other, like):
    if isinstance(other, MethodsMixin):
        return move((other != 0)._data, like.device)
    return like.xp.asarray(bool(other))


def _flip(t):
    """An exact order-reversing map that is its own inverse: −x for floats, ~x for integers
    and bools (−x is not one there: in int8 −(−128) is −128, in uint8 −0 is 0 but −1 is 255)."""
    return -t if _dtype.is_float(t.dtype) else ~t
