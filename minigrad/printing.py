"""``repr`` of a Tensor, in PyTorch's format: the same numbers written the same way.

How floats are written depends on the whole tensor (its finite, non-zero values):

- all whole numbers: ``1.``, ``2.``, ... — unless the largest is over 1e8 or more than 1000
  times the smallest, then scientific;
- otherwise four decimals (``0.5000``) — unless the largest is over 1e8, or more than 1000
  times the smallest, or the smallest is under 1e-4: then scientific, ``1.0000e+10``.

Every element is padded to the widest one; more than 1000 elements are summarised with
``...`` (three at each end of each dim); lines wrap at 80 characters."""
import numpy as np

PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80


def float_formatter(values):
    """A function writing one float of ``values`` the way PyTorch would write it there."""
    finite = values[np.isfinite(values) & (values != 0)].astype(np.float64)
    width = 1
    if finite.size:
        big, small = np.abs(finite).max(), np.abs(finite).min()
        whole = bool((finite == np.ceil(finite)).all())
        sci = big / small > 1000.0 or big > 1.0e8 or (not whole and small < 1.0e-4)
        mode = "sci" if sci else "whole" if whole else "fixed"
        width = max(len(_write(v, mode)) for v in finite)
        if mode == "whole":
            width += 1                               # the "." after each number
    else:                  # only zeros, infinities and NaNs: written as whole numbers
        mode = "whole"

    def write(v):
        text = _write(v, mode)
        if mode == "whole" and np.isfinite(v):
            text += "."
        return text.rjust(width)
    return write


def _write(v, mode):
    if mode == "sci":
        return f"{v:.{PRECISION}e}"
    if mode == "whole":
        return f"{v:.0f}"
    return f"{v:.{PRECISION}f}"


def tensor_repr(t, dtype_names):
    """``tensor([...], <extras>)`` for the Tensor ``t``; ``dtype_names`` says which dtypes
    are the defaults that PyTorch does not print (float32, int64, bool)."""
    values = t.detach().cpu()._data
    if values.dtype.kind == "f":
        fmt = {"float_kind": float_formatter(values)}
    elif values.dtype.kind == "b":
        strings = {True: " True", False: "False"} if values.size and not values.all() else \
            {True: "True", False: "False"}
        fmt = {"bool": lambda v: strings[bool(v)]}
    else:
        fmt = None
    body = np.array2string(values, separator=", ", prefix="tensor(", threshold=THRESHOLD,
                           edgeitems=EDGEITEMS, max_line_width=LINEWIDTH, formatter=fmt)
    extras = []
    if values.size == 0 and values.ndim > 1:
        extras.append(f"size={tuple(values.shape)}")
    if t.device.type != "cpu":
        extras.append(f"device='{t.device}'")
    if t.dtype not in dtype_names:
        extras.append(f"dtype=minigrad.{t.dtype}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn={t.grad_fn!r}")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    if values.size == 0:
        body = "[]"
    body = body.replace(", ..., ", ",  ..., ")     # PyTorch writes " ..." in a row
    return "tensor(" + ", ".join([body] + extras) + ")"
