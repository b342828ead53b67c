"""default_collate's dtype and container rules against PyTorch's."""
import collections

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate as torch_collate

import minigrad
from minigrad.utils.data import default_collate

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
