"""Activation modules beyond the CNN's Sigmoid and ReLU: Tanh, LeakyReLU, ELU, GELU,
Softmax, Softplus, SiLU, Hardtanh, ReLU6, LogSigmoid, Softsign, Mish, SELU, PReLU (the math
in ``nn.activation_functions``)."""
import numpy as np

from .. import _dtype
from . import activation_functions as AF
from .modules import Module
from .parameter import Parameter


class Tanh(Module):
    def forward(self, input):
        return AF.tanh(input)


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return AF.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace
                                                          else "")


class ELU(Module):
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return AF.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return AF.gelu(input, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        if dim is None:
            raise ValueError("Softmax: give the dim (minigrad does not guess it)")
        self.dim = dim

    def forward(self, input):
        return AF.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softplus(Module):
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return AF.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class _Inplace(Module):
    """An activation with only an ``inplace`` flag."""
    _fn = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self)._fn(input, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class SiLU(_Inplace):
    _fn = staticmethod(AF.silu)


class Mish(_Inplace):
    _fn = staticmethod(AF.mish)


class SELU(_Inplace):
    _fn = staticmethod(AF.selu)


class Hardtanh(Module):
    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if min_val > max_val:
            raise ValueError("min_val cannot be greater than max_val")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return AF.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (
            ", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LogSigmoid(Module):
    def forward(self, input):
        return AF.logsigmoid(input)


class Softsign(Module):
    def forward(self, input):
        return AF.softsign(input)


class PReLU(Module):
    """x for x > 0, else a·x with a learnt: ``num_parameters`` slopes (1, or one per channel),
    each starting at ``init``."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
        self.weight = Parameter(np.full(num_parameters, init, dtype=dt))
        if device is not None:
            self.to(device)

    def forward(self, input):
        return AF.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"
