"""Test set-up shared by every file: the ``device`` and ``gpu_device`` fixtures and the cuda
marker's rules.

A test marked ``cuda`` (or the cuda case of ``device``) skips with the reason when no GPU is
usable; with MINIGRAD_REQUIRE_CUDA=1 it fails instead, so a GPU run cannot pass by skipping.

MINIGRAD_EMULATE_CUDA=1 runs the cuda tests without a GPU: CuPy is replaced by the host
emulator in minigrad/emulate (NumPy arrays labelled as device memory, the kernels compiled by
g++). That checks minigrad's GPU code paths, not the GPU; it is slow (minutes). The emulator
is put in place only through helpers.py (install_session_emulator for the session,
emulated_gpu for one test), which every test file uses.

``gpu_device`` runs a test on the GPU ("cuda": a real one, or the session's emulator), and
also, in an ordinary run, on the host emulator installed for that test alone ("emulated"):
so the GPU code paths of a few tensor-level tests (CUDA graphs, the LeNet step) are checked
by ``make test`` too."""
import importlib.util
import os
from pathlib import Path

import pytest

import minigrad
from helpers import EMULATED, emulated_gpu, install_session_emulator

install_session_emulator()      # minigrad looks for CuPy only when first asked, never at import

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


@pytest.fixture(params=[pytest.param("cuda", marks=pytest.mark.cuda), "emulated"])
def gpu_device(request):
    """"cuda" for both params; "emulated" installs the host emulator for this test."""
    if request.param == "cuda":
        yield "cuda"
        return
    if EMULATED:
        pytest.skip("the whole session is emulated: the cuda case runs on the emulator")
    with emulated_gpu():
        yield "cuda"


@pytest.fixture
def example():
    """examples/lenet_fashion.py, freshly imported as a module (its main(), train(), ...)."""
    path = Path(__file__).parent.parent / "examples" / "lenet_fashion.py"
    spec = importlib.util.spec_from_file_location("lenet_fashion", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
