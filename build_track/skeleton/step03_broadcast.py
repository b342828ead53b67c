"""Step 3: broadcasting and its gradients. (docs/build/README.md, step 3)

NumPy broadcasts: a (3, 4) array plus a (4,) array adds the row to every row, as if the
row had been copied 3 times. The copy is a fan-out, so in the backward the gradients of the
copies add up: the gradient of an input is the output's gradient summed back down to the
input's shape. That one function, sum_to, is the whole of broadcasting's backward.

The forwards are written; write sum_to and every backward (Sub is done, as a model).
Run: make build STEP=3"""
import numpy as np

from build_track.track import step

Tensor, Function = step(2).Tensor, step(2).Function


def sum_to(g, shape):
    """Sum g down to ``shape`` (a shape g was broadcast from): first over the leading axes
    broadcasting added, then, keeping them, over the axes where ``shape`` has a 1."""
    raise NotImplementedError("step 3 not done yet: sum_to")


class Add(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, gy):
        raise NotImplementedError("step 3 not done yet: Add.backward")


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
        raise NotImplementedError("step 3 not done yet: Mul.backward")


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, gy):
        raise NotImplementedError("step 3 not done yet: Div.backward")


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
        raise NotImplementedError("step 3 not done yet: Sum.backward")


class BroadcastTo(Function):
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = x.shape
        return np.broadcast_to(x, self.shape).copy()

    def backward(self, gy):
        raise NotImplementedError("step 3 not done yet: BroadcastTo.backward")


class Reshape(Function):
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, gy):
        raise NotImplementedError("step 3 not done yet: Reshape.backward")


class MatMul(Function):
    """(M, K) @ (K, N) -> (M, N)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a @ b

    def backward(self, gy):
        raise NotImplementedError("step 3 not done yet: MatMul.backward")


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
