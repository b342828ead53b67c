"""Step 5: convolution by loops, forward and backward, on plain arrays. REFERENCE SOLUTION:
try your own first.

What deep learning calls convolution is cross-correlation: slide the kernel K over the
image X and, at each place, sum the elementwise products:

    Y[i, j] = sum over a, b of  X[i + a, j + b] * K[a, b]        (Y is (H-kh+1, W-kw+1))

Slow, and the definition the fast im2col of step 6 must agree with."""
import numpy as np


def corr2d(X, K):
    """2-D cross-correlation of one image X (H, W) with one kernel K (kh, kw)."""
    kh, kw = K.shape
    Y = np.zeros((X.shape[0] - kh + 1, X.shape[1] - kw + 1), dtype=np.result_type(X, K))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + kh, j:j + kw] * K).sum()
    return Y


def conv2d_loops(x, W, b):
    """A conv layer, stride 1, no padding: x (N, C, H, W), W (O, C, kh, kw), b (O,)
    -> y (N, O, OH, OW), where output channel o of image n is b[o] plus the sum over input
    channels c of corr2d(x[n, c], W[o, c])."""
    N, C = x.shape[:2]
    O, _, kh, kw = W.shape
    y = np.zeros((N, O, x.shape[2] - kh + 1, x.shape[3] - kw + 1), dtype=x.dtype)
    for n in range(N):
        for o in range(O):
            y[n, o] = b[o]
            for c in range(C):
                y[n, o] += corr2d(x[n, c], W[o, c])
    return y


def conv2d_loops_backward(x, W, gy):
    """The gradients of conv2d_loops, given gy = dL/dy (N, O, OH, OW): (dx, dW, db).

    Each y[n, o, i, j] used x[n, c, i + a, j + b] * W[o, c, a, b], so
    dW[o, c, a, b] = sum over n, i, j of gy[n, o, i, j] x[n, c, i + a, j + b]
                   = sum over n of corr2d(x[n, c], gy[n, o])[a, b]
    dx[n, c, i + a, j + b] += gy[n, o, i, j] W[o, c, a, b]     (each window adds back)
    db[o] = sum of gy[:, o]."""
    N, C = x.shape[:2]
    O, _, kh, kw = W.shape
    OH, OW = gy.shape[2:]
    dW = np.zeros_like(W)
    dx = np.zeros_like(x)
    for n in range(N):
        for o in range(O):
            for c in range(C):
                dW[o, c] += corr2d(x[n, c], gy[n, o])
                for i in range(OH):
                    for j in range(OW):
                        dx[n, c, i:i + kh, j:j + kw] += gy[n, o, i, j] * W[o, c]
    return dx, dW, gy.sum(axis=(0, 2, 3))
