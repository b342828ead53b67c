"""Exercise 4: find (with gradcheck) and fix the planted wrong backward."""
import numpy as np
import pytest

import minigrad
from examples.broken_backward import OPS

pytestmark = pytest.mark.exercise


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_backward_passes_gradcheck(name):
    x = np.random.default_rng(0).uniform(0.5, 2.0, 7) * np.array([1, -1, 1, -1, 1, -1, 1])
    t = minigrad.tensor(x, requires_grad=True)
    minigrad.autograd.gradcheck(lambda a: OPS[name].apply(a), [t])
