"""Device backends: the same functions, once in NumPy (``cpu``) and once as CUDA kernel
launches (``cuda``). The layer ops in ``minigrad.ops.nn`` call
``backend_of(x).im2col(...)`` and never need to know which device they are on.

The fused functions of a training step (``cross_entropy_fwd``/``_bwd``, ``adam_multi``) are
found with ``fused_backend_of``: ``cuda`` on the GPU, their NumPy twins in ``cpu_fused`` on
the CPU."""
from ..device import device_of
from . import cpu, cpu_fused


def backend_of(*arrays):
    """The backend module of the device the arrays live on: ``backend.cpu`` or ``backend.cuda``."""
    if all(device_of(a).type == "cpu" for a in arrays):
        return cpu
    from . import cuda
    return cuda


def fused_backend_of(*arrays):
    """``backend.cpu_fused`` or ``backend.cuda``: where the fused step functions are."""
    if all(device_of(a).type == "cpu" for a in arrays):
        return cpu_fused
    from . import cuda
    return cuda
