"""The benchmark scripts' --quick path works and writes its three outputs. Nothing timed is
asserted: speed is reported by the scripts, never tested."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

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
