"""minigrad.viz: the recorded graph as DOT text (with the values and gradients of small
tensors), as a tree of text, and rendered by Graphviz or, without it, written as text."""
import collections
import re
import shutil
import warnings

import numpy as np
import pytest

import minigrad
from examples.lenet import lenet


def lenet_loss():
    net = lenet()
    x = minigrad.tensor(np.random.default_rng(0).random((2, 1, 28, 28)), dtype="float32")
    y = minigrad.tensor([3, 7])
    return minigrad.nn.CrossEntropyLoss()(net(x), y), net


def test_dot_of_a_lenet_loss_has_every_op_and_parameter():
    loss, net = lenet_loss()
    text = minigrad.viz.dot(loss, params=dict(net.named_parameters()))
    assert text.startswith("digraph minigrad {") and text.rstrip().endswith("}")
    ops = collections.Counter(re.findall(r'op\d+ \[label="(\w+)"', text))
    assert ops == {"Conv2d": 2, "Sigmoid": 4, "MaxPool2d": 2, "Reshape": 1, "Linear": 3,
                   "CrossEntropy": 1}
    for name, p in net.named_parameters():
        shape = "×".join(map(str, p.shape))
        assert f'label="{name}\\n{shape}\\nfloat32' in text    # (small ones: and data)
    assert text.count("#c8e6c9") == 10            # the ten parameters: leaves with grad
    assert 'label="2×1×28×28\\nfloat32", style=filled, fillcolor="#eeeeee"' in text
    # every edge joins two declared nodes
    declared = set(re.findall(r"^  (\w+) \[", text, re.M))
    for a, b in re.findall(r"^  (\w+) -> (\w+);", text, re.M):
        assert a in declared and b in declared


def test_dot_rejects_what_is_not_a_tensor():
    with pytest.raises(TypeError, match="minigrad Tensor"):
        minigrad.viz.dot(np.zeros(3))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_dot_text_is_valid_graphviz(tmp_path):
    import subprocess
    loss, _ = lenet_loss()
    src = tmp_path / "g.dot"
    src.write_text(minigrad.viz.dot(loss))
    subprocess.run(["dot", "-Tsvg", str(src), "-o", str(tmp_path / "g.svg")], check=True)
    assert (tmp_path / "g.svg").read_text().lstrip().startswith("<?xml")


def neuron():
    """σ(w · x + b) after backward, with the gradients worked out by hand."""
    x = minigrad.tensor([1.0, -2.0], dtype="float64")
    w = minigrad.tensor([0.5, -0.25], dtype="float64", requires_grad=True)
    b = minigrad.tensor(0.75, dtype="float64", requires_grad=True)
    out = ((w * x).sum() + b).sigmoid()
    out.backward()
    y = 1 / (1 + np.exp(-1.75))                   # z = 0.5 + 0.5 + 0.75
    return out, {"x": x, "w": w, "b": b}, y, y * (1 - y)


def test_small_tensors_show_their_values_and_leaves_their_gradients():
    out, params, y, dy_dz = neuron()
    text = minigrad.viz.dot(out, params=params)
    assert f'data {y:.4g}"' in text                               # the output, no grad
    assert f"w\\n2\\nfloat64\\ndata [0.5, -0.25]\\ngrad [{dy_dz:.4g}, {-2 * dy_dz:.4g}]" in text
    assert f"b\\nscalar\\nfloat64\\ndata 0.75\\ngrad {dy_dz:.4g}" in text
    assert "x\\n2\\nfloat64\\ndata [1, -2]\"" in text             # no grad: not required
    assert text.count("\\ngrad ") == 2                             # intermediates keep none
    assert "data" not in minigrad.viz.dot(out, params=params, values=0)


def test_large_tensors_show_no_values():
    loss, net = lenet_loss()
    text = minigrad.viz.dot(loss, params=dict(net.named_parameters()))
    assert re.search(r'label="0.weight\\n6×1×5×5\\nfloat32", ', text)   # 150 values: none
    assert re.search(r'label="0.bias\\n6\\nfloat32\\ndata \[', text)     # 6: shown


def test_the_same_graph_gives_the_same_text():
    """Nodes are numbered in the order of the walk, not by address: two builds of one
    graph give one text (what lets docs/figures/graph.dot be checked)."""
    assert minigrad.viz.dot(neuron()[0]) == minigrad.viz.dot(neuron()[0])
    names = re.findall(r"^  (t\d+) \[", minigrad.viz.dot(neuron()[0]), re.M)
    assert sorted(names) == [f"t{k}" for k in range(7)]         # 3 leaves, 4 results


def test_text_is_a_tree_with_each_shared_tensor_once():
    a = minigrad.tensor(2.0, requires_grad=True)
    loss = (a * a + a).sigmoid()                           # a is used three times
    lines = minigrad.viz.text(loss, params={"a": a}).splitlines()
    assert lines[0].startswith("Sigmoid → scalar · float32 · data ")
    assert lines[1].startswith("└─ Add → ")
    assert lines[2].startswith("   ├─ Mul → ")
    assert sum("a · scalar" in ln for ln in lines) == 3
    assert sum(ln.endswith("(see above)") for ln in lines) == 2
    with pytest.raises(TypeError, match="minigrad Tensor"):
        minigrad.viz.text([1, 2])


def test_render_without_graphviz_writes_the_text_and_says_so(tmp_path, monkeypatch):
    out, params, _, _ = neuron()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.warns(UserWarning, match="dot program is not installed"):
        written = minigrad.viz.render(out, tmp_path / "g.png", params=params)
    assert written == tmp_path / "g.txt"
    assert written.read_text() == minigrad.viz.text(out, params=params)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_render_with_graphviz_writes_a_png(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        written = minigrad.viz.render(neuron()[0], tmp_path / "g", format="png")
    assert written == tmp_path / "g.png"
    assert written.read_bytes()[:4] == b"\x89PNG"
