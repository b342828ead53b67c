"""Exercise 6: GELU (the tanh approximation), its backward, and the module."""
import numpy as np
import pytest
import torch

import minigrad
from exercise_help import not_done
from helpers import check_against_torch, gradcheck_numpy

pytestmark = pytest.mark.exercise
F = minigrad.nn.functional


def test_gelu_tanh_matches_pytorch():
    if not hasattr(F, "gelu") or not hasattr(minigrad.nn, "GELU"):
        not_done("no nn.functional.gelu(x, approximate='tanh') / nn.GELU")
    x = np.random.default_rng(0).standard_normal((5, 7)) * 3
    for dtype in ("float64", "float32"):
        check_against_torch(lambda a: F.gelu(a, approximate="tanh"),
                            lambda a: torch.nn.functional.gelu(a, approximate="tanh"),
                            [x], dtype=dtype)
    gradcheck_numpy(lambda a: F.gelu(a, approximate="tanh"), [x])
    check_against_torch(minigrad.nn.GELU(approximate="tanh"),
                        torch.nn.GELU(approximate="tanh"), [x])
