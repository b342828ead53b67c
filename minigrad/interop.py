"""A Tensor as a Python object: a number (``float(t)``, ``int(t)``, ``f"{t:.4f}"``, an
index), a sequence (``for row in t``), a NumPy array (``np.asarray(t)``), and a PyTorch
tensor when PyTorch functions are handed one (a mixin of the Tensor)."""
import numpy as np

from .gpu_state import capturing, refuse_during_capture


class InteropMixin:
    """PyTorch's conversions of a Tensor to Python, NumPy and PyTorch objects."""

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def item(self):
        if self._data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape "
                             f"{self.shape}")
        if capturing() and self.device.type == "cuda":
            refuse_during_capture("Tensor.item() (and float(t), int(t), bool(t), f\"{t}\")",
                                  "it copies a value from the GPU to the host")
        return self._data.reshape(()).item()

    def _python_scalar(self):
        if self._data.size != 1:
            raise ValueError(f"only one element tensors can be converted to Python scalars "
                             f"(this one has shape {self.shape})")
        return self.item()

    def __float__(self):
        return float(self._python_scalar())

    def __int__(self):
        return int(self._python_scalar())

    def __index__(self):
        if self.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to "
                            "an index")
        return int(self.item())

    def __format__(self, spec):
        """``f"{loss:.4f}"`` formats a 0-d tensor's value, as PyTorch."""
        if self.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__ (only a "
                            "0-d tensor formats as a number; use .item())")
        return repr(self)

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)``: the values as a NumPy array (CPU tensors without grad only)."""
        array = self.numpy()
        if dtype is not None:
            array = array.astype(dtype, copy=False)
        return array.copy() if copy else array

    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if self.device.type != "cpu":
            raise TypeError("can't convert a cuda tensor to numpy; use tensor.cpu() first")
        return self._data

    def tolist(self):
        return self.cpu().detach()._data.tolist()

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        """PyTorch calls this when one of its functions gets a minigrad tensor (it makes
        ``torch_model.load_state_dict(minigrad_model.state_dict())`` work): each minigrad
        tensor is handed over as a PyTorch CPU tensor holding a copy of its values."""
        import torch

        def convert(v):
            if isinstance(v, InteropMixin):
                return torch.from_numpy(np.array(v.detach().cpu()._data))
            if isinstance(v, (list, tuple)) and not hasattr(v, "_fields"):
                return type(v)(convert(x) for x in v)
            if isinstance(v, dict):
                return {k: convert(x) for k, x in v.items()}
            return v
        return func(*convert(tuple(args)), **convert(dict(kwargs or {})))
