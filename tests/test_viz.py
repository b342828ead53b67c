"""minigrad.viz.dot: the recorded graph of a LeNet step as DOT text."""
import collections
import re
import shutil

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
        assert f'label="{name}\\n{shape}\\nfloat32"' in text
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
