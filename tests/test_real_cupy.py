"""minigrad's GPU code against the real CuPy package and NVIDIA's NVRTC, on a machine with
no GPU (tests/real_cupy.py does the work, in a child process):

- every kernel instance compiles through NVRTC with the option list CuPy 14 builds;
- every CuPy name minigrad, the benchmarks and the GPU check use exists in CuPy with a
  signature that takes the call, and so does every stand-in of the emulator;
- ``minigrad.cuda.unavailable_reason()`` says so when CuPy cannot find the CUDA headers.

CuPy and NVRTC come from their wheels, installed by ``make test`` into a folder of their own
(``.venv/cupy-api``, or $MINIGRAD_CUPY_API) that only these child processes put on sys.path:
in the test process itself CuPy stays absent, so no other test changes its behaviour. Without
that folder these tests skip, saying how to make it."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HELPER = Path(__file__).with_name("real_cupy.py")
FOLDER = Path(os.environ.get("MINIGRAD_CUPY_API") or ROOT / ".venv" / "cupy-api")
MISSING = [what for what, path in (("cupy-cuda13x", FOLDER / "cupy"),
                                   ("nvidia-cuda-nvrtc", FOLDER / "nvidia"),
                                   ("cuda-pathfinder", FOLDER / "cuda" / "pathfinder"))
           if not path.exists()]
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"{', '.join(MISSING)} not in {FOLDER}: `make test` installs them "
    "there (pip install --target; see the Makefile's CUPY_API)")


def real_cupy(*args):
    env = {k: v for k, v in os.environ.items() if k not in ("MINIGRAD_EMULATE_CUDA",
                                                            "LD_PRELOAD")}
    env["PYTHONPATH"] = str(FOLDER)
    done = subprocess.run([sys.executable, str(HELPER), *args], capture_output=True, text=True,
                          env=env, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_kernel_instance_compiles_through_nvrtc_with_cupys_options():
    from minigrad.backend import cuda
    runtime = getattr(cuda, "runtime", cuda)
    found = real_cupy("nvrtc")
    options = found["options"]
    assert "-arch=sm_90" in options and "-ftz=true" in options
    assert any(o.endswith("cupy/_core/include") for o in options)   # CuPy's own list
    assert set(runtime.compile_options()) <= set(options)
    failed = {f: r["log"][-2000:] for f, r in found["files"].items() if not r["ok"]}
    assert not failed, f"NVRTC {found['nvrtc']}: {failed}"
    assert sorted(found["files"]) == sorted(runtime.KERNELS)
    for filename, names in runtime.KERNELS.items():
        assert found["files"][filename]["instances"] == sorted(
            f"{k}<{t}>" for k in names for t in ("float", "double"))


def test_every_cupy_name_used_exists_with_a_signature_that_takes_the_call():
    found = real_cupy("api")
    assert found["problems"] == [], "\n".join(found["problems"])
    assert {"cupy.RawModule", "cupy.ascontiguousarray", "cupy.cuda.Stream",
            "cupy.ndarray.get"} <= set(found["checked"])


def test_the_api_check_finds_a_missing_name_and_a_call_that_does_not_fit(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import cupy\n"
                   "a = cupy.zeros(3, bogus=1)\n"
                   "b = cupy.no_such_function(a)\n"
                   "c = cupy.asarray(a, None, None, None, None, None)\n")
    problems = real_cupy("api", str(bad))["problems"]
    assert [p.split(": ", 1)[0] for p in problems] == ["bad.py:2", "bad.py:3", "bad.py:4"]
    assert "bogus" in problems[0] and "does not exist" in problems[1]
    assert "6 positional" in problems[2]


def test_unavailable_reason_says_when_cupy_cannot_find_the_cuda_headers():
    found = real_cupy("headers", "missing")
    assert found["reason"] is not None and "CUDA headers" in found["reason"]
    present = real_cupy("headers", "present")
    if present["headers"] is None:
        pytest.skip("this machine has no CUDA headers for CuPy to find")
    assert present["reason"] is None
