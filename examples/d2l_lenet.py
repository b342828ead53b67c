"""LeNet as *Dive into Deep Learning* builds and trains it (d2l.ai, the PyTorch edition
before d2l 1.0, section "Convolutional Neural Networks (LeNet)"), on minigrad: padding 2 on
the first convolution, average pooling, sigmoid activations, ``16 * 5 * 5`` inputs to the
first linear layer, Xavier-uniform weights set through ``net.apply``, SGD with lr 0.9.

The lines that are not PyTorch code — replace them and the file runs on PyTorch:

* the two import lines, each marked ``# PyTorch:`` with the line it stands for;
* the dataset line, in ``load_data_fashion_mnist`` below (minigrad's loader where d2l's
  builds torchvision's).

The chapter imports ``from d2l import torch as d2l`` for six helpers of earlier chapters
(Accumulator, Timer, accuracy, try_gpu, load_data_fashion_mnist, and the Animator that
plots). The d2l package imports PyTorch and torchvision, so those helpers are written out
below, in the section "what ``d2l`` provides", on PyTorch's API; the Animator prints a line
per epoch instead of plotting.

The chapter's own code — the network, the shape printout, ``evaluate_accuracy_gpu``,
``train_ch6`` and the call that trains for 10 epochs — follows the book statement for
statement (written for this project, not copied). Where it departs from the book:

* the shape printout is a function, ``print_shapes``, and prints ``tuple(X.shape)``;
* ``evaluate_accuracy_gpu`` moves ``X`` with ``X.to(device)`` only (the book also handles a
  list of tensors, for a later chapter's models) and uses ``Accumulator`` unprefixed;
* ``train_ch6`` logs every ``max(num_batches // 5, 1)`` batches (the book's
  ``num_batches // 5`` divides by zero under 5 batches), computes train loss and accuracy
  on one line, gives the Animator the train loss and accuracy with the test accuracy at the
  end of an epoch (the book gives ``(None, None, test_acc)``: its plot keeps the others),
  and returns (train loss, train accuracy, test accuracy);
* the book's top-level ``batch_size = 256`` and ``lr, num_epochs = 0.9, 10`` are flags of
  ``main`` (same defaults).

To train with Adam, replace ``torch.optim.SGD(net.parameters(), lr=lr)`` in train_ch6 by
``torch.optim.Adam(net.parameters(), lr=lr)`` and pass ``--lr 0.01``; with the book's SGD the
loss stayed near ln 10 = 2.30 for the 150 steps of 64 images we tried (the sigmoids'
plateau), with Adam it fell within a hundred (measured here on Fashion-MNIST).

tests/test_tutorial_examples.py runs this file as it is and again with PyTorch's imports, from the
same weights, and compares the losses step by step; it fails if a line outside the first
list names minigrad.

    python examples/d2l_lenet.py                  # 10 epochs of 235 steps
    python examples/d2l_lenet.py --epochs 1
"""
import argparse
import time
import types

import minigrad as torch  # PyTorch: import torch
from minigrad import nn  # PyTorch: from torch import nn


# ---- what ``d2l`` provides (its helpers from earlier chapters) --------------------------------
class Accumulator:
    """Running sums of n quantities."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def __getitem__(self, i):
        return self.data[i]


class Timer:
    """Wall-clock times of the start()/stop() intervals."""

    def __init__(self):
        self.times, self.tik = [], time.time()

    def start(self):
        self.tik = time.time()

    def stop(self):
        self.times.append(time.time() - self.tik)
        return self.times[-1]

    def sum(self):
        return sum(self.times)


def accuracy(y_hat, y):
    """How many predictions (the largest of each row of y_hat) equal the labels y."""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(dim=1)
    return float((y_hat == y).sum())


def try_gpu():
    return torch.device('cuda' if torch.cuda.is_available() else 'cpu')


class Animator:
    """d2l plots the curves as they grow; here each epoch's numbers are printed."""

    def __init__(self, xlabel=None, xlim=None, legend=()):
        self.legend = legend

    def add(self, x, values):
        if values[-1] is not None:          # the end of an epoch: the test accuracy is in
            shown = [f"{name} {v:.3f}" for name, v in zip(self.legend, values)]
            print(f"epoch {x:g}: " + ", ".join(shown))


def load_data_fashion_mnist(batch_size):
    from minigrad.data import load_data_fashion_mnist as load  # PyTorch: d2l's, torchvision
    return load(batch_size)


d2l = types.SimpleNamespace(Accumulator=Accumulator, Timer=Timer, accuracy=accuracy,
                            try_gpu=try_gpu, Animator=Animator,
                            load_data_fashion_mnist=load_data_fashion_mnist)


# ---- the chapter ------------------------------------------------------------------------------
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Flatten(),
    nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
    nn.Linear(120, 84), nn.Sigmoid(),
    nn.Linear(84, 10))


def print_shapes():
    X = torch.rand(1, 1, 28, 28, dtype=torch.float32)
    for layer in net:
        X = layer(X)
        print(layer.__class__.__name__, 'output shape: \t', tuple(X.shape))


def evaluate_accuracy_gpu(net, data_iter, device=None):
    """The accuracy of ``net`` over ``data_iter``, computed on ``device``."""
    if isinstance(net, nn.Module):
        net.eval()
        if not device:
            device = next(iter(net.parameters())).device
    metric = Accumulator(2)     # correct predictions, predictions
    with torch.no_grad():
        for X, y in data_iter:
            X, y = X.to(device), y.to(device)
            metric.add(d2l.accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def train_ch6(net, train_iter, test_iter, num_epochs, lr, device):
    """Train ``net`` on ``device``: Xavier-uniform weights, SGD, cross-entropy. Returns the
    last epoch's (train loss, train accuracy, test accuracy)."""
    def init_weights(m):
        if type(m) == nn.Linear or type(m) == nn.Conv2d:  # noqa: E721 (as the book writes it)
            nn.init.xavier_uniform_(m.weight)
    net.apply(init_weights)
    print('training on', device)
    net.to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    animator = d2l.Animator(xlabel='epoch', xlim=[1, num_epochs],
                            legend=['train loss', 'train acc', 'test acc'])
    timer, num_batches = d2l.Timer(), len(train_iter)
    for epoch in range(num_epochs):
        metric = d2l.Accumulator(3)     # loss sum, correct predictions, examples
        net.train()
        for i, (X, y) in enumerate(train_iter):
            timer.start()
            optimizer.zero_grad()
            X, y = X.to(device), y.to(device)
            y_hat = net(X)
            l = loss(y_hat, y)
            l.backward()
            optimizer.step()
            with torch.no_grad():
                metric.add(l * X.shape[0], d2l.accuracy(y_hat, y), X.shape[0])
            timer.stop()
            train_l, train_acc = metric[0] / metric[2], metric[1] / metric[2]
            if (i + 1) % max(num_batches // 5, 1) == 0 or i == num_batches - 1:
                animator.add(epoch + (i + 1) / num_batches, (train_l, train_acc, None))
        test_acc = evaluate_accuracy_gpu(net, test_iter)
        animator.add(epoch + 1, (train_l, train_acc, test_acc))
    print(f'loss {train_l:.3f}, train acc {train_acc:.3f}, test acc {test_acc:.3f}')
    print(f'{metric[2] * num_epochs / timer.sum():.1f} examples/sec on {str(device)}')
    return train_l, train_acc, test_acc


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.9)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args(argv)
    print_shapes()
    train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size=args.batch_size)
    return train_ch6(net, train_iter, test_iter, args.epochs, args.lr, d2l.try_gpu())


if __name__ == "__main__":
    main()
