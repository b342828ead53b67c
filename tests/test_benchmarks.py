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
