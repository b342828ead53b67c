"""examples/lenet_fashion.py end to end on a small synthetic Fashion-MNIST: the epoch lines,
the artifacts, determinism, and a resumed run matching an uninterrupted one."""
import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import make_split, trust
from minigrad.data import fashion_mnist as fm

EXAMPLE = Path(__file__).parent.parent / "examples" / "lenet_fashion.py"


@pytest.fixture
def data(tmp_path, monkeypatch):
    contents = make_split(tmp_path / "data", 300, seed=0)
    trust(monkeypatch, contents)
    return tmp_path / "data"


def run(example, data, out, *extra):
    return example.main(["--device", "cpu", "--data", str(data), "--out", str(out),
                         "--batch-size", "64", "--train-subset", "256", "--test-subset", "128",
                         *extra])


def numbers(history):
    return [(h["epoch"], h["loss"], h["train_acc"], h["test_acc"]) for h in history]


def test_one_epoch_writes_its_artifacts(example, data, tmp_path, capsys):
    history = run(example, data, tmp_path / "run", "--epochs", "1")
    printed = capsys.readouterr().out
    assert "device: cpu" in printed
    line = [ln for ln in printed.splitlines() if ln.startswith("epoch 1,")][0]
    parts = line.split(", ")
    assert [p.split(" ")[0] for p in parts[:-2]] == ["epoch", "loss", "train", "test", "time"]
    assert parts[-3].endswith(" sec")
    assert parts[-2].endswith(" images/sec") and float(parts[-2].split()[0]) > 0
    assert parts[-1] == "eager"
    out = tmp_path / "run"
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert rows[0].keys() == {"epoch", "loss", "train_acc", "test_acc", "seconds"}
    assert json.loads((out / "metrics.json").read_text()) == history
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "checkpoint.npz").stat().st_size > 100_000


def test_same_seed_same_numbers_and_resume_matches(example, data, tmp_path):
    straight = run(example, data, tmp_path / "a", "--epochs", "2")
    again = run(example, data, tmp_path / "b", "--epochs", "2")
    assert numbers(straight) == numbers(again)
    run(example, data, tmp_path / "c", "--epochs", "1")
    resumed = example.main(["--device", "cpu", "--data", str(data), "--epochs", "2",
                            "--resume", str(tmp_path / "c" / "checkpoint.npz")])
    assert numbers(resumed) == numbers(straight)


def test_cuda_request_without_gpu_exits_with_the_reason(example, data, tmp_path, capsys):
    if example.minigrad.cuda.is_available():
        pytest.skip("a GPU is usable here")
    with pytest.raises(SystemExit) as e:
        run(example, data, tmp_path / "x", "--device", "cuda")
    assert e.value.code == 2
    assert capsys.readouterr().err.startswith("error: --device cuda: ")


def test_on_the_gpu_captured_epochs_give_the_eager_numbers(example, data, tmp_path, capsys,
                                                           gpu_device, monkeypatch):
    """By default the GPU run replays each step as a CUDA graph (after 3 eager ones; the
    smaller last batch, 8 images, gets its own graph in epoch 4); --eager runs them op by op.
    Same loss, accuracies, epoch by epoch, and the same checkpoint. Small batches: on the
    emulator every thread of every kernel runs on the CPU."""
    # No curves.png here (the CPU test checks it): matplotlib's font library aborts under
    # the AddressSanitizer runtime that make test-emulated preloads.
    monkeypatch.setattr(example, "plot_curves", lambda history, path: None)
    made = []                                   # every graphed() step the example makes
    real_graphed = example.minigrad.cuda.graphed

    def recording_graphed(fn, *args, **kw):
        made.append(real_graphed(fn, *args, **kw))
        return made[-1]
    monkeypatch.setattr(example.minigrad.cuda, "graphed", recording_graphed)

    def run_on_gpu(name, *extra):
        history = example.main(["--device", "cuda", "--data", str(data), "--out",
                                str(tmp_path / name), "--batch-size", "16", "--train-subset",
                                "40", "--test-subset", "24", "--epochs", "4", *extra])
        lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("epoch")]
        return history, lines
    captured, captured_lines = run_on_gpu("graph")
    # Really captured and replayed, not eager under a label: 40 images are batches of 16, 16
    # and 8 each epoch (12 steps). The 16s: 3 eager, a capture in epoch 2, replayed there
    # and in epochs 3 and 4 (5 replays); the 8s: eager in epochs 1-3, captured and replayed
    # in epoch 4.
    assert len(made) == 1 and made[0].calls == {"eager": 6, "capture": 2, "replay": 6}
    eager, eager_lines = run_on_gpu("eager", "--eager")
    assert len(made) == 1                       # --eager wraps nothing
    assert all(ln.endswith(", CUDA graph") for ln in captured_lines) and len(captured_lines) == 4
    assert all(ln.endswith(", eager") for ln in eager_lines)
    assert numbers(captured) == numbers(eager)
    a = dict(np.load(tmp_path / "graph" / "checkpoint.npz"))
    b = dict(np.load(tmp_path / "eager" / "checkpoint.npz"))
    assert a.keys() == b.keys()
    for key in a.keys() - {"__structure__"}:      # the arrays (the structure has the times)
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.slow
def test_example_as_a_script_on_real_data(tmp_path):
    """The real files, as a user runs it (skips where Fashion-MNIST is not on the machine)."""
    import subprocess
    if fm.find() is None:
        pytest.skip("Fashion-MNIST is not on this machine (make data fetches it)")
    out = subprocess.run([sys.executable, str(EXAMPLE), "--device", "cpu", "--epochs", "1",
                          "--train-subset", "4096", "--out", str(tmp_path / "r")],
                         capture_output=True, text=True, check=True).stdout
    assert "epoch 1, loss" in out
