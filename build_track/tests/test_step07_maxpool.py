"""Step 7: max-pool, against PyTorch, minigrad and finite differences (float64; inputs
without ties, where the gradient is defined)."""
import numpy as np
import pytest
import torch.nn.functional as TF

import minigrad
from build_track.check import assert_close, compare_with_torch, gradcheck
from build_track.track import under_test
from minigrad.nn import functional as MF

S = under_test(7)
rng = np.random.default_rng(0)


def tie_free(*shape):
    """Distinct values, well apart, so that each window has one max."""
    return rng.permutation(np.prod(shape)).reshape(shape) / 10.0


# (x shape, kernel, stride): LeNet's 2/2, overlapping windows, sizes that do not divide
CASES = [((2, 3, 8, 8), 2, 2), ((1, 2, 7, 6), 3, 2), ((2, 1, 5, 5), 3, 1), ((1, 1, 9, 7), 2, 3)]
IDS = [f"x{c[0]} k{c[1]} s{c[2]}" for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_max_pool_matches_pytorch(case):
    shape, k, s = case
    compare_with_torch(f"max_pool2d x {shape}, kernel {k}, stride {s}", S.Tensor,
                       lambda x: S.max_pool2d(x, k, s), lambda x: TF.max_pool2d(x, k, s),
                       [tie_free(*shape)])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_max_pool_matches_minigrad(case):
    shape, k, s = case
    x = tie_free(*shape)
    assert_close(f"max_pool2d x {shape}, kernel {k}, stride {s}, against minigrad",
                 S.max_pool2d(S.Tensor(x), k, s).data,
                 MF.max_pool2d(minigrad.tensor(x), k, s).numpy())


def test_the_gradient_goes_only_to_each_window_max():
    x = np.array([[[[1.0, 5.0, 2.0, 0.0],
                    [3.0, 4.0, 8.0, 7.0],
                    [0.5, 0.1, 0.2, 0.3],
                    [0.6, 9.0, 0.4, 0.7]]]])
    t = S.Tensor(x)
    y = S.max_pool2d(t, 2)
    assert_close("max_pool2d of the 4x4 example", y.data, np.array([[[[5.0, 8.0], [9.0, 0.7]]]]))
    y.backward(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]))
    want = np.zeros_like(x)
    want[0, 0, 0, 1], want[0, 0, 1, 2], want[0, 0, 3, 1], want[0, 0, 3, 3] = 10, 20, 30, 40
    assert_close("the gradient of max_pool2d (each window's gradient at its max)", t.grad, want)


def test_max_pool_gradient_matches_finite_differences():
    gradcheck("max_pool2d (kernel 3, stride 2)", lambda x: S.max_pool2d(x, 3, 2),
              [S.Tensor(tie_free(1, 2, 7, 6))])
