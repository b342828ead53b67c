"""LeNet-5 as this project trains it: the one model definition that examples/lenet_fashion.py
(the training script), examples/inspect_lenet.py, the benchmarks and the tests all import.

    from examples.lenet import lenet      # from the repository root
    net = lenet()                         # minigrad's layers
    ref = lenet(torch.nn)                 # the same network, same parameter names, in PyTorch
"""
from minigrad import nn


def lenet(nn=nn):
    """LeNet-5 with sigmoids and max-pooling on 28×28 images, without padding (so the second
    stage ends in 16 maps of 4×4). ``nn`` is the layer library: minigrad's by default;
    ``lenet(torch.nn)`` builds the same network, with the same parameter names, in PyTorch."""
    return nn.Sequential(                                         # shapes for a batch of N:
        nn.Conv2d(1, 6, kernel_size=5), nn.Sigmoid(),             # (N, 1, 28, 28) -> (N, 6, 24, 24)
        nn.MaxPool2d(kernel_size=2, stride=2),                    # -> (N, 6, 12, 12)
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),            # -> (N, 16, 8, 8)
        nn.MaxPool2d(kernel_size=2, stride=2),                    # -> (N, 16, 4, 4)
        nn.Flatten(),                                             # -> (N, 256)
        nn.Linear(16 * 4 * 4, 120), nn.Sigmoid(),                 # -> (N, 120)
        nn.Linear(120, 84), nn.Sigmoid(),                         # -> (N, 84)
        nn.Linear(84, 10))                                        # -> (N, 10) class scores
