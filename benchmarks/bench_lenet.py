"""LeNet training speed: one step (batch 256: forward, backward, Adam) and one epoch of
Fashion-MNIST, side by side in one run, for every configuration this machine has:

    minigrad numpy · pytorch cpu · minigrad cuda · pytorch cuda eager ·
    pytorch cuda graph (the whole step captured once and replayed)

Same model, batch and data (already on the device); warm-up outside the timings; GPU
times from CUDA events; repeats taken in turns; medians with their spread.

    python -m benchmarks.bench_lenet --device cpu --quick     # < 1 minute
    python -m benchmarks.bench_lenet --device all --out bench-out

(run from the repository root: the model is examples/lenet_fashion.py's ``lenet``).
"""
import argparse
import sys
from pathlib import Path

import numpy as np

import minigrad
from benchmarks.common import (
    Timer,
    bar_chart,
    interleaved,
    machine,
    machine_line,
    markdown,
    summary,
    torch_or_none,
    write_json,
)
from examples.lenet_fashion import lenet
from minigrad import nn
from minigrad.backend.cpu import tune_malloc

BATCH = 256


def load_images():
    """Fashion-MNIST's training images as float32 in [0, 1], or random ones of the same size
    when the data is not on this machine (the timings do not depend on the values)."""
    from minigrad.data import fashion_mnist as fm
    if fm.find() is not None:
        ds = fm.FashionMNIST(download=False)
        return ds.images[:, None].astype(np.float32) / 255, ds.labels, "Fashion-MNIST"
    g = np.random.default_rng(0)
    return (g.random((60000, 1, 28, 28), dtype=np.float32), g.integers(0, 10, 60000),
            "random images (Fashion-MNIST not found)")


def minigrad_config(device, images, labels):
    """(step(batch_index), to_index, Timer) for minigrad on ``device``: the data is moved
    there once, and ``to_index`` puts a NumPy array of batch indices there too."""
    xp = minigrad.device(device).array_module
    X, Y = xp.asarray(images), xp.asarray(labels)
    minigrad.manual_seed(0)
    net = lenet().to(device)
    opt = minigrad.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step(idx):
        x, y = minigrad.as_tensor(X[idx]), minigrad.as_tensor(Y[idx])
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()
    return step, xp.asarray, Timer("cpu" if device == "cpu" else "cupy")


def torch_config(torch, device, images, labels, graph=False):
    X = torch.tensor(images, device=device)
    Y = torch.tensor(labels, device=device)
    torch.manual_seed(0)
    net = lenet(torch.nn).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, capturable=graph)
    loss_fn = torch.nn.CrossEntropyLoss()

    def eager(idx):
        x, y = X[idx], Y[idx]
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()
    to_index = lambda idx: torch.as_tensor(idx, device=device)
    if not graph:
        return eager, to_index, Timer("cpu" if device == "cpu" else "torch")

    # Capture one whole step (forward, backward, Adam) and replay it for every batch.
    static_x, static_y = X[:BATCH].clone(), Y[:BATCH].clone()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            opt.zero_grad(set_to_none=True)
            loss_fn(net(static_x), static_y).backward()
            opt.step()
    torch.cuda.current_stream().wait_stream(side)
    graph_ = torch.cuda.CUDAGraph()
    opt.zero_grad(set_to_none=True)
    with torch.cuda.graph(graph_):
        loss_fn(net(static_x), static_y).backward()
        opt.step()

    def replay(idx):
        static_x.copy_(X[idx])
        static_y.copy_(Y[idx])
        graph_.replay()
    return replay, to_index, Timer("torch")


def configurations(which, images, labels):
    torch = torch_or_none()
    configs = {}
    if which in ("cpu", "all"):
        configs["minigrad numpy"] = minigrad_config("cpu", images, labels)
        if torch:
            configs["pytorch cpu"] = torch_config(torch, "cpu", images, labels)
    if which in ("cuda", "all"):
        if minigrad.cuda.is_available():
            configs["minigrad cuda"] = minigrad_config("cuda", images, labels)
        else:
            print(f"minigrad cuda: skipped ({minigrad.cuda.unavailable_reason()})")
        if torch and torch.cuda.is_available():
            configs["pytorch cuda eager"] = torch_config(torch, "cuda", images, labels)
            configs["pytorch cuda graph"] = torch_config(torch, "cuda", images, labels, True)
        elif which == "cuda":
            print("pytorch cuda: skipped (no CUDA build of PyTorch or no GPU)")
    if not configs:
        sys.exit("nothing to benchmark on this machine for --device " + which)
    return configs


def bind(fn, *args):
    return lambda: fn(*args)


def run_all(step, batches):
    for b in batches:
        step(b)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    ap.add_argument("--quick", action="store_true",
                    help="CPU only, few repeats, epoch time estimated from the step time")
    ap.add_argument("--repeats", type=int, help="timed samples per configuration")
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs (full mode)")
    ap.add_argument("--out", default="bench-out", help="folder for the JSON and PNG")
    args = ap.parse_args(argv)
    if args.quick:
        args.device = "cpu"
    tune_malloc()             # for both frameworks alike: they share this process
    images, labels, source = load_images()
    info = machine()
    print(f"# LeNet training, batch {BATCH}, Adam — {source}\n{machine_line(info)}\n")

    configs = configurations(args.device, images, labels)
    n = len(labels)
    steps_per_epoch = n // BATCH               # the last partial batch is dropped for all
    calls = 5 if args.quick else 20
    repeats = args.repeats or (5 if args.quick else 15)
    first_batch = np.arange(BATCH)
    steps = {name: (bind(step, to_index(first_batch)), timer)
             for name, (step, to_index, timer) in configs.items()}
    step_times = interleaved(steps, repeats, calls)

    epoch_times = {}
    if not args.quick:
        orders = [np.random.default_rng(e).permutation(n) for e in range(args.epochs)]
        samples = {name: [] for name in configs}
        for e in range(args.epochs):
            for name, (step, to_index, timer) in configs.items():
                order = to_index(orders[e])
                batches = [order[i * BATCH:(i + 1) * BATCH] for i in range(steps_per_epoch)]
                timer.sync()
                samples[name].append(timer.seconds(bind(run_all, step, batches)))
        epoch_times = {name: summary(s) for name, s in samples.items()}

    rows, results = [], {}
    for name in configs:
        dev = "cuda" if "cuda" in name else "cpu"
        base = "pytorch cuda eager" if dev == "cuda" else "pytorch cpu"
        ms = step_times[name]["median"] * 1e3
        epoch = epoch_times[name]["median"] if epoch_times else ms / 1e3 * steps_per_epoch
        ratio = (step_times[name]["median"] / step_times[base]["median"]
                 if base in step_times and name.startswith("minigrad") else None)
        results[name] = {"step_seconds": step_times[name],
                         "epoch_seconds": epoch_times.get(name),
                         "epoch_seconds_estimated": None if epoch_times else epoch,
                         "images_per_second": BATCH / step_times[name]["median"],
                         "ratio_to_pytorch_same_device": ratio}
        spread = f"{step_times[name]['min'] * 1e3:.2f}–{step_times[name]['max'] * 1e3:.2f}"
        rows.append([name, f"{ms:.2f}", spread, f"{epoch:.2f}" + ("" if epoch_times else " est."),
                     f"{BATCH / step_times[name]['median']:,.0f}",
                     f"{ratio:.2f}×" if ratio else "—"])
    if "minigrad cuda" in step_times and "pytorch cuda graph" in step_times:
        results["minigrad_cuda_ratio_to_pytorch_cuda_graph"] = (
            step_times["minigrad cuda"]["median"] / step_times["pytorch cuda graph"]["median"])
    if "minigrad numpy" in step_times and "minigrad cuda" in step_times:
        speedup = step_times["minigrad numpy"]["median"] / step_times["minigrad cuda"]["median"]
        results["minigrad_gpu_speedup_over_cpu"] = speedup
    table = markdown(["configuration", "ms/step", "range", "s/epoch", "images/s",
                      "minigrad ÷ pytorch"], rows)
    print(table)
    print(f"\n{steps_per_epoch} steps per epoch; {repeats} samples of {calls} steps each"
          + ("" if args.quick else f"; {args.epochs} timed epochs"))
    if "minigrad_cuda_ratio_to_pytorch_cuda_graph" in results:
        print("minigrad cuda takes "
              f"{results['minigrad_cuda_ratio_to_pytorch_cuda_graph']:.2f}× the time of PyTorch's "
              "captured CUDA graph")
    if "minigrad_gpu_speedup_over_cpu" in results:
        print(f"minigrad GPU is {results['minigrad_gpu_speedup_over_cpu']:.1f}× its CPU speed")

    out = Path(args.out)
    write_json(out / "bench_lenet.json", {"machine": info, "data": source, "batch": BATCH,
                                          "quick": args.quick, "results": results,
                                          "table": table})
    bar_chart(out / "bench_lenet.png", list(configs),
              {"ms per step": [step_times[c]["median"] * 1e3 for c in configs]},
              f"LeNet training step, batch {BATCH}", "milliseconds (lower is better)")
    print(f"wrote {out / 'bench_lenet.json'} and {out / 'bench_lenet.png'}")
    return results


if __name__ == "__main__":
    main()
