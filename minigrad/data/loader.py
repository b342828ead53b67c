"""Batches of (images, labels) from an in-memory dataset, shuffled reproducibly."""
import numpy as np

from .. import random
from ..device import device as Device
from ..tensor import as_tensor


class ArrayDataset:
    """Images (N, H, W) or (N, C, H, W) as uint8 (0–255) or floats, and int labels (N,)."""

    def __init__(self, images, labels):
        images, labels = np.asarray(images), np.asarray(labels)
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        if images.ndim not in (3, 4):
            raise ValueError(f"images must be (N, H, W) or (N, C, H, W), got {images.shape}")
        self.images, self.labels = images, labels.astype(np.int64)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.images[i], self.labels[i]

    def subset(self, n_or_indices):
        """The first n samples, or those at the given indices."""
        if np.isscalar(n_or_indices) and not 0 <= n_or_indices <= len(self):
            raise ValueError(f"subset: cannot take the first {n_or_indices} of {len(self)} "
                             "samples")
        idx = np.arange(n_or_indices) if np.isscalar(n_or_indices) else np.asarray(n_or_indices)
        return ArrayDataset(self.images[idx], self.labels[idx])


class ArrayLoader:
    """Yields (X, y): X float32 (B, C, H, W) scaled to [0, 1] (uint8 images are divided by
    255), y int64 (B,), on ``device``.

    The whole dataset is converted once and, on the GPU, copied there once; each batch is
    then one gather. With ``shuffle``, epoch e's order is a permutation drawn from
    (seed, e): the same seed gives the same batches, and ``set_epoch(e)`` lets a resumed run
    pick up the order where it left off. ``seed=None`` draws the seed from minigrad's
    generator, so ``manual_seed`` makes it repeat too."""

    def __init__(self, dataset, batch_size, shuffle=False, drop_last=False, seed=None,
                 device="cpu"):
        if not hasattr(dataset, "images") or not hasattr(dataset, "labels"):
            raise TypeError("ArrayLoader needs a dataset with .images and .labels arrays "
                            "(FashionMNIST or ArrayDataset)")
        if getattr(dataset, "transform", None) is not None or \
                getattr(dataset, "target_transform", None) is not None:
            raise TypeError("this ArrayLoader batches the raw .images and .labels and would "
                            "skip the dataset's transform: use minigrad.utils.data.DataLoader")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self.device = Device(device)
        self.seed = int(random.generator().integers(2**63)) if seed is None else int(seed)
        self.epoch = 0
        self._arrays = None

    def set_epoch(self, epoch):
        """Make the next iteration use epoch ``epoch``'s order."""
        self.epoch = epoch

    def _device_arrays(self):
        if self._arrays is None:
            images = self.dataset.images
            scale = 255.0 if images.dtype == np.uint8 else 1.0
            x = (images.astype(np.float32) / np.float32(scale))
            if x.ndim == 3:
                x = x[:, None]
            xp = self.device.array_module
            self._arrays = xp.asarray(x), xp.asarray(self.dataset.labels.astype(np.int64))
        return self._arrays

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        x, y = self._device_arrays()
        n = len(y)
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(n)
            order = self.device.array_module.asarray(order)
        else:
            order = None
        self.epoch += 1
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            if order is None:
                idx = slice(start, min(start + self.batch_size, n))
            else:
                idx = order[start:start + self.batch_size]
            yield as_tensor(x[idx]), as_tensor(y[idx])


def load_data_fashion_mnist(batch_size, root=None, device="cpu", seed=None, download=True):
    """(train_iter, test_iter) over Fashion-MNIST, as *Dive into Deep Learning* uses them:
    the training set shuffled, the test set in order."""
    from .fashion_mnist import FashionMNIST
    train = FashionMNIST(root, train=True, download=download)
    test = FashionMNIST(root, train=False, download=download)
    return (ArrayLoader(train, batch_size, shuffle=True, seed=seed, device=device),
            ArrayLoader(test, batch_size, shuffle=False, device=device))
