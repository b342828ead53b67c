"""The ``torch.`` function forms: ``torch.sum(x, 1)``, ``torch.max(x, 1)``, ``torch.exp(x)``,
``torch.cat([a, b])``, ``torch.from_numpy(array)``, ``torch.randint(0, 10, (3,))``, …

Most are a Tensor method called on the first argument (``torch.sum(x, 1)`` is
``x.sum(1)``), so each has exactly the method's arguments, results and gradient; the rest
(joining, einsum, new tensors) are written out below."""
import numpy as np

from . import _dtype, random
from .arguments import normalize_dim, shape_arg
from .device import device as Device
from .device import move
from .ops import join as J
from .ops import linalg
from .tensor import Tensor, as_tensor

# torch.<name>(input, *args, **kwargs) is input.<name>(*args, **kwargs) for these names
METHOD_FORMS = (
    "abs", "exp", "log", "log1p", "sqrt", "rsqrt", "tanh", "sigmoid", "relu", "square", "neg",
    "negative", "sum", "mean", "var", "std", "max", "min", "argmax", "argmin", "maximum",
    "minimum", "clamp", "clip", "reshape", "permute", "transpose", "squeeze", "unsqueeze",
    "matmul", "mm", "bmm", "add", "sub", "subtract", "mul", "multiply", "div", "divide",
    "true_divide", "pow", "softmax", "log_softmax", "gather", "scatter", "scatter_add",
    "index_select", "masked_fill", "topk", "sort", "argsort", "split", "chunk", "unbind",
    "narrow", "select", "eq", "ne", "lt", "le", "gt", "ge", "logical_not", "logical_and",
    "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
    "numel", "clone", "detach", "any", "all", "clamp_", "clip_", "fill_", "zero_",
    "relu_", "flip", "tril", "triu", "cumsum", "sin", "cos", "floor", "ceil", "trunc", "sign",
    "round", "t", "swapaxes", "swapdims", "movedim", "moveaxis", "unflatten", "ravel",
    "broadcast_to", "tile", "roll", "logsumexp", "reciprocal", "expm1", "log2", "log10",
    "clamp_min", "clamp_max", "remainder", "masked_select", "isnan", "isinf", "isfinite",
    "is_floating_point", "nonzero", "count_nonzero", "exp_", "log_", "sqrt_", "abs_", "neg_",
    "sigmoid_", "tanh_", "square_", "bernoulli", "norm", "amax", "dot", "outer", "isclose",
    "allclose", "multinomial", "equal",
    # products, diagonals, more math, splitting and set-like names
    "prod", "cumprod", "repeat_interleave", "amin", "aminmax", "diag", "diagonal", "trace",
    "tan", "sinh", "cosh", "erf", "atan2", "arctan2", "lerp", "addcmul", "addcdiv", "mv",
    "greater", "less", "greater_equal", "less_equal", "not_equal", "tensor_split", "unique",
    "argwhere", "index_add", "index_fill", "nan_to_num", "nan_to_num_", "index_put",
    "index_put_", "addmm", "addmv", "baddbmm",
)


def _method_form(name):
    def fn(input, *args, out=None, **kwargs):
        if out is not None:
            raise NotImplementedError(f"minigrad.{name}: out= is not supported; assign the "
                                      "result instead")
        if not isinstance(input, Tensor):
            input = Tensor(input)
        return getattr(input, name)(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``minigrad.{name}(input, ...)`` is ``input.{name}(...)``: see Tensor.{name}."
    return fn


# built here, exported by minigrad/__init__.py (here they would hide the builtins sum, max,
# min, abs, any, all that this module uses)
METHOD_FUNCTIONS = {name: _method_form(name) for name in METHOD_FORMS}


# ---- joining ----------------------------------------------------------------------------
def cat(tensors, dim=0):
    """The tensors one after the other along ``dim`` (the same shape elsewhere). PyTorch's
    promotion applies across them; a 1-D empty tensor is skipped, as PyTorch does."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    if not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError("cat(): expected a sequence of Tensors, got " +
                        ", ".join(type(t).__name__ for t in tensors))
    kept = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    ndim = kept[0].ndim
    if ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = normalize_dim(dim, ndim)
    for i, t in enumerate(kept):
        if t.ndim != ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ndim} and "
                               f"{t.ndim}")
        if t.shape[:d] + t.shape[d + 1:] != kept[0].shape[:d] + kept[0].shape[d + 1:]:
            raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                               f"Expected size {kept[0].shape} but got size {t.shape} for "
                               f"tensor number {i} in the list.")
    dt = _dtype.result_type(*kept) if len({t.dtype for t in kept}) > 1 else kept[0].dtype
    return J.Cat.apply(*(t._as(dt) for t in kept), dim=d)


concat = concatenate = cat


def stack(tensors, dim=0):
    """The tensors (all of one shape) along a new dim ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {shape} "
                               f"at entry 0 and {t.shape} at entry {i}")
    d = normalize_dim(dim, len(shape) + 1)
    return cat([t.unsqueeze(d) for t in tensors], d)


def hstack(tensors):
    tensors = list(tensors)
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([t.reshape(1, -1) if t.ndim < 2 else t for t in tensors], 0)


def einsum(equation, *operands):
    """Sums of products named by letters: ``einsum("ij,jk->ik", a, b)`` is a @ b,
    ``einsum("bij->bji", x)`` a transpose, ``einsum("i,i->", u, v)`` a dot product."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands or not all(isinstance(t, Tensor) for t in operands):
        raise TypeError("einsum(): operands must be Tensors")
    inputs, output = linalg.parse_einsum(equation, [t.shape for t in operands])
    dt = operands[0].dtype
    for t in operands[1:]:
        dt = _dtype.promote(dt, t.dtype)
    return linalg.Einsum.apply(*(t._as(dt) for t in operands), inputs=inputs, output=output)


# ---- making tensors ---------------------------------------------------------------------
def from_numpy(array):
    """A tensor sharing ``array``'s memory: writing to one shows in the other (as PyTorch).
    The dtype stays (an int32 array gives an int32 tensor); only minigrad's dtypes can be
    shared (float16/32/64, int8/16/32/64, uint8, bool)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    if array.dtype not in _dtype.SUPPORTED:
        names = ", ".join(sorted(str(d) for d in _dtype.SUPPORTED))
        raise TypeError(f"from_numpy: can't share memory with a {array.dtype} array; minigrad "
                        f"supports {names} (convert with array.astype(...) or copy with "
                        "minigrad.tensor(array))")
    return Tensor._wrap(array)


def randint(low=0, high=None, size=None, *, dtype=None, device=None, requires_grad=False,
            generator=None):
    """Integers drawn uniformly from [low, high): ``randint(10, (3,))`` or
    ``randint(0, 10, (3,))``; int64 unless ``dtype`` says otherwise."""
    if size is None:                           # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:                         # randint(high, size=size)
        low, high = 0, low
    if high is None or size is None:
        raise TypeError("randint() missing required arguments: (low,) high, size")
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    values = random.generator(generator).integers(low, high, size=shape_arg((size,)))
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.int64
    return Tensor(values, dtype=dt, device=device or "cpu", requires_grad=requires_grad)


def randperm(n, *, dtype=None, device=None, requires_grad=False, generator=None):
    """A random ordering of 0, 1, …, n − 1."""
    values = random.generator(generator).permutation(int(n))
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.int64
    return Tensor(values, dtype=dt, device=device or "cpu", requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False):
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype,
                   device=device or input.device, requires_grad=requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """A new tensor of ``size`` (minigrad fills it with zeros; PyTorch leaves it as found)."""
    from .creation import zeros
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    from .creation import zeros_like
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    from .creation import full
    return full(input.shape, fill_value, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced numbers from start to end, both included (float32)."""
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    values = np.linspace(float(start), float(end), int(steps)).astype(dt)
    t = as_tensor(move(values, Device(device or "cpu")))
    t.requires_grad = requires_grad
    return t


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    """The n × m identity matrix (m = n by default), float32."""
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    t = as_tensor(move(np.eye(n, m, dtype=dt), Device(device or "cpu")))
    t.requires_grad = requires_grad
    return t


def is_tensor(obj):
    return isinstance(obj, Tensor)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids of 1-D tensors: with ``indexing="ij"`` the i-th result varies along
    dim i; with "xy" the first two dims are swapped (x along columns), as NumPy's default.
    Differentiable (each is a reshape and an expand)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    if not tensors or not all(isinstance(t, Tensor) and t.ndim <= 1 for t in tensors):
        raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensors in the input")
    flat = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    order = [1, 0] + list(range(2, len(flat))) if swap else list(range(len(flat)))
    shape = tuple(flat[i].shape[0] for i in order)
    grids = []
    for i, t in enumerate(flat):
        axis = order.index(i)
        view = (1,) * axis + (-1,) + (1,) * (len(flat) - axis - 1)
        grids.append(t.reshape(view).expand(*shape))
    return tuple(grids)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):
    """Samples of N(mean, std²): ``normal(0.0, 1.0, size=(3,))`` with numbers, or one per
    element of ``mean``/``std`` tensors (broadcast), mean + std·ε, differentiable in both
    (dmean 1, dstd ε)."""
    from .creation import randn
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        if size is not None:
            raise RuntimeError("normal: size is given by the mean and std tensors")
        like = mean if isinstance(mean, Tensor) else std
        shape = np.broadcast_shapes(getattr(mean, "shape", ()), getattr(std, "shape", ()))
        noise = randn(*shape, dtype=like.dtype, device=like.device, generator=generator)
        return mean + std * noise
    if size is None:
        raise TypeError("normal() with a number mean and std needs size=")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    out = randn(*shape_arg((size,)), dtype=dtype, device=device, generator=generator)
    out = out * std + mean if (std, mean) != (1.0, 0.0) else out
    out.requires_grad = requires_grad
    return out
