"""Each LeNet layer alone, forward and backward, at LeNet's shapes (batch 256), for minigrad
NumPy and PyTorch CPU (each with its default threads, and with one thread), minigrad CUDA and
PyTorch CUDA; and, on a GPU, our GEMM kernel against cuBLAS (cupy.matmul) on the products
linear and conv use. Each configuration runs in a process of its own, the configurations
taking turns round after round (see benchmarks/common.py).

    python -m benchmarks.bench_ops --device cpu --quick     # < 1 minute
    python -m benchmarks.bench_ops --device all --out bench-out

(run from the repository root). minigrad's layers get their inputs and upstream gradients
in the memory layout they have inside LeNet (batch-last after a conv, see
minigrad/backend/cpu.py); PyTorch's get its own (NCHW).
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
    quiet_turns,
    serve,
    start_workers,
    stop_workers,
    summary,
    torch_or_none,
    use_threads,
    write_json,
)
from examples.lenet_fashion import lenet

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
         "minigrad cuda": "pytorch cuda"}
RATIO_HEADER = {"minigrad numpy": "minigrad ÷ pytorch", "minigrad cuda": "cuda: minigrad ÷ pytorch",
                "minigrad numpy, 1 thread": "1 thread: minigrad ÷ pytorch"}


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
            if inside_bl and dev == "cpu":
                arrays[0] = batch_last(arrays[0])
            ins = [minigrad.as_tensor(a) if dev == "cpu" else minigrad.tensor(a, device=dev)
                   for a in arrays]                     # as_tensor keeps the memory layout
            for t, w in zip(ins, wants):
                t.requires_grad = w
            out = mg_fn(*ins)
            g = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
            if dev == "cpu":
                g_array = np.empty_like(out.data)           # the output's layout
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
    """Our GEMM kernel vs cuBLAS on the same three products (GPU only)."""
    import cupy

    from minigrad.backend import cuda as be
    g = np.random.default_rng(0)
    r = lambda *s: cupy.asarray(g.standard_normal(s).astype(np.float32))
    x, w = r(N, 256), r(120, 256)
    w2, cols = r(16, 150), r(N, 150, 64)
    g1, cols1 = r(N, 6, 576), r(N, 25, 576)
    return {
        "linear1 x·Wᵀ": (lambda: be.gemm(x, w, trans_b=True), lambda: cupy.matmul(x, w.T),
                         2 * N * 256 * 120),
        "conv2 W·cols": (lambda: be.gemm(w2, cols), lambda: cupy.matmul(w2, cols),
                         2 * N * 16 * 150 * 64),
        "conv1 dW split-K": (lambda: be.gemm_batch_sum(g1, cols1, trans_b=True),
                             lambda: cupy.matmul(g1, cols1.transpose(0, 2, 1)).sum(0),
                             2 * N * 6 * 25 * 576),
    }


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
            configs["minigrad cuda"] = GPU_CONFIGS["minigrad cuda"]
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
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
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
    dropped = None
    try:
        if args.quiet is None:
            answers = in_turns(workers, "round", repeats, calls=calls)
        else:
            answers, dropped = quiet_turns(workers, "round", repeats, args.quiet,
                                           args.patience * 60, calls=calls)
            if not all(answers.values()):
                sys.exit(f"no round was quiet enough (other load ≤ {args.quiet} cores) in "
                         f"{args.patience} minutes ({dropped} rounds thrown away)")
        gemm_answers = (in_turns({"minigrad cuda": workers["minigrad cuda"]}, "gemm", repeats,
                                 calls=calls)["minigrad cuda"] if "minigrad cuda" in workers
                        else None)
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

    out = Path(args.out)
    write_json(out / "bench_ops.json", {"machine": info, "batch": N, "quick": args.quick,
                                        "rounds": repeats, "calls_per_round": calls,
                                        "results": results, "table": table,
                                        "gemm_table": gemm_table})
    labels = list(LAYERS) + ["adam"]
    bar_chart(out / "bench_ops.png", labels,
              {c: [(results[n][c]["forward"]["median"] + results[n][c]["backward"]["median"])
                   * 1e6 for n in LAYERS] + [results["adam"][c]["step"]["median"] * 1e6]
               for c in configs},
              f"LeNet layers, forward + backward, batch {N}", "µs (log scale, lower is better)",
              log=True)
    print(f"wrote {out / 'bench_ops.json'} and {out / 'bench_ops.png'}")
    return results


if __name__ == "__main__":
    main()
