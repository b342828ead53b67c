"""Step 7: max-pool. (docs/build/README.md, step 7)

Each output is the largest input in its k x k window (windows ``stride`` apart, as many as
fit: PyTorch's floor). Its derivative is 1 for that one input and 0 for the rest, so the
backward routes each output's gradient to the place its max came from (and, where windows
overlap, a pixel that is the max of two windows gets both).

windows() is done; write MaxPool2d. Run: make build STEP=7"""
import numpy as np

from build_track.track import step

Tensor, Function = step(2).Tensor, step(2).Function


def windows(x, k, stride):
    """x (N, C, H, W) -> (N, C, k*k, OH, OW): entry [n, c, a*k + b, i, j] is
    x[n, c, i*stride + a, j*stride + b], one slice per offset (a, b) as in im2col."""
    N, C, H, W = x.shape
    OH, OW = (H - k) // stride + 1, (W - k) // stride + 1
    return np.stack([x[:, :, a:a + stride * OH:stride, b:b + stride * OW:stride]
                     for a in range(k) for b in range(k)], axis=2)


class MaxPool2d(Function):
    def __init__(self, kernel_size, stride=None):
        self.k = kernel_size
        self.stride = kernel_size if stride is None else stride

    def forward(self, x):
        """Save where each max came from (np.argmax, np.take_along_axis help)."""
        raise NotImplementedError("step 7 not done yet: MaxPool2d.forward")

    def backward(self, gy):
        raise NotImplementedError("step 7 not done yet: MaxPool2d.backward")


def max_pool2d(x, kernel_size, stride=None):
    return MaxPool2d(kernel_size, stride)(x)
