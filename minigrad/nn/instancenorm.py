"""``InstanceNorm1d`` and ``InstanceNorm2d``: PyTorch's modules over ``F.instance_norm``
(each sample's channel normalised by its own mean and variance, as in style transfer)."""
import numpy as np

from .. import _dtype
from . import functional as F
from .modules import Module
from .parameter import Parameter


class _InstanceNorm(Module):
    """y = (x − mean)/√(var + eps)·γ + β per (sample, channel), the statistics over the
    positions; γ (``weight``, from 1) and β (``bias``, from 0) only with ``affine`` (β also
    needs ``bias``). An
    unbatched input (C, *) is normalised as a batch of one. ``track_running_stats=True``
    is not supported."""
    _positions = 1

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__()
        if track_running_stats:
            raise NotImplementedError(f"{type(self).__name__}: minigrad keeps no running "
                                      "statistics for instance norm (track_running_stats=True)")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype))
            if bias:
                self.bias = Parameter(np.zeros(num_features, dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        for name in ("running_mean", "running_var"):
            self.register_buffer(name, None)
        if device is not None:
            self.to(device)

    def forward(self, input):
        batched = self._positions + 2
        if input.ndim not in (batched - 1, batched):
            raise ValueError(f"expected {batched - 1}D or {batched}D input "
                             f"(got {input.ndim}D input)")
        if self.affine and input.shape[-batched + 1] != self.num_features:
            raise ValueError(f"expected input's size at dim={input.ndim - batched + 1} to "
                             f"match num_features ({self.num_features}), but got: "
                             f"{input.shape[-batched + 1]}.")
        x = input if input.ndim == batched else input.unsqueeze(0)
        out = F.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)
        return out if input.ndim == batched else out.squeeze(0)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Over (N, C, L) or (C, L)."""
    _positions = 1


class InstanceNorm2d(_InstanceNorm):
    """Over (N, C, H, W) or (C, H, W)."""
    _positions = 2
