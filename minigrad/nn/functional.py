"""The layers as functions (PyTorch's ``torch.nn.functional``). Each checks its inputs and
says what is wrong in terms of the layer, then calls the op in ``minigrad.ops.nn``."""
from .. import _dtype
from ..autograd import check_same_device
from ..ops import nn as ops
from ..shapes import normalize_dim, pair
from ..tensor import Tensor


def _square(v, name):
    a, b = pair(v, name)
    if a != b:
        raise NotImplementedError(f"{name} {v!r}: minigrad supports the same {name} for "
                                  "height and width only")
    return a


def _check_float(op, *tensors):
    for t in tensors:
        if t is not None and not _dtype.is_float(t.dtype):
            raise TypeError(f"{op}: expected a floating-point tensor, got {t.dtype}")
    dtypes = {t.dtype for t in tensors if t is not None}
    if len(dtypes) > 1:
        raise TypeError(f"{op}: inputs have different dtypes {sorted(map(str, dtypes))}; "
                        "convert them with .float() or .double()")
    check_same_device(op, [t for t in tensors if t is not None])


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """2-D convolution (cross-correlation, as PyTorch) of x (N, C, H, W) with weight
    (OC, C, KH, KW), by im2col and a matrix product; bias (OC,) or None."""
    _check_float("conv2d", x, weight, bias)
    stride, padding = _square(stride, "stride"), _square(padding, "padding")
    if x.ndim == 3 and weight.ndim == 4:          # one unbatched image (C, H, W)
        return conv2d(x.unsqueeze(0), weight, bias, stride, padding).squeeze(0)
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(f"conv2d: expected x (N, C, H, W) or unbatched (C, H, W) and weight "
                         f"(OC, C, KH, KW), got shapes {x.shape} and {weight.shape}")
    if x.shape[1] != weight.shape[1]:
        raise ValueError(f"conv2d: input has {x.shape[1]} channels but the weight "
                         f"{weight.shape} expects {weight.shape[1]}")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"conv2d: bias has shape {bias.shape}, expected ({weight.shape[0]},)")
    if stride < 1 or padding < 0:
        raise ValueError(f"conv2d: stride must be ≥ 1 and padding ≥ 0, got {stride}, {padding}")
    h, w = x.shape[2] + 2 * padding, x.shape[3] + 2 * padding
    if h < weight.shape[2] or w < weight.shape[3]:
        raise ValueError(f"conv2d: kernel {weight.shape[2:]} is larger than the padded input "
                         f"({h}, {w})")
    return ops.Conv2d.apply(x, weight, bias, stride=stride, padding=padding)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max over kernel_size windows of x (N, C, H, W), stepping by stride (default: the
    kernel size); output size by floor, as PyTorch."""
    _check_float("max_pool2d", x)
    kernel = pair(kernel_size, "kernel_size")
    stride = _square(stride if stride is not None else kernel_size, "stride")
    padding = _square(padding, "padding")
    if x.ndim == 3:                               # one unbatched image (C, H, W)
        return max_pool2d(x.unsqueeze(0), kernel_size, stride, padding).squeeze(0)
    if x.ndim != 4:
        raise ValueError(f"max_pool2d: expected x of shape (N, C, H, W) or unbatched "
                         f"(C, H, W), got {x.shape}")
    if padding * 2 > min(kernel):
        raise ValueError(f"max_pool2d: padding {padding} must be at most half the kernel "
                         f"size {kernel}")
    if x.shape[2] + 2 * padding < kernel[0] or x.shape[3] + 2 * padding < kernel[1]:
        raise ValueError(f"max_pool2d: kernel {kernel} is larger than the input {x.shape[2:]}")
    return ops.MaxPool2d.apply(x, kernel_size=kernel, stride=stride, padding=padding)


def sigmoid(x):
    _check_float("sigmoid", x)
    return ops.Sigmoid.apply(x)


def relu(x):
    _check_float("relu", x)
    return ops.ReLU.apply(x)


def linear(x, weight, bias=None):
    """y = x @ weightᵀ + bias for x (*, in) — any number of leading dims, or none —
    weight (out, in), bias (out,) or None. The leading dims are flattened into one batch."""
    _check_float("linear", x, weight, bias)
    if x.ndim < 1 or weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: x {x.shape} and weight {weight.shape} do not fit: expected "
                         f"x (*, in) and weight (out, in) with the same in")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias has shape {bias.shape}, expected ({weight.shape[0]},)")
    if x.ndim == 2:
        return ops.Linear.apply(x, weight, bias)
    lead = x.shape[:-1]
    batch = 1
    for n in lead:
        batch *= n
    y = ops.Linear.apply(x.reshape(batch, x.shape[-1]), weight, bias)
    return y.reshape(lead + (weight.shape[0],))


def cross_entropy(logits, target, reduction="mean", stats=None):
    """Cross-entropy of raw logits (B, K) against int64 class indices (B,).

    ``stats`` (minigrad's, not PyTorch's): a float64 tensor of 4 values on the logits' device
    (``nn.TrainingStats`` holds one) to which the batch's mean loss, its number of correct
    predictions (argmax of the logits = target), its size and 1 are added, in place and
    outside the graph — on the GPU inside the loss's kernel, so that an epoch's loss and
    accuracy need no work of their own and no copy to the host until it ends."""
    _check_float("cross_entropy", logits)
    if not isinstance(target, Tensor):
        target = Tensor(target, device=logits.device)
    check_same_device("cross_entropy", [logits, target])
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', "
                         f"got {reduction!r}")
    if target.dtype != _dtype.int64:
        raise TypeError(f"cross_entropy: target must hold int64 class indices, got "
                        f"{target.dtype} (class probabilities are not supported)")
    if logits.ndim != 2 or target.shape != logits.shape[:1]:
        raise ValueError(f"cross_entropy: expected logits (B, K) and target (B,), got "
                         f"{logits.shape} and {target.shape}")
    if stats is not None:
        if not isinstance(stats, Tensor) or stats.shape != (4,) or \
                stats.dtype != _dtype.float64 or stats.device != logits.device:
            raise ValueError("cross_entropy: stats must be a float64 tensor of shape (4,) on "
                             f"the logits' device ({logits.device}), e.g. "
                             "minigrad.nn.TrainingStats(device).totals")
        stats._mark_written()
    k = logits.shape[1]
    # On the GPU this check would wait for the device every step; the kernel there gives
    # a NaN loss for a class out of range instead.
    out_of_range = (target.data < 0) | (target.data >= k) if target.device.type == "cpu" else None
    if out_of_range is not None and out_of_range.any():
        bad = target.data[out_of_range][0]
        raise IndexError(f"cross_entropy: target class {int(bad)} is out of range for "
                         f"{k} classes")
    return ops.CrossEntropy.apply(logits, target, reduction=reduction,
                                  stats=None if stats is None else stats.data)


def log_softmax(x, dim):
    _check_float("log_softmax", x)
    return ops.LogSoftmax.apply(x, dim=normalize_dim(dim, x.ndim))


def flatten(x, start_dim=1, end_dim=-1):
    return x.flatten(start_dim, end_dim)
