"""The Tensor: an array (NumPy or CuPy) plus what autograd needs — its data, dtype and
device, and the operators and methods that turn into ops (``minigrad.ops``). The engine that
records and walks the graph is ``minigrad.autograd``. Two mixins hold the rest: the
in-place methods with versions and views (``minigrad.inplace``), conversions to Python, NumPy
and PyTorch objects (``minigrad.interop``); printing is ``minigrad.printing``."""
import collections
import functools
import math
import numbers
import warnings

import numpy as np

from . import _dtype, autograd
from .arguments import normalize_dim, normalize_dims, resolve_shape, shape_arg
from .autograd import Version, check_same_device, is_grad_enabled
from .device import device as Device
from .device import device_of, get_array_module, looks_like_a_device, move, on_gpu
from .gpu_state import require as require_gpu
from .inplace import DETACHED, InPlaceMixin
from .interop import InteropMixin
from .methods import MethodsMixin
from .more_methods import MoreMethodsMixin
from .ops import elementwise as E
from .ops import layers as N
from .ops import reduce as R
from .ops import shape as S
from .printing import tensor_repr

MaxResult = collections.namedtuple("max", ["values", "indices"])


def to_array(data, dtype=None, device=None):
    """A new array of a supported dtype on a device from Python data, an array or a Tensor
    (or lists of them). Like ``torch.tensor`` it copies: the result never shares memory with
    ``data``."""
    if isinstance(data, Tensor):
        data = data._data
    if device is not None:
        device = Device(device)
    if isinstance(data, (np.ndarray, np.generic)) or on_gpu(data):
        array = data
    else:
        found = []                              # dtypes of tensors inside lists
        array = np.asarray(_unwrap_tensors(data, found))
        if array.dtype == object:
            raise TypeError(f"cannot make a tensor from {type(data).__name__} data "
                            "(ragged lists or non-numeric values)")
        if array.dtype.kind == "f" and dtype is None:   # Python floats: float32 by default
            default = _dtype.get_default_dtype()
            wanted = functools.reduce(_dtype.promote, found) if found else default
            array = array.astype(wanted if _dtype.is_float(wanted) else default)
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.default_for(array)
    if dt == _dtype.int64 and isinstance(array, (np.ndarray, np.generic)):
        _check_fits_int64(array)
    elif array is not data:              # Python numbers into int32 etc.: they must fit
        _dtype.check_fits(array, dt)     # (an array is converted as it is, wrapping)
    if device is not None and device_of(array) != device:
        array = move(np.asarray(array) if isinstance(array, np.generic) else array, device)
    xp = get_array_module(array)
    return xp.array(array, dtype=dt, copy=True) if array is data else xp.asarray(array, dtype=dt)


def _check_fits_int64(array):
    """An int64 tensor cannot hold 1e20 or 2**63: PyTorch's error, not a wrapped value."""
    if array.dtype.kind == "u" and array.size and array.max() > np.iinfo(np.int64).max:
        raise RuntimeError("Overflow when unpacking long: a value is above 2**63 - 1, the "
                           "largest int64")
    if array.dtype.kind == "f" and array.size and not (
            np.isfinite(array).all() and (np.abs(array) < 2.0 ** 63).all()):
        raise RuntimeError("value cannot be converted to type int64_t without overflow")


def _unwrap_tensors(data, found):
    """``data`` with every Tensor inside (nested) lists replaced by its values on the CPU,
    recording their dtypes in ``found``: ``tensor([t0, t1])`` of 0-d tensors works."""
    if isinstance(data, Tensor):
        found.append(data.dtype)
        return data.detach().cpu()._data
    if isinstance(data, (list, tuple)):
        return [_unwrap_tensors(x, found) for x in data]
    return data


class Tensor(InPlaceMixin, InteropMixin, MethodsMixin, MoreMethodsMixin):
    """An n-dimensional array that can record the ops applied to it and backpropagate.

    ``data`` is a ``numpy.ndarray`` (device "cpu") or a ``cupy.ndarray`` (device "cuda").
    ``grad_fn`` is the graph node that made it (None for leaves); ``grad`` is filled on
    leaves that require grad when ``backward`` runs, and accumulates across calls.
    ``_version`` counts in-place writes to its memory (shared with its views)."""

    __array_ufunc__ = None          # make NumPy defer to our reflected operators
    __hash__ = object.__hash__      # __eq__ is elementwise, identity is still the hash

    def __init__(self, data, dtype=None, device=None, requires_grad=False):
        self._setup(to_array(data, dtype, device))
        self.requires_grad = requires_grad

    @classmethod
    def _wrap(cls, array):
        """A Tensor around an array as it is: no copy, no conversion (``as_tensor``'s fast
        path; the array's dtype must be a supported one)."""
        t = cls.__new__(cls)
        t._setup(array if not isinstance(array, np.generic) else np.asarray(array))
        return t

    _graph_owned = False            # a .grad made in a CUDA graph's memory (see zero_grad)

    def _setup(self, array):
        self._data = array
        self._grad = None
        self.grad_fn = None
        self._requires_grad = False
        self._version_counter = Version()
        self._base = None             # the tensor this one is a view of (None: owns its memory)
        self._base_rebased = None     # the base's count of recorded in-place ops back then

    @property
    def grad(self):
        """The gradient accumulated by ``backward`` (a Tensor of this shape, dtype and
        device), or None. Assigning anything else is refused, as PyTorch refuses it."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad "
                                f"of type {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"attempting to assign a gradient of size "
                                   f"'{list(value.shape)}' to a tensor of size "
                                   f"'{list(self.shape)}'. Please ensure that the gradient "
                                   "and the tensor are the same size")
            if value.dtype != self.dtype or value.device != self.device:
                raise RuntimeError(f"attempting to assign a gradient of {type_name(value)} to "
                                   f"a tensor of {type_name(self)}: the gradient must have "
                                   "the tensor's dtype and device")
        self._grad = value

    @property
    def data(self):
        """The same values in the same memory as a new Tensor outside the graph, as PyTorch's
        ``.data``: ``requires_grad`` False, no history, and a version count of its own, so
        a write through it (``p.data.mul_(0.5)``) is not seen by autograd's check: the
        old escape hatch for updates the graph must not record. Prefer ``detach()`` under
        ``no_grad``, whose writes autograd does see. Assigning a Tensor or an array
        replaces the array (``p.data = new``), outside the graph and without a version
        bump. (minigrad's own code reads the array itself as ``_data``.)"""
        t = Tensor._wrap(self._data)
        t._base = DETACHED               # shares memory, not history
        return t

    @data.setter
    def data(self, value):
        if isinstance(value, Tensor):
            value = value._data
        elif isinstance(value, np.generic):          # 0-d NumPy results come as scalars
            value = np.asarray(value)
        elif not (isinstance(value, np.ndarray) or on_gpu(value)):
            raise TypeError(f"data must be set to a Tensor or an array, not "
                            f"{type(value).__name__}")
        self._data = value

    # ---- properties ------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag and not _dtype.is_float(self._data.dtype):
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

    shape = property(lambda self: tuple(self._data.shape))
    ndim = property(lambda self: self._data.ndim)
    dtype = property(lambda self: self._data.dtype)
    device = property(lambda self: device_of(self._data))
    xp = property(lambda self: get_array_module(self._data))
    T = property(lambda self: self.transpose(0, 1) if self.ndim == 2 else self.permute(
        *reversed(range(self.ndim))))

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[normalize_dim(dim, self.ndim)]

    def dim(self):
        return self.ndim

    def numel(self):
        return int(self._data.size)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def detach(self):
        """The same values, in the same memory, without history. A write to one shows in the
        other and bumps the version both see."""
        t = Tensor._wrap(self._data)
        t._version_counter, t._base = self._version_counter, DETACHED
        return t

    def clone(self):
        """A copy in memory of its own, differentiable (the gradient passes through)."""
        return S.Clone.apply(self)

    def to(self, *args, dtype=None, device=None):
        """``t.to("cuda")``, ``t.to(minigrad.float64)``, ``t.to(device, dtype)``; differentiable."""
        dtype, device = parse_to_args(args, dtype, device)
        out = self
        if device is not None and Device(device) != self.device:
            if Device(device).type == "cuda":
                require_gpu()
            out = S.ToDevice.apply(out, Device(device).type)
        if dtype is not None and _dtype.as_dtype(dtype) != out.dtype:
            out = out._cast(_dtype.as_dtype(dtype))
        return out

    def _cast(self, dtype):
        if self.requires_grad and is_grad_enabled() and _dtype.is_float(dtype):
            return S.Cast.apply(self, dtype)
        return Tensor._wrap(self._data.astype(dtype))

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

    def int(self):
        return self.to(_dtype.int32)

    def short(self):
        return self.to(_dtype.int16)

    def char(self):
        """int8 (PyTorch's CharTensor: a signed byte)."""
        return self.to(_dtype.int8)

    def byte(self):
        """uint8 (PyTorch's ByteTensor)."""
        return self.to(_dtype.uint8)

    def bool(self):
        return self.to(_dtype.bool_)

    def contiguous(self):
        """Itself when its elements lie in row-major order in memory, else a copy that
        does (differentiable)."""
        return self if self.is_contiguous() else self.clone()

    # ---- autograd ---------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) · gradient into ``.grad`` of every leaf that requires
        grad. ``gradient`` may be left out only for a one-element tensor (it is then 1)."""
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad and has no "
                               "grad_fn: no input of the ops that made it has requires_grad=True")
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for a one-element "
                                   f"output; this one has shape {self.shape}: pass "
                                   "backward(gradient=...) of that shape")
            grad = autograd.ones_seed(self.xp, self._data.shape, self.dtype)
        else:
            grad = to_array(gradient, self.dtype)
            if grad.shape != self._data.shape:
                raise RuntimeError(f"backward: gradient has shape {tuple(grad.shape)} but the "
                                   f"tensor has shape {self.shape}")
            check_same_device("backward", [self, Tensor._wrap(grad)])
        autograd.backward(self, grad, retain_graph)

    # ---- operators --------------------------------------------------------------------
    def _operand(self, other, op):
        """Both operands as Tensors of the result dtype (PyTorch's promotion, see
        ``_dtype.result_type``), their shapes checked."""
        if op == "sub" and isinstance(other, (bool, np.bool_)):
            other = Tensor._wrap(np.asarray(other))               # refused below, as PyTorch
        number = isinstance(other, (numbers.Number, np.bool_)) and \
            not isinstance(other, complex)
        if number:
            dt = _dtype.scalar_dtype(other, self.dtype)           # a Python number
        else:
            if not isinstance(other, Tensor):
                other = Tensor(other, device=self.device)
            dt = self.dtype if other.dtype == self.dtype else _dtype.result_type(self, other)
        if op == "div" and not _dtype.is_float(dt):
            dt = _dtype.get_default_dtype()        # uint8 / 300 divides by 300, not 44
        if number:
            other = Tensor._wrap(_scalar_array(self.xp, other, dt))
        if op == "sub" and _dtype.bool_ in (self.dtype, other.dtype):
            raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                               "supported. If you are trying to invert a mask, use the `~` "
                               "or `logical_not()` operator instead.")
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
    def __floordiv__(self, o): return _integer_safe(E.FloorDivide, *self._operand(o, "//"))
    def __rfloordiv__(self, o):
        return _integer_safe(E.FloorDivide, *reversed(self._operand(o, "//")))
    def __mod__(self, o): return _integer_safe(E.Remainder, *self._operand(o, "%"))
    def __rmod__(self, o): return _integer_safe(E.Remainder, *reversed(self._operand(o, "%")))
    def __neg__(self):
        if self.dtype == _dtype.bool_:
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                               "If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead.")
        return E.Neg.apply(self)

    def __invert__(self):
        """~mask (logical not) for bool tensors, bitwise not for integers; no gradient."""
        if _dtype.is_float(self.dtype):
            raise TypeError(f"~ needs a bool or integer tensor, got {self.dtype}")
        return Tensor._wrap(~self._data)

    def logical_not(self):
        return Tensor._wrap(self._data == 0)

    def __pos__(self): return self

    def __pow__(self, exponent):
        """self ** exponent (a number or a tensor), computed as a real power: integers stay
        integers and exact, and 2.0 ** 15 is 32768."""
        if not isinstance(exponent, (Tensor, numbers.Real)):
            return NotImplemented
        if isinstance(exponent, Tensor):
            a, b = self._operand(exponent, "pow")
            return E.Pow.apply(a, b)
        dt = _dtype.result_type(self, exponent)
        if not _dtype.is_float(dt) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return E.Pow.apply(self._as(dt), exponent)

    def __rpow__(self, base):
        """number ** self: ``2 ** int_tensor`` is int64, ``2.0 ** t`` float, exact powers."""
        if not isinstance(base, numbers.Real):
            return NotImplemented
        b, a = self._operand(base, "pow")
        return E.Pow.apply(a, b)

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
        return Tensor._wrap(fn(a._data, b._data))

    def __eq__(self, o):
        return False if o is None else self._compare(o, lambda a, b: a == b)

    def __ne__(self, o):
        return True if o is None else self._compare(o, lambda a, b: a != b)

    def __lt__(self, o): return self._compare(o, lambda a, b: a < b)
    def __le__(self, o): return self._compare(o, lambda a, b: a <= b)
    def __gt__(self, o): return self._compare(o, lambda a, b: a > b)
    def __ge__(self, o): return self._compare(o, lambda a, b: a >= b)
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {self.shape} is "
                               "ambiguous; use .any() or .all()")
        return bool(self.item())

    def any(self, dim=None, keepdim=False):
        """Whether any element is nonzero: in all, or along ``dim`` (an int or a tuple)."""
        return self._test(self._data.any, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        """Whether every element is nonzero: in all, or along ``dim`` (an int or a tuple)."""
        return self._test(self._data.all, dim, keepdim)

    def _test(self, reduce, dim, keepdim):
        if dim is None:
            return Tensor._wrap(self.xp.asarray(reduce()))
        axes = normalize_dims(dim, self.ndim)
        return Tensor._wrap(self.xp.asarray(reduce(axis=axes, keepdims=keepdim)))

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

    def maximum(self, other):
        """Elementwise max of two tensors (``torch.maximum``; also ``a.max(b)``)."""
        return E.Maximum.apply(*self._operand(other, "maximum"))

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clamp needs min, max or both")
        dt = _dtype.result_type(self, *(b for b in (min, max) if b is not None))
        return E.Clamp.apply(self._as(dt), min, max)

    clip = clamp

    def sum(self, dim=None, keepdim=False):
        """Sum of all elements, or along ``dim``. Bools and every integer dtype sum as
        int64 (an int32 or uint8 sum is int64, as in PyTorch); floats keep their dtype."""
        a = self if _dtype.is_float(self.dtype) or self.dtype == _dtype.int64 else self.long()
        return R.Sum.apply(a, dim=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        if not _dtype.is_float(self.dtype):
            raise TypeError(f"mean() needs a floating-point tensor, got {self.dtype}; "
                            "use .float().mean()")
        return R.Mean.apply(self, dim=dim, keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        """Largest element; with ``dim``, the pair (values, indices) along it; with a tensor,
        the elementwise maximum — as PyTorch."""
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        if dim is None:
            return R.Max.apply(self)
        if self.ndim == 0:                   # the one element is the max along dim 0 or -1
            normalize_dim(dim, 0)
            return MaxResult(R.Max.apply(self), self.argmax(dim))
        values = R.Max.apply(self, dim=dim, keepdim=keepdim)
        return MaxResult(values, self.argmax(dim, keepdim))

    def argmax(self, dim=None, keepdim=False):
        if dim is None:
            return Tensor._wrap(self._data.argmax().astype(np.int64))
        d = normalize_dim(dim, self.ndim)
        if self.ndim == 0:
            return Tensor._wrap(np.zeros((), np.int64))
        idx = self._data.argmax(axis=d).astype(np.int64)
        return Tensor._wrap(self.xp.expand_dims(idx, d) if keepdim else idx)

    # ---- shape ------------------------------------------------------------------------
    def reshape(self, *shape):
        return S.Reshape.apply(self, resolve_shape(shape_arg(shape), self.shape))

    view = reshape

    def view_as(self, other):
        """This tensor seen with ``other``'s shape: ``t.view(other.shape)``."""
        return self.view(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        s, e = normalize_dim(start_dim, self.ndim), normalize_dim(end_dim, self.ndim)
        if self.ndim == 0:
            return self.reshape(1)
        if s > e:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after "
                               "end_dim")
        merged = math.prod(self.shape[s:e + 1])           # explicit, so zero sizes work too
        return self.reshape(self.shape[:s] + (merged,) + self.shape[e + 1:])

    def permute(self, *dims):
        dims = shape_arg(dims)
        if len(dims) != self.ndim:
            raise RuntimeError(f"permute: the tensor has {self.ndim} dims (shape "
                               f"{self.shape}) but {len(dims)} dims were given: {dims}")
        dims = tuple(normalize_dim(d, self.ndim) for d in dims)
        if len(set(dims)) != len(dims):
            raise RuntimeError("permute(): duplicate dims are not allowed.")
        return S.Permute.apply(self, dims)

    def transpose(self, dim0, dim1):
        d0, d1 = normalize_dim(dim0, self.ndim), normalize_dim(dim1, self.ndim)
        if self.ndim == 0:
            return self
        dims = list(range(self.ndim))
        dims[d0], dims[d1] = dims[d1], dims[d0]
        return self.permute(*dims)

    def unsqueeze(self, dim):
        d = normalize_dim(dim, self.ndim + 1)
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def squeeze(self, dim=None):
        """Drop dims of size 1: all of them, or those named by ``dim`` (an int or a tuple)
        that have size 1."""
        dims = normalize_dims(dim, self.ndim) if dim is not None else range(self.ndim)
        keep = tuple(n for i, n in enumerate(self.shape) if i not in dims or n != 1)
        return self if keep == self.shape else self.reshape(keep)

    # ---- printing ---------------------------------------------------------------------
    def __repr__(self):
        return tensor_repr(self, (_dtype.get_default_dtype(), _dtype.int64, _dtype.bool_))


def _scalar_array(xp, value, dtype):
    """A Python number as a 0-d array on xp's device: on the GPU filled there by a kernel,
    not copied from the host (a host copy waits, and cannot be captured in a CUDA graph)."""
    if _dtype.is_integer(dtype) and not isinstance(value, (bool, np.bool_)):
        value = _dtype.wrap_integer(value, dtype)[()]     # uint8 + 300 adds 44, as PyTorch
    return xp.asarray(value, dtype=dtype) if xp is np else xp.full((), value, dtype=dtype)


def type_name(t):
    """PyTorch's name for the type of ``t`` in messages: minigrad.FloatTensor, ..."""
    return _dtype.tensor_type_name(t.dtype, t.device.type)


def _integer_safe(op, a, b):
    """// and % of integers by zero are an error, as in PyTorch (checked on the CPU only:
    on the GPU the check would wait for the device)."""
    if a.dtype.kind in "iu" and b.device.type == "cpu" and (b._data == 0).any():
        raise RuntimeError("ZeroDivisionError")
    return op.apply(a, b)


def as_tensor(data, dtype=None, device=None):
    """A Tensor for ``data`` without copying when possible, as ``torch.as_tensor``: an array
    of a supported dtype already on ``device`` is shared, not copied (so writing to one shows
    in the other); a Tensor comes back as it is (or converted with ``.to``); anything else is
    converted as ``tensor()`` would."""
    if isinstance(data, Tensor):
        return data if dtype is None and device is None else data.to(device=device, dtype=dtype)
    is_array = isinstance(data, (np.ndarray, np.generic)) or on_gpu(data)
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
        elif isinstance(a, (str, Device)) or looks_like_a_device(a):
            device = a
        elif isinstance(a, Tensor):              # t.to(other): other's dtype and device
            dtype, device = a.dtype, a.device
        else:
            dtype = a
    return dtype, device


def _index_arrays(index, like):
    """Turn Tensors and lists inside an index into arrays on ``like``'s device (a CPU index
    tensor may index a GPU tensor, as in PyTorch). Index tensors are int64, int32 or bool;
    a uint8 one is a mask (PyTorch's deprecated reading of it, with its warning), never a
    list of positions; int8 and int16 are refused, as PyTorch does."""
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for p in parts:
        if isinstance(p, Tensor):
            if p.dtype in (_dtype.int8, _dtype.int16) or _dtype.is_float(p.dtype):
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            if p.dtype == _dtype.uint8:
                warnings.warn("indexing with dtype minigrad.uint8 is now deprecated, please "
                              "use a dtype minigrad.bool instead.", UserWarning, stacklevel=3)
                p = p.bool()
            p = move(p._data, like.device)
        elif isinstance(p, list):
            p = like.xp.asarray(p)
        out.append(p)
    return tuple(out) if isinstance(index, tuple) else out[0]


def _dim_or_axis(method):
    """Let ``method`` take NumPy's ``axis=`` and ``keepdims=`` as other names for ``dim=``
    and ``keepdim=``, as PyTorch's reductions do (d2l writes ``X.sum(axis=1)``, makemore
    ``P.sum(1, keepdims=True)``)."""
    @functools.wraps(method)
    def fn(self, *args, axis=None, keepdims=None, **kwargs):
        if axis is not None:
            if "dim" in kwargs or args:
                raise TypeError(f"{method.__name__}() got both dim and axis: give one")
            kwargs["dim"] = axis
        if keepdims is not None:
            if "keepdim" in kwargs or len(args) > 1:
                raise TypeError(f"{method.__name__}() got both keepdim and keepdims: give one")
            kwargs["keepdim"] = keepdims
        return method(self, *args, **kwargs)
    return fn


for _name in ("sum", "mean", "prod", "std", "var", "max", "min", "amax", "amin", "argmax",
              "argmin", "any", "all", "logsumexp", "cumsum", "cumprod", "softmax",
              "log_softmax", "squeeze", "unsqueeze", "count_nonzero", "norm"):
    setattr(Tensor, _name, _dim_or_axis(getattr(Tensor, _name)))
