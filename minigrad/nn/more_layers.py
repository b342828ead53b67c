"""``AdaptiveAvgPool2d``, ``Embedding``, ``Identity``, ``Unflatten``, ``Dropout2d``,
``Upsample`` and ``UpsamplingNearest2d`` (the math in ``nn.layer_functions`` and
``nn.interpolate``); ``Conv1d``, ``MaxPool1d`` and ``AvgPool1d`` (the math in
``nn.functional_1d``)."""
import math

import numpy as np

from .. import _dtype
from ..creation import randn
from . import functional_1d as F1
from . import init
from . import layer_functions as LF
from .interpolate import interpolate
from .modules import Module
from .parameter import Parameter


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size; see F.adaptive_avg_pool2d."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return LF.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of ``embedding_dim`` values, drawn from
    N(0, 1) as PyTorch does (the ``padding_idx`` row zero); ``forward(indices)`` picks rows."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx, self.max_norm = padding_idx, max_norm
        if _weight is None:
            weight = randn(num_embeddings, embedding_dim, dtype=dtype, device=device)
            if padding_idx is not None:
                weight[padding_idx] = 0.0
        else:
            weight = _weight
        self.weight = Parameter(weight, requires_grad=not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None):
        rows, dim = embeddings.shape
        return cls(rows, dim, padding_idx=padding_idx, _weight=embeddings, _freeze=freeze)

    def forward(self, input):
        return LF.embedding(input, self.weight, self.padding_idx, self.max_norm)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")


class Identity(Module):
    """Returns its input unchanged (any constructor arguments are ignored, as PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: see Tensor.unflatten."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Dropout2d(Module):
    """Zero whole channels in training mode; see F.dropout2d."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return LF.dropout2d(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Upsample(Module):
    """Resize images by ``scale_factor`` or to ``size``; see F.interpolate (minigrad has the
    'nearest' and 'nearest-exact' modes)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.size, self.mode = size, mode
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        what = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None \
            else f"size={self.size!r}"
        return f"{what}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample`` in mode 'nearest' (PyTorch's older name for it)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class Conv1d(Module):
    """1-d convolution with weight (out, in, K) and bias (out,), initialised as PyTorch's:
    kaiming-uniform(a=√5) weight, bias uniform in ±1/√(in·K); see F.conv1d. ``padding``:
    an int, 'valid' or 'same'."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        if dilation not in (1, (1,)) or groups != 1 or padding_mode != "zeros":
            raise NotImplementedError(
                f"Conv1d: minigrad supports dilation=1, groups=1 and padding_mode='zeros' "
                f"only, got dilation={dilation}, groups={groups}, padding_mode={padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = (F1._one(kernel_size, "kernel_size", "conv1d"),)
        self.stride = (F1._one(stride, "stride", "conv1d"),)
        if isinstance(padding, str):
            if padding == "same" and self.stride[0] != 1:
                raise ValueError("padding='same' is not supported for strided convolutions")
            F1._conv1d_padding(padding, self.kernel_size[0], self.stride[0])   # a known one?
            self.padding = padding
        else:
            self.padding = (F1._one(padding, "padding", "conv1d"),)
        self.dilation, self.groups, self.padding_mode = (1,), 1, padding_mode
        dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
        self.weight = init.kaiming_uniform_(
            Parameter(np.zeros((out_channels, in_channels) + self.kernel_size, dt)),
            a=math.sqrt(5))
        if bias:
            bound = 1 / math.sqrt(in_channels * self.kernel_size[0])
            self.bias = init.uniform_(Parameter(np.zeros(out_channels, dt)), -bound, bound)
        else:
            self.register_parameter("bias", None)
        if device is not None:
            self.to(device)

    def forward(self, input):
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        return F1.conv1d(input, self.weight, self.bias, self.stride[0], padding)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,):
            s += f", padding={self.padding}"
        return s + (", bias=False" if self.bias is None else "")


class MaxPool1d(Module):
    """The max over each window of a sequence; see F.max_pool1d."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        if dilation != 1 or return_indices or ceil_mode:
            raise NotImplementedError("MaxPool1d: minigrad supports dilation=1, "
                                      "return_indices=False and ceil_mode=False only")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding

    def forward(self, input):
        return F1.max_pool1d(input, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                "dilation=1, ceil_mode=False")


class AvgPool1d(Module):
    """The mean over each window of a sequence; see F.avg_pool1d."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = (F1._one(kernel_size, "kernel_size", "avg_pool1d"),)
        self.stride = self.kernel_size if stride is None else \
            (F1._one(stride, "stride", "avg_pool1d"),)
        self.padding = (F1._one(padding, "padding", "avg_pool1d"),)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        return F1.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                             self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
