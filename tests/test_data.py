"""The IDX reader, Fashion-MNIST lookup, checksums and download, and the ArrayLoader."""
import gzip
import io

import numpy as np
import pytest

import minigrad
from helpers import idx_bytes, make_split, trust
from minigrad.data import (
    ArrayDataset,
    ArrayLoader,
    ChecksumError,
    DataNotFoundError,
    FashionMNIST,
    IDXError,
    read_idx,
)
from minigrad.data import fashion_mnist as fm


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No real data anywhere on the search path: HOME and the Debian folder are empty."""
    monkeypatch.delenv("MINIGRAD_DATA", raising=False)
    monkeypatch.setattr(fm, "cache_dir", lambda: tmp_path / "home-cache")
    real = fm.search_path
    monkeypatch.setattr(fm, "search_path",
                        lambda root=None: [p if str(p) != "/usr/share/datasets/fashion-mnist"
                                           else tmp_path / "debian" for p in real(root)])
    return tmp_path


# ---- IDX --------------------------------------------------------------------------------
def test_idx_reads_gzip_and_raw(tmp_path):
    a = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(idx_bytes(a))
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(a)))
    np.testing.assert_array_equal(read_idx(tmp_path / "a"), a)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), a)


@pytest.mark.parametrize("damage, message", [
    (lambda b: b[:-5], "truncated: header says shape"),
    (lambda b: b + b"xx", "trailing bytes"),
    (lambda b: b"\x01" + b[1:], "not an IDX file"),
    (lambda b: b[:2] + b"\x42" + b[3:], "not an IDX file"),
    (lambda b: b[:6], "truncated inside its header"),
    (lambda b: b[:2], "too short"),
])
def test_idx_damage_is_named(tmp_path, damage, message):
    data = damage(idx_bytes(np.zeros((3, 4, 4), np.uint8)))
    (tmp_path / "bad-idx").write_bytes(data)
    with pytest.raises(IDXError, match=f"bad-idx.*{message}"):
        read_idx(tmp_path / "bad-idx")


def test_truncated_gzip_is_named(tmp_path):
    gz = gzip.compress(idx_bytes(np.zeros((50, 28, 28), np.uint8)))
    (tmp_path / "x.gz").write_bytes(gz[: len(gz) // 2])
    with pytest.raises(IDXError, match="x.gz: damaged or truncated gzip"):
        read_idx(tmp_path / "x.gz")


# ---- lookup, checksums, download --------------------------------------------------------
def test_lookup_order(isolated, monkeypatch):
    t = isolated
    for d in ("root", "env", "home-cache", "debian"):
        make_split(t / d, 2, seed=0)
    monkeypatch.setenv("MINIGRAD_DATA", str(t / "env"))
    assert fm.find(t / "root") == t / "root"
    assert fm.find() == t / "env"
    monkeypatch.delenv("MINIGRAD_DATA")
    assert fm.find() == t / "home-cache"
    (t / "home-cache" / "t10k-labels-idx1-ubyte.gz").unlink()     # incomplete: skipped
    assert fm.find() == t / "debian"


def test_loads_verified_files_raw_or_gzip(isolated, monkeypatch):
    contents = make_split(isolated / "d", 5, seed=1, gz=False)
    trust(monkeypatch, contents)
    ds = FashionMNIST(isolated / "d", train=False, download=False)
    assert len(ds) == 5 and ds.images.shape == (5, 28, 28) and ds.labels.dtype == np.int64


def test_checksum_mismatch_is_an_error_naming_the_file(isolated):
    make_split(isolated / "d", 3, seed=2)        # real digests: synthetic files cannot match
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz: SHA-256"):
        FashionMNIST(isolated / "d", download=False)


def test_nowhere_and_offline_lists_where_it_looked(isolated, monkeypatch):
    def offline(*a, **k):
        raise fm.urllib.error.URLError("no network")
    monkeypatch.setattr(fm.urllib.request, "urlopen", offline)
    with pytest.raises(DataNotFoundError) as e:
        FashionMNIST()
    msg = str(e.value)
    assert "no network" in msg and str(isolated / "home-cache") in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "MINIGRAD_DATA" in msg


class FakeResponse(io.BytesIO):
    headers = {}

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_download_verifies_before_renaming(isolated, monkeypatch):
    contents = make_split(isolated / "source", 4, seed=3)
    trust(monkeypatch, contents)
    served = {fm.URL + f"{k}.gz": gzip.compress(v) for k, v in contents.items()}
    monkeypatch.setattr(fm.urllib.request, "urlopen",
                        lambda url, timeout: FakeResponse(served[url]))
    ds = FashionMNIST()                             # nothing on the path: downloads
    assert ds.root == isolated / "home-cache" and len(ds) == 4
    assert sorted(p.name for p in ds.root.iterdir()) == sorted(f"{k}.gz" for k in contents)


def test_corrupt_download_leaves_nothing_behind(isolated, monkeypatch):
    contents = make_split(isolated / "source", 4, seed=4)
    trust(monkeypatch, contents)
    monkeypatch.setattr(fm.urllib.request, "urlopen",
                        lambda url, timeout: FakeResponse(gzip.compress(b"\0\0\x08\x01garbage")))
    with pytest.raises(ChecksumError):
        fm.download(isolated / "dl", progress=False)
    assert list((isolated / "dl").iterdir()) == []


def test_real_fashion_mnist_when_present():
    if fm.find() is None:
        pytest.skip("Fashion-MNIST is not on this machine (make data fetches it)")
    test = FashionMNIST(train=False, download=False)
    assert test.images.shape == (10000, 28, 28) and test.images.dtype == np.uint8
    assert np.bincount(test.labels).tolist() == [1000] * 10


# ---- ArrayLoader ------------------------------------------------------------------------
def small(n=10):
    images = np.arange(n * 4, dtype=np.uint8).reshape(n, 2, 2) * 5
    return ArrayDataset(images, np.arange(n))


def test_loader_order_scaling_and_partial_batch():
    batches = list(ArrayLoader(small(), 4))
    assert [len(y) for _, y in batches] == [4, 4, 2]
    X, y = batches[0]
    assert X.shape == (4, 1, 2, 2) and X.dtype == minigrad.float32 and y.dtype == minigrad.int64
    assert y.tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(X.numpy()[1, 0], np.array([[20, 25], [30, 35]]) / 255, rtol=1e-6)
    assert [len(y) for _, y in ArrayLoader(small(), 4, drop_last=True)] == [4, 4]
    assert len(ArrayLoader(small(), 4)) == 3 and len(ArrayLoader(small(), 4, drop_last=True)) == 2


def test_loader_shuffle_is_reproducible_and_changes_each_epoch():
    def epoch_orders(loader, epochs=2):
        return [np.concatenate([y.numpy() for _, y in loader]).tolist() for _ in range(epochs)]
    a = epoch_orders(ArrayLoader(small(), 3, shuffle=True, seed=7))
    b = epoch_orders(ArrayLoader(small(), 3, shuffle=True, seed=7))
    assert a == b and a[0] != a[1] and sorted(a[0]) == list(range(10))
    assert epoch_orders(ArrayLoader(small(), 3, shuffle=True, seed=8)) != a
    resumed = ArrayLoader(small(), 3, shuffle=True, seed=7)
    resumed.set_epoch(1)
    assert epoch_orders(resumed, 1)[0] == a[1]
    minigrad.manual_seed(5)
    c = epoch_orders(ArrayLoader(small(), 3, shuffle=True))
    minigrad.manual_seed(5)
    assert epoch_orders(ArrayLoader(small(), 3, shuffle=True)) == c


def test_loader_errors():
    with pytest.raises(ValueError, match="batch_size"):
        ArrayLoader(small(), 0)
    with pytest.raises(TypeError, match="images and .labels"):
        ArrayLoader([1, 2, 3], 2)
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        ArrayDataset(np.zeros((3, 2, 2)), [0, 1])


def test_subset_larger_than_the_data_is_a_clear_error():
    ds = ArrayDataset(np.zeros((5, 2, 2), np.uint8), np.arange(5))
    assert len(ds.subset(5)) == 5
    for n in (6, -1):
        with pytest.raises(ValueError, match=f"cannot take the first {n} of 5"):
            ds.subset(n)
