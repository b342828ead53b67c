"""The first run on a GPU machine that is lent briefly: what matters most, proved first, and
every verdict written down the moment it is known.

    python3 scripts/gpu_first_run.py [--deadline 480] [--out DIR]     (or: make gpu-check)

It installs nothing: it uses the python3 it is run with (CuPy, NumPy; PyTorch, pytest,
pytest-xdist and compute-sanitizer where present, any version) and this checkout's minigrad.
Fashion-MNIST comes from $MINIGRAD_DATA, else ./data/fashion-mnist (git-ignored: copy the
four .gz files there and carry that folder to the GPU machine); only the example needs it.

The first part (one child process, sized to end within 90 s on an H200), in this order:
environment (Python, NumPy, CuPy, CUDA runtime and driver, the device, PyTorch); compile and
load of every kernel instance with its registers, local and shared memory (CuPy's
RawKernel.attributes); 0-d tensors through the GPU path; each kernel against its NumPy
twin (float64 and float32); LeNet's gradients on the GPU against the CPU's; a captured step
bitwise equal to an eager one; eager and captured ms/step against PyTorch's in the same
process; the time of each kernel of an eager step. Then, in order and only while the
deadline (--deadline, default 480 s, counted from the start) leaves time for each: the
bench_lenet HEADLINE lines; the GPU tests, in parallel (pytest-xdist, else serially) with a
per-test timeout; one captured epoch of the example; compute-sanitizer's four tools on a
trimmed list of tests (memcheck and initcheck with CuPy's memory pool off); bench_ops and
the GEMM ladder.

What comes back: $OUT/summary.txt (or --out), one line per verdict, appended and fsynced as
each is reached — ``PASS``, ``FAIL``, ``SKIP`` (with the reason) or ``MISS`` (a speed target
measured and not met) — and, when the run ends (also by SIGTERM, SIGINT or SIGHUP, or its
deadline), a short table of them all; $OUT/first_run.tar.gz, every log and JSON, rebuilt
after each part. Killed at any moment, summary.txt holds every verdict reached so far.
Exit status 1 if any check FAILed.

On a machine without a GPU, ``--emulated`` runs the first part on the host emulator of
minigrad/emulate (``--tiny``: small shapes, for the test suite); the later parts need a GPU.
"""
import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATUSES = ("PASS", "FAIL", "SKIP", "MISS")
FIRST_PART_LIMIT = 150          # s: the child is stopped here (it is sized for 90)
RESERVE = 8                     # s kept at the end for the table and the archive


# ---- the summary: one line per verdict, on disk the moment it is known --------------------
def record(path, line):
    """Append one line to ``path`` and force it to disk (O_APPEND: two processes may write)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line.rstrip("\n") + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def verdict(path, status, name, detail=""):
    assert status in STATUSES, status
    line = f"{status} {name}: {detail}".rstrip(": ")
    record(path, line)
    print(line, flush=True)


def table(path, started, deadline):
    """The closing table: every verdict of the summary, counted."""
    lines = Path(path).read_text().splitlines() if Path(path).exists() else []
    verdicts = [ln for ln in lines if ln.split(" ", 1)[0] in STATUSES]
    counts = {s: sum(ln.startswith(s + " ") for ln in verdicts) for s in STATUSES}
    out = [f"==== minigrad GPU first run: {counts['PASS']} PASS, {counts['FAIL']} FAIL, "
           f"{counts['MISS']} MISS, {counts['SKIP']} SKIP in {time.time() - started:.0f} s "
           f"(deadline {deadline:.0f} s) ===="]
    for ln in verdicts:
        status, rest = ln.split(" ", 1)
        name, _, detail = rest.partition(": ")
        out.append(f"{status:<4} {name[:34]:<34} {detail[:90]}")
    out.append("RESULT: " + ("FAILED" if counts["FAIL"] else "no check failed"))
    return out


# ---- the first part: in one child process ---------------------------------------------------
class FirstPart:
    """The checks of the first part, each a method; ``run`` calls them in order."""

    def __init__(self, summary, tiny, emulated):
        self.summary, self.tiny, self.emulated = summary, tiny, emulated
        self.batch = 4 if tiny else 256          # the LeNet step's batch
        self.small = 2 if tiny else 8            # the batch of the kernel checks

    def check(self, name, fn, *args):
        """Run one check: its return value is the PASS detail, or (status, detail); an
        exception is a FAIL with its message (the traceback goes to the log)."""
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        try:
            result = fn(*args)
        except Exception as e:  # noqa: BLE001  (every failure is a verdict, then we go on)
            traceback.print_exc()
            message = " ".join(str(e).split())[:300]
            verdict(self.summary, "FAIL", name, f"{type(e).__name__}: {message}")
            return False
        status, detail = result if isinstance(result, tuple) else ("PASS", result)
        verdict(self.summary, status, name, f"{detail} [{time.perf_counter() - t0:.1f} s]")
        return status != "FAIL"

    # -- environment ---------------------------------------------------------------------
    def environment(self):
        import numpy as np

        import minigrad
        parts = [f"python {sys.version.split()[0]}", f"numpy {np.__version__}"]
        reason = minigrad.cuda.unavailable_reason()
        if reason is not None:
            return "FAIL", f"CUDA not usable: {reason}; " + ", ".join(parts + [torch_line()])
        import cupy
        rt = cupy.cuda.runtime
        parts.append(f"cupy {getattr(cupy, '__version__', '?')}")
        for label, fn in (("runtime", "runtimeGetVersion"), ("driver", "driverGetVersion")):
            try:
                parts.append(f"cuda {label} {getattr(rt, fn)()}")
            except Exception as e:  # noqa: BLE001
                parts.append(f"cuda {label} ? ({type(e).__name__})")
        try:
            parts.append("nvrtc {}.{}".format(*cupy.cuda.nvrtc.getVersion()))
        except Exception as e:  # noqa: BLE001
            parts.append(f"nvrtc ? ({type(e).__name__})")
        device = cupy.cuda.Device()
        parts.append(f"device {minigrad.cuda.device_name()!r}, "
                     f"{device.attributes['MultiProcessorCount']} SMs")
        parts.append(torch_line())
        return ", ".join(parts)

    # -- compile and load every kernel instance --------------------------------------------
    def compile_all(self, runtime):
        """Every instance of every kernel file, with its attributes; a line per file."""
        lines = []
        for filename, names in runtime.KERNELS.items():
            def one_file(filename=filename, names=names):
                cells, regs, local = [], [], -1
                for name in names:
                    for ctype in ("float", "double"):
                        attrs = runtime.kernel(filename, name, ctype).attributes
                        regs.append(attrs.get("num_regs", -1))
                        local = max(local, attrs.get("local_size_bytes", -1))
                        cells.append(f"{name}<{ctype}> regs={attrs.get('num_regs', -1)} "
                                     f"local={attrs.get('local_size_bytes', -1)} "
                                     f"shared={attrs.get('shared_size_bytes', -1)}")
                print("\n".join("   " + c for c in cells), flush=True)
                lines.extend(cells)
                most = max(regs)
                return (f"{len(cells)} instances, registers ≤ "
                        f"{most if most >= 0 else 'n/a (emulator)'}, local memory ≤ "
                        f"{local if local >= 0 else 'n/a'} bytes")
            self.check(f"compile {filename}", one_file)
        return lines

    # -- 0-d tensors -------------------------------------------------------------------------
    def zero_d(self):
        import numpy as np

        import minigrad
        done = []
        for op in ("sigmoid", "relu", "exp"):
            for device in ("cpu", "cuda"):
                t = minigrad.tensor(np.float64(0.3), device=device, requires_grad=True)
                y = getattr(t, op)()
                y.backward()
                if y.shape != () or t.grad.shape != ():
                    raise AssertionError(f"{op} of a 0-d tensor on {device}: output "
                                         f"{y.shape}, gradient {t.grad.shape}")
            done.append(op)
        for name in ("Adam", "RMSprop", "Adadelta", "SGD"):
            values = {}
            for device in ("cpu", "cuda"):
                p = minigrad.nn.Parameter(minigrad.tensor(np.float64(0.7), device=device))
                opt = getattr(minigrad.optim, name)([p], lr=0.1)
                for _ in range(2):
                    opt.zero_grad()
                    (p * p).sum().backward()
                    opt.step()
                values[device] = p.detach().cpu().numpy()
            if values["cuda"].shape != () or abs(values["cuda"] - values["cpu"]) > 1e-12:
                raise AssertionError(f"{name} on a 0-d parameter: GPU {values['cuda']!r}, "
                                     f"CPU {values['cpu']!r}")
            done.append(name)
        return "shape () kept, values as on the CPU: " + ", ".join(done)

    # -- each kernel against its NumPy twin ----------------------------------------------------
    def kernel_cases(self):
        """name -> function(backend, dtype, rng) returning the arrays to compare; the same
        function runs once with the NumPy backend on host arrays and once with the CUDA one."""
        import numpy as np
        b = self.small

        def arrays(be, dtype, rng, *shapes):
            host = [rng.uniform(-1, 1, s).astype(dtype) for s in shapes]
            return [dev(be, a) for a in host]

        def conv(be, dtype, rng, x_shape, w_shape, pad):
            x, w, bias = arrays(be, dtype, rng, x_shape, w_shape, w_shape[:1])
            y, saved = be.conv2d_fwd(x, w, bias, 1, pad)
            g = arrays(be, dtype, rng, y.shape)[0]
            return (y,) + be.conv2d_bwd(g, saved, x_shape, w_shape, 1, pad, (True,) * 3)

        def im2col(be, dtype, rng):
            x, = arrays(be, dtype, rng, (b, 2, 9, 9))
            cols = be.im2col(x, 3, 3, 2, 1)
            return cols, be.col2im(cols, x.shape, 3, 3, 2, 1)

        def gemm(be, dtype, rng):
            a, bb, bias, a3, b3 = arrays(be, dtype, rng, (7, 33), (9, 33), (9,), (3, 5, 7),
                                         (3, 5, 4))
            return (be.gemm(a, bb, trans_b=True, bias=bias), be.gemm(a3, b3, trans_a=True),
                    be.gemm_batch_sum(a3, b3, trans_a=True), be.bias_grad(a3))

        def linear_bwd(be, dtype, rng):
            g, x, w = arrays(be, dtype, rng, (b, 10), (b, 84), (10, 84))
            return be.linear_bwd(g, x, w, (True,) * 3)

        def maxpool(be, dtype, rng):
            x, = arrays(be, dtype, rng, (b, 6, 24, 24))
            out, arg = be.maxpool2d_fwd(x, 2, 2, 2, 0)
            g, = arrays(be, dtype, rng, out.shape)
            return out, be.maxpool2d_bwd(g, arg, x.shape, 2, 2, 2, 0)

        def avgpool(be, dtype, rng):
            x, = arrays(be, dtype, rng, (b, 3, 7, 7))
            args = ((3, 3), (2, 2), (1, 1), True, False, None)
            out = be.avgpool2d_fwd(x, *args)
            g, = arrays(be, dtype, rng, out.shape)
            return out, be.avgpool2d_bwd(g, x.shape, *args)

        def sigmoid(be, dtype, rng):
            x, g = arrays(be, dtype, rng, (b, 6, 8, 8), (b, 6, 8, 8))
            y = be.sigmoid_fwd(x)
            return y, be.sigmoid_bwd(g, y)

        def xent(be, dtype, rng):
            z, g = arrays(be, dtype, rng, (b, 10), (b,))
            t = dev(be, rng.integers(0, 10, b))
            loss, lse = be.softmax_xent_fwd(z, t)
            mean, lse2, kept = be.cross_entropy_fwd(z, t, "mean")
            one = dev(be, np.array(rng.uniform(-1, 1), dtype=dtype))
            return (loss, lse, be.softmax_xent_bwd(g, z, lse, t), mean,
                    be.cross_entropy_bwd(one, z, lse2, t, "mean", kept))

        def nll(be, dtype, rng):
            z, g, w = arrays(be, dtype, rng, (b, 5), (b,), (5,))
            t = dev(be, rng.integers(0, 5, b))
            return be.nll_fwd(z, t, w, 2) + (be.nll_bwd(g, t, w, 2, 5),)

        def optimizers(be, dtype, rng):
            p, g, m, v, s, a, buf = arrays(be, dtype, rng, *[(6, 1, 5, 5)] * 7)
            v, s = abs(v), abs(s) + 1
            be.adam_step(p, g, m, v, 3, 1e-2, 0.9, 0.999, 1e-8, 0.01)
            steps = [dev(be, np.zeros((), np.float64))]       # a 0-d step count
            q, = arrays(be, dtype, rng, (6,))
            zq = [dev(be, np.zeros(6, dtype)) for _ in range(2)]
            be.adam_multi([q], [g[:, 0, 0, 0].copy()], [zq[0]], [zq[1]], steps, 1e-2, 0.9,
                          0.999, 1e-8, 0.0)
            a2, s2 = a.copy(), s.copy()
            be.adadelta_step(a2, g, s2, abs(m), 1.0, 0.9, 1e-6, 0.0)
            be.rmsprop_step(p, g, s, a, buf, 1e-2, 0.99, 1e-8, 0.01, 0.9, True)
            return p, m, v, q, zq[0], zq[1], steps[0], a2, s2, s, a, buf

        def ladder(be, dtype, rng):
            if be.__name__.endswith("cpu"):
                a, bb = arrays(be, dtype, rng, (33, 47), (29, 47))
                return tuple(a @ bb.T for _ in range(4))
            from minigrad.backend.cuda import ladder as lad
            a, bb = arrays(be, dtype, rng, (33, 47), (29, 47))
            return tuple(lad.gemm(r, a, bb, trans_b=True) for r in lad.RUNGS)

        return {
            "im2col, col2im": im2col,
            "conv2d (conv_fwd, conv_dcols, conv_wgrad, sum_partials)":
                lambda be, d, r: conv(be, d, r, (b, 1, 12, 12), (6, 1, 5, 5), 2),
            "conv2d 6->16 channels": lambda be, d, r: conv(be, d, r, (b, 6, 8, 8),
                                                           (16, 6, 5, 5), 0),
            "gemm, gemm_batch_sum, bias_grad": gemm,
            "linear_bwd": linear_bwd,
            "maxpool2d": maxpool,
            "avgpool2d": avgpool,
            "sigmoid": sigmoid,
            "softmax_xent, cross_entropy": xent,
            "nll": nll,
            "adam, adam_multi, adadelta, rmsprop": optimizers,
            "GEMM ladder (4 rungs)": ladder,
        }

    def kernel_against_numpy(self, fn):
        import numpy as np

        from minigrad.backend import cpu
        from minigrad.backend import cuda as gpu
        worst = []
        for dtype, tol in ((np.float64, 1e-10), (np.float32, 1e-4)):
            ours = fn(gpu, dtype, np.random.default_rng(1))
            theirs = fn(cpu, dtype, np.random.default_rng(1))
            ours, theirs = flat(ours), flat(theirs)
            if len(ours) != len(theirs):
                raise AssertionError(f"{len(ours)} outputs on the GPU, {len(theirs)} on the CPU")
            for i, (g, c) in enumerate(zip(ours, theirs)):
                g = g.get() if hasattr(g, "get") else np.asarray(g)
                c = np.asarray(c)
                if g.shape != c.shape:
                    raise AssertionError(f"output {i}: shape {g.shape} on the GPU, {c.shape} "
                                         "on the CPU")
                err = float(np.max(np.abs(g - c)) / max(1.0, float(np.max(np.abs(c)))) if
                            c.size else 0.0)
                if not err <= tol:
                    raise AssertionError(f"output {i} ({np.dtype(dtype).name}): relative "
                                         f"error {err:.2e} > {tol:g}")
                worst.append(err)
        return f"{len(worst)} outputs, worst relative error {max(worst, default=0):.1e}"

    # -- LeNet's gradients, GPU against CPU ------------------------------------------------------
    def lenet_gradients(self):
        import numpy as np

        import minigrad
        from examples.lenet_fashion import lenet
        rng = np.random.default_rng(0)
        x = rng.random((self.small, 1, 28, 28))
        y = rng.integers(0, 10, self.small)
        grads, losses = {}, {}
        for device in ("cpu", "cuda"):
            minigrad.manual_seed(0)
            net = lenet().double().to(device)
            loss = minigrad.nn.CrossEntropyLoss()(net(minigrad.tensor(x, device=device)),
                                                  minigrad.tensor(y, device=device))
            loss.backward()
            losses[device] = loss.item()
            grads[device] = {n: p.grad.cpu().numpy() for n, p in net.named_parameters()}
        worst = max(float(np.max(np.abs(grads["cuda"][n] - g)) / max(1e-30, np.max(np.abs(g))))
                    for n, g in grads["cpu"].items())
        if abs(losses["cuda"] - losses["cpu"]) > 1e-10 or not worst <= 1e-10:
            raise AssertionError(f"float64: loss {losses['cuda']!r} vs {losses['cpu']!r}, "
                                 f"worst gradient relative error {worst:.1e}")
        return (f"float64, batch {self.small}: loss {losses['cuda']:.6f} as on the CPU, "
                f"{len(grads['cpu'])} gradients within {worst:.1e}")

    # -- a captured step, bitwise the eager one ------------------------------------------------
    def captured_equals_eager(self):
        import numpy as np

        import minigrad
        from examples.lenet_fashion import lenet
        rng = np.random.default_rng(0)
        batches = [(rng.random((self.batch, 1, 28, 28), dtype=np.float32),
                    rng.integers(0, 10, self.batch)) for _ in range(5)]
        params = {}
        for mode in ("eager", "captured"):
            minigrad.manual_seed(0)
            net = lenet().to("cuda")
            opt = minigrad.optim.Adam(net.parameters(), lr=1e-3)
            loss_fn = minigrad.nn.CrossEntropyLoss()

            def step(x, y, net=net, opt=opt, loss_fn=loss_fn):
                opt.zero_grad()
                loss_fn(net(x), y).backward()
                opt.step()
            run = minigrad.cuda.graphed(step) if mode == "captured" else step
            for xb, yb in batches:         # graphed: 3 eager calls, the capture, 2 replays
                run(minigrad.tensor(xb, device="cuda"), minigrad.tensor(yb, device="cuda"))
            params[mode] = {n: p.detach().cpu().numpy() for n, p in net.named_parameters()}
        differ = [n for n in params["eager"]
                  if not np.array_equal(params["eager"][n], params["captured"][n])]
        if differ:
            raise AssertionError(f"after {len(batches)} steps these parameters differ: {differ}")
        return (f"{len(batches)} Adam steps at batch {self.batch} (3 eager, capture, 2 "
                f"replays): all {len(params['eager'])} parameters bitwise equal")

    # -- ms per step against PyTorch -----------------------------------------------------------
    def step_times(self):
        import numpy as np

        sys.path.insert(0, str(ROOT))
        from benchmarks import bench_lenet
        from benchmarks.common import torch_or_none
        rng = np.random.default_rng(0)
        n = self.batch * 4
        images = rng.random((n, 1, 28, 28), dtype=np.float32)
        labels = rng.integers(0, 10, n)
        calls, rounds = (2, 1) if self.tiny else (50, 5)
        idx = np.arange(self.batch)
        ms = {}

        def time_it(step, to_index, timer):
            first = to_index(idx)
            for _ in range(5):             # graphed: 3 eager calls and the capture untimed
                step(first)
            return 1e3 * sorted(timer.seconds(lambda: step(first), calls)
                                for _ in range(rounds))[rounds // 2]
        for mode in ("eager", "graph"):
            ms[f"minigrad {mode}"] = time_it(*bench_lenet.minigrad_config(
                "cuda", images, labels, graph=mode == "graph"))
        torch = torch_or_none()
        why = None
        if torch is None:
            why = "PyTorch is not installed"
        elif self.emulated or not torch.cuda.is_available():
            why = f"PyTorch {torch.__version__} has no usable CUDA here"
        else:
            for mode in ("eager", "graph"):
                try:
                    ms[f"pytorch {mode}"] = time_it(*bench_lenet.torch_config(
                        torch, "cuda", images, labels, graph=mode == "graph"))
                except Exception as e:  # noqa: BLE001  (reported; minigrad's times stand)
                    traceback.print_exc()
                    why = f"PyTorch {mode} failed: {type(e).__name__}: {e}"
        cells = [f"{k} {v:.3f}" for k, v in ms.items()]
        targets = {"minigrad eager": 1.5, "minigrad graph": 0.21}
        missed = [f"{k} > {t}" for k, t in targets.items() if ms[k] > t]
        detail = (f"ms/step at batch {self.batch}: " + ", ".join(cells)
                  + (f"; PyTorch SKIP: {why}" if why else "")
                  + (f"; targets missed: {', '.join(missed)}" if missed else "; targets met"))
        if self.emulated:
            detail += " (the emulator's: no GPU time)"
        return ("MISS" if missed and not self.emulated else "PASS"), detail

    # -- the time of each kernel of an eager step ----------------------------------------------
    def kernel_times(self, log):
        sys.path.insert(0, str(ROOT))
        from benchmarks import bench_ops
        from benchmarks.common import Timer
        answers = [bench_ops.kernel_times(Timer("cupy"), 1 if self.tiny else 20,
                                          repeats=1 if self.tiny else 20, batch=self.batch)]
        rows, _, total = bench_ops.kernel_table(answers)
        text = "\n".join(f"{r[0]:<70} {r[1]:>10} µs {r[2]:>6}" for r in rows)
        print(text, flush=True)
        log.write_text(f"kernels of one eager LeNet step, batch {self.batch}\n{text}\n")
        top = sorted(rows[:-1], key=lambda r: -float(r[1].replace(",", "")))[:3]
        return (f"{len(rows) - 1} launches, {total * 1e6:,.0f} µs of kernels; slowest: "
                + "; ".join(f"{r[0].split('. ', 1)[1].split(' [')[0]} {r[1]} µs" for r in top))

    def run(self, logdir):
        from minigrad.backend import cuda as gpu
        runtime = getattr(gpu, "runtime", gpu)          # after the split: backend/cuda/runtime
        if not self.check("environment", self.environment):
            for name in ("compile", "0-d tensors", "kernels", "LeNet gradients", "captured step",
                         "step times", "kernel times"):
                verdict(self.summary, "SKIP", name, "CUDA is not usable (see environment)")
            return
        lines = self.compile_all(runtime)
        (logdir / "kernel_attributes.txt").write_text("\n".join(lines) + "\n")
        self.check("0-d tensors", self.zero_d)
        for name, fn in self.kernel_cases().items():
            self.check(f"kernel {name}", self.kernel_against_numpy, fn)
        self.check("LeNet gradients GPU = CPU", self.lenet_gradients)
        self.check("captured step = eager step", self.captured_equals_eager)
        self.check("step times vs PyTorch", self.step_times)
        self.check("kernel times", self.kernel_times, logdir / "kernel_times.txt")


def dev(be, a):
    """``a`` (NumPy) on the backend's device."""
    if be.__name__.endswith("cpu"):
        return a
    import cupy
    return cupy.asarray(a)


def flat(value):
    """The arrays in ``value`` (nested tuples and lists; None left out), in order."""
    if value is None:
        return []
    if isinstance(value, (tuple, list)):
        return [a for v in value for a in flat(v)]
    return [value]


def torch_line():
    try:
        import torch
    except Exception as e:  # noqa: BLE001
        return f"torch absent ({type(e).__name__})"
    cuda = torch.cuda.is_available()
    return (f"torch {torch.__version__} (CUDA {torch.version.cuda}, "
            f"{'sees the GPU' if cuda else 'no GPU'})")


def first_part_child(args):
    """The child process's body: install the emulator if asked, then the checks."""
    sys.path.insert(0, str(ROOT))
    if args.emulated:
        from minigrad.emulate import fake_cupy
        fake_cupy.install()
    FirstPart(args.summary, args.tiny, args.emulated).run(Path(args.logdir))


# ---- the driver: the first part, then the later parts while time remains --------------------
class Stopped(Exception):
    """A signal asked the run to stop."""


class Run:
    def __init__(self, args):
        self.args = args
        self.started = time.time()
        self.out = Path(args.out or os.environ.get("OUT") or tempfile.mkdtemp(
            prefix="gpu-first-run-"))
        self.out.mkdir(parents=True, exist_ok=True)
        self.summary = self.out / "summary.txt"
        self.logs = Path(tempfile.mkdtemp(prefix="gpu-first-run-logs-"))
        self.child = None
        self.env = dict(os.environ, PYTHONUNBUFFERED="1",
                        PYTHONPATH=os.pathsep.join(filter(None, [
                            str(ROOT), os.environ.get("PYTHONPATH")])))
        data = ROOT / "data" / "fashion-mnist"
        if not self.env.get("MINIGRAD_DATA") and data.is_dir():
            self.env["MINIGRAD_DATA"] = str(data)

    def left(self):
        return self.args.deadline - (time.time() - self.started) - RESERVE

    def run_logged(self, name, cmd, limit, env=None):
        """Run ``cmd`` in its own process group with a time limit, its output in the log
        ``name``.log; returns (exit status or None when stopped at the limit, log text)."""
        log = self.logs / f"{name}.log"
        with open(log, "ab") as f:
            f.write(f"$ {' '.join(map(str, cmd))}   (limit {limit:.0f} s)\n".encode())
            f.flush()
            self.child = subprocess.Popen(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                                          env=env or self.env, start_new_session=True)
            try:
                rc = self.child.wait(timeout=max(1, limit))
            except subprocess.TimeoutExpired:
                rc = None
            finally:
                self.stop_child()
        return rc, log.read_text(errors="replace")

    def stop_child(self):
        if self.child is not None and self.child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.child.pid, signal.SIGTERM)
            try:
                self.child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.child.pid, signal.SIGKILL)
                self.child.wait()
        self.child = None

    def verdict(self, status, name, detail=""):
        verdict(self.summary, status, name, detail)

    def pack(self):
        """Every log into one archive in the output folder (rebuilt after each part; written
        to a temporary name first, so a kill leaves the previous archive whole)."""
        tmp = self.out / ".first_run.tar.gz.tmp"
        with tarfile.open(tmp, "w:gz") as tar:
            tar.add(self.logs, arcname="first_run")
        os.replace(tmp, self.out / "first_run.tar.gz")

    # -- the parts ---------------------------------------------------------------------------
    def first_part(self):
        t0 = time.time()
        limit = min(self.args.first_part_limit, max(1, self.left()))
        cmd = [sys.executable, str(Path(__file__).resolve()), "--first-part-child",
               "--summary", str(self.summary), "--logdir", str(self.logs)]
        cmd += ["--emulated"] * self.args.emulated + ["--tiny"] * self.args.tiny
        rc, text = self.run_logged("first_part", cmd, limit)
        took = time.time() - t0
        if rc == 0:
            self.verdict("PASS", "first part ran to its end", f"{took:.0f} s")
            return
        doing = re.findall(r"^== (.+)$", text, re.M)
        where = f", during {doing[-1]!r}" if doing else ""
        self.verdict("FAIL", "first part", (f"stopped at its limit of {limit:.0f} s" if rc is
                                            None else f"exit status {rc}") + where
                     + f" after {took:.0f} s (log: first_part.log)")

    def part(self, name, cmd, need, most, env=None):
        """A later part: SKIP if the deadline leaves less than ``need`` s; else run it for at
        most ``most`` s; returns (exit status or None, log) or None when skipped."""
        left = self.left()
        if left < need:
            self.verdict("SKIP", name, f"{max(0, left):.0f} s left before the deadline, the "
                         f"part needs ≥ {need} s")
            return None
        return self.run_logged(name, cmd, min(most, left))

    def headline(self):
        py = sys.executable
        got = self.part("bench_lenet", [py, "-m", "benchmarks.bench_lenet", "--device", "cuda",
                                        "--repeats", "3", "--epochs", "0", "--out",
                                        str(self.logs / "bench")], 40, 120)
        if got is None:
            return
        rc, text = got
        lines = re.findall(r"^HEADLINE (.+)$", text, re.M)
        for line in lines:
            self.verdict("PASS" if line.endswith(": met") else "MISS", "HEADLINE", line)
        if rc != 0 or not lines:
            self.verdict("FAIL", "bench_lenet", f"{status_text(rc)} {last_line(text)}")

    def tests(self):
        import importlib.util
        xdist = importlib.util.find_spec("xdist") is not None
        workers = ["-n", str(min(8, os.cpu_count() or 1))] if xdist else []
        cmd = [sys.executable, "-m", "pytest", "-m", "cuda", "-q", "-p", "no:cacheprovider",
               "--timeout", "60", *workers, "tests"]
        if importlib.util.find_spec("pytest_timeout") is None:
            cmd.remove("--timeout"), cmd.remove("60")
        got = self.part("GPU tests", cmd, 60, 170, dict(self.env, MINIGRAD_REQUIRE_CUDA="1"))
        if got is not None:
            rc, text = got
            ran = re.search(r"\d+ passed", pytest_line(text))
            self.verdict("PASS" if rc == 0 and ran else "FAIL", "GPU tests",
                         f"{'xdist -n ' + workers[1] if xdist else 'serial (no pytest-xdist)'}"
                         f": {pytest_line(text)} {status_text(rc)}")

    def example(self):
        data = self.env.get("MINIGRAD_DATA")
        if not data or not Path(data).is_dir():
            self.verdict("SKIP", "example epoch", "no Fashion-MNIST: copy the four .gz files to "
                         "data/fashion-mnist and carry that folder (or set MINIGRAD_DATA)")
            return
        got = self.part("example epoch", [sys.executable, "examples/lenet_fashion.py",
                                          "--device", "cuda", "--epochs", "1", "--data", data,
                                          "--out", str(self.logs / "run")], 30, 90)
        if got is not None:
            rc, text = got
            epoch = re.findall(r"^epoch 1,.*$", text, re.M)
            self.verdict("PASS" if rc == 0 and epoch else "FAIL", "example epoch (captured)",
                         (epoch[-1] if epoch else last_line(text)) + " " + status_text(rc))

    def sanitizers(self):
        tool = find_sanitizer()
        names = ("memcheck", "racecheck", "synccheck", "initcheck")
        if tool is None:
            for t in names:
                self.verdict("SKIP", t, "no compute-sanitizer on PATH, in $CUDA_HOME/bin or "
                             "/usr/local/cuda/bin")
            return
        left = self.left()
        if left < 40:
            for t in names:
                self.verdict("SKIP", t, f"{max(0, left):.0f} s left before the deadline")
            return
        limit = min(150, left)
        tests = ["-m", "cuda", "-q", "-p", "no:cacheprovider", "tests/test_cuda_shapes.py",
                 "tests/test_cuda.py", "-k", "not cap and not float64 and not lenet and not "
                 "real_fault and not more_than"]
        procs = {}
        for t in names:
            # CuPy's pool off for memcheck and initcheck: every array its own cudaMalloc, so
            # an access past one is past an allocation, and reused memory is not "initialised"
            pool_off = t in ("memcheck", "initcheck")
            py = [sys.executable, "-c", "import sys, cupy, pytest; "
                  + ("cupy.cuda.set_allocator(None); cupy.cuda.set_pinned_memory_allocator("
                     "None); " if pool_off else "") + "sys.exit(pytest.main(sys.argv[1:]))"]
            extra = ["--leak-check", "no"] if t == "memcheck" else []
            cmd = [tool, "--tool", t, *extra, "--error-exitcode", "99", "--target-processes",
                   "all", *py, *tests]
            log = open(self.logs / f"{t}.log", "wb")
            procs[t] = (subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                         env=dict(self.env, MINIGRAD_REQUIRE_CUDA="1"),
                                         start_new_session=True), log)
        end = time.time() + limit
        try:
            for t, (p, log) in procs.items():
                try:
                    rc = p.wait(timeout=max(1, end - time.time()))
                except subprocess.TimeoutExpired:
                    rc = None
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
                log.close()
                text = (self.logs / f"{t}.log").read_text(errors="replace")
                errors = re.findall(r"(?:ERROR|RACECHECK) SUMMARY: .*", text)
                status = "PASS" if rc == 0 else "FAIL"
                self.verdict(status, t, f"{pytest_line(text)}; "
                             f"{errors[-1] if errors else 'no sanitizer summary'} "
                             f"{status_text(rc, limit)}")
        finally:
            for p, log in procs.values():
                if p.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(p.pid, signal.SIGKILL)
                log.close()

    def benchmarks(self):
        py = sys.executable
        for name, extra, need, most in (("bench_ops", ["--device", "cuda"], 30, 120),
                                        ("ladder", ["--ladder"], 20, 90)):
            got = self.part(name, [py, "-m", "benchmarks.bench_ops", *extra, "--repeats", "3",
                                   "--out", str(self.logs / "bench")], need, most)
            if got is not None:
                rc, text = got
                self.verdict("PASS" if rc == 0 else "FAIL", name,
                             f"tables in first_run/{name}.log " + status_text(rc))

    def main(self):
        record(self.summary, f"# minigrad GPU first run, {time.strftime('%Y-%m-%d %H:%M:%S')} "
               f"UTC, deadline {self.args.deadline:.0f} s, checkout {git_head()}")
        stopped = None
        try:
            self.first_part()
            self.pack()
            no_gpu = any(ln.startswith("FAIL environment") for ln in
                         self.summary.read_text().splitlines())
            if self.args.emulated or self.args.first_part_only or no_gpu:
                why = ("an emulated run: the later parts need a GPU" if self.args.emulated
                       else "CUDA is not usable (see environment)" if no_gpu
                       else "--first-part-only")
                self.verdict("SKIP", "later parts", why)
            else:
                for later in (self.headline, self.tests, self.example, self.sanitizers,
                              self.benchmarks):
                    later()
                    self.pack()
        except Stopped as e:
            stopped = str(e)
        finally:
            self.stop_child()
            if stopped:
                self.verdict("FAIL", "run stopped", f"{stopped} after "
                             f"{time.time() - self.started:.0f} s")
            closing = table(self.summary, self.started, self.args.deadline)
            for line in closing:
                record(self.summary, line)
            with contextlib.suppress(Exception):
                self.pack()
            print("\n".join(closing), flush=True)
        return 1 if any(ln.startswith("FAIL ") for ln in closing) else 0


def status_text(rc, limit=None):
    if rc is None:
        return "(stopped at its time limit" + (f" of {limit:.0f} s)" if limit else ")")
    return "" if rc == 0 else f"(exit status {rc})"


def last_line(text):
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "(no output)"


def pytest_line(text):
    found = re.findall(r"^=*\s*(\d+ (?:passed|failed|error|skipped|deselected).*?)\s*=*$",
                       text, re.M)
    return found[-1] if found else "no pytest summary line"


def find_sanitizer():
    found = shutil.which("compute-sanitizer")
    for d in (os.environ.get("CUDA_HOME"), "/usr/local/cuda"):
        if found is None and d and os.access(Path(d) / "bin" / "compute-sanitizer", os.X_OK):
            found = str(Path(d) / "bin" / "compute-sanitizer")
    return found


def git_head():
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--deadline", type=float, default=480,
                    help="seconds from the start after which no part starts (default 480)")
    ap.add_argument("--out", help="the folder for summary.txt and the archive (default $OUT, "
                    "else a new temporary folder)")
    ap.add_argument("--first-part-limit", type=float, default=FIRST_PART_LIMIT,
                    help=f"seconds the first part may take (default {FIRST_PART_LIMIT})")
    ap.add_argument("--first-part-only", action="store_true")
    ap.add_argument("--emulated", action="store_true",
                    help="the first part on the host emulator (minigrad/emulate), no GPU needed")
    ap.add_argument("--tiny", action="store_true", help="small shapes and few repeats")
    ap.add_argument("--first-part-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--summary", help=argparse.SUPPRESS)
    ap.add_argument("--logdir", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.first_part_child:
        return first_part_child(args)
    run = Run(args)

    def stop(signum, frame):
        raise Stopped(f"stopped by {signal.Signals(signum).name}")
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, stop)
    return run.main()


if __name__ == "__main__":
    sys.exit(main())
