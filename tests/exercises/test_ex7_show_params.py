"""Exercise 7: --show-shapes also counts each layer's parameters."""
import importlib.util
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.exercise
EXAMPLE = Path(__file__).parents[2] / "examples" / "lenet_fashion.py"


def test_show_shapes_counts_parameters(capsys):
    spec = importlib.util.spec_from_file_location("lenet_fashion", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    example.main(["--device", "cpu", "--show-shapes", "--batch-size", "1"])
    lines = capsys.readouterr().out.splitlines()
    layers = [ln for ln in lines if "output shape" in ln]
    counts = [re.search(r"params ([\d,]+)$", ln) for ln in layers]
    assert all(counts), "each layer line must end in 'params N':\n" + "\n".join(layers)
    want = [sum(p.numel() for p in layer.parameters()) for layer in example.lenet()]
    assert [int(c.group(1).replace(",", "")) for c in counts] == want
    assert lines[-1] == f"total params {sum(want):,}"
