"""minigrad.utils.data against torch.utils.data: the same datasets give the same
batches, in the same order, of the same dtypes; shuffling, drop_last, samplers and errors;
default_collate's dtype and container rules, random_split and ConcatDataset.
Then torchvision's transforms (ToTensor, Normalize, Compose) as minigrad.data has them,
FashionMNIST(transform=), and backends.mps."""
import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tud
from torch.utils.data import default_collate as torch_collate

import minigrad
import minigrad.utils.data as mud
from helpers import make_split, trust
from minigrad.data import transforms
from minigrad.utils import data as ours_data
from minigrad.utils.data import default_collate


class Squares:
    """A map-style dataset with nothing but __getitem__ and __len__ (no base class), whose
    samples mix the kinds default_collate handles: an array, an int, a float, a dict."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        x = np.arange(3, dtype=np.float32) + i
        return x, i * i, float(i) / 2, {"id": i, "half": np.float64(i) / 2}

    def __len__(self):
        return self.n


def as_numpy(batch):
    """A batch of either library as nested lists/dicts of NumPy arrays."""
    if isinstance(batch, dict):
        return {k: as_numpy(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return [as_numpy(b) for b in batch]
    if isinstance(batch, torch.Tensor):
        return batch.numpy()
    return minigrad.as_tensor(batch).numpy()


def assert_same_batches(ours, theirs):
    ours, theirs = [as_numpy(b) for b in ours], [as_numpy(b) for b in theirs]
    assert len(ours) == len(theirs)

    def same(a, b):
        if isinstance(a, dict):
            assert a.keys() == b.keys()
            for k in a:
                same(a[k], b[k])
        elif isinstance(a, list):
            assert len(a) == len(b)
            for x, y in zip(a, b):
                same(x, y)
        else:
            assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape)
            np.testing.assert_array_equal(a, b)
    for a, b in zip(ours, theirs):
        same(a, b)


@pytest.mark.parametrize("batch_size, drop_last", [(4, False), (4, True), (10, False),
                                                   (1, False), (32, True)])
def test_any_map_style_dataset_batches_as_pytorch_does(batch_size, drop_last):
    ours = mud.DataLoader(Squares(10), batch_size=batch_size, drop_last=drop_last)
    theirs = tud.DataLoader(Squares(10), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert_same_batches(list(ours), list(theirs))


def test_tensor_dataset_fast_path_gives_what_sample_by_sample_gives():
    g = np.random.default_rng(0)
    x, y = g.standard_normal((11, 2, 3)), g.integers(0, 5, 11)
    ds = mud.TensorDataset(minigrad.tensor(x), minigrad.tensor(y))
    assert len(ds) == 11 and np.array_equal(ds[3][0].numpy(), x[3]) and ds[3][1].item() == y[3]
    fast = list(mud.DataLoader(ds, batch_size=4))
    slow = list(mud.DataLoader(ds, batch_size=4, collate_fn=mud.default_collate))
    theirs = list(tud.DataLoader(tud.TensorDataset(torch.tensor(x), torch.tensor(y)),
                                 batch_size=4))
    assert_same_batches(fast, theirs)
    assert_same_batches(slow, theirs)


def test_sampler_and_subset():
    order = [7, 2, 2, 9, 0]
    ours = mud.DataLoader(mud.Subset(Squares(12), range(2, 12)), batch_size=2, sampler=order)
    theirs = tud.DataLoader(tud.Subset(Squares(12), range(2, 12)), batch_size=2,
                            sampler=order)
    assert len(ours) == len(theirs) == 3
    assert_same_batches(list(ours), list(theirs))


def test_shuffle_is_a_permutation_repeated_by_the_seed_and_new_each_epoch():
    def firsts(loader):
        return np.concatenate([b[1].numpy() for b in loader])    # i*i: which samples
    minigrad.manual_seed(3)
    loader = mud.DataLoader(Squares(20), batch_size=6, shuffle=True)
    one, two = firsts(loader), firsts(loader)
    assert sorted(one) == sorted(two) == [i * i for i in range(20)]
    assert not np.array_equal(one, two)
    minigrad.manual_seed(3)
    assert np.array_equal(firsts(loader), one)


def test_default_collate_kinds_match_pytorch():
    samples = [(True, "a", [1, 2.5]), (False, "b", [3, 4.0])]
    ours, theirs = mud.default_collate(samples), tud.default_collate(samples)
    assert ours[1] == theirs[1] == ("a", "b")
    assert ours[0].dtype == minigrad.bool and ours[0].numpy().tolist() == [True, False]
    assert ours[2][0].dtype == minigrad.int64 and ours[2][1].dtype == minigrad.float64
    assert_same_batches([[ours[0], ours[2]]], [[theirs[0], theirs[2]]])
    with pytest.raises(RuntimeError, match="equal size"):
        mud.default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found object"):
        mud.default_collate([object()])


def test_pytorch_only_arguments_pass_and_bad_ones_are_named():
    loader = mud.DataLoader(Squares(5), batch_size=2, num_workers=1, pin_memory=True,
                            shuffle=True, persistent_workers=False)
    assert sum(len(b[1]) for b in loader) == 5
    with pytest.raises(TypeError, match="map-style dataset"):
        mud.DataLoader(iter(range(3)))
    with pytest.raises(ValueError, match="batch_size"):
        mud.DataLoader(Squares(5), batch_size=0)
    with pytest.raises(ValueError, match="mutually exclusive"):
        mud.DataLoader(Squares(5), sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="num_workers"):
        mud.DataLoader(Squares(5), num_workers=-1)
    with pytest.raises(ValueError, match="same first dim"):
        mud.TensorDataset(minigrad.zeros(3, 2), minigrad.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        mud.TensorDataset()
    with pytest.raises(NotImplementedError, match="__getitem__"):
        mud.Dataset()[0]


# ---- transforms and the dataset ----------------------------------------------------------------
def test_to_tensor_and_normalize_give_torchvisions_numbers():
    """torchvision is not installed here: its documented rule is written out. ToTensor: uint8
    (H, W[, C]) -> float32 (C, H, W) / 255; Normalize: (x − mean[c]) / std[c]."""
    g = np.random.default_rng(0)
    image = g.integers(0, 256, (5, 4, 3), dtype=np.uint8)
    t = transforms.Compose([transforms.ToTensor(),
                            transforms.Normalize((0.1, 0.2, 0.3), (0.5, 0.25, 2.0))])(image)
    x = torch.tensor(image).permute(2, 0, 1).float() / 255
    expected = (x - torch.tensor([0.1, 0.2, 0.3])[:, None, None]) / \
        torch.tensor([0.5, 0.25, 2.0])[:, None, None]
    assert t.dtype == minigrad.float32 and t.shape == (3, 5, 4)
    np.testing.assert_allclose(t.numpy(), expected.numpy(), rtol=1e-6)
    gray = transforms.ToTensor()(image[:, :, 0])
    assert gray.shape == (1, 5, 4)
    with pytest.raises(ValueError, match="zero"):
        transforms.Normalize((0.5,), (0.0,))(gray)
    with pytest.raises(ValueError, match="channels"):
        transforms.Normalize((0.5, 0.5), (1.0, 1.0))(t)
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        transforms.ToTensor()(np.zeros((2, 2, 2, 2), np.uint8))


def test_fashion_mnist_with_a_transform_through_the_dataloader(tmp_path, monkeypatch):
    """As PyTorch's MNIST example uses it: FashionMNIST(root, train, transform=...) in a
    DataLoader gives (N, 1, 28, 28) float32 batches, normalised, and int64 labels."""
    trust(monkeypatch, make_split(tmp_path, 10, seed=1))      # ten synthetic images
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    ds = minigrad.data.datasets.FashionMNIST(str(tmp_path), train=True, download=False,
                                             transform=tf)
    raw = minigrad.data.FashionMNIST(str(tmp_path), train=True, download=False)
    x, y = next(iter(mud.DataLoader(ds, batch_size=8)))
    assert x.shape == (8, 1, 28, 28) and x.dtype == minigrad.float32 and y.dtype == minigrad.int64
    expected = (raw.images[:8, None] / np.float32(255) - np.float32(0.1307)) / np.float32(0.3081)
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(y.numpy(), raw.labels[:8])


def test_mps_is_not_available():
    assert minigrad.backends.mps.is_available() is False
    assert minigrad.backends.mps.is_built() is False


# ---- default_collate's dtype and container rules -------------------------------------------------
Point = collections.namedtuple("Point", "x y")


def _same(ours, ref):
    """Equal values, dtypes and container types, recursively."""
    if isinstance(ref, torch.Tensor):
        assert isinstance(ours, minigrad.Tensor), type(ours)
        assert str(ours.dtype) == str(ref.dtype).replace("torch.", ""), (ours.dtype, ref.dtype)
        assert ours.tolist() == ref.tolist()
    elif isinstance(ref, (list, tuple)):
        assert type(ours) is type(ref) and len(ours) == len(ref), (type(ours), type(ref))
        for o, r in zip(ours, ref):
            _same(o, r)
    elif isinstance(ref, dict):
        assert list(ours) == list(ref)
        for k in ref:
            _same(ours[k], ref[k])
    else:
        assert ours == ref


@pytest.mark.parametrize("batch", [
    [1, 2.5], [2.5, 1], [True, 1], [True, False], [1, 2], [0.5, 1.5],
    [b"a", b"bc"], ["a", "b"],
    [Point(1, 2.0), Point(3, 4.0)],
    [(1, "a"), (2, "b")], [[1, 2.0], [3, 4.0]],
    [{"x": 1, "y": [1.5, 2]}, {"x": 2, "y": [2.5, 3]}],
    [np.float32(1), np.float32(2)], [np.arange(3), np.arange(3)],
    [np.ones(2, np.float32), np.zeros(2, np.float32)],
], ids=lambda b: repr(b)[:40])
def test_collate_like_torch(batch):
    _same(default_collate(batch), torch_collate(batch))


def test_collate_of_tensors_keeps_the_graph():
    a = minigrad.ones(2, requires_grad=True)
    out = default_collate([a, a * 2])
    assert out.requires_grad and out.shape == (2, 2)
    out.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]
    plain = default_collate([minigrad.ones(2), minigrad.zeros(2)])
    assert not plain.requires_grad and plain.tolist() == [[1.0, 1.0], [0.0, 0.0]]


# ---- random_split and ConcatDataset --------------------------------------------------------------
def test_random_split_like_torch():
    ds = ours_data.TensorDataset(minigrad.arange(10))
    minigrad.manual_seed(0)
    parts = ours_data.random_split(ds, [3, 7])
    assert [len(p) for p in parts] == [3, 7]
    seen = sorted(int(p[i][0]) for p in parts for i in range(len(p)))
    assert seen == list(range(10))
    ref = torch.utils.data.random_split(range(10), [0.3, 0.3, 0.4])
    ours = ours_data.random_split(range(10), [0.3, 0.3, 0.4])
    assert [len(p) for p in ours] == [len(p) for p in ref]
    ref = torch.utils.data.random_split(range(11), [0.5, 0.5])
    assert [len(p) for p in ours_data.random_split(range(11), [0.5, 0.5])] == \
        [len(p) for p in ref]
    minigrad.manual_seed(0)
    again = ours_data.random_split(ds, [3, 7])
    assert again[0].indices == parts[0].indices
    with pytest.raises(ValueError):
        ours_data.random_split(ds, [3, 3])


def test_concat_dataset_like_torch():
    a, b = list(range(3)), list(range(10, 15))
    ours = ours_data.ConcatDataset([a, b])
    ref = torch.utils.data.ConcatDataset([a, b])
    assert len(ours) == len(ref) == 8
    assert [ours[i] for i in range(-8, 8)] == [ref[i] for i in range(-8, 8)]
    assert ours.cumulative_sizes == ref.cumulative_sizes
    loader = ours_data.DataLoader(ours, batch_size=4)
    assert [b.tolist() for b in loader] == [[0, 1, 2, 10], [11, 12, 13, 14]]
    with pytest.raises(ValueError):
        ours[-9]
