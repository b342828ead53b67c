"""CUDA graphs: a captured training step trains exactly as eager steps do, PyTorch's
documented recipe runs unchanged with ``import minigrad as torch``, what cannot be captured
is refused naming the op, and the launches an eager step makes are counted.

Each test runs with ``gpu_device``: on a GPU (or the session's emulator under
``make test-emulated``), and in ``make test`` on the host emulator (minigrad/emulate), whose
capture records launches and CuPy operations instead of running them and whose replay fails
on a buffer freed since the capture (see minigrad/emulate/capture.py). The emulator checks the
logic of capture and replay; that CuPy accepts every call during a real capture, and the
speed, only a GPU shows (``make gpu-check``). The two tests that only the emulator can check
(a freed buffer named at replay, launch counts) take the ``emulator`` fixture instead: never
run on a GPU, so never skipped there."""
import os
import shutil

import numpy as np
import pytest

import minigrad
from examples.lenet import lenet
from helpers import emulated_gpu, on_emulator
from minigrad.backend import cuda as cuda_backend

BATCH = 8                 # small: the emulator runs every thread of every kernel on a CPU
EMULATED = os.environ.get("MINIGRAD_EMULATE_CUDA") == "1"     # the whole session emulates


@pytest.fixture(params=[pytest.param("emulated", marks=[pytest.mark.cuda] if EMULATED else [])])
def emulator():
    """For what only the emulator can show (a replay naming a freed buffer, launch counts):
    "cuda" on the session's emulator under make test-emulated (marked cuda there, so its
    -m cuda selects it), else on the emulator installed for this test alone. Never on a GPU,
    so a GPU run (MINIGRAD_REQUIRE_CUDA=1) neither runs nor skips these as GPU tests."""
    if EMULATED:
        yield "cuda"
        return
    if shutil.which("g++") is None:
        pytest.skip("the emulator needs g++")
    with emulated_gpu():
        yield "cuda"


def batches(count, size=BATCH, seed=1):
    g = np.random.default_rng(seed)
    return [(minigrad.tensor(g.random((size, 1, 28, 28)), dtype="float32", device="cuda"),
             minigrad.tensor(g.integers(0, 10, size), device="cuda")) for _ in range(count)]


def lenet_trainer(device="cuda"):
    """(train_step, net, optimizer, stats) from seed 0: one Adam step of LeNet, its loss and
    accuracy added to ``stats`` on the device."""
    minigrad.manual_seed(0)
    net = lenet().to(device)
    optimizer = minigrad.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = minigrad.nn.CrossEntropyLoss()
    stats = minigrad.nn.TrainingStats(device)

    def train_step(x, y):
        optimizer.zero_grad()
        loss = loss_fn(net(x), y, stats=stats.totals)
        loss.backward()
        optimizer.step()
        return loss
    return train_step, net, optimizer, stats


def snapshot(net, optimizer, stats):
    state = optimizer.state_dict()["state"]
    return ([p.detach().cpu().numpy().copy() for p in net.parameters()],
            [s["step"] for s in state.values()], stats.totals.cpu().numpy().copy())


def assert_bitwise_equal(a, b):
    (pa, sa, ta), (pb, sb, tb) = a, b
    for x, y in zip(pa, pb):
        np.testing.assert_array_equal(x, y)
    assert sa == sb
    np.testing.assert_array_equal(ta, tb)


def eager_run(data):
    step, net, optimizer, stats = lenet_trainer()
    for x, y in data:
        step(x, y)
    return snapshot(net, optimizer, stats)


def graphed_run(data, warmup=3):
    step, net, optimizer, stats = lenet_trainer()
    graphed = minigrad.cuda.graphed(step, warmup=warmup)
    for x, y in data:
        graphed(x, y)
    return snapshot(net, optimizer, stats), graphed


# ---- captured steps are eager steps ---------------------------------------------------------
def test_twenty_captured_steps_are_bitwise_twenty_eager_steps(gpu_device):
    """3 eager warm-up calls, then a capture and 20 replays (the capture call's included):
    parameters, Adam's step counts and the running loss and accuracy are the eager run's,
    bit for bit."""
    data = batches(23)
    (eager, (graphed, step)) = eager_run(data), graphed_run(data)
    assert step.calls == {"eager": 3, "capture": 1, "replay": 20}
    assert_bitwise_equal(graphed, eager)
    assert graphed[1] == [23] * 10                      # Adam's steps: all on the device


def test_the_last_smaller_batch_gets_a_graph_of_its_own(gpu_device):
    """Epochs of 3 full batches and a smaller last one: the small shape runs eagerly until
    it has been seen `warmup` times, then gets its own graph; the numbers stay eager's."""
    full, small = batches(12), batches(4, size=5, seed=2)
    data = [b for epoch in range(4) for b in full[3 * epoch:3 * epoch + 3] + [small[epoch]]]
    (eager, (graphed, step)) = eager_run(data), graphed_run(data, warmup=2)
    assert len(step.graphs) == 2
    assert step.calls == {"eager": 4, "capture": 2, "replay": 12}
    assert_bitwise_equal(graphed, eager)


def adam_with_host_step_counts():
    """The planted bug: Adam's step count kept on the host, as adam_step did (a capture
    records the bias corrections of the step it saw, and every replay repeats them)."""
    counts = {}

    def adam_multi(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, eps, wd):
        for p, g, m, v, t in zip(params, grads, exp_avgs, exp_avg_sqs, steps):
            counts[id(t)] = counts.get(id(t), 0) + 1
            cuda_backend.adam_step(p, g, m, v, counts[id(t)], lr, beta1, beta2, eps, wd)
    return adam_multi


def test_a_step_count_kept_on_the_host_is_caught(gpu_device, monkeypatch):
    """With the count on the host, eager steps are still right (so the eager run is the
    same), but the replays repeat the captured step's bias corrections: the comparison
    with eager steps fails. It is the device-side count that makes them agree."""
    data = batches(8)
    monkeypatch.setattr(cuda_backend, "adam_multi", adam_with_host_step_counts())
    eager = eager_run(data)
    graphed, _ = graphed_run(data, warmup=2)
    monkeypatch.undo()
    np.testing.assert_array_equal(eager[0][0], eager_run(data)[0][0])   # eager: unaffected
    with pytest.raises(AssertionError):
        assert_bitwise_equal(graphed, eager)


def test_cpu_tensors_run_the_same_step_eagerly():
    step, net, optimizer, stats = lenet_trainer("cpu")
    graphed = minigrad.cuda.graphed(step)
    g = np.random.default_rng(0)
    for _ in range(5):
        graphed(minigrad.tensor(g.random((4, 1, 28, 28)), dtype="float32"),
                minigrad.tensor(g.integers(0, 10, 4)))
    assert graphed.calls == {"eager": 5, "capture": 0, "replay": 0} and not graphed.graphs
    assert stats.read()["batches"] == 5


# ---- PyTorch's recipe, as documented ------------------------------------------------------------
# The model and data of the recipe (minigrad has no Dropout or MSELoss: sigmoids and a squared
# error stand in; sizes small for the emulator).
SETUP = """
N, D_in, H, D_out = 16, 24, 20, 8
model = torch.nn.Sequential(torch.nn.Linear(D_in, H),
                            torch.nn.Sigmoid(),
                            torch.nn.Linear(H, D_out),
                            torch.nn.Sigmoid()).cuda()
loss_fn = lambda y, t: ((y - t) * (y - t)).mean()
optimizer = OPTIMIZER(model.parameters(), lr=0.1)

# Placeholders used for capture
static_input = torch.randn(N, D_in, device='cuda')
static_target = torch.randn(N, D_out, device='cuda')
"""

# PyTorch's "whole-network capture" recipe, word for word from its documentation (CUDA
# semantics notes, "CUDA Graphs"; BSD-licensed), from the warm-up on.
RECIPE = """
# warmup
# Uses static_input and static_target here for convenience,
# but in a real setting, because the warmup includes optimizer.step()
# you must use a few batches of real data.
s = torch.cuda.Stream()
s.wait_stream(torch.cuda.current_stream())
with torch.cuda.stream(s):
    for i in range(3):
        optimizer.zero_grad(set_to_none=True)
        y_pred = model(static_input)
        loss = loss_fn(y_pred, static_target)
        loss.backward()
        optimizer.step()
torch.cuda.current_stream().wait_stream(s)

# capture
g = torch.cuda.CUDAGraph()
# Sets grads to None before capture, so backward() will create
# .grad attributes with allocations from the graph's private pool
optimizer.zero_grad(set_to_none=True)
with torch.cuda.graph(g):
    static_y_pred = model(static_input)
    static_loss = loss_fn(static_y_pred, static_target)
    static_loss.backward()
    optimizer.step()

real_inputs = [torch.rand_like(static_input) for _ in range(10)]
real_targets = [torch.rand_like(static_target) for _ in range(10)]

for data, target in zip(real_inputs, real_targets):
    # Fills the graph's input memory with new data to compute on
    static_input.copy_(data)
    static_target.copy_(target)
    # replay() includes forward, backward, and step.
    # You don't even need to call optimizer.zero_grad() between iterations
    # because the captured backward refills static .grad tensors in place.
    g.replay()
    # Params have been updated. static_y_pred, static_loss, and .grad
    # attributes hold values from computing on this iteration's data.
"""


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_pytorchs_recipe_runs_unchanged_and_trains_as_eager_steps(gpu_device, optimizer):
    import minigrad as torch
    torch.manual_seed(0)
    run = {"torch": torch, "OPTIMIZER": getattr(torch.optim, optimizer)}
    exec(SETUP, run)
    first_input, first_target = run["static_input"].clone(), run["static_target"].clone()
    exec(RECIPE, run)

    torch.manual_seed(0)                           # the same model, trained eagerly
    eager = {"torch": torch, "OPTIMIZER": getattr(torch.optim, optimizer)}
    exec(SETUP, eager)
    model, loss_fn, opt = eager["model"], eager["loss_fn"], eager["optimizer"]
    steps = [(first_input, first_target)] * 3 + list(zip(run["real_inputs"], run["real_targets"]))
    for x, t in steps:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), t)
        loss.backward()
        opt.step()
    for p, q in zip(run["model"].parameters(), model.parameters()):
        np.testing.assert_array_equal(p.detach().cpu().numpy(), q.detach().cpu().numpy())
        np.testing.assert_array_equal(p.grad.cpu().numpy(), q.grad.cpu().numpy())
    assert run["static_loss"].item() == loss.item()    # the last replay's, as promised


# ---- what cannot be captured -------------------------------------------------------------------
def capture_fails(body, says):
    """Capture ``body`` and expect it refused with a message containing ``says``; the
    capture is over afterwards, and the GPU usable."""
    with pytest.raises(minigrad.cuda.CaptureError) as caught:
        with minigrad.cuda.graph(minigrad.cuda.CUDAGraph()):
            body()
    assert says in str(caught.value), str(caught.value)
    assert not minigrad.cuda.is_current_stream_capturing()
    assert (minigrad.ones(3, device="cuda") * 2).sum().item() == 6.0
    return str(caught.value)


def test_ops_that_cannot_be_captured_raise_naming_the_op(gpu_device):
    x = minigrad.randn(4, 3, device="cuda")
    loss = (x * x).sum()
    capture_fails(lambda: loss.item(), "Tensor.item()")
    capture_fails(lambda: float(loss), "Tensor.item()")
    capture_fails(lambda: x.cpu(), "during CUDA graph capture, ToDevice failed")
    capture_fails(lambda: print(x), "ToDevice")
    capture_fails(lambda: minigrad.tensor([1.0, 2.0], device="cuda"), "a copy of a (2,) array "
                                                                          "to the GPU")
    host = minigrad.tensor([1.0, 2.0, 3.0])
    capture_fails(lambda: host.to("cuda"), "to the GPU")
    capture_fails(lambda: minigrad.cuda.synchronize(), "minigrad.cuda.synchronize()")
    net = minigrad.nn.Linear(3, 2).to("cuda")
    optimizer = minigrad.optim.Adam(net.parameters())

    def first_adam_step():
        net(x).sum().backward()
        optimizer.step()
    message = capture_fails(first_adam_step, "Adam's first step")
    assert "warm up" in message


def test_a_failed_capture_leaves_nothing_to_replay(gpu_device):
    g = minigrad.cuda.CUDAGraph()
    with pytest.raises(minigrad.cuda.CaptureError):
        with minigrad.cuda.graph(g):
            minigrad.ones(2, device="cuda").sum().item()
    with pytest.raises(RuntimeError, match="replay\\(\\) before a capture"):
        g.replay()


def test_a_plain_error_inside_a_capture_is_raised_as_it_was(gpu_device):
    with pytest.raises(KeyError, match="not here"):
        with minigrad.cuda.graph(minigrad.cuda.CUDAGraph()):
            raise KeyError("not here")
    assert not minigrad.cuda.is_current_stream_capturing()


def test_the_engine_sees_a_capture_through_gpu_state(gpu_device):
    """``minigrad.gpu_state.capturing()``, what autograd, device and optim ask, is True inside
    a capture only, and False again after one that failed; ``minigrad.cuda.CaptureError`` is
    gpu_state's class, so either name catches it."""
    from minigrad import gpu_state
    assert minigrad.cuda.CaptureError is gpu_state.CaptureError
    x = minigrad.randn(3, device="cuda")
    seen = [gpu_state.capturing()]
    with minigrad.cuda.graph(minigrad.cuda.CUDAGraph()):
        seen.append(gpu_state.capturing())
        x * 2
    with pytest.raises(gpu_state.CaptureError):
        with minigrad.cuda.graph(minigrad.cuda.CUDAGraph()):
            seen.append(gpu_state.capturing())
            x.sum().item()
    assert seen == [False, True, True]
    assert not gpu_state.capturing()


def test_capturing_with_sync_mode_is_refused(gpu_device, monkeypatch):
    monkeypatch.setenv("MINIGRAD_CUDA_SYNC", "1")
    with pytest.raises(minigrad.cuda.CaptureError, match="MINIGRAD_CUDA_SYNC=1"):
        with minigrad.cuda.graph(minigrad.cuda.CUDAGraph()):
            pass


# ---- gradients a graph owns ------------------------------------------------------------------
def test_zero_grad_zeroes_a_graphs_gradients_instead_of_dropping_them(gpu_device):
    step, net, optimizer, _ = lenet_trainer()
    graphed = minigrad.cuda.graphed(step, warmup=1)
    for x, y in batches(3):
        graphed(x, y)
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and g._graph_owned for g in grads)
    optimizer.zero_grad()                       # set_to_none=True, PyTorch's default
    assert [p.grad for p in net.parameters()] == grads     # the same tensors, zeroed
    assert all(not g.cpu().numpy().any() for g in grads)
    x, y = batches(1, seed=9)[0]
    graphed(x, y)                               # a replay fills them again
    assert all(g.cpu().numpy().any() for g in grads[:1])


def test_replay_fails_once_a_buffer_the_graph_uses_is_freed(emulator):
    """Rebinding a parameter's array after the capture (load_state_dict does) frees the
    memory the graph updates: on a GPU a silent write to memory someone else may own; the
    emulator's replay names it."""
    assert on_emulator()
    from minigrad.emulate.capture import EmulatorError
    step, net, _, _ = lenet_trainer()
    graphed = minigrad.cuda.graphed(step, warmup=1)
    data = batches(3)
    for x, y in data[:2]:
        graphed(x, y)
    net.load_state_dict(net.state_dict())        # new arrays; the captured ones are freed
    with pytest.raises(EmulatorError, match="freed after the capture"):
        graphed(*data[2])


# ---- launches per step --------------------------------------------------------------------------
def test_an_eager_lenet_step_makes_fewer_than_35_launches(emulator):
    """Counted by the emulator: every launch of our kernels and every CuPy operation of one
    eager training step (zero_grad, forward, loss, backward, Adam), after the first step
    made Adam's state. Before issue 12 it was 63 (48 kernels, 15 CuPy ops) and 55 arrays;
    a replay of the captured step is one graph launch and two input copies."""
    assert on_emulator()
    from minigrad.emulate.capture import stats
    step, _, _, _ = lenet_trainer()
    data = batches(3)
    step(*data[0])
    stats.reset()
    step(*data[1])
    counted = stats.as_dict()
    print(f"\nan eager LeNet step: {stats.launches} launches ({counted['kernels']} kernels, "
          f"{counted['ops']} CuPy operations), {counted['allocations']} allocations")
    assert stats.launches < 35
    assert counted["allocations"] < 40      # 34 now: the step's outputs, gradients, scratch
    assert counted["h2d"] == counted["d2h"] == counted["syncs"] == 0

    graphed = minigrad.cuda.graphed(step, warmup=1)
    graphed(*data[1])
    graphed(*data[2])                       # the capture, and its replay
    stats.reset()
    graphed(*data[0])
    assert stats.as_dict() | {"allocations": 0} == {
        "kernels": 0, "ops": 2, "allocations": 0, "h2d": 0, "d2h": 0, "syncs": 0,
        "graph_launches": 1}
