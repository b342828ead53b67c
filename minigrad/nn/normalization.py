"""``LayerNorm``: normalise each sample over its last dims; ``GroupNorm``: over groups of
channels (the math is ``F.layer_norm``'s and ``F.group_norm``'s, in
``nn.layer_functions``)."""
import numpy as np

from .. import _dtype
from .layer_functions import group_norm, layer_norm, normalized_shape_tuple
from .modules import Module
from .parameter import Parameter


class LayerNorm(Module):
    """Normalise over the last dims given by ``normalized_shape`` (an int or a tuple); with
    ``elementwise_affine`` a learnt scale ``weight`` (ones) and shift ``bias`` (zeros, unless
    ``bias=False``) of that shape."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = normalized_shape_tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dt))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if device is not None:
            self.to(device)

    def reset_parameters(self):
        if self.weight is not None:
            self.weight.data.fill_(1.0)
        if self.bias is not None:
            self.bias.data.fill_(0.0)

    def forward(self, input):
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalise each sample over groups of ``num_channels / num_groups`` channels; with
    ``affine`` a learnt per-channel scale ``weight`` (ones) and shift ``bias`` (zeros,
    unless ``bias=False``)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, affine
        dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
        self.register_parameter("weight", Parameter(np.ones(num_channels, dt))
                                if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(num_channels, dt))
                                if affine and bias else None)
        if device is not None:
            self.to(device)

    def reset_parameters(self):
        if self.weight is not None:
            self.weight.data.fill_(1.0)
        if self.bias is not None:
            self.bias.data.fill_(0.0)

    def forward(self, input):
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")
