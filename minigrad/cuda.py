"""Is a GPU usable, and if not, why not; streams and CUDA graphs (``minigrad.graphs``,
under PyTorch's names). Nothing here runs at ``import minigrad``: the first question asks
CuPy, and the answer is remembered."""
import functools

from .graphs import (  # noqa: F401  (re-exported: minigrad.cuda.graph, ...)
    CaptureError,
    CUDAGraph,
    Stream,
    current_stream,
    default_stream,
    graph,
    graphed,
    is_current_stream_capturing,
    refuse_during_capture,
    stream,
)


@functools.lru_cache(maxsize=None)
def unavailable_reason():
    """None when the GPU is usable; otherwise one line saying why not."""
    try:
        import cupy
    except Exception as e:  # ImportError, or a broken CUDA install failing on import
        return f"CuPy is not installed or failed to import ({type(e).__name__}: {e}); " \
               "install minigrad with the cuda12 or cuda13 extra"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:
        return f"no CUDA driver or device ({type(e).__name__}: {e})"
    if count < 1:
        return "no CUDA device found"
    try:
        from cupy.cuda import nvrtc
        nvrtc.getVersion()
    except Exception as e:
        return f"NVRTC, which compiles minigrad's kernels, is missing ({type(e).__name__}: {e})"
    try:            # CuPy 14 looks for the CUDA headers when it compiles (its core.pyx)
        from cupy._core.core import assemble_cupy_compiler_options
    except ImportError:
        return None
    try:
        assemble_cupy_compiler_options(())
    except RuntimeError as e:
        return f"CuPy cannot find the CUDA headers it compiles minigrad's kernels with ({e})"
    return None


def is_available():
    """True when CuPy, a CUDA driver, a device and NVRTC are all there."""
    return unavailable_reason() is None


def require():
    reason = unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"CUDA is not available: {reason}")


def device_name():
    """The GPU's name, e.g. 'NVIDIA H200'."""
    require()
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else name


def synchronize():
    """Wait until the GPU has finished all work queued so far (for timing)."""
    refuse_during_capture("minigrad.cuda.synchronize()", "it waits for the GPU")
    require()
    import cupy
    cupy.cuda.get_current_stream().synchronize()
