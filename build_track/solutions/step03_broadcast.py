"""Step 3: broadcasting and its gradients. REFERENCE SOLUTION: try your own first.

NumPy broadcasts: a (3, 4) array plus a (4,) array adds the row to every row, as if the
row had been copied 3 times. The copy is a fan-out, so in the backward the gradients of the
copies add up: the gradient of an input is the output's gradient summed back down to the
input's shape. That one function, sum_to, is the whole of broadcasting's backward."""
import numpy as np

from build_track.track import step

Tensor, Function = step(2).Tensor, step(2).Function


def sum_to(g, shape):
    """Sum g down to ``shape`` (a shape g was broadcast from): first over the leading axes
    broadcasting added, then, keeping them, over the axes where ``shape`` has a 1."""
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=ones, keepdims=True) if ones else g


class Add(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, gy):
        return sum_to(gy, self.shapes[0]), sum_to(gy, self.shapes[1])


class Sub(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, gy):
        return sum_to(gy, self.shapes[0]), sum_to(-gy, self.shapes[1])


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        return sum_to(gy * self.b, self.a.shape), sum_to(gy * self.a, self.b.shape)


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, gy):
        a, b = self.a, self.b
        return sum_to(gy / b, a.shape), sum_to(-gy * a / (b * b), b.shape)


class Sum(Function):
    """Sum over ``axis`` (None: all), keeping the summed axes as 1s when ``keepdims``."""

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.shape = x.shape
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        """Every summed element had derivative 1: copy gy back out. Put the summed axes
        back as 1s first, so that it broadcasts against x's shape."""
        if not self.keepdims and self.axis is not None:
            axes = (self.axis,) if isinstance(self.axis, int) else self.axis
            gy = np.expand_dims(gy, tuple(a % len(self.shape) for a in axes))
        return np.broadcast_to(gy, self.shape).copy()


class BroadcastTo(Function):
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = x.shape
        return np.broadcast_to(x, self.shape).copy()

    def backward(self, gy):
        return sum_to(gy, self.in_shape)


class Reshape(Function):
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, gy):
        return gy.reshape(self.in_shape)


class MatMul(Function):
    """(M, K) @ (K, N) -> (M, N)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a @ b

    def backward(self, gy):
        return gy @ self.b.T, self.a.T @ gy


def add(a, b):
    return Add()(a, b)


def sub(a, b):
    return Sub()(a, b)


def mul(a, b):
    return Mul()(a, b)


def div(a, b):
    return Div()(a, b)


def sum(x, axis=None, keepdims=False):  # noqa: A001  (the name NumPy and PyTorch use)
    return Sum(axis, keepdims)(x)


def broadcast_to(x, shape):
    return BroadcastTo(shape)(x)


def reshape(x, shape):
    return Reshape(shape)(x)


def matmul(a, b):
    return MatMul()(a, b)
