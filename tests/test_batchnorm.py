"""Batch normalisation: F.batch_norm, nn.BatchNorm1d and nn.BatchNorm2d against PyTorch
(values, gradients, running statistics, state_dict, errors), on the CPU and the GPU (the
kernel kernels/batchnorm.cu; on the host emulator where there is no GPU), by finite
differences, and every CPU form of batchnorm_fwd / batchnorm_bwd against the others."""
import numpy as np
import pytest
import torch

import minigrad
from helpers import check_against_torch, gradcheck_numpy, raises_like_torch, rel_err, to_numpy
from minigrad.backend import cpu, loops, textbook

TOL = {"float64": 1e-10, "float32": 1e-5}
SHAPES = [(6, 3), (4, 3, 5), (3, 2, 5, 4), (3, 2, 10, 10)]   # the last: 300 values a channel,
#                                                  more than a kernel block's 256 threads


def inputs(shape, seed=0):
    g = np.random.default_rng(seed)
    c = shape[1]
    x = 2 * g.standard_normal(shape) + g.standard_normal((1, c) + (1,) * (len(shape) - 2))
    return x, 1 + 0.5 * g.standard_normal(c), g.standard_normal(c)


def running(c, seed=5):
    g = np.random.default_rng(seed)
    return g.standard_normal(c), 0.5 + g.random(c)


# ---- F.batch_norm against PyTorch --------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_pytorch(device, dtype, shape, training):
    """The output and the gradients of x, γ and β; in training the running statistics it
    updates in place too."""
    x, w, b = inputs(shape)
    rm, rv = running(shape[1])
    ours = [minigrad.tensor(a, dtype=dtype, device=device) for a in (rm, rv)]
    ref = [torch.tensor(a) for a in (rm, rv)]
    check_against_torch(
        lambda x, w, b: minigrad.nn.functional.batch_norm(x, *ours, w, b, training, 0.3, 1e-3),
        lambda x, w, b: torch.nn.functional.batch_norm(x, *ref, w, b, training, 0.3, 1e-3),
        [x, w, b], dtype=dtype, device=device)
    for o, r in zip(ours, ref):
        assert rel_err(to_numpy(o), r.numpy()) <= TOL[dtype]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_batch_norm_without_affine_or_running_statistics(device, dtype):
    x, _, _ = inputs((5, 3, 4, 4))
    check_against_torch(
        lambda x: minigrad.nn.functional.batch_norm(x, None, None, training=True),
        lambda x: torch.nn.functional.batch_norm(x, None, None, training=True),
        [x], dtype=dtype, device=device)


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 4), (2, 3, 3, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(device, shape, training):
    x, w, b = inputs(shape)
    rm, rv = (minigrad.tensor(a, device=device) for a in running(shape[1]))
    assert gradcheck_numpy(
        lambda x, w, b: minigrad.nn.functional.batch_norm(x, rm, rv, w, b, training),
        [x, w, b], device=device)


def test_batch_norm_errors_as_pytorch():
    F, TF = minigrad.nn.functional, torch.nn.functional
    x, xt = minigrad.randn(4, 3), torch.randn(4, 3)
    raises_like_torch(RuntimeError, lambda: F.batch_norm(x, None, None),
                      lambda: TF.batch_norm(xt, None, None),
                      match="running_mean must be defined in evaluation mode")
    raises_like_torch(RuntimeError, lambda: F.batch_norm(x, minigrad.zeros(4), minigrad.ones(4)),
                      lambda: TF.batch_norm(xt, torch.zeros(4), torch.ones(4)),
                      match="running_mean should contain 3 elements not 4")
    raises_like_torch(ValueError, lambda: F.batch_norm(x[:1], None, None, training=True),
                      lambda: TF.batch_norm(xt[:1], None, None, training=True),
                      match="Expected more than 1 value per channel when training")


# ---- the modules against PyTorch's --------------------------------------------------------------
def pair(kind, *args, dtype="float64", device="cpu", **kw):
    ours = getattr(minigrad.nn, kind)(*args, **kw).to(dtype=getattr(minigrad, dtype))
    ref = getattr(torch.nn, kind)(*args, **kw).to(dtype=getattr(torch, dtype))
    return ours.to(device), ref


def assert_state_equal(ours, ref, tol):
    a, b = ours.state_dict(), ref.state_dict()
    assert list(a) == list(b)
    for k in b:
        assert a[k].shape == tuple(b[k].shape), k
        assert rel_err(to_numpy(a[k]), b[k].numpy()) <= tol, k


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind, shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 6)),
                                         ("BatchNorm2d", (4, 3, 5, 5))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_running_statistics_and_eval_match_pytorch(device, dtype, kind, shape, momentum):
    """Five training steps (the statistics, num_batches_tracked and the parameters' gradients
    each step), then eval mode uses the running statistics as PyTorch's does. momentum None:
    the plain average of every batch so far."""
    ours, ref = pair(kind, shape[1], momentum=momentum, dtype=dtype, device=device)
    for step in range(5):
        x, _, _ = inputs(shape, seed=step)
        xt = torch.tensor(x, dtype=getattr(torch, dtype))
        xo = minigrad.tensor(x, dtype=dtype, device=device)
        up = np.random.default_rng(10 + step).standard_normal(shape)  # Σ y² would give dβ = 0
        (ref(xt) * torch.tensor(up, dtype=xt.dtype)).sum().backward()
        (ours(xo) * minigrad.tensor(up, dtype=dtype, device=device)).sum().backward()
        assert_state_equal(ours, ref, TOL[dtype])
        for p, q in zip(ours.parameters(), ref.parameters()):
            assert rel_err(to_numpy(p.grad), q.grad.numpy()) <= TOL[dtype]
    assert int(ours.num_batches_tracked.item()) == 5
    ours.eval(), ref.eval()
    x, _, _ = inputs(shape, seed=9)
    out = ours(minigrad.tensor(x, dtype=dtype, device=device))
    assert rel_err(to_numpy(out), ref(torch.tensor(x, dtype=getattr(torch, dtype)))
                   .detach().numpy()) <= TOL[dtype]
    assert_state_equal(ours, ref, TOL[dtype])          # eval changes nothing


@pytest.mark.parametrize("affine, track", [(False, True), (True, False), (False, False)])
def test_without_affine_or_tracking_as_pytorch(device, affine, track):
    """Without tracked statistics the batch's are used in eval mode too."""
    ours, ref = pair("BatchNorm2d", 3, affine=affine, track_running_stats=track, device=device)
    x, _, _ = inputs((4, 3, 3, 3))
    for mode in ("train", "eval"):
        getattr(ours, mode)(), getattr(ref, mode)()
        out = ours(minigrad.tensor(x, device=device))
        assert rel_err(to_numpy(out), ref(torch.tensor(x)).detach().numpy()) <= 1e-10
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]


def test_state_dict_round_trip_with_pytorch():
    """PyTorch's keys and values load into minigrad's module and back."""
    ref = torch.nn.BatchNorm2d(4)
    ref(torch.randn(6, 4, 3, 3) * 3 + 1)
    with torch.no_grad():
        ref.weight.mul_(2), ref.bias.add_(0.5)
    ours = minigrad.nn.BatchNorm2d(4)
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    assert_state_equal(ours, ref, 0)
    assert ours.num_batches_tracked.dtype == minigrad.int64
    back = torch.nn.BatchNorm2d(4)
    back.load_state_dict({k: torch.tensor(to_numpy(v)) for k, v in ours.state_dict().items()})
    assert_state_equal(ours, back, 0)
    ours.eval(), ref.eval()
    x = np.random.default_rng(0).standard_normal((2, 4, 3, 3)).astype(np.float32)
    assert rel_err(to_numpy(ours(minigrad.tensor(x))), to_numpy(ref(torch.tensor(x)))) \
        <= 1e-6


def test_repr_buffers_and_resets_as_pytorch():
    for args, kw in [((3,), {}), ((5,), dict(momentum=None, affine=False)),
                     ((2,), dict(eps=1e-3, track_running_stats=False)), ((4,), dict(bias=False))]:
        for kind in ("BatchNorm1d", "BatchNorm2d"):
            assert repr(getattr(minigrad.nn, kind)(*args, **kw)) == \
                repr(getattr(torch.nn, kind)(*args, **kw))
    bn = minigrad.nn.BatchNorm1d(3)
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var",
                                                  "num_batches_tracked"]
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    bn(minigrad.randn(4, 3) * 3 + 2)
    with minigrad.no_grad():
        bn.weight.mul_(3)
    bn.reset_running_stats()
    assert (bn.running_mean.numpy() == 0).all() and (bn.running_var.numpy() == 1).all()
    assert bn.num_batches_tracked.item() == 0 and (bn.weight.detach().numpy() == 3).all()
    bn.reset_parameters()
    assert (bn.weight.detach().numpy() == 1).all() and (bn.bias.detach().numpy() == 0).all()


@pytest.mark.parametrize("kind, bad", [("BatchNorm1d", (4, 3, 2, 2)), ("BatchNorm1d", (3,)),
                                       ("BatchNorm2d", (4, 3, 2))])
def test_clear_errors_for_a_wrong_rank_or_channel_count(kind, bad):
    raises_like_torch(ValueError, lambda: getattr(minigrad.nn, kind)(3)(minigrad.randn(*bad)),
                      lambda: getattr(torch.nn, kind)(3)(torch.randn(*bad)), match="input")
    with pytest.raises(RuntimeError, match=r"BatchNorm2d\(3\) got an input with 5 channels"):
        minigrad.nn.BatchNorm2d(3)(minigrad.randn(2, 5, 2, 2))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        minigrad.nn.BatchNorm1d(3)(minigrad.randn(1, 3))


def test_an_empty_batch_leaves_the_running_statistics(device):
    ours, ref = pair("BatchNorm1d", 3, device=device)
    out = ours(minigrad.zeros(0, 3, dtype=minigrad.float64, device=device))
    ref(torch.zeros(0, 3, dtype=torch.float64))
    assert out.shape == (0, 3)
    assert_state_equal(ours, ref, 0)


# ---- the forms ---------------------------------------------------------------------------------
def form_results(form, shape, training, affine=True, put=np.asarray):
    x, w, b = inputs(shape)
    rm, rv = (put(a) for a in running(shape[1]))
    g = np.random.default_rng(3).standard_normal(shape)
    n, c = shape[:2]
    x3 = x.reshape(n, c, -1)
    y, saved = form.batchnorm_fwd(put(x3), put(w) if affine else None,
                                  put(b) if affine else None, rm, rv, training, 0.2, 1e-5)
    grads = form.batchnorm_bwd(put(g.reshape(x3.shape)), saved, put(w) if affine else None,
                               training, (True, affine, affine))
    out = [y, *saved, rm, rv] + [d for d in grads if d is not None]
    return [a.get() if hasattr(a, "get") else a for a in out]


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 2, 10, 10)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_the_cpu_forms_agree(shape, training, affine):
    """textbook, loops and fast (which is the textbook's, not overridden) to 1e-12."""
    assert cpu.batchnorm_fwd is textbook.batchnorm_fwd
    ref = form_results(textbook, shape, training, affine)
    for form in (loops, cpu):
        for a, b in zip(form_results(form, shape, training, affine), ref, strict=True):
            assert rel_err(a, b) <= 1e-12


@pytest.mark.parametrize("shape", [(6, 3), (3, 2, 10, 10), (2, 1, 700)])
@pytest.mark.parametrize("training", [True, False])
def test_the_kernel_matches_the_textbook_and_repeats_its_bits(gpu_device, shape, training):
    """On a GPU, or the host emulator in an ordinary run. (2, 1, 700): a block's threads each
    take several of the 1,400 values. Two runs give the same bits: a fixed-order tree sum."""
    import cupy

    from minigrad.backend import cuda
    ref = form_results(textbook, shape, training)
    first = form_results(cuda, shape, training, put=cupy.asarray)
    for a, b in zip(first, ref, strict=True):
        assert rel_err(a, b) <= 1e-12
    for a, b in zip(form_results(cuda, shape, training, put=cupy.asarray), first, strict=True):
        assert np.array_equal(a, b)


# ---- a network with batch normalisation learns ---------------------------------------------------
def test_lenet_with_batchnorm_learns_on_the_cpu():
    nn = minigrad.nn
    minigrad.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 5 * 5, 120),
                        nn.BatchNorm1d(120), nn.ReLU(), nn.Linear(120, 10))
    g = np.random.default_rng(0)
    x, y = minigrad.tensor(g.random((16, 1, 28, 28)), dtype="float32"), \
        minigrad.tensor(g.integers(0, 10, 16))
    opt = minigrad.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _ in range(8):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
    assert net[1].num_batches_tracked.item() == 8
    net.eval()
    assert net(x).shape == (16, 10)


def test_a_captured_step_with_batchnorm_is_bitwise_the_eager_step(gpu_device):
    """The kernel updates the running statistics on the device and nothing is read back, so a
    training step with BatchNorm can be captured as a CUDA graph: 3 eager warm-ups, then
    replays, give the eager run's parameters and running statistics bit for bit."""
    nn = minigrad.nn

    def run(graphed):
        minigrad.manual_seed(0)
        net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                            nn.Linear(4 * 6 * 6, 8), nn.BatchNorm1d(8), nn.Linear(8, 3)).cuda()
        opt = minigrad.optim.Adam(net.parameters(), lr=1e-2)

        def step(x, y):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            return loss
        step = minigrad.cuda.graphed(step) if graphed else step
        g = np.random.default_rng(1)
        for _ in range(6):
            step(minigrad.tensor(g.random((5, 1, 8, 8)), dtype="float32", device="cuda"),
                 minigrad.tensor(g.integers(0, 3, 5), device="cuda"))
        if graphed:
            assert step.calls == {"eager": 3, "capture": 1, "replay": 3}   # capture replays too
        return [to_numpy(t).copy() for t in net.state_dict().values()]

    for a, b in zip(run(True), run(False), strict=True):
        np.testing.assert_array_equal(a, b)
