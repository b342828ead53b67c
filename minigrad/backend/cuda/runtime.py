"""What every CUDA launcher shares: the kernel table, the defines the kernels are compiled
with, compiling, launching, the argument checks, the one way to reach CuPy, and ``reset()``.

Every kernel file is compiled by NVRTC once per process, on first use, into a cached
``cupy.RawModule`` with a float and a double instance of each template. Inputs are made
contiguous and checked in Python (``ready``) before a launch: RawKernel checks nothing, and a
wrong shape would otherwise be a silent wrong answer or a fault inside CUDA. Scalars go as
``np.int32`` (``i32``) / ``np.int64`` / the array's float type, exactly what the kernels'
signatures say. Nothing here waits for the GPU, so a whole training step can be captured as a
graph. With MINIGRAD_CUDA_SYNC=1 every launch waits for its kernel, so that a fault is
reported by the launch that caused it, with the kernel's name and shapes (debugging only: it
stalls the stream and cannot be used inside a CUDA graph capture). The variable is read when
minigrad is imported and by ``reset()``.
"""
import contextlib
import functools
import os
import sys
from pathlib import Path

import numpy as np

from minigrad import debug

# Each kernel file and the templates it defines; each gets <float> and <double>.
KERNELS = {
    "im2col.cu": ["im2col", "col2im"],
    "gemm.cu": ["gemm", "gemm_blocked", "conv_fwd", "conv_fwd_blocked", "conv_wgrad",
                "conv_dcols", "conv_dcols_blocked", "sum_partials", "bias_grad"],
    "maxpool.cu": ["maxpool2d_fwd", "maxpool2d_bwd"],
    "avgpool.cu": ["avgpool2d_fwd", "avgpool2d_bwd"],
    "sigmoid.cu": ["sigmoid_fwd", "sigmoid_bwd"],
    "dropout.cu": ["dropout_mask", "philox_advance"],
    "softmax_xent.cu": ["softmax_xent_fwd", "softmax_xent_loss", "softmax_xent_bwd"],
    "nll.cu": ["nll_fwd", "nll_bwd"],
    "batchnorm.cu": ["batchnorm_fwd", "batchnorm_bwd"],                          # norm.py
    "adam.cu": ["adam_step", "adam_count_steps", "adam_multi"],
    "adadelta.cu": ["adadelta_step"],
    "rmsprop.cu": ["rmsprop_step"],
    "gemm_ladder.cu": ["gemm_naive", "gemm_tiled", "gemm_coalesced", "gemm_regblock"],  # ladder.py
}
_CTYPE = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
THREADS = 256
# The GEMM's tiles (TM, TN, RM, RN): a block of 256 threads owns a TM x TN tile of the output,
# each thread RM x RN of it; the tile is picked per product (conv.gemm_tile) from these, and K is
# staged GEMM_TK at a time. Passed to the kernels as -D defines (GEMM_TILE0_TM=16, ..._RN=1; nvcc
# would split a value with commas): defined only here, so launchers and kernels cannot disagree.
GEMM_TILES = ((16, 16, 1, 1), (8, 32, 1, 1), (4, 64, 1, 1), (32, 8, 1, 1),
              (32, 32, 2, 2), (8, 128, 1, 4))
GEMM_TK = 16
REDUCE_LANES = 8           # sum_partials: threads adding one element's partials (a power of two)
XENT_THREADS = 256         # the one block of softmax_xent_loss (a power of two)
BN_THREADS = 256           # a batchnorm block, one per channel (a power of two: its tree sum)
ADAM_MAX_TENSORS = 16      # tensors per adam_multi launch (its AdamList struct)
TILE = 16                  # the GEMM ladder's square tile edge (gemm_ladder.cu, ladder.py)
RB = 4                     # the ladder's register block (gemm_regblock: RB x RB outputs a thread)
DEFINES = {"GEMM_TK": GEMM_TK, "GEMM_TM_MAX": max(t[0] for t in GEMM_TILES),
           "GEMM_TN_MAX": max(t[1] for t in GEMM_TILES), "GEMM_TILE_COUNT": len(GEMM_TILES),
           **{f"GEMM_TILE{i}_{part}": v for i, t in enumerate(GEMM_TILES)
              for part, v in zip(("TM", "TN", "RM", "RN"), t)},
           "REDUCE_LANES": REDUCE_LANES, "XENT_THREADS": XENT_THREADS, "BN_THREADS": BN_THREADS,
           "ADAM_MAX_TENSORS": ADAM_MAX_TENSORS, "TILE": TILE, "RB": RB}
MAX_GRID_YZ = 65535


def get_cupy():
    """CuPy (or whatever stands in for it: the tests' host emulator), imported on first use so
    that importing minigrad never needs it. The one place the launchers reach CuPy from."""
    cupy = sys.modules.get("cupy")      # (a dict lookup: an import statement costs more,
    if cupy is None:                    # and every launch asks)
        import cupy
    return cupy


def kernel_dir():
    """The folder of the .cu files, found from this file's own place, never through the
    import system (an editable install of another checkout must not lend us its kernels):
    ``minigrad/kernels/`` beside this package in an installed wheel, else ``kernels/`` at the
    root of the source checkout this file belongs to."""
    package = Path(__file__).resolve().parents[2]
    installed = package / "kernels"
    return installed if installed.is_dir() else package.parent / "kernels"


def compile_options():
    """The NVRTC options every kernel file is compiled with (the tests use them too)."""
    return ("--std=c++14",) + tuple(f"-D{k}={v}" for k, v in DEFINES.items())


# ---- what this process remembers about the GPU: reset() forgets all of it ----------------------
_modules = {}          # kernel file -> its compiled cupy.RawModule
_kernels = {}          # (file, name, ctype) -> the kernel function
_launchable = {}       # (file, name, dtype) -> (the kernel function, ctype): launch's lookup
_gpu_array_types = set()   # the array types ready() has seen are CuPy's
_facts = {}            # device facts asked once ("max_blocks")
_grids = {}            # total -> grid_1d(total) under the present block cap
_caches = {}           # name -> a dict a launcher keeps between calls (see cache)
_block_cap = [None]    # limit_blocks' cap, or None
_recorders = []        # the lists of the recording() blocks now open
_sync = [os.environ.get("MINIGRAD_CUDA_SYNC") == "1"]   # read here and by reset()


def reset():
    """Forget every compiled module, cached kernel, device fact, grid and launcher cache, so
    that the next launch starts afresh (the tests call it when they swap CuPy for the
    emulator and back), and read MINIGRAD_CUDA_SYNC again. Changes nothing on the GPU."""
    _sync[0] = os.environ.get("MINIGRAD_CUDA_SYNC") == "1"
    _modules.clear()
    _kernels.clear()
    _launchable.clear()
    _gpu_array_types.clear()
    _facts.clear()
    _grids.clear()
    for kept in _caches.values():
        kept.clear()


def cache(name):
    """A dict kept between calls under ``name`` (for example the Adam launcher's pointer
    lists), emptied by reset(): it may hold device arrays or addresses of the CuPy in use."""
    return _caches.setdefault(name, {})


def module(filename):
    """The compiled cupy.RawModule of a kernel file (compiled on first use, then kept)."""
    if filename not in _modules:
        source = (kernel_dir() / filename).read_text()
        names = [f"{k}<{t}>" for k in KERNELS[filename] for t in ("float", "double")]
        _modules[filename] = get_cupy().RawModule(code=source, options=compile_options(),
                                                  name_expressions=names)
    return _modules[filename]


def kernel(filename, name, ctype):
    """The kernel ``name<ctype>`` of a kernel file (looked up once, then kept)."""
    key = (filename, name, ctype)
    if key not in _kernels:
        _kernels[key] = module(filename).get_function(f"{name}<{ctype}>")
    return _kernels[key]


def max_blocks():
    """The most blocks a grid-stride launch uses: 32 per multiprocessor, or the cap of
    limit_blocks. Only how the work is shared out depends on it, never which operations
    produce a result, so results do not change with it."""
    if _block_cap[0] is not None:
        return _block_cap[0]
    if "max_blocks" not in _facts:
        sms = get_cupy().cuda.Device().attributes["MultiProcessorCount"]
        _facts["max_blocks"] = sms * 32
    return _facts["max_blocks"]


def limit_blocks(cap):
    """Cap every grid-stride launch at ``cap`` blocks (None: back to 32 per multiprocessor).
    The tests force 1, 3 and 7 to run every loop's later trips."""
    _block_cap[0] = cap
    _grids.clear()                      # made under the old cap


def grid_1d(total):
    """A 1-D grid for ``total`` > 0 items, one per thread, capped (the kernels loop). Kept per
    total: a training step asks for the same few sizes every time."""
    grid = _grids.get(total)
    if grid is None:
        if len(_grids) > 4096:                    # sizes that never repeat: do not pile up
            _grids.clear()
        grid = _grids[total] = (max(1, min(-(-int(total) // THREADS), max_blocks())),)
    return grid


def ctype(array, who):
    try:
        return _CTYPE[array.dtype]
    except KeyError:
        raise TypeError(f"{who}: float32 or float64 expected, got {array.dtype}") from None


def ready(array, who, ndim=None, dtype=None):
    """The array as a contiguous CuPy array, its rank and dtype checked."""
    if type(array) not in _gpu_array_types:         # (asked once per type)
        if not isinstance(array, get_cupy().ndarray):
            raise TypeError(f"{who}: expected a GPU (CuPy) array, got {type(array).__name__}")
        _gpu_array_types.add(type(array))
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{who}: expected {ndim} dims, got shape {array.shape}")
    if dtype is not None and array.dtype != dtype:
        raise TypeError(f"{who}: expected {np.dtype(dtype)}, got {array.dtype}")
    if array.flags.c_contiguous:                    # (most are: no call into CuPy)
        return array
    out = get_cupy().ascontiguousarray(array)
    return out if array.ndim else out.reshape(())   # CuPy's makes a 0-d array (1,)


@functools.lru_cache(maxsize=4096)
def i32(*values):
    """The values as np.int32: a Python int would be sent as 64 bits. Kept per values (a
    step launches the same shapes again and again, and an np.int32 never changes)."""
    return tuple(np.int32(v) for v in values)


def fits_int32(who, **sizes):
    """An error unless every size fits the kernels' 32-bit indices."""
    for name, v in sizes.items():
        if v > 2**31 - 1:
            raise ValueError(f"{who}: {name} = {v} does not fit the kernel's 32-bit indices")


def launch(filename, name, like, grid, block, args, shapes):
    """Launch one kernel, its float or double instance as ``like``'s dtype; any error says
    which kernel, for which shapes. (The one place a kernel is launched from.)"""
    found = _launchable.get((filename, name, like.dtype))
    if found is None:
        kind = ctype(like, name)
        found = _launchable[filename, name, like.dtype] = (kernel(filename, name, kind), kind)
    function, kind = found
    if debug.LAUNCHES:                                      # MINIGRAD_DEBUG=2
        debug.launch(f"{name}<{kind}>", function, grid, block)
    try:
        function(grid, block, args)
        if _sync[0]:                                        # a fault surfaces here, not later
            get_cupy().cuda.get_current_stream().synchronize()
    except Exception as e:  # a launch error (bad configuration, a sticky fault) says where
        raise RuntimeError(f"CUDA kernel {name}<{kind}> failed for shapes "
                           f"{shapes}: {e}") from e
    for launches in _recorders:
        launches.append((f"{name}<{kind}> {shapes}", functools.partial(function, grid, block,
                                                                       args)))


@contextlib.contextmanager
def recording():
    """Within the block, every launch is also appended to the yielded list as (label,
    replay): "name<type> shapes" and a function that launches the same kernel again with the
    same arguments (the benchmarks time a step's kernels one by one so); ``replay.args`` is
    (grid, block, kernel arguments), the launch's shape for tests and work models."""
    launches = []
    _recorders.append(launches)
    try:
        yield launches
    finally:
        _recorders.remove(launches)
