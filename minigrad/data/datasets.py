"""Datasets under torchvision's names (``from minigrad.data import datasets, transforms``
reads as ``from torchvision import datasets, transforms``). Fashion-MNIST is the one
minigrad has; torchvision's ``datasets.FashionMNIST(root, train, download, transform)``
call works on it as written."""
from .fashion_mnist import FashionMNIST

__all__ = ["FashionMNIST"]
