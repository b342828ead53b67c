"""Step 5: corr2d and a conv layer by loops, against PyTorch (float64)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from build_track.check import assert_close
from build_track.track import under_test

S = under_test(5)
rng = np.random.default_rng(0)


def test_corr2d_small_example():
    X = np.arange(9.0).reshape(3, 3)
    K = np.array([[0.0, 1.0], [2.0, 3.0]])
    # 0*0 + 1*1 + 3*2 + 4*3 = 19, and so on
    assert_close("corr2d(arange(9).reshape(3, 3), [[0, 1], [2, 3]])", S.corr2d(X, K),
                 np.array([[19.0, 25.0], [37.0, 43.0]]))


@pytest.mark.parametrize("x_shape,k_shape", [((5, 6), (3, 2)), ((4, 4), (4, 4)), ((3, 7), (1, 3))])
def test_corr2d_matches_pytorch(x_shape, k_shape):
    X, K = rng.standard_normal(x_shape), rng.standard_normal(k_shape)
    want = TF.conv2d(torch.tensor(X)[None, None], torch.tensor(K)[None, None])[0, 0].numpy()
    assert_close(f"corr2d of X {x_shape} with K {k_shape}", S.corr2d(X, K), want)


@pytest.mark.parametrize("shape", [(2, 3, 6, 5, 4, 3, 2), (1, 1, 4, 4, 2, 2, 2)], ids=str)
def test_conv_layer_and_its_gradients_match_pytorch(shape):
    N, C, H, W_, O, kh, kw = shape
    x, W, b = (rng.standard_normal(s) for s in [(N, C, H, W_), (O, C, kh, kw), (O,)])
    tx, tW, tb = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    want = TF.conv2d(tx, tW, tb)
    y = S.conv2d_loops(x, W, b)
    assert_close(f"conv2d_loops: x {x.shape}, W {W.shape}", y, want.detach().numpy())
    gy = rng.standard_normal(want.shape)
    want.backward(torch.tensor(gy))
    dx, dW, db = S.conv2d_loops_backward(x, W, gy)
    for name, got, ref in [("dx", dx, tx), ("dW", dW, tW), ("db", db, tb)]:
        assert_close(f"conv2d_loops_backward: {name} (x {x.shape}, W {W.shape})", got,
                     ref.grad.numpy())
