"""Step 1: Value, scalar autograd, against PyTorch (float64) and finite differences."""
import math

import pytest
import torch

from build_track.check import assert_close
from build_track.track import under_test

S = under_test(1)

# Each expression is written once and run on Values and on torch scalars alike.
EXPRESSIONS = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "pow": lambda a, b: a ** 3 + b ** -2,
    "exp": lambda a, b: (a * b).exp(),
    "log": lambda a, b: (a * a + b * b).log(),
    "tanh": lambda a, b: (a - b).tanh(),
    "div and numbers": lambda a, b: 2.0 / a - b / 3.0 + 1.0 - a * 0.5,
    "a used twice": lambda a, b: a * a + a * b,
    "neuron": lambda a, b: (a * 0.7 + b * -1.3 + 0.2).tanh(),
}
POINTS = [(0.7, -1.3), (2.0, 0.4)]


def values(f, a, b):
    x, y = S.Value(a), S.Value(b)
    out = f(x, y)
    out.backward()
    return out, x, y


@pytest.mark.parametrize("name", EXPRESSIONS)
@pytest.mark.parametrize("a,b", POINTS)
def test_forward_and_gradients_match_pytorch(name, a, b):
    f = EXPRESSIONS[name]
    out, x, y = values(f, a, b)
    ta = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    want = f(ta, tb)
    want.backward()
    assert_close(f"{name}: value", out.data, want.item())
    assert_close(f"{name}: d/da", x.grad, ta.grad.item())
    assert_close(f"{name}: d/db", y.grad, tb.grad.item())


@pytest.mark.parametrize("name", EXPRESSIONS)
def test_gradients_match_finite_differences(name):
    f, (a, b), eps = EXPRESSIONS[name], POINTS[1], 1e-6
    _, x, y = values(f, a, b)
    da = (f(S.Value(a + eps), S.Value(b)).data - f(S.Value(a - eps), S.Value(b)).data) / (2 * eps)
    db = (f(S.Value(a), S.Value(b + eps)).data - f(S.Value(a), S.Value(b - eps)).data) / (2 * eps)
    assert_close(f"{name}: d/da against finite differences", x.grad, da, rtol=1e-6, atol=1e-8)
    assert_close(f"{name}: d/db against finite differences", y.grad, db, rtol=1e-6, atol=1e-8)


def test_each_op_records_its_parents_and_local_derivatives():
    a, b = S.Value(3.0), S.Value(-2.0)
    c = a * b
    assert c.parents == (a, b) or c.parents == [a, b], "a*b must keep (a, b) as its parents"
    assert_close("local derivatives of a*b at a=3, b=-2", list(c.local_grads), [-2.0, 3.0])
    e = a.exp()
    assert_close("local derivative of exp at 3", list(e.local_grads), [math.exp(3.0)])


def test_a_value_used_on_two_paths_gets_both_contributions():
    a = S.Value(1.5)
    b = a * 2.0           # two paths from d down to a: through b and through c
    c = a + 1.0
    d = b * c
    d.backward()
    # d = 2a (a + 1): dd/da = 4a + 2
    assert_close("dd/da for d = (2a)(a + 1) at a = 1.5", a.grad, 4 * 1.5 + 2)
