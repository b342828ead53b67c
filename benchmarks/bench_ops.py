"""Each LeNet layer alone, forward and backward, at LeNet's shapes (batch 256), for minigrad
NumPy and PyTorch CPU (each with its default threads, and with one thread), minigrad's
textbook NumPy form (MINIGRAD_CPU=textbook: what the fast form's speed work bought),
minigrad CUDA and PyTorch CUDA; and, on a GPU, our GEMM kernel against cuBLAS (cupy.matmul)
on the products linear and conv use; and, on a GPU, every kernel launch of one eager LeNet
training step with its GPU time and its share of the step's kernel time (each launch timed
alone, repeated inside a CUDA graph so that launch overhead does not count). Each
configuration runs in a process of its own, the configurations taking turns round after
round (see benchmarks/common.py).

    python -m benchmarks.bench_ops --device cpu --quick     # < 1 minute
    python -m benchmarks.bench_ops --device all --out bench-out
    python -m benchmarks.bench_ops --ladder                  # the GEMM ladder (GPU only)
    python -m benchmarks.bench_ops --ladder --emulated       # its memory traffic, no GPU

(run from the repository root). minigrad's fast layers get their inputs and upstream
gradients in the memory layout they have inside LeNet (batch-last after a conv, see
minigrad/backend/cpu/layout.py); the textbook form and PyTorch get NCHW.
"""
import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):              # run as a file: python benchmarks/bench_ops.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

import minigrad
import minigrad.nn.functional as F
from benchmarks.bench_lenet import CPU_CONFIGS, GPU_CONFIGS
from benchmarks.common import (
    Timer,
    bar_chart,
    conditions,
    in_turns,
    machine,
    machine_line,
    markdown,
    serve,
    start_workers,
    stop_workers,
    summary,
    timed_rounds,
    torch_or_none,
    use_threads,
    write_json,
)
from examples.lenet import lenet

N = 256
# name: (input shapes, minigrad fn, torch fn name, needs grad of input 0, flops of the
#        forward (None: report GB/s instead), input batch-last inside LeNet)
LAYERS = {
    "conv1": ([(N, 1, 28, 28), (6, 1, 5, 5), (6,)], F.conv2d, "conv2d", False,
              2 * N * 24 * 24 * 6 * 25, False),
    "sigmoid1": ([(N, 6, 24, 24)], F.sigmoid, "sigmoid", True, None, True),
    "pool1": ([(N, 6, 24, 24)], lambda x: F.max_pool2d(x, 2, 2), "max_pool2d", True, None, True),
    "conv2": ([(N, 6, 12, 12), (16, 6, 5, 5), (16,)], F.conv2d, "conv2d", True,
              2 * N * 8 * 8 * 16 * 150, True),
    "sigmoid2": ([(N, 16, 8, 8)], F.sigmoid, "sigmoid", True, None, True),
    "pool2": ([(N, 16, 8, 8)], lambda x: F.max_pool2d(x, 2, 2), "max_pool2d", True, None, True),
    "linear1": ([(N, 256), (120, 256), (120,)], F.linear, "linear", True, 2 * N * 256 * 120,
                False),
    "sigmoid3": ([(N, 120)], F.sigmoid, "sigmoid", True, None, False),
    "linear2": ([(N, 120), (84, 120), (84,)], F.linear, "linear", True, 2 * N * 120 * 84, False),
    "linear3": ([(N, 84), (10, 84), (10,)], F.linear, "linear", True, 2 * N * 84 * 10, False),
    "cross-entropy": ([(N, 10), "target"], F.cross_entropy, "cross_entropy", True, None, False),
}
PAIRS = {"minigrad numpy": "pytorch cpu", "minigrad numpy, 1 thread": "pytorch cpu, 1 thread",
         "minigrad textbook numpy": "minigrad numpy", "minigrad cuda": "pytorch cuda"}
RATIO_HEADER = {"minigrad numpy": "minigrad ÷ pytorch", "minigrad cuda": "cuda: minigrad ÷ pytorch",
                "minigrad numpy, 1 thread": "1 thread: minigrad ÷ pytorch",
                "minigrad textbook numpy": "textbook ÷ fast numpy"}


def torch_fn(torch, name):
    tf = torch.nn.functional
    if name == "max_pool2d":
        return lambda x: tf.max_pool2d(x, 2, 2)
    return getattr(tf, name) if name != "sigmoid" else torch.sigmoid


def make_inputs(shapes, seed=0):
    g = np.random.default_rng(seed)
    arrays = []
    for s in shapes:
        if s == "target":
            arrays.append(g.integers(0, 10, N))
        else:
            arrays.append((g.standard_normal(s) * (0.2 if len(arrays) else 1.0))
                          .astype(np.float32))
    return arrays


def batch_last(a):
    """The values of NCHW ``a`` in batch-last memory, as minigrad's conv and pool make them."""
    return np.ascontiguousarray(a.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


# ---- inside a worker: every layer of one configuration ----------------------------------------
def layer_fns(spec):
    """layer -> (forward fn, backward fn) for the worker's framework and device."""
    torch = torch_or_none() if spec["framework"] == "pytorch" else None
    dev = spec["device"]
    fns = {}
    for name, (shapes, mg_fn, t_name, grad_x, _, inside_bl) in LAYERS.items():
        arrays = make_inputs(shapes)
        wants = [a.dtype.kind == "f" and (i > 0 or grad_x) for i, a in enumerate(arrays)]
        if torch is None:
            if inside_bl and dev == "cpu" and spec.get("form", "fast") == "fast":
                arrays[0] = batch_last(arrays[0])
            ins = [minigrad.as_tensor(a) if dev == "cpu" else minigrad.tensor(a, device=dev)
                   for a in arrays]                     # as_tensor keeps the memory layout
            for t, w in zip(ins, wants):
                t.requires_grad = w
            out = mg_fn(*ins)
            g = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
            if dev == "cpu":
                g_array = np.empty_like(out._data)           # the output's layout
                g_array[...] = g
                g = minigrad.as_tensor(g_array)
            else:
                g = minigrad.tensor(g, device=dev)
            fwd = lambda fn=mg_fn, ins=ins: fn(*ins)
        else:
            ins = [torch.tensor(a, device=dev, requires_grad=bool(w)) for a, w in
                   zip(arrays, wants)]
            fn = torch_fn(torch, t_name)
            out = fn(*ins)
            g = torch.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape))
                             .astype(np.float32), device=dev)
            fwd = lambda fn=fn, ins=ins: fn(*ins)
        fns[name] = (fwd, lambda out=out, g=g: out.backward(g, retain_graph=True))
    return fns


def adam_fn(spec):
    dev = spec["device"]
    if spec["framework"] == "minigrad":
        net = lenet().to(dev)
        for p in net.parameters():
            p.grad = minigrad.zeros_like(p) + 0.01
        return minigrad.optim.Adam(net.parameters()).step
    torch = torch_or_none()
    net = lenet(torch.nn).to(dev)
    for p in net.parameters():
        p.grad = torch.full_like(p, 0.01)
    return torch.optim.Adam(net.parameters()).step


def gemm_cases():
    """Our GEMM kernels against cuBLAS (cupy.matmul) on three of LeNet's products, as the
    layers run them (GPU only): linear1's forward (``gemm``), conv2's forward (``conv_fwd``,
    reading the columns from x inside the GEMM) and conv1's weight and bias gradients
    (``conv_wgrad``, split-K over the batch, then ``sum_partials``). cuBLAS gets the conv's
    columns already in memory, so for the convs it is a bound, not a like-for-like twin."""
    import cupy

    from minigrad.backend import cuda as be
    g = np.random.default_rng(0)
    r = lambda *s: cupy.asarray(g.standard_normal(s).astype(np.float32))
    x, w = r(N, 256), r(120, 256)
    x2, w2, b2, cols2 = r(N, 6, 12, 12), r(16, 6, 5, 5), r(16), r(N, 150, 64)
    x1, w1, b1, g1, cols1 = r(N, 1, 28, 28), r(6, 1, 5, 5), r(6), r(N, 6, 24, 24), r(N, 25, 576)
    saved1 = be.conv2d_fwd(x1, w1, b1, 1, 0)[1]
    return {
        "linear1 x·Wᵀ": (lambda: be.gemm(x, w, trans_b=True), lambda: cupy.matmul(x, w.T),
                         2 * N * 256 * 120),
        "conv2 forward": (lambda: be.conv2d_fwd(x2, w2, b2, 1, 0),
                          lambda: cupy.matmul(w2.reshape(16, 150), cols2),
                          2 * N * 16 * 150 * 64),
        "conv1 dW, db": (lambda: be.conv2d_bwd(g1, saved1, x1.shape, w1.shape, 1, 0,
                                               (False, True, True)),
                         lambda: cupy.matmul(g1.reshape(N, 6, 576),
                                             cols1.transpose(0, 2, 1)).sum(0),
                         2 * N * 6 * 25 * 576),
    }


def step_launches(batch=N, device="cuda"):
    """Every kernel launch of one eager LeNet training step (zero_grad, forward, loss,
    backward, Adam), after a first step that made Adam's state: a list of (kernel label,
    launch) where ``launch()`` runs that kernel again with the step's very arguments (the
    list keeps its arrays alive). Kernels that update in place (Adam) do so again."""
    from minigrad.backend import cuda as be
    g = np.random.default_rng(0)
    x = minigrad.tensor(g.random((batch, 1, 28, 28), dtype=np.float32), device=device)
    y = minigrad.tensor(g.integers(0, 10, batch), device=device)
    minigrad.manual_seed(0)
    net = lenet().to(device)
    opt = minigrad.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = minigrad.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()
    step()
    with be.runtime.recording() as launches:
        step()
    return launches, step


def repeated_in_a_graph(fn, repeats):
    """A zero-argument function that runs ``fn`` ``repeats`` times as one CUDA graph replay
    (so the GPU runs the launches back to back, without the host in between), or None if
    CuPy cannot capture it here."""
    import cupy
    stream = cupy.cuda.Stream(non_blocking=True)
    try:
        with stream:
            stream.begin_capture()
            try:
                for _ in range(repeats):
                    fn()
            finally:
                graph = stream.end_capture()
    except Exception as e:  # noqa: BLE001  (reported, then timed without a graph)
        print(f"bench_ops: could not capture a kernel ({type(e).__name__}: {e}); timing it "
              "launch by launch", file=sys.stderr)
        return None

    def replay():
        graph.launch(stream=cupy.cuda.get_current_stream())
    return replay


def kernel_times(timer, calls, repeats=20, batch=N):
    """Each kernel launch of an eager LeNet step: seconds per launch on the GPU, timed as
    ``calls`` replays of a graph of ``repeats`` launches of it; plus the whole step's, eager
    and as a graph replay (one launch per kernel, so the GPU-side total)."""
    launches, step = step_launches(batch)
    times = []
    for label, launch in launches:
        graph = repeated_in_a_graph(launch, repeats)
        if graph is None:
            times.append([label, timer.seconds(launch, calls * repeats)])
        else:
            graph()
            times.append([label, timer.seconds(graph, calls) / repeats])
    whole = repeated_in_a_graph(lambda: [launch() for _, launch in launches], 1)
    return {"kernels": times, "eager_step": timer.seconds(step, calls),
            "kernels_in_one_graph": timer.seconds(whole, calls) if whole else None}


def kernel_table(answers):
    """Rows of (kernel, median µs, share of the step's kernel time) from the rounds'
    answers, with a total row; a share is "—" where the clock says nothing (the emulator)."""
    labels = [label for label, _ in answers[0]["kernels"]]
    med = [summary([a["kernels"][i][1] for a in answers])["median"] for i in range(len(labels))]
    total = sum(med)
    rows = [[f"{i + 1}. {label}", f"{t * 1e6:,.1f}",
             f"{t / total:.1%}" if total > 0 else "—"] for i, (label, t) in
            enumerate(zip(labels, med))]
    rows.append([f"all {len(labels)} kernels", f"{total * 1e6:,.1f}", "100%" if total else "—"])
    return rows, dict(zip(labels, med)), total


def worker_setup(spec):
    settings = use_threads(spec)
    kind = "cpu" if spec["device"] == "cpu" else ("cupy" if spec["framework"] == "minigrad"
                                                  else "torch")
    timer = Timer(kind)
    fns, adam = layer_fns(spec), adam_fn(spec)
    for fwd, bwd in fns.values():                       # warm-up
        for _ in range(2):
            fwd()
            bwd()
    adam()

    def one_round(calls):
        for fwd, bwd in fns.values():          # untimed, after the pause before the turn
            fwd()
            bwd()
        times = {name: {"forward": timer.seconds(fwd, calls), "backward": timer.seconds(bwd, calls)}
                 for name, (fwd, bwd) in fns.items()}
        times["adam"] = {"step": timer.seconds(adam, calls)}
        return times

    handlers = {"round": one_round}
    if spec["framework"] == "minigrad" and spec["device"] == "cuda":
        cases = gemm_cases()
        handlers["gemm"] = lambda calls: {
            case: {"ours": timer.seconds(ours, calls), "cublas": timer.seconds(cublas, calls)}
            for case, (ours, cublas, _) in cases.items()}
        handlers["kernels"] = lambda calls: kernel_times(timer, calls)
    return settings, handlers


# ---- the driver ------------------------------------------------------------------------------
def configurations(which):
    torch = torch_or_none()
    configs = {}
    if which in ("cpu", "all"):
        configs.update({k: v for k, v in CPU_CONFIGS.items()
                        if torch or v[0]["framework"] == "minigrad"})
    if which in ("cuda", "all"):
        if minigrad.cuda.is_available():
            configs["minigrad cuda"] = GPU_CONFIGS["minigrad cuda eager"]
        else:
            print(f"minigrad cuda: skipped ({minigrad.cuda.unavailable_reason()})")
        if torch and torch.cuda.is_available():
            configs["pytorch cuda"] = GPU_CONFIGS["pytorch cuda eager"]
    if not configs:
        sys.exit("nothing to benchmark on this machine for --device " + which)
    return configs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    ap.add_argument("--quick", action="store_true", help="CPU only, few repeats")
    ap.add_argument("--repeats", type=int, help="rounds per configuration")
    ap.add_argument("--out", default="bench-out")
    ap.add_argument("--quiet", type=float, metavar="CORES",
                    help="keep only rounds in which other processes kept at most CORES cores "
                         "busy during every turn (see bench_lenet --help)")
    ap.add_argument("--patience", type=float, default=30, help="minutes, with --quiet")
    ap.add_argument("--ladder", action="store_true", help="time each rung of the GEMM ladder "
                    "(kernels/gemm_ladder.cu) and our gemm at LeNet's GEMM shapes (GPU only)")
    ap.add_argument("--emulated", action="store_true", help="with --ladder: no timing, but "
                    "each rung's global-memory sectors per warp access and shared-memory bank "
                    "conflicts, counted by the host emulator (minigrad.emulate; no GPU needed)")
    ap.add_argument("--batch", type=int, default=2, help="with --ladder --emulated: the "
                    "batch of LeNet's products (the emulator is slow)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.ladder:
        return run_ladder_emulated(args) if args.emulated else run_ladder(args)
    if args.worker:
        return serve(lambda: worker_setup(json.loads(args.worker)))
    if args.quick:
        args.device = "cpu"
    repeats, calls = (args.repeats or (3 if args.quick else 11)), (3 if args.quick else 10)
    info = machine()
    print(f"# LeNet layers, batch {N}, microseconds per call (median of {repeats} rounds of "
          f"{calls} calls, configurations in turns, each in its own process)\n"
          f"{machine_line(info)}\n", flush=True)
    workers = start_workers("bench_ops", configurations(args.device))
    try:
        answers, dropped = timed_rounds(workers, "round", repeats, args.quiet, args.patience,
                                        calls=calls)
        gemm_answers = kernel_answers = None
        if "minigrad cuda" in workers:
            only = {"minigrad cuda": workers["minigrad cuda"]}
            gemm_answers = in_turns(only, "gemm", repeats, calls=calls)["minigrad cuda"]
            kernel_answers = in_turns(only, "kernels", repeats, calls=calls)["minigrad cuda"]
    finally:
        stop_workers(workers)
    configs = list(workers)

    results = {"settings": {c: workers[c].ready for c in configs},
               "rounds": len(answers[configs[0]]), "quiet": args.quiet,
               "rounds_thrown_away": dropped,
               "conditions": {c: conditions(answers[c]) for c in configs}}
    med = lambda c, layer, part: summary([a[layer][part] for a in answers[c]])
    pairs = {m: p for m, p in PAIRS.items() if m in workers and p in workers}
    rows = []
    for name, spec in LAYERS.items():
        flops = spec[4]
        nbytes = sum(4 * int(np.prod(s)) for s in spec[0] if s != "target") * 2
        results[name] = {}
        row = [name]
        for c in configs:
            f, b = med(c, name, "forward"), med(c, name, "backward")
            rate = (f"{flops / f['median'] / 1e9:.0f} GF/s" if flops
                    else f"{nbytes / f['median'] / 1e9:.1f} GB/s")
            results[name][c] = {"forward": f, "backward": b, "forward_rate": rate}
            row.append(f"{f['median'] * 1e6:,.0f} / {b['median'] * 1e6:,.0f}")
        total = {c: sum(results[name][c][k]["median"] for k in ("forward", "backward"))
                 for c in configs}
        row += [f"{total[m] / total[p]:.2f}×" for m, p in pairs.items()]
        rows.append(row)
    n_params = sum(p.numel() for p in lenet().parameters())
    results["adam"] = {c: {"step": med(c, "adam", "step")} for c in configs}
    adam = {c: results["adam"][c]["step"]["median"] for c in configs}
    rows.append([f"adam ({n_params:,} params)"] + [f"{adam[c] * 1e6:,.0f}" for c in configs]
                + [f"{adam[m] / adam[p]:.2f}×" for m, p in pairs.items()])
    headers = (["layer: forward / backward µs"] + configs
               + [RATIO_HEADER[m] for m in pairs])
    table = markdown(headers, rows)
    print(table)
    print("\nthreads: " + "; ".join(f"{c}: {workers[c].ready['threads']}" for c in configs
                                    if workers[c].ready["device"] == "cpu")
          + ". Ratios: forward + backward. Other processes kept "
          + ", ".join(f"{results['conditions'][c].get('other_load_cores', float('nan')):.2f}"
                      for c in configs) + " cores busy during the turns (median, in column order)"
          + ("." if dropped is None else f"; {results['rounds']} rounds kept with other load ≤ "
             f"{args.quiet} cores in every turn, {dropped} thrown away."))

    gemm_table = None
    if gemm_answers:
        grows = []
        for case, (_, _, flops) in gemm_cases().items():
            o = summary([a[case]["ours"] for a in gemm_answers])["median"]
            c = summary([a[case]["cublas"] for a in gemm_answers])["median"]
            grows.append([case, f"{o * 1e6:,.1f}", f"{flops / o / 1e9:.0f}", f"{c * 1e6:,.1f}",
                          f"{flops / c / 1e9:.0f}", f"{o / c:.2f}×"])
            results[f"gemm {case}"] = {"ours": o, "cublas": c}
        gemm_table = markdown(["GEMM", "ours µs", "ours GF/s", "cuBLAS µs", "cuBLAS GF/s",
                               "ours ÷ cuBLAS"], grows)
        print("\n" + gemm_table)

    kernels_table = None
    if kernel_answers:
        krows, per_kernel, total = kernel_table(kernel_answers)
        eager = summary([a["eager_step"] for a in kernel_answers])["median"]
        together = [a["kernels_in_one_graph"] for a in kernel_answers
                    if a["kernels_in_one_graph"] is not None]
        results["kernels"] = {"seconds_per_launch": per_kernel, "sum": total,
                              "eager_step": eager, "kernels_in_one_graph":
                              summary(together)["median"] if together else None}
        kernels_table = markdown(["kernel of one eager LeNet step", "µs", "share of the step"],
                                 krows)
        print("\n" + kernels_table)
        print(f"\nEach kernel timed alone, as a CUDA graph of 20 launches of it (no launch "
              f"overhead). The eager step took {eager * 1e6:,.0f} µs"
              + (f"; its {len(krows) - 1} kernels replayed as one graph "
                 f"{results['kernels']['kernels_in_one_graph'] * 1e6:,.0f} µs"
                 if together else "") + ".")

    out = Path(args.out)
    write_json(out / "bench_ops.json", {"machine": info, "batch": N, "quick": args.quick,
                                        "rounds": repeats, "calls_per_round": calls,
                                        "results": results, "table": table,
                                        "gemm_table": gemm_table,
                                        "kernels_table": kernels_table})
    labels = list(LAYERS) + ["adam"]
    bar_chart(out / "bench_ops.png", labels,
              {c: [(results[n][c]["forward"]["median"] + results[n][c]["backward"]["median"])
                   * 1e6 for n in LAYERS] + [results["adam"][c]["step"]["median"] * 1e6]
               for c in configs},
              f"LeNet layers, forward + backward, batch {N}", "µs (log scale, lower is better)",
              log=True)
    print(f"wrote {out / 'bench_ops.json'} and {out / 'bench_ops.png'}")
    return results


# ---- the GEMM ladder (--ladder) ---------------------------------------------------------------
def ladder_cases(n=N):
    """LeNet's products for a batch of ``n`` as 2-D GEMMs (the conv's images side by side
    along the columns, as batch-last memory holds them): name -> (A shape, B shape,
    trans_a, trans_b). Forward and both backward products of each layer's big GEMM."""
    p1, p2 = n * 24 * 24, n * 8 * 8              # conv1's and conv2's output pixels
    return {
        "conv1 W·cols": ((6, 25), (25, p1), False, False),
        "conv1 dW = g·colsᵀ": ((6, p1), (25, p1), False, True),
        "conv2 W·cols": ((16, 150), (150, p2), False, False),
        "conv2 dW = g·colsᵀ": ((16, p2), (150, p2), False, True),
        "conv2 dcols = Wᵀ·g": ((16, 150), (16, p2), True, False),
        "linear1 x·Wᵀ": ((n, 256), (120, 256), False, True),
        "linear1 dW = gᵀ·x": ((n, 120), (n, 256), True, False),
        "linear1 dx = g·W": ((n, 120), (120, 256), False, False),
        "linear2 x·Wᵀ": ((n, 120), (84, 120), False, True),
    }


def ladder_functions(cases, dtype=np.float32, seed=0):
    """name -> (flops, {implementation: zero-argument function}) for every rung, our
    production gemm and cuBLAS (cupy.matmul), on the same random operands."""
    import cupy

    from minigrad.backend import cuda as be
    from minigrad.backend.cuda import ladder
    g = np.random.default_rng(seed)
    out = {}
    for name, (sa, sb, ta, tb) in cases.items():
        a = cupy.asarray(g.standard_normal(sa).astype(dtype))
        b = cupy.asarray(g.standard_normal(sb).astype(dtype))
        m, k = sa[::-1] if ta else sa
        n = sb[0] if tb else sb[1]
        fns = {rung: (lambda r=rung, a=a, b=b, ta=ta, tb=tb: ladder.gemm(r, a, b, ta, tb))
               for rung in ladder.RUNGS}
        fns["gemm.cu"] = lambda a=a, b=b, ta=ta, tb=tb: be.gemm(a, b, ta, tb)
        fns["cuBLAS"] = lambda a=a, b=b, ta=ta, tb=tb: cupy.matmul(a.T if ta else a,
                                                                   b.T if tb else b)
        out[name] = (2 * m * n * k, fns)
    return out


def run_ladder(args):
    if not minigrad.cuda.is_available():
        sys.exit(f"--ladder needs a GPU: {minigrad.cuda.unavailable_reason()}")
    import cupy
    repeats, calls = args.repeats or 11, 10
    timer, info = Timer("cupy"), machine()
    print(f"# The GEMM ladder at LeNet's shapes (batch {N}, float32), microseconds per call "
          f"(median of {repeats} rounds of {calls} calls)\n{machine_line(info)}\n", flush=True)
    cases = ladder_functions(ladder_cases())
    rows, results = [], {}
    for name, (flops, fns) in cases.items():
        want = fns["cuBLAS"]()
        for impl, fn in fns.items():                  # each checked before it is timed
            got = fn()
            err = float(cupy.abs(got - want).max() / cupy.abs(want).max())
            if err > 1e-4:
                sys.exit(f"{impl} is wrong on {name}: relative error {err:.2e}")
            fn()                                      # warm-up
        results[name] = {impl: summary([timer.seconds(fn, calls) for _ in range(repeats)])
                         for impl, fn in fns.items()}
        rows.append([name] + [f"{results[name][i]['median'] * 1e6:,.1f} "
                              f"({flops / results[name][i]['median'] / 1e9:,.0f})"
                              for i in fns])
    headers = ["GEMM: µs (GF/s)"] + list(next(iter(cases.values()))[1])
    table = markdown(headers, rows)
    print(table)
    out = Path(args.out)
    write_json(out / "bench_ladder.json", {"machine": info, "batch": N, "rounds": repeats,
                                           "calls_per_round": calls, "results": results,
                                           "table": table})
    print(f"wrote {out / 'bench_ladder.json'}")
    return results


# ---- the GEMM ladder's memory traffic, counted by the emulator (--ladder --emulated) -----------
def ladder_memstats(cases, dtype=np.float32, seed=0):
    """case -> rung -> the host emulator's counts for that rung's kernel on that product
    (``fake_cupy.memstats``: sectors per warp access and so on), each result checked against
    NumPy. Needs the emulator installed as CuPy with its "memstats" check on."""
    import cupy

    from minigrad.backend.cuda import ladder
    from minigrad.emulate import fake_cupy
    g = np.random.default_rng(seed)
    out = {}
    for name, (sa, sb, ta, tb) in cases.items():
        a, b = g.standard_normal(sa).astype(dtype), g.standard_normal(sb).astype(dtype)
        want = (a.T if ta else a).astype(np.float64) @ (b.T if tb else b)
        out[name] = {}
        for rung, kernel in ladder.RUNGS.items():
            fake_cupy.memstats_reset()
            got = ladder.gemm(rung, cupy.asarray(a), cupy.asarray(b), ta, tb).get()
            err = np.abs(got - want).max() / max(np.abs(want).max(), 1e-30)
            if err > 1e-4:
                raise AssertionError(f"{rung} is wrong on {name}: relative error {err:.2e}")
            out[name][rung] = fake_cupy.memstats(f"{kernel}<{cupy.dtype(dtype).name}>"
                                                 .replace("float32", "float")
                                                 .replace("float64", "double"))
    return out


def ladder_memstats_table(results):
    """Two markdown tables: global sectors per warp access (and all sectors moved, which is
    what the shared-memory tiles cut), and shared-memory passes per warp access."""
    rungs = list(next(iter(results.values())))
    total = {r: [0, 0, 0, 0] for r in rungs}
    sectors, passes = [], []
    for name, per_rung in results.items():
        sectors.append([name] + [f"{st['sectors_per_access']:.2f} ({st['sectors']:,})"
                                 for st in per_rung.values()])
        passes.append([name] + [f"{st['passes_per_access']:.2f} (max {st['max_passes']})"
                                if st["shared_accesses"] else "—" for st in per_rung.values()])
        for r, st in per_rung.items():
            total[r][0] += st["global_accesses"]
            total[r][1] += st["sectors"]
            total[r][2] += st["shared_accesses"]
            total[r][3] += st["passes"]
    sectors.append(["all"] + [f"{t[1] / max(t[0], 1):.2f} ({t[1]:,})" for t in total.values()])
    passes.append(["all"] + [f"{t[3] / t[2]:.2f}" if t[2] else "—" for t in total.values()])
    return (markdown(["global: sectors per warp access (all sectors)"] + rungs, sectors)
            + "\n\n" + markdown(["shared: passes per warp access (1 = no bank conflict)"]
                                  + rungs, passes))


def run_ladder_emulated(args):
    """--ladder --emulated: the ladder's memory traffic at LeNet's products (batch
    ``--batch``), counted by the host emulator, so that what each rung changes shows without
    a GPU. Counts, not times: the emulator has no clock worth reading."""
    from minigrad.backend import cuda
    from minigrad.emulate import fake_cupy
    fake_cupy.install()                # (nothing to do when it is CuPy already)
    fake_cupy.CHECKS.add("memstats")
    cuda.reset()                       # kernels built before the check was on count nothing
    print(f"# The GEMM ladder's memory accesses at LeNet's products (batch {args.batch}, "
          "float32), counted per warp by the host emulator (python -m minigrad.emulate: a CPU "
          "emulation, not a GPU). A global access moves whole 32-byte sectors: 1 for a "
          "broadcast, 4 for 32 adjacent floats, 32 for 32 floats far apart. A shared access "
          "takes one pass per distinct word in its busiest bank (32 banks of 4 bytes).\n",
          flush=True)
    table = ladder_memstats_table(ladder_memstats(ladder_cases(args.batch)))
    print(table)
    return table


if __name__ == "__main__":
    main()
