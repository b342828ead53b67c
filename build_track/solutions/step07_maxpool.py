"""Step 7: max-pool. REFERENCE SOLUTION: try your own first.

Each output is the largest input in its k x k window (windows ``stride`` apart, as many as
fit: PyTorch's floor). Its derivative is 1 for that one input and 0 for the rest, so the
backward routes each output's gradient to the place its max came from (and, where windows
overlap, a pixel that is the max of two windows gets both)."""
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
        w = windows(x, self.k, self.stride)
        self.x_shape = x.shape
        self.argmax = w.argmax(axis=2)                      # (N, C, OH, OW): which offset
        return np.take_along_axis(w, self.argmax[:, :, None], axis=2)[:, :, 0]

    def backward(self, gy):
        k, s = self.k, self.stride
        N, C, OH, OW = gy.shape
        gw = np.zeros((N, C, k * k, OH, OW), dtype=gy.dtype)
        np.put_along_axis(gw, self.argmax[:, :, None], gy[:, :, None], axis=2)
        dx = np.zeros(self.x_shape, dtype=gy.dtype)
        for a in range(k):                                  # windows() backwards: add back
            for b in range(k):
                dx[:, :, a:a + s * OH:s, b:b + s * OW:s] += gw[:, :, a * k + b]
        return dx


def max_pool2d(x, kernel_size, stride=None):
    return MaxPool2d(kernel_size, stride)(x)
