"""Images for step 9 as plain arrays: Fashion-MNIST found by minigrad.data's rules (an
explicit folder, $MINIGRAD_DATA, ~/.cache/minigrad/fashion-mnist, Debian's
/usr/share/datasets/fashion-mnist, else a download; checksums verified), and a small
synthetic task for tests that must run in seconds."""
import numpy as np


def as_arrays(images, labels, n=None):
    """uint8 (N, 28, 28) and labels -> float32 (N, 1, 28, 28) in [0, 1] and int64 (N,),
    the first n of them (all when n is None)."""
    images, labels = images[:n], labels[:n]
    return (images.astype(np.float32) / 255.0)[:, None], np.asarray(labels, dtype=np.int64)


def fashion_mnist(root=None, download=True, train_subset=None, test_subset=None):
    """((train images, train labels), (test images, test labels)) as as_arrays gives them."""
    from minigrad.data import FashionMNIST
    train = FashionMNIST(root, train=True, download=download)
    test = FashionMNIST(root, train=False, download=download)
    return (as_arrays(train.images, train.labels, train_subset),
            as_arrays(test.images, test.labels, test_subset))


def synthetic(n, seed=0):
    """n images (N, 1, 28, 28) float32 of 10 classes that a small net learns in seconds:
    each class is a fixed blocky pattern (the same for every seed), plus noise."""
    templates = np.kron(np.random.default_rng(1234).random((10, 7, 7)), np.ones((4, 4)))
    g = np.random.default_rng(seed)
    labels = g.integers(0, 10, n)
    images = 0.6 * templates[labels] + 0.4 * g.random((n, 28, 28))
    return images.astype(np.float32)[:, None], labels.astype(np.int64)
