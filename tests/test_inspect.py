"""examples/inspect_lenet.py draws both pictures from a checkpoint of the LeNet example."""
import pytest

import minigrad
from examples import inspect_lenet
from examples.lenet import lenet
from helpers import make_split, trust


def test_writes_filters_and_feature_maps(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    trust(monkeypatch, make_split(tmp_path / "data", 8, seed=0))
    minigrad.save({"model": lenet().state_dict(), "epoch": 1}, tmp_path / "checkpoint.npz")
    inspect_lenet.main([str(tmp_path / "checkpoint.npz"), "--out", str(tmp_path / "out"),
                        "--images", "2", "--data", str(tmp_path / "data")])
    for name in ("filters.png", "feature_maps.png"):
        assert (tmp_path / "out" / name).read_bytes()[:4] == b"\x89PNG"
    assert "wrote" in capsys.readouterr().out


def test_a_file_that_is_not_the_examples_checkpoint_is_one_clear_error(tmp_path):
    minigrad.save({"weights": [1, 2]}, tmp_path / "other.npz")
    with pytest.raises(SystemExit, match="error: .*not a checkpoint of examples/lenet_fashion"):
        inspect_lenet.main([str(tmp_path / "other.npz"), "--out", str(tmp_path / "o")])
