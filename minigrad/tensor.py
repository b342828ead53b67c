"""The Tensor: an array (NumPy or CuPy) plus what autograd needs — its data, dtype and
device, and the operators and methods that turn into ops (``minigrad.ops``). The engine that
records and walks the graph is ``minigrad.autograd``."""
import collections
import numbers

import numpy as np

from . import _dtype, autograd
from .autograd import check_same_device, is_grad_enabled
from .device import device as Device
from .device import device_of, get_array_module, move
from .ops import elementwise as E
from .ops import nn as N
from .ops import reduce as R
from .ops import shape as S
from .shapes import normalize_dims, resolve_shape, shape_arg

MaxResult = collections.namedtuple("max", ["values", "indices"])


def to_array(data, dtype=None, device=None):
    """A new array of a supported dtype on a device from Python data, an array or a Tensor.
    Like ``torch.tensor`` it copies: the result never shares memory with ``data``."""
    if isinstance(data, Tensor):
        data = data.data
    if device is not None:
        device = Device(device)
    if isinstance(data, (np.ndarray, np.generic)) or hasattr(data, "__cuda_array_interface__"):
        array = data
    else:
        array = np.asarray(data)
        if array.dtype.kind == "f" and dtype is None:   # Python floats: float32 by default
            array = array.astype(np.float32)
        elif array.dtype == object:
            raise TypeError(f"cannot make a tensor from {type(data).__name__} data "
                            "(ragged lists or non-numeric values)")
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.default_for(array)
    if device is not None and device_of(array) != device:
        array = move(np.asarray(array) if isinstance(array, np.generic) else array, device)
    xp = get_array_module(array)
    return xp.array(array, dtype=dt, copy=True) if array is data else xp.asarray(array, dtype=dt)


class Tensor:
    """An n-dimensional array that can record the ops applied to it and backpropagate.

    ``data`` is a ``numpy.ndarray`` (device "cpu") or a ``cupy.ndarray`` (device "cuda").
    ``grad_fn`` is the graph node that made it (None for leaves); ``grad`` is filled on
    leaves that require grad when ``backward`` runs, and accumulates across calls."""

    __array_ufunc__ = None          # make NumPy defer to our reflected operators
    __hash__ = object.__hash__      # __eq__ is elementwise, identity is still the hash

    def __init__(self, data, dtype=None, device=None, requires_grad=False):
        self.data = to_array(data, dtype, device)
        self.grad = None
        self.grad_fn = None
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _wrap(cls, array):
        """A Tensor around an array as it is: no copy, no conversion (``as_tensor``'s fast
        path; the array's dtype must be a supported one)."""
        t = cls.__new__(cls)
        t.data = array if not isinstance(array, np.generic) else np.asarray(array)
        t.grad = None
        t.grad_fn = None
        t._requires_grad = False
        return t

    # ---- properties ------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag and not _dtype.is_float(self.data.dtype):
            raise RuntimeError(f"only floating-point tensors can require gradients; this one "
                               f"is {self.data.dtype} (convert with .float() first)")
        if not flag and self.grad_fn is not None:
            raise RuntimeError("requires_grad can only be turned off on a leaf tensor; "
                               "use .detach() on a result of an op")
        self._requires_grad = bool(flag)

    def requires_grad_(self, flag=True):
        self.requires_grad = flag
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    shape = property(lambda self: tuple(self.data.shape))
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    device = property(lambda self: device_of(self.data))
    xp = property(lambda self: get_array_module(self.data))
    T = property(lambda self: self.transpose(0, 1) if self.ndim == 2 else self.permute(
        *reversed(range(self.ndim))))

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.ndim

    def numel(self):
        return int(self.data.size)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    # ---- conversions -----------------------------------------------------------------
    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape "
                             f"{self.shape}")
        return self.data.reshape(()).item()

    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("can't call numpy() on a tensor that requires grad; "
                               "use tensor.detach().numpy()")
        if self.device.type != "cpu":
            raise TypeError("can't convert a cuda tensor to numpy; use tensor.cpu() first")
        return self.data

    def tolist(self):
        return self.cpu().detach().data.tolist()

    def detach(self):
        return Tensor._wrap(self.data)

    def to(self, *args, dtype=None, device=None):
        """``t.to("cuda")``, ``t.to(minigrad.float64)``, ``t.to(device, dtype)``; differentiable."""
        dtype, device = parse_to_args(args, dtype, device)
        out = self
        if device is not None and Device(device) != self.device:
            if Device(device).type == "cuda":
                from . import cuda
                cuda.require()
            out = S.ToDevice.apply(out, Device(device).type)
        if dtype is not None and _dtype.as_dtype(dtype) != out.dtype:
            out = out._cast(_dtype.as_dtype(dtype))
        return out

    def _cast(self, dtype):
        if self.requires_grad and is_grad_enabled() and _dtype.is_float(dtype):
            return S.Cast.apply(self, dtype)
        return Tensor._wrap(self.data.astype(dtype))

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(_dtype.float32)

    def double(self):
        return self.to(_dtype.float64)

    def long(self):
        return self.to(_dtype.int64)

    def bool(self):
        return self.to(_dtype.bool_)

    def contiguous(self):
        return self

    # ---- autograd ---------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) · gradient into ``.grad`` of every leaf that requires
        grad. ``gradient`` may be left out only for a one-element tensor (it is then 1)."""
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad and has no "
                               "grad_fn: no input of the ops that made it has requires_grad=True")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for a one-element "
                                   f"output; this one has shape {self.shape}: pass "
                                   "backward(gradient=...) of that shape")
            grad = self.xp.ones(self.data.shape, dtype=self.dtype)
        else:
            grad = to_array(gradient, self.dtype)
            if grad.shape != self.data.shape:
                raise RuntimeError(f"backward: gradient has shape {tuple(grad.shape)} but the "
                                   f"tensor has shape {self.shape}")
            check_same_device("backward", [self, Tensor._wrap(grad)])
        autograd.backward(self, grad, retain_graph)

    # ---- operators --------------------------------------------------------------------
    def _operand(self, other, op):
        """Both operands as Tensors of the promoted dtype, their shapes checked."""
        if isinstance(other, Tensor):
            dt = _dtype.promote(self.dtype, other.dtype)
        elif isinstance(other, (numbers.Number, np.bool_)) and not isinstance(other, complex):
            dt = _dtype.scalar_dtype(other, self.dtype)
            other = Tensor._wrap(self.xp.asarray(other, dtype=dt))
        else:
            other = Tensor(other, device=self.device)
            dt = _dtype.promote(self.dtype, other.dtype)
        if op == "div" and not _dtype.is_float(dt):
            dt = _dtype.float32
        try:
            np.broadcast_shapes(self.shape, other.shape)
        except ValueError:
            raise ValueError(f"{op}: shapes {self.shape} and {other.shape} cannot be "
                             "broadcast together") from None
        return self._as(dt), other._as(dt)

    def _as(self, dt):
        return self if self.dtype == dt else self._cast(dt)

    def __add__(self, o): return E.Add.apply(*self._operand(o, "add"))
    def __radd__(self, o): return E.Add.apply(*reversed(self._operand(o, "add")))
    def __sub__(self, o): return E.Sub.apply(*self._operand(o, "sub"))
    def __rsub__(self, o): return E.Sub.apply(*reversed(self._operand(o, "sub")))
    def __mul__(self, o): return E.Mul.apply(*self._operand(o, "mul"))
    def __rmul__(self, o): return E.Mul.apply(*reversed(self._operand(o, "mul")))
    def __truediv__(self, o): return E.Div.apply(*self._operand(o, "div"))
    def __rtruediv__(self, o): return E.Div.apply(*reversed(self._operand(o, "div")))
    def __neg__(self): return E.Neg.apply(self)
    def __pos__(self): return self

    def __pow__(self, p):
        if isinstance(p, Tensor) or not isinstance(p, numbers.Real):
            raise TypeError("minigrad supports ** with a number exponent only")
        base = self if _dtype.is_float(self.dtype) or float(p) == int(p) else self.float()
        return E.Pow.apply(base, p)

    def __rpow__(self, base):
        if not isinstance(base, numbers.Real) or base <= 0:
            raise TypeError("number ** tensor needs a positive number base")
        return (self * float(np.log(base))).exp()

    def __matmul__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other, device=self.device)
        if self.ndim == 0 or other.ndim == 0:
            raise ValueError("matmul: both operands need at least one dimension")
        a = self.reshape(1, -1) if self.ndim == 1 else self
        b = other.reshape(-1, 1) if other.ndim == 1 else other
        if a.shape[-1] != b.shape[-2]:
            raise ValueError(f"matmul: shapes {self.shape} and {other.shape} cannot be "
                             f"multiplied ({a.shape[-1]} != {b.shape[-2]})")
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ValueError(f"matmul: batch dims of {self.shape} and {other.shape} cannot "
                             "be broadcast together") from None
        dt = _dtype.promote(a.dtype, b.dtype)
        out = S.MatMul.apply(a._as(dt), b._as(dt))
        if self.ndim == 1:
            out = out.reshape(out.shape[:-2] + out.shape[-1:])
        if other.ndim == 1:
            out = out.reshape(out.shape[:-1])
        return out

    def __rmatmul__(self, other):
        return Tensor(other, device=self.device) @ self

    def _compare(self, other, fn):
        a, b = self._operand(other, "compare")
        return Tensor._wrap(fn(a.data, b.data))

    def __eq__(self, o): return self._compare(o, lambda a, b: a == b)
    def __ne__(self, o): return self._compare(o, lambda a, b: a != b)
    def __lt__(self, o): return self._compare(o, lambda a, b: a < b)
    def __le__(self, o): return self._compare(o, lambda a, b: a <= b)
    def __gt__(self, o): return self._compare(o, lambda a, b: a > b)
    def __ge__(self, o): return self._compare(o, lambda a, b: a >= b)
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {self.shape} is "
                               "ambiguous; use .any() or .all()")
        return bool(self.item())

    def any(self): return Tensor._wrap(self.data.any())
    def all(self): return Tensor._wrap(self.data.all())

    def __getitem__(self, index):
        return S.Index.apply(self, _index_arrays(index, self))

    # ---- math -------------------------------------------------------------------------
    def _floating(self):
        return self if _dtype.is_float(self.dtype) else self.float()

    def exp(self): return E.Exp.apply(self._floating())
    def log(self): return E.Log.apply(self._floating())
    def sqrt(self): return E.Sqrt.apply(self._floating())
    def tanh(self): return E.Tanh.apply(self._floating())
    def abs(self): return E.Abs.apply(self)
    def __abs__(self): return self.abs()

    def sigmoid(self): return N.Sigmoid.apply(self._floating())
    def relu(self): return N.ReLU.apply(self)

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clamp needs min, max or both")
        return E.Clamp.apply(self, min, max)

    clip = clamp

    def sum(self, dim=None, keepdim=False):
        a = self if self.dtype != _dtype.bool_ else self.long()
        return R.Sum.apply(a, dim=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        if not _dtype.is_float(self.dtype):
            raise TypeError(f"mean() needs a floating-point tensor, got {self.dtype}; "
                            "use .float().mean()")
        return R.Mean.apply(self, dim=dim, keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        """Largest element; with ``dim``, the pair (values, indices) along it, as PyTorch."""
        if dim is None:
            return R.Max.apply(self)
        values = R.Max.apply(self, dim=dim, keepdim=keepdim)
        return MaxResult(values, self.argmax(dim, keepdim))

    def argmax(self, dim=None, keepdim=False):
        if dim is None:
            return Tensor._wrap(self.data.argmax().astype(np.int64))
        (d,) = normalize_dims(dim, self.ndim)
        idx = self.data.argmax(axis=d).astype(np.int64)
        return Tensor._wrap(self.xp.expand_dims(idx, d) if keepdim else idx)

    # ---- shape ------------------------------------------------------------------------
    def reshape(self, *shape):
        return S.Reshape.apply(self, resolve_shape(shape_arg(shape), self.shape))

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        s, e = start_dim % self.ndim, end_dim % self.ndim
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        merged = int(np.prod(self.shape[s:e + 1]))    # not -1: an empty batch has none to infer
        return self.reshape(self.shape[:s] + (merged,) + self.shape[e + 1:])

    def permute(self, *dims):
        dims = shape_arg(dims)
        if sorted(d % max(self.ndim, 1) for d in dims) != list(range(self.ndim)):
            raise ValueError(f"permute: {tuple(dims)} is not a permutation of the "
                             f"{self.ndim} dims of a tensor of shape {self.shape}")
        return S.Permute.apply(self, tuple(d % self.ndim for d in dims))

    def transpose(self, dim0, dim1):
        dims = list(range(self.ndim))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return self.permute(*dims)

    def unsqueeze(self, dim):
        d = dim % (self.ndim + 1)
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def squeeze(self, dim=None):
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        d = dim % self.ndim
        return self if self.shape[d] != 1 else self.reshape(self.shape[:d] + self.shape[d + 1:])

    # ---- printing ---------------------------------------------------------------------
    def __repr__(self):
        values = self.cpu().data if self.device.type == "cuda" else self.data
        whole = values.dtype.kind != "f" or not np.isfinite(values).all() or \
            bool((values == np.round(values)).all())
        body = np.array2string(values, separator=", ", prefix="tensor(", threshold=1000,
                               precision=4, floatmode="maxprec_equal" if whole else "fixed")
        extras = []
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self.dtype not in (_dtype.float32, _dtype.int64, _dtype.bool_) or self.numel() == 0:
            extras.append(f"dtype=minigrad.{self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"


def as_tensor(data, dtype=None, device=None):
    """A Tensor for ``data`` without copying when possible, as ``torch.as_tensor``: an array
    of a supported dtype already on ``device`` is shared, not copied (so writing to one shows
    in the other); a Tensor comes back as it is (or converted with ``.to``); anything else is
    converted as ``tensor()`` would."""
    if isinstance(data, Tensor):
        return data if dtype is None and device is None else data.to(device=device, dtype=dtype)
    is_array = isinstance(data, (np.ndarray, np.generic)) or \
        hasattr(data, "__cuda_array_interface__")
    if (is_array and data.dtype in _dtype.SUPPORTED
            and (dtype is None or _dtype.as_dtype(dtype) == data.dtype)
            and (device is None or Device(device) == device_of(data))):
        return Tensor._wrap(data)
    return Tensor(data, dtype=dtype, device=device)


def parse_to_args(args, dtype=None, device=None):
    """Sort the positional arguments of ``.to(...)`` into a dtype and a device."""
    for a in args:
        if isinstance(a, str) and a in _dtype.NAMES:
            dtype = a
        elif isinstance(a, (str, Device)):
            device = a
        else:
            dtype = a
    return dtype, device


def _index_arrays(index, like):
    """Turn Tensors and lists inside an index into arrays on ``like``'s device (a CPU index
    tensor may index a GPU tensor, as in PyTorch)."""
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for p in parts:
        if isinstance(p, Tensor):
            p = move(p.data, like.device)
        elif isinstance(p, list):
            p = like.xp.asarray(p)
        out.append(p)
    return tuple(out) if isinstance(index, tuple) else out[0]
