"""Step 2: tensors, Function, and the graph walk. REFERENCE SOLUTION: try your own first.

Step 1 walked every path from the output down, so a value reached by many paths was visited
once per path: 2^n times for n stacked diamonds. Here each op is a Function object that
remembers its inputs; every Tensor it makes remembers it as its creator. The backward walk
visits each Tensor once, in reverse topological order (a Tensor before every Tensor it was
computed from), so when it reaches a Tensor, every gradient that flows into it has already
arrived and been summed."""
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
        self.grad = np.ones_like(self.data) if grad is None else np.asarray(grad)
        for t in topological_order(self):
            if t.creator is None:
                continue
            grads = t.creator.backward(t.grad)
            if not isinstance(grads, tuple):
                grads = (grads,)
            for x, g in zip(t.creator.inputs, grads):
                x.grad = g if x.grad is None else x.grad + g


def topological_order(root):
    """Every Tensor ``root`` was computed from (and root), each exactly once, root first and
    each Tensor before all the Tensors it was computed from. Iterative, not recursive: a
    chain of 10,000 ops must not hit Python's recursion limit.

    A depth-first walk appends a Tensor once all its inputs are appended (post-order);
    reversed, that is the order we want."""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        t, inputs_done = stack.pop()
        if inputs_done:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        if t.creator is not None:
            stack.extend((x, False) for x in t.creator.inputs if id(x) not in seen)
    return order[::-1]


class Function:
    """One op. A subclass writes forward (arrays in, one array out) and backward (the
    gradient of the output in, one gradient per input out), saving on self what backward
    needs. Calling the Function runs forward and records the graph."""

    def __call__(self, *inputs):
        inputs = [x if isinstance(x, Tensor) else Tensor(x) for x in inputs]
        out = Tensor(self.forward(*(x.data for x in inputs)), creator=self)
        self.inputs = inputs
        return out

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
        return a + b

    def backward(self, gy):
        return gy, gy


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        return gy * self.b, gy * self.a


class Exp(Function):
    def forward(self, x):
        self.y = np.exp(x)
        return self.y

    def backward(self, gy):
        return gy * self.y


class Log(Function):
    def forward(self, x):
        self.x = x
        return np.log(x)

    def backward(self, gy):
        return gy / self.x


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
