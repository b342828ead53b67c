"""Test set-up shared by every file: the ``device`` fixture and the cuda marker's rules.

A test marked ``cuda`` (or the cuda case of ``device``) skips with the reason when no GPU is
usable; with MINIGRAD_REQUIRE_CUDA=1 it fails instead, so a GPU run cannot pass by skipping."""
import os

import pytest

import minigrad

REQUIRE_CUDA = os.environ.get("MINIGRAD_REQUIRE_CUDA") == "1"


def pytest_runtest_setup(item):
    if item.get_closest_marker("cuda") is None:
        return
    reason = minigrad.cuda.unavailable_reason()
    if reason is None:
        return
    if REQUIRE_CUDA:
        pytest.fail(f"MINIGRAD_REQUIRE_CUDA=1 but CUDA is not usable: {reason}", pytrace=False)
    pytest.skip(f"no usable GPU: {reason}")


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request):
    return request.param


@pytest.fixture(autouse=True)
def _seeded():
    minigrad.manual_seed(0)
