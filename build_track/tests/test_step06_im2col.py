"""Step 6: im2col, col2im and conv2d, against their definitions, PyTorch, minigrad and
finite differences (float64)."""
import numpy as np
import pytest
import torch.nn.functional as TF

import minigrad
from build_track.check import assert_close, compare_with_torch, gradcheck
from build_track.track import under_test
from minigrad.nn import functional as MF

S = under_test(6)
rng = np.random.default_rng(0)
# (x shape, W shape, stride, padding)
CASES = [((2, 3, 7, 6), (4, 3, 3, 2), 1, 0), ((2, 1, 8, 8), (3, 1, 5, 5), 1, 2),
         ((1, 2, 9, 7), (2, 2, 3, 3), 2, 1), ((2, 2, 6, 6), (3, 2, 2, 2), 3, 0)]
IDS = [f"x{c[0]} W{c[1]} stride {c[2]} pad {c[3]}" for c in CASES]


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1)])
def test_im2col_copies_each_window_into_a_column(stride, padding):
    x = rng.standard_normal((2, 3, 6, 5))
    kh, kw = 3, 2
    cols = S.im2col(x, kh, kw, stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    OH, OW = (6 + 2 * padding - kh) // stride + 1, (5 + 2 * padding - kw) // stride + 1
    want = np.empty((2, 3 * kh * kw, OH * OW))
    for i in range(OH):
        for j in range(OW):
            window = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            want[:, :, i * OW + j] = window.reshape(2, -1)
    assert_close(f"im2col(x (2, 3, 6, 5), 3, 2, stride={stride}, padding={padding})", cols, want)


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), (1, 2)])
def test_col2im_is_the_transpose_of_im2col(stride, padding):
    """<im2col(x), c> = <x, col2im(c)> for every x and c: the definition of a transpose."""
    x = rng.standard_normal((2, 3, 6, 5))
    cols = S.im2col(x, 3, 3, stride, padding)
    c = rng.standard_normal(cols.shape)
    back = S.col2im(c, x.shape, 3, 3, stride, padding)
    assert np.shape(back) == x.shape, f"col2im gave shape {np.shape(back)}, x is {x.shape}"
    assert_close(f"<im2col(x), c> against <x, col2im(c)> (stride {stride}, padding {padding})",
                 np.sum(cols * c), np.sum(x * back))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv2d_matches_pytorch(case):
    xs, ws, stride, padding = case
    compare_with_torch(f"conv2d x {xs}, W {ws}, stride {stride}, padding {padding}", S.Tensor,
                       lambda x, W, b: S.conv2d(x, W, b, stride, padding),
                       lambda x, W, b: TF.conv2d(x, W, b, stride, padding),
                       [rng.standard_normal(s) for s in (xs, ws, ws[:1])])


def test_conv2d_matches_minigrad():
    x, W, b = (rng.standard_normal(s) for s in [(2, 3, 7, 6), (4, 3, 3, 2), (4,)])
    tb = S.Tensor(b)
    y = S.conv2d(S.Tensor(x), S.Tensor(W), tb, 2, 1)
    want = MF.conv2d(minigrad.tensor(x), minigrad.tensor(W), minigrad.tensor(b), stride=2,
                     padding=1)
    assert_close("conv2d against minigrad.nn.functional.conv2d", y.data, want.numpy())
    y.backward(np.ones_like(y.data))
    assert_close("conv2d's db for an output gradient of ones (the count per channel)", tb.grad,
                 np.full(4, float(y.data[:, 0].size)))


def test_conv2d_gradients_match_finite_differences():
    x, W, b = (rng.standard_normal(s) for s in [(1, 2, 5, 4), (2, 2, 3, 2), (2,)])
    gradcheck("conv2d (stride 2, padding 1)", lambda x, W, b: S.conv2d(x, W, b, 2, 1),
              [S.Tensor(x), S.Tensor(W), S.Tensor(b)])
