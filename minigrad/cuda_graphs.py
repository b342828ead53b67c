"""CUDA graphs: a whole training step recorded once and replayed with one launch.

At LeNet's size a step's kernels take microseconds each, and launching them from Python
(checks, argument packing, the driver call) takes about as long again: the GPU waits for the
host. A CUDA graph removes that: while a stream *captures*, nothing runs; every kernel launch
is recorded with its arguments (raw pointers, sizes, grid shapes), and ``replay()`` sends the
whole list to the GPU in one call. What this asks of the code inside the capture:

1. **Same memory every time.** A replay reads and writes the very buffers the capture saw.
   Inputs are copied into *static* tensors before each replay (``static_x.copy_(x)``), and
   everything the captured code allocates comes from a private memory pool that lives as long
   as the graph, so no other array can ever be given that memory.
2. **No host in the loop.** Nothing may copy between host and GPU or wait for the GPU during
   capture (``.item()``, ``.cpu()``, ``minigrad.tensor(data, device="cuda")``,
   ``synchronize``): minigrad refuses such an op with a ``CaptureError`` naming it. State
   that changes from step to step lives on the GPU and is advanced by kernels: Adam's step
   count (``optim.Adam``), the running loss and accuracy (``nn.functional.cross_entropy``'s
   ``stats``); a number baked into a launch (a learning rate) is replayed as it was.
3. **Warm up first.** A few eager steps before the capture compile the kernels and create
   state that must exist before it (Adam's moments); gradients set to None before the capture
   are made by the captured backward, in the graph's pool.

PyTorch's names and recipe: ``CUDAGraph``, ``graph(g)``, ``Stream``, ``stream(s)``,
``current_stream()``; ``graphed(step)`` wraps a whole training step (warm-up, capture, then
one replay per call, a graph per input shape). Built on CuPy's stream capture
(``Stream.begin_capture``/``end_capture``, ``Graph.launch``) and ``cupy.cuda.MemoryPool``
with ``cupy.cuda.using_allocator``. See docs/cuda_graphs_and_checks.md for what was checked where.

Whether a capture is running, and ``CaptureError``, live in the leaf ``minigrad.gpu_state``,
where the engine asks; this module counts its captures there. Users reach all of it through
``minigrad.cuda``.
"""
import os

from .gpu_state import CaptureError, capture_ended, capture_started, refuse_during_capture, require
from .tensor import Tensor, as_tensor


def is_current_stream_capturing():
    """True while the current CUDA stream is capturing (CuPy's answer)."""
    import cupy
    return cupy.cuda.get_current_stream().is_capturing()


# ---- streams ---------------------------------------------------------------------------------
class Stream:
    """A CUDA stream (``torch.cuda.Stream``): a queue of GPU work. Made non-blocking, so the
    legacy default stream never waits for it (a capture on it could not go on otherwise)."""

    def __init__(self, priority=0, _cupy_stream=None):
        if _cupy_stream is None:
            require()
            import cupy
            _cupy_stream = cupy.cuda.Stream(non_blocking=True)
        self.cupy_stream = _cupy_stream

    def wait_stream(self, other):
        """Work queued on this stream from now on starts after what ``other`` holds now."""
        self.cupy_stream.wait_event(other.cupy_stream.record())

    def synchronize(self):
        refuse_during_capture("Stream.synchronize()", "it waits for the GPU")
        self.cupy_stream.synchronize()

    def __eq__(self, other):
        return isinstance(other, Stream) and other.cupy_stream.ptr == self.cupy_stream.ptr

    def __hash__(self):
        return hash(self.cupy_stream.ptr)

    def __repr__(self):
        return f"<minigrad.cuda.Stream {self.cupy_stream.ptr:#x}>"


def synchronize():
    """Wait until the GPU has finished all work queued so far (for timing)."""
    refuse_during_capture("minigrad.cuda.synchronize()", "it waits for the GPU")
    require()
    import cupy
    cupy.cuda.get_current_stream().synchronize()


def current_stream():
    """The stream GPU work goes to now."""
    import cupy
    return Stream(_cupy_stream=cupy.cuda.get_current_stream())


def default_stream():
    import cupy
    return Stream(_cupy_stream=cupy.cuda.Stream.null)


class stream:
    """``with minigrad.cuda.stream(s):`` sends GPU work to ``s`` (None: no change)."""

    def __init__(self, s):
        self.s = s

    def __enter__(self):
        if self.s is not None:
            self.s.cupy_stream.__enter__()
        return self.s

    def __exit__(self, *exc):
        if self.s is not None:
            self.s.cupy_stream.__exit__(*exc)
        return False


# ---- graphs ----------------------------------------------------------------------------------
_MODES = ("relaxed", "thread_local", "global")


class CUDAGraph:
    """A recorded sequence of GPU work (``torch.cuda.CUDAGraph``): ``capture_begin`` /
    ``capture_end`` around the work (or the ``graph`` context), then ``replay()``.

    It owns the private memory pool its capture allocated from: the graph's buffers (the
    captured step's activations, gradients, outputs) stay reserved for it while it lives."""

    def __init__(self):
        self._graph = self._pool = self._stream = self._allocating = None

    def capture_begin(self, pool=None, capture_error_mode="relaxed"):
        """Start recording the current stream (not the legacy default stream; ``graph``
        supplies a side stream). ``pool``: minigrad gives every graph its own."""
        if pool is not None:
            raise NotImplementedError("minigrad gives every graph a private memory pool of "
                                      "its own; sharing one (pool=...) is not supported")
        if capture_error_mode not in _MODES:
            raise ValueError(f"capture_error_mode must be one of {_MODES}, got "
                             f"{capture_error_mode!r}")
        if self._graph is not None:
            raise RuntimeError("this CUDAGraph already holds a capture; reset() it first")
        if os.environ.get("MINIGRAD_CUDA_SYNC") == "1":
            raise CaptureError("MINIGRAD_CUDA_SYNC=1 waits for the GPU after every launch, "
                               "which cannot be captured: unset it to capture a graph")
        require()
        import cupy
        self._stream = cupy.cuda.get_current_stream()
        if self._stream.ptr in (0, 1):
            raise RuntimeError("cannot capture on the default stream: capture inside "
                               "minigrad.cuda.graph(g), or in `with minigrad.cuda.stream(s)` "
                               "for a minigrad.cuda.Stream s")
        # The mode says which CUDA calls other code may make meanwhile. The pool's first
        # allocations call cudaMalloc, which only "relaxed" permits (CuPy's default too).
        mode = getattr(cupy.cuda.runtime, {"relaxed": "streamCaptureModeRelaxed",
                                           "thread_local": "streamCaptureModeThreadLocal",
                                           "global": "streamCaptureModeGlobal"}
                       [capture_error_mode])
        self._pool = cupy.cuda.MemoryPool()
        self._allocating = cupy.cuda.using_allocator(self._pool.malloc)
        self._allocating.__enter__()
        capture_started()
        try:
            self._stream.begin_capture(mode)
        except BaseException:
            self._end_allocating()
            raise

    def capture_end(self):
        """Stop recording; the graph is ready to replay."""
        if self._stream is None:
            raise RuntimeError("capture_end() without capture_begin()")
        try:
            self._graph = self._stream.end_capture()
        finally:
            self._end_allocating()

    def _end_allocating(self):
        capture_ended()
        self._allocating.__exit__(None, None, None)
        self._allocating = None

    def _abandon(self):
        """End a capture that failed, keeping nothing (its error is the one to report)."""
        try:
            self._stream.end_capture()
        except Exception:        # noqa: S110  (CUDA says the capture was invalidated: it was)
            pass
        finally:
            self._end_allocating()
            self._graph = self._pool = self._stream = None

    def replay(self):
        """Run the captured work again, on the current stream."""
        if self._graph is None:
            raise RuntimeError("replay() before a capture: capture the graph first")
        refuse_during_capture("CUDAGraph.replay()", "graphs are not nested here")
        import cupy
        self._graph.launch(stream=cupy.cuda.get_current_stream())

    def reset(self):
        """Drop the graph and its memory pool."""
        self._graph = self._pool = self._stream = None

    def pool(self):
        return self._pool

    def debug_dump(self, path):
        """Write the graph in Graphviz DOT form (CuPy's ``debug_dot_str``)."""
        with open(path, "w") as f:
            f.write(self._graph.debug_dot_str())


class graph:
    """``with minigrad.cuda.graph(g):`` captures the work inside into ``g`` on a side stream,
    allocating from ``g``'s private pool. Nothing inside runs: ``g.replay()`` runs it. An
    error inside ends the capture, keeps nothing and is raised as it was."""

    def __init__(self, cuda_graph, pool=None, stream=None, capture_error_mode="relaxed"):
        self.cuda_graph, self.pool = cuda_graph, pool
        self.stream = stream
        self.mode = capture_error_mode

    def __enter__(self):
        synchronize()                   # work queued before starts before the graph's
        if self.stream is None:
            self.stream = Stream()
        self._context = stream(self.stream)
        self._context.__enter__()
        try:
            self.cuda_graph.capture_begin(self.pool, capture_error_mode=self.mode)
        except BaseException:
            self._context.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.cuda_graph.capture_end()
            else:
                self.cuda_graph._abandon()
        finally:
            self._context.__exit__(exc_type, exc, tb)
        return False


# ---- a whole step, captured once per input shape ----------------------------------------------
class graphed:
    """``step = minigrad.cuda.graphed(train_step)``: call ``step(x, y)`` as you would
    ``train_step(x, y)``; on the GPU the calls become graph replays.

    For each new signature of the tensor arguments (shapes, dtypes) the first ``warmup``
    calls run eagerly; the next one copies its tensors into static ones, captures
    ``train_step`` on them and replays the graph; every later call copies its tensors in and
    replays. Every call is one real step on its own arguments, so the numbers are those of
    eager steps. The last, smaller batch of an epoch gets a graph of its own once its shape
    has been seen ``warmup`` times (eager until then). On the CPU every call is eager.

    What ``train_step`` returns after a replay is the graph's static output: the same tensors
    each time, overwritten by the next call (copy what must outlive it)."""

    def __init__(self, fn, warmup=3):
        if warmup < 1:
            raise ValueError(f"graphed: at least one warm-up call is needed, got {warmup}")
        self.fn, self.warmup = fn, warmup
        self.graphs = {}          # signature -> (CUDAGraph, static inputs, static outputs)
        self.seen = {}            # signature -> eager calls so far
        self.calls = {"eager": 0, "replay": 0, "capture": 0}     # a tally (reset it freely)

    def __call__(self, *args):
        tensors = [a for a in args if isinstance(a, Tensor)]
        if not tensors or any(t.device.type != "cuda" for t in tensors):
            self.calls["eager"] += 1
            return self.fn(*args)
        key = tuple((a.shape, a.dtype.str) if isinstance(a, Tensor) else ("value", a)
                    for a in args)
        if key in self.graphs:
            cuda_graph, static, outputs = self.graphs[key]
            _copy_into(static, args)
            cuda_graph.replay()
            self.calls["replay"] += 1
            return outputs
        if self.seen.get(key, 0) < self.warmup:
            self.seen[key] = self.seen.get(key, 0) + 1
            self.calls["eager"] += 1
            return self.fn(*args)
        static = [_static_copy(a) if isinstance(a, Tensor) else a for a in args]
        cuda_graph = CUDAGraph()
        with graph(cuda_graph):
            outputs = self.fn(*static)
        self.graphs[key] = (cuda_graph, static, outputs)
        self.calls["capture"] += 1
        cuda_graph.replay()             # the capture ran nothing: this call's step runs now
        self.calls["replay"] += 1
        return outputs


def _static_copy(t):
    """A tensor of its own memory holding ``t``'s values now (made before a capture)."""
    copy = as_tensor(t.xp.empty_like(t._data))
    copy._data[...] = t._data
    return copy


def _copy_into(static, args):
    for s, a in zip(static, args):
        if isinstance(a, Tensor):
            s._data[...] = a._data
