"""A stand-in for the parts of CuPy that minigrad/backend/cuda.py uses, with NumPy arrays as
"device" arrays and the kernels compiled from their own source by g++ through shim.h.

``RawModule(code, name_expressions=[...])`` writes the source next to a generated wrapper
that gives each template instance an ``extern "C"`` entry point taking the launch shape
and the kernel's own parameters (parsed from the source), builds a shared library, and
``get_function("name<float>")`` returns a callable with RawKernel's (grid, block, args)."""
import ctypes
import hashlib
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

ndarray = np.ndarray
empty, empty_like, zeros = np.empty, np.empty_like, np.zeros
array, asarray, ascontiguousarray, maximum = np.array, np.asarray, np.ascontiguousarray, np.maximum

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
        key = hashlib.sha256(code.encode()).hexdigest()[:16]
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
            subprocess.run([GXX, "-std=c++20", "-O1", "-shared", "-fPIC", "-pthread", "-x", "c++",
                            str(cpp), "-o", str(lib_path)], check=True, capture_output=True,
                           text=True)
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


class cuda:  # noqa: N801  (mirrors the cupy.cuda namespace)
    Device = _Device

    @staticmethod
    def get_current_stream():
        return _Stream()
