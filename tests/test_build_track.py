"""The build-it-yourself track (docs/build/, build_track/) checked both ways, as a learner
meets it: every step's tests pass with the reference solutions, and every step's tests fail
on the untouched skeleton, each with that step's own "step N not done yet" (a failure, not
an error in collection or set-up, and not a pass). Both runs are one pytest process each,
over build_track/tests, with the switch of build_track/track.py; the results are read from
their JUnit XML, test by test.

Also: the switch's rules (REFERENCE=... never stands in for the step under test), the loader
takes what it is told and nothing else, and step 9's data comes through minigrad.data.
The slow test trains LeNet for 5 epochs on the real Fashion-MNIST with the reference."""
import gzip
import hashlib
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from build_track import track

ROOT = Path(__file__).parent.parent


def start_tests(mode, tmp_path, *args, reference=""):
    """pytest over build_track/tests in a subprocess with MINIGRAD_BUILD=mode, started."""
    xml = tmp_path / f"{mode}.xml"
    env = {**os.environ, "MINIGRAD_BUILD": mode, "MINIGRAD_BUILD_REFERENCE": reference,
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "OPENBLAS_NUM_THREADS": "1"}        # tiny arrays: one thread is fastest
    args = args or ("build_track/tests", "-m", "not slow")
    log = tmp_path / f"{mode}.log"            # a file, not a pipe: no run waits on a reader
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                                 "-q", "-o", "addopts=", f"--junitxml={xml}", *args],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return proc, xml, log


def finish_tests(started, timeout=900):
    """Wait for a start_tests run: (its output as a CompletedProcess, {step: [(test name,
    outcome, message)]}) from its JUnit XML."""
    proc, xml, log = started
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    done = subprocess.CompletedProcess(proc.args, proc.returncode, log.read_text(), "")
    results = {}
    if xml.exists():
        for case in ET.parse(xml).iter("testcase"):
            m = re.search(r"test_step(\d\d)_", case.get("classname", ""))
            step = int(m.group(1)) if m else None
            outcome, message = "passed", ""
            for kind in ("failure", "error", "skipped"):
                node = case.find(kind)
                if node is not None:
                    outcome = {"failure": "failed"}.get(kind, kind)
                    message = (node.get("message") or "") + "\n" + (node.text or "")
                    break
            results.setdefault(step, []).append((case.get("name"), outcome, message))
    return done, results


def run_tests(mode, tmp_path, *args, reference="", timeout=900):
    return finish_tests(start_tests(mode, tmp_path, *args, reference=reference), timeout)


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory):
    """The reference run and the skeleton run, side by side (one core each)."""
    started = {mode: start_tests(mode, tmp_path_factory.mktemp(mode))
               for mode in ("reference", "skeleton")}
    return {mode: finish_tests(s) for mode, s in started.items()}


@pytest.fixture
def reference_run(both_runs):
    return both_runs["reference"]


@pytest.fixture
def skeleton_run(both_runs):
    return both_runs["skeleton"]


def _explain(proc):
    return f"\n--- its output ---\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"


@pytest.mark.parametrize("n", list(track.STEPS))
def test_each_step_passes_with_the_reference(reference_run, n):
    proc, results = reference_run
    cases = results.get(n, [])
    assert len(cases) >= 3, f"step {n}: {len(cases)} tests ran with the reference{_explain(proc)}"
    bad = [(name, outcome, msg[:500]) for name, outcome, msg in cases if outcome != "passed"]
    assert not bad, f"step {n} with the reference solutions: {bad}"


@pytest.mark.parametrize("n", list(track.STEPS))
def test_each_step_fails_on_the_untouched_skeleton_saying_so(skeleton_run, n):
    proc, results = skeleton_run
    cases = results.get(n, [])
    assert len(cases) >= 3, f"step {n}: {len(cases)} tests ran on the skeleton{_explain(proc)}"
    for name, outcome, message in cases:
        assert outcome == "failed", (
            f"step {n}, {name} on the untouched skeleton: {outcome}, expected a failure "
            f"saying 'step {n} not done yet'\n{message[:1500]}")
        assert f"step {n} not done yet" in message, (
            f"step {n}, {name} on the skeleton failed, but not with 'step {n} not done yet':"
            f"\n{message[:1500]}")


def test_both_runs_ran_the_same_tests(reference_run, skeleton_run):
    ref = {n: sorted(c[0] for c in cases) for n, cases in reference_run[1].items()}
    skel = {n: sorted(c[0] for c in cases) for n, cases in skeleton_run[1].items()}
    assert ref == skel and None not in ref, "the two runs collected different tests"


@pytest.fixture
def track_copy(tmp_path, monkeypatch):
    """build_track's skeleton in a folder of its own, so that a learner-mode check copies
    (and edits) learner files there, never in the checkout."""
    import shutil
    shutil.copytree(track.HERE / "skeleton", tmp_path / "skeleton")
    monkeypatch.setattr(track, "HERE", tmp_path)
    track.ensure_learner_files()
    return tmp_path


def test_the_header_says_where_each_step_comes_from(track_copy, monkeypatch):
    monkeypatch.setenv("MINIGRAD_BUILD", "learner")
    monkeypatch.setenv("MINIGRAD_BUILD_REFERENCE", "3,5")
    for n in (1, 2, 4, 6):                              # started: no longer the skeleton
        with open(track_copy / "learner" / f"{track.STEPS[n]}.py", "a") as f:
            f.write("# started\n")
    assert track.describe([7]) == [
        "step 7 under test: your code in build_track/learner/",
        "REFERENCE: steps 3, 5 from build_track/solutions/ (the reference), not your code"]
    monkeypatch.setenv("MINIGRAD_BUILD_REFERENCE", "")
    assert track.describe([5])[1:] == [
        "not started (your file is the untouched skeleton), so from the reference: step 3"]
    for n in (3, 5):
        with open(track_copy / "learner" / f"{track.STEPS[n]}.py", "a") as f:
            f.write("# started\n")
    assert "every earlier step from your code" in track.describe([7])[1]
    monkeypatch.setenv("MINIGRAD_BUILD", "skeleton")
    assert "build_track/skeleton/" in track.describe([7])[0]


def test_reference_cannot_stand_in_for_the_step_under_test(tmp_path):
    proc, results = run_tests("learner", tmp_path, "build_track/tests/test_step04_layers.py",
                              reference="2,4")
    assert proc.returncode == 4 and not results, "the run must stop before any test"
    assert "REFERENCE names step 4, which these tests check" in proc.stdout + proc.stderr


def test_the_switch_picks_each_step_as_told(track_copy, monkeypatch):
    monkeypatch.setenv("MINIGRAD_BUILD", "learner")
    monkeypatch.setenv("MINIGRAD_BUILD_REFERENCE", "3,5-6")
    assert track.reference_steps() == {3, 5, 6}
    # a fresh clone: every learner file is the skeleton, so earlier steps are the reference
    assert [track.source(n) for n in (2, 3, 4, 7)] == ["solutions"] * 4
    assert track.source(7, tested=True) == "learner"     # never the step under test
    for n in (2, 4, 7):
        with open(track_copy / "learner" / f"{track.STEPS[n]}.py", "a") as f:
            f.write("# started\n")
    assert [track.source(n) for n in (2, 3, 4, 5, 6, 7)] == [
        "learner", "solutions", "learner", "solutions", "solutions", "learner"]
    with pytest.raises(track.TrackError, match="step 3 is the step under test"):
        track.source(3, tested=True)
    monkeypatch.setenv("MINIGRAD_BUILD", "skeleton")
    assert (track.source(3, tested=True), track.source(3)) == ("skeleton", "solutions")
    monkeypatch.setenv("MINIGRAD_BUILD", "reference")
    assert track.source(3, tested=True) == "solutions"
    monkeypatch.setenv("MINIGRAD_BUILD_REFERENCE", "12")
    with pytest.raises(track.TrackError, match="names step 12"):
        track.reference_steps()
    monkeypatch.setenv("MINIGRAD_BUILD", "mine")
    with pytest.raises(track.TrackError, match="MINIGRAD_BUILD='mine'"):
        track.mode()


def test_skeleton_and_solution_define_the_same_names(monkeypatch):
    """The learner's file offers every name the reference has (and the tests use)."""
    import importlib
    monkeypatch.setenv("MINIGRAD_BUILD", "reference")      # their earlier steps: no copying
    for name in track.STEPS.values():
        skel = importlib.import_module(f"build_track.skeleton.{name}")
        ref = importlib.import_module(f"build_track.solutions.{name}")
        public = {k for k in vars(ref) if not k.startswith("_")}
        missing = public - set(vars(skel))
        assert not missing, f"skeleton/{name}.py lacks {sorted(missing)}"


def test_a_failure_message_points_at_the_bug():
    from build_track.check import assert_close, gradcheck
    with pytest.raises(AssertionError) as e:
        assert_close("conv2d: dW", np.array([[1.0, 2.0], [3.0, 4.0]]),
                     np.array([[1.0, 2.0], [3.5, 4.0]]))
    assert str(e.value) == ("conv2d: dW: shape (2, 2); 1 of 4 elements differ; first at index "
                            "(1, 0): got 3.0, expected 3.5 (difference 0.5, allowed 3.51e-10)")
    with pytest.raises(AssertionError, match=r"shape \(3,\), expected \(2,\)"):
        assert_close("db", np.zeros(3), np.zeros(2))
    T = track._load(2, "solutions").Tensor
    F = track._load(2, "solutions").Function

    class WrongSquare(F):            # d(x^2)/dx is 2x, not x
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, gy):
            return gy * self.x
    with pytest.raises(AssertionError) as e:
        gradcheck("square", lambda x: WrongSquare()(x), [T(np.array([[1.0, -2.0]]))])
    assert "square: the gradient with respect to input 0 (inputs of shapes (1, 2)) failed " \
           "the finite-difference check" in str(e.value)
    assert "first at index (0, 0): got " in str(e.value)


def test_step_9_finds_fashion_mnist_as_minigrad_does(tmp_path, monkeypatch):
    """build_track.data goes through minigrad.data: $MINIGRAD_DATA, checksums and all."""
    from helpers import make_split
    from minigrad.data import fashion_mnist as fm
    contents = make_split(tmp_path / "fm", 12, seed=0)
    monkeypatch.setattr(fm, "FILES", {k: hashlib.sha256(v).hexdigest()
                                      for k, v in contents.items()})
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "fm"))
    from build_track import data
    (x, y), (xt, yt) = data.fashion_mnist(download=False, train_subset=5)
    assert x.shape == (5, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    assert xt.shape == (12, 1, 28, 28)
    raw = np.frombuffer(gzip.decompress((tmp_path / "fm" / "train-images-idx3-ubyte.gz")
                                        .read_bytes())[16:], np.uint8).reshape(12, 28, 28)
    np.testing.assert_allclose(x[:, 0], raw[:5] / 255.0, rtol=1e-6)
    (tmp_path / "fm" / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"garbage"))
    with pytest.raises(Exception, match="t10k-labels"):
        data.fashion_mnist(download=False)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_reference_lenet_reaches_seventy_percent_in_five_epochs(tmp_path):
    """The track's last claim, with the reference code on the real data (minutes: 134 s of
    CPU time, 10 minutes of wall time on a busy 2-core machine; skips where Fashion-MNIST is
    not on the machine)."""
    from minigrad.data import find
    if find() is None:
        pytest.skip("Fashion-MNIST is not on this machine (make data fetches it)")
    proc, results = run_tests("reference", tmp_path, "build_track/tests/test_step09_lenet.py",
                              "-m", "slow", timeout=1700)
    assert [c[1] for c in results.get(9, [])] == ["passed"], _explain(proc)
