"""In-place ops — ``x += 1``, ``x.add_(y)``, ``x[i] = v``, ``x.zero_()``, ... — and the
versions and views they rely on (a mixin of the Tensor).

They follow PyTorch's rules:

- **Same object, same memory.** The result is written into ``x``'s array, so ``y = x;
  x += 1`` changes ``y`` too, and so does every view of ``x`` (``x[0]``, ``x.view(...)``).
- **Versions.** Each write bumps ``x._version`` (shared by ``x`` and its views). A graph node
  that saved ``x`` refuses to run its backward on the changed values (``autograd.Context``).
- **Leaves.** Outside ``no_grad`` a leaf that requires grad cannot be changed in place
  (its gradient would be meaningless); inside ``no_grad`` it can — the optimizer's update.
- **History.** When the op is recorded (grad mode on and ``x`` or the other operand
  requires grad) it is computed out of place on a private copy of ``x``'s old values, written
  into ``x``, and ``x`` takes the result's ``grad_fn``: backward goes through the op and on
  to ``x``'s old history. minigrad does not replay views, so a recorded in-place op on a
  view (or on a detached alias) is an error rather than a wrong gradient; use it on the
  base tensor, or out of place.
- **dtypes.** An arithmetic result may not go into a lower category (a float result into
  an int64 or int32 tensor is an error); an integer result goes into any integer tensor
  (int32 += int64 stays int32, wrapping as C does); ``copy_``, ``fill_`` and ``x[i] = v``
  convert, as PyTorch, refusing a Python number out of an integer tensor's range.
"""
import numbers

import numpy as np

from . import _dtype, random
from .autograd import is_grad_enabled, no_grad, storage_root
from .device import move
from .ops import shape as S

DETACHED = "detached"       # the _base of a .detach(): shares memory, not history


class InPlaceMixin:
    """The in-place methods of ``Tensor`` and the bookkeeping of versions and views (see
    the module docstring for the rules)."""

    _no_grad_view = False

    # ---- versions and views ------------------------------------------------------------
    @property
    def _version(self):
        return self._version_counter.value

    def _mark_written(self):
        """Count an in-place write made straight into ``data`` (an optimizer's update)."""
        self._version_counter.value += 1

    def _share_storage_with(self, inputs, roots=None, root=None):
        """Called on an op's output: when its array is a view of an input's memory (reshape,
        permute, basic indexing), it becomes a view of that input, sharing its versions.
        (``roots``, ``root``: the inputs' and the output's storage roots, when known.)"""
        root = storage_root(self._data) if root is None else root
        for t, input_root in zip(inputs, roots or [storage_root(t._data) for t in inputs]):
            if input_root is root:
                self._version_counter = t._version_counter
                self._base = t if t._base is None or t._base is DETACHED else t._base
                self._base_rebased = t._version_counter.rebased
                # made under no_grad from a tensor that needs grad: writing to it with grad
                # mode on is ambiguous (record the write or not?), PyTorch refuses it
                self._no_grad_view = t.requires_grad and not is_grad_enabled()
                return

    def _check_view_current(self):
        """A view made before its base's history changed (a recorded in-place op on the
        base) would carry the old history: refuse it instead of a wrong gradient."""
        if self._base is not None and self._base_rebased is not None and \
                self._version_counter.rebased != self._base_rebased:
            raise RuntimeError(
                "this tensor is a view of a tensor that was since changed by an in-place op "
                "recorded in the graph; minigrad cannot replay the view on the new history. "
                "Take the view again after the in-place op.")

    # ---- arithmetic --------------------------------------------------------------------
    def add_(self, other, alpha=1):
        other = other if alpha == 1 else other * alpha
        return self._arith_inplace("add_", other, lambda t, o: t + o)

    def sub_(self, other, alpha=1):
        other = other if alpha == 1 else other * alpha
        return self._arith_inplace("sub_", other, lambda t, o: t - o)

    def mul_(self, other):
        return self._arith_inplace("mul_", other, lambda t, o: t * o)

    def div_(self, other):
        return self._arith_inplace("div_", other, lambda t, o: t / o)

    def pow_(self, exponent):
        return self._arith_inplace("pow_", exponent, lambda t, o: t ** o)

    def floor_divide_(self, other):
        return self._arith_inplace("floor_divide_", other, lambda t, o: t // o)

    def remainder_(self, other):
        return self._arith_inplace("remainder_", other, lambda t, o: t % o)

    def clamp_(self, min=None, max=None):
        return self._arith_inplace("clamp_", None, lambda t, _: t.clamp(min, max))

    clip_ = clamp_

    def __iadd__(self, other): return self.add_(other)
    def __isub__(self, other): return self.sub_(other)
    def __imul__(self, other): return self.mul_(other)
    def __itruediv__(self, other): return self.div_(other)
    def __ipow__(self, other): return self.pow_(other)
    def __ifloordiv__(self, other): return self.floor_divide_(other)
    def __imod__(self, other): return self.remainder_(other)

    # ---- overwriting -------------------------------------------------------------------
    def copy_(self, src):
        """Write ``src`` (broadcast to this shape, converted to this dtype and device)."""
        from .tensor import Tensor
        src = src if isinstance(src, Tensor) else Tensor(src, device=self.device)
        if src.device != self.device:
            src = src.to(self.device)
        try:
            fits = np.broadcast_shapes(src.shape, self.shape) == self.shape
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(f"copy_: the source of shape {list(src.shape)} cannot be "
                               f"broadcast to {list(self.shape)}")
        return self._write("copy_", [src], lambda t: S.Overwrite.apply(t, src),
                           lambda a: a.__setitem__(Ellipsis, src._data))

    def fill_(self, value):
        if isinstance(value, InPlaceMixin):
            if value.ndim != 0:
                raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got "
                                   f"tensor with {value.ndim} dimensions.")
            return self.copy_(value)
        if _dtype.is_integer(self.dtype) and isinstance(value, numbers.Real) and \
                not isinstance(value, (bool, np.bool_)):
            _dtype.check_fits(value, self.dtype)            # fill_(300) on uint8: an error
            value = _dtype.wrap_integer(int(value), self.dtype)[()]   # fill_(-1): 255
        return self._write("fill_", [], lambda t: S.Overwrite.apply(t, np.asarray(value)),
                           lambda a: a.fill(value))

    def zero_(self):
        return self.fill_(0)

    def uniform_(self, a=0.0, b=1.0):
        """Fill with samples of U(a, b) from minigrad's generator."""
        return self._fill_random(lambda g: g.uniform(a, b, size=self.shape))

    def normal_(self, mean=0.0, std=1.0):
        """Fill with samples of N(mean, std²) from minigrad's generator."""
        return self._fill_random(lambda g: g.normal(mean, std, size=self.shape))

    def _fill_random(self, draw):
        if not _dtype.is_float(self.dtype):
            raise TypeError(f"random fills need a floating-point tensor, got {self.dtype}")
        values = move(np.asarray(draw(random.generator())).astype(self.dtype), self.device)
        return self._write("random fill", [], lambda t: S.Overwrite.apply(t, values),
                           lambda a: a.__setitem__(Ellipsis, values))

    def __setitem__(self, index, value):
        from .tensor import Tensor, _index_arrays
        index = _index_arrays(index, self)
        if isinstance(value, InPlaceMixin):
            v = value.to(self.device) if value.device != self.device else value
            if v.dtype != self.dtype:
                v = v.to(self.dtype)
        else:
            v = Tensor(value, dtype=self.dtype, device=self.device)
        steps = S.index_steps(index)
        return self._write("index_put_", [v], lambda t: S.IndexPut.apply(t, v, index),
                           lambda a: S.write(a, steps, v._data))

    # ---- the machinery -----------------------------------------------------------------
    def _arith_inplace(self, name, other, out_of_place):
        """``self = out_of_place(self, other)``, written into self's array."""
        others = [other] if isinstance(other, InPlaceMixin) else []
        if others and other.device != self.device:
            raise RuntimeError(f"{name}: expected both tensors on the same device, got "
                               f"{self.device} and {other.device}")
        with no_grad():                          # what would the result be? (no graph)
            probe = out_of_place(self, other)
        if probe.shape != self.shape:
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the "
                               f"broadcast shape {list(probe.shape)}")
        if not _dtype.can_cast(probe.dtype, self.dtype):
            raise RuntimeError(f"result type {_TYPE_NAMES[probe.dtype]} can't be cast to the "
                               f"desired output type {_TYPE_NAMES[self.dtype]}")
        return self._write(name, others, lambda t: out_of_place(t, other),
                           lambda a: a.__setitem__(Ellipsis, probe._data))

    def _write(self, name, others, out_of_place, in_place):
        """Apply an in-place op: record it (see the module docstring) or just write."""
        if is_grad_enabled() and self.requires_grad and self.is_leaf:
            through = "a view of " if name == "index_put_" else ""    # x[i] = v writes a view
            raise RuntimeError(f"{through}a leaf Variable that requires grad is being used in "
                               "an in-place operation.")
        _check_writable(self._data, name)
        if self._no_grad_view and is_grad_enabled():
            raise RuntimeError(
                "A view was created in no_grad mode and is being modified inplace with grad "
                "mode enabled. Given that this use case is ambiguous and error-prone, it is "
                "forbidden. You can clarify your code by moving both the view and the inplace "
                "either both inside the no_grad block (if you don't want the inplace to be "
                "tracked) or both outside (if you want the inplace to be tracked).")
        recording = is_grad_enabled() and (self.requires_grad or
                                           any(o.requires_grad for o in others))
        if recording:
            self._check_can_record_inplace(name)
            old = self._private_copy()
            out = out_of_place(old)
            if out.dtype != self.dtype:
                out = out.to(self.dtype)
            self._data[...] = out._data
            self.grad_fn, self._requires_grad = out.grad_fn, True
            self._version_counter.rebased += 1
        else:
            in_place(self._data)
        self._version_counter.value += 1
        return self

    def _check_can_record_inplace(self, name):
        if self._base is None:
            return
        base = self._base
        if getattr(base, "is_leaf", False) and base.requires_grad:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used "
                               "in an in-place operation.")
        raise RuntimeError(
            f"{name}: this tensor is a view of another tensor (or its .detach()), and the "
            "in-place op would need a gradient; minigrad does not track in-place changes "
            "through views. Apply it to the base tensor, or out of place (y = y + v).")

    def _private_copy(self):
        """A stand-in for this tensor's old value in the graph: a copy of its array with its
        history (``grad_fn``), so the in-place write cannot change what the op saved."""
        from .tensor import as_tensor
        old = as_tensor(self._data.copy())
        old.grad_fn, old._requires_grad = self.grad_fn, self.requires_grad
        return old


def _check_writable(array, name):
    if not getattr(getattr(array, "flags", None), "writeable", True):
        raise RuntimeError(f"{name}: this tensor's memory is read-only (it was made from a "
                           "read-only or broadcast array); .clone() it first")


_TYPE_NAMES = _dtype.TYPE_NAMES
