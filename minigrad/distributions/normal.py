"""``Normal``: the Gaussian N(loc, scale²), elementwise over the broadcast of its
parameters."""
import math

import numpy as np

from ..tensor import Tensor, as_tensor
from .distribution import Distribution


class Normal(Distribution):
    """N(loc, scale²), a batch of the broadcast shape of ``loc`` and ``scale``.

        rsample     = loc + scale · ε,  ε ~ N(0, 1)   (differentiable in loc and scale)
        log_prob(x) = −(x − loc)² / (2 scale²) − log scale − ½ log 2π
        entropy     = ½ + ½ log 2π + log scale"""

    _param_names = ("loc", "scale")

    def __init__(self, loc, scale, validate_args=None):
        loc_t, scale_t = isinstance(loc, Tensor), isinstance(scale, Tensor)
        like = loc if loc_t else scale if scale_t else None
        kw = {} if like is None else {"dtype": like.dtype, "device": like.device}
        loc = loc if loc_t else as_tensor(float(loc), **kw)
        scale = scale if scale_t else as_tensor(float(scale), **kw)
        shape = tuple(np.broadcast_shapes(tuple(loc.shape), tuple(scale.shape)))
        self.loc = loc if tuple(loc.shape) == shape else loc.broadcast_to(shape)
        self.scale = scale if tuple(scale.shape) == shape else scale.broadcast_to(shape)
        super().__init__(shape, (), validate_args)
        if self._validate_args:
            if not (self.loc.detach() == self.loc.detach()).all().item():
                self._refuse("parameter loc", self.loc, "Real()")
            if not (self.scale.detach() > 0).all().item():
                self._refuse("parameter scale", self.scale, "GreaterThan(lower_bound=0.0)")

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale ** 2

    def rsample(self, sample_shape=()):
        from ..creation import randn
        sample_shape = (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)
        eps = randn(*self._extended_shape(sample_shape), dtype=self.loc.dtype,
                    device=self.loc.device)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        value = value if isinstance(value, Tensor) else as_tensor(
            float(value), dtype=self.loc.dtype, device=self.loc.device)
        if self._validate_args and not (value.detach() == value.detach()).all().item():
            self._refuse_value(value, "Real()")
        return (-((value - self.loc) ** 2) / (2 * self.variance) - self.scale.log()
                - 0.5 * math.log(2 * math.pi))

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    def cdf(self, value):
        return 0.5 * (1 + ((value - self.loc) / (self.scale * math.sqrt(2))).erf())
