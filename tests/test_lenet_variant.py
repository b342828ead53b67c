"""scripts/lenet_variant.py: the example's LeNet with ReLU in place of every sigmoid, and
nothing else changed, trained by the example's own loop (the runs of docs/why_075.md)."""
import importlib.util
from pathlib import Path

from test_data import make_split, trust

import minigrad
from examples import lenet_fashion
from examples.lenet import lenet

ROOT = Path(__file__).resolve().parents[1]


def variant_module():
    spec = importlib.util.spec_from_file_location("lenet_variant",
                                                  ROOT / "scripts" / "lenet_variant.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_relu_lenet_is_the_example_with_relu_for_sigmoid():
    relu, sigmoid = lenet(variant_module()._WithReLU()), lenet()
    assert [type(m).__name__ for m in relu] == [
        "ReLU" if type(m).__name__ == "Sigmoid" else type(m).__name__ for m in sigmoid]
    assert [(n, p.shape) for n, p in relu.named_parameters()] == \
        [(n, p.shape) for n, p in sigmoid.named_parameters()]


def test_relu_run_trains_with_the_example_loop(tmp_path, monkeypatch, capsys):
    trust(monkeypatch, make_split(tmp_path / "data", 16, seed=1))
    monkeypatch.setattr(lenet_fashion, "lenet", lenet_fashion.lenet)   # restored afterwards
    history = variant_module().main(["--activation", "relu", "--device", "cpu", "--epochs",
                                     "1", "--batch-size", "8", "--data",
                                     str(tmp_path / "data"), "--out", str(tmp_path / "run")])
    assert len(history) == 1 and "activation: relu" in capsys.readouterr().out
    trained = lenet_fashion.lenet()                    # what the loop built its model with
    assert "ReLU" in repr(trained) and "Sigmoid" not in repr(trained)
    saved = minigrad.load(tmp_path / "run" / "checkpoint.npz")["model"]
    assert set(saved) == set(dict(lenet().named_parameters()))
