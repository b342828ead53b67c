"""The base class: batch and event shapes, sampling without a graph, and the argument checks
PyTorch runs by default (``validate_args``)."""
from ..autograd import no_grad


class Distribution:
    """A batch of distributions of shape ``batch_shape``, each over values of shape
    ``event_shape``. ``sample`` draws outside the graph; ``rsample`` (where a subclass has
    one) draws as a differentiable function of the parameters."""

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = tuple(batch_shape)
        self._event_shape = tuple(event_shape)
        self._validate_args = True if validate_args is None else bool(validate_args)

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=()):
        return tuple(sample_shape) + self._batch_shape + self._event_shape

    def sample(self, sample_shape=()):
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised rsample")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def _refuse(self, what, value, constraint):
        raise ValueError(f"Expected {what} (Tensor of shape {tuple(value.shape)}) of "
                         f"distribution {self!r} to satisfy the constraint {constraint}, but "
                         f"found invalid values:\n{value}")

    def _refuse_value(self, value, support):
        raise ValueError(f"Expected value argument (Tensor of shape {tuple(value.shape)}) to "
                         f"be within the support ({support}) of the distribution {self!r}, "
                         f"but found invalid values:\n{value}")

    def __repr__(self):
        parts = []
        for name in self._param_names:
            value = self.__dict__.get(name)
            if value is None:
                continue
            shown = value.item() if value.numel() == 1 and value.ndim == 0 else value.shape
            parts.append(f"{name}: {shown}")
        return f"{type(self).__name__}({', '.join(parts)})"
