"""Run one computation in minigrad and in PyTorch and compare values and gradients.

PyTorch runs in float64 on the CPU as the reference; minigrad runs in the dtype and on the
device under test. The error measure is normwise relative: max|ours − ref| / max|ref|
(so tiny reference elements do not blow it up). Tolerances: float64 1e-10, float32 1e-5,
as docs/testing.md states; a test that needs more says why where it asks."""
import contextlib

import numpy as np
import torch

import minigrad

TOL = {"float64": 1e-10, "float32": 1e-5}


def rel_err(ours, ref):
    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    assert ours.shape == ref.shape, f"shape {ours.shape} != reference {ref.shape}"
    scale = np.abs(ref).max() if ref.size else 1.0
    return float(np.abs(ours - ref).max() / (scale if scale > 0 else 1.0)) if ref.size else 0.0


def to_numpy(t):
    """A PyTorch or a minigrad tensor as a NumPy array (the two spell it the same)."""
    return t.detach().cpu().numpy()


def check_against_torch(mg_fn, torch_fn, arrays, dtype="float64", device="cpu", tol=None,
                        grad=True, seed=1):
    """``arrays``: the inputs as NumPy float64 (integer arrays pass through untouched and get
    no gradient). Compares the output and every float input's gradient; returns the errors."""
    tol = TOL[dtype] if tol is None else tol
    is_float = [np.asarray(a).dtype.kind == "f" for a in arrays]
    ref_in = [torch.tensor(a, dtype=torch.float64, requires_grad=grad) if f
              else torch.tensor(a) for a, f in zip(arrays, is_float)]
    ours_in = [minigrad.tensor(np.asarray(a, dtype=dtype), device=device, requires_grad=grad)
               if f else minigrad.tensor(a, device=device) for a, f in zip(arrays, is_float)]
    ref_out = torch_fn(*ref_in)
    out = mg_fn(*ours_in)
    assert out.dtype == np.dtype(dtype) or not is_float[0], f"output dtype {out.dtype}"
    assert out.device == minigrad.device(device)
    errors = {"out": rel_err(to_numpy(out), to_numpy(ref_out))}
    if grad:
        upstream = np.random.default_rng(seed).standard_normal(tuple(ref_out.shape))
        ref_out.backward(torch.tensor(upstream))
        out.backward(minigrad.tensor(upstream.astype(dtype), device=device))
        for i, (r, o, f) in enumerate(zip(ref_in, ours_in, is_float)):
            if f:
                assert o.grad is not None, f"input {i} got no gradient"
                assert o.grad.shape == o.shape and o.grad.dtype == o.dtype
                errors[f"grad{i}"] = rel_err(to_numpy(o.grad), to_numpy(r.grad))
    bad = {k: v for k, v in errors.items() if not v <= tol}
    assert not bad, f"relative errors above {tol:g} ({dtype}, {device}): {bad}"
    return errors


def gradcheck_numpy(mg_fn, arrays, device="cpu", **kw):
    """minigrad.autograd.gradcheck on float64 copies of ``arrays`` (integers pass through)."""
    inputs = [minigrad.tensor(np.asarray(a, dtype=np.float64), device=device, requires_grad=True)
              if np.asarray(a).dtype.kind == "f" else minigrad.tensor(a, device=device)
              for a in arrays]
    return minigrad.autograd.gradcheck(mg_fn, inputs, **kw)


# ---- the host emulator in place of CuPy, for one test ------------------------------------------
def forget_the_gpu():
    """Drop what minigrad remembers about the GPU (so that CuPy can be swapped)."""
    from minigrad.backend import cuda
    minigrad.cuda.unavailable_reason.cache_clear()
    cuda.reset()
    minigrad.autograd._seeds.clear()


@contextlib.contextmanager
def emulated_gpu():
    """The host emulator in place of CuPy for the duration (yields fake_cupy)."""
    from cuda_emu import fake_cupy
    saved = fake_cupy.install()
    forget_the_gpu()
    try:
        yield fake_cupy
    finally:
        fake_cupy.uninstall(saved)
        forget_the_gpu()


def on_emulator():
    """Is "cuda" the host emulator here (not a GPU)?"""
    import cupy
    return cupy.__name__.endswith("fake_cupy")
