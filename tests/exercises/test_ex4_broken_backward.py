"""Exercise 4: find (with gradcheck) and fix the planted wrong backward.

One test for the three ops together, and a message that names none of them: which one is
wrong is the exercise, and a test id per op would give it away."""
import numpy as np
import pytest

import minigrad
from examples.broken_backward import OPS
from exercise_help import not_done

pytestmark = pytest.mark.exercise


def test_every_backward_agrees_with_finite_differences():
    x = np.random.default_rng(0).uniform(0.5, 2.0, 7) * np.array([1, -1, 1, -1, 1, -1, 1])
    wrong = 0
    for op in OPS.values():
        t = minigrad.tensor(x, requires_grad=True)
        try:
            minigrad.autograd.gradcheck(lambda a, op=op: op.apply(a), [t])
        except minigrad.autograd.GradcheckError:
            wrong += 1
    if wrong:
        not_done(f"backwards in examples/broken_backward.py that disagree with finite "
                 f"differences: {wrong} of {len(OPS)}; find which with gradcheck")
