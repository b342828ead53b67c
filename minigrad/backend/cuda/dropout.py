"""Dropout masks on the GPU (``kernels/dropout.cu``): Philox4x32-10, its state on the device.
"""
import numpy as np

from ... import random  # minigrad's generator: the dropout masks' seed
from .runtime import (
    THREADS,
    cache,
    get_cupy,
    grid_1d,
    launch,
)

# ---- dropout masks -------------------------------------------------------------------------
# The generator's state on the GPU: one int64 array (seed, offset) in device memory. The
# seed comes from minigrad's generator (the number given to manual_seed, or the entropy it
# drew without one); the offset counts the masks drawn since. The kernels read both from
# device memory and philox_advance adds 1 to the offset after each mask, so nothing on the
# host changes from one mask to the next: a captured CUDA graph replays with a fresh mask
# every time. A new minigrad generator (manual_seed) rewrites the same array in place.
_philox = cache("philox")      # "generator", "state"; emptied by runtime.reset()


def philox_state():
    """The device array (seed, offset) that dropout masks are drawn from, set up for the
    current minigrad generator (so the same manual_seed gives the same masks)."""
    cupy = get_cupy()
    gen = random.generator()
    if _philox.get("generator") is not gen:
        seed = int(gen.bit_generator.seed_seq.entropy) % 2**63
        values = np.array([seed, 0], dtype=np.int64)
        if _philox.get("state") is None:
            _philox["state"] = cupy.asarray(values)
        else:                       # in place: a graph holding the array sees the new seed
            _philox["state"][...] = cupy.asarray(values)
        _philox["generator"] = gen
    return _philox["state"]


def dropout_mask(shape, p, dtype):
    """Like textbook.dropout_mask, from Philox4x32-10 (kernels/dropout.cu): keep / (1 − p) per
    element, P(keep) = 1 − p. Different bits from the CPU's mask and from PyTorch's."""
    cupy = get_cupy()
    mask = cupy.empty(shape, dtype=dtype)
    if mask.size == 0:
        return mask
    state = philox_state()
    f = mask.dtype.type
    threshold = np.int64(min(int(p * 2.0**32), 2**32))
    scale = f(0.0 if p == 1 else 1.0 / (1.0 - p))
    launch("dropout.cu", "dropout_mask", mask, grid_1d(-(-mask.size // 4)), (THREADS,),
            (mask, np.int64(mask.size), state, threshold, scale), [mask.shape])
    launch("dropout.cu", "philox_advance", mask, (1,), (1,), (state,), [mask.shape])
    return mask
