"""The CPU backend's threads: on by default, the same bits on any number of them (minigrad's
and the BLAS's) on each BLAS kernel family, the BLAS held to one thread inside a layer and
given back after, helpers that sleep rather than spin, errors that reach the caller.

No PyTorch here: the subprocesses import this file, and quickly."""
import hashlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import minigrad
from examples.lenet import lenet
from minigrad.backend import cpu
from minigrad.backend.cpu import buffers
from minigrad.backend.cpu import threads as cpu_threads

ROOT = Path(__file__).parent.parent
LINUX = sys.platform.startswith("linux")


def run_python(code, **env):
    """Run ``code`` in a fresh interpreter at the repository root with ``env`` added; its
    stdout. (PYTHONPATH comes along, so the child imports this checkout.)"""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT, env={**os.environ, **env}).stdout


@pytest.fixture
def threads():
    """Set the CPU backend's thread count inside a test; the count from before afterwards."""
    before = cpu.get_num_threads()
    yield cpu.set_num_threads
    cpu.set_num_threads(before)


def train_lenet(steps=3, batch=64, dtype="float32"):
    minigrad.manual_seed(0)
    net = lenet().to(dtype=getattr(minigrad, dtype))
    opt = minigrad.optim.Adam(net.parameters())
    g = np.random.default_rng(1)
    for _ in range(steps):
        x = minigrad.tensor(g.random((batch, 1, 28, 28)), dtype=dtype)
        y = minigrad.tensor(g.integers(0, 10, batch))
        opt.zero_grad()
        minigrad.nn.CrossEntropyLoss()(net(x), y).backward()
        opt.step()
    return [p.detach().numpy().copy() for p in net.parameters()]


def digest(params):
    return hashlib.sha256(b"".join(p.tobytes() for p in params)).hexdigest()


# ---- the same bits ---------------------------------------------------------------------------
def test_training_gives_the_same_bits_on_one_two_and_three_threads(threads):
    runs = {}
    for n in (1, 2, 3, 1):
        threads(n)
        runs.setdefault(n, []).append(train_lenet())
    reference = runs[1][0]
    for n, results in runs.items():
        for params in results:
            for a, b in zip(params, reference):
                np.testing.assert_array_equal(a, b, err_msg=f"{n} threads")


def numpy_blas():
    return next((i for i in threadpool_info() if i["user_api"] == "blas"), {})


def has_avx512():
    try:
        return "avx512f" in Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False


# What a child prints: the BLAS kernel family it runs, and a digest of LeNet after two steps on
# 1, 2 and 3 of minigrad's threads.
FAMILY_CODE = """
import json
from threadpoolctl import threadpool_info
from minigrad.backend import cpu
from test_cpu_threads import digest, train_lenet
digests = []
for n in (1, 2, 3):
    cpu.set_num_threads(n)
    digests.append(digest(train_lenet(2)))
blas = [i for i in threadpool_info() if i["user_api"] == "blas"][0]
print(json.dumps({"architecture": blas.get("architecture"), "digests": digests,
                  "blas_threads_after": cpu.blas_num_threads()}))
"""


@pytest.mark.skipif(numpy_blas().get("internal_api") != "openblas",
                    reason="NumPy's BLAS here is not OpenBLAS (no OPENBLAS_CORETYPE to set)")
@pytest.mark.parametrize("family", ["Haswell", "SkylakeX", "Zen", "Sandybridge"])
def test_the_same_bits_on_any_thread_count_of_minigrad_and_of_openblas_for_each_kernel_family(
        family):
    """Forced to one kernel family, 1, 2 or 3 of minigrad's threads with OpenBLAS on 1 or 2
    threads of its own train LeNet to the same bits. (Families differ from each other in the
    last bits: each has its own float32 kernels. That is not promised.)"""
    if family == "SkylakeX" and not has_avx512():
        pytest.skip("this CPU has no AVX-512: OpenBLAS's SkylakeX kernels would not run")
    runs = {blas_threads: json.loads(run_python(
                FAMILY_CODE, OPENBLAS_CORETYPE=family, OPENBLAS_NUM_THREADS=blas_threads,
                PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), str(ROOT),
                                            os.environ.get("PYTHONPATH", "")])))
            for blas_threads in ("1", "2")}
    for blas_threads, run in runs.items():
        # The family really is the one asked for (in NumPy's OpenBLAS, Zen runs Haswell's
        # kernels), and OpenBLAS has its own thread count back after the layers.
        assert run["architecture"] in ({"Zen", "Haswell"} if family == "Zen" else {family})
        assert run["blas_threads_after"] == int(blas_threads)
    digests = {d for run in runs.values() for d in run["digests"]}
    assert len(digests) == 1, runs


# ---- threads by default ----------------------------------------------------------------------
DEFAULT_CODE = """
import os, threading
import minigrad
before = threading.active_count()
n = minigrad.get_num_threads()
x = minigrad.randn(64, 3, 32, 32)
minigrad.nn.functional.conv2d(x, minigrad.randn(8, 3, 3, 3)).sigmoid().sum()
print(n, before, threading.active_count())
"""


def test_by_default_a_layer_runs_on_every_core_the_process_may_use():
    """Nothing to call: the first layer starts the helpers (importing starts none); one thread
    per core of the process's affinity, or $MINIGRAD_NUM_THREADS."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    n, before, after = map(int, run_python(DEFAULT_CODE).split())
    assert n == cores and after == before + min(cores, 10) - 1    # (the conv has 10 blocks)
    env = {k: v for k, v in os.environ.items() if k != "MINIGRAD_NUM_THREADS"}
    n, before, after = map(int, subprocess.run(
        [sys.executable, "-c", DEFAULT_CODE], capture_output=True, text=True, check=True,
        cwd=ROOT, env={**env, "MINIGRAD_NUM_THREADS": "3"}).stdout.split())
    assert n == 3 and after == before + 2


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs Linux")
def test_the_default_follows_the_process_affinity():
    code = "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})\n" + DEFAULT_CODE
    n, before, after = map(int, run_python(code).split())
    assert n == 1 and after == before


def test_a_bad_minigrad_num_threads_is_a_clear_error():
    with pytest.raises(subprocess.CalledProcessError) as e:
        run_python("import minigrad; minigrad.get_num_threads()", MINIGRAD_NUM_THREADS="two")
    assert "MINIGRAD_NUM_THREADS must be a whole number" in e.value.stderr


def test_the_top_level_names_are_pytorchs(threads):
    minigrad.set_num_threads(2)
    assert minigrad.get_num_threads() == cpu.get_num_threads() == 2
    minigrad.set_num_threads(1)
    assert minigrad.get_num_threads() == 1


def test_thread_count_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        cpu.set_num_threads(0)


# ---- the BLAS's threads ----------------------------------------------------------------------
@pytest.mark.skipif(cpu.blas_num_threads() is None, reason="no BLAS threadpoolctl can ask")
@pytest.mark.parametrize("n_threads", [1, 2])
def test_a_layer_holds_the_blas_to_one_thread_and_gives_its_count_back(n_threads, threads):
    threads(n_threads)
    seen = []

    @cpu_threads._one_blas_thread
    def layer(fail=False, inner=False):
        if inner:
            layer()                              # nested: the outer one gives the count back
        seen.append(cpu.blas_num_threads())
        if fail:
            raise RuntimeError("in the layer")
    with threadpool_limits(limits=2, user_api="blas"):
        layer(inner=True)
        assert cpu.blas_num_threads() == 2
        with pytest.raises(RuntimeError):
            layer(fail=True)
        assert cpu.blas_num_threads() == 2
        x, w = np.ones((4, 2, 8, 8), np.float32), np.ones((3, 2, 3, 3), np.float32)
        cpu.conv2d_fwd(x, w, None, 1, 0)
        cpu.gemm(x.reshape(4, -1), x.reshape(4, -1), trans_b=True)
        assert cpu.blas_num_threads() == 2
    assert seen == [1, 1, 1]


# ---- the helper threads ----------------------------------------------------------------------
def test_threads_split_the_work_and_every_part_is_done(threads):
    """_split covers range(n) exactly once, aligned, whatever the thread count."""
    for n_threads in (1, 2, 3, 5):
        threads(n_threads)
        for n, align in [(0, 1), (1, 1), (7, 1), (1000, 64), (65, 64), (3, 1)]:
            seen = np.zeros(n, dtype=int)

            def work(lo, hi, seen=seen, align=align, n=n):
                assert lo % align == 0 and (hi % align == 0 or hi == n)
                seen[lo:hi] += 1
            cpu_threads._split(n, work, align)
            assert (seen == 1).all()


def test_an_error_on_a_helper_thread_reaches_the_caller(threads):
    threads(2)

    def work(lo, hi):
        if lo > 0:
            raise ValueError("from the helper")
    with pytest.raises(ValueError, match="from the helper"):
        cpu_threads._split(10, work)
    cpu_threads._split(10, lambda lo, hi: None)          # and the helpers still work afterwards


def cpu_ticks(thread):
    """User + system CPU time of one of this process's threads, in clock ticks (Linux)."""
    fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1]
    return sum(map(int, fields.split()[11:13]))


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_idle_helpers_sleep_rather_than_spin(threads):
    """Between layers a helper waits in a blocking queue get: over half a second of idling it
    uses (next to) no CPU time."""
    threads(3)
    cpu_threads._split(3, lambda lo, hi: sum(range(100_000)))   # the helpers exist and have worked
    before = [cpu_ticks(h) for h in cpu_threads._helpers[:2]]
    time.sleep(0.5)
    after = [cpu_ticks(h) for h in cpu_threads._helpers[:2]]
    assert all(b - a <= 2 for a, b in zip(before, after)), (before, after)   # 2 ticks: 20 ms


def test_a_second_caller_runs_its_spans_itself_while_the_helpers_are_busy(threads):
    threads(2)
    started, release, ran_on = threading.Event(), threading.Event(), []

    def slow(lo, hi):
        started.set()
        release.wait(5)
    caller = threading.Thread(target=cpu_threads._split, args=(2, slow))
    caller.start()
    started.wait(5)
    cpu_threads._split(4, lambda lo, hi: ran_on.append((threading.get_ident(), lo, hi)))
    release.set()
    caller.join(5)
    assert ran_on == [(threading.get_ident(), 0, 4)]


def test_the_caller_runs_a_span_whose_helper_has_not_started_it(threads):
    """A helper that cannot get to its span (here: still busy; on a loaded machine: waiting
    for a core) does not hold the caller up: the caller runs that span too."""
    threads(2)
    cpu_threads._split(2, lambda lo, hi: None)                      # the helper exists
    stuck, ran_on = threading.Event(), []
    cpu_threads._helpers[0].inbox.put((lambda: stuck.wait(10), (), threading.Lock(),
                                       queue.SimpleQueue()))
    try:
        cpu_threads._split(2, lambda lo, hi: ran_on.append((threading.get_ident(), lo)))
    finally:
        stuck.set()
    assert ran_on == [(threading.get_ident(), 0), (threading.get_ident(), 1)]
    cpu_threads._split(2, lambda lo, hi: ran_on.append((threading.get_ident(), lo)))
    assert len(ran_on) == 4                          # and the helper works again afterwards


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux and at least two cores")
def test_pinning_is_asked_for_and_undone(threads):
    cores = os.sched_getaffinity(0)
    threads(2)
    cpu_threads._split(4, lambda lo, hi: None)                      # starts the helper
    helper = cpu_threads._helpers[0]
    assert os.sched_getaffinity(0) == cores                 # not pinned unless asked
    threads(2, pin=True)
    mine, its = os.sched_getaffinity(0), os.sched_getaffinity(helper.native_id)
    assert len(mine) == len(its) == 1 and mine != its and mine | its <= cores
    threads(2)
    assert os.sched_getaffinity(0) == cores == os.sched_getaffinity(helper.native_id)
    threads(2, pin=True)
    threads(1)
    assert os.sched_getaffinity(0) == cores


# ---- the layers' own big arrays ----------------------------------------------------------------
def test_a_big_array_is_handed_out_again_only_once_nothing_refers_to_it():
    shape = (256, 1024)                                             # 1 MiB of float32
    a = buffers._empty(shape, np.float32)
    address = a.__array_interface__["data"][0]
    view = a[3:].reshape(-1)
    del a
    b = buffers._empty(shape, np.float32)                 # a's view is alive: another buffer
    assert not np.shares_memory(b, view)
    del view
    c = buffers._empty(shape, np.float32)                 # now a's buffer comes back, a new view
    assert c.__array_interface__["data"][0] == address and c.flags.writeable
    assert c.base is not None and c.base.shape == shape
    assert not np.shares_memory(c, b)
    small = buffers._empty((4, 4), np.float32)            # small arrays: plain np.empty
    assert small.base is None


def test_a_batch_last_array_keeps_its_memory_order():
    x = cpu.from_batch_last(np.ones((6, 24, 24, 256), np.float32))
    y = buffers._empty_like(x)
    assert y.shape == x.shape and y.strides == x.strides


def test_the_kept_buffers_stay_under_their_limit(monkeypatch):
    monkeypatch.setattr(buffers, "BUFFERS_MAX_BYTES", buffers._buffers_bytes[0] + (3 << 20))
    held = [buffers._empty((1 << 18,), np.float32) for _ in range(5)]   # 1 MiB each, all in use
    assert len({h.__array_interface__["data"][0] for h in held}) == 5
    assert buffers._buffers_bytes[0] <= buffers.BUFFERS_MAX_BYTES
    del held
    other = buffers._empty((1 << 19,), np.float32)        # 2 MiB: the free 1 MiB ones make room
    assert buffers._buffers_bytes[0] <= buffers.BUFFERS_MAX_BYTES and other.base is not None


@pytest.mark.skipif(not LINUX, reason="counts page faults with getrusage")
def test_a_training_step_faults_in_next_to_no_memory_once_warm():
    """Without the layers' own buffers, malloc gave LeNet's big arrays back to the OS after
    every step and each step faulted ~4,000 pages in again (17 MB at batch 256)."""
    import resource
    minigrad.manual_seed(0)
    net = lenet()
    opt = minigrad.optim.Adam(net.parameters())
    x = minigrad.rand(256, 1, 28, 28)
    y = minigrad.tensor(np.arange(256) % 10)

    def step():
        opt.zero_grad()
        minigrad.nn.CrossEntropyLoss()(net(x), y).backward()
        opt.step()
    for _ in range(3):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        step()
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5
    assert faults < 400, faults
