"""The track's tests: which implementation runs (build_track/track.py) is said in the
header, and a step that is not written yet fails with its own short message, not a
traceback from deep inside."""
import re

import pytest

from build_track import track


def _steps(items_or_paths):
    found = set()
    for p in items_or_paths:
        m = re.search(r"test_step(\d\d)_", str(p))
        if m:
            found.add(int(m.group(1)))
    return sorted(found)


def pytest_report_header(config):
    lines = track.describe(_steps(config.args))
    return ["minigrad build track: " + lines[0], *("  " + line for line in lines[1:])]


def pytest_configure(config):
    """Refuse a learner run whose REFERENCE names a step under test (before any import)."""
    try:
        clash = []
        if track.mode() == "learner":
            clash = sorted(set(_steps(config.args)) & track.reference_steps())
    except track.TrackError as e:
        raise pytest.UsageError(str(e)) from None
    if clash:
        raise pytest.UsageError(
            f"REFERENCE names step {clash[0]}, which these tests check: they would test the "
            "reference, not your code. Leave it out of REFERENCE.")
    # The tests' arrays are tiny: one thread is fastest, and on a busy machine PyTorch's
    # second thread waits for a core (an epoch of 3 batches: 24 s with two threads, 0.5 s
    # with one).
    import torch
    torch.set_num_threads(1)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A NotImplementedError("step N not done yet: ...") becomes that one line (and where
    in the test it was reached), not a traceback."""
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is None or not call.excinfo.errisinstance(NotImplementedError):
        return
    message = str(call.excinfo.value)
    if "not done yet" not in message:
        return
    text = f"{message}\n  (reached from {item.nodeid}; the step's text is in docs/build/README.md)"
    m, tested = re.match(r"step (\d+) ", message), _steps([item.path])
    if m and tested and int(m.group(1)) != tested[0]:
        text += (f"\n  step {m.group(1)} is an earlier step this one builds on: finish it, or "
                 f"run this one with the reference for it: make build STEP={tested[0]} "
                 f"REFERENCE={m.group(1)}")
    report.longrepr = text
