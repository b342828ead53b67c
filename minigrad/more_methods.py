"""Still more of PyTorch's Tensor methods (a mixin of the Tensor), the names tutorials type:
products (prod, cumprod), repeat_interleave, amin/aminmax, diagonals (diag,
diagonal, trace), more math (tan, sinh, cosh, erf, atan2, lerp, addcmul, addcdiv, mv),
comparison aliases, tensor_split, unique, argwhere, index_add/index_fill and the in-place
scatter_/scatter_add_/index_add_/index_fill_/unsqueeze_/squeeze_, hooks (register_hook,
retain_grad), and facts about memory (stride, is_contiguous, nbytes, …). Each has PyTorch's
signature and result, built on the ops in ``minigrad.ops``."""
import collections
import numbers

import numpy as np

from . import _dtype, autograd
from .arguments import normalize_dim
from .autograd import is_grad_enabled
from .device import move
from .ops import index as IX
from .ops import products as P
from .ops import shape as S

AminmaxResult = collections.namedtuple("aminmax", ["min", "max"])


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` takes the hook off again."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _check_expands_to(shape, target):
    """PyTorch's errors when a tensor of ``shape`` cannot be broadcast to ``target``."""
    if len(shape) > len(target):
        raise RuntimeError(f"expand(tensor{{{list(shape)}}}, size={list(target)}): the number "
                           f"of sizes provided ({len(target)}) must be greater or equal to "
                           f"the number of dimensions in the tensor ({len(shape)})")
    for d in range(1, len(shape) + 1):
        if shape[-d] not in (1, target[-d]):
            raise RuntimeError(f"The expanded size of the tensor ({target[-d]}) must match the "
                               f"existing size ({shape[-d]}) at non-singleton dimension "
                               f"{len(target) - d}.  Target sizes: {list(target)}.  Tensor "
                               f"sizes: {list(shape)}")


class MoreMethodsMixin:
    """PyTorch's Tensor methods beyond those of ``tensor.py`` and ``methods.py``."""

    # ---- products -----------------------------------------------------------------------
    def prod(self, dim=None, keepdim=False, *, dtype=None):
        """The product of all elements, or along ``dim``; integers and bools multiply as
        int64. The gradient is right with zeros among the elements (no division)."""
        a = self._reduce_dtype(dtype)
        if dim is None:
            return P.Prod.apply(a, dim=None, keepdim=False)
        return P.Prod.apply(a, dim=normalize_dim(dim, self.ndim), keepdim=bool(keepdim))

    def cumprod(self, dim, *, dtype=None):
        """Running products along ``dim`` (integers and bools multiply as int64)."""
        return P.Cumprod.apply(self._reduce_dtype(dtype), dim=normalize_dim(dim, self.ndim))

    def _reduce_dtype(self, dtype):
        if dtype is not None:
            return self.to(_dtype.as_dtype(dtype))
        return self if _dtype.is_float(self.dtype) else self.long()

    # ---- repeat_interleave, amin, aminmax -------------------------------------------------
    def repeat_interleave(self, repeats=None, dim=None, *, output_size=None):
        """Each element (each slice along ``dim``; of the flattened tensor when dim is None)
        repeated ``repeats`` times: an int, or a tensor of one count per element/slice.
        ``t.repeat_interleave()`` of an integer tensor t is arange(len(t)) repeated t times
        (``torch.repeat_interleave(t)``)."""
        if repeats is None:                   # torch.repeat_interleave(counts)
            if self.ndim != 1 or _dtype.is_float(self.dtype):
                raise RuntimeError("repeat_interleave: repeats must be a 1-D integer tensor")
            counts = np.asarray(move(self._data, "cpu"))
            return type(self)._wrap(move(np.repeat(np.arange(len(counts)), counts),
                                         self.device))
        x = self.reshape(-1) if dim is None else self
        d = 0 if dim is None else normalize_dim(dim, self.ndim)
        n = x.shape[d] if x.ndim else 1
        if isinstance(repeats, MoreMethodsMixin):
            if _dtype.is_float(repeats.dtype) or repeats.ndim > 1:
                raise RuntimeError("repeat_interleave: repeats must be an integer tensor of "
                                   "0 or 1 dims")
            counts = np.asarray(move(repeats._data, "cpu")).reshape(-1)
        elif isinstance(repeats, numbers.Integral):
            counts = np.asarray([int(repeats)])
        else:
            raise TypeError(f"repeat_interleave: repeats must be an int or a tensor, got "
                            f"{type(repeats).__name__}")
        if (counts < 0).any():
            raise RuntimeError("repeat_interleave: repeats can not be negative")
        if counts.size not in (1, n):
            raise RuntimeError(f"repeat_interleave: repeats must have the same size as input "
                               f"along dim, but got repeats.size(0) = {counts.size} and "
                               f"input.size({d}) = {n}")
        index = np.repeat(np.arange(n), counts if counts.size == n else int(counts[0]))
        if output_size is not None and len(index) != output_size:
            raise RuntimeError(f"repeat_interleave: output_size {output_size} is not the "
                               f"output's size {len(index)}")
        if x.ndim == 0:
            x = x.reshape(1)
        return x.index_select(d, type(self)._wrap(index.astype(np.int64)))

    def amin(self, dim=None, keepdim=False):
        """The smallest elements over ``dim`` (an int or a tuple; all when None)."""
        flip = (lambda t: -t) if _dtype.is_float(self.dtype) else (lambda t: ~t)  # exact
        return flip(flip(self).amax(dim, keepdim))

    def aminmax(self, *, dim=None, keepdim=False):
        """(min, max) together, over all elements or along ``dim``."""
        return AminmaxResult(self.amin(dim, keepdim), self.amax(dim, keepdim))

    # ---- diagonals ----------------------------------------------------------------------
    def diagonal(self, offset=0, dim1=0, dim2=1):
        """The ``offset``-th diagonal of the matrices in dims (dim1, dim2), as a last dim
        (above the main one for offset > 0, below it for offset < 0)."""
        d1, d2 = normalize_dim(dim1, self.ndim), normalize_dim(dim2, self.ndim)
        if d1 == d2:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        moved = self.permute(*[i for i in range(self.ndim) if i not in (d1, d2)], d1, d2)
        rows, cols = moved.shape[-2], moved.shape[-1]
        first_row, first_col = max(-offset, 0), max(offset, 0)
        n = max(min(rows - first_row, cols - first_col), 0)
        i = np.arange(n) + first_row
        return moved[..., i, i - first_row + first_col]

    def diag(self, diagonal=0):
        """Of a matrix: its ``diagonal``-th diagonal (1-D). Of a vector: the square matrix
        with the vector on that diagonal and zeros elsewhere."""
        if self.ndim == 2:
            return self.diagonal(diagonal)
        if self.ndim != 1:
            raise RuntimeError("diag(): Supports 1D or 2D tensors. Got "
                               f"{self.ndim}D")
        from .functions import cat
        n, k = self.shape[0], abs(diagonal)
        # row i of an (n, n + k) block holds v[i] at column i (+ k above the main diagonal),
        # then k zero rows go below it (above the main diagonal) or above it (below)
        cols = np.arange(n) + max(diagonal, 0)
        zeros = type(self)._wrap(self.xp.zeros((n, n + k), self.dtype))
        index = type(self)._wrap(move(cols.reshape(n, 1), self.device))
        block = zeros.scatter(1, index, self.reshape(n, 1))
        pad = type(self)._wrap(self.xp.zeros((k, n + k), self.dtype))
        return cat([block, pad] if diagonal >= 0 else [pad, block])

    def trace(self):
        """The sum of the main diagonal of a matrix."""
        if self.ndim != 2:
            raise RuntimeError(f"trace: expected a matrix, but got tensor with dim "
                               f"{self.ndim}")
        return self.diagonal().sum()

    # ---- more math ----------------------------------------------------------------------
    def tan(self): return P.Tan.apply(self._floating())
    def sinh(self): return P.Sinh.apply(self._floating())
    def cosh(self): return P.Cosh.apply(self._floating())
    def erf(self): return P.Erf.apply(self._floating())

    def atan2(self, other):
        """The angle of the point (other, self), elementwise, in (−π, π]."""
        a, b = self._operand(other, "atan2")
        if not _dtype.is_float(a.dtype):
            a, b = a.float(), b.float()
        return P.Atan2.apply(a, b)

    arctan2 = atan2

    def lerp(self, end, weight):
        """self + weight·(end − self)."""
        return self + weight * (end - self)

    def addcmul(self, tensor1, tensor2, *, value=1):
        """self + value·tensor1·tensor2."""
        return self + value * (tensor1 * tensor2)

    def addcdiv(self, tensor1, tensor2, *, value=1):
        """self + value·tensor1/tensor2."""
        return self + value * (tensor1 / tensor2)

    def mv(self, vec):
        """A matrix (n, m) times a vector (m,): (n,)."""
        if self.ndim != 2 or getattr(vec, "ndim", None) != 1:
            raise RuntimeError(f"vector + matrix @ vector expected, got {self.ndim}, "
                               f"{getattr(vec, 'ndim', None)}")
        if self.shape[1] != vec.shape[0]:
            raise RuntimeError(f"size mismatch, got input ({self.shape[0]}), mat "
                               f"({self.shape[0]}x{self.shape[1]}), vec ({vec.shape[0]})")
        return self @ vec

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        """beta·self + alpha·(mat1 @ mat2), mat1 (n, m) and mat2 (m, p), self broadcast to
        (n, p); with beta = 0 self is ignored (a NaN in it does not spread), as PyTorch."""
        if mat1.ndim != 2 or mat2.ndim != 2:
            raise RuntimeError(f"mat1 must be a matrix, got {mat1.ndim}-D tensor" if
                               mat1.ndim != 2 else
                               f"mat2 must be a matrix, got {mat2.ndim}-D tensor")
        if mat1.shape[1] != mat2.shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                               f"({mat1.shape[0]}x{mat1.shape[1]} and "
                               f"{mat2.shape[0]}x{mat2.shape[1]})")
        return self._add_scaled_product(mat1 @ mat2, beta, alpha)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        """beta·self + alpha·(mat @ vec), mat (n, m) and vec (m,), self broadcast to (n,)."""
        if mat.ndim != 2 or vec.ndim != 1 or mat.shape[1] != vec.shape[0] or \
                self.shape not in ((), (1,), mat.shape[:1]):
            raise RuntimeError(f"size mismatch, got input ({', '.join(map(str, self.shape))}), "
                               f"mat ({'x'.join(map(str, mat.shape))}), vec "
                               f"({', '.join(map(str, vec.shape))})")
        return self._add_scaled_product(mat @ vec, beta, alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        """beta·self + alpha·(batch1 @ batch2) for batches of matrices batch1 (b, n, m) and
        batch2 (b, m, p), self broadcast to (b, n, p)."""
        if batch1.ndim != 3 or batch2.ndim != 3:
            raise RuntimeError("batch1 must be a 3D tensor" if batch1.ndim != 3 else
                               "batch2 must be a 3D tensor")
        b, n, m = batch1.shape
        if batch2.shape[:2] != (b, m):
            raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to "
                               f"be: [{b}, {m}] but got: [{batch2.shape[0]}, "
                               f"{batch2.shape[1]}].")
        return self._add_scaled_product(batch1 @ batch2, beta, alpha)

    def _add_scaled_product(self, product, beta, alpha):
        """beta·self + alpha·product, self broadcast to the product's shape (PyTorch's rule:
        never the other way); beta = 0 ignores self's values (its gradient is then 0)."""
        _check_expands_to(self.shape, product.shape)
        out = product if alpha == 1 else product * alpha
        if beta == 0:                     # 0·NaN would be NaN: take zeros, keep the graph
            from .creation import where, zeros
            return out + where(zeros((), dtype=bool, device=self.device), self, 0.0)
        return out + (self if beta == 1 else self * beta)

    @property
    def mT(self):
        """The matrices of the last two dims transposed."""
        if self.ndim < 2:
            raise RuntimeError("tensor.mT is only supported on matrices or batches of "
                               f"matrices. Got {self.ndim}-D tensor.")
        return self.transpose(-2, -1)

    # comparison aliases, as PyTorch's
    def greater(self, other): return self > other
    def less(self, other): return self < other
    def greater_equal(self, other): return self >= other
    def less_equal(self, other): return self <= other
    def not_equal(self, other): return self != other

    # ---- splitting, finding -------------------------------------------------------------
    def tensor_split(self, indices_or_sections, dim=0):
        """Views split along ``dim``: into n parts as equal as can be (the first
        size % n one longer) for an int n, or at the given indices for a list."""
        d = normalize_dim(dim, self.ndim)
        size = self.shape[d]
        if isinstance(indices_or_sections, MoreMethodsMixin):
            indices_or_sections = indices_or_sections.tolist()
        if isinstance(indices_or_sections, numbers.Integral):
            n = int(indices_or_sections)
            if n <= 0:
                raise RuntimeError(f"number of sections must be larger than 0, got {n}")
            lengths = [size // n + (1 if i < size % n else 0) for i in range(n)]
            bounds = np.cumsum([0] + lengths).tolist()
        else:
            bounds = [0] + [min(max(int(i) if i >= 0 else size + int(i), 0), size)
                            for i in indices_or_sections] + [size]
        return tuple(self.narrow(d, start, max(stop - start, 0))
                     for start, stop in zip(bounds[:-1], bounds[1:]))

    def argwhere(self):
        """The indices of the non-zero elements, (n, ndim) int64 (``nonzero()``)."""
        return self.nonzero()

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        """The distinct values, in ascending order; with ``return_inverse`` also where each
        element's value is in them (input's shape), with ``return_counts`` how often each
        occurs. No gradient, as PyTorch's. (``dim`` is not supported.)"""
        if dim is not None:
            raise NotImplementedError("unique(dim=...) is not supported; minigrad takes the "
                                      "unique elements of the flattened tensor")
        xp = self.xp
        values, inverse, counts = xp.unique(self._data.reshape(-1), return_inverse=True,
                                            return_counts=True)
        out = [type(self)._wrap(values)]
        if return_inverse:
            out.append(type(self)._wrap(inverse.reshape(self.shape).astype(np.int64)))
        if return_counts:
            out.append(type(self)._wrap(counts.astype(np.int64)))
        return out[0] if len(out) == 1 else tuple(out)

    # ---- index_add, index_fill and the in-place forms ---------------------------------------
    def index_add(self, dim, index, source, *, alpha=1):
        """A copy of self with source's slices added at the positions ``index`` along
        ``dim`` (repeats add up): out[…, index[i], …] += alpha·source[…, i, …]."""
        d = normalize_dim(dim, self.ndim)
        if getattr(index, "ndim", None) not in (0, 1) or \
                index.dtype not in (_dtype.int64, _dtype.int32):
            raise IndexError("index_add_(): Index is supposed to be a vector of int64")
        index = index.reshape(-1).long()
        if source.ndim != self.ndim or source.shape[d] != index.shape[0] or any(
                source.shape[i] != self.shape[i] for i in range(self.ndim) if i != d):
            raise RuntimeError(f"index_add_(): source {source.shape} does not match self "
                               f"{self.shape} with {index.shape[0]} indices along dim {d}")
        view = (1,) * d + (-1,) + (1,) * (self.ndim - d - 1)
        spread = index.reshape(view).expand(*source.shape)
        return self.scatter_add(d, spread.contiguous(), source if alpha == 1 else
                                source * alpha)

    def index_fill(self, dim, index, value):
        """A copy of self with the slices ``index`` along ``dim`` set to ``value``."""
        d = normalize_dim(dim, self.ndim)
        if getattr(index, "ndim", None) not in (0, 1) or index.dtype != _dtype.int64:
            raise IndexError("index_fill_(): Index is supposed to be a vector of int64")
        mask = np.zeros(self.shape[d] if self.ndim else 1, bool)
        mask[np.asarray(move(index._data, "cpu")).reshape(-1)] = True
        shape = (1,) * d + (-1,) + (1,) * (self.ndim - d - 1) if self.ndim else ()
        mask = type(self)._wrap(move(mask.reshape(shape), self.device))
        return self.masked_fill(mask, value)

    def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
        """``scatter`` written into this tensor."""
        src = value if src is None else src
        return self._arith_inplace("scatter_", src,
                                   lambda t, s: t.scatter(dim, index, s, reduce=reduce))

    def scatter_add_(self, dim, index, src):
        return self._arith_inplace("scatter_add_", src,
                                   lambda t, s: t.scatter_add(dim, index, s))

    def index_add_(self, dim, index, source, *, alpha=1):
        return self._arith_inplace("index_add_", source,
                                   lambda t, s: t.index_add(dim, index, s, alpha=alpha))

    def index_fill_(self, dim, index, value):
        return self._arith_inplace("index_fill_", value,
                                   lambda t, v: t.index_fill(dim, index, v))

    # ---- nan_to_num, index_put --------------------------------------------------------------
    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        """NaN replaced by ``nan``, +∞ by ``posinf`` (default: the dtype's largest value),
        −∞ by ``neginf`` (default: its lowest). The gradient is 1 where the element was
        finite, 0 where it was replaced. Integers and bools come back as a copy."""
        if not _dtype.is_float(self.dtype):
            return self.clone()
        info = np.finfo(self.dtype)
        return P.NanToNum.apply(self, nan=nan, posinf=info.max if posinf is None else posinf,
                                neginf=info.min if neginf is None else neginf)

    def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
        return self._arith_inplace("nan_to_num_", None,
                                   lambda t, _: t.nan_to_num(nan, posinf, neginf))

    def index_put(self, indices, values, accumulate=False):
        """A copy of self with ``values`` (broadcast) written at ``self[indices]`` — or,
        with ``accumulate``, added there, a position named twice receiving both.
        ``indices`` is a tuple of integer or bool tensors, one for each leading dim."""
        if not isinstance(indices, (tuple, list)) or not all(
                isinstance(i, MoreMethodsMixin) for i in indices):
            raise TypeError("index_put(): argument 'indices' (position 1) must be tuple of "
                            f"Tensors, not {type(indices).__name__}")
        if not isinstance(values, MoreMethodsMixin):
            raise TypeError("index_put(): argument 'values' (position 2) must be Tensor, not "
                            f"{type(values).__name__}")
        if values.dtype != self.dtype:
            raise RuntimeError("Index put requires the source and destination dtypes match, "
                               f"got {_type_word(self.dtype)} for the destination and "
                               f"{_type_word(values.dtype)} for the source.")
        if any(_dtype.is_float(i.dtype) for i in indices):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        named = sum(i.ndim if i.dtype == _dtype.bool_ else 1 for i in indices)
        if named > self.ndim:
            raise IndexError(f"too many indices for tensor of dimension {self.ndim} (got "
                             f"{named})")
        if values.device != self.device:
            values = values.to(self.device)
        index = tuple(move(i._data, self.device) for i in indices)
        shaped = np.broadcast_to(np.empty((), bool), self.shape)   # no memory of its own
        picked = shaped[tuple(np.asarray(move(i, "cpu")) for i in index)].shape
        if np.broadcast_shapes(values.shape, picked) != picked:
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(values.shape)} "
                               f"cannot be broadcast to indexing result of shape "
                               f"{list(picked)}")
        if not accumulate:
            return S.IndexPut.apply(self, values, index)
        # add.at needs integer positions: a mask names those of its True elements
        index = sum((tuple(m.nonzero()) if m.dtype == np.bool_ else (m,) for m in index), ())
        return IX.IndexAccumulate.apply(self, values, index)

    def index_put_(self, indices, values, accumulate=False):
        """``index_put`` written into this tensor."""
        return self._arith_inplace("index_put_", values, lambda t, v: t.index_put(
            indices, v, accumulate))

    def unsqueeze_(self, dim):
        """``unsqueeze`` in place: this tensor takes the new shape (the same memory)."""
        return self._reshape_inplace(lambda t: t.unsqueeze(dim))

    def squeeze_(self, dim=None):
        """``squeeze`` in place: this tensor takes the new shape (the same memory)."""
        return self._reshape_inplace(lambda t: t.squeeze(dim))

    def _reshape_inplace(self, reshape):
        """This tensor given ``reshape(self)``'s shape. When that is recorded, the graph
        node's input is a stand-in with the old shape and history (this tensor's own shape
        changes), as ``_private_copy`` is for the in-place writes."""
        recording = is_grad_enabled() and self.requires_grad
        if recording and self.is_leaf:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        old = type(self)._wrap(self._data)
        old.grad_fn, old._requires_grad = self.grad_fn, self.requires_grad
        old._version_counter = self._version_counter
        out = reshape(old)
        if recording:
            self.grad_fn = out.grad_fn
        self._data = out._data
        return self

    # ---- hooks --------------------------------------------------------------------------
    def register_hook(self, hook):
        """Call ``hook(grad)`` with this tensor's gradient (a Tensor) when backward computes
        it; a Tensor it returns replaces the gradient. Returns a handle whose ``remove()``
        takes the hook off."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        owner = self if self.grad_fn is None else self.grad_fn
        autograd.HOOKS_USED[0] = True
        hooks = owner.__dict__.setdefault("_grad_hooks", [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in ``.grad`` when backward runs (a leaf's
        is kept anyway)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            autograd.HOOKS_USED[0] = True
            retained = self.grad_fn.__dict__.setdefault("_retained", [])
            if not any(t is self for t in retained):
                retained.append(self)

    @property
    def retains_grad(self):
        """Whether ``retain_grad()`` was called on this non-leaf tensor."""
        return self.grad_fn is not None and any(
            t is self for t in self.grad_fn.__dict__.get("_retained", ()))

    # ---- facts about memory -------------------------------------------------------------
    is_cuda = property(lambda self: self.device.type == "cuda")
    is_cpu = property(lambda self: self.device.type == "cpu")
    itemsize = property(lambda self: self._data.itemsize)
    nbytes = property(lambda self: self._data.size * self._data.itemsize)

    def nelement(self):
        return self.numel()

    def ndimension(self):
        return self.ndim

    def stride(self, dim=None):
        """Steps in elements between neighbours along each dim (0 along a broadcast one)."""
        steps = tuple(s // self._data.itemsize for s in self._data.strides)
        return steps if dim is None else steps[normalize_dim(dim, self.ndim)]

    def is_contiguous(self):
        """Whether the elements lie in memory in row-major order without gaps (False for a
        transpose or an expand, until ``.contiguous()``)."""
        return bool(self._data.flags.c_contiguous)


def _type_word(dtype):
    """PyTorch's word for a dtype in messages (Float, Double, Long, Bool)."""
    from .inplace import _TYPE_NAMES
    return _TYPE_NAMES.get(dtype, str(dtype))
