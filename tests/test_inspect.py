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


def test_the_kernels_of_a_layer_share_one_scale_with_a_colour_bar(monkeypatch):
    """Each layer's kernels are drawn on one symmetric scale, its largest |weight| (a kernel
    scaled on its own would look as strong as any other), with a colour bar per layer; the
    feature maps all on the sigmoid's 0..1."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    net = lenet()
    with minigrad.no_grad():
        net[0].weight[0, 0, 0, 0] = 3.0              # one large weight sets conv1's scale
    scales, bars = [], []
    real_image = inspect_lenet._image
    monkeypatch.setattr(inspect_lenet, "_image", lambda ax, values, scale=None, title=None: (
        scales.append(scale), real_image(ax, values, scale, title))[1])
    monkeypatch.setattr(plt, "savefig", lambda *a, **k: None)
    import matplotlib.figure
    real_colorbar = matplotlib.figure.FigureBase.colorbar
    monkeypatch.setattr(matplotlib.figure.FigureBase, "colorbar", lambda self, mappable, **k: (
        bars.append(mappable.get_clim()), real_colorbar(self, mappable, **k))[1])
    inspect_lenet.draw_filters(net, "/dev/null", plt)
    w2_bound = float(np.abs(net[3].weight.detach().numpy()).max())
    assert scales[:6] == [(-3.0, 3.0)] * 6
    assert len(scales) == 6 + 96 and set(scales[6:]) == {(-w2_bound, w2_bound)}
    assert bars == [(-3.0, 3.0), (-w2_bound, w2_bound)]
    assert inspect_lenet.signed_scale(np.zeros(3)) == (-1.0, 1.0)
