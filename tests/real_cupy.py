"""Checks against the real CuPy package and NVIDIA's NVRTC, with no GPU: run by
test_real_cupy.py in a child process whose sys.path starts with a folder that holds them
(``pip install --target``; see the Makefile's ``cupy-api``), so that no other test sees a
real CuPy. Each command prints one JSON object on stdout:

    python tests/real_cupy.py nvrtc      every kernel instance compiled by NVRTC
    python tests/real_cupy.py api        every CuPy name minigrad and the emulator use
    python tests/real_cupy.py headers    unavailable_reason() without the CUDA headers

NVRTC is called through ctypes (its C API is five functions here), from the wheel
nvidia-cuda-nvrtc: no cuda-python needed. The options are the list CuPy 14 builds for a
RawModule: ``cupy._core.core.assemble_cupy_compiler_options`` (the bundled CCCL and CuPy
include folders, minigrad's own options, the CUDA headers' folder), then what
``cupy.cuda.compiler`` adds when it compiles (``-ftz=true``, ``-arch=sm_90`` for the H200,
``--device-as-default-execution-space``, ``--pch`` only when CUPY_NVRTC_USE_PCH is set)."""
import ast
import ctypes
import glob
import inspect
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARCH = "90"                   # the H200's compute capability


def load_nvrtc():
    """libnvrtc from the nvidia-cuda-nvrtc wheel on sys.path, loaded globally (so that CuPy,
    which looks for the library by name, finds the one already loaded)."""
    for entry in sys.path:
        for lib in sorted(glob.glob(os.path.join(entry, "nvidia", "cu*", "lib",
                                                 "libnvrtc.so.*"))
                          + glob.glob(os.path.join(entry, "nvidia", "cuda_nvrtc", "lib",
                                                   "libnvrtc.so.*"))):
            if "alt" not in lib and "builtins" not in lib:
                # libnvrtc opens its builtins by name at compile time: load them first
                for builtins in glob.glob(os.path.join(os.path.dirname(lib),
                                                       "libnvrtc-builtins.so.*")):
                    if ".alt." not in builtins:
                        ctypes.CDLL(builtins, mode=ctypes.RTLD_GLOBAL)
                return ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL), lib
    raise FileNotFoundError("no libnvrtc.so.* under nvidia/*/lib on sys.path")


def nvrtc_compile(nvrtc, source, name, options, expressions):
    """Compile ``source`` with ``options``; returns (ok, log, {expression: lowered name})."""
    prog = ctypes.c_void_p()
    check = lambda rc, what: rc == 0 or (_ for _ in ()).throw(RuntimeError(f"{what}: {rc}"))
    check(nvrtc.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), name.encode(), 0,
                                   None, None), "nvrtcCreateProgram")
    try:
        for e in expressions:
            check(nvrtc.nvrtcAddNameExpression(prog, e.encode()), "nvrtcAddNameExpression")
        opts = (ctypes.c_char_p * len(options))(*[o.encode() for o in options])
        rc = nvrtc.nvrtcCompileProgram(prog, len(options), opts)
        size = ctypes.c_size_t()
        nvrtc.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        nvrtc.nvrtcGetProgramLog(prog, log)
        lowered = {}
        if rc == 0:
            for e in expressions:
                out = ctypes.c_char_p()
                check(nvrtc.nvrtcGetLoweredName(prog, e.encode(), ctypes.byref(out)),
                      f"nvrtcGetLoweredName({e})")
                lowered[e] = out.value.decode()
        return rc == 0, log.value.decode(errors="replace"), lowered
    finally:
        nvrtc.nvrtcDestroyProgram(ctypes.byref(prog))


def cupy_options(own):
    """The NVRTC options CuPy 14 would use for minigrad's RawModules on an H200."""
    from cupy._core.core import assemble_cupy_compiler_options
    from cupy.cuda import compiler
    options = tuple(assemble_cupy_compiler_options(tuple(own)))
    options += ("-ftz=true", f"-arch=sm_{ARCH}", "--device-as-default-execution-space")
    if getattr(compiler, "_use_pch", False):
        options += ("--pch",)
    return options


def nvrtc_check():
    nvrtc, lib = load_nvrtc()
    major, minor = ctypes.c_int(), ctypes.c_int()
    nvrtc.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor))
    from minigrad.backend import cuda
    runtime = getattr(cuda, "runtime", cuda)
    options = cupy_options(runtime.compile_options())
    results = {}
    for filename, names in runtime.KERNELS.items():
        expressions = [f"{k}<{t}>" for k in names for t in ("float", "double")]
        source = (runtime.kernel_dir() / filename).read_text()
        ok, log, lowered = nvrtc_compile(nvrtc, source, filename, list(options), expressions)
        results[filename] = {"ok": ok and len(lowered) == len(expressions), "log": log,
                             "instances": sorted(lowered)}
    return {"nvrtc": f"{major.value}.{minor.value}", "library": lib, "options": options,
            "files": results}


# ---- the CuPy names minigrad uses, against the real package --------------------------------
def uses_in_source(paths):
    """Every call or reference ``cupy.a.b(...)`` and ``xp.name(...)`` in the files: a list of
    (where, dotted name, positional count, keyword names)."""
    found = []
    for path in paths:
        tree = ast.parse(path.read_text())
        calls = {id(n.func): n for n in ast.walk(tree) if isinstance(n, ast.Call)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute):
                continue
            chain, inner = [], node
            while isinstance(inner, ast.Attribute):
                chain.append(inner.attr)
                inner = inner.value
            if not isinstance(inner, ast.Name) or inner.id not in ("cupy", "xp"):
                continue
            if inner.id == "xp" and len(chain) != 1:
                continue
            name = "cupy." + ".".join(reversed(chain))
            call = calls.get(id(node))
            where = f"{path.name}:{node.lineno}"
            if call is None:
                found.append((where, name, None, []))
            else:
                found.append((where, name, len(call.args) if not any(
                    isinstance(a, ast.Starred) for a in call.args) else None,
                    [k.arg for k in call.keywords if k.arg]))
    # keep only the longest chain at each place (cupy.cuda.Stream, not also cupy.cuda)
    longest = {}
    for where, name, npos, kws in found:
        key = (where, name.split(".")[1])
        if key not in longest or len(name) > len(longest[key][1]) or npos is not None:
            longest[key] = (where, name, npos, kws)
    return sorted(longest.values())


def parameters(obj):
    """(positional names, keyword names, takes *args, takes **kwargs) of a callable: from
    inspect, else from the first line of its docstring (Cython: ``name(str code=None, *,
    ...)``); None when neither says."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        doc = (getattr(obj, "__doc__", None) or "").strip().splitlines()
        m = re.match(r"^\w+\((.*)\)", doc[0]) if doc else None
        if m is None:
            return None
        pos, kw, star, starstar, keyword_only = [], [], False, False, False
        for part in [p.strip() for p in m.group(1).split(",") if p.strip()]:
            if part == "*":
                keyword_only = True
                continue
            if part.startswith("**"):
                starstar = True
                continue
            if part.startswith("*"):
                star = keyword_only = True
                continue
            pname = part.split("=")[0].split()[-1]
            (kw if keyword_only else pos).append(pname)
        return pos, pos + kw, star, starstar
    kinds = inspect.Parameter
    ps = [p for p in sig.parameters.values() if p.name != "self"]
    pos = [p.name for p in ps if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)]
    kw = [p.name for p in ps if p.kind in (kinds.POSITIONAL_OR_KEYWORD, kinds.KEYWORD_ONLY)]
    return (pos, kw, any(p.kind == kinds.VAR_POSITIONAL for p in ps),
            any(p.kind == kinds.VAR_KEYWORD for p in ps))


def resolve(name):
    import cupy
    obj = cupy
    for part in name.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def fits(obj, npos, keywords):
    """A problem with calling ``obj`` with ``npos`` positional arguments and ``keywords``,
    or None."""
    params = parameters(obj.__init__ if isinstance(obj, type) and parameters(obj) is None
                        else obj)
    if params is None:
        return None                              # nothing to check against
    pos, kw, star, starstar = params
    if npos is not None and npos > len(pos) and not star:
        return f"{npos} positional arguments, it takes {len(pos)} ({', '.join(pos)})"
    unknown = [k for k in keywords if k not in kw]
    if unknown and not starstar:
        return f"keyword(s) {unknown} unknown (it takes {', '.join(kw)})"
    return None


# the emulator's stand-ins (minigrad/emulate/fake_cupy.py): name -> (positional arguments,
# keywords) as minigrad calls them (methods: without self), or (None, []) for an attribute
EMULATED = {
    "cupy.asarray": (1, ["dtype"]), "cupy.array": (1, ["dtype", "copy"]),
    "cupy.ascontiguousarray": (1, ["dtype"]), "cupy.empty": (1, ["dtype", "order"]),
    "cupy.empty_like": (1, ["dtype"]),
    "cupy.RawModule": (0, ["code", "options", "name_expressions"]),
    "cupy.RawModule.get_function": (1, []), "cupy.RawKernel.__call__": (3, []),
    "cupy.RawKernel.attributes": (None, []),
    "cupy.ndarray.get": (0, ["stream", "order", "out"]), "cupy.ndarray.item": (0, []),
    "cupy.ndarray.tolist": (0, []), "cupy.ndarray.copy": (0, ["order"]),
    "cupy.ndarray.astype": (1, ["order", "casting", "copy"]), "cupy.ndarray.fill": (1, []),
    "cupy.ndarray.reshape": (1, ["order"]), "cupy.ndarray.ravel": (0, ["order"]),
    "cupy.ndarray.flatten": (0, ["order"]), "cupy.ndarray.argmax": (1, ["keepdims"]),
    "cupy.ndarray.argmin": (1, ["keepdims"]), "cupy.ndarray.take": (2, []),
    "cupy.ndarray.dot": (1, []), "cupy.ndarray.nonzero": (0, []),
    "cupy.ndarray.data": (None, []), "cupy.ndarray.__cuda_array_interface__": (None, []),
    "cupy.cuda.Device": (0, []), "cupy.cuda.Device.synchronize": (0, []),
    "cupy.cuda.Device.attributes": (None, []),
    "cupy.cuda.get_current_stream": (0, []), "cupy.cuda.Stream": (0, ["non_blocking"]),
    "cupy.cuda.Stream.begin_capture": (0, ["mode"]), "cupy.cuda.Stream.end_capture": (0, []),
    "cupy.cuda.Stream.synchronize": (0, []), "cupy.cuda.Stream.null": (None, []),
    "cupy.cuda.Event": (0, []), "cupy.cuda.get_elapsed_time": (2, []),
    "cupy.cuda.MemoryPool": (0, []), "cupy.cuda.using_allocator": (1, []),
    "cupy.cuda.set_allocator": (1, []), "cupy.cuda.get_allocator": (0, []),
    "cupy.cuda.graph.Graph.launch": (0, ["stream"]),
    "cupy.cuda.runtime.getDeviceCount": (0, []), "cupy.cuda.runtime.driverGetVersion": (0, []),
    "cupy.cuda.runtime.runtimeGetVersion": (0, []),
    "cupy.cuda.runtime.getDeviceProperties": (1, []),
    "cupy.cuda.runtime.deviceSynchronize": (0, []),
    "cupy.cuda.runtime.streamCaptureModeGlobal": (None, []),
    "cupy.cuda.runtime.streamCaptureModeThreadLocal": (None, []),
    "cupy.cuda.runtime.streamCaptureModeRelaxed": (None, []),
    "cupy.cuda.nvrtc.getVersion": (0, []),
}


def api_check(*files):
    """Every CuPy name used in minigrad/, benchmarks/ and the GPU check script (or in
    ``files``, then without the emulator's list), and every stand-in of the emulator."""
    import cupy
    import cupyx
    paths = [Path(f).resolve() for f in files] or sorted((ROOT / "minigrad").rglob("*.py")) + \
        sorted((ROOT / "benchmarks").glob("*.py")) + [ROOT / "scripts" / "gpu_first_run.py"]
    checked, problems = [], []
    for where, name, npos, kws in uses_in_source(paths):
        try:
            obj = resolve(name)
        except AttributeError:
            problems.append(f"{where}: {name} does not exist in CuPy {cupy.__version__}")
            continue
        checked.append(name)
        if npos is not None or kws:
            why = fits(obj, npos, kws)
            if why:
                problems.append(f"{where}: {name}: {why}")
    for name, (npos, kws) in ({} if files else EMULATED).items():
        try:
            obj = resolve(name)
        except AttributeError:
            problems.append(f"emulator: {name} does not exist in CuPy {cupy.__version__}")
            continue
        checked.append(name)
        if npos is not None:
            why = fits(obj, npos, kws)
            if why:
                problems.append(f"emulator: {name}: {why}")
    if not callable(getattr(cupyx, "scatter_add", None)):
        problems.append("emulator: cupyx.scatter_add does not exist")
    return {"cupy": cupy.__version__, "checked": sorted(set(checked)), "problems": problems}


def headers_check(missing="missing"):
    """minigrad.cuda.unavailable_reason() with a device faked present (NVRTC is the wheel's),
    and, when ``missing``, CuPy's search for the CUDA headers made to fail as it does on a
    machine without them; also whether this machine has them."""
    import cupy
    load_nvrtc()
    cupy.cuda.runtime.getDeviceCount = lambda: 1    # no driver here: pretend there is a GPU
    import cuda.pathfinder
    found = cuda.pathfinder.find_nvidia_header_directory("cudart")
    if missing == "missing":
        cuda.pathfinder.find_nvidia_header_directory = lambda name: None
    import minigrad
    return {"reason": minigrad.cuda.unavailable_reason(), "headers": found}


if __name__ == "__main__":
    sys.path.insert(1, str(ROOT))
    what, *rest = sys.argv[1:]
    print(json.dumps({"nvrtc": nvrtc_check, "api": api_check,
                      "headers": headers_check}[what](*rest)))
