"""Device backends: the same functions, once in NumPy (``cpu``) and once as CUDA kernel
launches (``cuda``). The layer ops in ``minigrad.ops.layers`` and the optimizers call
``backend_of(x).conv2d_fwd(...)`` and never need to know which device they are on.
(``minigrad.backends``, plural, is unrelated: PyTorch's ``torch.backends`` façade.)"""
from ..device import device_of
from . import cpu


def backend_of(*arrays):
    """The backend module of the device the arrays live on: ``backend.cpu`` or ``backend.cuda``."""
    if all(device_of(a).type == "cpu" for a in arrays):
        return cpu
    from . import cuda
    return cuda
