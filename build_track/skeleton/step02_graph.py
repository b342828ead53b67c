"""Step 2: tensors, Function, and the graph walk. (docs/build/README.md, step 2)

Step 1 walked every path from the output down, so a value reached by many paths was visited
once per path: 2^n times for n stacked diamonds. Here each op is a Function object that
remembers its inputs; every Tensor it makes remembers it as its creator. The backward walk
visits each Tensor once, in reverse topological order (a Tensor before every Tensor it was
computed from), so when it reaches a Tensor, every gradient that flows into it has already
arrived and been summed.

Write what raises NotImplementedError("step 2 ..."). Neg is done, as a model.
Run: make build STEP=2"""
import numpy as np


class Tensor:
    """An array, its gradient (a NumPy array of the same shape, or None) and its creator
    (the Function that computed it, None for a leaf: an input or a parameter)."""

    def __init__(self, data, creator=None):
        data = np.asarray(data)
        self.data = data if np.issubdtype(data.dtype, np.floating) else data.astype(np.float64)
        self.grad = None
        self.creator = creator

    @property
    def shape(self):
        return self.data.shape

    def __repr__(self):
        return f"Tensor({self.data!r})"

    # Operators on same-shape tensors (step 3 writes the broadcasting ones).
    def __add__(self, other):
        return add(self, other)

    def __mul__(self, other):
        return mul(self, other)

    def __neg__(self):
        return neg(self)

    def __sub__(self, other):
        return add(self, neg(other))

    def exp(self):
        return exp(self)

    def log(self):
        return log(self)

    def backward(self, grad=None):
        """Fill .grad of every Tensor this one was computed from with d(L)/d(that Tensor),
        where L = sum(grad * self) (grad defaults to ones: for a scalar loss, dL/dL = 1).
        Gradients add up into .grad, as PyTorch's do."""
        raise NotImplementedError("step 2 not done yet: Tensor.backward")


def topological_order(root):
    """Every Tensor ``root`` was computed from (and root), each exactly once, root first and
    each Tensor before all the Tensors it was computed from. Iterative, not recursive: a
    chain of 10,000 ops must not hit Python's recursion limit.

    A depth-first walk appends a Tensor once all its inputs are appended (post-order);
    reversed, that is the order we want."""
    raise NotImplementedError("step 2 not done yet: topological_order")


class Function:
    """One op. A subclass writes forward (arrays in, one array out) and backward (the
    gradient of the output in, one gradient per input out), saving on self what backward
    needs. Calling the Function runs forward and records the graph."""

    def __call__(self, *inputs):
        """Wrap any plain array among inputs in a Tensor; run forward on their .data; return
        a Tensor of the result whose creator is self; keep the input Tensors as self.inputs
        (backward's walk follows them)."""
        raise NotImplementedError("step 2 not done yet: Function.__call__")

    def forward(self, *xs):
        raise NotImplementedError(f"{type(self).__name__} has no forward")

    def backward(self, gy):
        raise NotImplementedError(f"{type(self).__name__} has no backward")


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Add(Function):
    def forward(self, a, b):
        raise NotImplementedError("step 2 not done yet: Add.forward")

    def backward(self, gy):
        raise NotImplementedError("step 2 not done yet: Add.backward")


class Mul(Function):
    def forward(self, a, b):
        """Save on self what backward will need."""
        raise NotImplementedError("step 2 not done yet: Mul.forward")

    def backward(self, gy):
        raise NotImplementedError("step 2 not done yet: Mul.backward")


class Exp(Function):
    def forward(self, x):
        raise NotImplementedError("step 2 not done yet: Exp.forward")

    def backward(self, gy):
        raise NotImplementedError("step 2 not done yet: Exp.backward")


class Log(Function):
    def forward(self, x):
        raise NotImplementedError("step 2 not done yet: Log.forward")

    def backward(self, gy):
        raise NotImplementedError("step 2 not done yet: Log.backward")


def neg(x):
    return Neg()(x)


def add(a, b):
    return Add()(a, b)


def mul(a, b):
    return Mul()(a, b)


def exp(x):
    return Exp()(x)


def log(x):
    return Log()(x)
