"""Fashion-MNIST (IDX reader, lookup, checksums, download) and the ArrayLoader; under
torchvision's names, ``datasets`` and ``transforms``."""
from . import datasets, transforms
from .fashion_mnist import ChecksumError, DataNotFoundError, FashionMNIST, download, find, locate
from .idx import IDXError, read_idx
from .loader import ArrayDataset, ArrayLoader, load_data_fashion_mnist
