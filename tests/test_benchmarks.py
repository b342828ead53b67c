"""The benchmark scripts' --quick path works and writes its three outputs. Nothing timed is
asserted: speed is reported by the scripts, never tested."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import emulated_gpu

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize("script", ["bench_lenet", "bench_ops"])
def test_quick_run_writes_table_json_and_chart(script, tmp_path):
    out = subprocess.run([sys.executable, "-m", f"benchmarks.{script}",
                          "--device", "cpu", "--quick", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "| minigrad numpy" in out.stdout and "| pytorch cpu" in out.stdout or \
        "minigrad numpy |" in out.stdout
    payload = json.loads((tmp_path / f"{script}.json").read_text())
    assert payload["machine"]["cpu_cores"] >= 1 and payload["machine"]["date"]
    assert payload["table"] in out.stdout
    assert (tmp_path / f"{script}.png").read_bytes()[:4] == b"\x89PNG"

    if script == "bench_lenet":
        check_lenet_payload(payload)


def check_lenet_payload(payload):
    """Each configuration reports, from its own process, the threads it ran with; the
    ratio to PyTorch comes for default threads and for one thread each."""
    machine, results = payload["machine"], payload["results"]
    assert machine["cpu"] and machine["numpy_blas"]["name"] and "load_average" in machine
    for name, base in [("minigrad numpy", "pytorch cpu"),
                       ("minigrad numpy, 1 thread", "pytorch cpu, 1 thread")]:
        assert results[name]["ratio_baseline"] == base and results[name]["ratio_to_pytorch"] > 0
    one, default = results["minigrad numpy, 1 thread"], results["minigrad numpy"]
    assert one["settings"]["threads"] == 1 and one["settings"]["numpy_blas_threads"] in (1, None)
    assert one["settings"]["thread_env"]["OPENBLAS_NUM_THREADS"] == "1"
    assert default["settings"]["threads"] == machine["usable_cores"]
    assert results["pytorch cpu, 1 thread"]["settings"]["threads"] == 1
    assert "other_load_cores" in default["conditions"]


def test_hogs_spin_beside_the_workers_and_are_gone_after():
    """--hog N: N busy processes while the configurations are timed, stopped afterwards."""
    import time

    from benchmarks import common
    with common.Hogs(2, limit_s=60) as hogs:
        assert len(common._HOGS) == 2
        deadline = time.monotonic() + 20            # (a shared machine: slow to get a core)
        while sum(map(common._cpu_seconds, common._HOGS)) < 0.5 < deadline - time.monotonic():
            time.sleep(0.1)
        assert sum(map(common._cpu_seconds, common._HOGS)) >= 0.5       # they do spin
        assert all(p.poll() is None for p in hogs.procs)
    assert common._HOGS == [] and all(p.poll() is not None for p in hogs.procs)


# ---- the GPU parts, through the host emulator (its clock says nothing: structure only) ---------
def test_lenet_bench_graph_config_trains_as_the_eager_one(gpu_device):
    """bench_lenet's "minigrad cuda graph" worker replays a captured step (after 3 eager
    ones) and ends with the parameters of "minigrad cuda eager" (small batches here)."""
    import numpy as np

    import minigrad
    from benchmarks import bench_lenet
    g = np.random.default_rng(0)
    images, labels = g.random((32, 1, 28, 28), dtype=np.float32), g.integers(0, 10, 32)
    params = {}
    for graph in (False, True):
        step, to_index, _ = bench_lenet.minigrad_config("cuda", images, labels, graph=graph)
        for i in range(6):
            step(to_index(np.arange(4 * i, 4 * i + 4)))
        params[graph] = [p.detach().cpu().numpy() for p in step.net.parameters()]
    for eager, captured in zip(params[False], params[True]):
        np.testing.assert_array_equal(eager, captured)
    assert minigrad.cuda.is_available()


def test_lenet_bench_host_overhead_counts_the_launches_of_an_eager_step():
    """--host-overhead's step with the kernels stubbed makes the launches an executed eager
    step makes, kernel for kernel, and nothing else on the device (its time is reported,
    never asserted)."""
    import numpy as np

    import minigrad
    from benchmarks import bench_lenet
    from minigrad.backend.cuda import runtime
    with emulated_gpu(sms=132) as fake_cupy:
        g = np.random.default_rng(1)
        x = minigrad.tensor(g.random((8, 1, 28, 28), dtype=np.float32), device="cuda")
        y = minigrad.tensor(g.integers(0, 10, 8), device="cuda")
        step = bench_lenet.minigrad_train_step("cuda")
        before = [p.detach().cpu().numpy() for p in step.net.parameters()]
        with runtime.recording() as executed:
            step(x, y)                                  # run by the emulator
        after = [p.detach().cpu().numpy() for p in step.net.parameters()]
        assert all((a != b).any() for a, b in zip(after, before))     # it did train
        result = bench_lenet.host_overhead(steps=20, warmup=2, batch=8)
        assert fake_cupy._stub["launches"] is None                   # stubbing has ended
    names = [label.split(" ")[0] for label, _ in executed]
    assert 20 < len(names) < 40
    assert result["launches_per_step"] == len(names) == len(result["recorded_launches"])
    assert result["stubbed_kernels"] == names
    assert result["recorded_launches"] == [label for label, _ in executed]
    assert result["cupy_ops_per_step"] == 0 and result["allocations_per_step"] > 0
    assert len(result["cpu_seconds"]) == len(result["wall_seconds"]) == 20
    assert all(t > 0 for t in result["wall_seconds"])
    lines, numbers = bench_lenet.host_report(result)
    assert numbers["us_per_launch"] == pytest.approx(numbers["ms_per_step"] * 1e3 / len(names))
    assert lines[-1].startswith("HOST-OVERHEAD minigrad eager step: ")


def test_lenet_bench_host_overhead_command_prints_its_fields(tmp_path):
    """`python -m benchmarks.bench_lenet --host-overhead` runs on this machine (no GPU: the
    emulator, kernels stubbed) and prints ms per step, µs per launch and launches per step,
    saying that it measures process CPU time; the JSON holds the same numbers."""
    if shutil.which("g++") is None:
        pytest.skip("the emulator needs g++")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIGRAD_")}
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench_lenet", "--host-overhead",
                          "--steps", "30", "--profile", "5", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    payload = json.loads((tmp_path / "bench_lenet_host_overhead.json").read_text())
    launches = payload["launches_per_step"]
    assert 20 < launches < 40 and payload["batch"] == 256 and payload["steps"] == 30
    assert f"launches per step: {launches} (minigrad recorded {launches})" in text
    assert f"ms per step: {payload['ms_per_step']:.3f} (median of 30 steps, process CPU " \
        "time" in text
    assert f"µs per launch: {payload['us_per_launch']:.1f}" in text
    assert "HOST-OVERHEAD minigrad eager step:" in text and "wall ms per step" in text
    assert 0 < payload["python_call_ns"] < 10_000
    assert f"an empty function call took {payload['python_call_ns']:.1f} ns" in text
    assert "ncalls" in text                               # the profile's table
    assert 0 < payload["ms_per_step"] < 1e3 and payload["machine"]["cpu_cores"] >= 1


def test_lenet_bench_headline_lines():
    from benchmarks.bench_lenet import headline
    times = {"minigrad cuda eager": {"median": 1.2e-3}, "pytorch cuda eager": {"median": 3e-3},
             "minigrad cuda graph": {"median": 0.3e-3}}
    eager, graph = headline(times)
    assert eager == ("HEADLINE minigrad cuda eager: 1.200 ms/step, 0.40× pytorch cuda eager; "
                     "target ≤ 1.5 ms/step: met")
    assert graph == ("HEADLINE minigrad cuda graph: 0.300 ms/step (pytorch cuda graph not "
                     "measured); target ≤ 0.21 ms/step: NOT met")


def test_ops_bench_lists_every_kernel_of_an_eager_step(gpu_device):
    """bench_ops' kernel table: one row per launch of an eager LeNet step (fewer than 35),
    each launch replayable alone inside a captured graph."""
    from benchmarks import bench_ops
    from benchmarks.common import Timer
    answer = bench_ops.kernel_times(Timer("cupy"), calls=1, repeats=2, batch=2)
    labels = [label for label, _ in answer["kernels"]]
    assert 20 < len(labels) < 35
    assert any(label.startswith("conv_fwd<float>") for label in labels)
    assert labels[-1].startswith("adam_multi<float>")
    rows, per_kernel, total = bench_ops.kernel_table([answer, answer])
    assert len(rows) == len(labels) + 1 and rows[-1][0] == f"all {len(labels)} kernels"
