"""The NumPy backend's own promises, beyond matching PyTorch op by op (test_functional):
inputs in either memory layout, max-pool's NaN and tie rules, empty batches through every
layer, and a float32 Adam that stays float32 (the threads: test_cpu_threads)."""
import numpy as np
import pytest
import torch

import minigrad
import minigrad.nn.functional as F
from examples.lenet import lenet
from helpers import to_numpy
from minigrad.backend import cpu

TF = torch.nn.functional


@pytest.fixture
def threads():
    """Set the CPU backend's thread count inside a test; back to the default afterwards."""
    yield cpu.set_num_threads
    cpu.set_num_threads(None)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_layers_give_the_same_bits_for_either_input_layout(dtype, n_threads, threads):
    """An ordinary NCHW array and the same values batch-last give identical results."""
    threads(n_threads)
    g = np.random.default_rng(0)
    x = g.standard_normal((5, 3, 10, 9)).astype(dtype)
    x_bl = cpu.from_batch_last(np.ascontiguousarray(x.transpose(1, 2, 3, 0)))
    w, b = g.standard_normal((4, 3, 3, 3)).astype(dtype), g.standard_normal(4).astype(dtype)
    for args in [(1, 0), (2, 1)]:
        y1, s1 = cpu.conv2d_fwd(x, w, b, *args)
        y2, s2 = cpu.conv2d_fwd(x_bl, w, b, *args)
        np.testing.assert_array_equal(y1, y2)
        gy = g.standard_normal(y1.shape).astype(dtype)
        for a, c in zip(cpu.conv2d_bwd(gy, s1, x.shape, w.shape, *args, (True, True, True)),
                        cpu.conv2d_bwd(gy, s2, x.shape, w.shape, *args, (True, True, True))):
            np.testing.assert_array_equal(a, c)
    for k, s, p in [(2, 2, 0), (3, 2, 1)]:
        (o1, a1), (o2, a2) = cpu.maxpool2d_fwd(x, k, k, s, p), cpu.maxpool2d_fwd(x_bl, k, k, s, p)
        np.testing.assert_array_equal(o1, o2)
        np.testing.assert_array_equal(a1, a2)


def test_conv_block_cut_does_not_change_the_result(monkeypatch):
    """The column matrix made one pixel at a time, a few pixels or rows at a time, or all at
    once gives the same convolution (to rounding: the weight gradient sums the blocks in
    another grouping)."""
    g = np.random.default_rng(0)
    x, w, b = g.standard_normal((3, 2, 9, 9)), g.standard_normal((4, 2, 3, 3)), g.standard_normal(4)
    for stride, pad in [(1, 1), (2, 0)]:
        results = []
        for column_bytes in (1, 3000, 1 << 30):   # a pixel, a few pixels, everything per block
            monkeypatch.setattr(cpu.conv, "COLUMN_BYTES", column_bytes)
            y, saved = cpu.conv2d_fwd(x, w, b, stride, pad)
            grads = cpu.conv2d_bwd(np.ones_like(y), saved, x.shape, w.shape, stride, pad,
                                   (True,) * 3)
            results.append((y,) + grads)
        assert saved[0].blocks == 1
        for result in results[:2]:
            for a, c in zip(result, results[2]):
                np.testing.assert_allclose(a, c, rtol=1e-13, atol=1e-13)


# ---- max-pool: NaN and ties as PyTorch -------------------------------------------------------
NAN, INF = float("nan"), float("inf")


def pool_both(x, k, s, p):
    """Our and PyTorch's max-pool of x: outputs and input gradients for an upstream of
    distinct values (so a gradient sent to the wrong pixel shows)."""
    ours_in = minigrad.tensor(x, requires_grad=True)
    ref_in = torch.tensor(x, requires_grad=True)
    ours, ref = F.max_pool2d(ours_in, k, s, p), TF.max_pool2d(ref_in, k, s, p)
    up = np.arange(1, 1 + np.prod(ref.shape), dtype=x.dtype).reshape(tuple(ref.shape))
    ours.backward(minigrad.tensor(up))
    ref.backward(torch.tensor(up))
    return (to_numpy(ours), to_numpy(ref)), (ours_in.grad.numpy(), to_numpy(ref_in.grad))


WINDOWS = {
    "one NaN": [1, NAN, 3, 2],
    "two NaNs": [NAN, 1, NAN, 2],
    "all NaN": [NAN, NAN, NAN, NAN],
    "NaNs in the bottom row": [1, 2, NAN, NAN],
    "NaN and a tie": [NAN, 5, 5, 1],
    "tie in the top row": [2, 2, 1, 0],
    "tie across rows": [1, 3, 3, 0],
    "all equal": [4, 4, 4, 4],
    "all -inf": [-INF, -INF, -INF, -INF],
    "+inf twice": [INF, 0, INF, 1],
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", WINDOWS)
def test_max_pool_2x2_picks_what_pytorch_picks(name, dtype):
    """Each window alone, then among plain windows (the NaN check is per call)."""
    window = np.array(WINDOWS[name], dtype=dtype).reshape(2, 2)
    plain = np.random.default_rng(0).permutation(2 * 3 * 6 * 4).reshape(2, 3, 6, 4)
    for x in (window[None, None], plain.astype(dtype)):
        if x.shape != (1, 1, 2, 2):
            x[1, 2, 2:4, 0:2] = window
        (out, ref_out), (grad, ref_grad) = pool_both(x, 2, 2, 0)
        np.testing.assert_array_equal(out, ref_out)
        np.testing.assert_array_equal(grad, ref_grad)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_max_pool_with_overlapping_windows_and_padding_picks_what_pytorch_picks(dtype):
    g = np.random.default_rng(3)
    x = g.permutation(2 * 2 * 7 * 6).reshape(2, 2, 7, 6).astype(dtype)
    x[0, 0, 1, 1] = x[0, 0, 2, 3] = x[1, 1, 4, 4] = x[1, 1, 5, 4] = NAN
    x[0, 1, 3, :] = 100                                     # ties along a row
    for k, s, p in [(3, 2, 1), (2, 1, 0), (3, 3, 0), (2, 2, 1)]:
        (out, ref_out), (grad, ref_grad) = pool_both(x, k, s, p)
        np.testing.assert_array_equal(out, ref_out)
        np.testing.assert_array_equal(grad, ref_grad)


def test_max_pool_2x2_on_odd_sizes_leaves_the_last_row_and_column_without_gradient():
    x = np.random.default_rng(0).permutation(2 * 2 * 5 * 7).reshape(2, 2, 5, 7).astype("float32")
    (out, ref_out), (grad, ref_grad) = pool_both(x, 2, 2, 0)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(grad, ref_grad)
    assert not grad[:, :, 4].any() and not grad[:, :, :, 6].any()


# ---- empty batches ---------------------------------------------------------------------------
def grads_both(mg_fn, torch_fn, arrays):
    ours_in = [minigrad.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    ref_in = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    ours, ref = mg_fn(*ours_in), torch_fn(*ref_in)
    assert ours.shape == tuple(ref.shape) and ours.dtype == np.float32
    ours.sum().backward()
    ref.sum().backward()
    for o, r in zip(ours_in, ref_in):
        if r.requires_grad:
            assert o.grad.shape == tuple(r.grad.shape)
            np.testing.assert_array_equal(o.grad.numpy(), to_numpy(r.grad))
    return ours


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("n_threads", [1, 2])
def test_an_empty_batch_goes_through_every_layer_like_pytorch(n_threads, threads):
    threads(n_threads)
    g = np.random.default_rng(0)
    f32 = lambda *s: g.standard_normal(s).astype("float32")
    cases = [
        (lambda x, w, b: F.conv2d(x, w, b), TF.conv2d, [f32(0, 3, 8, 8), f32(4, 3, 3, 3), f32(4)]),
        (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
         lambda x, w, b: TF.conv2d(x, w, b, stride=2, padding=1),
         [f32(0, 3, 8, 8), f32(4, 3, 3, 3), f32(4)]),
        (lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2), [f32(0, 3, 8, 8)]),
        (lambda x: F.max_pool2d(x, 3, 2, 1), lambda x: TF.max_pool2d(x, 3, 2, 1),
         [f32(0, 3, 8, 8)]),
        (F.sigmoid, torch.sigmoid, [f32(0, 6, 4, 4)]),
        (F.sigmoid, torch.sigmoid, [f32(0, 120)]),
        (F.linear, TF.linear, [f32(0, 5), f32(3, 5), f32(3)]),
        (lambda z, t: F.cross_entropy(z, t, reduction="sum"),
         lambda z, t: TF.cross_entropy(z, t, reduction="sum"),
         [f32(0, 10), np.zeros(0, dtype=np.int64)]),
        (lambda z, t: F.cross_entropy(z, t, reduction="none"),
         lambda z, t: TF.cross_entropy(z, t, reduction="none"),
         [f32(0, 10), np.zeros(0, dtype=np.int64)]),
    ]
    for mg_fn, torch_fn, arrays in cases:
        grads_both(mg_fn, torch_fn, arrays)


def test_the_mean_cross_entropy_of_an_empty_batch_is_nan_as_in_pytorch():
    z = minigrad.zeros(0, 10, requires_grad=True)
    with np.errstate(all="ignore"):                                   # 0 / 0, as PyTorch
        loss = F.cross_entropy(z, minigrad.zeros(0, dtype="int64"))
        loss.backward()
    assert np.isnan(loss.item()) and z.grad.shape == (0, 10)


@pytest.mark.filterwarnings("error")
def test_an_empty_batch_through_lenet_and_an_adam_step_on_empty_parameters():
    net = lenet()
    y = net(minigrad.zeros(0, 1, 28, 28))
    assert y.shape == (0, 10)
    y.sum().backward()
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    empty = minigrad.zeros(0, 3, requires_grad=True)
    empty.grad = minigrad.zeros(0, 3)
    minigrad.optim.Adam([empty]).step()
    assert empty.shape == (0, 3) and empty.dtype == np.float32


# ---- Adam in float32 -----------------------------------------------------------------------
def adam_reference(p, g, m, v, step, lr, beta1, beta2, eps, wd, dtype):
    """PyTorch's Adam, each scalar first made a ``dtype`` number and every operation done in
    ``dtype``, the result then stored as float32."""
    f = np.dtype(dtype).type
    p, g, m, v = (a.astype(dtype) for a in (p, g, m, v))
    g = g + f(wd) * p
    m = m + (g - m) * f(1 - beta1)
    v = v * f(beta2) + g * g * f(1 - beta2)
    denom = np.sqrt(v) / f(np.sqrt(1 - beta2 ** step)) + f(eps)
    p = p - m / denom * f(lr / (1 - beta1 ** step))
    return [a.astype(np.float32) for a in (p, m, v)]


def test_adam_step_on_float32_is_float32_all_the_way():
    """Bitwise equal to the update done in float32 only; the same update done in float64
    and rounded at the end differs, so this would catch a float64 temporary."""
    g = np.random.default_rng(0)
    p, grad, m = (g.standard_normal(5000).astype(np.float32) for _ in range(3))
    v = np.abs(g.standard_normal(5000)).astype(np.float32)
    hyper = (1e-3, 0.9, 0.999, 1e-8, 0.01)
    for step in (1, 2, 10):
        want32 = adam_reference(p, grad, m, v, step, *hyper, np.float32)
        want64 = adam_reference(p, grad, m, v, step, *hyper, np.float64)
        cpu.adam_step(p, grad, m, v, step, *(np.float64(h) for h in hyper))
        for ours, want in zip((p, m, v), want32):
            assert ours.dtype == np.float32
            np.testing.assert_array_equal(ours, want)
        assert not np.array_equal(p, want64[0])
