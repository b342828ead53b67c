"""The fast CPU form's big arrays, kept between training steps and handed out again.

A training step allocates the same big arrays every time (LeNet's first sigmoid alone:
3.5 MB at batch 256). malloc hands blocks that big to the OS when they are freed, and the
next step faults them in again page by page (about 4,400 page faults, 17 MB, a LeNet step on
the 2-core machine). So the layers take their big arrays from buffers they keep (``_empty``,
``_empty_like``): a kept buffer is handed out again (as a fresh view) once nothing but this
module refers to it any more — every view of an array holds a reference to it (CPython's
reference counts). This gets what ``threads.tune_malloc`` bought without changing how the
rest of the process allocates.
"""
import math
import os
import sys
import threading

import numpy as np

BUFFER_MIN_BYTES = 1 << 18    # smaller arrays come from malloc, which keeps them anyway
BUFFERS_MAX_BYTES = 1 << 28   # what is kept at most, all buffers together
_buffers = {}                 # (shape, dtype) -> [kept arrays], the most recently used last
_buffers_bytes = [0]
_buffers_lock = threading.Lock()


def _empty(shape, dtype):
    """np.empty(shape, dtype), reusing a kept buffer of that shape when none of its views is
    alive any more."""
    shape, dtype = tuple(shape), np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < BUFFER_MIN_BYTES:
        return np.empty(shape, dtype)
    with _buffers_lock:
        kept = _buffers.setdefault((shape, dtype), [])
        for i in range(len(kept)):
            if sys.getrefcount(kept[i]) == 2:    # the list's and getrefcount's argument
                kept.append(kept.pop(i))
                return kept[-1][...]
        if _buffers_bytes[0] + nbytes > BUFFERS_MAX_BYTES:
            _buffers_bytes[0] -= _drop_free_buffers()
        if _buffers_bytes[0] + nbytes > BUFFERS_MAX_BYTES:
            return np.empty(shape, dtype)        # full of buffers in use: not kept
        kept.append(np.empty(shape, dtype))
        _buffers_bytes[0] += nbytes
        return kept[-1][...]


def _drop_free_buffers():
    """Forget every kept buffer no view refers to (other shapes, an old batch size); the
    bytes freed."""
    freed = 0
    for kept in _buffers.values():
        for i in reversed(range(len(kept))):
            if sys.getrefcount(kept[i]) == 2:
                freed += kept.pop(i).nbytes
    return freed


def _empty_like(x):
    """_empty with the shape, dtype and memory order of ``x`` (C order or batch-last)."""
    if x.ndim == 4 and not x.flags.c_contiguous and x.transpose(1, 2, 3, 0).flags.c_contiguous:
        return _empty(x.transpose(1, 2, 3, 0).shape, x.dtype).transpose(3, 0, 1, 2)
    if x.flags.c_contiguous:
        return _empty(x.shape, x.dtype)
    return np.empty_like(x)


def _forget_lock():              # in a forked child a lock held by another thread stays held
    global _buffers_lock
    _buffers_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_lock)
