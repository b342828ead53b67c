"""Shapes survive the GPU backend: every function of backend/cuda.py, and the layers and
optimizers above it, on 0-d, one-element and empty inputs, against the NumPy backend.

Why a file of its own: CuPy's ``ascontiguousarray`` never returns a 0-d array (CuPy 14's
``core.pyx``: a 0-d array comes back as ``ravel()``, shape (1,)), so a launcher that makes
its input contiguous and builds its output from the result answers a 0-d input with shape
(1,), or refuses to pair a (1,) gradient with a 0-d parameter. The emulator in minigrad/emulate
does what CuPy does, so these fail there as they would on a GPU.

The ``gpu`` fixture: "cuda" (a real GPU, or the session's emulator under
MINIGRAD_EMULATE_CUDA=1; marked ``cuda``) and "emulated" (the host emulator installed for
the test, in an ordinary run)."""
import numpy as np
import pytest

import minigrad
from helpers import emulated_gpu, forget_the_gpu
from minigrad.backend import cpu

SCALAR_SHAPES = [(), (1,), (0,), (1, 1, 1, 1), (0, 3)]   # any-rank functions
IDS = ["0d", "1", "empty", "1x1x1x1", "0x3"]


@pytest.fixture(params=[pytest.param("cuda", marks=pytest.mark.cuda), "emulated"])
def gpu(request, tmp_path):
    """The CUDA backend module, on a GPU or on the host emulator."""
    from minigrad.backend import cuda
    if request.param == "cuda":
        forget_the_gpu()
        yield cuda
        return
    import os
    import shutil
    if os.environ.get("MINIGRAD_EMULATE_CUDA") == "1":
        pytest.skip("the whole session is emulated: the cuda case runs on the emulator")
    if shutil.which("g++") is None:
        pytest.skip("the emulator needs g++")
    with emulated_gpu():
        yield cuda


def dev(a):
    import cupy
    return cupy.asarray(np.asarray(a))


def host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


def same(gpu_result, cpu_result, what, tol=1e-12):
    """Shapes, dtypes and values equal (nested tuples; None for None)."""
    if cpu_result is None:
        assert gpu_result is None, what
        return
    if isinstance(cpu_result, tuple):
        assert isinstance(gpu_result, tuple) and len(gpu_result) == len(cpu_result), what
        for i, (g, c) in enumerate(zip(gpu_result, cpu_result)):
            same(g, c, f"{what}[{i}]", tol)
        return
    g, c = host(gpu_result), np.asarray(cpu_result)
    assert g.shape == c.shape, f"{what}: shape {g.shape} on the GPU, {c.shape} on the CPU"
    assert g.dtype == c.dtype, f"{what}: dtype {g.dtype} on the GPU, {c.dtype} on the CPU"
    np.testing.assert_allclose(g, c, rtol=tol, atol=tol, err_msg=what)


def rand(shape, seed=0, dtype=np.float64):
    """Uniform in [-1, 1): always an array (0-d included, never a NumPy scalar, so the CPU's
    in-place updates land in it)."""
    return np.array(np.random.default_rng(seed).uniform(-1, 1, shape), dtype=dtype)


# ---- elementwise and in-place functions: any rank, 0-d included ----------------------------
@pytest.mark.parametrize("shape", SCALAR_SHAPES, ids=IDS)
def test_sigmoid_keeps_the_shape(gpu, shape):
    x = rand(shape)
    y = gpu.sigmoid_fwd(dev(x))
    same(y, cpu.sigmoid_fwd(x), "sigmoid_fwd")
    g = rand(shape, 1)
    same(gpu.sigmoid_bwd(dev(g), y), cpu.sigmoid_bwd(g, cpu.sigmoid_fwd(x)), "sigmoid_bwd")


def _states(shape, n):
    return [rand(shape, seed) for seed in range(n)]


@pytest.mark.parametrize("shape", SCALAR_SHAPES[:3], ids=IDS[:3])
def test_adam_step_updates_in_place_whatever_the_shape(gpu, shape):
    p, g, m, v = _states(shape, 4)
    np.abs(v, out=v)
    d = [dev(a) for a in (p, g, m, v)]
    gpu.adam_step(*d, 3, 1e-2, 0.9, 0.999, 1e-8, 0.1)
    cpu.adam_step(p, g, m, v, 3, 1e-2, 0.9, 0.999, 1e-8, 0.1)
    for name, a, b in zip(("param", "grad", "exp_avg", "exp_avg_sq"), d, (p, g, m, v)):
        same(a, b, f"adam_step {name}")


@pytest.mark.parametrize("shape", SCALAR_SHAPES[:3], ids=IDS[:3])
def test_adam_multi_updates_in_place_whatever_the_shape(gpu, shape):
    p, g, m, v = _states(shape, 4)
    np.abs(v, out=v)
    d = [dev(a) for a in (p, g, m, v)]
    t_cpu, t_gpu = np.zeros((), np.float64), dev(np.zeros((), np.float64))
    for _ in range(2):
        gpu.adam_multi([d[0]], [d[1]], [d[2]], [d[3]], [t_gpu], 1e-2, 0.9, 0.999, 1e-8, 0.0)
        cpu.adam_multi([p], [g], [m], [v], [t_cpu], 1e-2, 0.9, 0.999, 1e-8, 0.0)
    for name, a, b in zip(("param", "exp_avg", "exp_avg_sq", "step"), (d[0], d[2], d[3], t_gpu),
                          (p, m, v, t_cpu)):
        same(a, b, f"adam_multi {name}")


@pytest.mark.parametrize("shape", SCALAR_SHAPES[:3], ids=IDS[:3])
def test_adadelta_step_updates_in_place_whatever_the_shape(gpu, shape):
    p, g, s, acc = _states(shape, 4)
    np.abs(s, out=s), np.abs(acc, out=acc)
    d = [dev(a) for a in (p, g, s, acc)]
    gpu.adadelta_step(*d, 1.0, 0.9, 1e-6, 0.1)
    cpu.adadelta_step(p, g, s, acc, 1.0, 0.9, 1e-6, 0.1)
    for name, a, b in zip(("param", "square_avg", "acc_delta"), (d[0], d[2], d[3]),
                          (p, s, acc)):
        same(a, b, f"adadelta_step {name}")


@pytest.mark.parametrize("centered,momentum", [(False, 0.0), (True, 0.9)])
@pytest.mark.parametrize("shape", SCALAR_SHAPES[:3], ids=IDS[:3])
def test_rmsprop_step_updates_in_place_whatever_the_shape(gpu, shape, centered, momentum):
    p, g, s, ga, buf = _states(shape, 5)
    np.abs(s, out=s)
    s += 1
    d = [dev(a) for a in (p, g, s, ga, buf)]
    gpu.rmsprop_step(*d, 1e-2, 0.99, 1e-8, 0.1, momentum, centered)
    cpu.rmsprop_step(p, g, s, ga, buf, 1e-2, 0.99, 1e-8, 0.1, momentum, centered)
    for name, a, b in zip(("param", "square_avg", "grad_avg", "momentum_buffer"),
                          (d[0], d[2], d[3], d[4]), (p, s, ga, buf)):
        same(a, b, f"rmsprop_step {name}")


@pytest.mark.parametrize("shape", SCALAR_SHAPES, ids=IDS)
def test_dropout_mask_has_the_shape_asked_for(gpu, shape):
    # the bits differ from the CPU's by design: with p = 0 every element is kept (1.0)
    mask = gpu.dropout_mask(shape, 0.0, np.float32)
    same(mask, np.ones(shape, np.float32), "dropout_mask p=0")
    assert host(gpu.dropout_mask(shape, 0.5, np.float64)).shape == shape


# ---- the layers' functions: a one-element and an empty case each ----------------------------
ONE, EMPTY = (1, 1, 1, 1), (0, 1, 3, 3)


@pytest.mark.parametrize("x_shape,k", [(ONE, 1), (EMPTY, 2)], ids=["1", "empty"])
def test_im2col_and_col2im(gpu, x_shape, k):
    x = rand(x_shape)
    cols = cpu.im2col(x, k, k, 1, 0)
    same(gpu.im2col(dev(x), k, k, 1, 0), cols, "im2col")
    same(gpu.col2im(dev(cols), x_shape, k, k, 1, 0), cpu.col2im(cols, x_shape, k, k, 1, 0),
         "col2im")


@pytest.mark.parametrize("x_shape,w_shape", [(ONE, (1, 1, 1, 1)), (EMPTY, (2, 1, 2, 2))],
                         ids=["1", "empty"])
def test_conv2d_forward_and_backward(gpu, x_shape, w_shape):
    x, w, b = rand(x_shape), rand(w_shape, 1), rand(w_shape[:1], 2)
    y, saved = cpu.conv2d_fwd(x, w, b, 1, 0)
    y_gpu, saved_gpu = gpu.conv2d_fwd(dev(x), dev(w), dev(b), 1, 0)
    same(y_gpu, y, "conv2d_fwd")
    g = rand(y.shape, 3)
    needs = (True, True, True)
    same(gpu.conv2d_bwd(dev(g), saved_gpu, x_shape, w_shape, 1, 0, needs),
         cpu.conv2d_bwd(g, saved, x_shape, w_shape, 1, 0, needs), "conv2d_bwd")


@pytest.mark.parametrize("a_shape,b_shape", [((1, 1), (1, 1)), ((0, 3), (3, 2)),
                                             ((2, 0), (0, 3)), ((0, 2, 2), (0, 2, 2)),
                                             ((1, 1, 1), (1, 1, 1))],
                         ids=["1", "no-rows", "K0", "empty-batch", "batch-1"])
def test_gemm_gemm_batch_sum_and_bias_grad(gpu, a_shape, b_shape):
    a, b = rand(a_shape), rand(b_shape, 1)
    same(gpu.gemm(dev(a), dev(b)), cpu.gemm(a, b), "gemm")
    if a.ndim == 3:
        same(gpu.gemm_batch_sum(dev(a), dev(b)), cpu.gemm_batch_sum(a, b), "gemm_batch_sum")
        same(gpu.bias_grad(dev(a)), cpu.bias_grad(a), "bias_grad")


@pytest.mark.parametrize("batch", [1, 0])
def test_linear_bwd(gpu, batch):
    out_f, in_f = (1, 1) if batch else (2, 3)
    g, x, w = rand((batch, out_f)), rand((batch, in_f), 1), rand((out_f, in_f), 2)
    needs = (True, True, True)
    same(gpu.linear_bwd(dev(g), dev(x), dev(w), needs), cpu.linear_bwd(g, x, w, needs),
         "linear_bwd")


@pytest.mark.parametrize("x_shape,k", [(ONE, 1), ((0, 1, 2, 2), 2)], ids=["1", "empty"])
def test_max_and_average_pool(gpu, x_shape, k):
    x = rand(x_shape)
    out, arg = cpu.maxpool2d_fwd(x, k, k, k, 0)
    out_gpu, arg_gpu = gpu.maxpool2d_fwd(dev(x), k, k, k, 0)
    same(out_gpu, out, "maxpool2d_fwd")
    g = rand(out.shape, 1)
    same(gpu.maxpool2d_bwd(dev(g), arg_gpu, x_shape, k, k, k, 0),
         cpu.maxpool2d_bwd(g, arg, x_shape, k, k, k, 0), "maxpool2d_bwd")
    args = ((k, k), (k, k), (0, 0))
    same(gpu.avgpool2d_fwd(dev(x), *args), cpu.avgpool2d_fwd(x, *args), "avgpool2d_fwd")
    same(gpu.avgpool2d_bwd(dev(g), x_shape, *args), cpu.avgpool2d_bwd(g, x_shape, *args),
         "avgpool2d_bwd")


@pytest.mark.parametrize("b,k", [(1, 1), (0, 3)], ids=["1", "empty"])
def test_softmax_cross_entropy_and_nll(gpu, b, k):
    z, t = rand((b, k)), np.zeros(b, np.int64)
    loss, lse = cpu.softmax_xent_fwd(z, t)
    loss_gpu, lse_gpu = gpu.softmax_xent_fwd(dev(z), dev(t))
    same((loss_gpu, lse_gpu), (loss, lse), "softmax_xent_fwd")
    g = rand((b,), 1)
    same(gpu.softmax_xent_bwd(dev(g), dev(z), lse_gpu, dev(t)),
         cpu.softmax_xent_bwd(g, z, lse, t), "softmax_xent_bwd")
    for reduction in ("mean", "sum", "none"):
        out, lse, _ = cpu.cross_entropy_fwd(z, t, reduction)
        out_gpu, lse_gpu, _ = gpu.cross_entropy_fwd(dev(z), dev(t), reduction)
        same(out_gpu, np.asarray(out), f"cross_entropy_fwd {reduction}")
        g = rand(np.shape(out), 2)                     # 0-d for "mean" and "sum"
        same(gpu.cross_entropy_bwd(dev(g), dev(z), lse_gpu, dev(t), reduction),
             cpu.cross_entropy_bwd(g, z, lse, t, reduction), f"cross_entropy_bwd {reduction}")
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True)) if b else z
    same(gpu.nll_fwd(dev(logp), dev(t), None, -100), cpu.nll_fwd(logp, t, None, -100),
         "nll_fwd")
    same(gpu.nll_bwd(dev(g if b else np.zeros(0)), dev(t), None, -100, k),
         cpu.nll_bwd(g if b else np.zeros(0), t, None, -100, k), "nll_bwd")


# ---- tensors: layers and optimizers on 0-d, one-element and empty tensors ----------------------
@pytest.mark.parametrize("shape", SCALAR_SHAPES[:3], ids=IDS[:3])
@pytest.mark.parametrize("op", ["sigmoid", "relu", "tanh", "exp"])
def test_elementwise_layers_keep_the_shape_and_its_gradient(gpu, shape, op):
    x = rand(shape)
    results = {}
    for device in ("cpu", "cuda"):
        t = minigrad.tensor(x, device=device, requires_grad=True)
        y = getattr(t, op)()
        y.sum().backward()
        results[device] = (y.detach().cpu().numpy(), t.grad.cpu().numpy())
    assert results["cuda"][0].shape == shape and results["cuda"][1].shape == shape
    same(results["cuda"], results["cpu"], op)


@pytest.mark.parametrize("shape", SCALAR_SHAPES[:3], ids=IDS[:3])
@pytest.mark.parametrize("name,kwargs", [
    ("Adam", dict(lr=0.1)), ("AdamW", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9)),
    ("RMSprop", dict(lr=0.1, centered=True, momentum=0.5)), ("Adadelta", dict(lr=1.0))])
def test_optimizers_step_a_parameter_of_any_shape(gpu, shape, name, kwargs):
    x = rand(shape)
    results = {}
    for device in ("cpu", "cuda"):
        p = minigrad.nn.Parameter(minigrad.tensor(x, device=device))
        opt = getattr(minigrad.optim, name)([p], **kwargs)
        for _ in range(2):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
        results[device] = p.detach().cpu().numpy()
    assert results["cuda"].shape == shape
    same(results["cuda"], results["cpu"], name)


def _layer_results(fn, arrays, device):
    """fn(*tensors) on ``device``, its output's sum back-propagated: (output, gradients) as
    NumPy, or the exception's type when it raises."""
    tensors = [minigrad.tensor(a, device=device, requires_grad=a.dtype.kind == "f")
               for a in arrays]
    try:
        y = fn(*tensors)
        y.sum().backward()
    except Exception as e:  # noqa: BLE001  (the CPU's answer, error or not, is the oracle)
        return type(e)
    grads = tuple(t.grad.cpu().numpy() if t.grad is not None else None for t in tensors)
    return y.detach().cpu().numpy(), grads


F = minigrad.nn.functional
LAYERS = {
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, padding=1),
               lambda n: [rand((n, 1, 1, 1)), rand((1, 1, 1, 1), 1), rand((1,), 2)]),
    "max_pool2d": (lambda x: F.max_pool2d(x, 1), lambda n: [rand((n, 1, 1, 1))]),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 1), lambda n: [rand((n, 1, 1, 1))]),
    "linear": (lambda x, w, b: F.linear(x, w, b),
               lambda n: [rand((n, 1)), rand((1, 1), 1), rand((1,), 2)]),
    "linear of a vector": (lambda x, w, b: F.linear(x, w, b),
                           lambda n: [rand((max(n, 1),)), rand((1, max(n, 1)), 1),
                                      rand((1,), 2)]),
    "cross_entropy sum": (lambda z, t: F.cross_entropy(z, t, reduction="sum"),
                          lambda n: [rand((n, 1)), np.zeros(n, np.int64)]),
    "cross_entropy none": (lambda z, t: F.cross_entropy(z, t, reduction="none"),
                           lambda n: [rand((n, 1)), np.zeros(n, np.int64)]),
    "nll_loss sum": (lambda z, t: F.nll_loss(z, t, reduction="sum"),
                     lambda n: [rand((n, 1)), np.zeros(n, np.int64)]),
    "dropout p=0.5 of no element": (lambda x: F.dropout(x, 0.5) * 0,
                                    lambda n: [rand((n, 1))]),
    "sum, mean, reshape": (lambda x: (x.reshape(-1).sum() + x.mean()) * x.reshape(x.shape),
                           lambda n: [rand((n,) if n != 1 else ())]),
}


@pytest.mark.parametrize("n", [1, 0], ids=["one", "empty"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layers_on_one_element_and_empty_batches(gpu, name, n):
    fn, make = LAYERS[name]
    arrays = make(n)
    cpu_result = _layer_results(fn, arrays, "cpu")
    gpu_result = _layer_results(fn, arrays, "cuda")
    if isinstance(cpu_result, type):
        assert gpu_result is cpu_result, f"{name}: the CPU raises {cpu_result.__name__}"
        return
    assert not isinstance(gpu_result, type), f"{name}: the GPU raises {gpu_result.__name__}"
    same(gpu_result[0], cpu_result[0], f"{name} output")
    same(gpu_result[1], cpu_result[1], f"{name} gradients")
