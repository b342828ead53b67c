"""Step 3: broadcasting ops and sum_to, against PyTorch (float64) and finite differences."""
import numpy as np
import pytest
import torch

from build_track.check import assert_close, compare_with_torch, gradcheck
from build_track.track import under_test

S = under_test(3)
rng = np.random.default_rng(0)

# (shape of a, shape of b): every way two shapes broadcast that LeNet's code meets, and more.
SHAPE_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 4), (3, 1)), ((2, 1, 4), (3, 1)),
               ((1,), (2, 3)), ((), (2, 3))]
BINARY = {"add": (lambda a, b: S.add(a, b), torch.add),
          "sub": (lambda a, b: S.sub(a, b), torch.sub),
          "mul": (lambda a, b: S.mul(a, b), torch.mul),
          "div": (lambda a, b: S.div(a, b), torch.div)}


def arrays(*shapes):
    return [rng.uniform(0.5, 2.0, s) for s in shapes]


@pytest.mark.parametrize("g_shape,shape", [((3, 4), (4,)), ((3, 4), (3, 1)), ((2, 3, 4), (1, 4)),
                                           ((2, 3, 4), (3, 1)), ((2, 3), ()), ((5,), (1,)),
                                           ((3, 4), (3, 4))])
def test_sum_to(g_shape, shape):
    g = rng.standard_normal(g_shape)
    want = torch.tensor(g).sum_to_size(shape).numpy() if shape else g.sum()
    assert_close(f"sum_to(g of shape {g_shape}, {shape})", S.sum_to(g, shape), want)


@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
def test_binary_op_matches_pytorch(op, shapes):
    mine, theirs = BINARY[op]
    compare_with_torch(f"{op} of shapes {shapes}", S.Tensor, mine, theirs, arrays(*shapes))


@pytest.mark.parametrize("op", BINARY)
def test_binary_op_gradients_match_finite_differences(op):
    a, b = arrays((2, 1, 3), (4, 1))
    gradcheck(f"{op} of shapes (2, 1, 3), (4, 1)", BINARY[op][0], [S.Tensor(a), S.Tensor(b)])


@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, False), (1, True), ((0, 2), False),
                                           (-1, False), ((0, 2), True)])
def test_sum_matches_pytorch(axis, keepdims):
    def theirs(x):
        return x.sum() if axis is None else x.sum(dim=axis, keepdim=keepdims)
    compare_with_torch(f"sum(axis={axis}, keepdims={keepdims})", S.Tensor,
                       lambda x: S.sum(x, axis, keepdims), theirs, arrays((2, 3, 4)))


def test_broadcast_to_reshape_matmul_match_pytorch():
    compare_with_torch("broadcast_to (3, 1) -> (2, 3, 4)", S.Tensor,
                       lambda x: S.broadcast_to(x, (2, 3, 4)),
                       lambda x: x.expand(2, 3, 4), arrays((3, 1)))
    compare_with_torch("reshape (2, 3, 4) -> (6, 4)", S.Tensor, lambda x: S.reshape(x, (6, 4)),
                       lambda x: x.reshape(6, 4), arrays((2, 3, 4)))
    compare_with_torch("matmul (3, 5) @ (5, 2)", S.Tensor, S.matmul, torch.matmul,
                       arrays((3, 5), (5, 2)))


def test_a_layer_made_of_broadcasting_ops():
    """x @ W + b, squashed and summed per row: every op above in one graph."""
    def layer(x, W, b):
        return S.sum(S.div(S.matmul(x, W), S.add(b, S.mul(b, b))), axis=1)
    gradcheck("sum(x @ W / (b + b*b), axis=1)", layer,
              [S.Tensor(a) for a in arrays((4, 3), (3, 2), (2,))])
