"""PyTorch's ``torch.utils.data``: map-style datasets and the DataLoader that batches them.

A map-style dataset is anything with ``dataset[i]`` (sample i) and ``len(dataset)``; a
sample is a tensor, an array, a number, or a tuple, list or dict of those. The DataLoader
draws indices (in order, or shuffled by minigrad's generator, so ``manual_seed`` makes the
order repeat), fetches the samples and stacks them into batches with ``default_collate``.
A TensorDataset is batched by one gather per tensor instead of sample by sample.

Everything runs in the calling process: ``num_workers``, ``pin_memory``, ``timeout``,
``worker_init_fn``, ``prefetch_factor`` and ``persistent_workers`` are accepted, so that
PyTorch code passes them unchanged, and have no effect.

(``minigrad.data.ArrayLoader``, the LeNet example's loader, is a different one: it converts
a whole in-memory image set once, on its device, and yields (images, labels) batches.)
"""
import collections.abc
import numbers

import numpy as np

from .. import random
from ..tensor import Tensor, as_tensor


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} does not define __getitem__")


class TensorDataset(Dataset):
    """Sample i is ``(t[i] for t in tensors)``: tensors that share their first dim."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        sizes = [t.shape[0] if isinstance(t, Tensor) and t.ndim else None for t in tensors]
        if None in sizes or len(set(sizes)) != 1:
            shapes = [getattr(t, "shape", type(t).__name__) for t in tensors]
            raise ValueError(f"TensorDataset: every argument must be a tensor with the same "
                             f"first dim (the sample index), got {shapes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, renumbered from 0."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index):
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


def default_collate(batch):
    """Stack a list of samples into one batch, as PyTorch's default_collate does:
    tensors and arrays are stacked along a new first dim (into a tensor; tensors that require
    grad are stacked in the graph, as PyTorch's torch.stack does), Python numbers become a
    tensor as ``tensor(batch)`` makes it when the first is an int or a bool (int64, or
    float32 if a float is among them) and a float64 one when it is a float; strings and bytes
    stay as they are; named tuples stay named tuples, other tuples and lists are collated
    position by position (giving a list), dicts key by key."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        if any(b.requires_grad for b in batch):
            from ..functions import stack
            return stack(batch)
        xp = elem.xp
        return as_tensor(xp.stack([b._data for b in batch]))
    if isinstance(elem, (np.ndarray, np.generic)) and elem.dtype.kind in "biuf":
        return as_tensor(np.stack([np.asarray(b) for b in batch]))
    if isinstance(elem, numbers.Integral):              # bool or int: as tensor(batch)
        return Tensor(list(batch))
    if isinstance(elem, numbers.Real):
        return as_tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return batch                                    # as given (a tuple within a sample)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([b[key] for b in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):      # a named tuple
        return type(elem)(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(b) != len(elem) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(samples) for samples in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(elem).__name__}")


class DataLoader:
    """Batches of ``batch_size`` samples of a map-style dataset, PyTorch's arguments:
    ``shuffle`` (a new order every epoch, from minigrad's generator), ``sampler`` (any
    iterable of indices, instead of shuffle), ``drop_last`` (leave out a last, smaller
    batch), ``collate_fn`` (how a list of samples becomes a batch; default_collate by
    default). ``len(loader)`` is the number of batches, ``loader.dataset`` the dataset."""

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False,
                 timeout=0, worker_init_fn=None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device=""):
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(f"DataLoader needs a map-style dataset (with __getitem__ and "
                            f"__len__), got {type(dataset).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None or generator is not None:
            raise NotImplementedError("DataLoader: batch_sampler and generator are not "
                                      "supported (shuffling draws from minigrad's generator)")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.sampler, self.drop_last = bool(shuffle), sampler, drop_last
        self.collate_fn = collate_fn
        self.num_workers, self.pin_memory = num_workers, pin_memory   # no effect: see above

    def __len__(self):
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self):
        if self.sampler is not None:
            return np.fromiter(iter(self.sampler), dtype=np.int64)
        n = len(self.dataset)
        return random.generator().permutation(n) if self.shuffle else np.arange(n)

    def __iter__(self):
        order = self._order()
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is None
        collate = self.collate_fn or default_collate
        for start in range(0, stop, self.batch_size):
            indices = order[start:start + self.batch_size]
            if fast:        # one gather per tensor, instead of sample by sample and a stack
                yield [as_tensor(t._data[t.xp.asarray(indices)]) for t in self.dataset.tensors]
            else:
                yield collate([self.dataset[int(i)] for i in indices])


class ConcatDataset(Dataset):
    """The samples of several datasets one after the other: sample i is found in the
    dataset whose cumulative size first exceeds i."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        self.cumulative_sizes, total = [], 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        import bisect
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def random_split(dataset, lengths, generator=None):
    """``dataset`` cut into non-overlapping Subsets of the given ``lengths`` (ints summing to
    its length, or fractions summing to 1: floors, the remainder given one by one to the
    first subsets, as PyTorch), after a random permutation from minigrad's generator (so
    ``manual_seed`` repeats it; the permutation is not PyTorch's)."""
    n = len(dataset)
    lengths = list(lengths)
    if all(0 <= f <= 1 for f in lengths) and abs(sum(lengths) - 1) < 1e-9 and sum(lengths) != n:
        sizes = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = random.generator(generator).permutation(n).tolist()
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, order[start:start + length]))
        start += length
    return out
