"""Each LeNet layer alone, forward and backward, at LeNet's shapes (batch 256), for
minigrad NumPy, minigrad CUDA, PyTorch CPU and PyTorch CUDA; and, on a GPU, our GEMM kernel
against cuBLAS (cupy.matmul) on the products linear and conv use.

    python -m benchmarks.bench_ops --device cpu --quick     # < 1 minute
    python -m benchmarks.bench_ops --device all --out bench-out

(run from the repository root).
"""
import argparse
import sys
from pathlib import Path

import numpy as np

import minigrad
import minigrad.nn.functional as F
from benchmarks.common import (
    Timer,
    bar_chart,
    interleaved,
    machine,
    machine_line,
    markdown,
    torch_or_none,
    write_json,
)
from examples.lenet_fashion import lenet
from minigrad.backend.cpu import tune_malloc

N = 256
# name: (input shapes, minigrad fn, torch fn name-or-callable, needs grad of input 0,
#        flops of the forward (None: report GB/s instead))
LAYERS = {
    "conv1": ([(N, 1, 28, 28), (6, 1, 5, 5), (6,)], F.conv2d, "conv2d", False,
              2 * N * 24 * 24 * 6 * 25),
    "sigmoid1": ([(N, 6, 24, 24)], F.sigmoid, "sigmoid", True, None),
    "pool1": ([(N, 6, 24, 24)], lambda x: F.max_pool2d(x, 2, 2), "max_pool2d", True, None),
    "conv2": ([(N, 6, 12, 12), (16, 6, 5, 5), (16,)], F.conv2d, "conv2d", True,
              2 * N * 8 * 8 * 16 * 150),
    "sigmoid2": ([(N, 16, 8, 8)], F.sigmoid, "sigmoid", True, None),
    "pool2": ([(N, 16, 8, 8)], lambda x: F.max_pool2d(x, 2, 2), "max_pool2d", True, None),
    "linear1": ([(N, 256), (120, 256), (120,)], F.linear, "linear", True, 2 * N * 256 * 120),
    "sigmoid3": ([(N, 120)], F.sigmoid, "sigmoid", True, None),
    "linear2": ([(N, 120), (84, 120), (84,)], F.linear, "linear", True, 2 * N * 120 * 84),
    "linear3": ([(N, 84), (10, 84), (10,)], F.linear, "linear", True, 2 * N * 84 * 10),
    "cross-entropy": ([(N, 10), "target"], F.cross_entropy, "cross_entropy", True, None),
}


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


def layer_entries(name, spec, configs, torch):
    """name@config -> (forward fn, Timer) and (backward fn, Timer) for one layer."""
    shapes, mg_fn, t_name, grad_x, _ = spec
    arrays = make_inputs(shapes)
    fwd, bwd = {}, {}
    for cfg in configs:
        lib, device = cfg.split(" ")[0], cfg.split(" ")[1]
        dev = "cpu" if device in ("numpy", "cpu") else "cuda"
        if lib == "minigrad":
            ins = [minigrad.tensor(a, device=dev,
                                   requires_grad=a.dtype.kind == "f" and (i > 0 or grad_x))
                   for i, a in enumerate(arrays)]
            fn, timer = mg_fn, Timer("cpu" if dev == "cpu" else "cupy")
            wrap = lambda a, dev=dev: minigrad.tensor(a, device=dev)
        else:
            ins = [torch.tensor(a, device=dev,
                                requires_grad=bool(a.dtype.kind == "f" and (i > 0 or grad_x)))
                   for i, a in enumerate(arrays)]
            fn, timer = torch_fn(torch, t_name), Timer("cpu" if dev == "cpu" else "torch")
            wrap = lambda a, dev=dev: torch.tensor(a, device=dev)
        out = fn(*ins)
        g = wrap(np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(np.float32))
        fwd[cfg] = (lambda fn=fn, ins=ins: fn(*ins), timer)
        bwd[cfg] = (lambda out=out, g=g: out.backward(g, retain_graph=True), timer)
    return fwd, bwd


def adam_entries(configs, torch):
    entries = {}
    for cfg in configs:
        lib, device = cfg.split(" ")[0], cfg.split(" ")[1]
        dev = "cpu" if device in ("numpy", "cpu") else "cuda"
        if lib == "minigrad":
            net = lenet().to(dev)
            for p in net.parameters():
                p.grad = minigrad.zeros_like(p) + 0.01
            opt = minigrad.optim.Adam(net.parameters())
            timer = Timer("cpu" if dev == "cpu" else "cupy")
        else:
            net = lenet(torch.nn).to(dev)
            for p in net.parameters():
                p.grad = torch.full_like(p, 0.01)
            opt = torch.optim.Adam(net.parameters())
            timer = Timer("cpu" if dev == "cpu" else "torch")
        entries[cfg] = (opt.step, timer)
    n_params = sum(p.numel() for p in lenet().parameters())
    return entries, n_params


def gemm_entries():
    """Our GEMM kernel vs cuBLAS on the same three products (GPU only)."""
    import cupy

    from minigrad.backend import cuda as be
    g = np.random.default_rng(0)
    r = lambda *s: cupy.asarray(g.standard_normal(s).astype(np.float32))
    x, w = r(N, 256), r(120, 256)
    w2, cols = r(16, 150), r(N, 150, 64)
    g1, cols1 = r(N, 6, 576), r(N, 25, 576)
    cases = {
        "linear1 x·Wᵀ": (lambda: be.gemm(x, w, trans_b=True), lambda: cupy.matmul(x, w.T),
                         2 * N * 256 * 120),
        "conv2 W·cols": (lambda: be.gemm(w2, cols), lambda: cupy.matmul(w2, cols),
                         2 * N * 16 * 150 * 64),
        "conv1 dW split-K": (lambda: be.gemm_batch_sum(g1, cols1, trans_b=True),
                             lambda: cupy.matmul(g1, cols1.transpose(0, 2, 1)).sum(0),
                             2 * N * 6 * 25 * 576),
    }
    return cases


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    ap.add_argument("--quick", action="store_true", help="CPU only, few repeats")
    ap.add_argument("--repeats", type=int)
    ap.add_argument("--out", default="bench-out")
    args = ap.parse_args(argv)
    if args.quick:
        args.device = "cpu"
    tune_malloc()             # for both frameworks alike: they share this process
    torch = torch_or_none()
    configs = []
    if args.device in ("cpu", "all"):
        configs += ["minigrad numpy"] + (["pytorch cpu"] if torch else [])
    if args.device in ("cuda", "all"):
        if minigrad.cuda.is_available():
            configs.append("minigrad cuda")
        else:
            print(f"minigrad cuda: skipped ({minigrad.cuda.unavailable_reason()})")
        if torch and torch.cuda.is_available():
            configs.append("pytorch cuda")
    if not configs:
        sys.exit("nothing to benchmark on this machine for --device " + args.device)
    repeats, calls = (args.repeats or (3 if args.quick else 11)), (3 if args.quick else 10)
    info = machine()
    print(f"# LeNet layers, batch {N}, microseconds per call (median of {repeats} samples of "
          f"{calls} calls)\n{machine_line(info)}\n")

    results, rows = {}, []
    for name, spec in LAYERS.items():
        fwd, bwd = layer_entries(name, spec, configs, torch)
        tf, tb = interleaved(fwd, repeats, calls), interleaved(bwd, repeats, calls)
        flops = spec[4]
        nbytes = sum(4 * int(np.prod(s)) for s in spec[0] if s != "target") * 2
        results[name] = {c: {"forward": tf[c], "backward": tb[c]} for c in configs}
        row = [name]
        for c in configs:
            f_us, b_us = tf[c]["median"] * 1e6, tb[c]["median"] * 1e6
            rate = (f"{flops / tf[c]['median'] / 1e9:.0f} GF/s" if flops
                    else f"{nbytes / tf[c]['median'] / 1e9:.1f} GB/s")
            results[name][c]["forward_rate"] = rate
            row.append(f"{f_us:,.0f} / {b_us:,.0f} ({rate})")
        rows.append(row)
    adam, n_params = adam_entries(configs, torch)
    ta = interleaved(adam, repeats, calls)
    results["adam"] = {c: {"step": ta[c]} for c in configs}
    rows.append([f"adam ({n_params:,} params)"] +
                [f"{ta[c]['median'] * 1e6:,.0f} ({7 * 4 * n_params / ta[c]['median'] / 1e9:.1f}"
                 " GB/s)" for c in configs])
    table = markdown(["layer: forward / backward µs"] + configs, rows)
    print(table)

    gemm_table = None
    if "minigrad cuda" in configs:
        cases = gemm_entries()
        timer = Timer("cupy")
        entries = {}
        for case, (ours, cublas, _) in cases.items():
            entries[f"{case}|ours"] = (ours, timer)
            entries[f"{case}|cublas"] = (cublas, timer)
        tg = interleaved(entries, repeats, calls)
        grows = []
        for case, (_, _, flops) in cases.items():
            o, c = tg[f"{case}|ours"]["median"], tg[f"{case}|cublas"]["median"]
            grows.append([case, f"{o * 1e6:,.1f}", f"{flops / o / 1e9:.0f}", f"{c * 1e6:,.1f}",
                          f"{flops / c / 1e9:.0f}", f"{o / c:.2f}×"])
            results[f"gemm {case}"] = {"ours": tg[f"{case}|ours"], "cublas": tg[f"{case}|cublas"]}
        gemm_table = markdown(["GEMM", "ours µs", "ours GF/s", "cuBLAS µs", "cuBLAS GF/s",
                               "ours ÷ cuBLAS"], grows)
        print("\n" + gemm_table)

    out = Path(args.out)
    write_json(out / "bench_ops.json", {"machine": info, "batch": N, "quick": args.quick,
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
