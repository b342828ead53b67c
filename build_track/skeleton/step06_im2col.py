"""Step 6: conv2d as one matrix product: im2col, and col2im for the backward. (docs/build/README.md,
step 6)

im2col copies every kh x kw window of the (padded) input into a column:

    cols[n, (c, a, b), (i, j)] = xpad[n, c, i*stride + a, j*stride + b]

so that the whole layer is one matrix product per image, W reshaped to (O, C*kh*kw):

    y[n] = W2 @ cols[n] + b          (O, C*kh*kw) @ (C*kh*kw, OH*OW) -> (O, OH*OW)

The backward is two matrix products and col2im, which adds every column entry back into the
pixel it was copied from (a pixel in several windows gets the sum): col2im is im2col's
transpose, exactly as the gradient of a copy is a sum.

Write im2col, col2im and Conv2d. Run: make build STEP=6"""
import numpy as np  # noqa: F401  (you will want it)

from build_track.track import step

Tensor, Function = step(2).Tensor, step(2).Function


def output_size(size, k, stride, padding):
    """How many windows of width k fit, stride apart, in size + 2*padding (PyTorch's floor)."""
    return (size + 2 * padding - k) // stride + 1


def im2col(x, kh, kw, stride=1, padding=0):
    """x (N, C, H, W) -> cols (N, C*kh*kw, OH*OW), rows ordered (c, a, b), columns (i, j).

    One slice per kernel offset (a, b), not one per window: kh*kw strided copies."""
    raise NotImplementedError("step 6 not done yet: im2col")


def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    """The transpose of im2col: cols (N, C*kh*kw, OH*OW) -> (N, C, H, W), each entry added
    into the pixel im2col copied it from; padding dropped at the end."""
    raise NotImplementedError("step 6 not done yet: col2im")


class Conv2d(Function):
    """x (N, C, H, W), W (O, C, kh, kw), b (O,) -> y (N, O, OH, OW)."""

    def __init__(self, stride=1, padding=0):
        self.stride, self.padding = stride, padding

    def forward(self, x, W, b):
        """Save what backward needs (the columns, W, x's shape)."""
        raise NotImplementedError("step 6 not done yet: Conv2d.forward")

    def backward(self, gy):
        raise NotImplementedError("step 6 not done yet: Conv2d.backward")


def conv2d(x, W, b, stride=1, padding=0):
    return Conv2d(stride, padding)(x, W, b)
