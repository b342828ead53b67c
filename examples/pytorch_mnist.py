"""PyTorch's MNIST example (github.com/pytorch/examples, ``mnist/main.py``, the version with
the ``--no-cuda`` and ``--no-mps`` flags) as a minigrad program: the same network, training
loop, flags and output, statement for statement, on PyTorch's API.

The lines that are not PyTorch code — replace them and the file runs on PyTorch:

* the six import lines, each marked ``# PyTorch:`` with the line it stands for (torchvision's
  ``datasets`` and ``transforms`` come from ``minigrad.data``);
* the two dataset lines: ``datasets.FashionMNIST(None, ...)`` where the original has
  ``datasets.MNIST('../data', ...)``. minigrad has Fashion-MNIST (same size and format),
  found by minigrad's lookup when the root is None (``$MINIGRAD_DATA``, the cache, Debian's
  folder; see the README). torchvision has ``datasets.FashionMNIST`` too, with these
  arguments; it wants a folder instead of None. The normalisation constants stay MNIST's
  (0.1307, 0.3081), as in the original; Fashion-MNIST's own are 0.2860 and 0.3530.

Where the text departs from the original file (this project writes its own code rather than
copying; each departure does the same thing in PyTorch):

* ``super().__init__()`` for ``super(Net, self).__init__()``; in ``forward`` each layer and
  its ``F.relu`` share a line, and the log-softmax is returned directly;
* in ``train`` the logged sample counts are named (``seen, total``) before the print;
* ``test`` sets both sums on one line and returns (average loss, accuracy) besides printing;
* the flags are parsed in ``parse_args(argv)``, and ``main(argv=None)`` takes them, so that a
  test can call ``main([...])``; the original parses ``sys.argv`` inside ``main()``;
* the comments and docstrings, and the capitals of two help texts.

tests/test_tutorial_examples.py checks the first list: it runs this file as it is, and again with
those import lines replaced by PyTorch's, from the same weights on the same batches (and the
same dropout masks), and compares the losses step by step; it fails if a line outside that
list names minigrad. Run it from the repository root:

    python examples/pytorch_mnist.py --dry-run          # one batch, then the test set
    python examples/pytorch_mnist.py --epochs 1         # 938 steps of 64 images

(A training step of 64 images took about 0.09 s on the project's 2-core CPU machine,
measured 2026-11-29.)

On the GPU the dropout masks come from minigrad's counter-based generator, on the CPU from
its NumPy one; neither gives PyTorch's bits, so the numbers differ from PyTorch's run after
the first dropout even from the same weights.
"""
import argparse

import minigrad as torch  # PyTorch: import torch
import minigrad.nn as nn  # PyTorch: import torch.nn as nn
import minigrad.nn.functional as F  # PyTorch: import torch.nn.functional as F
import minigrad.optim as optim  # PyTorch: import torch.optim as optim
from minigrad.data import datasets, transforms  # PyTorch: from torchvision import ...
from minigrad.optim.lr_scheduler import StepLR  # PyTorch: from torch.optim.lr_scheduler ...


class Net(nn.Module):
    """Two 3x3 convolutions (32 and 64 maps), a 2x2 max-pool, then two linear layers, with
    dropout after the pool and after the first linear layer; log-probabilities out."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)           # 64 maps of 12 x 12 after the pool
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))                 # (N, 32, 26, 26)
        x = F.relu(self.conv2(x))                 # (N, 64, 24, 24)
        x = F.max_pool2d(x, 2)                    # (N, 64, 12, 12)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)                   # (N, 9216)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            seen, total = batch_idx * len(data), len(train_loader.dataset)
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, seen, total, 100. * batch_idx / len(train_loader), loss.item()))
            if args.dry_run:
                break


def test(model, device, test_loader):
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()
            pred = output.argmax(dim=1, keepdim=True)     # the most likely class
            correct += pred.eq(target.view_as(pred)).sum().item()
    n = len(test_loader.dataset)
    test_loss /= n
    print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'.format(
        test_loss, correct, n, 100. * correct / n))
    return test_loss, correct / n


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='PyTorch MNIST Example')
    parser.add_argument('--batch-size', type=int, default=64, metavar='N',
                        help='input batch size for training (default: 64)')
    parser.add_argument('--test-batch-size', type=int, default=1000, metavar='N',
                        help='input batch size for testing (default: 1000)')
    parser.add_argument('--epochs', type=int, default=14, metavar='N',
                        help='number of epochs to train (default: 14)')
    parser.add_argument('--lr', type=float, default=1.0, metavar='LR',
                        help='learning rate (default: 1.0)')
    parser.add_argument('--gamma', type=float, default=0.7, metavar='M',
                        help='learning rate step gamma (default: 0.7)')
    parser.add_argument('--no-cuda', action='store_true', default=False,
                        help='disables CUDA training')
    parser.add_argument('--no-mps', action='store_true', default=False,
                        help='disables macOS GPU training')
    parser.add_argument('--dry-run', action='store_true', default=False,
                        help='quickly check a single pass')
    parser.add_argument('--seed', type=int, default=1, metavar='S',
                        help='random seed (default: 1)')
    parser.add_argument('--log-interval', type=int, default=10, metavar='N',
                        help='how many batches to wait before logging training status')
    parser.add_argument('--save-model', action='store_true', default=False,
                        help='for saving the current model')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    use_cuda = not args.no_cuda and torch.cuda.is_available()
    use_mps = not args.no_mps and torch.backends.mps.is_available()

    torch.manual_seed(args.seed)

    if use_cuda:
        device = torch.device("cuda")
    elif use_mps:
        device = torch.device("mps")
    else:
        device = torch.device("cpu")

    train_kwargs = {'batch_size': args.batch_size}
    test_kwargs = {'batch_size': args.test_batch_size}
    if use_cuda:
        cuda_kwargs = {'num_workers': 1, 'pin_memory': True, 'shuffle': True}
        train_kwargs.update(cuda_kwargs)
        test_kwargs.update(cuda_kwargs)

    transform = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize((0.1307,), (0.3081,)),
    ])
    dataset1 = datasets.FashionMNIST(None, train=True, download=True, transform=transform)
    dataset2 = datasets.FashionMNIST(None, train=False, transform=transform)
    train_loader = torch.utils.data.DataLoader(dataset1, **train_kwargs)
    test_loader = torch.utils.data.DataLoader(dataset2, **test_kwargs)

    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        test(model, device, test_loader)
        scheduler.step()

    if args.save_model:
        torch.save(model.state_dict(), "mnist_cnn.pt")


if __name__ == '__main__':
    main()
