"""``save`` and ``load`` for state dicts (a model's, an optimizer's, or a dict of them).

The file is an ``.npz``: every array under its own key, plus one JSON string that records
the nesting (dicts, lists, numbers, strings), where each array goes, and whether it was a
Parameter or required grad. It is read with ``allow_pickle=False``, so loading a file can
never run code. It is written atomically (``atomic_write``): a crash, a Ctrl-C or a full
disk during ``save`` leaves the previous file at that path as it was."""
import contextlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .device import device as Device
from .tensor import Tensor, as_tensor

FORMAT = "minigrad-checkpoint-1"
_META = "__structure__"


class CheckpointError(ValueError):
    """The file is not a minigrad checkpoint, or it is damaged."""


def atomic_write(path, write):
    """Write the file ``path`` all or nothing: ``write(f)`` fills a temporary file in the
    same folder (a binary file object), which is flushed and fsync'ed, then renamed over
    ``path`` — one atomic step — and the folder is fsync'ed so the rename is on disk too.
    If anything fails or interrupts it (an exception, KeyboardInterrupt), the temporary file
    is removed and ``path`` keeps its old contents."""
    path = Path(path)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):          # not every file system can fsync a folder
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def save(obj, path):
    """Write ``obj`` (nested dicts/lists/tuples of Tensors, arrays, numbers, strings, None)
    to ``path``, atomically, or into a binary file object (``io.BytesIO``, as PyTorch takes).
    Tensors are saved from wherever they are and load onto the CPU (or ``map_location``) with
    their ``requires_grad`` and Parameter type."""
    from .nn.parameter import Parameter
    arrays = {}

    def encode(v):
        flags = {}
        if isinstance(v, Tensor):
            flags = {"requires_grad": True} if v.requires_grad else {}
            if isinstance(v, Parameter):
                flags["parameter"] = True
            v = v._data
        if hasattr(v, "__cuda_array_interface__"):
            v = v.get()
        if isinstance(v, np.ndarray):
            if v.dtype.hasobject:
                raise TypeError("save: cannot store an array of Python objects (dtype "
                                f"{v.dtype}); only numeric and bool arrays load back safely")
            key = f"a{len(arrays)}"
            arrays[key] = v
            return {"__array__": key, **flags}
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, dict):
            return {"__dict__": [[encode(k), encode(x)] for k, x in v.items()]}
        if isinstance(v, tuple):
            return {"__tuple__": [encode(x) for x in v]}
        if isinstance(v, list):
            return [encode(x) for x in v]
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        raise TypeError(f"save: cannot store a value of type {type(v).__name__}")

    try:
        structure = json.dumps({"format": FORMAT, "root": encode(obj)})
    except RecursionError:
        raise ValueError("save: the object is nested too deeply to store") from None
    # a missing folder: say so, not "no such file" about the temporary file written first
    folder = os.path.dirname(os.path.abspath(os.fspath(path))) \
        if isinstance(path, (str, os.PathLike)) else None
    if folder is not None and not os.path.isdir(folder):
        raise RuntimeError(f"save: Parent directory {folder} does not exist.")
    def write(f):
        np.savez(f, **arrays, **{_META: np.array(structure)})
    if hasattr(path, "write"):                  # a file object (io.BytesIO, open(..., "wb"))
        write(path)
    else:
        atomic_write(path, write)


def load(path, map_location=None, weights_only=None):
    """Read what ``save`` wrote. Arrays come back as Tensors on the CPU, or on
    ``map_location`` ("cpu", "cuda" or a device). ``weights_only`` is accepted for PyTorch's
    sake: a minigrad file only ever holds data, so it is always "weights only". A damaged,
    truncated or foreign file raises ``CheckpointError`` naming the file."""
    target = Device(map_location) if map_location is not None else None
    try:
        loaded = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        raise CheckpointError(f"{path} is not a readable minigrad checkpoint "
                              f"({type(e).__name__}: {e})") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise CheckpointError(f"{path} is a NumPy .npy array, not a minigrad checkpoint "
                              "(minigrad.save writes .npz files)")
    try:
        with loaded as z:
            files = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        raise CheckpointError(f"{path} is not a readable minigrad checkpoint "
                              f"({type(e).__name__}: {e})") from None
    if _META not in files:
        raise CheckpointError(f"{path} is an .npz file but not a minigrad checkpoint "
                              f"(no {_META} entry)")
    try:
        meta = json.loads(str(files.pop(_META)))
    except RecursionError:
        raise CheckpointError(f"{path}: its structure is nested too deeply to load") from None
    except ValueError as e:
        raise CheckpointError(f"{path}: its structure record is damaged ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: unknown checkpoint format {meta.get('format')!r}"
                              if isinstance(meta, dict) else f"{path}: malformed checkpoint")

    def decode(v):
        if isinstance(v, list):
            return [decode(x) for x in v]
        if isinstance(v, dict):
            if "__array__" in v:
                return _tensor(v, files, path, target)
            if "__tuple__" in v:
                return tuple(decode(x) for x in v["__tuple__"])
            if "__dict__" in v:
                return {_hashable(decode(k)): decode(x) for k, x in v["__dict__"]}
            raise CheckpointError(f"{path}: malformed checkpoint entry {v!r:.80}")
        return v

    try:
        return decode(meta["root"])
    except RecursionError:
        raise CheckpointError(f"{path}: its structure is nested too deeply to load") from None
    except (TypeError, ValueError, KeyError) as e:
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(f"{path}: malformed checkpoint ({type(e).__name__}: {e})") \
            from None


def _tensor(entry, files, path, target):
    from .nn.parameter import Parameter
    if entry["__array__"] not in files:
        raise CheckpointError(f"{path}: array {entry['__array__']} is missing")
    t = as_tensor(files[entry["__array__"]])
    if target is not None:
        t = t.to(target)
    if entry.get("parameter"):
        return Parameter(t, requires_grad=bool(entry.get("requires_grad")))
    return t.requires_grad_(True) if entry.get("requires_grad") else t


def _hashable(k):
    return tuple(k) if isinstance(k, list) else k
