"""Each check of the CUDA emulator, shown catching the bug it is for: a small kernel with the
bug planted, launched through the emulator, and the report it must give — naming the kernel.

The sanitizer cases run in a child process, because AddressSanitizer's runtime has to be
loaded before anything else in a process (``fake_cupy.sanitizer_env``)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minigrad.emulate import fake_cupy

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="the emulator needs g++")
HERE = Path(__file__).parent
KERNELS = HERE.parent / "kernels"


@pytest.fixture
def checks(monkeypatch):
    """Set which opt-in checks the kernels built in this test get."""
    def use(*names):
        monkeypatch.setattr(fake_cupy, "CHECKS", set(names))
    use()
    return use


def run(source, expr, grid, block, *args, options=()):
    """Build ``source`` in the emulator and launch ``expr`` on NumPy arrays (in place)."""
    module = fake_cupy.RawModule(source, options=options, name_expressions=[expr])
    module.get_function(expr)(grid, block, args)


def fails(source, expr, grid, block, *args, options=()):
    with pytest.raises(fake_cupy.EmulatorError) as caught:
        run(source, expr, grid, block, *args, options=options)
    message = str(caught.value)
    assert message.startswith(expr), message          # the report names the kernel
    return message


f32 = lambda *shape: np.zeros(shape, np.float32)


# ---- launch limits (always on) --------------------------------------------------------------
COPY = """
template <typename T>
__global__ void copy(const T* __restrict__ x, T* __restrict__ y, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        y[i] = x[i];
}
"""


def test_a_correct_kernel_runs_clean_under_every_check(checks):
    checks("racecheck")
    x, y = np.arange(1000, dtype=np.float32), f32(1000)
    run(COPY, "copy<float>", (3,), (128,), x, y, np.int32(1000))
    np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("grid, block, says", [
    ((1, 65536), (32,), "gridDim.y = 65536 is outside [1, 65535]"),
    ((1, 1, 65536), (32,), "gridDim.z = 65536 is outside [1, 65535]"),
    ((2**31,), (32,), "gridDim.x = 2147483648 is outside [1, 2147483647]"),
    ((0,), (32,), "gridDim.x = 0 is outside"),
    ((1,), (1025,), "blockDim.x = 1025 is outside [1, 1024]"),
    ((1,), (1, 1, 65), "blockDim.z = 65 is outside [1, 64]"),
    ((1,), (64, 32), "2048 threads per block is more than 1024"),
])
def test_launch_limits_are_errors_as_on_the_device(checks, grid, block, says):
    message = fails(COPY, "copy<float>", grid, block, f32(4), f32(4), np.int32(4))
    assert says in message


def test_too_much_static_shared_memory_is_an_error(checks):
    big = """
    template <typename T>
    __global__ void hoard(T* __restrict__ y) {
        __shared__ T store[4 * CHUNK];
        store[threadIdx.x] = T(1);
        y[threadIdx.x] = store[threadIdx.x];
    }
    """
    run(big, "hoard<float>", (1,), (32,), f32(32), options=("-DCHUNK=3072",))  # 48 KiB: fits
    message = fails(big, "hoard<double>", (1,), (32,), np.zeros(32), options=("-DCHUNK=3072",))
    assert "98304 bytes of static __shared__ memory is more than 49152" in message


# ---- barriers (always on: threads are fibers, so a bad barrier is an error, not a hang) -------
def test_a_barrier_only_some_threads_reach_is_reported(checks):
    divergent = """
    template <typename T>
    __global__ void half_sync(T* __restrict__ y) {
        if (threadIdx.x < 16) __syncthreads();      // planted: the other 16 never arrive
        y[threadIdx.x] = T(1);
    }
    """
    message = fails(divergent, "half_sync<float>", (1,), (32,), f32(32))
    assert "16 of the block's 32 threads wait at the __syncthreads() of line 4" in message


def test_threads_waiting_at_different_barriers_are_reported(checks):
    split = """
    template <typename T>
    __global__ void two_syncs(T* __restrict__ y) {
        if (threadIdx.x % 2) { y[threadIdx.x] = T(1); __syncthreads(); }
        else { __syncthreads(); y[threadIdx.x] = T(2); }   // planted: another barrier
    }
    """
    message = fails(split, "two_syncs<float>", (1,), (8,), f32(8))
    assert "thread (1,0,0) of block (0,0,0): waits at the __syncthreads() of line 4 while " \
           "other threads wait at line 5 (a divergent barrier)" in message


# ---- shared memory: bounds and poison (always on) -------------------------------------------
SHIFT = """
template <typename T>
__global__ void shift(const T* __restrict__ x, T* __restrict__ y) {
    __shared__ T tile[32];
    tile[threadIdx.x] = x[blockIdx.x * 32 + threadIdx.x];
    __syncthreads();
    y[blockIdx.x * 32 + threadIdx.x] = tile[threadIdx.x + OFFSET];
}
"""


def test_a_shared_index_past_the_array_is_reported(checks):
    message = fails(SHIFT, "shift<float>", (1,), (32,), f32(32), f32(32), options=("-DOFFSET=1",))
    assert "thread (31,0,0) of block (0,0,0): __shared__ tile: index 32 is outside [0, 32)" \
        in message


UNWRITTEN = """
template <typename T>
__global__ void reverse(const T* __restrict__ x, T* __restrict__ y) {
    __shared__ T tile[32];
    if (threadIdx.x < 32 - blockIdx.x) tile[threadIdx.x] = x[threadIdx.x];  // planted: block 1
    __syncthreads();                                                     // leaves tile[31]
    y[blockIdx.x * 32 + threadIdx.x] = tile[31 - threadIdx.x];
}
"""


def test_shared_memory_starts_poisoned_in_every_block(checks):
    """Block 0 fills the whole tile, block 1 all but its last element: block 1 reads the
    poison (NaN), not the value block 0 left there, nor a zero."""
    x, y = np.arange(1, 33, dtype=np.float32), f32(64)
    run(UNWRITTEN, "reverse<float>", (2,), (32,), x, y)
    np.testing.assert_array_equal(y[:32], x[::-1])
    assert np.isnan(y[32]) and not np.isnan(y[33:]).any()


def test_reading_unwritten_shared_memory_is_reported(checks):
    checks("racecheck")
    message = fails(UNWRITTEN, "reverse<float>", (2,), (32,), np.ones(32, np.float32), f32(64))
    assert "thread (0,0,0) of block (1,0,0): reads __shared__ tile[31] before any thread of " \
           "its block wrote it" in message


def test_device_memory_from_empty_starts_poisoned():
    a = fake_cupy.empty((3, 2), np.float32)
    assert np.isnan(a).all() and (fake_cupy.empty(4, np.int32) == -1).all()


# ---- races (racecheck) ----------------------------------------------------------------------
SUM = """
template <typename T>
__global__ void block_sum(const T* __restrict__ x, T* __restrict__ y) {
    __shared__ T part[64];
    part[threadIdx.x] = x[threadIdx.x];
    BARRIER
    if (threadIdx.x == 0) {
        T s = 0;
        for (int k = 0; k < 64; ++k) s += part[k];
        y[0] = s;
    }
}
"""


def test_a_missing_syncthreads_is_reported_as_a_race(checks):
    checks("racecheck")
    x = np.arange(64, dtype=np.float32)
    y = f32(1)
    run(SUM, "block_sum<float>", (1,), (64,), x, y, options=("-DBARRIER=__syncthreads();",))
    assert y[0] == x.sum()
    message = fails(SUM, "block_sum<float>", (1,), (64,), x, y, options=("-DBARRIER=",))
    assert "thread (1,0,0) of block (0,0,0): writes part[1], which thread (0,0,0) of block " \
           "(0,0,0) reads with no __syncthreads() between" in message


def test_two_threads_writing_one_global_address_is_a_race(checks):
    checks("racecheck")
    clash = """
    template <typename T>
    __global__ void last_wins(T* __restrict__ y) {
        y[threadIdx.x / 2] = T(threadIdx.x);      // planted: threads 2i and 2i+1 collide
    }
    """
    message = fails(clash, "last_wins<double>", (1,), (8,), np.zeros(4))
    assert "thread (1,0,0) of block (0,0,0): writes y[0], which thread (0,0,0) of block " \
           "(0,0,0) wrote with no __syncthreads() between" in message


def test_two_blocks_writing_one_address_is_a_race_even_with_barriers(checks):
    checks("racecheck")
    clash = """
    template <typename T>
    __global__ void per_block(T* __restrict__ y) {
        __syncthreads();
        y[threadIdx.x] = T(blockIdx.x);           // planted: every block writes y[0..31]
    }
    """
    message = fails(clash, "per_block<float>", (2,), (32,), f32(32))
    assert "thread (0,0,0) of block (1,0,0): writes y[0], which block (0,0,0) wrote " \
           "(blocks are not ordered)" in message


def test_one_block_reading_what_another_writes_is_a_race(checks):
    checks("racecheck")
    clash = """
    template <typename T>
    __global__ void neighbour(T* __restrict__ y) {
        y[blockIdx.x] = y[blockIdx.x] + (blockIdx.x ? y[blockIdx.x - 1] : T(0));   // planted
    }
    """
    message = fails(clash, "neighbour<float>", (2,), (1,), np.ones(2, np.float32))
    assert "block (1,0,0): reads y[0], which block (0,0,0) wrote (blocks are not ordered)" \
        in message


# ---- AddressSanitizer and UBSan (sanitize), in a child process ------------------------------
CHILD = """
import json, sys
import numpy as np
from minigrad.emulate import fake_cupy
fake_cupy.CHECKS = {"sanitize"}
spec = json.loads(sys.argv[1])
try:
    module = fake_cupy.RawModule(spec["source"], options=spec["options"],
                                 name_expressions=[spec["expr"]])
    kernel = module.get_function(spec["expr"])
    args = [np.zeros(a[1], a[0]) if isinstance(a, list)
            else fake_cupy._NUMPY[fake_cupy._base_type(ty)](a)
            for a, (ty, _) in zip(spec["args"], kernel.params)]
    kernel(tuple(spec["grid"]), tuple(spec["block"]), args)
    print("NO ERROR")
except fake_cupy.EmulatorError as e:
    print(e)
"""


def sanitized(source, expr, grid, block, args, options=()):
    """Launch in a child process with the sanitizers on; args: ["float32", n] for an array of
    n zeros, or a number (sent as the parameter's type). Returns what the launch reported."""
    env = {**os.environ, **fake_cupy.sanitizer_env(), "PYTHONPATH": str(HERE.parent.parent)}
    spec = json.dumps({"source": source, "expr": expr, "grid": grid, "block": block,
                       "args": args, "options": list(options)})
    done = subprocess.run([sys.executable, "-c", CHILD, spec], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


FILL = """
template <typename T>
__global__ void fill(const T* __restrict__ x, T* __restrict__ y, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = x[i + READ_SHIFT] + T(1);
    if (i == n - 1 + WRITE_SHIFT) y[i] = T(0);
}
"""


@pytest.mark.parametrize("read_shift, write_shift, says", [
    (0, 0, "NO ERROR"),
    (1, 0, "READ of size 4"),        # planted: reads x[n]
    (0, 1, "WRITE of size 4"),       # planted: writes y[n]
])
def test_asan_catches_an_off_by_one(read_shift, write_shift, says):
    report = sanitized(FILL, "fill<float>", [1], [32], [["float32", 10], ["float32", 10], 10],
                       options=(f"-DREAD_SHIFT={read_shift}", f"-DWRITE_SHIFT={write_shift}"))
    assert says in report, report
    if says != "NO ERROR":
        assert report.startswith("fill<float> (grid (1, 1, 1), block (32, 1, 1)): the "
                                 "sanitizers report:"), report
        assert "heap-buffer-overflow" in report and "fill<float>" in report


def test_asan_catches_the_empty_batch_gemm():
    """A batch of 0 launched as if it held one item, the kind of defect the sanitizers are
    here to catch: the GEMM kernel itself, given an empty A and told M = N = K = 2, reads
    the empty buffer."""
    from minigrad.backend.cuda import compile_options
    report = sanitized((KERNELS / "gemm.cu").read_text(), "gemm<float>", [1, 1, 1], [16, 16],
                       [["float32", 0], ["float32", 4], ["float32", 4], ["float32", 4],
                        2, 2, 2, 0, 0, 0, 0, 1, 1, 0, 0, 0], options=compile_options())
    assert "gemm<float>" in report and "heap-buffer-overflow" in report, report


def test_ubsan_catches_an_index_that_overflows_int():
    wide = """
    template <typename T>
    __global__ void corner(T* __restrict__ y, int n) {
        const int last = n * n - 1;                   // planted: 70000² overflows int
        if (threadIdx.x == 0) y[last % 4 < 0 ? 0 : last % 4] = T(1);
    }
    """
    report = sanitized(wide, "corner<float>", [1], [1], [["float32", 4], 70000])
    assert report.startswith("corner<float>") and "signed integer overflow" in report, report


# ---- the array functions behave as CuPy's source says, where it differs from NumPy ----------
def test_ascontiguousarray_of_a_0d_array_is_1d_as_in_cupy():
    # CuPy 14's core.pyx: a contiguous 0-d array comes back as a.ravel() (a view, shape (1,)),
    # a 0-d array needing a copy (another dtype) as a new array of shape (1,)
    a = np.asarray(np.float32(2.5)).view(fake_cupy.ndarray)
    same = fake_cupy.ascontiguousarray(a)
    assert same.shape == (1,) and isinstance(same, fake_cupy.ndarray)
    same[0] = 7
    assert float(a) == 7                              # a view, not a copy
    other = fake_cupy.ascontiguousarray(a, dtype=np.float64)
    assert other.shape == (1,) and other.dtype == np.float64 and float(other[0]) == 7
    b = np.ones((2, 3), np.float32).view(fake_cupy.ndarray)
    assert fake_cupy.ascontiguousarray(b) is b        # nothing to do: the array itself
    t = fake_cupy.ascontiguousarray(b.T)
    assert t.shape == (3, 2) and t.flags.c_contiguous
    with pytest.raises(TypeError):                    # a host array is not taken
        fake_cupy.ascontiguousarray(np.ones(3))


# ---- memory-access statistics (memstats): coalescing and bank conflicts ------------------------
ACCESSES = """
template <typename T>
__global__ void accesses(const T* __restrict__ x, T* __restrict__ y, int stride) {
    __shared__ T s[64 * 33];
    const int t = threadIdx.x;
    T v = x[t];                 // line 6: 32 adjacent elements
    v += x[t * stride];         // line 7: `stride` elements apart
    v += x[5];                  // line 8: one element for all (a broadcast)
    s[t] = v;                   // line 9: one word per bank
    s[t * 32] = v;              // line 10: every thread in bank 0
    s[t * 2] = v;               // line 11: two threads per bank
    __syncthreads();
    v += s[7];                  // line 13: one word for all (a broadcast)
    y[t] = v;                   // line 14
}
"""


def test_memstats_counts_sectors_and_bank_conflicts_per_warp_access(checks):
    """One warp, each access of known shape: 32 adjacent floats are 4 sectors of 32 bytes, 32
    floats 32 apart are 32 sectors, a broadcast 1; in shared memory, words one apart take one
    pass, 32 apart (one bank) 32 passes, 2 apart 2 passes, a broadcast one. Two warps count
    twice the accesses at the same cost; doubles take twice the sectors."""
    checks("memstats")
    fake_cupy.memstats_reset()
    module = fake_cupy.RawModule(ACCESSES, name_expressions=["accesses<float>",
                                                             "accesses<double>"])
    module.get_function("accesses<float>")((1,), (64,), (f32(64 * 32), f32(64), np.int32(32)))
    sites = {s.line: s for s in fake_cupy.memstats("accesses<float>")["sites"]}
    got = {line: (s.kind, s.name, s.accesses, s.per_access) for line, s in sites.items()}
    assert got == {"6": ("load", "x", 2, 4), "7": ("load", "x", 2, 32), "8": ("load", "x", 2, 1),
                   "9": ("shared store", "s", 2, 1), "10": ("shared store", "s", 2, 32),
                   "11": ("shared store", "s", 2, 2), "13": ("shared load", "s", 2, 1),
                   "14": ("store", "y", 2, 4)}, got
    totals = fake_cupy.memstats("accesses<float>")
    assert totals["global_accesses"] == 8 and totals["sectors"] == 2 * (4 + 32 + 1 + 4)
    assert totals["max_passes"] == 32
    module.get_function("accesses<double>")((1,), (32,), (np.zeros(32 * 32), np.zeros(32),
                                                          np.int32(1)))
    sites = {s.line: s.per_access for s in fake_cupy.memstats("accesses<double>")["sites"]}
    assert sites["6"] == 8 and sites["7"] == 8 and sites["8"] == 1
    assert "accesses<float>" in fake_cupy.memstats_table()


def test_memstats_shows_the_ladder_coalescing_transposed_operands(checks):
    """The GEMM ladder with A and B stored transposed: rung 1 (naive) reads B a row apart per
    thread, rung 3 (coalesced) stages both operands in memory order: sectors per access fall."""
    from helpers import emulated_gpu
    from minigrad.backend import cuda
    from minigrad.backend.cuda import ladder
    checks("memstats")
    with emulated_gpu():
        import cupy
        a = cupy.asarray(np.ones((24, 40), np.float32))     # (K, M)
        b = cupy.asarray(np.ones((48, 24), np.float32))     # (N, K)
        per_access = {}
        for rung in ("naive", "coalesced"):
            fake_cupy.memstats_reset()
            ladder.gemm(rung, a, b, True, True)
            per_access[rung] = fake_cupy.memstats(f"{ladder.RUNGS[rung]}<float>")
        cuda.reset()
    assert per_access["naive"]["sectors_per_access"] > 8
    assert per_access["coalesced"]["sectors_per_access"] <= 4
    assert per_access["coalesced"]["sectors"] < per_access["naive"]["sectors"] / 4


def test_the_ladder_table_of_bench_ops(checks):
    """``bench_ops --ladder --emulated``'s table on two tiny products: one row per product
    and rung column, the numbers the emulator counted."""
    from benchmarks import bench_ops
    from helpers import emulated_gpu
    checks("memstats")
    cases = {"A·B": ((8, 20), (20, 40), False, False), "Aᵀ·Bᵀ": ((20, 8), (40, 20), True, True)}
    with emulated_gpu():
        results = bench_ops.ladder_memstats(cases)
        table = bench_ops.ladder_memstats_table(results)
    naive, coalesced = results["Aᵀ·Bᵀ"]["naive"], results["Aᵀ·Bᵀ"]["coalesced"]
    assert naive["sectors_per_access"] > coalesced["sectors_per_access"]
    assert f"{naive['sectors_per_access']:.2f}" in table.split("Aᵀ·Bᵀ")[1].splitlines()[0]
    for rung in ("naive", "tiled", "coalesced", "regblock"):
        assert rung in table.splitlines()[0]


# ---- the command line: python -m minigrad.emulate script.py -------------------------------------
SCRIPT = """
import sys
import numpy as np
import minigrad
x = minigrad.tensor(np.array([-1.0, 0.0, 2.0]), device="cuda")
y = minigrad.nn.functional.sigmoid(x)
print(sys.argv[1:], y.device, np.round(y.cpu().numpy(), 6).tolist())
"""


def test_the_command_line_runs_a_script_on_the_emulator_and_says_what_it_is(tmp_path):
    script = tmp_path / "tiny.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(HERE.parent.parent)}
    done = subprocess.run([sys.executable, "-m", "minigrad.emulate", "--memstats", "--sms", "3",
                           str(script), "--flag", "7"], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    want = [round(float(1 / (1 + np.exp(v))), 6) for v in (1.0, 0.0, -2.0)]
    assert done.stdout.strip() == f"['--flag', '7'] cuda {want}"
    assert "CPU EMULATION" in done.stderr and "not a GPU" in done.stderr
    assert "timings mean nothing" in done.stderr
    assert "sigmoid_fwd<double>" in done.stderr          # the --memstats table at exit


def test_importing_minigrad_never_imports_the_emulator():
    code = ("import sys, minigrad; minigrad.tensor([1.0]).sum(); "
            "print(any(m.startswith('minigrad.emulate') for m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(HERE.parent.parent)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120, check=True)
    assert done.stdout.strip() == "False"
