"""Which implementation of each step runs: yours, the reference, or the untouched skeleton.

Every step reaches an earlier one through ``step(n)`` (``Tensor = step(2).Tensor``), never by
importing a file directly, so that one switch decides, for the whole process, where each
step's code comes from:

    MINIGRAD_BUILD=learner      (the default) your files in build_track/learner/, except the
                                steps listed in MINIGRAD_BUILD_REFERENCE (``make build STEP=7
                                REFERENCE=3,5`` sets it to "3,5"), which come from solutions/,
                                and an earlier step whose file is still the untouched
                                skeleton (not started: it comes from solutions/ too, and the
                                run's header says so), so that no step waits for another
    MINIGRAD_BUILD=reference    every step from solutions/ (make test: the tests pass)
    MINIGRAD_BUILD=skeleton     the step under test from skeleton/, every other step from
                                solutions/ (make test: each step's tests fail, with that
                                step's own "not done yet", whatever the others' state)

The tests load the step they test with ``under_test(n)``: that is never the reference in a
learner run (naming the step under test in REFERENCE is refused), so a test cannot pass
without your code."""
import importlib
import os
import shutil
from pathlib import Path

HERE = Path(__file__).parent
STEPS = {
    1: "step01_scalar",
    2: "step02_graph",
    3: "step03_broadcast",
    4: "step04_layers",
    5: "step05_corr2d",
    6: "step06_im2col",
    7: "step07_maxpool",
    8: "step08_adam",
    9: "step09_lenet",
}
FOLDERS = {"learner": "learner", "reference": "solutions", "skeleton": "skeleton"}


class TrackError(RuntimeError):
    """A switch set to something the track does not know."""


def mode():
    """learner, reference or skeleton (MINIGRAD_BUILD)."""
    m = os.environ.get("MINIGRAD_BUILD", "learner") or "learner"
    if m not in FOLDERS:
        raise TrackError(f"MINIGRAD_BUILD={m!r}: expected one of {', '.join(FOLDERS)}")
    return m


def reference_steps():
    """The steps MINIGRAD_BUILD_REFERENCE takes from the reference ("3,5", "1-4" or "all")."""
    text = os.environ.get("MINIGRAD_BUILD_REFERENCE", "").replace(" ", "")
    if text == "all":
        return set(STEPS)
    steps = set()
    for part in filter(None, text.split(",")):
        lo, _, hi = part.partition("-")
        try:
            first, last = int(lo), int(hi or lo)
        except ValueError:
            raise TrackError(f"MINIGRAD_BUILD_REFERENCE={text!r}: expected step numbers like "
                             "3,5 or 1-4") from None
        bad = [n for n in (first, last) if n not in STEPS]
        if bad:
            raise TrackError(f"MINIGRAD_BUILD_REFERENCE names step {bad[0]}; the steps are "
                             f"1 to {max(STEPS)}")
        steps.update(range(first, last + 1))
    return steps


def source(n, tested=False):
    """The folder step n is loaded from: as the step under test, or as an earlier step."""
    m = mode()
    if m == "reference":
        return "solutions"
    if m == "skeleton":
        return "skeleton" if tested else "solutions"
    if n in reference_steps():
        if tested:
            raise TrackError(f"step {n} is the step under test and also in REFERENCE: its "
                             "tests would run the reference, not your code")
        return "solutions"
    if not tested and untouched(n):
        return "solutions"
    return "learner"


def untouched(n):
    """Whether your file for step n is still the skeleton's, byte for byte (not started)."""
    ensure_learner_files()
    name = f"{STEPS[n]}.py"
    return (HERE / "learner" / name).read_bytes() == (HERE / "skeleton" / name).read_bytes()


def _load(n, folder):
    if n not in STEPS:
        raise TrackError(f"there is no step {n}; the steps are 1 to {max(STEPS)}")
    if folder == "learner":
        ensure_learner_files()
    return importlib.import_module(f"build_track.{folder}.{STEPS[n]}")


def step(n):
    """Step n's module, as an earlier step used by a later one (or by a test's set-up)."""
    return _load(n, source(n))


def under_test(n):
    """Step n's module as the step its tests check: yours (or the skeleton in make test's
    check of the skeletons, or the reference in its check of the solutions)."""
    return _load(n, source(n, tested=True))


def describe(tested):
    """One line per fact for the test run's header: where each step comes from."""
    m = mode()
    if m == "reference":
        return ["every step from build_track/solutions/ (the reference)"]
    if m == "skeleton":
        return ["the steps under test from build_track/skeleton/ (untouched), the others "
                "from build_track/solutions/"]
    ref = sorted(reference_steps())
    lines = [f"step {', '.join(map(str, tested)) or '?'} under test: your code in "
             "build_track/learner/"]
    if ref:
        lines.append(f"REFERENCE: step{'s' if len(ref) > 1 else ''} "
                     f"{', '.join(map(str, ref))} from build_track/solutions/ (the reference), "
                     "not your code")
    earlier = [n for n in STEPS if n < max(tested, default=0) and n not in ref]
    fresh = [n for n in earlier if untouched(n)]
    if fresh:
        lines.append(f"not started (your file is the untouched skeleton), so from the "
                     f"reference: step{'s' if len(fresh) > 1 else ''} "
                     f"{', '.join(map(str, fresh))}")
    if not ref and not fresh:
        lines.append("every earlier step from your code (REFERENCE=3,5 would take steps 3 "
                     "and 5 from the reference)")
    return lines


def ensure_learner_files():
    """Copy the skeleton into build_track/learner/ the first time: never over a file."""
    dest = HERE / "learner"
    dest.mkdir(exist_ok=True)
    for name in ["__init__.py", *(f"{s}.py" for s in STEPS.values())]:
        target = dest / name
        if not target.exists():
            shutil.copyfile(HERE / "skeleton" / name, target)
