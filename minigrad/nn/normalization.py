"""``LayerNorm`` and ``F.layer_norm``: normalise each sample over its last dims. Composed of
differentiable Tensor ops (mean, subtraction, rsqrt, products), so the backward is theirs
and the same code runs on the CPU and the GPU."""
import numbers

import numpy as np

from .. import _dtype
from .modules import Module
from .parameter import Parameter


def _shape(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(int(n) for n in normalized_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """y = (x − mean)/√(var + eps)·γ + β, mean and (biased) var taken over the last
    ``len(normalized_shape)`` dims of each sample; ``weight`` γ and ``bias`` β have
    ``normalized_shape`` (either may be None)."""
    shape = _shape(normalized_shape)
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


class LayerNorm(Module):
    """Normalise over the last dims given by ``normalized_shape`` (an int or a tuple); with
    ``elementwise_affine`` a learnt scale ``weight`` (ones) and shift ``bias`` (zeros, unless
    ``bias=False``) of that shape."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _shape(normalized_shape)
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
