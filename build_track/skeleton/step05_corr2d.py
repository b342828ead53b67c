"""Step 5: convolution by loops, forward and backward, on plain arrays. (docs/build/README.md,
step 5)

What deep learning calls convolution is cross-correlation: slide the kernel K over the
image X and, at each place, sum the elementwise products:

    Y[i, j] = sum over a, b of  X[i + a, j + b] * K[a, b]        (Y is (H-kh+1, W-kw+1))

Slow, and the definition the fast im2col of step 6 must agree with.

Write the three functions with plain for loops. Run: make build STEP=5"""
import numpy as np  # noqa: F401  (you will want it)


def corr2d(X, K):
    """2-D cross-correlation of one image X (H, W) with one kernel K (kh, kw)."""
    raise NotImplementedError("step 5 not done yet: corr2d")


def conv2d_loops(x, W, b):
    """A conv layer, stride 1, no padding: x (N, C, H, W), W (O, C, kh, kw), b (O,)
    -> y (N, O, OH, OW), where output channel o of image n is b[o] plus the sum over input
    channels c of corr2d(x[n, c], W[o, c])."""
    raise NotImplementedError("step 5 not done yet: conv2d_loops")


def conv2d_loops_backward(x, W, gy):
    """The gradients of conv2d_loops, given gy = dL/dy (N, O, OH, OW): (dx, dW, db).

    Each y[n, o, i, j] used x[n, c, i + a, j + b] * W[o, c, a, b], so
    dW[o, c, a, b] = sum over n, i, j of gy[n, o, i, j] x[n, c, i + a, j + b]
                   = sum over n of corr2d(x[n, c], gy[n, o])[a, b]
    dx[n, c, i + a, j + b] += gy[n, o, i, j] W[o, c, a, b]     (each window adds back)
    db[o] = sum of gy[:, o]."""
    raise NotImplementedError("step 5 not done yet: conv2d_loops_backward")
