"""Making tensors: from data, filled with a constant, a range, or random numbers."""
import numpy as np

from . import _dtype, random
from .arguments import shape_arg
from .device import device as Device
from .tensor import Tensor, as_tensor


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding ``data`` (a number, nested lists, an array or a Tensor).
    Python floats become float32, integers int64; a NumPy array keeps its dtype (float64,
    int32, uint8, ...) where minigrad has it."""
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def _make(array_fn, shape, dtype, device, requires_grad, default=None):
    dt = _dtype.as_dtype(dtype) if dtype is not None else (default or
                                                           _dtype.get_default_dtype())
    xp = Device(device if device is not None else "cpu").array_module
    t = as_tensor(array_fn(xp, shape_arg(shape), dt))
    t.requires_grad = requires_grad
    return t


def zeros(*shape, dtype=None, device=None, requires_grad=False):
    return _make(lambda xp, s, dt: xp.zeros(s, dt), shape, dtype, device, requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad=False):
    return _make(lambda xp, s, dt: xp.ones(s, dt), shape, dtype, device, requires_grad)


def full(shape, fill_value, dtype=None, device=None, requires_grad=False):
    """``shape`` filled with ``fill_value``; its dtype that of the value (float32 for a
    float, int64 for an int) unless ``dtype`` says; the value must fit an integer dtype."""
    default = _dtype.default_for(np.asarray(fill_value))
    if isinstance(fill_value, float):
        default = _dtype.get_default_dtype()
    if dtype is not None:
        _dtype.check_fits(fill_value, _dtype.as_dtype(dtype))
    return _make(lambda xp, s, dt: xp.full(s, fill_value, dt), (shape,), dtype, device,
                 requires_grad, default)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Numbers from ``start`` up to (not including) ``end``; int64 unless any bound is a float."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign "
                           f"(from {start} to {end} by {step})")
    floats = any(isinstance(v, float) for v in (start, end, step))
    default = _dtype.get_default_dtype() if floats else _dtype.int64
    return _make(lambda xp, s, dt: xp.arange(start, end, step).astype(dt), (), dtype, device,
                 requires_grad, default)


def _random(draw, shape, dtype, device, requires_grad, generator=None):
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    if not _dtype.is_float(dt):
        raise TypeError(f"random floats need a float dtype, not {dt}")
    values = draw(random.generator(generator), shape_arg(shape), dt)
    return Tensor(values, device=device or "cpu", requires_grad=requires_grad)


def randn(*shape, dtype=None, device=None, requires_grad=False, generator=None):
    """Standard normal samples from minigrad's generator (see ``manual_seed``), or from
    ``generator`` (a ``minigrad.Generator``)."""
    return _random(lambda g, s, dt: g.standard_normal(s, dtype=dt), shape, dtype, device,
                   requires_grad, generator)


def rand(*shape, dtype=None, device=None, requires_grad=False, generator=None):
    """Uniform samples in [0, 1) from minigrad's generator (or ``generator``)."""
    return _random(lambda g, s, dt: g.random(s, dtype=dt), shape, dtype, device, requires_grad,
                   generator)


def rand_like(t, dtype=None, device=None, requires_grad=False):
    """``rand`` of ``t``'s shape (and dtype and device, unless given)."""
    return rand(t.shape, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def randn_like(t, dtype=None, device=None, requires_grad=False):
    """``randn`` of ``t``'s shape (and dtype and device, unless given)."""
    return randn(t.shape, dtype=dtype or t.dtype, device=device or t.device,
                 requires_grad=requires_grad)


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    return zeros(t.shape, dtype=dtype or t.dtype, device=device or t.device,
                 requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    return ones(t.shape, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def where(condition, x=None, y=None):
    """Elementwise ``x`` where ``condition`` holds, else ``y`` (Tensors or numbers). With
    the condition alone, the indices where it holds, one tensor per dim
    (``condition.nonzero(as_tuple=True)``), as PyTorch."""
    from .ops.elementwise import Where
    cond = condition if isinstance(condition, Tensor) else Tensor(condition)
    if x is None and y is None:
        return cond.nonzero(as_tuple=True)
    if x is None or y is None:
        raise TypeError("where() takes a condition alone, or a condition, x and y")
    if cond.dtype != _dtype.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got {cond.dtype}")
    ref = next((v for v in (x, y) if isinstance(v, Tensor)), None)
    if ref is None:
        ref = Tensor(x, device=cond.device)
    _, a = ref._operand(x, "where")
    _, b = ref._operand(y, "where")
    dt = _dtype.promote(a.dtype, b.dtype)
    a, b = a._as(dt), b._as(dt)
    try:
        np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(f"where: shapes {cond.shape}, {a.shape} and {b.shape} cannot be "
                         "broadcast together") from None
    return Where.apply(cond, a, b)

