"""PyTorch's ``torch.cuda`` names: is a GPU usable, and if not, why not (``minigrad.gpu_state``);
streams and CUDA graphs (``minigrad.cuda_graphs``). Nothing here runs at ``import minigrad``:
the first question asks CuPy, and the answer is remembered."""
from .cuda_graphs import (  # noqa: F401  (re-exported: minigrad.cuda.graph, ...)
    CUDAGraph,
    Stream,
    current_stream,
    default_stream,
    graph,
    graphed,
    is_current_stream_capturing,
    stream,
    synchronize,
)
from .gpu_state import (  # noqa: F401  (re-exported: minigrad.cuda.is_available, ...)
    CaptureError,
    is_available,
    refuse_during_capture,
    require,
    unavailable_reason,
)


def device_name():
    """The GPU's name, e.g. 'NVIDIA H200'."""
    require()
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else name
