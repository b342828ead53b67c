"""Exercise 1: ReLU through the backend, with a CUDA kernel of its own."""
import numpy as np
import pytest

import minigrad
from exercise_help import emulated_cuda, not_done
from minigrad.backend import cpu

pytestmark = pytest.mark.exercise


def sample():
    x = np.random.default_rng(0).standard_normal((3, 4, 5))
    x[0, 0, :3] = [0.0, -0.0, np.nan]                  # the edges: zero, minus zero, NaN
    g = np.random.default_rng(1).standard_normal(x.shape)
    return x, g


def test_the_numpy_twin():
    if not hasattr(cpu, "relu_fwd") or not hasattr(cpu, "relu_bwd"):
        not_done("backend/textbook.py has no relu_fwd(x) / relu_bwd(g, x) in INTERFACE "
                 "(the fast form, backend/cpu/, takes them from the textbook)")
    x, g = sample()
    np.testing.assert_array_equal(cpu.relu_fwd(x), np.maximum(x, 0))
    np.testing.assert_array_equal(cpu.relu_bwd(g, x), np.where(x <= 0, 0.0, g))


def test_the_kernel_matches_the_twin_in_the_emulator():
    from minigrad.backend import cuda
    if "relu.cu" not in cuda.KERNELS or not hasattr(cuda, "relu_fwd"):
        not_done("no kernels/relu.cu listed in backend/cuda/runtime.py's KERNELS, or no "
                 "cuda.relu_fwd / relu_bwd")
    undo = emulated_cuda()
    try:
        import cupy
        for dtype in (np.float32, np.float64):
            x, g = (a.astype(dtype) for a in sample())
            y = cuda.relu_fwd(cupy.asarray(x))
            dx = cuda.relu_bwd(cupy.asarray(g), cupy.asarray(x))
            assert y.dtype == dtype and dx.dtype == dtype
            np.testing.assert_array_equal(y.get(), cpu.relu_fwd(x))
            np.testing.assert_array_equal(dx.get(), cpu.relu_bwd(g, x))
            assert cuda.relu_fwd(cupy.asarray(np.ones((0, 3), dtype))).shape == (0, 3)
    finally:
        undo()


def test_the_op_goes_through_the_backend(monkeypatch):
    if not hasattr(cpu, "relu_fwd"):
        not_done("backend/textbook.py has no relu_fwd")
    calls = []
    for name in ("relu_fwd", "relu_bwd"):
        real = getattr(cpu, name)
        monkeypatch.setattr(cpu, name, lambda *a, _r=real, _n=name: calls.append(_n) or _r(*a))
    x = minigrad.tensor([[-1.0, 2.0], [0.5, -3.0]], requires_grad=True)
    minigrad.nn.functional.relu(x).sum().backward()
    assert calls == ["relu_fwd", "relu_bwd"], "ops.ReLU must call backend_of(x).relu_fwd/bwd"
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0], [1.0, 0.0]])
