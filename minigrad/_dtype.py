"""The dtypes minigrad supports, how Python data gets one, and how two combine."""
import numbers

import numpy as np

float16 = np.dtype("float16")   # half: CPU arithmetic only (the kernels are float/double)
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int64 = np.dtype("int64")
int32 = np.dtype("int32")
int16 = np.dtype("int16")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")

SUPPORTED = (float32, float64, int64, bool_, float16, int32, int16, int8, uint8)
NAMES = {"float32": float32, "float": float32, "float64": float64, "double": float64,
         "int64": int64, "long": int64, "bool": bool_, "float16": float16, "half": float16,
         "int32": int32, "int": int32, "int16": int16, "short": int16, "int8": int8,
         "uint8": uint8}
# PyTorch's tensor type names (minigrad.IntTensor, ...), also used in its error messages
TYPE_NAMES = {float32: "Float", float64: "Double", float16: "Half", int64: "Long",
              int32: "Int", int16: "Short", int8: "Char", uint8: "Byte", bool_: "Bool"}


_default_float = [float32]


def get_default_dtype():
    """The dtype of floats made without one (Python floats, randn, new layers' weights):
    float32 unless ``set_default_dtype`` changed it."""
    return _default_float[0]


def set_default_dtype(dtype):
    """Make float64 (or back float32) the dtype of floats made without one, as
    ``torch.set_default_dtype``. Only float32 and float64 may be the default."""
    dt = as_dtype(dtype)
    if dt not in (float32, float64):
        raise TypeError(f"set_default_dtype: only float32 and float64 can be the default "
                        f"dtype in minigrad, not {dt}")
    _default_float[0] = dt


def as_dtype(dtype):
    """Turn a dtype given as a string, a NumPy dtype or a minigrad dtype into a supported one.
    A foreign dtype object (PyTorch's ``torch.float32``) is understood by its name; anything
    else is a TypeError naming it."""
    name = dtype if isinstance(dtype, str) else None
    if name is None and type(dtype).__module__.split(".")[0] not in ("numpy", "builtins"):
        name = str(dtype).rsplit(".", 1)[-1]            # torch.float32 -> "float32"
    if name is not None:
        if name in NAMES:
            return NAMES[name]
    elif dtype is not None:
        try:
            dt = np.dtype(dtype)
        except TypeError:
            dt = None
        # compare by identity: NumPy reads None as float64, so `None in SUPPORTED` is True
        if dt is not None and any(dt == d for d in SUPPORTED):
            return dt
    names = ", ".join(sorted({str(d) for d in SUPPORTED}))
    raise TypeError(f"unsupported dtype {dtype!r} (of type {type(dtype).__name__}): minigrad "
                    f"supports {names}")


def tensor_type_name(dtype, device_type="cpu"):
    """PyTorch's name for a tensor type in messages: minigrad.FloatTensor,
    minigrad.cuda.LongTensor, ..."""
    where = "minigrad.cuda." if device_type == "cuda" else "minigrad."
    return f"{where}{TYPE_NAMES.get(np.dtype(dtype), str(dtype))}Tensor"


def is_float(dtype):
    return (dtype if isinstance(dtype, np.dtype) else np.dtype(dtype)).kind == "f"


def is_integer(dtype):
    """int8, int16, int32, int64 or uint8 (not bool)."""
    return np.dtype(dtype).kind in "iu"


def default_for(array):
    """The dtype minigrad gives data that arrives without one: floats keep float64 only when
    they come as a float64 array (Python floats and lists become float32); integers keep a
    supported integer dtype (an int32 NumPy array stays int32, as in PyTorch; Python ints
    are int64) and become int64 otherwise (uint16, uint32, uint64); booleans stay bool."""
    kind = array.dtype.kind
    if kind == "b":
        return bool_
    if kind in "iu":
        return array.dtype if array.dtype in SUPPORTED else int64
    if kind == "f":
        return array.dtype if array.dtype in (float16, float32, float64) else \
            get_default_dtype()
    raise TypeError(f"cannot make a tensor from data of dtype {array.dtype}")


def category(dtype):
    """bool < integer < floating point: PyTorch's order of dtype categories."""
    return _CATEGORY[np.dtype(dtype).kind]


_CATEGORY = {"b": 0, "i": 1, "u": 1, "f": 2}


def promote(a, b):
    """Result dtype of a binary op on two tensors of these dtypes, as PyTorch does it: the
    wider float wins; a float beats an integer without widening (int64 + float32 is float32,
    not NumPy's float64); an integer beats bool; two integers give the narrowest integer
    that holds both ranges (int32 + int64 is int64, uint8 + int8 is int16), which is what
    NumPy's ``promote_types`` gives for these dtypes too."""
    a, b = np.dtype(a), np.dtype(b)
    if a == b:
        return a
    if category(a) != category(b):
        return a if category(a) > category(b) else b
    if is_float(a):
        return a if a.itemsize > b.itemsize else b
    return np.promote_types(a, b)


def result_type(*operands):
    """The dtype of an op on tensors and Python numbers, by PyTorch's three tiers: tensors
    with dimensions decide; a 0-d tensor counts only when its category (bool < int < float)
    is higher than theirs, and a Python number only when its category is higher than all of
    theirs. So float32 − float64 0-d tensor stays float32, and int64 tensor · 2.5 is float32.

    Each operand is something with ``dtype`` and ``ndim`` (a Tensor) or a Python number."""
    tiers = [None, None, None]           # dimensioned tensors, 0-d tensors, numbers
    for x in operands:
        if hasattr(x, "dtype") and hasattr(x, "ndim"):
            tier, dt = (0 if x.ndim else 1), x.dtype
        else:
            tier, dt = 2, scalar_default(x)
        tiers[tier] = dt if tiers[tier] is None else promote(tiers[tier], dt)
    result = None
    for dt in tiers:
        if dt is not None and (result is None or category(dt) > category(result)):
            result = dt if result is None else promote(result, dt)
    return result


def scalar_default(value):
    """The dtype a Python number would have as a tensor: bool, int64, or float32."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, numbers.Integral):
        return int64
    if isinstance(value, numbers.Real):
        return get_default_dtype()
    raise TypeError(f"unsupported operand of type {type(value).__name__}")


def can_cast(src, dst):
    """Whether an in-place op may write a result of dtype ``src`` into a tensor of dtype
    ``dst``: not into a lower category (a float result into an int64 tensor), as PyTorch."""
    return category(src) <= category(dst)


def check_fits(values, dtype):
    """Python numbers going into an integer tensor must fit its range, or it is PyTorch's
    error rather than a wrapped value: int8 takes −128…127, int32 ±2**31. Unsigned uint8
    also takes −255…−1, which wraps (−1 is 255), as PyTorch accepts them. A float is cut
    toward zero (1.7 → 1) if the result fits; NaN and ±inf never fit."""
    dtype = np.dtype(dtype)
    values = np.asarray(values)
    if not is_integer(dtype) or values.dtype.kind not in "iuf" or values.size == 0:
        return
    info = np.iinfo(dtype)
    low = -info.max if info.min == 0 else info.min
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(values) & (values >= low) & (values < info.max + 1)
    if not ok.all():
        raise RuntimeError(f"value cannot be converted to type {dtype} without overflow")


def wrap_integer(value, dtype):
    """A Python int as a 0-d array of an integer ``dtype``, wrapped modulo 2**bits as
    PyTorch does when a number meets an integer tensor: uint8 + 300 adds 44. A number that
    fits in no 64-bit integer is PyTorch's error."""
    if not -2**63 <= value < 2**64:
        raise RuntimeError("int too big to convert")
    bits = np.dtype(dtype).itemsize * 8
    value = int(value) % (1 << bits)
    if np.dtype(dtype).kind == "i" and value >= 1 << (bits - 1):
        value -= 1 << bits
    return np.asarray(value, dtype=dtype)


def scalar_dtype(value, tensor_dtype):
    """The dtype a Python number takes when combined with a tensor: the tensor's, unless the
    number is of a higher category (a float with an integer tensor: float32)."""
    own = scalar_default(value)
    return own if category(own) > category(tensor_dtype) else np.dtype(tensor_dtype)
