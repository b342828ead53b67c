"""scripts/gpu_first_run.py on the host emulator (``--emulated --tiny``): its first part runs
to its end and writes a complete summary; stopped part-way (by SIGTERM, by SIGKILL, or by its
own deadline), the summary still holds every verdict reached before, each a whole line.

On a GPU machine the same script is ``make gpu-check``; here only the first part can run."""
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from minigrad.backend import cuda

KERNELS = getattr(cuda, "runtime", cuda).KERNELS     # the kernel table, wherever it lives

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "gpu_first_run.py"
STATUSES = ("PASS", "FAIL", "SKIP", "MISS")

pytestmark = pytest.mark.skipif(
    os.environ.get("MINIGRAD_EMULATE_CUDA") == "1" or subprocess.run(
        ["which", "g++"], capture_output=True).returncode != 0,
    reason="needs g++ for the emulator, and a process that is not itself emulated")


def start(out, *extra):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests")]))
    env.pop("MINIGRAD_EMULATE_CUDA", None)
    env.pop("OUT", None)
    return subprocess.Popen([sys.executable, str(SCRIPT), "--emulated", "--tiny", "--out",
                             str(out), *extra], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def verdicts(out):
    path = out / "summary.txt"
    text = path.read_text() if path.exists() else ""
    assert text == "" or text.endswith("\n"), "a line was left half written"
    lines = text.splitlines()
    table_at = next((i for i, ln in enumerate(lines) if ln.startswith("====")), len(lines))
    return [ln for ln in lines[:table_at] if ln.split(" ", 1)[0] in STATUSES], lines[table_at:]


def wait_for(out, count, proc, seconds=120):
    """Wait until the summary holds ``count`` verdicts."""
    end = time.time() + seconds
    while time.time() < end and proc.poll() is None:
        if len(verdicts(out)[0]) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} verdicts after {seconds} s: {verdicts(out)[0]}")


@pytest.mark.slow
def test_the_first_part_writes_a_complete_summary(tmp_path):
    proc = start(tmp_path)
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, output
    lines, closing = verdicts(tmp_path)
    names = [ln.split(" ", 1)[1].split(":")[0] for ln in lines]
    expected = (["environment"] + [f"compile {f}" for f in KERNELS] + ["0-d tensors"]
                + [n for n in names if n.startswith("kernel ") and n != "kernel times"]
                + ["LeNet gradients GPU = CPU", "captured step = eager step",
                   "step times vs PyTorch", "kernel times", "first part ran to its end",
                   "later parts"])
    assert names == expected, lines
    assert sum(n.startswith("kernel ") for n in names) >= 12     # every kernel family
    assert all(ln.startswith("PASS ") for ln in lines[:-1]), lines
    assert lines[-1].startswith("SKIP later parts")
    # the closing table: a line per verdict, the counts, the result; printed last too
    assert closing[0].startswith(f"==== minigrad GPU first run: {len(lines) - 1} PASS, 0 FAIL")
    assert len(closing) == len(lines) + 2 and closing[-1] == "RESULT: no check failed"
    assert output.rstrip().endswith("RESULT: no check failed")
    # what comes back: the summary and one archive, every log inside
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first_run.tar.gz", "summary.txt"]
    with tarfile.open(tmp_path / "first_run.tar.gz") as tar:
        members = set(tar.getnames())
    assert {"first_run/first_part.log", "first_run/kernel_attributes.txt",
            "first_run/kernel_times.txt"} <= members


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_a_run_stopped_part_way_keeps_every_verdict_so_far(tmp_path, how):
    proc = start(tmp_path)
    wait_for(tmp_path, 4, proc)                      # the environment and some compiles
    before, _ = verdicts(tmp_path)
    os.killpg(proc.pid, getattr(signal, how))
    proc.communicate(timeout=60)
    lines, closing = verdicts(tmp_path)
    assert lines[:len(before)] == before             # nothing lost, nothing rewritten
    if how == "SIGTERM":                             # the driver closes the summary itself
        assert lines[-1].startswith("FAIL run stopped: stopped by SIGTERM"), lines
        assert closing[0].startswith("==== minigrad GPU first run:")
        assert closing[-1] == "RESULT: FAILED"
        assert (tmp_path / "first_run.tar.gz").exists()


def test_the_deadline_stops_the_first_part_and_says_where(tmp_path):
    proc = start(tmp_path, "--first-part-limit", "3")
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1, output
    lines, closing = verdicts(tmp_path)
    stop = [ln for ln in lines if ln.startswith("FAIL first part:")]
    assert len(stop) == 1 and "stopped at its limit of 3 s, during" in stop[0], lines
    assert closing[-1] == "RESULT: FAILED"
