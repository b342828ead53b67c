"""The track's assertions: when one fails, its message points at the bug.

    assert_close("linear: dW", got, want)     shapes, the first mismatching index with both
                                              values, how many elements differ
    gradcheck("sigmoid", f, [x])              central finite differences against your
                                              backward: which op, which input, which index
    compare_with_torch("conv2d", ...)         the same call in your engine and in PyTorch,
                                              forward value and every input's gradient

Everything here is float64, where a gradient is checked to 1e-10 relative error (float32
would hide a wrong term below its rounding)."""
import numpy as np


def _index(flat, shape):
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


def assert_close(what, got, want, rtol=1e-10, atol=1e-12):
    """``got`` equals ``want`` to rtol/atol, elementwise; else fail naming ``what``, both
    shapes, the first index where they differ and both values there."""
    __tracebackhide__ = True        # a failure shows the test's line, then this message
    if got is None:
        raise AssertionError(f"{what}: got None, expected an array of shape "
                             f"{np.shape(want)} (did your code return or set it?)")
    got_a, want_a = np.asarray(got), np.asarray(want)
    if got_a.shape != want_a.shape:
        raise AssertionError(f"{what}: shape {got_a.shape}, expected {want_a.shape}")
    if got_a.dtype == object or not np.issubdtype(got_a.dtype, np.number):
        raise AssertionError(f"{what}: dtype {got_a.dtype}, expected numbers like "
                             f"{want_a.dtype}")
    bad = ~np.isclose(got_a, want_a, rtol=rtol, atol=atol, equal_nan=True)
    if bad.any():
        flat = np.flatnonzero(bad)
        first = _index(flat[0], got_a.shape)
        g, w = got_a[first].item(), want_a[first].item()
        raise AssertionError(
            f"{what}: shape {got_a.shape}; {len(flat)} of {got_a.size} elements differ; first "
            f"at index {first}: got {g!r}, expected {w!r} (difference {abs(g - w):.3g}, "
            f"allowed {atol + rtol * abs(w):.3g})")



def gradcheck(op, f, inputs, seed=0, eps=1e-6, rtol=1e-6, atol=1e-8):
    """Check the gradients your backward gives ``f`` against central finite differences.

    ``f(*inputs)`` takes and returns your Tensors (float64). The output is weighted by a
    random array w, so the check covers every output element: L = sum(w * f(x)), and
    ``out.backward(w)`` must give dL/dx for every input x, which is compared with
    (L(x + eps e_i) - L(x - eps e_i)) / (2 eps) for every element i. A failure names the op,
    the input, the first mismatching index, the analytic and numeric values."""
    __tracebackhide__ = True        # a failure shows the test's line, then this message
    for t in inputs:
        t.grad = None
    out = f(*inputs)
    w = np.random.default_rng(seed).standard_normal(np.shape(out.data))
    out.backward(w)
    for k, t in enumerate(inputs):
        x = t.data
        numeric = np.zeros_like(x)
        for i in range(x.size):
            idx = np.unravel_index(i, x.shape)
            old = x[idx]
            x[idx] = old + eps
            hi = np.sum(w * f(*inputs).data)
            x[idx] = old - eps
            lo = np.sum(w * f(*inputs).data)
            x[idx] = old
            numeric[idx] = (hi - lo) / (2 * eps)
        shapes = ", ".join(str(np.shape(u.data)) for u in inputs)
        assert_close(f"{op}: the gradient with respect to input {k} (inputs of shapes "
                     f"{shapes}) failed the finite-difference check (got = your backward, "
                     "expected = finite differences)", t.grad, numeric, rtol=rtol, atol=atol)


def compare_with_torch(op, Tensor, mine, theirs, arrays, rtol=1e-10, atol=1e-12, seed=1):
    """Run ``mine(*tensors)`` on your Tensors (of the class ``Tensor``) and
    ``theirs(*tensors)`` on torch tensors made from the same float64 arrays; compare the
    outputs, then every input's gradient for the same random output gradient. Returns your
    output."""
    __tracebackhide__ = True        # a failure shows the test's line, then this message
    import torch

    ours = [Tensor(np.array(a, dtype=np.float64)) for a in arrays]
    ref = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out, want = mine(*ours), theirs(*ref)
    assert_close(f"{op}: forward (inputs of shapes {[np.shape(a) for a in arrays]})",
                 out.data, want.detach().numpy(), rtol, atol)
    g = np.random.default_rng(seed).standard_normal(np.shape(want.detach().numpy()))
    out.backward(g)
    want.backward(torch.tensor(g))
    for k, (a, b) in enumerate(zip(ours, ref)):
        assert_close(f"{op}: gradient of input {k} (shape {np.shape(arrays[k])}), against "
                     "PyTorch", a.grad, b.grad.numpy(), rtol, atol)
    return out
