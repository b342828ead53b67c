"""Layers as functions (re-exported by ``nn.functional``): ``adaptive_avg_pool2d`` and
``embedding``, both built from existing ops (average pooling, slicing, index_select),
``one_hot``, ``dropout2d``, ``layer_norm``, ``group_norm`` and ``pad``."""
import math
import numbers

from .. import _dtype
from ..tensor import Tensor


def adaptive_avg_pool2d(input, output_size):
    """The mean over windows chosen so that the output has ``output_size`` (an int, or a
    pair whose None entries keep the input's size): output row i averages input rows
    ⌊i·H/oh⌋ … ⌈(i+1)·H/oh⌉ − 1, and likewise for columns (PyTorch's windows). When the
    sizes divide evenly this is avg_pool2d with kernel = stride = H/oh; otherwise the windows
    overlap or differ in size and each is averaged on its own (rows first, then columns:
    the mean of a rectangle is the mean of its row means)."""
    from .functional import avg_pool2d
    x = input
    if x.ndim not in (3, 4):
        raise ValueError(f"adaptive_avg_pool2d: expected (N, C, H, W) or (C, H, W), got "
                         f"{x.shape}")
    if isinstance(output_size, int):
        output_size = (output_size, output_size)
    h, w = x.shape[-2:]
    oh, ow = (h if output_size[0] is None else output_size[0],
              w if output_size[1] is None else output_size[1])
    if oh < 1 or ow < 1:
        raise RuntimeError(f"adaptive_avg_pool2d: output size ({oh}, {ow}) must be positive")
    if h % oh == 0 and w % ow == 0:
        return avg_pool2d(x, (h // oh, w // ow))
    return _adaptive_mean(_adaptive_mean(x, x.ndim - 2, oh), x.ndim - 1, ow)


def _adaptive_mean(x, dim, out):
    from ..functions import cat
    n = x.shape[dim]
    pieces = []
    for i in range(out):
        start, end = (i * n) // out, math.ceil((i + 1) * n / out)
        pieces.append(x.narrow(dim, start, end - start).mean(dim, keepdim=True))
    return cat(pieces, dim)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` (num_embeddings, dim) picked by the int64 or int32 indices
    ``input`` (any shape): the result has shape input.shape + (dim,). A row picked twice gets both
    gradients; the ``padding_idx`` row gets none."""
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not "
                                  "supported")
    if not isinstance(input, Tensor) or input.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           "following scalar types: Long, Int")
    rows = weight.index_select(0, input.reshape(-1))
    out = rows.reshape(input.shape + (weight.shape[1],))
    if padding_idx is not None:
        from ..creation import where
        if padding_idx < 0:
            padding_idx += weight.shape[0]
        keep = (input != padding_idx).unsqueeze(-1)
        out = where(keep, out, out.detach())      # same values, no gradient to that row
    return out


def one_hot(tensor, num_classes=-1):
    """int64 indices (any shape) as one-hot rows: shape tensor.shape + (num_classes,), a 1
    at each index (num_classes = max index + 1 when -1)."""
    if not isinstance(tensor, Tensor) or tensor.dtype != _dtype.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    data = tensor._data
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(data.max()) + 1
    if data.size and tensor.device.type == "cpu" and (data.min() < 0 or
                                                      data.max() >= num_classes):
        raise RuntimeError("Class values must be smaller than num_classes.")
    xp = tensor.xp
    return Tensor._wrap((data[..., None] == xp.arange(num_classes)).astype(_dtype.int64))


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels: each (sample, channel) plane of input (N, C, H, W) with
    probability p, the rest scaled by 1/(1 − p). A 3-D input is taken as (N, C, L), with
    PyTorch's warning (its channel-wise 1-D behaviour, kept for now). The identity when not
    ``training`` or p = 0."""
    import warnings

    from ..ops.layers import backend_of
    from ..tensor import as_tensor
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 4-D (N, C, H, W) input, got shape "
                         f"{input.shape} (for other shapes use dropout)")
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
            "1D dropout behavior is desired - input is interpreted as shape (N, C, L), where C "
            "is the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    if not _dtype.is_float(input.dtype):
        raise TypeError(f"dropout2d: expected a floating-point tensor, got {input.dtype}")
    if not training or p == 0:
        return input
    shape = input.shape[:2] + (1,) * (input.ndim - 2)          # one draw per (n, c)
    mask = as_tensor(backend_of(input._data).dropout_mask(shape, float(p), input.dtype))
    return input.mul_(mask) if inplace else input * mask


def normalized_shape_tuple(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(int(n) for n in normalized_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """y = (x − mean)/√(var + eps)·γ + β, mean and (biased) var taken over the last
    ``len(normalized_shape)`` dims of each sample; ``weight`` γ and ``bias`` β have
    ``normalized_shape`` (either may be None). Composed of differentiable Tensor ops (mean,
    subtraction, rsqrt, products), so the backward is theirs, on the CPU and the GPU."""
    shape = normalized_shape_tuple(normalized_shape)
    if not _dtype.is_float(input.dtype):
        raise RuntimeError(f'"layer_norm" not implemented for \'{input.dtype}\' (a '
                           "floating-point tensor is needed)")
    if not shape or input.shape[input.ndim - len(shape):] != shape or len(shape) > input.ndim:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise RuntimeError(f"layer_norm: {name} has shape {list(t.shape)}, expected "
                               f"{list(shape)}")
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    centred = input - input.mean(dims, keepdim=True)
    var = (centred * centred).mean(dims, keepdim=True)
    out = centred * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """y = (x − mean)/√(var + eps)·γ + β for input (N, C, *), mean and (biased) var taken
    per sample over each group of C/num_groups consecutive channels (and all their
    positions); ``weight`` γ and ``bias`` β have one value per channel (C,). Composed of
    differentiable Tensor ops, as layer_norm."""
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    n, c = input.shape[:2]
    if c % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    if not _dtype.is_float(input.dtype):
        raise RuntimeError(f'"group_norm" not implemented for \'{input.dtype}\' (a '
                           "floating-point tensor is needed)")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.shape[0] != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number "
                               f"of channels in input, but got {name} of shape "
                               f"{list(t.shape)} and input of shape {list(input.shape)}")
    grouped = input.reshape(n, num_groups, -1)
    out = layer_norm(grouped, grouped.shape[-1:], eps=eps).reshape(input.shape)
    per_channel = (c,) + (1,) * (input.ndim - 2)          # broadcast over the positions
    if weight is not None:
        out = out * weight.reshape(per_channel)
    if bias is not None:
        out = out + bias.reshape(per_channel)
    return out


def pad(input, pad, mode="constant", value=None):
    """PyTorch's ``F.pad`` in constant mode: ``pad`` holds (before, after) amounts for the
    last dim, then for the one before it, and so on — ``(left, right, top, bottom)`` for an
    image. Negative amounts crop. Built of ``narrow`` and ``cat``, so gradients flow back to
    the input (none to the filler)."""
    from ..functions import cat
    if mode != "constant":
        raise NotImplementedError(f"pad: minigrad supports mode='constant' only, got {mode!r}")
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: expected an even number of amounts, at most 2 per dim "
                         f"({input.ndim} dims), got {pad}")
    out = input
    for i in range(len(pad) // 2):
        dim, before, after = input.ndim - 1 - i, int(pad[2 * i]), int(pad[2 * i + 1])
        start, stop = max(-before, 0), out.shape[dim] - max(-after, 0)
        if stop < start:
            raise ValueError(f"pad: cropping {pad} leaves dim {dim} of {input.shape} empty")
        out = out.narrow(dim, start, stop - start)
        fill = 0 if value is None else value
        parts = ([_filler(out, dim, before, fill)] if before > 0 else []) + [out] + \
            ([_filler(out, dim, after, fill)] if after > 0 else [])
        out = cat(parts, dim) if len(parts) > 1 else out
    return out


def _filler(like, dim, n, value):
    """``value`` in ``like``'s shape, dtype and device but ``n`` long along ``dim``."""
    from ..creation import full
    shape = like.shape[:dim] + (n,) + like.shape[dim + 1:]
    return full(shape, value, dtype=like.dtype, device=like.device)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """PyTorch's ``F.instance_norm``: each (sample, channel) plane of an (N, C, *) input
    normalised by its own statistics, y = (x − mean)/√(var + eps)·γ_c + β_c, with mean and
    the biased variance taken over the positions ``*`` only. Built of differentiable ops, so
    gradients reach the input, γ (``weight``) and β (``bias``). Running statistics are not
    supported (minigrad's InstanceNorm keeps none)."""
    if running_mean is not None or running_var is not None or not use_input_stats:
        raise NotImplementedError("instance_norm: minigrad normalises by each instance's own "
                                  "statistics only (no running_mean / running_var)")
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an (N, C, *) input with positions, got "
                         f"shape {tuple(input.shape)}")
    positions = tuple(range(2, input.ndim))
    mean = input.mean(positions, keepdim=True)
    centred = input - mean
    var = (centred * centred).mean(positions, keepdim=True)
    out = centred / (var + eps).sqrt()
    per_channel = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(per_channel)
    if bias is not None:
        out = out + bias.reshape(per_channel)
    return out
