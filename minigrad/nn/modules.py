"""``Module``, the container of parameters and sub-modules, and the layers built on it.
Names, parameter layouts, initialisation and ``repr`` follow PyTorch's, so a state_dict
moves between the two frameworks as it is."""
import collections
import math

import numpy as np

from .. import _dtype
from ..arguments import pair
from ..autograd import no_grad as _no_grad
from ..device import device as Device
from ..device import move
from ..gpu_state import require as require_gpu
from ..tensor import Tensor, as_tensor, parse_to_args
from . import functional as F
from . import init
from .hooks import BackwardCall, HookHandle
from .parameter import Parameter

IncompatibleKeys = collections.namedtuple("IncompatibleKeys",
                                          ["missing_keys", "unexpected_keys"])


_hooks_used = False     # has any module had a forward hook in this process?


class Module:
    """Base class of every layer and model. Assigning a Parameter or a Module to an attribute
    registers it, in order, under that name."""

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"call Module.__init__() in {type(self).__name__}.__init__ "
                                 "before assigning attributes")
        # PyTorch's rules: a Parameter or a Module takes the name over (keeping its place
        # when it replaces one of its kind); a name that holds a parameter, a sub-module or a
        # buffer takes only its kind or None; anything else is a plain attribute
        params, modules = self._parameters, self._modules
        buffers = self.__dict__.setdefault("_buffers", {})      # (modules pickled before
        self.__dict__.setdefault("_non_persistent", set())      # buffers existed)
        if isinstance(value, (Parameter, Module)):
            own = params if isinstance(value, Parameter) else modules
            for table in (params, modules, buffers, self.__dict__):
                if table is not own:
                    table.pop(name, None)
            self._non_persistent.discard(name)
            own[name] = value
        elif name in params or name in modules:
            if value is not None:
                kind = "parameter" if name in params else "child module"
                expected = "nn.Parameter" if name in params else "nn.Module"
                raise TypeError(f"cannot assign '{_type_of(value)}' as {kind} '{name}' "
                                f"({expected} or None expected)")
            (params if name in params else modules)[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_type_of(value)}' as buffer '{name}' "
                                "(Tensor or None expected)")
            buffers[name] = value                   # a buffer stays a buffer
        else:
            object.__setattr__(self, name, value)

    def __delattr__(self, name):
        """``del model.fc``: removes a parameter, buffer or sub-module (or an attribute)."""
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def __getattr__(self, name):
        d = self.__dict__
        for table in ("_parameters", "_modules", "_buffers"):
            if table in d and name in d[table]:
                return d[table][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for an absent one such as bias=False)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name} must be a Parameter or None")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Keep ``tensor`` (or None) as state that is not a parameter — running statistics,
        a fixed mask: ``self.name`` gives it, ``.to()`` moves it, ``state_dict`` holds it
        (unless ``persistent=False``), the optimizer never sees it."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"buffer name must be a non-empty string without '.', got {name!r}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                            f"'{name}' (torch Tensor or None required)")
        if name in self._parameters or name in self._modules or \
                (name in self.__dict__ and name not in self._buffers):
            raise KeyError(f"attribute '{name}' already exists")
        self._buffers[name] = tensor
        (self._non_persistent.discard if persistent else self._non_persistent.add)(name)

    def named_buffers(self, prefix="", recurse=True):
        """(dotted name, buffer) pairs, each buffer once."""
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, module in modules:
            for name, b in module._buffers.items():
                if b is None or id(b) in seen:
                    continue
                seen.add(id(b))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), b

    def buffers(self, recurse=True):
        return (b for _, b in self.named_buffers(recurse=recurse))

    def _state_items(self):
        """(dotted name, tensor) of the state_dict: each module's parameters, then its
        persistent buffers, module by module (PyTorch's order)."""
        for prefix, module in self.named_modules(remove_duplicate=False):
            dot = f"{prefix}." if prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    yield dot + name, p
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    yield dot + name, b

    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    # True on an instance while it holds a hook of any kind. Until some module
    # has had a hook, a call does not even read it (an attribute read costs tens of ns on a
    # class with __getattr__): one global check, then forward.
    _has_hooks = False

    def __call__(self, *args, **kwargs):
        if _hooks_used and self._has_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def __setstate__(self, state):
        """Unpickling (and deepcopy): the state as it was, hooks included."""
        global _hooks_used
        self.__dict__.update(state)
        _hooks_used = _hooks_used or bool(state.get("_has_hooks"))

    # ---- hooks -------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call ``hook(module, args)`` before each forward (``hook(module, args, kwargs)``
        with ``with_kwargs``). What it returns, if not None, replaces the input: a tuple
        of arguments, or one value taken as the only argument (with ``with_kwargs``: an
        ``(args, kwargs)`` pair). Hooks run in the order registered (``prepend`` puts this
        one first). Returns a handle whose ``remove()`` takes it off."""
        return self._add_hook("_forward_pre_hooks", hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call ``hook(module, args, output)`` after each forward (``hook(module, args,
        kwargs, output)`` with ``with_kwargs``), ``args`` being what forward received.
        What it returns, if not None, replaces the output (the next hook sees the new
        one). Returns a handle whose ``remove()`` takes it off."""
        return self._add_hook("_forward_hooks", hook, prepend, with_kwargs)

    def register_full_backward_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_input, grad_output)`` when the gradient of the module's
        input has been computed: tuples of the gradients with respect to the positional
        inputs (None for those that are not tensors requiring grad) and to the output. A
        tuple it returns replaces grad_input. minigrad hooks modules with at most one
        input that requires grad and a single tensor output (see ``nn.hooks``)."""
        return self._add_hook("_backward_hooks", hook, prepend, False)

    def _add_hook(self, table, hook, prepend, with_kwargs):
        if not callable(hook):
            raise TypeError(f"hook must be callable, got {type(hook).__name__}")
        hooks = self.__dict__.get(table)
        if hooks is None:
            hooks = {}
            object.__setattr__(self, table, hooks)
        handle = HookHandle(self, table)
        hooks[handle.id] = (hook, bool(with_kwargs))
        if prepend:
            for key in [k for k in hooks if k != handle.id]:
                hooks[key] = hooks.pop(key)               # move the others behind it
        object.__setattr__(self, "_has_hooks", True)
        global _hooks_used
        _hooks_used = True
        return handle

    def _call_with_hooks(self, args, kwargs):
        d = self.__dict__
        backward = d.get("_backward_hooks")
        if backward:
            backward = BackwardCall(self, [hook for hook, _ in backward.values()])
        for hook, with_kwargs in list(d.get("_forward_pre_hooks", {}).values()):
            if with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {result}.")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        if backward:
            args = backward.wrap_inputs(args)
        output = self.forward(*args, **kwargs)
        for hook, with_kwargs in list(d.get("_forward_hooks", {}).values()):
            result = hook(self, args, kwargs, output) if with_kwargs else \
                hook(self, args, output)
            if result is not None:
                output = result
        return backward.wrap_output(output) if backward else output

    # ---- walking the tree --------------------------------------------------------------
    def named_children(self):
        """(name, child) pairs; a child registered under two names comes once (PyTorch)."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        return (m for _, m in self.named_children())

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module and every one below it; a module shared
        by several parents comes once, under its first name (unless remove_duplicate is
        False)."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                               remove_duplicate)

    def modules(self):
        return (m for _, m in self.named_modules())

    def apply(self, fn):
        """Call ``fn`` on every sub-module (children first, then this one) and return self:
        ``net.apply(init_weights)``."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def named_parameters(self, prefix="", recurse=True):
        """(dotted name, parameter) pairs, e.g. ("net.0.weight", ...); each parameter once."""
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, module in modules:
            for name, p in module._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), p

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    # ---- modes, devices, gradients -----------------------------------------------------
    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def to(self, *args, dtype=None, device=None):
        """Move (and/or cast) every parameter in place; the Parameter objects stay the same,
        so an optimizer built before still updates them."""
        dtype, device = parse_to_args(args, dtype, device)
        if device is not None:
            device = Device(device)
            if device.type == "cuda":
                require_gpu()
        if dtype is not None:
            dtype = _dtype.as_dtype(dtype)
            if not _dtype.is_float(dtype):
                raise TypeError(f"Module.to: parameters must stay floating point, not {dtype}")
        for p in self.parameters():
            for t in (p, p.grad):
                if t is None:
                    continue
                if dtype is not None:
                    t._data = t._data.astype(dtype, copy=False)
                if device is not None:
                    t._data = move(t._data, device)
        for module in self.modules():           # buffers: moved; cast only if floating
            for name, b in module._buffers.items():
                if b is None:
                    continue
                if dtype is not None and _dtype.is_float(b.dtype):
                    b = b.to(dtype)
                if device is not None:
                    b = b.to(device)
                module._buffers[name] = b
        return self

    def float(self):
        return self.to(_dtype.float32)

    def double(self):
        return self.to(_dtype.float64)

    def cuda(self):
        return self.to("cuda")

    def cpu(self):
        return self.to("cpu")

    def requires_grad_(self, requires_grad=True):
        """Turn gradients of every parameter on or off (off: a frozen layer)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """As Optimizer.zero_grad: drop the gradients (a CUDA graph's are zeroed instead)."""
        from ..optim.optimizer import clear_grad
        for p in self.parameters():
            clear_grad(p, set_to_none)

    # ---- state -------------------------------------------------------------------------
    def state_dict(self):
        """An ordered dict of dotted name -> Tensor (sharing memory with the parameter)."""
        return collections.OrderedDict(
            (name, as_tensor(t._data)) for name, t in self._state_items())

    def load_state_dict(self, state_dict, strict=True):
        """Copy values (minigrad Tensors or arrays) into the parameters, keeping each one's
        device and dtype. With ``strict``, a missing or unexpected key is an error; a shape
        mismatch always is. Returns (missing_keys, unexpected_keys)."""
        own = dict(self._state_items())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        for name, p in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            array = value._data if isinstance(value, Tensor) else value
            shape = tuple(getattr(array, "shape", np.shape(array)))
            if shape != p.shape:
                problems.append(f"size mismatch for {name}: copying a param with shape {shape} "
                                f"from the checkpoint, the shape in the current model is {p.shape}")
        if strict:
            if missing:
                problems.insert(0, "Missing key(s) in state_dict: " +
                                ", ".join(f'"{k}"' for k in missing) + ".")
            if unexpected:
                problems.insert(0, "Unexpected key(s) in state_dict: " +
                                ", ".join(f'"{k}"' for k in unexpected) + ".")
        if problems:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(problems))
        for name, p in own.items():
            if name in state_dict:
                value = state_dict[name]
                array = value._data if isinstance(value, Tensor) else np.asarray(value)
                p._data = move(array, p.device).astype(p.dtype, copy=True)
        return IncompatibleKeys(missing, unexpected)

    # ---- printing ----------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        """PyTorch's layout: ``Name(extra)`` for a leaf layer, else one indented line per
        child, ``(name): repr``."""
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {child_repr}")
        if not lines:
            return f"{type(self).__name__}()"
        if not self._modules and len(lines) == 1:
            return f"{type(self).__name__}({lines[0]})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


def _type_of(value):
    """PyTorch's name for a value's type in assignment errors (minigrad.FloatTensor, int)."""
    if isinstance(value, Tensor):
        from ..tensor import type_name
        return type_name(value)
    return type(value).__name__


class Sequential(Module):
    """Modules applied one after another; indexable like a list."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], collections.OrderedDict):
            for name, m in modules[0].items():
                setattr(self, name, m)
        else:
            for i, m in enumerate(modules):
                if not isinstance(m, Module):
                    raise TypeError(f"Sequential: item {i} is a {type(m).__name__}, not a Module")
                setattr(self, str(i), m)

    def __getitem__(self, index):
        if isinstance(index, slice):     # keeps the children's names, as PyTorch does
            return Sequential(collections.OrderedDict(list(self._modules.items())[index]))
        items = list(self._modules.values())
        if not -len(items) <= index < len(items):
            raise IndexError(f"index {index} is out of range for a Sequential of "
                             f"{len(items)} modules")
        return items[index]

    def __setitem__(self, index, module):
        """``seq[i] = layer`` replaces the i-th module, keeping its name."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._modules[list(self._modules)[index]] = module

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x


def _uniform_parameter(shape, bound):
    p = Parameter(np.zeros(shape, dtype=_dtype.get_default_dtype()))
    return init.uniform_(p, -bound, bound)


class Linear(Module):
    """y = x @ Wᵀ + b, W (out_features, in_features); PyTorch's initialisation."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = init.kaiming_uniform_(
            Parameter(np.zeros((out_features, in_features), _dtype.get_default_dtype())),
            a=math.sqrt(5))
        bound = 1 / math.sqrt(in_features) if in_features > 0 else 0.0     # as PyTorch
        bias = _uniform_parameter((out_features,), bound) if bias else None
        self.register_parameter("bias", bias)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Conv2d(Module):
    """2-D convolution with weight (out, in, KH, KW); PyTorch's initialisation."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros"):
        super().__init__()
        F._refuse_conv_options(dilation, groups, padding_mode)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.padding = pair(padding, "padding")
        shape = (out_channels, in_channels) + self.kernel_size
        self.weight = init.kaiming_uniform_(
            Parameter(np.zeros(shape, _dtype.get_default_dtype())), a=math.sqrt(5))
        fan_in = in_channels * self.kernel_size[0] * self.kernel_size[1]
        bias = _uniform_parameter((out_channels,), 1 / math.sqrt(fan_in)) if bias else None
        self.register_parameter("bias", bias)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.bias is None:
            s += ", bias=False"
        return s


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__()
        if dilation != 1 or ceil_mode:
            raise NotImplementedError("MaxPool2d: minigrad supports dilation=1 and "
                                      "ceil_mode=False only")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                "dilation=1, ceil_mode=False")


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class ReLU(Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x, self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class _WeightedLoss(Module):
    """A loss with optional per-class weights, which ``to()`` moves and casts with it (they
    are not parameters: nothing trains them)."""

    def __init__(self, weight, ignore_index, reduction):
        super().__init__()
        self.weight, self.ignore_index, self.reduction = weight, ignore_index, reduction

    def to(self, *args, dtype=None, device=None):
        super().to(*args, dtype=dtype, device=device)
        if self.weight is not None:
            dtype, device = parse_to_args(args, dtype, device)
            self.weight = self.weight.to(device=device, dtype=dtype)
        return self


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy on raw logits and int64 class targets, mean over the batch by default;
    PyTorch's ``weight``, ``ignore_index`` and ``label_smoothing`` (see F.cross_entropy)."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, ignore_index, reduction)
        self.label_smoothing = label_smoothing

    def forward(self, logits, target, stats=None):
        """``stats``: running loss and accuracy totals to add this batch to (see
        ``nn.functional.cross_entropy`` and ``nn.TrainingStats``)."""
        return F.cross_entropy(logits, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing,
                               stats=stats)


class TrainingStats:
    """An epoch's loss and accuracy, summed on the device as training goes: pass ``totals``
    as the ``stats`` of the loss (``loss_fn(y_hat, y, stats=meter.totals)``), read the
    result once at the end of the epoch (``meter.read()``, the only copy to the host).

    totals = [Σ batch mean losses, Σ correct predictions, Σ samples, Σ batches] (float64)."""

    def __init__(self, device="cpu"):
        from ..creation import zeros
        self.totals = zeros(4, dtype=_dtype.float64, device=device)

    def reset(self):
        with _no_grad():
            self.totals.zero_()

    def read(self):
        """{"loss": mean of the batch losses, "accuracy": correct / samples, "samples",
        "batches"} (NaN for the means when nothing was added)."""
        loss_sum, correct, samples, batches = (float(v) for v in self.totals.cpu()._data)
        return {"loss": loss_sum / batches if batches else float("nan"),
                "accuracy": correct / samples if samples else float("nan"),
                "samples": int(samples), "batches": int(batches)}


# ==== the layers of PyTorch's MNIST example and d2l's LeNet ==================================
class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (a LogSoftmax's output); see
    F.nll_loss."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight, ignore_index, reduction)

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class LogSoftmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        if dim is None:
            raise ValueError("LogSoftmax: give the dim (minigrad does not guess it)")
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Dropout(Module):
    """During training, zero each element with probability p and scale the others by
    1/(1 − p); in eval() mode, the identity. See F.dropout."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class AvgPool2d(Module):
    """The mean over each window; see F.avg_pool2d."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
