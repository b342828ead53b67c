"""Devices: "cpu" holds NumPy arrays, "cuda" holds CuPy arrays."""
import numpy as np


class device:
    """A device name, as in PyTorch: ``minigrad.device("cuda")`` or ``device("cpu")``.

    Accepted wherever a device string is. ``"cuda:0"`` means ``"cuda"`` (one GPU only)."""

    __slots__ = ("type",)

    def __init__(self, spec):
        if isinstance(spec, device):
            self.type = spec.type
            return
        name = str(spec) if isinstance(spec, str) else None
        if name in ("cpu", "cuda", "cuda:0"):
            self.type = name.split(":")[0]
        else:
            raise ValueError(f"unknown device {spec!r}: expected 'cpu' or 'cuda'")

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


CPU = device("cpu")
CUDA = device("cuda")


def of_array(array):
    """The device an array lives on: GPU arrays expose ``__cuda_array_interface__``."""
    return CUDA if hasattr(array, "__cuda_array_interface__") else CPU


def array_module(array):
    """numpy for a CPU array, cupy for a GPU one: the `xp` the generic ops compute with."""
    if of_array(array) is CPU:
        return np
    import cupy
    return cupy


def module_for(dev):
    """numpy or cupy for a device; asking for cuda checks that it is usable."""
    if device(dev).type == "cpu":
        return np
    from . import cuda
    cuda.require()
    import cupy
    return cupy


def move(array, dev):
    """Copy an array to a device (or return it as it is when it is already there)."""
    dev = device(dev)
    if of_array(array) == dev:
        return array
    if dev.type == "cpu":
        return array.get()
    return module_for(dev).asarray(array)
