"""The emulated device's streams, events, memory pools and CUDA-graph capture, and the
counters of what it was asked to do (fake_cupy.py's CuPy stand-in uses them).

A graph on a GPU is a list of launches with their arguments frozen: raw pointers, sizes,
grid shapes. Capture records and does not run; a replay runs the list again on whatever the
pointers then hold. The emulator does the same:

* While the current stream captures, every kernel launch and every CuPy operation (an
  elementwise op, a reduction, a copy, a fill) is recorded, not run. An array it creates
  gets its shape and dtype and poisoned contents (0xFF bytes: NaN), as GPU memory holds
  garbage until the graph runs.
* ``Graph.launch`` (a replay) runs the recorded list. Each array argument was recorded as a
  pointer — its buffer, held weakly, and a byte offset — not as the array object: when a
  buffer the graph uses has been freed since the capture, the replay fails, naming the
  operation and the buffer, where a GPU would silently read or write memory that may now
  belong to another array.
* Memory allocated during the capture belongs to the graph only when the capture allocates
  from a private pool (``cupy.cuda.using_allocator(pool.malloc)``, the pool kept alive with
  the graph): then the pool keeps those buffers, as CuPy's private pool keeps the memory
  for the graph. Without one, they come from the shared pool, and a temporary freed after
  the capture is memory the graph can no longer own: a replay that uses it fails.
* What a GPU refuses during capture is refused here, with CuPy's and CUDA's messages: copies
  between host and device (``cupy.asarray`` of host data, ``.get()``, ``.item()``),
  synchronising the capturing stream, boolean-mask indexing (CuPy must read how many
  elements are selected), capture on the legacy default stream. A refused operation also
  invalidates the capture, so ``end_capture`` fails too, as CUDA's does.

``stats`` counts kernel launches, CuPy operations, allocations, host-device copies and graph
launches (an operation inside a replay is not a launch of its own).
"""
import contextlib
import ctypes
import itertools
import weakref

import numpy as np
from numpy.lib.array_utils import byte_bounds


class EmulatorError(RuntimeError):
    """A launch the device would refuse, or a bug the emulator caught while running it."""


# ---- counters ----------------------------------------------------------------------------
class Stats:
    """What the emulated device was asked to do since the last ``reset()``."""
    FIELDS = ("kernels", "ops", "allocations", "h2d", "d2h", "syncs", "graph_launches")

    def __init__(self):
        self.reset()

    def reset(self):
        for f in self.FIELDS:
            setattr(self, f, 0)

    @property
    def launches(self):
        """Kernels launched from Python: ours and CuPy's."""
        return self.kernels + self.ops

    def as_dict(self):
        return {f: getattr(self, f) for f in self.FIELDS}


stats = Stats()
_replaying = [False]


def count(field, n=1):
    if not _replaying[0]:
        _counts[field] += n


_counts = stats.__dict__           # the counters themselves (count runs at every launch)


# ---- device buffers ----------------------------------------------------------------------
_buffers = weakref.WeakValueDictionary()      # id -> every live device buffer (root array)


def root_of(a):
    """The array that owns ``a``'s memory (itself unless it is a view)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def new_buffer(array):
    """Note a freshly allocated device buffer: counted, findable by address, and kept by the
    capture's private pool when one is capturing with one."""
    root = root_of(array)
    count("allocations")
    _buffers[id(root)] = root
    if capturing() is not None and current_pool() is not None:
        current_pool().keep(root)


def buffer_at(address):
    """The live device buffer holding ``address``, or None."""
    for root in list(_buffers.values()):
        low, high = byte_bounds(root)
        if low <= address < max(high, low + 1):
            return root
    return None


class Ref:
    """A device array as a graph records it: a pointer (its buffer, weakly, and a byte
    offset), a shape, strides and a dtype — so that the buffer can be freed behind the
    graph's back, as on a GPU, and a replay can tell."""

    __slots__ = ("buffer", "low", "size", "offset", "shape", "strides", "dtype")

    def __init__(self, a):
        root = root_of(a)
        self.buffer = weakref.ref(root)
        self.low, high = byte_bounds(root)
        self.size = high - self.low
        self.offset = (a.ctypes.data - self.low) if a.size else 0
        self.shape, self.strides, self.dtype = a.shape, a.strides, a.dtype

    def describe(self):
        return f"a {self.dtype} buffer of shape {self.shape}"

    def get(self, op):
        """The array again, on the memory it had at capture time; an error if it was freed."""
        root = self.buffer()
        if root is None:
            raise EmulatorError(
                f"graph replay: {op} uses {self.describe()} whose memory was freed after the "
                "capture; a GPU would read or write memory that may now belong to another "
                "array (keep every tensor a captured graph uses alive, and allocate what the "
                "capture makes from the graph's private memory pool)")
        if 0 in self.shape:                  # no element: no memory to point at
            return np.empty(self.shape, self.dtype)
        raw = (ctypes.c_char * self.size).from_address(self.low)
        return np.ndarray(self.shape, self.dtype, buffer=raw, offset=self.offset,
                          strides=self.strides)


def freeze(obj):
    """``obj`` (an argument, or a tuple, list or dict of them) with every array replaced by
    its Ref."""
    if isinstance(obj, np.ndarray):
        return Ref(obj)
    if isinstance(obj, (tuple, list)):
        return type(obj)(freeze(o) for o in obj)
    if isinstance(obj, dict):
        return {k: freeze(v) for k, v in obj.items()}
    return obj


def thaw(obj, op):
    """The inverse of ``freeze``: each Ref is an array on its recorded memory again."""
    if isinstance(obj, Ref):
        return obj.get(op)
    if isinstance(obj, (tuple, list)):
        return type(obj)(thaw(o, op) for o in obj)
    if isinstance(obj, dict):
        return {k: thaw(v, op) for k, v in obj.items()}
    return obj


def poison(array):
    """Fill with 0xFF bytes: what an array made during a capture holds until a replay."""
    if array.size:
        ctypes.memset(array.ctypes.data, 0xFF, array.nbytes)


# ---- memory pools ---------------------------------------------------------------------------
class MemoryPool:
    """A memory pool as ``cupy.cuda.MemoryPool``. The emulator's arrays own their memory, so
    a pool only matters during a capture: a buffer allocated there, while the pool's
    ``malloc`` is the allocator, is kept by the pool for as long as the pool lives."""

    def __init__(self, allocator=None):
        self._kept = []

    def malloc(self, size):
        raise EmulatorError("the emulated MemoryPool allocates through fake_cupy's array "
                            "functions only (use it with cupy.cuda.using_allocator)")

    def keep(self, root):
        self._kept.append(root)

    def used_bytes(self):
        return sum(r.nbytes for r in self._kept)

    total_bytes = used_bytes

    def free_all_blocks(self, stream=None):
        pass

    def n_free_blocks(self):
        return 0


_allocators = [None]          # None: the shared default pool


def current_pool():
    owner = getattr(_allocators[-1], "__self__", None)
    return owner if isinstance(owner, MemoryPool) else None


@contextlib.contextmanager
def using_allocator(allocator=None):
    _allocators.append(allocator)
    try:
        yield
    finally:
        _allocators.pop()


def set_allocator(allocator=None):
    _allocators[0] = allocator


def get_allocator():
    return _allocators[-1]


# ---- streams, events, capture -----------------------------------------------------------------
_stream_ids = itertools.count(2)      # 0 is the legacy default stream (1: per-thread)


class Capture:
    """The operations recorded so far by a capture, and the first thing that invalidated it."""

    def __init__(self, stream):
        self.stream = stream
        self.ops = []
        self.invalidated = None

    def record(self, name, replay):
        self.ops.append((name, replay))


class Stream:
    """``cupy.cuda.Stream``: the current one receives every operation; ``with stream:``
    makes it current."""

    _stack = []
    _current = None

    def __init__(self, null=False, non_blocking=False, ptds=False):
        self.ptr = 0 if null else next(_stream_ids)
        self.non_blocking = non_blocking
        self.capture = None
        self.device_id = 0

    def __enter__(self):
        Stream._stack.append(self)
        return self

    def __exit__(self, *exc):
        Stream._stack.pop()
        return False

    def use(self):
        Stream._current = self
        return self

    def __repr__(self):
        return f"<emulated Stream {self.ptr}>"

    @property
    def done(self):
        return True

    def synchronize(self):
        if self.capture is not None:
            refuse("cudaStreamSynchronize on the capturing stream")
        count("syncs")

    def record(self, event=None):
        event = Event() if event is None else event
        event.record(self)
        return event

    def wait_event(self, event):
        pass                     # one host thread runs everything in order

    def begin_capture(self, mode=None):
        if self.ptr in (0, 1):
            raise RuntimeError("cannot capture on the default (legacy) stream")
        if self.capture is not None:
            raise RuntimeError("cudaErrorIllegalState: the stream is already capturing")
        self.capture = Capture(self)

    def end_capture(self):
        capture, self.capture = self.capture, None
        if capture is None:
            raise RuntimeError("cudaErrorIllegalState: the stream is not capturing")
        if capture.invalidated:
            raise RuntimeError("cudaErrorStreamCaptureInvalidated: operation failed due to a "
                               f"previous error during capture ({capture.invalidated})")
        return Graph(capture.ops)

    def is_capturing(self):
        return self.capture is not None


Stream.null = Stream(null=True)


def get_current_stream():
    if Stream._stack:
        return Stream._stack[-1]
    return Stream._current or Stream.null


def capturing():
    """The capture that receives the current stream's operations, or None."""
    return get_current_stream().capture


def refuse(what):
    """What the device refuses during a capture: CuPy's error, and the capture invalidated."""
    capture = capturing()
    message = f"{what} is not permitted while the stream is capturing (CUDA graph capture)"
    if capture is not None and capture.invalidated is None:
        capture.invalidated = message
    raise RuntimeError(message)


class Event:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.recorded = False

    def record(self, stream=None):
        self.recorded = True

    def synchronize(self):
        if capturing() is not None:
            refuse("cudaEventSynchronize")
        count("syncs")

    @property
    def done(self):
        return True


def get_elapsed_time(start_event, end_event):
    """No clock: the emulator's timings mean nothing (benchmarks say so)."""
    return 0.0


class Graph:
    """``cupy.cuda.graph.Graph``: the recorded operations, run again by ``launch``."""

    def __init__(self, ops):
        self.ops = ops

    def launch(self, stream=None):
        stream = get_current_stream() if stream is None else stream
        if stream.capture is not None:
            raise RuntimeError("launching a graph into a capture is not supported here")
        count("graph_launches")
        _replaying[0] = True
        try:
            for _, replay in self.ops:
                replay()
        finally:
            _replaying[0] = False

    def upload(self, stream=None):
        pass

    def debug_dot_str(self, flags=0):
        return "digraph G {\n" + "\n".join(f'  n{i} [label="{name}"];'
                                           for i, (name, _) in enumerate(self.ops)) + "\n}\n"
