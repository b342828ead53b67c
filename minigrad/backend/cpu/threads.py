"""The fast CPU form's threads, and the process setting that keeps NumPy's big temporaries.

A layer's work is cut into parts that write disjoint pieces of the result, run at once on the
caller's thread and helper threads (``_split``). NumPy lets go of Python's lock inside its
loops, copies and BLAS calls, so the parts really run in parallel. The results are the same
bits on any number of threads. Importing this starts no thread and changes nothing in the
process: entry scripts call ``tune_malloc`` and ``set_num_threads`` when they want them.
"""
import ctypes
import os
import queue
import sys
import threading

import numpy as np


def tune_malloc():
    """Keep NumPy's big temporaries in the heap between training steps (glibc only).

    NumPy allocates large temporaries every step (the column matrix of LeNet's first layer is
    15 MB). glibc can hand blocks that large back to the OS when they are freed, and the next
    step then faults them in again page by page. Raising malloc's mmap and trim thresholds
    keeps them for reuse. It changes the whole process (every library's allocations), so
    minigrad never does it on import: entry scripts that want it call this (the LeNet example
    and the benchmarks do). Returns True when it was applied."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3          # from glibc's <malloc.h>
    return bool(libc.mallopt(m_mmap_threshold, 64 << 20)) and \
        bool(libc.mallopt(m_trim_threshold, 256 << 20))


_threads = 1            # threads a layer's work is spread over: the caller and _threads − 1 helpers
_helpers = []
_pool_lock = threading.Lock()
_pinned = {}            # "cpus": the cores the threads are pinned to; "caller": its old affinity


def set_num_threads(n=None, pin=True):
    """Spread each CPU layer over ``n`` threads: the calling thread and n − 1 helper threads
    (started on first use). ``None``: one per core this process may run on. The default,
    until this is called, is 1: importing minigrad starts no thread.

    With n > 1 it also
    - holds OpenBLAS to one thread of its own: each of our threads makes its own BLAS calls,
      and OpenBLAS's workers would compete with them for the cores (they keep spinning for
      a while after every call);
    - unless ``pin`` is False, pins the calling thread to the first core it may run on and
      helper k to the k-th (Linux), as OMP_PROC_BIND does: the helpers sleep between layers,
      and the scheduler, seeing threads that sleep so much, tends to wake one on the other's
      core, where the two take turns (measured: the first ~5 steps after any pause ran at
      1.5× the time). Threads the caller starts afterwards inherit its core. On a machine
      busy with other work, unpinned threads can dodge it better.
    ``set_num_threads(1)`` gives OpenBLAS back its thread count and the caller its cores. Like
    ``tune_malloc`` this changes the process, so only entry scripts call it (the LeNet
    example and the benchmarks do, with every usable core). The results are the same bits
    whatever ``n`` is."""
    global _threads
    cores = _pinned.get("caller") or (sorted(os.sched_getaffinity(0))
                                      if hasattr(os, "sched_getaffinity") else None)
    if n is None:
        n = len(cores) if cores else os.cpu_count()
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads: need at least 1 thread, got {n}")
    blas = _openblas()
    if blas is not None:
        if n > 1:
            blas.setdefault("restore", blas["get"]())
            blas["set"](1)
        elif "restore" in blas:
            blas["set"](blas.pop("restore"))
    if n > 1 and pin and cores and len(cores) > 1:
        _pinned.setdefault("caller", cores)
        _pinned["cpus"] = cores
        os.sched_setaffinity(0, {cores[0]})
        for h in _helpers:                         # (new helpers pin themselves)
            os.sched_setaffinity(h.native_id, {cores[h.k % len(cores)]})
    elif (n == 1 or not pin) and "caller" in _pinned:
        for thread in (0, *(h.native_id for h in _helpers)):
            os.sched_setaffinity(thread, cores)
        _pinned.clear()
    _threads = n


def get_num_threads():
    return _threads


def blas_num_threads():
    """The thread count of the OpenBLAS that NumPy uses, or None when it cannot be asked."""
    blas = _openblas()
    return blas["get"]() if blas is not None else None


_blas = []


def _openblas():
    """OpenBLAS's set/get_num_threads, found among the libraries loaded into this process
    (NumPy's wheels carry their own copy under a private name: NumPy's first), or None
    (another BLAS, or not Linux). Asked once."""
    if not _blas:
        _blas.append(_find_openblas())
    return _blas[0]


def _find_openblas():
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted((p for p in paths if p.startswith("/")), key=lambda p: "numpy" not in p):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""),
                               ("openblas", "64_"), ("openblas", "")):
            try:
                set_, get = (getattr(lib, f"{prefix}_{verb}_num_threads{suffix}")
                             for verb in ("set", "get"))
            except AttributeError:
                continue
            set_.argtypes, set_.restype, get.restype = [ctypes.c_int], None, ctypes.c_int
            return {"set": set_, "get": get, "path": path}
    return None


class _Helper(threading.Thread):
    """Helper k: runs work(start, stop) for each span it is sent, says when done; pinned to
    the k-th core when set_num_threads pinned the threads."""

    def __init__(self, k):
        super().__init__(name=f"minigrad-cpu-{k}", daemon=True)
        self.k = k
        self.inbox, self.done = queue.SimpleQueue(), queue.SimpleQueue()
        self.start()

    def run(self):
        cpus = _pinned.get("cpus")
        if cpus:
            os.sched_setaffinity(0, {cpus[self.k % len(cpus)]})
        while True:
            work, span = self.inbox.get()
            try:
                work(*span)
                self.done.put(None)
            except BaseException as e:           # handed to the caller, raised there
                self.done.put(e)


def _forget_helpers():           # in a forked child the helper threads do not exist
    global _pool_lock
    _helpers.clear()
    _pinned.clear()
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helpers)


MIN_PART = 1 << 16      # elements below which a part is not worth a thread (~20 µs of work)


def _grain(unit, passes=1):
    """How many units of ``unit`` elements (each gone over ``passes`` times) make a part
    worth a thread."""
    return -(-MIN_PART // max(unit * passes, 1))


def _split(n, work, align=1, grain=1):
    """Call ``work(start, stop)`` on contiguous spans that together cover range(n), one span
    per thread, all at once; span boundaries are multiples of ``align``, and no span is
    shorter than ``grain`` (handing work to a thread costs about 10–20 µs).

    Each span must write its own part of the result and combine nothing across spans, so
    which thread ran it, and how many there were, never changes a bit of the result. A second
    caller arriving while the helpers are busy (another user thread) runs its spans itself."""
    t = min(_threads, n // max(grain, align, 1)) if n else 1
    if t <= 1 or not _pool_lock.acquire(blocking=False):
        work(0, n)
        return
    try:
        while len(_helpers) < t - 1:
            _helpers.append(_Helper(len(_helpers) + 1))
        cuts = [min(n, -(-n * k // t // align) * align) for k in range(t)] + [n]
        spans = [(lo, hi) for lo, hi in zip(cuts, cuts[1:]) if hi > lo]
        busy = _helpers[:len(spans) - 1]
        for helper, span in zip(busy, spans[1:]):
            helper.inbox.put((work, span))
        errors = []
        try:
            work(*spans[0])
        except BaseException as e:
            errors.append(e)
        errors += [e for e in (helper.done.get() for helper in busy) if e is not None]
        if errors:
            raise errors[0]
    finally:
        _pool_lock.release()


def _flat(a):
    """A 1-D view of the memory of ``a`` when it is one dense block (contiguous in some axis
    order, as every array here is), else None."""
    if a.flags.c_contiguous:
        return a.reshape(-1)
    if a.ndim == 4 and a.transpose(1, 2, 3, 0).flags.c_contiguous:        # batch-last
        return a.transpose(1, 2, 3, 0).reshape(-1)
    order = np.argsort(a.strides)[::-1]
    dense = a.transpose(order)
    return dense.reshape(-1) if dense.flags.c_contiguous else None


def _elementwise(fn, out, *inputs):
    """fn(out_part, *input_parts) over the threads, on flat views of arrays that share one
    memory layout (else in one call). Parts are cut at multiples of 64 elements, so NumPy's
    vector loops see the same element groups as in one call: the same bits."""
    flats = [_flat(a) for a in (out,) + inputs]
    if any(f is None for f in flats) or any(a.strides != out.strides for a in inputs):
        fn(out, *inputs)
        return
    _split(out.size, lambda lo, hi: fn(*(f[lo:hi] for f in flats)), align=64, grain=MIN_PART)
