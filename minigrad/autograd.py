"""The building block of the graph (``Function``), ``no_grad``, and ``gradcheck``.

An op is a subclass of ``Function`` with two static methods that work on raw arrays
(NumPy on the CPU, CuPy on the GPU)::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):              # y = e^x
            y = xp(x).exp(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):          # dL/dx = dL/dy * e^x
            (y,) = ctx.saved_tensors
            return grad * y

``Exp.apply(t)`` runs ``forward`` on ``t``'s array and, when gradients are wanted, returns a
Tensor whose ``grad_fn`` is the context: the node of the graph that ``backward`` later walks.
Gradients are arrays, not Tensors, so the graph of a backward pass is never recorded
(minigrad does not do higher-order derivatives).
"""
import contextlib

import numpy as np

_grad_enabled = [True]


def is_grad_enabled():
    return _grad_enabled[-1]


class _GradMode(contextlib.ContextDecorator):
    enabled = True

    def __enter__(self):
        _grad_enabled.append(self.enabled)

    def __exit__(self, *exc):
        _grad_enabled.pop()
        return False


class no_grad(_GradMode):
    """Context manager and decorator: ops inside record no graph (for evaluation)."""
    enabled = False


class enable_grad(_GradMode):
    """Turn graph recording back on inside a ``no_grad`` block."""
    enabled = True


class Context:
    """What one op remembers between its forward and its backward: the saved arrays, which
    inputs need a gradient, and the input tensors (the edges of the graph)."""

    __slots__ = ("fn", "inputs", "needs_input_grad", "_saved", "freed", "__dict__")

    def __init__(self, fn, needs_input_grad):
        self.fn = fn
        self.needs_input_grad = needs_input_grad
        self.inputs = ()
        self._saved = ()
        self.freed = False

    def save_for_backward(self, *arrays):
        self._saved = arrays

    @property
    def saved_tensors(self):
        self.check_not_freed()
        return self._saved

    def check_not_freed(self):
        if self.freed:
            raise RuntimeError(
                f"Trying to backward through {self.name} a second time: its saved values were "
                "freed after the first backward. Pass retain_graph=True to the first "
                "backward() if you need to backpropagate through the graph twice.")

    def release(self):
        """Drop what the backward no longer needs (called after it ran, unless retain_graph)."""
        self._saved = ()
        self.__dict__.clear()
        self.freed = True

    @property
    def name(self):
        return f"{self.fn.__name__}Backward"

    def __repr__(self):
        return f"<{self.name}>"


class Function:
    """Base class of every differentiable op; see the module docstring."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **params):
        from .tensor import Tensor, check_same_device
        tensors = [x for x in inputs if isinstance(x, Tensor)]
        check_same_device(cls.__name__, tensors)
        needs = tuple(isinstance(x, Tensor) and x.requires_grad for x in inputs)
        ctx = Context(cls, needs)
        arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
        out = Tensor._wrap(cls.forward(ctx, *arrays, **params))
        if any(needs) and is_grad_enabled():
            ctx.inputs = tuple(x if isinstance(x, Tensor) else None for x in inputs)
            out.grad_fn = ctx
            out._requires_grad = True
        return out


class GradcheckError(AssertionError):
    pass


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check ``fn``'s gradients against central finite differences, like
    ``torch.autograd.gradcheck``.

    ``inputs`` is a sequence of Tensors (float64, on the CPU or GPU); those with
    ``requires_grad`` are checked. ``fn(*inputs)`` returns a Tensor ``y``. For a fixed random
    ``v`` the backward pass gives ``vᵀ·∂y/∂x`` for every input ``x``; the same vector is
    estimated element by element as

        ( v·fn(x + eps·eᵢ) − v·fn(x − eps·eᵢ) ) / (2·eps)

    and the two must agree within ``atol + rtol·|numerical|``. A single random projection
    tests every column of the Jacobian at once: a wrong gradient almost surely changes it.
    Returns True, or raises ``GradcheckError`` naming the input and the worst element.
    """
    from .tensor import Tensor
    inputs = list(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; finite differences "
                            "need float64 inputs")

    out = fn(*inputs)
    xp = out.xp
    v = xp.asarray(np.random.default_rng(seed).standard_normal(out.shape))
    for i in checked:
        inputs[i].grad = None
    out.backward(Tensor._wrap(v.astype(out.dtype)))

    def projected(arrays):
        with no_grad():
            args = [Tensor._wrap(a) if a is not None else x for a, x in zip(arrays, inputs)]
            return float((fn(*args).data * v).sum())

    for i in checked:
        x = inputs[i]
        analytical = x.grad.data if x.grad is not None else xp.zeros_like(x.data)
        base = [t.data if isinstance(t, Tensor) else None for t in inputs]
        flat = x.data.copy().reshape(-1)
        numerical = np.empty(flat.size)
        for j in range(flat.size):
            orig = flat[j].item()
            flat[j] = orig + eps
            base[i] = flat.reshape(x.shape)
            plus = projected(base)
            flat[j] = orig - eps
            minus = projected(base)
            flat[j] = orig
            numerical[j] = (plus - minus) / (2 * eps)
        analytical = np.asarray(analytical.get() if xp is not np else analytical).reshape(-1)
        err = np.abs(analytical - numerical) - (atol + rtol * np.abs(numerical))
        if (err > 0).any() or not np.isfinite(analytical).all():
            j = int(np.nanargmax(np.where(np.isfinite(err), err, np.inf)))
            raise GradcheckError(
                f"gradcheck: gradient of input {i} (shape {tuple(x.shape)}) disagrees with "
                f"finite differences at flat index {j}: analytical {analytical[j]:.10g}, "
                f"numerical {numerical[j]:.10g}")
    return True
