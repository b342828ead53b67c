"""Train LeNet-5 (sigmoid, max-pool) on Fashion-MNIST with Adam: minigrad's main job.
The network is ``lenet()`` below; the tests and benchmarks import it from here.

    python examples/lenet_fashion.py                 # GPU if usable, else CPU; 5 epochs
    python examples/lenet_fashion.py --device cpu --epochs 1
    python examples/lenet_fashion.py --resume runs/lenet-20261128-101500/checkpoint.npz

Prints one line per epoch and writes metrics.csv, metrics.json, curves.png and a checkpoint
(model and optimizer) into --out after every epoch. The same seed gives the same numbers,
and a resumed run gives the numbers of an uninterrupted one.
"""
import argparse
import csv
import json
import sys
import time
from pathlib import Path

import minigrad
from minigrad import nn
from minigrad.data import DataLoader, FashionMNIST


def lenet(nn=nn):
    """LeNet-5 with sigmoids and max-pooling on 28×28 images, without padding (so the second
    stage ends in 16 maps of 4×4). ``nn`` is the layer library: minigrad's by default;
    ``lenet(torch.nn)`` builds the same network, with the same parameter names, in PyTorch."""
    return nn.Sequential(                                         # shapes for a batch of N:
        nn.Conv2d(1, 6, kernel_size=5), nn.Sigmoid(),             # (N, 1, 28, 28) -> (N, 6, 24, 24)
        nn.MaxPool2d(kernel_size=2, stride=2),                    # -> (N, 6, 12, 12)
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),            # -> (N, 16, 8, 8)
        nn.MaxPool2d(kernel_size=2, stride=2),                    # -> (N, 16, 4, 4)
        nn.Flatten(),                                             # -> (N, 256)
        nn.Linear(16 * 4 * 4, 120), nn.Sigmoid(),                 # -> (N, 120)
        nn.Linear(120, 84), nn.Sigmoid(),                         # -> (N, 84)
        nn.Linear(84, 10))                                        # -> (N, 10) class scores


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                    help="auto: the GPU when one is usable (default)")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", metavar="DIR", help="folder with the four Fashion-MNIST files")
    ap.add_argument("--out", metavar="DIR", help="default runs/lenet-<timestamp>")
    ap.add_argument("--resume", metavar="CHECKPOINT", help="continue from a checkpoint.npz")
    ap.add_argument("--train-subset", type=int, metavar="N", help="use the first N training "
                    "images only (quick runs)")
    ap.add_argument("--test-subset", type=int, metavar="N", help="use the first N test images")
    return ap.parse_args(argv)


def pick_device(choice):
    if choice == "cpu":
        return "cpu", "as asked"
    if minigrad.cuda.is_available():
        return "cuda", minigrad.cuda.device_name()
    if choice == "cuda":
        sys.exit(f"--device cuda: {minigrad.cuda.unavailable_reason()}")
    return "cpu", f"no usable GPU: {minigrad.cuda.unavailable_reason()}"


def evaluate_accuracy(net, data_iter):
    net.eval()
    correct, total = 0, 0
    with minigrad.no_grad():
        for X, y in data_iter:
            correct = correct + (net(X).argmax(dim=1) == y).sum()
            total += y.shape[0]
    net.train()
    return float(correct.item()) / total


def progress(iterable, desc):
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, desc=desc, leave=False, disable=not sys.stderr.isatty())


def train_epoch(net, loss_fn, optimizer, train_iter, desc):
    """One pass over the training data. Loss and accuracy stay on the device until the end
    of the epoch, so the GPU is never made to wait for the host inside the loop."""
    loss_sum, correct, seen, batches = 0, 0, 0, 0
    for X, y in progress(train_iter, desc):
        optimizer.zero_grad()
        y_hat = net(X)
        loss = loss_fn(y_hat, y)
        loss.backward()
        optimizer.step()
        loss_sum = loss_sum + loss.detach()
        correct = correct + (y_hat.detach().argmax(dim=1) == y).sum()
        seen += y.shape[0]
        batches += 1
    return loss_sum.item() / batches, correct.item() / seen


def write_outputs(out, history, net, optimizer, args):
    fields = ["epoch", "loss", "train_acc", "test_acc", "seconds"]
    with open(out / "metrics.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fields)
        w.writeheader()
        w.writerows(history)
    (out / "metrics.json").write_text(json.dumps(history, indent=2) + "\n")
    minigrad.save({"model": net.state_dict(), "optimizer": optimizer.state_dict(),
                   "epoch": history[-1]["epoch"], "history": history,
                   "config": {"seed": args.seed, "lr": args.lr, "batch_size": args.batch_size,
                              "train_subset": args.train_subset,
                              "test_subset": args.test_subset}},
                  out / "checkpoint.npz")
    plot_curves(history, out / "curves.png")


def plot_curves(history, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no curves.png (pip install matplotlib)")
        return
    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, [h["loss"] for h in history], "o-", label="train loss")
    ax.plot(epochs, [h["train_acc"] for h in history], "s--", label="train acc")
    ax.plot(epochs, [h["test_acc"] for h in history], "^-.", label="test acc")
    ax.set_xlabel("epoch")
    ax.set_xticks(epochs)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("LeNet on Fashion-MNIST (minigrad)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    checkpoint = minigrad.load(args.resume) if args.resume else None
    if checkpoint is not None:     # the run's own settings, so the numbers carry on
        cfg = checkpoint["config"]
        args.seed, args.lr, args.batch_size = cfg["seed"], cfg["lr"], cfg["batch_size"]
        args.train_subset, args.test_subset = cfg["train_subset"], cfg["test_subset"]
    device, why = pick_device(args.device)
    print(f"device: {device} ({why})")

    minigrad.manual_seed(args.seed)
    train_set = FashionMNIST(args.data, train=True)
    test_set = FashionMNIST(args.data, train=False)
    if args.train_subset:
        train_set = train_set.subset(args.train_subset)
    if args.test_subset:
        test_set = test_set.subset(args.test_subset)
    train_iter = DataLoader(train_set, args.batch_size, shuffle=True, seed=args.seed,
                            device=device)
    test_iter = DataLoader(test_set, args.batch_size, device=device)

    net = lenet().to(device)
    optimizer = minigrad.optim.Adam(net.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    history, start = [], 0
    if checkpoint is not None:
        net.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        history, start = list(checkpoint["history"]), checkpoint["epoch"]
        print(f"resumed from {args.resume} after epoch {start}")
    out = Path(args.out) if args.out else (Path(args.resume).parent if args.resume else
                                           Path("runs") / time.strftime("lenet-%Y%m%d-%H%M%S"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"training on {len(train_set)} images, testing on {len(test_set)}; writing to {out}")

    for epoch in range(start + 1, args.epochs + 1):
        train_iter.set_epoch(epoch)
        t0 = time.perf_counter()
        loss, train_acc = train_epoch(net, loss_fn, optimizer, train_iter,
                                      f"epoch {epoch}/{args.epochs}")
        seconds = time.perf_counter() - t0
        test_acc = evaluate_accuracy(net, test_iter)
        history.append({"epoch": epoch, "loss": round(loss, 6), "train_acc": round(train_acc, 6),
                        "test_acc": round(test_acc, 6), "seconds": round(seconds, 3)})
        print(f"epoch {epoch}, loss {loss:.4f}, train acc {train_acc:.3f}, "
              f"test acc {test_acc:.3f}, time {seconds:.1f} sec", flush=True)
        write_outputs(out, history, net, optimizer, args)
    return history


if __name__ == "__main__":
    # Process-wide, so only a script that owns its process asks for them: keep NumPy's big
    # temporaries in the heap between steps, and run the CPU layers on every usable core
    # (see minigrad.backend.cpu.tune_malloc and set_num_threads; the results are the same).
    from minigrad.backend import cpu
    cpu.tune_malloc()
    cpu.set_num_threads()
    main()
