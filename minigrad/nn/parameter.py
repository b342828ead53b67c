from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module registers as learnable: it requires grad by default."""

    def __init__(self, data, requires_grad=True):
        super().__init__(data, dtype=getattr(data, "dtype", None))
        self.requires_grad = requires_grad

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
