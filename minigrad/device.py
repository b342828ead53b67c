"""Devices, and the one vocabulary for asking where an array lives.

"cpu" holds NumPy arrays, "cuda" holds CuPy arrays. Three questions, one function each:

- ``device_of(array)``: which device holds it (a ``device``; compare with ``== "cpu"``);
- ``get_array_module(*arrays)``: the module to compute with, ``numpy`` or ``cupy``, as
  CuPy's own ``cupy.get_array_module`` answers it — generic array code reads
  ``xp = get_array_module(a)`` and then ``xp.exp(a)``, the same line on both devices;
- ``device(...).array_module``: the same module for a device, to make a new array there.

The third lookup, "which backend computes this layer", is ``minigrad.backend.backend_of``.
"""
import numpy as np

from .gpu_state import capturing, refuse_during_capture, require


class device:
    """A device name, as in PyTorch: ``minigrad.device("cuda")`` or ``device("cpu")``.

    Accepted wherever a device string is. ``"cuda:0"`` means ``"cuda"`` (one GPU only)."""

    __slots__ = ("type",)

    def __init__(self, spec):
        if isinstance(spec, device):
            self.type = spec.type
            return
        if not isinstance(spec, str) and not looks_like_a_device(spec):
            raise TypeError(f"expected a device, got {spec!r} of type {type(spec).__name__}")
        name = str(spec)          # a foreign device object (torch.device) by its name
        if name in ("cpu", "cuda", "cuda:0"):
            self.type = name.split(":")[0]
        else:
            raise ValueError(f"unknown device {spec!r}: expected 'cpu' or 'cuda'")

    @property
    def array_module(self):
        """numpy for "cpu", cupy for "cuda" (asking for cuda checks that it is usable)."""
        if self.type == "cpu":
            return np
        require()
        import cupy
        return cupy

    def __eq__(self, other):
        try:
            return self.type == device(other).type
        except (ValueError, TypeError):
            return NotImplemented

    def __hash__(self):
        return hash(self.type)

    def __str__(self):
        return self.type

    def __repr__(self):
        return f"device(type='{self.type}')"


def looks_like_a_device(obj):
    """A device of another library (``torch.device("cpu")``): a ``type`` attribute and a
    name that is a device name."""
    return isinstance(getattr(obj, "type", None), str) and str(obj).split(":")[0] in (
        "cpu", "cuda")


CPU = device("cpu")
CUDA = device("cuda")


_ON_GPU = {np.ndarray: False, np.generic: False}   # array type -> is it GPU memory?


def on_gpu(array):
    """Is ``array`` GPU memory? GPU arrays expose ``__cuda_array_interface__``. The answer
    is kept per type where the type itself answers: reading the attribute of a CuPy array
    builds a dict every time, and every op asks."""
    kind = type(array)
    known = _ON_GPU.get(kind)
    if known is None:
        if hasattr(kind, "__cuda_array_interface__"):       # a property of the class
            known = _ON_GPU[kind] = True
        elif issubclass(kind, (np.ndarray, np.generic)):
            known = _ON_GPU[kind] = False
        else:                           # an object that may carry it on itself: ask it
            return hasattr(array, "__cuda_array_interface__")
    return known


def device_of(array):
    """The device an array lives on (see ``on_gpu``)."""
    return CUDA if on_gpu(array) else CPU


def get_array_module(*arrays):
    """numpy when every array is on the CPU, else cupy: the ``xp`` of generic array code."""
    if all(device_of(a) is CPU for a in arrays):
        return np
    import cupy
    return cupy


def move(array, dev):
    """Copy an array to a device (or return it as it is when it is already there). A copy
    between host and GPU cannot be part of a CUDA graph: refused during a capture."""
    dev = device(dev)
    if device_of(array) == dev:
        return array
    if capturing():
        refuse_during_capture(f"a copy of a {tuple(array.shape)} array to the "
                              f"{'GPU' if dev.type == 'cuda' else 'CPU'}")
    if dev.type == "cpu":
        return array.get()
    return dev.array_module.asarray(array)
