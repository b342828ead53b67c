"""A stand-in for CuPy: "device" arrays are a NumPy subclass that says it lives on a GPU,
and kernels are compiled from their own source by g++ through shim.h.

``install()`` registers it as the modules ``cupy``, ``cupy.cuda`` and ``cupyx``, so that
minigrad's whole GPU path — Tensors on device "cuda", backend/cuda.py, the kernels — runs
on a CPU (conftest.py does so when MINIGRAD_EMULATE_CUDA=1). Array functions are NumPy's,
their results re-labelled as device arrays.

``RawModule(code, name_expressions=[...])`` writes the source next to a generated wrapper
that gives each template instance an ``extern "C"`` entry point taking the launch shape
and the kernel's own parameters (parsed from the source), builds a shared library, and
``get_function("name<float>")`` returns a callable with RawKernel's (grid, block, args)."""
import ctypes
import hashlib
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


SHIM = Path(__file__).with_name("shim.h")
GXX = shutil.which("g++")
_BUILD = Path(tempfile.mkdtemp(prefix="minigrad-emu-"))
_SIGNATURE = re.compile(r"template\s*<typename T>\s*__global__\s+void\s+(\w+)\s*\(([^)]*)\)")
_CTYPES = {"int": ctypes.c_int32, "long long": ctypes.c_int64, "float": ctypes.c_float,
           "double": ctypes.c_double}


def kernels_in(code):
    """name -> (list of (type, name) params, uses __syncthreads) for each template kernel."""
    found = {}
    matches = list(_SIGNATURE.finditer(code))
    for i, m in enumerate(matches):
        body = code[m.end():matches[i + 1].start() if i + 1 < len(matches) else len(code)]
        params = []
        for p in m.group(2).split(","):
            words = p.replace("*", " * ").split()
            params.append((" ".join(words[:-1]), words[-1]))
        found[m.group(1)] = (params, "__syncthreads" in body)
    return found


class RawModule:
    def __init__(self, code, options=(), name_expressions=()):
        self.kernels = kernels_in(code)
        defines = [o for o in options if o.startswith("-D")]      # as NVRTC takes them
        key = hashlib.sha256((code + " ".join(defines)).encode()).hexdigest()[:16]
        lib_path = _BUILD / f"k{key}.so"
        if not lib_path.exists():
            src = _BUILD / f"k{key}.cu"
            src.write_text(code)
            wrapper = [f'#include "{SHIM}"', f'#include "{src}"']
            for expr in name_expressions:
                name, t = expr[:-1].split("<")
                params, threaded = self.kernels[name]
                typed = [(re.sub(r"\bT\b", t, ty), n) for ty, n in params]
                decl = ", ".join(f"{ty} {n}" for ty, n in typed)
                call = ", ".join(n for _, n in typed)
                wrapper.append(
                    f'extern "C" void run_{name}_{t}(unsigned gx, unsigned gy, unsigned gz, '
                    f"unsigned bx, unsigned by, unsigned bz, {decl}) {{\n"
                    f"  emu::launch(dim3{{gx, gy, gz}}, dim3{{bx, by, bz}}, "
                    f"{str(threaded).lower()}, [&] {{ {name}<{t}>({call}); }});\n}}")
            cpp = _BUILD / f"k{key}.cpp"
            cpp.write_text("\n".join(wrapper) + "\n")
            subprocess.run([GXX, "-std=c++20", "-O1", "-shared", "-fPIC", "-pthread", *defines,
                            "-x", "c++", str(cpp), "-o", str(lib_path)], check=True,
                           capture_output=True, text=True)
        self.lib = ctypes.CDLL(str(lib_path))

    def get_function(self, expr):
        name, t = expr[:-1].split("<")
        params, _ = self.kernels[name]
        return _Kernel(getattr(self.lib, f"run_{name}_{t}"),
                       [re.sub(r"\bT\b", t, ty) for ty, _ in params], expr)


class _Kernel:
    def __init__(self, fn, types, expr):
        self.fn, self.types, self.expr = fn, types, expr

    def __call__(self, grid, block, args):
        if len(args) != len(self.types):
            raise TypeError(f"{self.expr}: {len(args)} arguments for {len(self.types)} params")
        dims = [ctypes.c_uint(v) for v in (tuple(grid) + (1, 1))[:3] + (tuple(block) + (1, 1))[:3]]
        converted = []
        for ty, a in zip(self.types, args):
            if "*" in ty:
                if not isinstance(a, np.ndarray) or not a.flags.c_contiguous:
                    raise TypeError(f"{self.expr}: pointer parameter needs a contiguous array")
                want = np.dtype({"float": np.float32, "double": np.float64, "int": np.int32,
                                 "long long": np.int64}[ty.replace("const", "").replace("*", "")
                                                        .replace("__restrict__", "").strip()])
                if a.dtype != want:
                    raise TypeError(f"{self.expr}: {ty} parameter got a {a.dtype} array")
                converted.append(ctypes.c_void_p(a.ctypes.data))
            else:
                ctype = _CTYPES[ty.replace("const", "").strip()]
                expected = {ctypes.c_int32: np.int32, ctypes.c_int64: np.int64,
                            ctypes.c_float: np.float32, ctypes.c_double: np.float64}[ctype]
                if type(a) is not expected:     # RawKernel would misread anything else
                    raise TypeError(f"{self.expr}: {ty} parameter got {type(a).__name__}")
                converted.append(ctype(a))
        self.fn(*dims, *converted)


class _Device:
    id = 0
    attributes = {"MultiProcessorCount": 1}


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
