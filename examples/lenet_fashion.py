"""Train LeNet-5 (sigmoid, max-pool) on Fashion-MNIST with Adam: minigrad's main job.
The network is ``lenet()`` of examples/lenet.py, which the tests and benchmarks import too.

    python examples/lenet_fashion.py                 # GPU if usable, else CPU; 5 epochs
    python examples/lenet_fashion.py --device cpu --epochs 1
    python examples/lenet_fashion.py --resume runs/lenet-20261128-101500/checkpoint.npz
    python examples/lenet_fashion.py --show-shapes   # each layer's output shape, then exit
    python examples/lenet_fashion.py --eager         # on the GPU, without CUDA graphs
    MINIGRAD_CPU=textbook python examples/lenet_fashion.py --device cpu --epochs 1

On the CPU, the environment variable MINIGRAD_CPU picks the form of the layers that runs:
``fast`` (the default: minigrad/backend/cpu/), ``textbook`` (plain NumPy that reads like the
math: minigrad/backend/textbook.py) or ``loops`` (one number at a time: only for a tiny
subset, it is very slow). The run's header says which.

On the GPU each training step is captured once as a CUDA graph and then replayed with one
launch per batch (``minigrad.cuda.graphed``; the smaller last batch gets a graph of its own);
``--eager`` runs every step op by op instead. Both give the same numbers.

Prints one line per epoch (ending in the mode that ran: eager or CUDA graph) and writes a
checkpoint (model and optimizer), metrics.csv, metrics.json and curves.png into the run
folder after every epoch. The same seed gives the same numbers, and a resumed run gives the
numbers of an uninterrupted one.

Nothing is ever half-written: each file is written to a temporary file in the same folder,
flushed to disk and renamed over the old one — the checkpoint first, the metrics after — so
a Ctrl-C, a full disk or a crash leaves the files of the last completed epoch. A run folder
is never shared: the default one is new, an existing run folder given with --out is
refused unless --overwrite (or --resume from it), and a folder another run is writing to is
refused even then (a lock file, run.lock, holds the running process's id while it runs; one
left by a process that died is taken over). Every expected failure (bad arguments,
missing data, an unreadable checkpoint, an unwritable folder) prints one line, "error: ...",
and exits with status 2.
"""
import argparse
import csv
import io
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import minigrad
from minigrad import debug, nn
from minigrad.backend import cpu_form
from minigrad.data import ArrayLoader, FashionMNIST
from minigrad.data.fashion_mnist import ChecksumError, DataNotFoundError
from minigrad.data.idx import IDXError
from minigrad.serialization import CheckpointError, atomic_write

try:
    from lenet import lenet  # run as a script: examples/ is on sys.path
except ImportError:
    from examples.lenet import lenet  # imported from the repository root (tests, benchmarks)

# Settings a checkpoint fixes (a resumed run keeps them, so its numbers carry on) and their
# defaults; the command line's value is None when it was not given.
SETTINGS = {"seed": 0, "lr": 1e-3, "batch_size": 256, "train_subset": None, "test_subset": None}
CHECKPOINT_KEYS = ("model", "optimizer", "epoch", "history", "config")
RUN_FILES = ("checkpoint.npz", "metrics.csv", "metrics.json", "curves.png")
LOCK_FILE = "run.lock"      # in the run folder while a run writes there: the run's pid


class RunError(Exception):
    """An expected failure: reported as one line, "error: <message>", exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):                    # one line, and our exit status
        raise RunError(f"{message} (see --help)")


def _number(kind, minimum, what):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not (value >= minimum and math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value
    return parse


def parse_args(argv=None):
    ap = _Parser(description=__doc__.split("\n")[0])
    positive, count = _number(int, 1, "a positive integer"), _number(int, 0, "an integer ≥ 0")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                    help="auto: the GPU when one is usable (default)")
    ap.add_argument("--epochs", type=positive, default=5)
    ap.add_argument("--batch-size", type=positive, help="default 256")
    ap.add_argument("--lr", type=_number(float, 0.0, "a learning rate ≥ 0"), help="default 1e-3")
    ap.add_argument("--seed", type=count, help="default 0")
    ap.add_argument("--data", metavar="DIR", help="the folder with the four Fashion-MNIST files "
                    "(used as given; default: look in the usual places, else download)")
    ap.add_argument("--out", metavar="DIR", help="the run folder (default: a new "
                    "runs/lenet-<timestamp>)")
    ap.add_argument("--overwrite", action="store_true", help="allow --out to be an existing "
                    "run folder, replacing its files")
    ap.add_argument("--resume", metavar="CHECKPOINT", help="continue from a checkpoint.npz")
    ap.add_argument("--train-subset", type=positive, metavar="N", help="use the first N "
                    "training images only (quick runs)")
    ap.add_argument("--test-subset", type=positive, metavar="N",
                    help="use the first N test images")
    ap.add_argument("--show-shapes", action="store_true", help="print each layer's output "
                    "shape for one batch and exit (no data needed)")
    ap.add_argument("--log-interval", type=positive, metavar="N", help="print the running "
                    "loss every N batches (for logs without a terminal)")
    ap.add_argument("--eager", action="store_true", help="on the GPU, run each training "
                    "step op by op instead of replaying it as a CUDA graph")
    return ap.parse_args(argv)


def pick_device(choice):
    if choice == "cpu":
        return "cpu", "as asked"
    if minigrad.cuda.is_available():
        return "cuda", minigrad.cuda.device_name()
    if choice == "cuda":
        raise RunError(f"--device cuda: {minigrad.cuda.unavailable_reason()}")
    return "cpu", f"no usable GPU: {minigrad.cuda.unavailable_reason()}"


def load_checkpoint(path):
    """This example's checkpoint at ``path``, checked to be one."""
    try:
        checkpoint = minigrad.load(path)
    except FileNotFoundError:
        raise RunError(f"--resume {path}: no such file") from None
    except (CheckpointError, OSError) as e:
        raise RunError(f"--resume {path}: {e}") from None
    if not isinstance(checkpoint, dict) or not all(k in checkpoint for k in CHECKPOINT_KEYS):
        has = sorted(map(str, checkpoint)) if isinstance(checkpoint, dict) else \
            type(checkpoint).__name__
        raise RunError(f"--resume {path}: a minigrad file, but not a checkpoint of this "
                       f"example (it holds {has}; expected {list(CHECKPOINT_KEYS)}); a bare "
                       "state_dict loads with model.load_state_dict(minigrad.load(path))")
    config = checkpoint["config"]
    if not isinstance(config, dict) or not all(k in config for k in SETTINGS):
        raise RunError(f"--resume {path}: its config lacks some of {list(SETTINGS)}")
    return checkpoint


def resolve_settings(args, checkpoint):
    """Fill in the settings: the checkpoint's when resuming (saying so where the command
    line asked for another value), else the command line's or the defaults."""
    for name, default in SETTINGS.items():
        given = getattr(args, name)
        if checkpoint is None:
            setattr(args, name, default if given is None else given)
            continue
        kept = checkpoint["config"][name]
        if given is not None and given != kept:
            flag = "--" + name.replace("_", "-")
            print(f"resume: keeping {name}={kept} from the checkpoint, not {flag} {given}")
        setattr(args, name, kept)


def run_folder(args):
    """The folder this run writes to, created, locked for this run (release it with
    unlock_run_folder) and checked to be ours to write."""
    if args.out is None and args.resume:
        out = Path(args.resume).parent                # a resumed run continues its folder
        lock_run_folder(out)
        return out
    if args.out is None:                               # a new folder, never one in use
        stamp = Path("runs") / time.strftime("lenet-%Y%m%d-%H%M%S")
        for i in range(1, 1000):
            out = stamp if i == 1 else stamp.with_name(f"{stamp.name}-{i}")
            try:
                out.mkdir(parents=True)
            except FileExistsError:
                continue
            except OSError as e:
                raise RunError(f"cannot create the run folder {out}: {e.strerror or e}") \
                    from None
            lock_run_folder(out)
            return out
        raise RunError(f"cannot find a free run folder name next to {stamp}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise RunError(f"--out {out} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunError(f"cannot create the run folder {out}: {e.strerror or e}") from None
    lock_run_folder(out)                # first: a run still writing has no files yet
    resuming_here = args.resume and out.resolve() == Path(args.resume).resolve().parent
    used = [f for f in RUN_FILES if (out / f).exists()]
    if used and not (args.overwrite or resuming_here):
        unlock_run_folder(out)
        raise RunError(f"--out {out} already holds a run ({', '.join(used)}); pass "
                       "--overwrite to replace it, --resume to continue it, or another --out")
    return out


def lock_run_folder(out):
    """Create ``out/run.lock`` holding this process's id, atomically (O_CREAT | O_EXCL: of
    two runs only one can create it). A lock whose process is alive is an error naming it;
    one whose process has died (a killed run) is taken over, with a message."""
    lock = out / LOCK_FILE
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            owner = lock_owner(lock)
            if owner is None:
                continue                               # released meanwhile: try again
            if owner == "unknown" or process_alive(owner):
                raise RunError(f"--out {out} is in use by another run (process {owner}, "
                               f"lock file {lock}); wait for it to finish or pick another "
                               "--out") from None
            print(f"taking over the lock file {lock} of process {owner}, which is no longer "
                  "running")
            if lock_owner(lock) == owner:             # not taken over by someone else since
                lock.unlink(missing_ok=True)
            continue
        except OSError as e:
            raise RunError(f"cannot write to the run folder {out}: {e.strerror or e}") from None
        with os.fdopen(fd, "w") as f:
            f.write(f"{os.getpid()}\n")
        return
    raise RunError(f"--out {out}: could not take the lock file {lock}; another run keeps "
                   "taking it")


def lock_owner(lock):
    """The pid in a lock file; None when the file is gone; "unknown" when it holds no pid
    yet and is young (its run is between creating and writing it)."""
    try:
        text = lock.read_text().strip()
        age = time.time() - lock.stat().st_mtime
    except FileNotFoundError:
        return None
    if text.isdigit():
        return int(text)
    return "unknown" if age < 10 else 0                # pid 0: no live process, stale


def process_alive(pid):
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)                                # signal 0: only asks if it exists
    except ProcessLookupError:
        return False
    except PermissionError:                            # alive, another user's
        return True
    return True


def unlock_run_folder(out):
    """Remove this run's lock file (only if it is still this process's)."""
    lock = out / LOCK_FILE
    if lock_owner(lock) == os.getpid():
        lock.unlink(missing_ok=True)


def check_writable(out, nbytes):
    """Write and remove a file as large as a checkpoint, so that a read-only or full folder
    is an error now rather than after an epoch of training."""
    try:
        with tempfile.TemporaryFile(dir=out) as f:
            chunk = bytes(1 << 20)
            for start in range(0, nbytes, len(chunk)):
                f.write(chunk[:nbytes - start])
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise RunError(f"cannot write to the run folder {out}: {e.strerror or e}") from None


def load_data(args):
    try:
        train_set = FashionMNIST(args.data, train=True, download=args.data is None)
        test_set = FashionMNIST(args.data, train=False, download=args.data is None)
    except (DataNotFoundError, ChecksumError, IDXError) as e:
        raise RunError(str(e)) from None
    for name, size, dataset in [("train", args.train_subset, train_set),
                                ("test", args.test_subset, test_set)]:
        if size is not None and size > len(dataset):
            raise RunError(f"--{name}-subset {size} is larger than the {name} set "
                           f"({len(dataset)} images)")
    print(f"data: {train_set.root}")
    if args.train_subset:
        train_set = train_set.subset(args.train_subset)
    if args.test_subset:
        test_set = test_set.subset(args.test_subset)
    return train_set, test_set


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


def show_shapes(args):
    """The shape walk: one batch of random images through each layer, its output shape."""
    device, _ = pick_device(args.device)
    net = lenet().to(device)
    X = minigrad.rand(args.batch_size or SETTINGS["batch_size"], 1, 28, 28, device=device)
    print(f"{'input':<10} shape: {tuple(X.shape)}")
    with minigrad.no_grad():
        for layer in net:
            X = layer(X)
            print(f"{type(layer).__name__:<10} output shape: {tuple(X.shape)}")


def training_step(net, loss_fn, optimizer, stats):
    """One Adam step on a batch, its loss and accuracy added to ``stats`` on the device.
    Nothing in it waits for the GPU or copies to the host, so on the GPU it can be captured
    as a CUDA graph and replayed (see ``minigrad.cuda.graphed``)."""
    def step(X, y):
        optimizer.zero_grad()
        loss = loss_fn(net(X), y, stats=stats.totals)
        loss.backward()
        optimizer.step()
    return step


def train_epoch(step, stats, train_iter, desc, log_interval=None):
    """One pass over the training data. Loss and accuracy stay on the device until the end
    of the epoch, so the GPU is never made to wait for the host inside the loop (except
    every ``log_interval`` batches, to print the running loss, when asked): returns the
    mean of the batch losses and the accuracy."""
    stats.reset()
    for batch, (X, y) in enumerate(progress(train_iter, desc), 1):
        step(X, y)
        if log_interval and batch % log_interval == 0:
            print(f"  batch {batch}, running loss {stats.read()['loss']:.4f}", flush=True)
    totals = stats.read()
    return totals["loss"], totals["accuracy"]


def write_outputs(out, history, net, optimizer, args):
    """Every file of the run, each atomically: the checkpoint first, then the metrics (so
    the metrics never claim an epoch that the checkpoint does not hold)."""
    epoch = history[-1]["epoch"]
    minigrad.save({"model": net.state_dict(), "optimizer": optimizer.state_dict(),
                   "epoch": epoch, "history": history,
                   "config": {name: getattr(args, name) for name in SETTINGS}},
                  out / "checkpoint.npz")
    fields = ["epoch", "loss", "train_acc", "test_acc", "seconds"]
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, fields)
    writer.writeheader()
    writer.writerows(history)
    atomic_write(out / "metrics.csv", lambda f: f.write(table.getvalue().encode()))
    text = json.dumps(history, indent=2) + "\n"
    atomic_write(out / "metrics.json", lambda f: f.write(text.encode()))
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
    atomic_write(path, lambda f: fig.savefig(f, dpi=100, format="png"))
    plt.close(fig)


def main(argv=None):
    """Run the example; an expected failure is one line on stderr and SystemExit(2), a
    Ctrl-C is SystemExit(130) with the last epoch's files intact."""
    try:
        args = parse_args(argv)
        return show_shapes(args) if args.show_shapes else train(args)
    except RunError as e:
        print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print("interrupted: the run folder holds the files of the last completed epoch",
              file=sys.stderr)
        raise SystemExit(130) from None


def train(args):
    checkpoint = load_checkpoint(args.resume) if args.resume else None
    resolve_settings(args, checkpoint)
    device, why = pick_device(args.device)
    try:
        form = f", CPU form {cpu_form()}" if device == "cpu" else ""
    except ValueError as e:                 # a MINIGRAD_CPU that names no form
        raise RunError(str(e)) from None
    print(f"device: {device} ({why}){form}")
    out = run_folder(args)
    try:
        return train_in(out, args, checkpoint, device)
    finally:
        unlock_run_folder(out)


def train_in(out, args, checkpoint, device):
    """Train and evaluate, writing the outputs of each epoch to the (locked) folder ``out``."""
    minigrad.manual_seed(args.seed)
    train_set, test_set = load_data(args)
    train_iter = ArrayLoader(train_set, args.batch_size, shuffle=True, seed=args.seed,
                            device=device)
    test_iter = ArrayLoader(test_set, args.batch_size, device=device)

    net = lenet().to(device)
    optimizer = minigrad.optim.Adam(net.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    stats = nn.TrainingStats(device)
    step = training_step(net, loss_fn, optimizer, stats)
    # MINIGRAD_DEBUG's trace times each op, synchronising the GPU: that cannot be captured
    mode = ("eager" if device == "cpu" or args.eager or debug.ENABLED
            else "CUDA graph")
    if mode == "CUDA graph":
        step = minigrad.cuda.graphed(step)     # 3 eager steps, then capture and replays
    history, start = [], 0
    if checkpoint is not None:
        try:
            net.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
        except (RuntimeError, ValueError) as e:
            raise RunError(f"--resume {args.resume}: does not fit this model: {e}") from None
        history, start = list(checkpoint["history"]), checkpoint["epoch"]
        print(f"resumed from {args.resume} after epoch {start}")
    # the checkpoint holds the model and Adam's two moments: about 3 copies of the weights
    check_writable(out, 3 * sum(p.numel() * p.dtype.itemsize for p in net.parameters()))
    print(f"training on {len(train_set)} images, testing on {len(test_set)}; writing to {out}")

    for epoch in range(start + 1, args.epochs + 1):
        train_iter.set_epoch(epoch)
        t0 = time.perf_counter()
        loss, train_acc = train_epoch(step, stats, train_iter, f"epoch {epoch}/{args.epochs}",
                                      args.log_interval)
        seconds = time.perf_counter() - t0
        test_acc = evaluate_accuracy(net, test_iter)
        history.append({"epoch": epoch, "loss": round(loss, 6), "train_acc": round(train_acc, 6),
                        "test_acc": round(test_acc, 6), "seconds": round(seconds, 3)})
        print(f"epoch {epoch}, loss {loss:.4f}, train acc {train_acc:.3f}, "
              f"test acc {test_acc:.3f}, time {seconds:.1f} sec, "
              f"{len(train_set) / seconds:.0f} images/sec, {mode}", flush=True)
        try:
            write_outputs(out, history, net, optimizer, args)
        except OSError as e:
            kept = f"epoch {epoch - 1}'s files are intact" if epoch > 1 else "nothing was saved"
            raise RunError(f"could not write the outputs of epoch {epoch} to {out}: "
                           f"{e.strerror or e}; {kept}") from None
    return history


if __name__ == "__main__":
    main()
