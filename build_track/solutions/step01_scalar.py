"""Step 1: autograd on single numbers. REFERENCE SOLUTION: try your own first.

A Value holds a number, the Values it was computed from (its parents) and, for each parent,
the local derivative d(this)/d(parent), worked out when the Value is made. The chain rule
then says: the gradient of the final output L with respect to a Value v is the sum, over
every path from L down to v, of the product of the local derivatives along that path."""
import math


class Value:
    def __init__(self, data, parents=(), local_grads=()):
        self.data = float(data)
        self.grad = 0.0
        self.parents = parents          # the Values this one was computed from
        self.local_grads = local_grads  # d(self)/d(parent), one per parent

    def __repr__(self):
        return f"Value({self.data}, grad={self.grad})"

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, k):
        """self ** k for a plain number k: d/dx x^k = k x^(k-1)."""
        return Value(self.data ** k, (self,), (k * self.data ** (k - 1),))

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,))

    def log(self):
        return Value(math.log(self.data), (self,), (1.0 / self.data,))

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,))

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
        """Set .grad of every Value this one depends on to d(self)/d(that Value)."""
        self._push(1.0)

    def _push(self, g):
        """Add g, the gradient arriving along one path, then pass it on to each parent
        multiplied by the local derivative: every path is walked, so the sums add up."""
        self.grad += g
        for parent, local in zip(self.parents, self.local_grads):
            parent._push(g * local)
