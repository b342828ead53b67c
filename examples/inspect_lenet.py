"""Look inside a trained LeNet: its filters, and what each layer makes of a few test images.

    python examples/inspect_lenet.py runs/lenet-<time>/checkpoint.npz --out inspect/

writes two pictures into --out:

- ``filters.png``: conv1's six 5×5 kernels, and conv2's sixteen-by-six (each of the sixteen
  output channels has one 5×5 kernel per input channel). Blue is negative, red positive, and
  white zero. All the kernels of a layer share one colour scale, shown by its colour bar, so
  a pale kernel really has small weights (a kernel scaled on its own would look as strong
  as any other).
- ``feature_maps.png``: for each of a few test images, the input, the six maps after conv1 +
  sigmoid and after pooling, the sixteen after conv2 + sigmoid and after pooling, and the
  ten class probabilities, with the true label and the prediction. Every map has the
  sigmoid's range, 0 to 1, as its scale (the colour bar): a map all yellow or all dark is
  saturated.

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


def signed_scale(weights):
    """The one colour scale of a layer's kernels: symmetric about 0, from −b to b, with b
    the largest |weight| of the layer (1 for an all-zero layer)."""
    bound = float(np.abs(weights).max())
    return (-bound, bound) if bound > 0 else (-1.0, 1.0)


def draw_filters(net, path, plt):
    w1, w2 = net[0].weight.detach().numpy(), net[3].weight.detach().numpy()
    s1, s2 = signed_scale(w1), signed_scale(w2)
    fig = plt.figure(figsize=(7.2, 11))
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.6, 10])
    top.suptitle("conv1: six 5×5 kernels over the image (blue < 0 < red, one scale)",
                 fontsize=10)
    axes = top.subplots(1, 6)
    for k, ax in enumerate(axes):
        shown = _image(ax, w1[k, 0], scale=s1, title=f"kernel {k}")
    top.subplots_adjust(top=0.72, bottom=0.05, right=0.88)
    top.colorbar(shown, cax=top.add_axes([0.9, 0.08, 0.015, 0.6]), label="weight")
    bottom.suptitle("conv2: for each of 16 outputs, one kernel per conv1 map (one scale)",
                    fontsize=10)
    axes = bottom.subplots(16, 7, gridspec_kw={"width_ratios": [1.6] + [1] * 6})
    for o in range(16):
        axes[o, 0].axis("off")
        axes[o, 0].text(1.0, 0.5, f"output {o}", ha="right", va="center", fontsize=7)
        for c in range(6):
            shown = _image(axes[o, c + 1], w2[o, c], scale=s2,
                           title=f"map {c}" if o == 0 else None)
    bottom.subplots_adjust(top=0.93, bottom=0.01, right=0.88)
    bottom.colorbar(shown, cax=bottom.add_axes([0.9, 0.3, 0.015, 0.4]), label="weight")
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
                shown = _image(sub.add_subplot(grid[row, c + 1]), maps[c], scale=(0, 1),
                               title=name if c == 0 else None)
        sub.colorbar(shown, cax=sub.add_axes([0.915, 0.35, 0.008, 0.5]),
                     label="sigmoid output")
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


def _image(ax, values, scale=None, title=None):
    """Draw ``values``: in grey on its own range when ``scale`` is None (an input image);
    else on the fixed (low, high) scale — blue-white-red when it is signed (weights),
    viridis otherwise (activations). Returns the image, for a colour bar."""
    if scale is None:
        shown = ax.imshow(values, cmap="gray")
    else:
        shown = ax.imshow(values, cmap="bwr" if scale[0] < 0 else "viridis",
                          vmin=scale[0], vmax=scale[1])
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=7, loc="left")
    return shown


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
