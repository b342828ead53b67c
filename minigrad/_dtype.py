"""The dtypes minigrad supports, how Python data gets one, and how two combine."""
import numbers

import numpy as np

float32 = np.dtype("float32")
float64 = np.dtype("float64")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")

SUPPORTED = (float32, float64, int64, bool_)
NAMES = {"float32": float32, "float": float32, "float64": float64, "double": float64,
          "int64": int64, "long": int64, "bool": bool_}


def as_dtype(dtype):
    """Turn a dtype given as a string, a NumPy dtype or a minigrad dtype into a supported one."""
    if isinstance(dtype, str):
        if dtype in NAMES:
            return NAMES[dtype]
    else:
        try:
            dt = np.dtype(dtype)
        except TypeError:
            dt = None
        if dt in SUPPORTED:
            return dt
    names = ", ".join(sorted({str(d) for d in SUPPORTED}))
    raise TypeError(f"unsupported dtype {dtype!r}: minigrad supports {names}")


def is_float(dtype):
    return np.dtype(dtype).kind == "f"


def default_for(array):
    """The dtype minigrad gives data that arrives without one: floats keep float64 only when
    they come as a float64 array (Python floats and lists become float32); any integer
    becomes int64; booleans stay bool."""
    kind = array.dtype.kind
    if kind == "b":
        return bool_
    if kind in "iu":
        return int64
    if kind == "f":
        return array.dtype if array.dtype in (float32, float64) else float32
    raise TypeError(f"cannot make a tensor from data of dtype {array.dtype}")


def promote(a, b):
    """Result dtype of a binary op, as PyTorch does it: the wider float wins; a float beats
    an integer without widening (int64 + float32 is float32, not NumPy's float64)."""
    a, b = np.dtype(a), np.dtype(b)
    if a == b:
        return a
    if is_float(a) and is_float(b):
        return float64 if float64 in (a, b) else float32
    if is_float(a):
        return a
    if is_float(b):
        return b
    return int64


def scalar_dtype(value, tensor_dtype):
    """The dtype a Python number takes when combined with a tensor: the tensor's, unless the
    number is a float and the tensor is not (then float32)."""
    if isinstance(value, (bool, np.bool_)):
        return tensor_dtype
    if isinstance(value, numbers.Integral):
        return tensor_dtype if tensor_dtype != bool_ else int64
    if isinstance(value, numbers.Real):
        return tensor_dtype if is_float(tensor_dtype) else float32
    raise TypeError(f"unsupported operand of type {type(value).__name__}")
