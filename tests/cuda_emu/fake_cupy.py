"""A stand-in for CuPy: "device" arrays are a NumPy subclass that says it lives on a GPU,
and kernels are compiled from their own source by g++ through shim.h and run on the CPU.

``install()`` registers it as the modules ``cupy``, ``cupy.cuda`` and ``cupyx``, so that
minigrad's whole GPU path — Tensors on device "cuda", backend/cuda.py, the kernels — runs
on a CPU (conftest.py does so when MINIGRAD_EMULATE_CUDA=1). Array functions are NumPy's,
their results re-labelled as device arrays; ``empty`` fills its memory with a poison pattern
(NaN for floats), since device memory starts as garbage, not zeros.

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
  before anything else in the process: ``python -m cuda_emu --sanitize`` (``__main__.py``)
  sets that up (see ``sanitizer_env``).
* "racecheck" (MINIGRAD_EMU_RACECHECK=1): every global and shared access is recorded and
  races (and reads of unwritten shared memory) are reported; see shim.h.
"""
import contextlib
import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import numpy as np


class ndarray(np.ndarray):  # noqa: N801  (CuPy's name)
    """A NumPy array labelled as GPU memory: minigrad sees ``__cuda_array_interface__``."""

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.shape, "typestr": self.dtype.str, "version": 3,
                "data": (self.ctypes.data, False)}

    def __array_wrap__(self, arr, context=None, return_scalar=False):
        return np.asarray(arr).view(ndarray)      # 0-d results stay device arrays, as in CuPy

    def __getitem__(self, index):
        return _device(np.ndarray.__getitem__(self, index))   # a picked element too

    def get(self):
        return np.array(self)

    def item(self):
        return np.ndarray.item(self)


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
    return value


def _on_device(fn):
    def on_device(*args, **kwargs):
        kwargs = {k: _host(v) for k, v in kwargs.items()}
        return _device(fn(*[_host(a) for a in args], **kwargs))
    return on_device


def __getattr__(name):
    """Any other function: NumPy's, on device arrays."""
    return _on_device(getattr(np, name))


def asarray(a, dtype=None):
    """Like cupy.asarray: a device array stays as it is; host data is copied over."""
    if isinstance(a, ndarray):
        return a if dtype is None or a.dtype == dtype else a.astype(dtype)
    return _device(np.array(a, dtype=dtype, copy=True))


def array(a, dtype=None, copy=True):
    return _device(np.array(_host(a), dtype=dtype, copy=copy))


def empty(shape, dtype=float, order="C"):
    """Like cupy.empty: memory that holds garbage — here a poison pattern (all bits set: NaN
    for floats, -1 for integers), so a kernel that leaves an element unwritten shows it."""
    a = np.empty(shape, dtype=dtype, order=order)
    ctypes.memset(a.ctypes.data, 0xFF, a.nbytes)
    return a.view(ndarray)


def empty_like(a, dtype=None):
    return empty(np.shape(a), dtype=a.dtype if dtype is None else dtype)


# ---- the emulated device and its limits (compute capability 9.0, as the H200) ----------------
H200_SMS = 132
MAX_GRID = (2**31 - 1, 65535, 65535)
MAX_BLOCK = (1024, 1024, 64)
MAX_THREADS_PER_BLOCK = 1024
MAX_STATIC_SHARED = 48 * 1024          # bytes of __shared__ declared in a kernel
CHECKS = {name for name, var in (("sanitize", "MINIGRAD_EMU_SANITIZE"),
                                 ("racecheck", "MINIGRAD_EMU_RACECHECK"))
          if os.environ.get(var) == "1"}


class EmulatorError(RuntimeError):
    """A launch the device would refuse, or a bug the emulator caught while running it."""


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
          "racecheck": ["-DEMU_RACECHECK"]}


def _base_type(ty):
    """'const float* __restrict__' -> 'float'."""
    return " ".join(re.sub(r"\bconst\b|\*|__restrict__", " ", ty).split())


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
    ``static emu::shared_array<T, X, Y> a{"a"};``, and with racecheck every pointer type a
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
    (it must come before every other library, and Python is not built with it), leak checks
    off (Python keeps memory to its end), and reports that do not stop the process (each one
    becomes an EmulatorError of the launch that caused it)."""
    runtime = subprocess.run([GXX or "g++", "-print-file-name=libasan.so"], capture_output=True,
                             text=True, check=True).stdout.strip()
    if not os.path.isabs(runtime):
        raise RuntimeError("g++ does not know where libasan.so is: install its AddressSanitizer "
                           "runtime (Debian: libasan8, which g++ normally brings)")
    return {"MINIGRAD_EMU_SANITIZE": "1", "LD_PRELOAD": runtime,
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
                "`python -m cuda_emu --sanitize ...` from tests/, or set LD_PRELOAD as "
                "cuda_emu.fake_cupy.sanitizer_env() says")
        self.kernels = kernels_in(code)
        self.defines = dict(o[2:].split("=", 1) for o in options if o.startswith("-D"))
        source = emulator_source(code, "racecheck" in checks)
        wrapper = [f'#include "{SHIM}"', "#line 1", source]     # the kernels' own lines
        for expr in name_expressions:
            name, t = expr[:-1].split("<")
            typed = [(re.sub(r"\bT\b", t, ty), n) for ty, n in self.kernels[name]["params"]]
            decl = ", ".join(f"{ty} {n}" for ty, n in typed)
            call = ", ".join(n for _, n in typed)
            wrapper.append(
                f'extern "C" __attribute__((visibility("default"))) const char* '
                f"run_{name}_{t}(unsigned gx, unsigned gy, unsigned gz, unsigned bx, "
                f"unsigned by, unsigned bz, {decl}) {{\n"
                f"  return emu::launch(dim3{{gx, gy, gz}}, dim3{{bx, by, bz}}, "
                f"[&] {{ {name}<{t}>({call}); }});\n}}")
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

    def __call__(self, grid, block, args):
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
    contiguous arrays of exactly the pointed-to type, scalars of exactly the parameter's type
    (RawKernel would misread anything else). An empty array is a null pointer, as in CuPy."""
    if len(args) != len(kernel.params):
        raise TypeError(f"{kernel.expr}: {len(args)} arguments for {len(kernel.params)} params")
    converted = []
    for (ty, name), a in zip(kernel.params, args):
        base = _base_type(ty)
        if "*" in ty:
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
    names the kernel. (Everything a launch needs passes through here.)"""
    grid, block = _dims(grid, "grid", kernel.expr), _dims(block, "block", kernel.expr)
    check_launch(kernel, grid, block)
    args = _convert(kernel, args)
    lib = kernel.module.lib
    with _sanitizer_reports() as reports, _pointers(kernel, args) as pointers:
        if "racecheck" in CHECKS:          # race reports name the arguments they touch
            lib.emu_clear_buffers()
            for (_, name), a, p in zip(kernel.params, args, pointers):
                if isinstance(a, np.ndarray):
                    lib.emu_name_buffer(name.encode(), p.value, a.nbytes)
        error = kernel.fn(*(ctypes.c_uint(d) for d in grid + block), *pointers)
    where = f"{kernel.expr} (grid {grid}, block {block})"
    if reports and reports[0].strip():
        raise EmulatorError(f"{where}: the sanitizers report:\n{reports[0].strip()}")
    if error:
        raise EmulatorError(f"{where}: {error.decode()}")

class _Device:
    id = 0
    attributes = {"MultiProcessorCount": int(os.environ.get("MINIGRAD_EMU_SMS", "1"))}


class _Stream:
    def synchronize(self):
        pass


def _scatter_add(a, slices, value):
    np.add.at(_host(a), _host(slices), _host(value))


def install():
    """Make ``import cupy`` (and cupy.cuda, cupyx) give this stand-in; returns the old ones."""
    cuda = types.ModuleType("cupy.cuda")
    cuda.Device = _Device
    cuda.get_current_stream = lambda: _Stream()
    cuda.runtime = types.SimpleNamespace(
        getDeviceCount=lambda: 1, driverGetVersion=lambda: 0,
        getDeviceProperties=lambda i: {"name": b"minigrad CUDA emulator"})
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
