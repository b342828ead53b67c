"""Fashion-MNIST: where to find it, how to fetch it, and how to trust it.

An explicit ``root`` is used as given: the files are there (or downloaded there), or it is
an error naming it — never silently another copy. Without one, look in order:
``$MINIGRAD_DATA``, ``~/.cache/minigrad/fashion-mnist``, ``/usr/share/datasets/fashion-mnist``
(Debian's package ``dataset-fashion-mnist``); else download the official files into the
cache. Wherever they are found, the SHA-256 of each
decompressed file must match: Debian re-compresses them, so the ``.gz`` bytes differ, but
the contents may not."""
import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from .idx import IDXError, parse, read_bytes
from .loader import ArrayDataset

FILES = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
           "bag", "ankle boot"]


class DataNotFoundError(FileNotFoundError):
    pass


class ChecksumError(ValueError):
    pass


def cache_dir():
    return Path.home() / ".cache" / "minigrad" / "fashion-mnist"


def search_path(root=None):
    """The folders looked in, in order: ``root`` alone when it is given."""
    if root is not None:
        return [Path(root)]
    dirs = []
    if os.environ.get("MINIGRAD_DATA"):
        dirs.append(Path(os.environ["MINIGRAD_DATA"]))
    dirs += [cache_dir(), Path("/usr/share/datasets/fashion-mnist")]
    return dirs


def file_in(folder, name):
    """The file ``name`` in ``folder``, gzipped or raw, or None."""
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def missing_in(folder):
    """The names of the four files that ``folder`` does not hold."""
    return [name for name in FILES if file_in(Path(folder), name) is None]


def find(root=None):
    """The first folder on the search path that holds all four files (gzip or raw), or
    None. With ``root``, only ``root``."""
    for folder in search_path(root):
        if all(file_in(folder, name) for name in FILES):
            return folder
    return None


def load_verified(path, name):
    """Read one file, check its decompressed SHA-256, and parse it."""
    data = read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    if digest != FILES[name]:
        raise ChecksumError(f"{path}: SHA-256 of the decompressed data is {digest}, expected "
                            f"{FILES[name]}: the file is corrupt or not Fashion-MNIST's "
                            f"{name}; delete it to fetch it again")
    return parse(data, str(path))


def download(dest=None, progress=True):
    """Fetch the four official files into ``dest`` (the cache by default). Each is written
    under a temporary name and renamed only once its decompressed SHA-256 matches."""
    dest = Path(dest) if dest is not None else cache_dir()
    dest.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        target = dest / f"{name}.gz"
        if target.exists():
            continue
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=dest)
        try:
            with os.fdopen(fd, "wb") as out:
                _fetch(URL + f"{name}.gz", out, name, progress)
            load_verified(tmp, name)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return dest


def _fetch(url, out, label, progress):
    with urllib.request.urlopen(url, timeout=60) as response:
        total = int(response.headers.get("Content-Length") or 0)
        bar = None
        if progress:
            try:
                from tqdm import tqdm
                bar = tqdm(total=total or None, unit="B", unit_scale=True, desc=label,
                           disable=not sys.stderr.isatty())
            except ImportError:
                pass
        while chunk := response.read(1 << 16):
            out.write(chunk)
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()


def locate(root=None, download_missing=True):
    """The folder with all four files: ``root`` when given (downloading into it if allowed),
    else the first on the search path, else downloaded into the cache."""
    folder = find(root)
    if folder is not None:
        return folder
    if root is not None and not download_missing:
        raise DataNotFoundError(_not_in_root(root))
    if download_missing:
        try:
            return download(root)
        except (urllib.error.URLError, OSError) as e:
            reason = f"the download failed ({e})"
    else:
        reason = "downloading was turned off"
    if root is not None:
        raise DataNotFoundError(f"{_not_in_root(root)}; and {reason}")
    looked = "\n  ".join(str(d) for d in search_path(root))
    raise DataNotFoundError(
        f"Fashion-MNIST not found, and {reason}. Looked in:\n  {looked}\n"
        "Get it either way:\n"
        "  - on Debian: apt-get install dataset-fashion-mnist\n"
        f"  - or put the four files {', '.join(f + '.gz' for f in FILES)} (from {URL})\n"
        "    into a folder and set MINIGRAD_DATA to it (or pass root= / --data)")


def _not_in_root(root):
    root = Path(root)
    if not root.is_dir():
        return f"Fashion-MNIST folder {root} does not exist"
    return (f"Fashion-MNIST folder {root} lacks {', '.join(missing_in(root))} (as .gz or "
            "raw); a folder given explicitly is used as it is, never replaced by another one")


class FashionMNIST(ArrayDataset):
    """The Fashion-MNIST train (60,000) or test (10,000) split, as uint8 images (N, 28, 28)
    in ``.images`` and int64 labels (N,) in ``.labels``. ``ds[i]`` gives one (image, label),
    passed through ``transform`` and ``target_transform`` when they are given (torchvision's
    arguments: ``transform=transforms.ToTensor()`` gives float tensors (1, 28, 28))."""

    classes = CLASSES

    def __init__(self, root=None, train=True, download=True, transform=None,
                 target_transform=None):
        self.transform, self.target_transform = transform, target_transform
        self.root = locate(root, download)
        prefix = "train" if train else "t10k"
        self.images = load_verified(file_in(self.root, f"{prefix}-images-idx3-ubyte"),
                                    f"{prefix}-images-idx3-ubyte")
        labels = load_verified(file_in(self.root, f"{prefix}-labels-idx1-ubyte"),
                               f"{prefix}-labels-idx1-ubyte")
        if len(labels) != len(self.images):
            raise IDXError(f"{self.root}: {len(self.images)} images but {len(labels)} labels")
        self.labels = labels.astype(np.int64)
        self.train = train

    def __getitem__(self, i):
        image, label = self.images[i], self.labels[i]
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"FashionMNIST({split}, {len(self)} images, from {self.root})"
