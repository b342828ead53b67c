"""Step 6: conv2d as one matrix product: im2col, and col2im for the backward. REFERENCE
SOLUTION: try your own first.

im2col copies every kh x kw window of the (padded) input into a column:

    cols[n, (c, a, b), (i, j)] = xpad[n, c, i*stride + a, j*stride + b]

so that the whole layer is one matrix product per image, W reshaped to (O, C*kh*kw):

    y[n] = W2 @ cols[n] + b          (O, C*kh*kw) @ (C*kh*kw, OH*OW) -> (O, OH*OW)

The backward is two matrix products and col2im, which adds every column entry back into the
pixel it was copied from (a pixel in several windows gets the sum): col2im is im2col's
transpose, exactly as the gradient of a copy is a sum."""
import numpy as np

from build_track.track import step

Tensor, Function = step(2).Tensor, step(2).Function


def output_size(size, k, stride, padding):
    """How many windows of width k fit, stride apart, in size + 2*padding (PyTorch's floor)."""
    return (size + 2 * padding - k) // stride + 1


def im2col(x, kh, kw, stride=1, padding=0):
    """x (N, C, H, W) -> cols (N, C*kh*kw, OH*OW), rows ordered (c, a, b), columns (i, j).

    One slice per kernel offset (a, b), not one per window: kh*kw strided copies."""
    N, C, H, W = x.shape
    OH, OW = output_size(H, kh, stride, padding), output_size(W, kw, stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = np.empty((N, C, kh, kw, OH, OW), dtype=x.dtype)
    for a in range(kh):
        for b in range(kw):
            cols[:, :, a, b] = xp[:, :, a:a + stride * OH:stride, b:b + stride * OW:stride]
    return cols.reshape(N, C * kh * kw, OH * OW)


def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    """The transpose of im2col: cols (N, C*kh*kw, OH*OW) -> (N, C, H, W), each entry added
    into the pixel im2col copied it from; padding dropped at the end."""
    N, C, H, W = x_shape
    OH, OW = output_size(H, kh, stride, padding), output_size(W, kw, stride, padding)
    cols = cols.reshape(N, C, kh, kw, OH, OW)
    xp = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    for a in range(kh):
        for b in range(kw):
            xp[:, :, a:a + stride * OH:stride, b:b + stride * OW:stride] += cols[:, :, a, b]
    return xp[:, :, padding:padding + H, padding:padding + W]


class Conv2d(Function):
    """x (N, C, H, W), W (O, C, kh, kw), b (O,) -> y (N, O, OH, OW)."""

    def __init__(self, stride=1, padding=0):
        self.stride, self.padding = stride, padding

    def forward(self, x, W, b):
        N, O, (kh, kw) = len(x), len(W), W.shape[2:]
        self.x_shape, self.W = x.shape, W
        self.cols = im2col(x, kh, kw, self.stride, self.padding)      # (N, CKK, L)
        y = W.reshape(O, -1) @ self.cols + b[:, None]                   # (N, O, L)
        OH = output_size(x.shape[2], kh, self.stride, self.padding)
        return y.reshape(N, O, OH, -1)

    def backward(self, gy):
        N, O, (kh, kw) = len(gy), len(self.W), self.W.shape[2:]
        g = gy.reshape(N, O, -1)                                        # (N, O, L)
        dW = (g @ self.cols.transpose(0, 2, 1)).sum(axis=0).reshape(self.W.shape)
        dcols = self.W.reshape(O, -1).T @ g                             # (N, CKK, L)
        dx = col2im(dcols, self.x_shape, kh, kw, self.stride, self.padding)
        return dx, dW, g.sum(axis=(0, 2))


def conv2d(x, W, b, stride=1, padding=0):
    return Conv2d(stride, padding)(x, W, b)
