"""MINIGRAD_DEBUG=1: one trace line per op, forward and backward, and a summary at exit."""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad
from helpers import emulated_gpu
from minigrad import debug, nn

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^\[minigrad\] (forward|backward) +(\w+) +(.*?) -> (.*?) +(cpu|cuda) +"
                  r"([0-9.]+) ms$")

STEP = """
import minigrad
from examples.lenet import lenet
minigrad.manual_seed(0)
net = lenet()
loss = minigrad.nn.CrossEntropyLoss()(net(minigrad.randn(4, 1, 28, 28)),
                                      minigrad.tensor([1, 2, 3, 4]))
loss.backward()
print("done")
"""


@pytest.fixture
def tracing(monkeypatch):
    """The trace on for one test, without registering the exit summary in pytest's process."""
    monkeypatch.setattr(debug, "_registered", [True])
    debug.reset()
    debug.enable()
    yield
    debug.enable(False)
    debug.reset()


def traced(text):
    return [LINE.match(line).groups() for line in text.splitlines() if LINE.match(line)]


def test_env_var_traces_a_lenet_step_and_summarises_at_exit():
    env = dict(os.environ, MINIGRAD_DEBUG="1", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", STEP], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "done\n"                       # the trace goes to stderr only
    lines = traced(done.stderr)
    forward = [name for phase, name, *_ in lines if phase == "forward"]
    backward = [name for phase, name, *_ in lines if phase == "backward"]
    assert forward == ["Conv2d", "Sigmoid", "MaxPool2d", "Conv2d", "Sigmoid", "MaxPool2d",
                       "Reshape", "Linear", "Sigmoid", "Linear", "Sigmoid", "Linear",
                       "CrossEntropy"]
    assert backward == [name + "Backward" for name in reversed(forward)]
    first = lines[0]
    assert first[2:5] == ("(4,1,28,28) (6,1,5,5) (6,)", "(4,6,24,24)", "cpu")
    last = lines[-1]                      # conv1's backward: no gradient for the image
    assert last[1:4] == ("Conv2dBackward", "(4,6,24,24)", "- (6,1,5,5) (6,)")
    summary = done.stderr[done.stderr.index("debug summary"):]
    assert re.search(r"forward +Sigmoid +4 +[0-9.]+", summary)
    assert re.search(r"backward +Conv2dBackward +2 +[0-9.]+", summary)
    assert re.search(r"all +26 +[0-9.]+", summary)


def test_off_by_default_prints_nothing():
    env = {k: v for k, v in os.environ.items() if k != "MINIGRAD_DEBUG"}
    done = subprocess.run([sys.executable, "-c", STEP], capture_output=True, text=True,
                          env=dict(env, PYTHONPATH=str(ROOT)), cwd=ROOT, timeout=120)
    assert done.returncode == 0 and "[minigrad]" not in done.stderr, done.stderr


def test_enable_inside_a_session(tracing, capsys):
    x = minigrad.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    (x.sigmoid() * 2).sum().backward()
    err = capsys.readouterr().err
    names = [(phase, name) for phase, name, *_ in traced(err)]
    assert names == [("forward", "Sigmoid"), ("forward", "Mul"), ("forward", "Sum"),
                     ("backward", "SumBackward"), ("backward", "MulBackward"),
                     ("backward", "SigmoidBackward")]
    assert re.search(r"forward +Sum +1 +[0-9.]+", debug.summary())
    debug.enable(False)
    x.sigmoid()
    assert capsys.readouterr().err == ""


def test_the_gpu_is_synchronised_around_each_op(tracing, capsys, monkeypatch):
    """Through the host emulator's cuda device: the line says cuda, and the stream is waited
    for before and after the op (so the time is the kernel's, not the launch's)."""
    from minigrad.emulate import capture
    waits = []
    monkeypatch.setattr(capture.Stream, "synchronize", lambda self: waits.append(1))
    with emulated_gpu():
        x = minigrad.tensor(np.linspace(-2, 2, 6).reshape(2, 3), device="cuda")
        assert x.device.type == "cuda"
        waits.clear()                     # (making x may have waited too)
        nn.functional.sigmoid(x)
    lines = [g for g in traced(capsys.readouterr().err) if g[1] == "Sigmoid"]
    assert lines and lines[0][2:5] == ("(2,3)", "(2,3)", "cuda")
    assert len(waits) >= 2


LAUNCH = re.compile(r"^\[minigrad\] launch +(\S+) +grid \((\d+),(\d+),(\d+)\) "
                    r"block \((\d+),(\d+),(\d+)\) shared (\d+) B$")


def test_level_two_traces_each_kernel_launch(tracing, capsys):
    """MINIGRAD_DEBUG=2: a line per launch with the kernel, grid, block and static shared
    memory (through the host emulator): a sigmoid is one sigmoid_fwd launch of 256-thread
    blocks and no shared memory; the ladder's tiled GEMM a 16x16 block with two 16x16 float
    tiles (2 KiB) and one block per output tile."""
    from minigrad.backend.cuda import ladder
    debug.enable(launches=True)
    with emulated_gpu():
        import cupy
        x = minigrad.tensor(np.linspace(-2, 2, 6).reshape(2, 3), device="cuda")
        nn.functional.sigmoid(x)
        ladder.gemm("tiled", cupy.asarray(np.ones((20, 5), np.float32)),
                    cupy.asarray(np.ones((5, 40), np.float32)))
    launches = [LAUNCH.match(line).groups() for line in capsys.readouterr().err.splitlines()
                if LAUNCH.match(line)]
    assert ("sigmoid_fwd<double>", "1", "1", "1", "256", "1", "1", "0") in launches
    assert ("gemm_tiled<float>", "3", "2", "1", "16", "16", "1", str(2 * 16 * 16 * 4)) \
        in launches
    assert "launch   gemm_tiled<float>" in debug.summary()


def test_level_one_traces_no_launch(tracing, capsys):
    with emulated_gpu():
        nn.functional.sigmoid(minigrad.tensor(np.ones(3), device="cuda"))
    err = capsys.readouterr().err
    assert "Sigmoid" in err and "launch" not in err
