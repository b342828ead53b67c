"""PyTorch-style LeNet code runs unchanged on minigrad but for the import lines: the same
file (examples/pytorch_style.py) is run once as it is and once with PyTorch's imports."""
import types
from pathlib import Path

import numpy as np
import torch

import minigrad

SOURCE = Path(__file__).parent.parent / "examples" / "pytorch_style.py"


def load_module(source, name):
    module = types.ModuleType(name)
    exec(compile(source, str(SOURCE), "exec"), module.__dict__)
    return module


def separable_batches(to_tensor, n_batches=6, batch=32, seed=0):
    """Images whose class shows as a bright 7x7 patch at one of ten places: learnable fast."""
    g = np.random.default_rng(seed)
    out = []
    for _ in range(n_batches):
        y = g.integers(0, 10, batch)
        x = g.random((batch, 1, 28, 28)).astype(np.float32) * 0.2
        for k in range(10):
            r, c = divmod(k, 4)
            x[y == k, :, r * 7:r * 7 + 7, c * 7:c * 7 + 7] += 0.8
        out.append((to_tensor(x), to_tensor(y)))
    return out


def run(module, lib, capsys):
    lib.manual_seed(0)
    train_iter = separable_batches(lib.tensor)
    test_iter = separable_batches(lib.tensor, 2, seed=1)
    net = module.LeNet()
    text = str(net)
    optimizer = lib.optim.Adam(net.parameters(), lr=0.01)
    device = lib.device('cuda' if lib.cuda.is_available() else 'cpu')
    history = module.train(net, train_iter, test_iter, optimizer, device, num_epochs=3)
    printed = capsys.readouterr().out
    return text, history, printed


def test_same_code_runs_on_minigrad_and_on_pytorch(capsys):
    source = SOURCE.read_text()
    assert "import minigrad as torch" in source
    ours = run(load_module(source, "mg_style"), minigrad, capsys)
    torch_source = source.replace("import minigrad as torch", "import torch") \
                         .replace("from minigrad import nn", "from torch import nn")
    theirs = run(load_module(torch_source, "torch_style"), torch, capsys)

    assert ours[0] == theirs[0]                                      # print(net)
    for _, history, printed in (ours, theirs):
        assert printed.count("epoch ") == 3 and "training on" in printed
        losses = [h[0] for h in history]
        assert all(np.isfinite(losses)) and losses[-1] < losses[0]
