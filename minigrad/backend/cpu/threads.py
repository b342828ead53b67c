"""The fast CPU form's threads: minigrad's own helper threads, and the BLAS's.

A layer's work is cut into parts that write disjoint pieces of the result, run at once on the
caller's thread and helper threads (``_split``). NumPy lets go of Python's lock inside its
loops, copies and BLAS calls, so the parts really run in parallel. The results are the same
bits on any number of threads (see _split and _one_blas_thread).

On by default: the first layer call picks one thread per core this process may use (or
$MINIGRAD_NUM_THREADS); ``set_num_threads`` changes it. Importing this starts no thread and
changes nothing in the process; neither does a layer call, beyond minigrad's own helper
threads and the BLAS's thread count held to one while the layer runs.
"""
import ctypes
import functools
import itertools
import os
import queue
import sys
import threading

import numpy as np


# ---- the process's threads: minigrad's own, and the BLAS's ----------------------------------
def tune_malloc():
    """Raise glibc's malloc thresholds so that big freed blocks stay in the heap (glibc only).
    Not needed for speed any more (the layers reuse their own big arrays: see buffers.py); kept
    for scripts that want the whole process to behave so. It changes the process (every
    library's allocations), so minigrad never calls it. Returns True when it was applied."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3          # from glibc's <malloc.h>
    return bool(libc.mallopt(m_mmap_threshold, 64 << 20)) and \
        bool(libc.mallopt(m_trim_threshold, 256 << 20))


_threads = None         # a layer's work goes to the caller and _threads − 1 helpers (None:
_helpers = []           # not chosen yet; the first layer call chooses, see default_threads)
_pool_lock = threading.Lock()
_pinned = {}            # "cpus": the cores the threads are pinned to; "caller": its old affinity


def _usable_cores():
    """The cores this process may run on (its affinity mask), in order."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def default_threads():
    """The thread count minigrad uses until ``set_num_threads`` is called: $MINIGRAD_NUM_THREADS
    when set, else one per core this process may run on (as PyTorch's intra-op pool)."""
    env = os.environ.get("MINIGRAD_NUM_THREADS", "").strip()
    if env:
        if not env.isdigit() or int(env) < 1:
            raise ValueError(f"MINIGRAD_NUM_THREADS must be a whole number ≥ 1, got {env!r}")
        return int(env)
    return len(_pinned.get("caller") or _usable_cores())


def set_num_threads(n, pin=False):
    """Spread each CPU layer over ``n`` threads: the calling thread and n − 1 helper threads,
    started when a layer first needs them. ``None``: back to the default (default_threads).

    Nothing needs calling for speed: the first layer call picks the default. Threads change
    the time, never a bit of the result (see _split and _one_blas_thread).

    ``pin=True`` (Linux) also pins the calling thread to the first core it may run on and
    helper k to the k-th, as OMP_PROC_BIND does: on a quiet machine the scheduler, seeing
    threads that sleep between layers, tends to wake one on the other's core, where the two
    take turns (measured once: the first ~5 steps after a pause at 1.5× the time). It changes
    the process (threads the caller starts afterwards inherit its core), so it is off unless
    asked; ``pin=False`` (or n = 1) gives the threads their cores back."""
    global _threads
    n = default_threads() if n is None else int(n)
    if n < 1:
        raise ValueError(f"set_num_threads: need at least 1 thread, got {n}")
    if n > 1 and pin:
        cores = _pinned.get("caller") or _usable_cores()
        if len(cores) > 1:
            _pinned.setdefault("caller", cores)
            _pinned["cpus"] = cores
            os.sched_setaffinity(0, {cores[0]})
            for h in _helpers:                         # (new helpers pin themselves)
                os.sched_setaffinity(h.native_id, {cores[h.k % len(cores)]})
    elif "caller" in _pinned:
        cores = _pinned["caller"]
        for thread in (0, *(h.native_id for h in _helpers)):
            os.sched_setaffinity(thread, cores)
        _pinned.clear()
    _threads = n


def get_num_threads():
    """The thread count each CPU layer is spread over (choosing the default if none is yet;
    starts no thread)."""
    global _threads
    if _threads is None:
        _threads = default_threads()
    return _threads


# BLAS. NumPy's BLAS (OpenBLAS in NumPy's wheels) has its own threads. Inside a layer minigrad
# holds it to one: our threads make their own BLAS calls, and the BLAS's threads would compete
# with them for the cores (OpenBLAS's also spin a while after each call) — and OpenBLAS cuts a
# product differently on different thread counts, which changes its float32 bits. Outside a
# layer the user's own NumPy code gets the BLAS's threads back. threadpoolctl finds the BLAS
# libraries loaded into the process (OpenBLAS, MKL, BLIS) once.
_blas = []              # [(get, set) of each BLAS library's thread count], found on first use
_blas_lock = threading.Lock()
_blas_hold = {"depth": 0, "saved": []}     # layer calls under way, the counts to give back


def _blas_libraries():
    if not _blas:
        from threadpoolctl import ThreadpoolController  # (first layer call, not at import)
        _blas.append([_thread_count_of(lib) for lib in
                      ThreadpoolController().select(user_api="blas").lib_controllers])
    return _blas[0]


def _thread_count_of(lib):
    """(get, set) for one BLAS library's thread count. OpenBLAS on its own pthreads (NumPy's
    wheels): its C functions, called directly (keeping Python's lock: they only set a
    number). A layer call's hold and release then cost ~2.7 µs in all (median of 20,000 on
    the 2-core machine; threadpoolctl's methods: ~25 µs), about ten times per LeNet step.
    Anything else: threadpoolctl's own methods."""
    if lib.internal_api == "openblas" and getattr(lib, "threading_layer", "") == "pthreads":
        for prefix, suffix in itertools.product(("", "scipy_"), ("", "64_", "_64")):
            name = f"{prefix}openblas_%s_num_threads{suffix}"
            try:
                return (ctypes.PYFUNCTYPE(ctypes.c_int)((name % "get", lib.dynlib)),
                        ctypes.PYFUNCTYPE(None, ctypes.c_int)((name % "set", lib.dynlib)))
            except AttributeError:
                continue
    return lib.get_num_threads, lib.set_num_threads


def blas_num_threads():
    """The thread count of the first BLAS library loaded (NumPy's), or None when none can be
    asked."""
    libraries = _blas_libraries()
    return libraries[0][0]() if libraries else None


def _one_blas_thread(layer):
    """Decorator for the layers that call BLAS: every BLAS library runs on one thread while
    ``layer`` runs, and gets its count back after (nested and concurrent layer calls: when
    the last one ends). So a layer's BLAS calls are the same whatever $OPENBLAS_NUM_THREADS
    says, and with minigrad's threads (each making its own calls) nothing oversubscribes."""
    @functools.wraps(layer)
    def held(*args, **kwargs):
        with _blas_lock:
            if _blas_hold["depth"] == 0:
                _blas_hold["saved"] = [(set_, k) for get, set_ in _blas_libraries()
                                       if (k := get()) != 1]
                for set_, _ in _blas_hold["saved"]:
                    set_(1)
            _blas_hold["depth"] += 1
        try:
            return layer(*args, **kwargs)
        finally:
            with _blas_lock:
                _blas_hold["depth"] -= 1
                if _blas_hold["depth"] == 0:
                    for set_, k in _blas_hold["saved"]:
                        set_(k)
    return held


class _Helper(threading.Thread):
    """Helper k: runs the spans it is sent, each only if nobody has claimed it yet, and says
    so to the caller; pinned to the k-th core when set_num_threads pinned the threads. Between
    spans it sleeps in ``inbox.get()`` (a blocking lock wait, no spinning)."""

    def __init__(self, k):
        super().__init__(name=f"minigrad-cpu-{k}", daemon=True)
        self.k = k
        self.inbox = queue.SimpleQueue()
        self.start()

    def run(self):
        cpus = _pinned.get("cpus")
        if cpus:
            os.sched_setaffinity(0, {cpus[self.k % len(cpus)]})
        while True:
            work, span, claim, done = self.inbox.get()
            if not claim.acquire(blocking=False):
                continue                         # the caller ran it: this thread came late
            try:
                work(*span)
                done.put(None)
            except BaseException as e:           # handed to the caller, raised there
                done.put(e)


def _forget_helpers():           # in a forked child the helper threads do not exist
    global _pool_lock, _blas_lock
    _helpers.clear()
    _pinned.clear()
    _pool_lock, _blas_lock = threading.Lock(), threading.Lock()
    _blas_hold.update(depth=0, saved=[])


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
    caller arriving while the helpers are busy (another user thread) runs its spans itself,
    and so does the caller with a span whose helper has not started it (the cores are busy
    with other programs): the step then slows down to the speed of fewer threads, never
    waits for a thread to get a core."""
    t = min(_threads or get_num_threads(), n // max(grain, align, 1)) if n else 1
    if t <= 1 or not _pool_lock.acquire(blocking=False):
        work(0, n)
        return
    try:
        while len(_helpers) < t - 1:
            _helpers.append(_Helper(len(_helpers) + 1))
        cuts = [min(n, -(-n * k // t // align) * align) for k in range(t)] + [n]
        spans = [(lo, hi) for lo, hi in zip(cuts, cuts[1:]) if hi > lo]
        claims, done = [threading.Lock() for _ in spans[1:]], queue.SimpleQueue()
        for helper, span, claim in zip(_helpers, spans[1:], claims):
            helper.inbox.put((work, span, claim, done))
        errors = []

        def attempt(span):
            try:
                work(*span)
            except BaseException as e:
                errors.append(e)
        attempt(spans[0])
        # Then every span no helper has started yet (on a busy machine a helper may wait long
        # for a core), then wait for the ones that did start.
        late = [span for span, claim in zip(spans[1:], claims) if claim.acquire(blocking=False)]
        for span in late:
            attempt(span)
        errors += [e for e in (done.get() for _ in range(len(claims) - len(late))) if e is not None]
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
