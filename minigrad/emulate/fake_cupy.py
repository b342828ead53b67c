"""A stand-in for CuPy: "device" arrays are a NumPy subclass that says it lives on a GPU,
and kernels are compiled from their own source by g++ through shim.h and run on the CPU.

``install()`` registers it as the modules ``cupy``, ``cupy.cuda`` and ``cupyx``, so that
minigrad's whole GPU path — Tensors on device "cuda", backend/cuda/, the kernels — runs
on a CPU (conftest.py does so when MINIGRAD_EMULATE_CUDA=1). Array functions are NumPy's,
their results re-labelled as device arrays; ``empty`` fills its memory with a poison pattern
(NaN for floats), since device memory starts as garbage, not zeros.

Where CuPy 14.2 (its ``_core/core.pyx`` and ``_creation``) differs from NumPy in a function
minigrad uses, this follows CuPy: ``ascontiguousarray`` takes only a device array and never
returns a 0-d one (a 0-d array comes back as shape (1,)); indexing one element gives a 0-d
device array, not a host scalar; a reduction or ufunc of 0-d arrays gives a 0-d device array
(``__array_wrap__``); ``asarray`` of a device array is that array. The rest minigrad calls
(empty, zeros, empty_like, matmul, where, expand_dims, broadcast_to, take_along_axis, stack,
full, ones, arange, abs, exp, log, isnan, maximum, add; reshape, ravel, astype, fill, copy)
keep NumPy's shapes in CuPy too. Known gaps: CuPy refuses ``numpy.asarray(device_array)``
(its ``__array__`` raises TypeError), which a NumPy subclass cannot refuse; CuPy's
``broadcast_to`` gives a writable view, NumPy's a read-only one (stricter here).

``RawModule(code, name_expressions=[...])`` rewrites the source's ``__shared__`` arrays into
checked ``emu::shared_array`` objects, writes it next to a generated wrapper that gives each
template instance an ``extern "C"`` entry point, and builds a shared library (cached on disk,
keyed by everything that goes into it). ``get_function("name<float>")`` returns a kernel
that ``launch`` runs with RawKernel's (grid, block, args).

What is checked, always: the launch configuration against the device's limits, barrier
divergence, __shared__ bounds, poisoned __shared__ and ``empty`` memory, the argument types.
Opt-in checks (``CHECKS``, from the environment; tests may change it):

* "sanitize" (MINIGRAD_EMU_SANITIZE=1): kernels built with AddressSanitizer and UBSan; every
  pointer argument is copied into an allocation of exactly its size (so reading one element
  past an array, or anything of an empty one, is caught). The ASan runtime must be loaded
  before anything else in the process: ``python -m minigrad.emulate --sanitize`` (``__main__.py``)
  sets that up (see ``sanitizer_env``).
* "racecheck" (MINIGRAD_EMU_RACECHECK=1): every global and shared access is recorded and
  races (and reads of unwritten shared memory) are reported; see shim.h.
* "memstats" (MINIGRAD_EMU_MEMSTATS=1): every access is counted per warp, as a GPU runs it:
  for each access instruction of a kernel, the 32-byte sectors of global memory a warp's
  access touches (coalescing) and the passes a shared-memory access takes (bank conflicts);
  ``memstats()`` gives the sums, ``memstats_table()`` a table; see shim.h.

Streams, events, memory pools and CUDA-graph capture are capture.py's: while the current
stream captures, every launch and every array operation here is recorded instead of run
(``_run`` and ``launch``), and ``Graph.launch`` replays the record. ``capture.stats`` counts
kernel launches, CuPy operations, allocations and host-device copies.

A kernel parameter may also be a struct passed by value (CuPy passes a NumPy structured
array of one element that way): the array's bytes are handed to the kernel, after a check
that its size is the struct's.
"""
import contextlib
import ctypes
import functools
import hashlib
import numbers
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import numpy as np

from . import capture
from .capture import EmulatorError, count, new_buffer

__version__ = "0 (minigrad's host emulator, minigrad/emulate)"


class _Pointer:
    """What ``cupy.ndarray.data`` is: a device pointer (``.ptr``)."""

    def __init__(self, ptr):
        self.ptr = ptr


class ndarray(np.ndarray):  # noqa: N801  (CuPy's name)
    """A NumPy array labelled as GPU memory: minigrad sees ``__cuda_array_interface__``.

    Every operation that computes goes through ``_run`` (NumPy's ufuncs through
    ``__array_ufunc__``), so it is counted, and recorded instead of run during a capture;
    copies to the host (``get``, ``item``) are counted and refused during a capture."""

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.shape, "typestr": self.dtype.str, "version": 3,
                "data": (self.ctypes.data, False)}

    @functools.cached_property
    def data(self):
        # an array object's address never changes: asked once, kept as one pointer object,
        # as CuPy's array keeps its MemoryPointer (and later reads find it in the instance's
        # __dict__, with no Python call). (Asked through the buffer protocol where
        # it can be: NumPy's .ctypes takes microseconds to build, and each new gradient
        # array is asked once per step.)
        try:
            return _Pointer(ctypes.addressof(ctypes.c_char.from_buffer(self)))
        except (TypeError, ValueError):        # empty, read-only or not contiguous
            return _Pointer(self.ctypes.data)

    def __array_wrap__(self, arr, context=None, return_scalar=False):
        return np.asarray(arr).view(ndarray)      # 0-d results stay device arrays, as in CuPy

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        for x in inputs + tuple(kwargs.get("out", ())):
            if not isinstance(x, (np.ndarray, np.generic, numbers.Number, type(None))):
                return NotImplemented             # a Tensor: let its reflected operator run
        fn = getattr(ufunc, method)
        name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        out = kwargs.get("out")
        if method == "at":                        # in place into inputs[0]
            return _run(name, fn, inputs, kwargs, writes=True)
        if out is not None and any(o is not None for o in out):
            _run(name, fn, inputs, kwargs, writes=True)
            return out[0] if len(out) == 1 else out
        kwargs.pop("out", None)
        return _run(name, fn, inputs, kwargs)

    def __getitem__(self, index):
        view = _view_index(index)
        if view is not None:                      # ints and slices: a view, no operation
            return np.ndarray.__getitem__(self, view)
        if _selects_by_mask(index):
            _refuse_in_capture("boolean-mask indexing (CuPy copies the count of selected "
                               "elements to the host)")
        return _run("getitem", np.ndarray.__getitem__, (self, _as_view_index(index)))

    def __setitem__(self, index, value):
        if _selects_by_mask(index):
            _refuse_in_capture("boolean-mask assignment (CuPy copies the count of selected "
                               "elements to the host)")
        _run("setitem", np.ndarray.__setitem__, (self, index, value), writes=True)

    def copy(self, order="C"):
        return _run("copy", np.ndarray.copy, (self, order))

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        return _run("astype", np.ndarray.astype, (self, dtype),
                    dict(order=order, casting=casting, copy=copy))

    def fill(self, value):
        _run("fill", np.ndarray.fill, (self, value), writes=True)

    def reshape(self, *shape, order="C"):
        if order == "C" and self.flags.c_contiguous:      # always a view: no operation
            return np.ndarray.reshape(self, *shape)
        return _run("reshape", np.ndarray.reshape, (self, *shape), dict(order=order))

    def ravel(self, order="C"):
        return _run("ravel", np.ndarray.ravel, (self, order))

    def flatten(self, order="C"):
        return _run("flatten", np.ndarray.flatten, (self, order))

    def argmax(self, axis=None, out=None, keepdims=False):
        return _run("argmax", np.ndarray.argmax, (self, axis), dict(keepdims=keepdims))

    def argmin(self, axis=None, out=None, keepdims=False):
        return _run("argmin", np.ndarray.argmin, (self, axis), dict(keepdims=keepdims))

    def take(self, indices, axis=None):
        return _run("take", np.ndarray.take, (self, indices, axis))

    def dot(self, other):
        return _run("dot", np.ndarray.dot, (self, other))

    def nonzero(self):
        _refuse_in_capture("nonzero (CuPy copies the count of nonzero elements to the host)")
        return _run("nonzero", np.ndarray.nonzero, (self,))

    # ---- copies to the host ---------------------------------------------------------------
    def get(self, stream=None, order="C", out=None):
        _to_host("ndarray.get()")
        return np.array(self.view(np.ndarray), order=order)

    def item(self, *args):
        _to_host("ndarray.item()")
        return np.ndarray.item(self.view(np.ndarray), *args)

    def tolist(self):
        _to_host("ndarray.tolist()")
        return self.view(np.ndarray).tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return bool(self.item())

    def __index__(self):
        return int(self.item())


def _view_index(index):
    """An index of integers and slices picks a view, also when it picks one element (CuPy
    gives a 0-d view there, NumPy a scalar copy): that index with an Ellipsis added to say
    so; None for any other index."""
    parts = index if isinstance(index, tuple) else (index,)
    if all(isinstance(p, (int, np.integer, slice)) or p is None for p in parts) and \
            not isinstance(index, (bool, np.bool_)):
        return parts + (Ellipsis,)
    return None


def _as_view_index(index):
    view = _view_index(index)
    return index if view is None else view


def _selects_by_mask(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) and p.dtype == np.bool_ and p.ndim > 0 for p in parts)


def _refuse_in_capture(what):
    if capture.capturing() is not None:
        capture.refuse(what)


def _to_host(what):
    _refuse_in_capture(f"{what}: a copy from device to host")
    count("d2h")


def _device(value):
    if isinstance(value, np.ndarray) and not isinstance(value, ndarray):
        return value.view(ndarray)
    if isinstance(value, np.generic):
        return np.asarray(value).view(ndarray)
    if isinstance(value, tuple):
        return tuple(_device(v) for v in value)
    return value


def _host(value):
    if isinstance(value, ndarray):
        return value.view(np.ndarray)
    if isinstance(value, (list, tuple)):
        return type(value)(_host(v) for v in value)
    if isinstance(value, dict):
        return {k: _host(v) for k, v in value.items()}
    return value


def _arrays(value):
    """Every array inside ``value`` (nested tuples, lists and dicts)."""
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _arrays(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _arrays(v)


def _run(name, fn, args=(), kwargs=None, writes=False):
    """One operation of the device's array library: ``fn(*args, **kwargs)`` on host views of
    the arrays. ``writes``: fn writes into arrays it was given; else it returns new arrays, or
    views of its inputs (then it is no operation at all: nothing runs on a device).

    Counted as one operation (and each new array as an allocation). During a capture it is
    recorded, not run: a new array gets its shape and dtype, poisoned contents, and the
    recorded replay writes the result into it."""
    kwargs = {} if kwargs is None else kwargs
    recording = capture.capturing()
    if writes:
        count("ops")
        if recording is None:
            return fn(*_host(args), **_host(kwargs))
        frozen = capture.freeze((_host(args), _host(kwargs)))
        recording.record(name, lambda: _call(name, fn, frozen))
        return None
    result = _device(fn(*_host(args), **_host(kwargs)))
    inputs = {id(capture.root_of(a)) for a in _arrays((args, kwargs))}
    new = [r for r in _arrays(result) if id(capture.root_of(r)) not in inputs]
    if not new:
        return result                         # a view: no operation
    count("ops")
    for r in new:
        new_buffer(r)
    if recording is not None:
        for r in new:
            capture.poison(r)
        frozen = capture.freeze((_host(args), _host(kwargs)))
        into = capture.freeze(_host(result))
        recording.record(name, lambda: _copy(capture.thaw(into, name), _call(name, fn, frozen)))
    return result


def _call(name, fn, frozen):
    args, kwargs = capture.thaw(frozen, name)
    return fn(*args, **kwargs)


def _copy(into, value):
    if isinstance(into, tuple):
        for i, v in zip(into, value):
            np.copyto(i, v)
    else:
        np.copyto(into, value)


_WRITERS = {"copyto", "put", "place", "putmask"}       # NumPy functions that write in place
_HOST_READS = {"nonzero", "argwhere", "flatnonzero", "unique"}   # CuPy reads a count on the host


def __getattr__(name):
    """Any other function: NumPy's, on device arrays, through ``_run``."""
    fn = getattr(np, name)
    if not callable(fn) or isinstance(fn, type):
        return fn

    def on_device(*args, **kwargs):
        if name in _HOST_READS:
            _refuse_in_capture(f"cupy.{name} (it copies a count to the host)")
        writes = name in _WRITERS or kwargs.get("out") is not None   # into `out`, in place
        result = _run(name, fn, args, kwargs, writes=writes)
        return kwargs["out"] if writes and kwargs.get("out") is not None else result
    on_device.__name__ = name
    return on_device


def _from_host(array):
    """A host array copied to the device (cupy.asarray of host data): refused during a
    capture, as CuPy refuses it."""
    _refuse_in_capture("a copy from host to device (cupy.asarray or cupy.array of host data)")
    count("h2d")
    device = array.view(ndarray)
    new_buffer(device)
    return device


def asarray(a, dtype=None):
    """Like cupy.asarray: a device array stays as it is; host data is copied over."""
    if isinstance(a, ndarray):
        return a if dtype is None or a.dtype == dtype else a.astype(dtype)
    return _from_host(np.array(a, dtype=dtype, copy=True))


def array(a, dtype=None, copy=True):
    if isinstance(a, ndarray):
        return _run("array", np.array, (a,), dict(dtype=dtype, copy=copy))
    return _from_host(np.array(a, dtype=dtype, copy=True))


def ascontiguousarray(a, dtype=None):
    """As CuPy 14's ``_core.ascontiguousarray`` (core.pyx) does it: only a device array is
    taken (a host array is a TypeError); a C-contiguous one of that dtype comes back as it
    is, but a 0-d one comes back as ``ravel()``, a view of shape (1,); anything else is
    copied into a new C-contiguous array, of shape (1,) when ``a`` is 0-d. So, as with NumPy,
    the result is never 0-d: a caller that needs the shape must restore it."""
    if not isinstance(a, ndarray):
        raise TypeError(f"Argument 'a' has incorrect type (expected cupy.ndarray, got "
                        f"{type(a).__name__})")
    same_dtype = dtype is None or np.dtype(dtype) == a.dtype
    if same_dtype and a.flags.c_contiguous:
        return a.ravel() if a.ndim == 0 else a
    shape = (1,) if a.ndim == 0 else a.shape
    return _run("ascontiguousarray", lambda x, dtype: np.ascontiguousarray(x, dtype).reshape(
        shape), (a,), dict(dtype=a.dtype if dtype is None else dtype))


def empty(shape, dtype=float, order="C"):
    """Like cupy.empty: memory that holds garbage — here a poison pattern (all bits set: NaN
    for floats, -1 for integers), so a kernel that leaves an element unwritten shows it. An
    allocation, no operation. (With stub_kernels, see there: memory as it comes.)"""
    # owns its memory (.base is None), as CuPy's; positional arguments: NumPy parses
    # keywords to this constructor slowly
    a = ndarray(shape, dtype, None, 0, None, order)
    if _stub["launches"] is not None:         # stub_kernels: no poison, no bookkeeping
        count("allocations")
        return a
    capture.poison(a)
    new_buffer(a)
    return a


def empty_like(a, dtype=None):
    return empty(a.shape, dtype=a.dtype if dtype is None else dtype)


# ---- stubbed kernels: time only the caller's Python ------------------------------------------
_stub = {"launches": None}


@contextlib.contextmanager
def stub_kernels():
    """Within the block, kernels are not run: a launch is counted (``capture.stats.kernels``)
    and its kernel's name appended to the yielded list, nothing more — no check of its
    configuration or arguments, nothing executed. ``empty`` (and ``empty_like``) give memory
    as it comes, not poisoned (filling megabytes is the device's work, not the caller's) and
    not registered for graph replays. What is left to time is the caller's own Python
    (benchmarks.bench_lenet --host-overhead times minigrad's per launch so); every result is
    garbage, and the block refuses a CUDA-graph capture."""
    if capture.capturing() is not None:
        raise EmulatorError("stub_kernels: a capture is running; stubbed kernels record nothing")
    if _stub["launches"] is not None:
        raise EmulatorError("stub_kernels: already stubbed")
    launches = _stub["launches"] = []
    try:
        yield launches
    finally:
        _stub["launches"] = None


# ---- the emulated device and its limits (compute capability 9.0, as the H200) ----------------
H200_SMS = 132
MAX_GRID = (2**31 - 1, 65535, 65535)
MAX_BLOCK = (1024, 1024, 64)
MAX_THREADS_PER_BLOCK = 1024
MAX_STATIC_SHARED = 48 * 1024          # bytes of __shared__ declared in a kernel
_CHECK_VARIABLES = {"sanitize": "MINIGRAD_EMU_SANITIZE", "racecheck": "MINIGRAD_EMU_RACECHECK",
                    "memstats": "MINIGRAD_EMU_MEMSTATS"}


def checks_from_environment():
    """The opt-in checks the environment asks for (read into CHECKS at import)."""
    return {name for name, var in _CHECK_VARIABLES.items() if os.environ.get(var) == "1"}


CHECKS = checks_from_environment()


def set_sm_count(count):
    """The multiprocessor count the emulated device reports (1 by default, or
    $MINIGRAD_EMU_SMS; H200_SMS gives the grid shapes of the H200)."""
    _Device.attributes["MultiProcessorCount"] = int(count)


# ---- building kernels ---------------------------------------------------------------------
SHIM = Path(__file__).with_name("shim.h")
GXX = shutil.which("g++")
_SIGNATURE = re.compile(r"template\s*<typename T>\s*__global__\s+void\s+(\w+)\s*\(([^)]*)\)")
_SHARED = re.compile(r"__shared__\s+(\w+(?:\s+\w+)?)\s+(\w+)\s*((?:\[[^\]]+\])+)\s*;")
_POINTER = re.compile(r"\b((?:const\s+)?(?:T|float|double|int|long long))\s*\*\s*"
                      r"(?:__restrict__\s*)?(?=\w)")
_SIZES = {"float": 4, "double": 8, "int": 4, "long long": 8}
_CTYPES = {"int": ctypes.c_int32, "long long": ctypes.c_int64, "float": ctypes.c_float,
           "double": ctypes.c_double}
_NUMPY = {"int": np.int32, "long long": np.int64, "float": np.float32, "double": np.float64}
_FLAGS = {"sanitize": ["-fsanitize=address,undefined", "-fsanitize-recover=all",
                       "-fno-omit-frame-pointer", "-g"],
          "racecheck": ["-DEMU_RACECHECK"],
          # -g: the table names each access's source line (addr2line); no sibling calls: the
          # return address of the counting function is the access's own instruction
          "memstats": ["-DEMU_MEMSTATS", "-g", "-fno-optimize-sibling-calls"]}


def _base_type(ty):
    """'const float* __restrict__' -> 'float'."""
    return " ".join(re.sub(r"\bconst\b|\*|__restrict__", " ", ty).split())


def _is_struct(ty):
    """A parameter passed by value that is neither a pointer nor a number: a struct."""
    return "*" not in ty and _base_type(ty) not in _NUMPY


def kernels_in(code):
    """name -> {"params": [(type, name)], "shared": [(type, name, dims)]} for each template
    kernel in ``code``."""
    found = {}
    matches = list(_SIGNATURE.finditer(code))
    for i, m in enumerate(matches):
        body = code[m.end():matches[i + 1].start() if i + 1 < len(matches) else len(code)]
        params = []
        for p in m.group(2).split(","):
            words = p.replace("*", " * ").split()
            params.append((" ".join(words[:-1]), words[-1]))
        shared = [(s.group(1), s.group(2), re.findall(r"\[([^\]]+)\]", s.group(3)))
                  for s in _SHARED.finditer(body)]
        found[m.group(1)] = {"params": params, "shared": shared}
    return found


def _shared_bytes(shared, t, defines):
    """Static __shared__ bytes of one kernel instance, its sizes evaluated with ``defines``."""
    total = 0
    for ty, _, dims in shared:
        count = 1
        for d in dims:
            expr = re.sub(r"\b[A-Za-z_]\w*\b", lambda w: str(defines.get(w.group(), w.group())), d)
            count *= int(eval(expr, {"__builtins__": {}}))   # only numbers and operators left
        total += count * _SIZES[t if ty == "T" else ty]
    return total


def emulator_source(code, racecheck):
    """The kernel source as g++ compiles it: each ``__shared__ T a[X][Y];`` becomes a checked
    ``static emu::shared_array<T, X, Y> a{"a"};``, and with ``racecheck`` (true for the
    racecheck and the memstats checks: both record every access) every pointer type a
    recording ``emu::gptr<...>``. Lines keep their numbers."""
    code = _SHARED.sub(lambda m: "static emu::shared_array<{}, {}> {}{{\"{}\"}};".format(
        m.group(1), ", ".join(f"({d})" for d in re.findall(r"\[([^\]]+)\]", m.group(3))),
        m.group(2), m.group(2)), code)
    if racecheck:
        code = _POINTER.sub(lambda m: f"emu::gptr<{m.group(1)}> ", code)
    return code


def _cache_dir():
    d = Path(os.environ.get("MINIGRAD_EMU_CACHE")
             or Path(tempfile.gettempdir()) / f"minigrad-emu-{os.getuid()}")
    d.mkdir(parents=True, exist_ok=True)
    return d


def asan_loaded():
    """Is the AddressSanitizer runtime in this process (preloaded, as it must be)?"""
    return hasattr(ctypes.CDLL(None), "__asan_init")


def sanitizer_env():
    """The environment a process needs for the "sanitize" check: the ASan runtime preloaded
    (it must come before every other library, and Python is not built with it), then the C++
    runtime (ASan looks up the real ``__cxa_throw`` when it starts: a C++ library loaded
    later, PyTorch's, would otherwise abort the process at its first exception instead of
    raising), leak checks off (Python keeps memory to its end), and reports that do not stop
    the process (each one becomes an EmulatorError of the launch that caused it)."""
    def library(name):
        return subprocess.run([GXX or "g++", f"-print-file-name={name}"], capture_output=True,
                              text=True, check=True).stdout.strip()
    runtime, cxx = library("libasan.so"), library("libstdc++.so.6")
    if not os.path.isabs(runtime):
        raise RuntimeError("g++ does not know where libasan.so is: install its AddressSanitizer "
                           "runtime (Debian: libasan8, which g++ normally brings)")
    preload = f"{runtime}:{cxx}" if os.path.isabs(cxx) else runtime
    return {"MINIGRAD_EMU_SANITIZE": "1", "LD_PRELOAD": preload,
            "ASAN_OPTIONS": "detect_leaks=0:halt_on_error=0:detect_stack_use_after_return=0",
            "UBSAN_OPTIONS": "halt_on_error=0:print_stacktrace=1"}


class RawModule:
    def __init__(self, code, options=(), name_expressions=()):
        if GXX is None:
            raise EmulatorError("the CUDA emulator needs g++")
        checks = sorted(CHECKS)
        if "sanitize" in checks and not asan_loaded():
            raise EmulatorError(
                "the sanitize check needs the AddressSanitizer runtime loaded first: run "
                "`python -m minigrad.emulate --sanitize ...`, or set LD_PRELOAD as "
                "minigrad.emulate.fake_cupy.sanitizer_env() says")
        self.kernels = kernels_in(code)
        self.defines = dict(o[2:].split("=", 1) for o in options if o.startswith("-D"))
        source = emulator_source(code, bool({"racecheck", "memstats"} & set(checks)))
        wrapper = [f'#include "{SHIM}"', "#line 1", source]     # the kernels' own lines
        export = 'extern "C" __attribute__((visibility("default")))'
        for expr in name_expressions:
            name, t = expr[:-1].split("<")
            typed = [(re.sub(r"\bT\b", t, ty), n) for ty, n in self.kernels[name]["params"]]
            # a struct comes as a pointer to its bytes, and goes to the kernel by value
            decl = ", ".join(f"const void* {n}" if _is_struct(ty) else f"{ty} {n}"
                             for ty, n in typed)
            call = ", ".join(f"*reinterpret_cast<const {ty}*>({n})" if _is_struct(ty) else n
                             for ty, n in typed)
            wrapper.append(
                f"{export} const char* "
                f"run_{name}_{t}(unsigned gx, unsigned gy, unsigned gz, unsigned bx, "
                f"unsigned by, unsigned bz, {decl}) {{\n"
                f"  return emu::launch(dim3{{gx, gy, gz}}, dim3{{bx, by, bz}}, "
                f"[&] {{ {name}<{t}>({call}); }});\n}}")
            for ty, n in typed:
                if _is_struct(ty):
                    wrapper.append(f"{export} unsigned long sizeof_{name}_{t}_{n}() "
                                   f"{{ return sizeof({ty}); }}")
        text = "\n".join(wrapper) + "\n"
        flags = ["-std=c++20", "-O1", "-shared", "-fPIC", "-fvisibility=hidden",
                 *(o for o in options if o.startswith("-D")),
                 *(f for c in checks for f in _FLAGS[c])]
        key = hashlib.sha256("\0".join([SHIM.read_text(), text, *flags]).encode()).hexdigest()
        lib_path = _cache_dir() / f"k{key[:20]}.so"
        if not lib_path.exists():          # the .cpp stays beside it: reports cite its lines
            cpp, tmp = lib_path.with_suffix(".cpp"), lib_path.with_suffix(f".{os.getpid()}")
            tmp.write_text(text)
            os.replace(tmp, cpp)
            env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
            done = subprocess.run([GXX, *flags, "-x", "c++", str(cpp), "-o", str(tmp)],
                                  capture_output=True, text=True, env=env)
            if done.returncode != 0:
                raise EmulatorError(f"g++ could not build the kernels:\n{done.stderr[-4000:]}")
            os.replace(tmp, lib_path)          # atomic: a parallel build cannot see half a file
        self.path, self.source_lines = lib_path, code.count("\n") + 1
        self.lib = ctypes.CDLL(str(lib_path))
        self.lib.emu_name_buffer.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]

    def get_function(self, expr):
        return Kernel(self, expr)


class Kernel:
    """One template instance, called as RawKernel is: ``kernel(grid, block, args)``."""

    def __init__(self, module, expr):
        self.module, self.expr = module, expr
        name, t = expr[:-1].split("<")
        info = module.kernels[name]
        self.fn = getattr(module.lib, f"run_{name}_{t}")
        self.fn.restype = ctypes.c_char_p
        self.params = [(re.sub(r"\bT\b", t, ty), n) for ty, n in info["params"]]
        self.shared_bytes = _shared_bytes(info["shared"], t, module.defines)
        self.struct_bytes = {}
        for ty, n in self.params:
            if _is_struct(ty):
                size = getattr(module.lib, f"sizeof_{name}_{t}_{n}")
                size.restype = ctypes.c_ulong
                self.struct_bytes[n] = size()

    @property
    def attributes(self):
        """RawKernel.attributes, as far as the emulator knows them: the static shared memory
        and the block limit; what only the GPU's compiler knows (registers, local memory,
        PTX and binary versions) is -1, as CuPy reports an attribute its CUDA lacks."""
        known = {"max_threads_per_block": MAX_THREADS_PER_BLOCK,
                 "shared_size_bytes": self.shared_bytes}
        return {k: known.get(k, -1) for k in (
            "max_threads_per_block", "shared_size_bytes", "const_size_bytes",
            "local_size_bytes", "num_regs", "ptx_version", "binary_version", "cache_mode_ca",
            "max_dynamic_shared_size_bytes", "preferred_shared_memory_carveout")}

    def __call__(self, grid, block, args):
        stubbed = _stub["launches"]
        if stubbed is not None:               # stub_kernels: counted, named, not run
            capture.stats.kernels += 1
            stubbed.append(self.expr)
            return
        launch(self, grid, block, args)


def _dims(d, what, expr):
    d = (d,) if isinstance(d, int) else tuple(d)
    if not 1 <= len(d) <= 3 or not all(isinstance(v, (int, np.integer)) for v in d):
        raise EmulatorError(f"{expr}: {what} must be an int or 1 to 3 ints, got {d!r}")
    return tuple(int(v) for v in d) + (1,) * (3 - len(d))


def check_launch(kernel, grid, block):
    """Refuse what the device refuses: the limits of compute capability 9.0."""
    for axis, size, limit in zip("xyz", grid, MAX_GRID):
        if not 1 <= size <= limit:
            raise EmulatorError(f"{kernel.expr}: gridDim.{axis} = {size} is outside [1, {limit}]"
                                " (the GPU refuses the launch: invalid configuration)")
    for axis, size, limit in zip("xyz", block, MAX_BLOCK):
        if not 1 <= size <= limit:
            raise EmulatorError(f"{kernel.expr}: blockDim.{axis} = {size} is outside "
                                f"[1, {limit}] (the GPU refuses the launch)")
    if block[0] * block[1] * block[2] > MAX_THREADS_PER_BLOCK:
        raise EmulatorError(f"{kernel.expr}: {block[0] * block[1] * block[2]} threads per block "
                            f"is more than {MAX_THREADS_PER_BLOCK} (the GPU refuses the launch)")
    if kernel.shared_bytes > MAX_STATIC_SHARED:
        raise EmulatorError(f"{kernel.expr}: {kernel.shared_bytes} bytes of static __shared__ "
                            f"memory is more than {MAX_STATIC_SHARED}")


def _convert(kernel, args):
    """The arguments as the kernel's parameter types, RawKernel's rules enforced: pointers from
    contiguous arrays of exactly the pointed-to type (or None: a null pointer), scalars of
    exactly the parameter's type (RawKernel would misread anything else). An empty array is a
    null pointer, as in CuPy."""
    if len(args) != len(kernel.params):
        raise TypeError(f"{kernel.expr}: {len(args)} arguments for {len(kernel.params)} params")
    converted = []
    for (ty, name), a in zip(kernel.params, args):
        base = _base_type(ty)
        if _is_struct(ty):
            size = kernel.struct_bytes[name]
            if not isinstance(a, np.ndarray) or a.dtype.fields is None or a.size != 1 or \
                    a.nbytes != size:
                raise TypeError(f"{kernel.expr}: struct parameter {name} ({base}, {size} "
                                "bytes) needs a NumPy structured array of one element of "
                                f"that size, got {type(a).__name__} "
                                f"{getattr(a, 'dtype', '')} of {getattr(a, 'nbytes', '?')} bytes")
            converted.append(np.ascontiguousarray(a))
        elif "*" in ty and a is None:            # CuPy passes None as a null pointer
            converted.append(None)
        elif "*" in ty:
            if not isinstance(a, np.ndarray) or not a.flags.c_contiguous:
                raise TypeError(f"{kernel.expr}: pointer parameter {name} needs a contiguous "
                                "array")
            if a.dtype != _NUMPY[base]:
                raise TypeError(f"{kernel.expr}: {ty} parameter {name} got a {a.dtype} array")
            converted.append(a)
        else:
            if type(a) is not _NUMPY[base]:
                raise TypeError(f"{kernel.expr}: {ty} parameter {name} got {type(a).__name__}")
            converted.append(_CTYPES[base](a))
    return converted


@contextlib.contextmanager
def _pointers(kernel, arrays):
    """ctypes pointers for the array arguments. With "sanitize", each array is copied into a
    fresh allocation of exactly its size (ASan's malloc, so any access outside it is caught,
    even for a slice of a larger array), and the writable ones are copied back afterwards."""
    sanitize = "sanitize" in CHECKS
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    pointers, copies = [], []
    try:
        for (ty, _), a in zip(kernel.params, arrays):
            if not isinstance(a, np.ndarray):
                pointers.append(a)
            elif sanitize:
                buf = libc.malloc(a.nbytes)
                ctypes.memmove(buf, a.ctypes.data, a.nbytes)
                copies.append((buf, a, "const" not in ty))
                pointers.append(ctypes.c_void_p(buf))
            else:
                pointers.append(ctypes.c_void_p(a.ctypes.data if a.size else None))
        yield pointers
        for buf, a, writable in copies:
            if writable:
                ctypes.memmove(a.ctypes.data, buf, a.nbytes)
    finally:
        for buf, _, _ in copies:
            libc.free(buf)


@contextlib.contextmanager
def _sanitizer_reports():
    """Collect what the sanitizers write to stderr during a launch (they report on fd 2 and,
    with halt_on_error=0, go on); yields a list that holds the text afterwards."""
    found = []
    if "sanitize" not in CHECKS:
        yield found
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as f:
        os.dup2(f.fileno(), 2)
        try:
            yield found
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            f.seek(0)
            found.append(f.read().decode(errors="replace"))


def launch(kernel, grid, block, args):
    """The one way a kernel runs: check the configuration as the device does, convert the
    arguments, run every block, and raise the first problem found as an EmulatorError that
    names the kernel. (Everything a launch needs passes through here.) During a capture the
    launch is checked and recorded, not run; a replay runs it then."""
    stubbed = _stub["launches"]
    if stubbed is not None:                   # stub_kernels: counted, named, not run
        count("kernels")                      # (RawKernel's call does this itself, in short)
        stubbed.append(kernel.expr)
        return
    grid, block = _dims(grid, "grid", kernel.expr), _dims(block, "block", kernel.expr)
    check_launch(kernel, grid, block)
    converted = _convert(kernel, args)
    recording = capture.capturing()
    if recording is not None:
        frozen = _freeze_kernel_args(kernel, args)
        recording.record(kernel.expr, lambda: _execute(
            kernel, grid, block, _convert(kernel, _thaw_kernel_args(kernel, frozen))))
        return
    count("kernels")
    _execute(kernel, grid, block, converted)


class _StructArg:
    """A struct argument as a graph records it: its bytes as they were, and each device
    buffer its pointer fields point into (held weakly, checked at every replay)."""

    def __init__(self, kernel, name, record):
        self.bytes = record.copy()
        self.buffers = []
        for field in record.dtype.names:
            values = np.asarray(record[field])
            if values.dtype != np.uint64:
                continue
            for address in values.ravel():
                if not address:
                    continue
                root = capture.buffer_at(int(address))
                if root is None:
                    raise EmulatorError(f"{kernel.expr}: struct argument {name}.{field} holds "
                                        f"{int(address):#x}, inside no live device array")
                self.buffers.append(capture.Ref(root))

    def get(self, op):
        for ref in self.buffers:
            ref.get(op)                       # alive, or the replay fails naming it
        return self.bytes


def _freeze_kernel_args(kernel, args):
    return [_StructArg(kernel, n, a) if _is_struct(ty) else capture.freeze(a)
            for (ty, n), a in zip(kernel.params, args)]


def _thaw_kernel_args(kernel, frozen):
    return [a.get(kernel.expr) if isinstance(a, _StructArg) else capture.thaw(a, kernel.expr)
            for a in frozen]


def _execute(kernel, grid, block, args):
    lib = kernel.module.lib
    with _sanitizer_reports() as reports, _pointers(kernel, args) as pointers:
        if {"racecheck", "memstats"} & CHECKS:   # reports name the arguments they touch
            lib.emu_clear_buffers()
            for (_, name), a, p in zip(kernel.params, args, pointers):
                if isinstance(a, np.ndarray):
                    lib.emu_name_buffer(name.encode(), p.value, a.nbytes)
        error = kernel.fn(*(ctypes.c_uint(d) for d in grid + block), *pointers)
    if "memstats" in CHECKS:
        _collect_memstats(kernel)
    where = f"{kernel.expr} (grid {grid}, block {block})"
    if reports and reports[0].strip():
        raise EmulatorError(f"{where}: the sanitizers report:\n{reports[0].strip()}")
    if error:
        raise EmulatorError(f"{where}: {error.decode()}")


# ---- memory access statistics (the "memstats" check) -------------------------------------------
SECTOR_BYTES = 32        # a global access moves whole 32-byte sectors (4 per 128-byte line)
BANKS = 32               # shared memory: 32 banks of 4-byte words
_memstats = {}           # kernel expr -> {site offset: Site}
_memstats_paths = {}     # kernel expr -> (its library, its source's length): for the lines


class Site:
    """One memory-access instruction of a kernel, summed over every warp that ran it.

    ``accesses``: warp accesses (one per warp per execution); ``units``: for global memory
    the distinct 32-byte sectors they touched, for shared memory the passes they took (the
    most distinct words one of the 32 banks held in an access: 1 is conflict-free);
    ``most``: the largest of one access; ``lanes``: thread accesses; ``bytes``: bytes the
    threads asked for."""

    def __init__(self, offset, write, shared, name):
        self.offset, self.write, self.shared, self.name = offset, write, shared, name
        self.accesses = self.units = self.most = self.lanes = self.bytes = 0
        self.line = ""

    @property
    def per_access(self):
        return self.units / self.accesses if self.accesses else 0.0

    @property
    def kind(self):
        return ("shared " if self.shared else "") + ("store" if self.write else "load")


def _collect_memstats(kernel):
    """Add what the launch just counted (the library's per-site sums) to ``_memstats``."""
    lib = kernel.module.lib
    lib.emu_memstats_site.restype = ctypes.c_bool
    out, name = (ctypes.c_ulonglong * 8)(), ctypes.c_char_p()
    sites = _memstats.setdefault(kernel.expr, {})
    _memstats_paths[kernel.expr] = (kernel.module.path, kernel.module.source_lines)
    i = 0
    while lib.emu_memstats_site(ctypes.c_uint(i), out, ctypes.byref(name)):
        offset, write, shared, accesses, units, most, lanes, nbytes = list(out)
        site = sites.get(offset)
        if site is None:
            site = sites[offset] = Site(offset, bool(write), bool(shared), name.value.decode())
        site.accesses += accesses
        site.units += units
        site.most = max(site.most, most)
        site.lanes += lanes
        site.bytes += nbytes
        i += 1
    lib.emu_memstats_clear()


def memstats_reset():
    """Forget the counts (the "memstats" check counts from the first launch on)."""
    _memstats.clear()


def memstats(kernel=None):
    """The counts so far: for ``kernel`` (a name as "gemm_naive<float>"), or else each
    kernel, a dict: "sites" (the Site list, source order), "global_accesses", "sectors",
    "sectors_per_access" (1 for a broadcast, 4 for 32 adjacent floats, 32 for 32 floats far
    apart), "shared_accesses", "passes", "passes_per_access" (1: no bank conflict; n: an
    n-way conflict), "max_passes"."""
    if kernel is None:
        return {k: memstats(k) for k in _memstats}
    sites = sorted(_memstats.get(kernel, {}).values(), key=lambda s: s.offset)
    _find_lines(kernel, sites)
    sites.sort(key=lambda s: (_line_key(s.line), s.offset))
    glob = [s for s in sites if not s.shared]
    shared = [s for s in sites if s.shared]
    g_acc, g_units = sum(s.accesses for s in glob), sum(s.units for s in glob)
    s_acc, s_units = sum(s.accesses for s in shared), sum(s.units for s in shared)
    return {"sites": sites, "global_accesses": g_acc, "sectors": g_units,
            "sectors_per_access": g_units / g_acc if g_acc else 0.0,
            "shared_accesses": s_acc, "passes": s_units,
            "passes_per_access": s_units / s_acc if s_acc else 0.0,
            "max_passes": max((s.most for s in shared), default=0)}


def _line_key(line):
    first = line.split(">")[0]
    return int(first) if first.isdigit() else 1 << 30


def _find_lines(kernel, sites):
    """Each site's line in the kernel source, as "outer>inner" when the access is inside an
    inlined helper (the call's line, then the helper's): addr2line reads the library's debug
    information. Left empty without addr2line."""
    todo = [s for s in sites if not s.line]
    tool = shutil.which("addr2line")
    if not todo or tool is None:
        return
    path, source_lines = _memstats_paths[kernel]
    done = subprocess.run([tool, "-a", "-f", "-C", "-i", "-e", str(path),
                           *(hex(s.offset - 1) for s in todo)],     # -1: inside the call
                          capture_output=True, text=True)
    if done.returncode != 0:
        return
    chains, frames = [], None
    lines = done.stdout.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("0x"):
            frames = []
            chains.append(frames)
            i += 1
            continue
        function, where = lines[i], lines[i + 1] if i + 1 < len(lines) else "?"
        frames.append((function, where))
        i += 2
    for site, frames in zip(todo, chains):
        numbers = []       # innermost first: the kernel source's own lines, not the wrapper's
        for _, where in frames:
            file, _, number = where.rpartition(":")
            number = number.split()[0] if number.split() else ""
            if file == str(path.with_suffix(".cpp")) and number.isdigit() and \
                    int(number) <= source_lines:
                numbers.append(number)
        site.line = ">".join(reversed(numbers))


def memstats_table():
    """The counts as a table for people (``python -m minigrad.emulate --memstats``)."""
    rows = [f"[minigrad.emulate] memory accesses per warp (emulated; global: distinct "
            f"{SECTOR_BYTES}-byte sectors per warp access, 4 is 32 adjacent floats; shared: "
            f"passes per warp access over {BANKS} banks, 1 is no bank conflict)",
            f"{'kernel':<26} {'line':>12} {'access':<13} {'array':<10} {'warp accesses':>14} "
            f"{'per access':>10} {'max':>5}"]
    for kernel, stats in sorted(memstats().items()):
        for s in stats["sites"]:
            rows.append(f"{kernel:<26} {s.line:>12} {s.kind:<13} {s.name:<10} "
                        f"{s.accesses:>14,} {s.per_access:>10.2f} {s.most:>5}")
    if len(rows) == 2:
        rows.append("(no kernel ran)")
    return "\n".join(rows)



class _Device:
    id = 0
    attributes = {"MultiProcessorCount": int(os.environ.get("MINIGRAD_EMU_SMS", "1"))}

    def synchronize(self):
        _device_synchronize()


def _device_synchronize():
    if capture.capturing() is not None:
        capture.refuse("cudaDeviceSynchronize")
    count("syncs")


def _scatter_add(a, slices, value):
    _run("scatter_add", np.add.at, (a, slices, value), writes=True)


def install():
    """Make ``import cupy`` (and cupy.cuda, cupyx) give this stand-in; returns the old ones
    (nothing when it is in place already: ``uninstall`` of that leaves it there)."""
    if sys.modules.get("cupy") is sys.modules[__name__]:
        return {}
    cuda = types.ModuleType("cupy.cuda")
    cuda.Device = _Device
    cuda.get_current_stream = capture.get_current_stream
    cuda.Stream = capture.Stream
    cuda.Event = capture.Event
    cuda.get_elapsed_time = capture.get_elapsed_time
    cuda.MemoryPool = capture.MemoryPool
    cuda.using_allocator = capture.using_allocator
    cuda.set_allocator = capture.set_allocator
    cuda.get_allocator = capture.get_allocator
    cuda.graph = types.SimpleNamespace(Graph=capture.Graph)
    cuda.runtime = types.SimpleNamespace(
        getDeviceCount=lambda: 1, driverGetVersion=lambda: 0, runtimeGetVersion=lambda: 0,
        getDeviceProperties=lambda i: {"name": b"minigrad CUDA emulator"},
        deviceSynchronize=_device_synchronize, streamCaptureModeGlobal=0,
        streamCaptureModeThreadLocal=1, streamCaptureModeRelaxed=2)
    cuda.nvrtc = types.SimpleNamespace(getVersion=lambda: (0, 0))
    cupyx = types.ModuleType("cupyx")
    cupyx.scatter_add = _scatter_add
    this = sys.modules[__name__]
    this.cuda = cuda
    saved = {k: sys.modules.get(k) for k in ("cupy", "cupy.cuda", "cupyx")}
    sys.modules.update({"cupy": this, "cupy.cuda": cuda, "cupyx": cupyx})
    return saved


def uninstall(saved):
    for k, v in saved.items():
        if v is None:
            sys.modules.pop(k, None)
        else:
            sys.modules[k] = v
