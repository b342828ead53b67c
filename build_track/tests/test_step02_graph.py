"""Step 2: Function records the graph; backward walks it once, in reverse topological
order. Against PyTorch (float64) and finite differences."""
import numpy as np
import pytest

from build_track.check import assert_close, compare_with_torch, gradcheck
from build_track.track import under_test

S = under_test(2)
rng = np.random.default_rng(0)
A, B = rng.uniform(0.5, 2.0, (3, 4)), rng.uniform(0.5, 2.0, (3, 4))

EXPRESSIONS = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "exp": lambda a, b: (a * b).exp(),
    "log": lambda a, b: (a + b).log(),
    "sub and neg": lambda a, b: -(a - b) * a,
    "a used three times": lambda a, b: (a * a + a).log() * b,
}


@pytest.mark.parametrize("name", EXPRESSIONS)
def test_expression_matches_pytorch(name):
    compare_with_torch(name, S.Tensor, EXPRESSIONS[name], EXPRESSIONS[name], [A, B])


@pytest.mark.parametrize("name", EXPRESSIONS)
def test_expression_gradients_match_finite_differences(name):
    gradcheck(name, EXPRESSIONS[name], [S.Tensor(A.copy()), S.Tensor(B.copy())])


def test_calling_a_function_records_the_graph():
    a, b = S.Tensor(A), S.Tensor(B)
    f = S.Mul()
    c = f(a, b)
    assert isinstance(c, S.Tensor), f"Mul()(a, b) gave {type(c).__name__}, not a Tensor"
    assert c.creator is f, "the output's creator must be the Function that made it"
    assert list(f.inputs) == [a, b], "the Function must keep its input Tensors as .inputs"
    assert_close("Mul()(a, b).data", c.data, A * B)


def test_topological_order_puts_each_tensor_before_its_inputs_once():
    a, b = S.Tensor(A), S.Tensor(B)
    c = a * b
    d = c + a
    e = d * c          # c reaches e along two paths
    order = S.topological_order(e)
    ids = [id(t) for t in order]
    assert len(ids) == len(set(ids)), f"a Tensor appears twice in the order: {order}"
    assert set(ids) == {id(t) for t in (a, b, c, d, e)}, "the order must hold every Tensor once"
    assert order[0] is e, "the output comes first"
    for t in order:
        for x in (t.creator.inputs if t.creator else []):
            assert ids.index(id(t)) < ids.index(id(x)), (
                f"{t.creator.__class__.__name__}'s output must come before its input")


def test_each_op_is_walked_once_however_many_paths_lead_to_it():
    """60 stacked diamonds: 2^60 paths from the top to x. A walk per path never ends."""
    calls = []

    class Double(S.Function):
        def forward(self, x):
            return 2 * x

        def backward(self, gy):
            calls.append(self)
            return 2 * gy

    x = S.Tensor(np.array([1.0, -1.0]))
    y = x
    for _ in range(60):
        h = Double()(y)
        y = h + h         # two paths from y up to the next level
    y.backward()
    assert len(calls) == 60, f"Double.backward ran {len(calls)} times, once per op expected"
    assert_close("dy/dx through 60 diamonds (each: 2 * 2)", x.grad, np.full(2, 4.0 ** 60))


def test_a_chain_of_ten_thousand_ops_does_not_recurse():
    x = S.Tensor(np.array([0.5]))
    y = x
    for _ in range(10_000):
        y = -y
    y.backward()
    assert_close("d(-(-(...x)))/dx for 10,000 negations", x.grad, np.array([1.0]))


def test_gradients_accumulate_across_backward_calls():
    a = S.Tensor(np.array([2.0, 3.0]))
    (a * a).backward()
    (a * a).backward()
    assert_close("a.grad after two backward() of a*a", a.grad, 2 * (2 * np.array([2.0, 3.0])))
