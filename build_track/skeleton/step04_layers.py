"""Step 4: linear, sigmoid, cross-entropy, each one Function with its backward written by
hand. (docs/build/README.md, step 4)

Layouts as PyTorch's: x (N, in), W (out, in), b (out,); logits (N, classes), labels (N,)
integers; the loss is the mean over the batch.

Write every forward and backward. Run: make build STEP=4"""
import numpy as np

from build_track.track import step

Tensor, Function = step(2).Tensor, step(2).Function


class Linear(Function):
    """y = x W^T + b.  dx = gy W,  dW = gy^T x,  db = gy summed over the batch."""

    def forward(self, x, W, b):
        raise NotImplementedError("step 4 not done yet: Linear.forward")

    def backward(self, gy):
        raise NotImplementedError("step 4 not done yet: Linear.backward")


class Sigmoid(Function):
    """y = 1 / (1 + e^-x), dy/dx = y (1 - y). Stable: e^-x overflows for x << 0, so there
    write it as e^x / (1 + e^x), where e^x only underflows (to 0, harmlessly)."""

    def forward(self, x):
        raise NotImplementedError("step 4 not done yet: Sigmoid.forward")

    def backward(self, gy):
        raise NotImplementedError("step 4 not done yet: Sigmoid.backward")


class CrossEntropy(Function):
    """loss = mean over n of  log(sum_j e^z[n, j]) - z[n, label[n]]   (z: the logits).

    Forward: subtract each row's max before exp (the same loss, no overflow).
    Backward: d loss / d z = (softmax(z) - onehot(labels)) / N."""

    def __init__(self, labels):
        self.labels = np.asarray(labels)

    def forward(self, z):
        raise NotImplementedError("step 4 not done yet: CrossEntropy.forward")

    def backward(self, gy):
        raise NotImplementedError("step 4 not done yet: CrossEntropy.backward")


def linear(x, W, b):
    return Linear()(x, W, b)


def sigmoid(x):
    return Sigmoid()(x)


def cross_entropy(logits, labels):
    """labels: an integer array (N,), not a Tensor: no gradient flows to it."""
    return CrossEntropy(labels)(logits)
