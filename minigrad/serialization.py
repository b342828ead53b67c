"""``save`` and ``load`` for state dicts (a model's, an optimizer's, or a dict of them).

The file is an ``.npz``: every array under its own key, plus one JSON string that records
the nesting (dicts, lists, numbers, strings) and where each array goes. It is read with
``allow_pickle=False``, so loading a file can never run code."""
import json
import zipfile

import numpy as np

from .tensor import Tensor, as_tensor

FORMAT = "minigrad-checkpoint-1"
_META = "__structure__"


class CheckpointError(ValueError):
    """The file is not a minigrad checkpoint, or it is damaged."""


def save(obj, path):
    """Write ``obj`` (nested dicts/lists/tuples of Tensors, arrays, numbers, strings, None)
    to ``path``. Tensors are saved from wherever they are and load onto the CPU."""
    arrays = {}

    def encode(v):
        if isinstance(v, Tensor):
            v = v.data
        if hasattr(v, "__cuda_array_interface__"):
            v = v.get()
        if isinstance(v, np.ndarray):
            key = f"a{len(arrays)}"
            arrays[key] = v
            return {"__array__": key}
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

    structure = json.dumps({"format": FORMAT, "root": encode(obj)})
    with open(path, "wb") as f:
        np.savez(f, **arrays, **{_META: np.array(structure)})


def load(path):
    """Read what ``save`` wrote. Arrays come back as CPU Tensors. A damaged, truncated or
    foreign file raises ``CheckpointError`` naming the file."""
    try:
        with np.load(path, allow_pickle=False) as z:
            files = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        raise CheckpointError(f"{path} is not a readable minigrad checkpoint "
                              f"({type(e).__name__}: {e})") from None
    if _META not in files:
        raise CheckpointError(f"{path} is an .npz file but not a minigrad checkpoint "
                              f"(no {_META} entry)")
    try:
        meta = json.loads(str(files.pop(_META)))
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
                if v["__array__"] not in files:
                    raise CheckpointError(f"{path}: array {v['__array__']} is missing")
                return as_tensor(files[v["__array__"]])
            if "__tuple__" in v:
                return tuple(decode(x) for x in v["__tuple__"])
            if "__dict__" in v:
                return {_hashable(decode(k)): decode(x) for k, x in v["__dict__"]}
            raise CheckpointError(f"{path}: malformed checkpoint entry {v!r:.80}")
        return v

    return decode(meta["root"])


def _hashable(k):
    return tuple(k) if isinstance(k, list) else k
