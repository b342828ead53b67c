"""Module hooks: the handle that removes one, and the nodes behind
``register_full_backward_hook``.

A full backward hook is called as ``hook(module, grad_input, grad_output)`` once the
gradient of the module's input is known. minigrad gets there with two identity ops put
around each hooked call: one on the input (its backward is where the input's whole gradient
arrives: the hook runs there, and what it returns goes on) and one on the output (its
backward records grad_output; when no input needs a gradient, the hook runs there with
grad_input None, as PyTorch's does). A graph node has one input gradient to pass on at a
time, so minigrad hooks modules whose tensor inputs include at most one that requires
grad, and whose output is one tensor."""
from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor, as_tensor

TABLES = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks")


class HookHandle:
    """What the ``register_*_hook`` methods return: ``remove()`` takes the hook off (once
    the module holds no hook, calls skip the hook path again); as a context manager, the
    hook is removed when the block ends."""

    _next_id = [0]

    def __init__(self, module, table):
        self.id = HookHandle._next_id[0]
        HookHandle._next_id[0] += 1
        self._module, self._table = module, table

    def remove(self):
        d = self._module.__dict__
        d.get(self._table, {}).pop(self.id, None)
        if not any(d.get(table) for table in TABLES):
            d["_has_hooks"] = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


class BackwardCall:
    """One call of a module with full backward hooks: wraps its input and output in the
    identity ops, and calls the hooks when the backward reaches the input."""

    def __init__(self, module, hooks):
        self.module, self.hooks = module, hooks
        self.grad_output = None

    def wrap_inputs(self, args):
        if not is_grad_enabled():
            self.hooks = ()
            return args
        self.slots = [isinstance(a, Tensor) and a.requires_grad for a in args]
        if sum(self.slots) > 1:
            raise NotImplementedError(
                f"{type(self.module).__name__}: minigrad's full backward hooks need at most "
                f"one tensor input that requires grad, got {sum(self.slots)}")
        return tuple(_InputHook.apply(a, self) if s else a for a, s in zip(args, self.slots))

    def wrap_output(self, output):
        if not self.hooks or not isinstance(output, Tensor) or not output.requires_grad:
            return output
        return _OutputHook.apply(output, self)

    def run(self, grad_input):
        """Call the hooks with grad_input (the gradient array of the input that requires
        grad, or None) and return the one to pass on."""
        grads = tuple(as_tensor(grad_input) if s else None for s in self.slots)
        outs = (as_tensor(self.grad_output),)
        for hook in self.hooks:
            result = hook(self.module, grads, outs)
            if result is not None:
                result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
                if len(result) != len(grads):
                    raise RuntimeError("Backward hook returned an invalid number of "
                                       f"grad_input, got {len(result)}, but expected "
                                       f"{len(grads)}")
                grads = result
        if grad_input is None:
            return None
        new = grads[self.slots.index(True)]
        return None if new is None else new._data.astype(grad_input.dtype, copy=False)


class _InputHook(Function):
    """y = x; the backward runs the module's backward hooks on dL/dx."""
    @staticmethod
    def forward(ctx, x, call):
        ctx.call = call
        return x

    @staticmethod
    def backward(ctx, g):
        return ctx.call.run(g)


class _OutputHook(Function):
    """y = x; the backward records dL/dy for the hooks (and runs them when no input needs a
    gradient)."""
    @staticmethod
    def forward(ctx, y, call):
        ctx.call = call
        return y

    @staticmethod
    def backward(ctx, g):
        call = ctx.call
        call.grad_output = g
        if not any(call.slots):
            call.run(None)
        return g
