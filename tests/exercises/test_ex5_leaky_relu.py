"""Exercise 5: LeakyReLU, its backward, and the module."""
import numpy as np
import pytest
import torch

import minigrad
from exercise_help import not_done
from helpers import check_against_torch, gradcheck_numpy

pytestmark = pytest.mark.exercise
F = minigrad.nn.functional


def test_leaky_relu_matches_pytorch():
    if not hasattr(F, "leaky_relu") or not hasattr(minigrad.nn, "LeakyReLU"):
        not_done("no nn.functional.leaky_relu(x, negative_slope=0.01) / nn.LeakyReLU")
    x = np.random.default_rng(0).standard_normal((4, 6))
    for slope in (0.01, 0.2):
        for dtype in ("float64", "float32"):
            check_against_torch(lambda a, s=slope: F.leaky_relu(a, negative_slope=s),
                                lambda a, s=slope: torch.nn.functional.leaky_relu(a, s),
                                [x], dtype=dtype)
        gradcheck_numpy(lambda a, s=slope: F.leaky_relu(a, s), [x])
    check_against_torch(minigrad.nn.LeakyReLU(0.1), torch.nn.LeakyReLU(0.1), [x])
    assert repr(minigrad.nn.LeakyReLU(0.1)) == repr(torch.nn.LeakyReLU(0.1))
