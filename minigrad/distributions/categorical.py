"""``Categorical``: a distribution over the indices 0..K−1 of the last dim of ``probs``
(or of ``logits``, unnormalised log-probabilities)."""
import numpy as np

from ..tensor import Tensor, as_tensor
from .distribution import Distribution


class Categorical(Distribution):
    """P(i) = probs[..., i] / Σ_j probs[..., j]  (or softmax(logits)[..., i]).

    Both forms are kept: given probs, logits = log(clamp(probs, eps, 1 − eps)) (eps the
    dtype's machine epsilon, as PyTorch); given logits, logits −= logsumexp(logits) and
    probs = softmax(logits). Then

        log_prob(i) = logits[..., i]
        entropy     = −Σ_i probs[..., i] · logits[..., i]

    both differentiable with respect to the tensor given. ``sample`` draws indices (int64)
    with ``multinomial`` from minigrad's generator."""

    _param_names = ("probs", "logits")

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        given = as_tensor(probs if probs is not None else logits)
        if given.ndim < 1:
            name = "probs" if probs is not None else "logits"
            raise ValueError(f"`{name}` parameter must be at least one-dimensional.")
        if probs is not None:
            self.probs = given / given.sum(-1, keepdim=True)
            eps = float(np.finfo(given.dtype).eps)
            self.logits = self.probs.clamp(min=eps, max=1 - eps).log()
        else:
            self.logits = given - given.logsumexp(-1, keepdim=True)
            self.probs = self.logits.softmax(-1)
        self._num_events = given.shape[-1]
        super().__init__(given.shape[:-1], (), validate_args)
        if self._validate_args:
            if probs is not None:
                p = self.probs.detach()
                ok = ((p >= 0).all(-1) & ((p.sum(-1) - 1).abs() < 1e-6)).all()
                if not ok.item():
                    self._refuse("parameter probs", given, "Simplex()")
            elif not (self.logits.detach() == self.logits.detach()).all().item():
                self._refuse("parameter logits", given, "IndependentConstraint(Real(), 1)")

    @property
    def param_shape(self):
        return tuple(self.probs.shape)

    @property
    def mean(self):
        return self.probs.new_full(self._extended_shape(), float("nan"))

    def sample(self, sample_shape=()):
        sample_shape = (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)
        n = int(np.prod(sample_shape, dtype=np.int64))
        flat = self.probs.detach().reshape(-1, self._num_events)
        draws = flat.multinomial(n, replacement=True).t()
        return draws.reshape(self._extended_shape(sample_shape))

    def log_prob(self, value):
        value = value if isinstance(value, Tensor) else as_tensor(value, device=self.logits.device)
        if self._validate_args:
            v = value.detach()
            if not ((v == v.floor()) & (v >= 0) & (v <= self._num_events - 1)).all().item():
                self._refuse_value(value, f"IntegerInterval(lower_bound=0, upper_bound="
                                          f"{self._num_events - 1})")
        index = value.long().unsqueeze(-1)
        shape = np.broadcast_shapes(tuple(index.shape), tuple(self.logits.shape))
        logits = self.logits.expand(*shape)
        index = index.expand(*shape[:-1], 1)
        return logits.gather(-1, index).squeeze(-1)

    def entropy(self):
        return -(self.probs * self.logits).sum(-1)

    def enumerate_support(self, expand=True):
        from ..creation import arange
        values = arange(self._num_events, device=self.probs.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand(-1, *self._batch_shape) if expand else values
