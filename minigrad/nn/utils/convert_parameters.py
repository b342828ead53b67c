"""``parameters_to_vector`` and ``vector_to_parameters``: all the parameters as one flat
vector and back (for second-order methods, weight averaging, or printing a norm)."""
from ...functions import cat
from ...tensor import Tensor


def parameters_to_vector(parameters):
    """The parameters, each flattened, one after the other in one 1-D tensor (a graph node:
    gradients flow back to each parameter)."""
    parameters = list(parameters)
    if not parameters:
        raise RuntimeError("parameters_to_vector: expected a non-empty iterable of tensors")
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Make consecutive slices of the 1-D ``vec`` the parameters' data, in order (outside
    the graph; the parameters then share ``vec``'s memory, as in PyTorch)."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D Tensor, got {type(vec).__name__}"
                        + (f" of shape {vec.shape}" if isinstance(vec, Tensor) else ""))
    parameters = list(parameters)
    total = sum(p.numel() for p in parameters)
    if vec.shape[0] != total:
        raise ValueError(f"vector_to_parameters: the vector has {vec.shape[0]} elements, the "
                         f"parameters {total}")
    start = 0
    for p in parameters:
        n = p.numel()
        p.data = vec[start:start + n].detach().reshape(p.shape)
        start += n
