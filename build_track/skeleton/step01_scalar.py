"""Step 1: autograd on single numbers (docs/build/README.md, step 1).

A Value holds a number, the Values it was computed from (its parents) and, for each parent,
the local derivative d(this)/d(parent), worked out when the Value is made. The chain rule
then says: the gradient of the final output L with respect to a Value v is the sum, over
every path from L down to v, of the product of the local derivatives along that path.

Write the methods that raise NotImplementedError; the ones below them are made of those.
Run: make build STEP=1"""
import math  # noqa: F401  (you will want math.exp, math.log, math.tanh)


class Value:
    def __init__(self, data, parents=(), local_grads=()):
        self.data = float(data)
        self.grad = 0.0
        self.parents = parents          # the Values this one was computed from
        self.local_grads = local_grads  # d(self)/d(parent), one per parent

    def __repr__(self):
        return f"Value({self.data}, grad={self.grad})"

    def __add__(self, other):
        """self + other (other may be a plain number: wrap it in a Value first).
        Return Value(sum, parents=(self, other), local_grads=(d/dself, d/dother))."""
        raise NotImplementedError("step 1 not done yet: Value.__add__")

    def __mul__(self, other):
        """self * other: d(ab)/da = b, d(ab)/db = a."""
        raise NotImplementedError("step 1 not done yet: Value.__mul__")

    def __pow__(self, k):
        """self ** k for a plain number k: d/dx x^k = k x^(k-1)."""
        raise NotImplementedError("step 1 not done yet: Value.__pow__")

    def exp(self):
        raise NotImplementedError("step 1 not done yet: Value.exp")

    def log(self):
        raise NotImplementedError("step 1 not done yet: Value.log")

    def tanh(self):
        raise NotImplementedError("step 1 not done yet: Value.tanh")

    # The rest are made of the ones above, so their derivatives come for free.
    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return self * other ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return Value(other) - self

    def __rtruediv__(self, other):
        return Value(other) / self

    def backward(self):
        """Set .grad of every Value this one depends on to d(self)/d(that Value).
        (d(self)/d(self) = 1: start from there.)"""
        raise NotImplementedError("step 1 not done yet: Value.backward")
