"""Run one computation in minigrad and in PyTorch and compare values and gradients.

PyTorch runs in float64 on the CPU as the reference; minigrad runs in the dtype and on the
device under test. The error measure is normwise relative: max|ours − ref| / max|ref|
(so tiny reference elements do not blow it up). Tolerances: float64 1e-10, float32 1e-5,
as docs/testing.md states; a test that needs more says why where it asks.

Also what several test files share (no test file imports another): raises_like_torch and
mg_torch for side-by-side checks, small synthetic Fashion-MNIST files (make_split, trust),
and the one way to put the host GPU emulator in CuPy's place (install_session_emulator,
emulated_gpu)."""
import contextlib
import gzip
import hashlib
import os
import shutil
import struct

import numpy as np
import pytest
import torch

import minigrad
from minigrad.data import fashion_mnist as fm

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


def raises_like_torch(exc, fn_ours, fn_ref, match=None):
    """Both raise ``exc``; with ``match``, both messages contain it."""
    with pytest.raises(exc) as ref:
        fn_ref()
    with pytest.raises(exc) as ours:
        fn_ours()
    if match is not None:
        assert match in str(ref.value), str(ref.value)
        assert match in str(ours.value), str(ours.value)


def mg_torch(values, **kw):
    """The same values as a minigrad and as a PyTorch tensor (``dtype`` given by name)."""
    return minigrad.tensor(values, **kw), torch.tensor(values, **{
        k: getattr(torch, str(v)) if k == "dtype" else v for k, v in kw.items()})


def gradcheck_numpy(mg_fn, arrays, device="cpu", **kw):
    """minigrad.autograd.gradcheck on float64 copies of ``arrays`` (integers pass through)."""
    inputs = [minigrad.tensor(np.asarray(a, dtype=np.float64), device=device, requires_grad=True)
              if np.asarray(a).dtype.kind == "f" else minigrad.tensor(a, device=device)
              for a in arrays]
    return minigrad.autograd.gradcheck(mg_fn, inputs, **kw)


# ---- small Fashion-MNIST files -----------------------------------------------------------------
def idx_bytes(array):
    """``array`` (uint8 or int8) as the bytes of an IDX file."""
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09}
    head = bytes([0, 0, codes[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I",
                                                                      *array.shape)
    return head + array.tobytes()


def make_split(folder, n, seed, gz=True):
    """Four small synthetic IDX files; returns their decompressed bytes by name."""
    g = np.random.default_rng(seed)
    contents = {}
    for prefix in ("train", "t10k"):
        images = g.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = g.integers(0, 10, n).astype(np.uint8)
        contents[f"{prefix}-images-idx3-ubyte"] = idx_bytes(images)
        contents[f"{prefix}-labels-idx1-ubyte"] = idx_bytes(labels)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return contents


def trust(monkeypatch, contents):
    """Make minigrad accept ``contents`` (make_split's) as the genuine Fashion-MNIST files."""
    monkeypatch.setattr(fm, "FILES", {k: hashlib.sha256(v).hexdigest()
                                      for k, v in contents.items()})


# ---- the host emulator in place of CuPy ---------------------------------------------------------
# The one way tests put the emulator (minigrad/emulate: NumPy arrays labelled as device memory,
# the kernels compiled by g++) in CuPy's place: for a whole session (MINIGRAD_EMULATE_CUDA=1,
# conftest.py calls install_session_emulator) or for one test (emulated_gpu).
EMULATED = os.environ.get("MINIGRAD_EMULATE_CUDA") == "1"     # the whole session emulates


def install_session_emulator():
    """Under MINIGRAD_EMULATE_CUDA=1, CuPy is the emulator for the whole session (conftest.py
    calls this at start-up, before any test asks for CuPy: minigrad looks for it lazily)."""
    if EMULATED:
        from minigrad.emulate import fake_cupy
        fake_cupy.install()


def forget_the_gpu():
    """Drop what minigrad remembers about the GPU (so that CuPy can be swapped)."""
    from minigrad.backend import cuda
    minigrad.gpu_state.forget()
    cuda.reset()
    minigrad.autograd._seeds.clear()


@contextlib.contextmanager
def emulated_gpu(sms=None):
    """The host emulator in place of CuPy for the duration (yields fake_cupy); skips the test
    where there is no g++ to compile the kernels. ``sms``: the number of multiprocessors the
    emulated device reports for the duration (fake_cupy.H200_SMS: an H200's). In a session
    that is emulated already, the session's emulator is used as it is."""
    from minigrad.emulate import fake_cupy
    if not EMULATED and shutil.which("g++") is None:
        pytest.skip("the emulator needs g++")
    saved = None if EMULATED else fake_cupy.install()
    sms_before = fake_cupy._Device.attributes["MultiProcessorCount"]
    if sms is not None:
        fake_cupy.set_sm_count(sms)
    forget_the_gpu()
    try:
        yield fake_cupy
    finally:
        fake_cupy.set_sm_count(sms_before)
        if saved is not None:
            fake_cupy.uninstall(saved)
        forget_the_gpu()


def on_emulator():
    """Is "cuda" the host emulator here (not a GPU)?"""
    import cupy
    return cupy.__name__.endswith("fake_cupy")
