"""docs/figures/ is what scripts/figures.py draws today: each picture is regenerated into a
temporary folder and compared with the committed one, so a change to the code the pictures
show (im2col, col2im, max-pool, viz.dot, the trained model) cannot leave them stale.

The comparison is of pixels, with a small tolerance, not of bytes: another matplotlib or
FreeType version may draw a glyph's edge a shade differently. The tolerance is tight — one
digit changed in one cell moves about 50 pixels by more than a quarter of full scale, and
that fails (test_the_comparison_sees_a_changed_number) — so a very different matplotlib
may fail it too; then regenerate with `python scripts/figures.py` and look at the diff.
"""
import importlib.util
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"
MEAN_TOLERANCE = 0.002         # mean |difference| per channel, on a 0..1 scale
CHANGED_PIXELS = 16            # pixels allowed to differ by more than 0.25 in some channel


@pytest.fixture(scope="module")
def figures_module():
    pytest.importorskip("matplotlib", reason="the figures need matplotlib")
    spec = importlib.util.spec_from_file_location("figures", ROOT / "scripts" / "figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def differences(a, b):
    """(mean |a - b|, number of pixels where some channel differs by more than 0.25)."""
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    return float(diff.mean()), int((diff.max(axis=-1) > 0.25).sum())


def assert_same_picture(fresh, committed):
    import matplotlib.image as mpimg
    assert committed.exists(), f"{committed.name} is not committed: run scripts/figures.py"
    a, b = mpimg.imread(fresh), mpimg.imread(committed)
    assert a.shape == b.shape, (f"{committed.name}: {b.shape} committed, {a.shape} drawn now; "
                                "run python scripts/figures.py")
    mean, changed = differences(a, b)
    assert mean <= MEAN_TOLERANCE and changed <= CHANGED_PIXELS, (
        f"{committed.name} is stale (mean difference {mean:.5f}, {changed} pixels "
        "changed): run python scripts/figures.py and commit docs/figures/")


def needs(name):
    """Why figure ``name`` cannot be drawn here, or None."""
    if name == "graph" and shutil.which("dot") is None:
        return "Graphviz's dot program is not installed (apt-get install graphviz)"
    if name in ("saturation", "feature_maps_trained"):
        from minigrad.data.fashion_mnist import find
        if find(None) is None:
            return "the Fashion-MNIST test set is not here (set MINIGRAD_DATA)"
    return None


@pytest.mark.parametrize("name", ["im2col", "col2im", "maxpool", "gemm_tile", "graph",
                                  "saturation", "feature_maps_trained"])
def test_committed_figure_is_what_the_script_draws(name, figures_module, tmp_path):
    assert name in figures_module.FIGURES
    why = needs(name)
    if why:
        pytest.skip(why)
    figures_module.main([name, "--out", str(tmp_path)])
    assert_same_picture(tmp_path / f"{name}.png", FIGURES / f"{name}.png")


def test_graph_dot_text_is_current(figures_module, tmp_path):
    """The DOT text behind graph.png, exactly: written whether or not Graphviz is here."""
    out, params = figures_module.neuron_graph()
    text = __import__("minigrad").viz.dot(out, params=params, rankdir="LR")
    assert (FIGURES / "graph.dot").read_text() == text


def test_the_comparison_sees_a_changed_number(figures_module, tmp_path, monkeypatch):
    """The tolerance is not so loose that a stale picture passes: im2col drawn from a
    column matrix with one entry changed fails the check."""
    real = figures_module.cpu.im2col

    def one_wrong(*args):
        cols = real(*args).copy()
        cols[0, 2, 5] += 1
        return cols
    monkeypatch.setattr(figures_module.cpu, "im2col", one_wrong)
    monkeypatch.setattr(figures_module.F, "conv2d", lambda x, w: type(
        "T", (), {"numpy": lambda self: w.numpy().reshape(1, 4) @ one_wrong(
            x.numpy(), 2, 2, 1, 0)[0]})())
    figures_module.main(["im2col", "--out", str(tmp_path)])
    with pytest.raises(AssertionError, match="stale"):
        assert_same_picture(tmp_path / "im2col.png", FIGURES / "im2col.png")


def test_every_figure_is_shown_in_the_docs():
    shown = "".join(p.read_text() for p in (ROOT / "docs").glob("*.md"))
    for png in sorted(FIGURES.glob("*.png")):
        assert re.search(rf"\(figures/{re.escape(png.name)}\)", shown), (
            f"docs/figures/{png.name} is not shown in any page of docs/")


def test_pngs_carry_no_date_or_software(figures_module):
    """Deterministic files: no tEXt chunk with a date or the matplotlib version."""
    for png in sorted(FIGURES.glob("*.png")):
        data = png.read_bytes()
        for word in (b"Creation Time", b"matplotlib version", b"Software"):
            if png.name == "graph.png" and word == b"Software":
                continue                          # Graphviz's own PNG writer
            assert word not in data, (png.name, word)
