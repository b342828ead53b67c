"""The example's instruments: --show-shapes (the shape walk), images per second on the epoch
line (tests/test_example.py), --log-interval."""
import re
from pathlib import Path

import pytest

from helpers import make_split, trust

EXAMPLE = Path(__file__).parent.parent / "examples" / "lenet_fashion.py"


def test_show_shapes_walks_every_layer_and_exits(example, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                       # it must not create a run folder
    assert example.main(["--device", "cpu", "--show-shapes", "--batch-size", "3"]) is None
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "input      shape: (3, 1, 28, 28)"
    walk = [re.match(r"(\w+) +output shape: (\(.*?\))", ln).groups()
            for ln in lines if "output shape" in ln]
    assert walk == [("Conv2d", "(3, 6, 24, 24)"), ("Sigmoid", "(3, 6, 24, 24)"),
                    ("MaxPool2d", "(3, 6, 12, 12)"), ("Conv2d", "(3, 16, 8, 8)"),
                    ("Sigmoid", "(3, 16, 8, 8)"), ("MaxPool2d", "(3, 16, 4, 4)"),
                    ("Flatten", "(3, 256)"), ("Linear", "(3, 120)"), ("Sigmoid", "(3, 120)"),
                    ("Linear", "(3, 84)"), ("Sigmoid", "(3, 84)"), ("Linear", "(3, 10)")]
    assert len(walk) == len(example.lenet())
    assert not (tmp_path / "runs").exists()


def test_log_interval_prints_the_running_loss(example, capsys, tmp_path, monkeypatch):
    contents = make_split(tmp_path / "data", 300, seed=0)
    trust(monkeypatch, contents)
    example.main(["--device", "cpu", "--data", str(tmp_path / "data"), "--out",
                            str(tmp_path / "run"), "--batch-size", "32", "--train-subset",
                            "256", "--test-subset", "64", "--epochs", "1",
                            "--log-interval", "3"])
    logged = [ln for ln in capsys.readouterr().out.splitlines() if "running loss" in ln]
    assert [int(re.search(r"batch (\d+),", ln).group(1)) for ln in logged] == [3, 6]
    last = float(logged[-1].split()[-1])
    assert 0 < last < 10


def test_log_interval_must_be_positive(example, capsys):
    with pytest.raises(SystemExit) as e:
        example.main(["--log-interval", "0"])
    assert e.value.code == 2
    assert "--log-interval" in capsys.readouterr().err
