"""LeNet trained by PyTorch-style code (the training loop as *Dive into Deep Learning*'s
PyTorch edition writes it), running on minigrad. The model, the loop and the evaluation
run unchanged on PyTorch with the two import lines swapped for ``import torch`` /
``from torch import nn`` (tests/test_pytorch_style.py runs them both ways). The one other
minigrad line is the data: ``main()`` takes Fashion-MNIST from
``minigrad.data.load_data_fashion_mnist``, where a PyTorch program would use torchvision or
``d2l.load_data_fashion_mnist``.

The network is the seed notebook's variant of LeNet-5 — no padding, max-pooling, so the
first linear layer takes 16·4·4 features — not d2l's current LeNet (padding 2 on the first
convolution, average pooling, 16·5·5).

    python examples/pytorch_style.py      # 5 epochs on Fashion-MNIST
"""
import time

import minigrad as torch  # PyTorch: import torch
from minigrad import nn  # PyTorch: from torch import nn


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5), nn.Sigmoid(), nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.MaxPool2d(2, 2))
        self.fc = nn.Sequential(
            nn.Linear(16 * 4 * 4, 120), nn.Sigmoid(),
            nn.Linear(120, 84), nn.Sigmoid(),
            nn.Linear(84, 10))

    def forward(self, img):
        feature = self.conv(img)
        return self.fc(feature.view(img.shape[0], -1))


def evaluate_accuracy(net, data_iter, device=None):
    if device is None and isinstance(net, nn.Module):
        device = next(iter(net.parameters())).device
    acc_sum, n = 0.0, 0
    with torch.no_grad():
        net.eval()
        for X, y in data_iter:
            acc_sum += (net(X.to(device)).argmax(dim=1) == y.to(device)).float().sum().cpu().item()
            n += y.shape[0]
        net.train()
    return acc_sum / n


def train(net, train_iter, test_iter, optimizer, device, num_epochs):
    net = net.to(device)
    print("training on", device)
    loss = torch.nn.CrossEntropyLoss()
    history = []
    for epoch in range(num_epochs):
        train_l_sum, train_acc_sum, n, batch_count, start = 0.0, 0.0, 0, 0, time.time()
        for X, y in train_iter:
            X = X.to(device)
            y = y.to(device)
            y_hat = net(X)
            l = loss(y_hat, y)
            optimizer.zero_grad()
            l.backward()
            optimizer.step()
            train_l_sum += l.cpu().item()
            train_acc_sum += (y_hat.argmax(dim=1) == y).sum().cpu().item()
            n += y.shape[0]
            batch_count += 1
        test_acc = evaluate_accuracy(net, test_iter)
        print('epoch %d, loss %.4f, train acc %.3f, test acc %.3f, time %.1f sec'
              % (epoch + 1, train_l_sum / batch_count, train_acc_sum / n, test_acc,
                 time.time() - start))
        history.append((train_l_sum / batch_count, train_acc_sum / n, test_acc))
    return history


def main(num_epochs=5, batch_size=256, lr=0.001):
    from minigrad.data import load_data_fashion_mnist
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    train_iter, test_iter = load_data_fashion_mnist(batch_size)
    net = LeNet()
    print(net)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    return train(net, train_iter, test_iter, optimizer, device, num_epochs)


if __name__ == "__main__":
    main()
