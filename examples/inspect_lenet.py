"""Look inside a trained LeNet: its filters, and what each layer makes of a few test images.

    python examples/inspect_lenet.py runs/lenet-<time>/checkpoint.npz --out inspect/

writes two pictures into --out:

- ``filters.png``: conv1's six 5×5 kernels, and conv2's sixteen-by-six (each of the sixteen
  output channels has one 5×5 kernel per input channel). Blue is negative, red positive.
- ``feature_maps.png``: for each of a few test images, the input, the six maps after conv1 +
  sigmoid and after pooling, the sixteen after conv2 + sigmoid and after pooling, and the
  ten class probabilities, with the true label and the prediction.

It needs matplotlib, and the checkpoint written by examples/lenet_fashion.py.
"""
import argparse
import sys
from pathlib import Path

import numpy as np

import minigrad
from minigrad.data.fashion_mnist import CLASSES, FashionMNIST

try:
    from lenet import lenet  # run as a script: examples/ is on sys.path
except ImportError:
    from examples.lenet import lenet  # imported from the repository root (tests)


def load_model(path):
    checkpoint = minigrad.load(path)
    if not isinstance(checkpoint, dict) or "model" not in checkpoint:
        raise ValueError(f"{path}: not a checkpoint of examples/lenet_fashion.py (no 'model')")
    net = lenet()
    net.load_state_dict(checkpoint["model"])
    return net.eval()


def activations(net, images):
    """[(layer name, output)] for every layer of the Sequential, for a batch of images."""
    x = minigrad.tensor(images[:, None].astype(np.float32) / 255)
    out = [("input", x)]
    with minigrad.no_grad():
        for layer in net:
            x = layer(x)
            out.append((type(layer).__name__, x))
    return out


def draw_filters(net, path, plt):
    w1, w2 = net[0].weight.detach().numpy(), net[3].weight.detach().numpy()
    fig = plt.figure(figsize=(6.5, 11))
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.6, 10])
    top.suptitle("conv1: six 5×5 kernels over the image (blue < 0 < red)", fontsize=10)
    for k, ax in enumerate(top.subplots(1, 6)):
        _image(ax, w1[k, 0], signed=True, title=f"kernel {k}")
    top.subplots_adjust(top=0.72, bottom=0.05)
    bottom.suptitle("conv2: for each of 16 outputs, one kernel per conv1 map", fontsize=10)
    axes = bottom.subplots(16, 7, gridspec_kw={"width_ratios": [1.6] + [1] * 6})
    for o in range(16):
        axes[o, 0].axis("off")
        axes[o, 0].text(1.0, 0.5, f"output {o}", ha="right", va="center", fontsize=7)
        for c in range(6):
            _image(axes[o, c + 1], w2[o, c], signed=True, title=f"map {c}" if o == 0 else None)
    bottom.subplots_adjust(top=0.93, bottom=0.01)
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)


def draw_feature_maps(net, images, labels, path, plt):
    acts = activations(net, images)
    probs = np.exp(minigrad.nn.functional.log_softmax(acts[-1][1], dim=1).numpy())
    stages = [(2, "conv1 + sigmoid"), (3, "max-pool"), (5, "conv2 + sigmoid"), (6, "max-pool")]
    fig = plt.figure(figsize=(12, 4.2 * len(images)))
    rows = fig.subfigures(len(images), 1)
    for i, sub in enumerate(np.atleast_1d(rows)):
        grid = sub.add_gridspec(5, 17, height_ratios=[1, 1, 1, 1, 1.3], hspace=0.35)
        _image(sub.add_subplot(grid[0:2, 0]), acts[0][1].numpy()[i, 0], title="input")
        for row, (layer, name) in enumerate(stages):
            maps = acts[layer][1].numpy()[i]
            for c in range(maps.shape[0]):
                _image(sub.add_subplot(grid[row, c + 1]), maps[c], vmin=0, vmax=1,
                       title=name if c == 0 else None)
        bars = sub.add_subplot(grid[4, 1:])
        bars.bar(range(10), probs[i], color=["C2" if k == labels[i] else "C0" for k in
                                             range(10)])
        bars.set_xticks(range(10), CLASSES, fontsize=7)
        bars.set_ylim(0, 1)
        guess = int(probs[i].argmax())
        sub.suptitle(f"label: {CLASSES[labels[i]]} · predicted: {CLASSES[guess]} "
                     f"({probs[i, guess]:.0%})", fontsize=10)
    fig.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(fig)


def _image(ax, values, signed=False, title=None, vmin=None, vmax=None):
    if signed:
        bound = float(np.abs(values).max()) or 1.0
        ax.imshow(values, cmap="bwr", vmin=-bound, vmax=bound)
    else:
        ax.imshow(values, cmap="gray" if vmin is None else "viridis", vmin=vmin, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=7, loc="left")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint", help="checkpoint.npz written by examples/lenet_fashion.py")
    ap.add_argument("--out", default="inspect", help="folder for the two pictures")
    ap.add_argument("--images", type=int, default=3, help="how many test images to show")
    ap.add_argument("--data", metavar="DIR", help="folder with the Fashion-MNIST files")
    args = ap.parse_args(argv)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("error: inspect_lenet.py needs matplotlib (pip install matplotlib)")
    try:
        net = load_model(args.checkpoint)
    except (OSError, ValueError, RuntimeError) as e:
        sys.exit(f"error: {e}")
    test = FashionMNIST(args.data, train=False)
    images, labels = test.images[:args.images], test.labels[:args.images]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    draw_filters(net, out / "filters.png", plt)
    draw_feature_maps(net, images, labels, out / "feature_maps.png", plt)
    print(f"wrote {out / 'filters.png'} and {out / 'feature_maps.png'}")


if __name__ == "__main__":
    main()
