"""Two questions the whole engine may ask about the GPU, and nothing else: is a GPU usable
(and if not, why not), and is a CUDA-graph capture running now.

This module imports nothing from minigrad, so that the engine (``autograd``, ``device``,
``tensor``), ``nn`` and ``optim`` can ask these questions without knowing the CUDA-graph
machinery: ``minigrad.cuda_graphs`` (which runs captures and moves the depth counter here) and
``minigrad.cuda`` (PyTorch's ``torch.cuda`` names) build on it, never the other way round.

Nothing here runs at ``import minigrad``: the first call of ``unavailable_reason`` asks CuPy,
and the answer is remembered until ``forget()``.
"""
import functools


# ---- is a GPU usable -------------------------------------------------------------------------
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
    """Raise a RuntimeError saying why, when the GPU is not usable."""
    reason = unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"CUDA is not available: {reason}")


def forget():
    """Forget the remembered answer, so the next question asks CuPy again (for tests that
    swap CuPy for the host emulator)."""
    unavailable_reason.cache_clear()


# ---- is a capture running --------------------------------------------------------------------
_depth = [0]                  # captures under way (minigrad's own count; for its checks)


class CaptureError(RuntimeError):
    """An operation that cannot be recorded into a CUDA graph was called during capture."""


def capturing():
    """Is minigrad capturing a CUDA graph now? (A cheap flag, for minigrad's own checks.)"""
    return _depth[0] > 0


def capture_started():
    """Count one more capture under way (called by ``cuda_graphs`` as a capture begins)."""
    _depth[0] += 1


def capture_ended():
    """Count one capture fewer (called by ``cuda_graphs`` as a capture ends or is abandoned)."""
    _depth[0] -= 1


def refuse_during_capture(what, why="it copies between host and GPU memory, which the "
                                    "GPU cannot replay"):
    """Raise a CaptureError naming ``what`` when a capture is under way."""
    if _depth[0]:
        raise CaptureError(f"{what} cannot be captured in a CUDA graph: {why}. Do it before "
                           "the capture or after a replay (see docs/cuda_graphs_and_checks.md)")
