"""Step 9: LeNet with your engine: the same logits and gradients as PyTorch's LeNet with
the same weights, an accuracy counted right, and training that learns (a small synthetic
task here; the slow test trains on Fashion-MNIST itself)."""
import numpy as np
import pytest
import torch
from torch import nn

from build_track import data
from build_track.check import assert_close
from build_track.track import step, under_test

S = under_test(9)
Tensor = step(2).Tensor


def torch_lenet(params):
    """examples/lenet_fashion.py's network in PyTorch, holding copies of ``params``."""
    net = nn.Sequential(nn.Conv2d(1, 6, 5), nn.Sigmoid(), nn.MaxPool2d(2, 2),
                        nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.MaxPool2d(2, 2), nn.Flatten(),
                        nn.Linear(256, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
                        nn.Linear(84, 10)).double()
    names = {"0": "conv1", "3": "conv2", "7": "fc1", "9": "fc2", "11": "fc3"}
    with torch.no_grad():
        for name, p in net.named_parameters():
            layer, kind = name.split(".")
            p.copy_(torch.tensor(params[f"{names[layer]}.{kind}"].data))
    return net, names


def test_lenet_logits_loss_and_gradients_match_pytorch():
    params = S.init_lenet(seed=3, dtype=np.float64)
    x, labels = data.synthetic(5, seed=1)
    x = x.astype(np.float64)
    logits = S.lenet(params, Tensor(x))
    net, names = torch_lenet(params)
    want = net(torch.tensor(x))
    assert_close("LeNet logits for 5 images (N, 10)", logits.data, want.detach().numpy())
    loss = step(4).cross_entropy(logits, labels)
    want_loss = nn.functional.cross_entropy(want, torch.tensor(labels))
    loss.backward()
    want_loss.backward()
    assert_close("LeNet cross-entropy loss", loss.data, want_loss.item())
    for name, p in net.named_parameters():
        layer, kind = name.split(".")
        key = f"{names[layer]}.{kind}"
        assert_close(f"LeNet: gradient of {key} {tuple(p.shape)}", params[key].grad,
                     p.grad.numpy())


def test_evaluate_counts_the_right_answers_in_every_batch():
    params = S.init_lenet(seed=0, dtype=np.float64)
    x, _ = data.synthetic(10, seed=2)
    net, _ = torch_lenet(params)
    predicted = net(torch.tensor(x.astype(np.float64))).argmax(1).numpy()
    labels = predicted.copy()
    labels[[1, 4, 8, 9]] = (predicted[[1, 4, 8, 9]] + 1) % 10        # 6 right of 10
    acc = S.evaluate(params, x.astype(np.float64), labels, batch_size=3)   # 3+3+3+1
    assert_close("evaluate() of 10 images, 6 right, in batches of 3", acc, 0.6)


def test_train_epoch_sees_each_image_once_in_batches(monkeypatch):
    params = S.init_lenet(seed=0)
    x, y = data.synthetic(70, seed=3)
    seen = []
    real = S.lenet

    def spy(p, batch):
        seen.append(batch.data.copy())
        return real(p, batch)
    monkeypatch.setattr(S, "lenet", spy)
    loss = S.train_epoch(params, step(8).Adam(params.values()), x, y, batch_size=32,
                         rng=np.random.default_rng(0))
    assert [len(b) for b in seen] == [32, 32, 6], (
        f"batches of {[len(b) for b in seen]} images for 70 images in batches of 32")
    got = np.sort(np.concatenate(seen).reshape(70, -1).sum(axis=1))
    assert_close("the images of one epoch (their sums, sorted)", got,
                 np.sort(x.reshape(70, -1).sum(axis=1)), rtol=1e-6)
    assert np.isfinite(loss) and 1.5 < loss < 3.5, f"mean loss {loss}: expected near ln 10"


def test_an_epoch_trains_as_pytorch_does():
    """One epoch of 3 batches (in order: rng=None), float64: the loss, zero_grad, backward,
    Adam step of each batch; the weights after it must be PyTorch's after the same loop."""
    params = S.init_lenet(seed=1, dtype=np.float64)
    x, y = data.synthetic(24, seed=4)
    x = x.astype(np.float64)
    net, names = torch_lenet(params)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    losses = []
    for start in range(0, 24, 8):
        loss = nn.functional.cross_entropy(net(torch.tensor(x[start:start + 8])),
                                           torch.tensor(y[start:start + 8]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    mean = S.train_epoch(params, step(8).Adam(params.values(), lr=0.01), x, y, batch_size=8)
    assert_close("train_epoch's mean loss of 3 batches", mean, np.mean(losses))
    for name, p in net.named_parameters():
        layer, kind = name.split(".")
        key = f"{names[layer]}.{kind}"
        assert_close(f"{key} after one epoch of 3 Adam steps", params[key].data,
                     p.detach().numpy(), rtol=1e-8, atol=1e-10)


def test_the_loss_falls_in_float32():
    """Ten Adam steps (lr 0.01) on one batch of 20 images, in float32 as training runs."""
    params = S.init_lenet(seed=0)
    x, y = data.synthetic(20, seed=0)
    optimizer = step(8).Adam(params.values(), lr=0.01)
    losses = [S.train_epoch(params, optimizer, x, y, batch_size=20) for _ in range(10)]
    assert all(np.isfinite(losses)), f"losses {losses}"
    assert losses[-1] < losses[0] - 0.1, f"the loss on one batch did not fall: {losses}"
    assert params["conv1.weight"].data.dtype == np.float32, "float32 stays float32"


@pytest.mark.slow
def test_five_epochs_of_fashion_mnist_reach_seventy_percent():
    """The track's goal, on the real data (found as minigrad.data finds it): minutes."""
    from minigrad.data import find
    if find() is None:
        pytest.skip("Fashion-MNIST not found (set MINIGRAD_DATA, or apt-get install "
                    "dataset-fashion-mnist)")
    (x, y), (xt, yt) = data.fashion_mnist(download=False)
    params = S.init_lenet(seed=0)
    optimizer = step(8).Adam(params.values(), lr=1e-3)
    rng = np.random.default_rng(0)
    for _ in range(5):
        S.train_epoch(params, optimizer, x, y, 256, rng)
    acc = S.evaluate(params, xt, yt)
    assert acc > 0.7, f"test accuracy {acc} after 5 epochs; expected > 0.7"
