"""The 1-d layers as functions (re-exported by ``nn.functional``): ``conv1d``,
``max_pool1d`` and ``avg_pool1d``. A sequence x (N, C, L) is an image (N, C, 1, L) of height
one, so each is its 2-d form with a kernel of height one (then squeezed back) and runs
wherever that runs, CPU and GPU; the backward is the 2-d op's. Padding along the length is
done first, with ``F.pad`` (zeros for conv, −∞ for max-pool): the 2-d ops pad height and
width alike. Errors are PyTorch's."""
from ..arguments import pool_out_size
from .layer_functions import pad


def _one(v, name, op):
    """An int, or a list/tuple of one int, as an int (PyTorch's rule for 1-d sizes)."""
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, (tuple, list)) and len(v) == 1 and isinstance(v[0], int):
        return v[0]
    if op == "conv1d":
        raise RuntimeError(f"expected {name} to be a single integer value or a list of 1 values "
                           f"to match the convolution dimensions, but got {name}={list(v)}")
    raise RuntimeError(f"{op}() argument '{name}' should contain one int (got "
                       f"{len(v) if isinstance(v, (tuple, list)) else v!r})")


def _conv1d_padding(padding, kernel, stride):
    """(left, right) zeros: an int on both sides; 'valid' none; 'same' the k − 1 that keep
    the length, the odd one on the right (stride 1 only)."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        if stride != 1:
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        return (kernel - 1) // 2, kernel - 1 - (kernel - 1) // 2
    if isinstance(padding, str):
        raise RuntimeError(f"Invalid padding string: {padding!r}")
    p = _one(padding, "padding", "conv1d")
    if p < 0:
        raise RuntimeError("negative padding is not supported")
    return p, p


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution (cross-correlation, as PyTorch) of x (N, C, L) or (C, L) with weight
    (OC, C, K): y[n, o, i] = Σ_c Σ_k w[o, c, k]·x[n, c, i·stride + k − left] (+ b[o]), the
    input padded with ``padding`` zeros (an int, 'valid' or 'same')."""
    from .functional import _check_float, conv2d
    x = input
    if dilation not in (1, (1,), [1]) or groups != 1:
        raise NotImplementedError(f"conv1d: minigrad supports dilation=1 and groups=1 only, "
                                  f"got dilation={dilation}, groups={groups}")
    _check_float("conv1d", x, weight, bias)
    stride = _one(stride, "stride", "conv1d")
    if weight.ndim != 3:
        raise RuntimeError(f"conv1d: expected weight of shape (out_channels, in_channels, "
                           f"kernel_size), got {list(weight.shape)}")
    if x.ndim == 2:                                   # one unbatched sequence (C, L)
        return conv1d(x.unsqueeze(0), weight, bias, stride, padding).squeeze(0)
    if x.ndim != 3:
        raise RuntimeError(f"Expected 2D (unbatched) or 3D (batched) input to conv1d, but got "
                           f"input of size: {list(x.shape)}")
    if x.shape[1] != weight.shape[1]:
        raise RuntimeError(f"Given groups=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(x.shape)} to have {weight.shape[1]} channels, but got "
                           f"{x.shape[1]} channels instead")
    if bias is not None and bias.shape != weight.shape[:1]:
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be "
                           f"1-dimensional with {weight.shape[0]} elements, but got bias of "
                           f"size {list(bias.shape)} instead")
    if stride < 1:
        raise RuntimeError("non-positive stride is not supported")
    kernel = weight.shape[2]
    left, right = _conv1d_padding(padding, kernel, stride)
    if x.shape[2] + left + right < kernel:
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({x.shape[2] + left + right}). Kernel size: ({kernel}). Kernel "
                           "size can't be greater than actual input size")
    if left or right:
        x = pad(x, (left, right))
    # height 1 and a kernel of height 1: one output row, whatever the (square) stride
    return conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, stride).squeeze(2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """y[n, c, i] = max over k < kernel_size of x[n, c, i·stride + k − padding] for x
    (N, C, L) or (C, L), stride defaulting to the kernel size, the padding −∞ (never the
    max: it is at most half the kernel); output length by floor."""
    from .functional import _check_float, max_pool2d
    x = input
    if dilation not in (1, (1,), [1]) or ceil_mode or return_indices:
        raise NotImplementedError("max_pool1d: minigrad supports dilation=1, ceil_mode=False "
                                  "and return_indices=False only")
    _check_float("max_pool1d", x)
    kernel = _one(kernel_size, "kernel_size", "max_pool1d")
    stride = kernel if stride is None or stride == [] else _one(stride, "stride", "max_pool1d")
    padding = _one(padding, "padding", "max_pool1d")
    if x.ndim not in (2, 3):
        raise RuntimeError(f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 "
                           f"dim batch size for input, but got:{list(x.shape)}")
    for name, v in (("kernel_size", kernel), ("stride", stride)):
        if v < 1:
            raise RuntimeError(f"max_pool1d() {name} must be greater than zero, but got {v}")
    if padding < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {padding}")
    if padding * 2 > kernel:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but "
                           f"got padding={padding} and kernel_size={kernel}")
    out = (x.shape[-1] + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {out}")
    if padding:
        x = pad(x, (padding, padding), value=float("-inf"))
    return max_pool2d(x.unsqueeze(-2), (1, kernel), stride).squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """y[n, c, i] = the mean of x[n, c, i·stride + k − padding] over k < kernel_size for x
    (N, C, L) or (C, L): ``avg_pool2d`` with the kernel (1, kernel_size), so its rules for
    ``ceil_mode`` and ``count_include_pad`` hold."""
    from .functional import avg_pool2d
    x = input
    kernel = _one(kernel_size, "kernel_size", "avg_pool1d")
    stride = kernel if stride is None or stride == [] else _one(stride, "stride", "avg_pool1d")
    padding = _one(padding, "padding", "avg_pool1d")
    if x.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {x.ndim}-dimensional tensor "
                           "for argument #1 'self' (while checking arguments for avg_pool1d)")
    if stride == 0 or kernel == 0:
        raise RuntimeError("stride should not be zero")
    if padding < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {padding}")
    if padding * 2 > kernel:
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                           f"pad={padding}, kernel_size={kernel} and dilation=1")
    out = pool_out_size(x.shape[-1], kernel, stride, padding, ceil_mode)
    if out < 1:
        channels, length = x.shape[-2:]
        raise RuntimeError(f"Given input size: ({channels}x1x{length}). Calculated output "
                           f"size: ({channels}x1x{out}). Output size is too small")
    return avg_pool2d(x.unsqueeze(-2), (1, kernel), (1, stride), (0, padding), ceil_mode,
                      count_include_pad).squeeze(-2)
