"""``BatchNorm1d`` and ``BatchNorm2d``: PyTorch's modules, parameters, buffers and modes.
The math is ``F.batch_norm``'s (``ops.layers.BatchNorm``, a backend function and a kernel)."""
import numpy as np

from .. import _dtype
from ..autograd import no_grad
from ..creation import ones, tensor, zeros
from . import functional as F
from . import init
from .modules import Module
from .parameter import Parameter


class _BatchNorm(Module):
    """Normalise each of ``num_features`` channels over the batch (and every position):
    y = (x − mean)/√(var + eps)·γ + β, γ (``weight``) starting at 1 and β (``bias``) at 0.

    In training mode mean and var are the batch's, and with ``track_running_stats`` the
    buffers ``running_mean`` and ``running_var`` follow them (an exponential average with
    weight ``momentum``, or the plain average of every batch so far when momentum is None,
    counted by ``num_batches_tracked``); in eval mode those running statistics are used.
    Without tracked statistics the batch's are used in both modes."""
    _expected = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
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
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=_dtype.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        if device is not None:
            self.to(device)

    def reset_running_stats(self):
        """running_mean = 0, running_var = 1, num_batches_tracked = 0."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        """The running statistics reset, γ = 1 and β = 0."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def forward(self, input):
        self._check_input_dim(input)
        if (self.affine or self.track_running_stats) and input.shape[1] != self.num_features:
            raise RuntimeError(f"{type(self).__name__}({self.num_features}) got an input with "
                             f"{input.shape[1]} channels (dim 1 of shape {tuple(input.shape)})")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:       # the plain average of every batch so far
                factor = 1.0 / float(self.num_batches_tracked.item())
        # the batch's statistics in training, and in eval mode when none are tracked
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            use_batch, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs (C = num_features)."""

    def _check_input_dim(self, input):
        if input.ndim not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs (C = num_features), per channel over N, H
    and W."""

    def _check_input_dim(self, input):
        if input.ndim != 4:
            raise ValueError(f"expected 4D input (got {input.ndim}D input)")
