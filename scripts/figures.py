"""Draw the pictures of docs/walkthrough.md and docs/why_075.md into docs/figures/.

    python scripts/figures.py                  # all of them, into docs/figures/
    python scripts/figures.py --out /tmp/f     # somewhere else (the test does this)
    python scripts/figures.py im2col maxpool   # only these
    python scripts/figures.py --stats runs/x/checkpoint.npz   # saturation numbers, no figure

Every array drawn is computed here by minigrad itself — the textbook im2col and col2im of
the CPU backend, max-pool's forward and backward through nn.functional and autograd, a
trained checkpoint's activations — never typed in. The output is deterministic: the Agg
backend, matplotlib's default style and bundled font, no date or software name in the PNG
files, fixed seeds. tests/test_figures.py regenerates everything into a temporary folder
and compares the pictures with the committed ones.

The figures:

- im2col.png    each 2×2 window of a 4×4 image, in its own colour, and the column of
                ``cols`` it becomes
- col2im.png    the backward: four windows' gradients added back into one pixel
- maxpool.png   max-pool's forward (the max of each window, and where it was) and its
                backward (each output's gradient goes to that one pixel)
- gemm_tile.png the tiled GEMM: one block of 16×16 threads over one tile of C, reading a
                row panel of A and a column panel of B, GEMM_TK columns at a time
- graph.png     minigrad.viz.dot of a one-neuron graph after backward (needs Graphviz's
                ``dot``; graph.dot, its text, is written in any case)
- saturation.png  every sigmoid layer's outputs on 512 test images, for a new LeNet and
                for the trained one, and how small σ' = y(1 − y) makes the gradient (needs
                the checkpoint docs/figures/lenet-sigmoid-5ep.npz and the Fashion-MNIST
                test set)
- feature_maps_trained.png  the same model's feature maps for one test image
"""
import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import minigrad as mg  # noqa: E402  (after the path is set)
from minigrad.backend import cpu  # noqa: E402
from minigrad.nn import functional as F  # noqa: E402

OUT = ROOT / "docs" / "figures"
CHECKPOINT = OUT / "lenet-sigmoid-5ep.npz"      # examples/lenet_fashion.py, 5 epochs
DPI = 100
PNG = {"Software": None}                        # no software name (and matplotlib writes no date)
# one colour per window / column (a qualitative palette, light enough for black text)
COLOURS = ["#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69",
           "#fccde5", "#d9d9d9"]


def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    matplotlib.rcdefaults()
    matplotlib.rcParams.update({"svg.hashsalt": "minigrad", "font.size": 10})
    return plt


def save(fig, path):
    import matplotlib.pyplot as plt
    fig.savefig(path, dpi=DPI, metadata=PNG)
    plt.close(fig)


# ---- drawing helpers ----------------------------------------------------------------------
def grid(ax, values, colours=None, fmt="{:g}", origin=(0, 0), title=None, edge="#999999"):
    """Draw a 2-D array as a table of numbers, cell (r, c) filled with colours[r][c] (a
    colour or None); row 0 at the top. The axes are in cell units."""
    import matplotlib.patches as patches
    rows, cols = values.shape
    x0, y0 = origin
    for r in range(rows):
        for c in range(cols):
            fill = colours[r][c] if colours is not None and colours[r][c] else "white"
            ax.add_patch(patches.Rectangle((x0 + c, y0 - r - 1), 1, 1, facecolor=fill,
                                           edgecolor=edge, linewidth=0.8))
            ax.text(x0 + c + 0.5, y0 - r - 0.5, fmt.format(values[r, c]), ha="center",
                    va="center", fontsize=10)
    if title:
        ax.text(x0, y0 + 0.3, title, ha="left", va="bottom", fontsize=10)


def outline(ax, row, col, h, w, colour, origin=(0, 0), inset=0.0, width=2.5):
    """A rectangle around cells [row, row + h) × [col, col + w) of a ``grid``."""
    import matplotlib.patches as patches
    x0, y0 = origin
    ax.add_patch(patches.Rectangle((x0 + col + inset, y0 - row - h + inset), w - 2 * inset,
                                   h - 2 * inset, fill=False, edgecolor=colour,
                                   linewidth=width))


def blank(ax, xlim, ylim):
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")


def darker(colour, f=0.55):
    import matplotlib.colors as mcolors
    return tuple(f * c for c in mcolors.to_rgb(colour))


# ---- the worked example of the walkthrough (step 5) ---------------------------------------
def example():
    """The walkthrough's example: the 4×4 image 0..15, the kernel [[1, 2], [3, 4]]."""
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    w = np.array([[[[1, 2], [3, 4]]]], dtype=np.float32)
    return x, w


def im2col_figure(plt, path):
    x, w = example()
    cols = cpu.im2col(x, 2, 2, 1, 0)[0]                      # (C·KH·KW, OH·OW) = (4, 9)
    # the columns are the windows: W_mat @ cols is the convolution nn.functional computes
    y = F.conv2d(mg.tensor(x), mg.tensor(w)).numpy().reshape(1, 9)
    assert np.array_equal(w.reshape(1, 4) @ cols, y)
    fig = plt.figure(figsize=(11, 4.6))
    left = fig.add_axes([0.0, 0.0, 0.5, 0.92])
    right = fig.add_axes([0.5, 0.08, 0.5, 0.8])
    fig.suptitle("im2col: window (oh, ow) of the image becomes column p = oh·3 + ow of cols",
                 fontsize=12)
    for p in range(9):                                       # one small copy per window
        oh, ow = divmod(p, 3)
        origin = (ow * 5.2, -oh * 5.4)
        colours = [[COLOURS[p] if oh <= r < oh + 2 and ow <= c < ow + 2 else None
                    for c in range(4)] for r in range(4)]
        grid(left, x[0, 0], colours, "{:.0f}", origin, title=f"({oh}, {ow}) → p = {p}")
        outline(left, oh, ow, 2, 2, darker(COLOURS[p]), origin)
    blank(left, (-0.3, 15.5), (-16.4, 1.2))
    colours = [[COLOURS[p] for p in range(9)] for _ in range(4)]
    grid(right, cols, colours, "{:.0f}", (1.6, 0), title="cols = cpu.im2col(x, 2, 2, 1, 0)[0]\n"
         "C·KH·KW = 4 rows, OH·OW = 9 columns")
    for r, (i, j) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        right.text(1.5, -r - 0.5, f"offset ({i}, {j})", ha="right", va="center", fontsize=9)
    for p in range(9):
        right.text(1.6 + p + 0.5, -4.35, f"p={p}", ha="center", va="top", fontsize=9)
    right.text(1.6, -5.4, "Row (i, j) holds, for every window, the pixel at\n"
               "offset (i, j) inside it. The convolution is then\n"
               "one product: W_mat (1×4) @ cols (4×9).",
               ha="left", va="top", fontsize=10)
    blank(right, (-1.6, 11), (-7.6, 2.0))
    save(fig, path)


def col2im_figure(plt, path):
    x, w = example()
    g = np.ones((1, 1, 3, 3), dtype=np.float32)                # dL/dy = 1 everywhere
    dcols = w.reshape(1, 4).T @ g.reshape(1, 1, 9)            # (1, 4, 9): the kernel, 9 times
    dx = cpu.col2im(dcols, x.shape, 2, 2, 1, 0)[0, 0]
    xt = mg.tensor(x, requires_grad=True)                      # the same dx through autograd
    F.conv2d(xt, mg.tensor(w)).backward(mg.tensor(g))
    assert np.array_equal(xt.grad.numpy()[0, 0], dx)
    pixel = (1, 1)
    # what each window adds to the pixel: col2im of that window's column alone
    parts = {}
    for p in range(9):
        alone = np.zeros_like(dcols)
        alone[:, :, p] = dcols[:, :, p]
        share = cpu.col2im(alone, x.shape, 2, 2, 1, 0)[0, 0][pixel]
        if share:
            parts[p] = share
    assert sum(parts.values()) == dx[pixel]
    fig = plt.figure(figsize=(11, 4.4))
    left = fig.add_axes([0.0, 0.05, 0.55, 0.82])
    right = fig.add_axes([0.58, 0.05, 0.42, 0.82])
    fig.suptitle(f"col2im: every window that covers pixel {pixel} adds its entry back "
                 f"onto it", fontsize=12)
    colours = [[None] * 9 for _ in range(4)]
    for p in parts:                  # the entry of column p that came from the pixel
        oh, ow = divmod(p, 3)
        row = (pixel[0] - oh) * 2 + (pixel[1] - ow)
        colours[row][p] = COLOURS[p]
    grid(left, dcols[0], colours, "{:.0f}", (1.6, 0),
         title="dcols = W_matᵀ @ g   (g = dL/dy = 1 everywhere)")
    for r, (i, j) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        left.text(1.5, -r - 0.5, f"offset ({i}, {j})", ha="right", va="center", fontsize=9)
    for p in range(9):
        left.text(1.6 + p + 0.5, -4.35, f"p={p}", ha="center", va="top", fontsize=9)
    terms = " + ".join(f"{parts[p]:g}" for p in parts)
    left.text(1.6, -5.4, f"pixel {pixel} was copied into columns "
              f"{', '.join(map(str, parts))}\n(one entry each, at a different offset): "
              f"dx{list(pixel)} = {terms} = {dx[pixel]:g}", ha="left", va="top", fontsize=10)
    blank(left, (-1.6, 11), (-7.2, 1.3))
    colours = [[None] * 4 for _ in range(4)]
    colours[pixel[0]][pixel[1]] = "#ffd54f"
    grid(right, dx, colours, "{:.0f}", (0, 0), title="dx = cpu.col2im(dcols, x.shape, 2, 2, 1, 0)")
    for k, p in enumerate(parts):
        oh, ow = divmod(p, 3)
        outline(right, oh, ow, 2, 2, darker(COLOURS[p]), inset=0.06 + 0.06 * k)
    right.text(0, -4.4, "outlined: the four windows over the pixel,\nin the colours of their "
               "columns", ha="left", va="top", fontsize=10)
    blank(right, (-0.3, 6), (-6.2, 1.3))
    save(fig, path)


def maxpool_figure(plt, path):
    xp = np.array([[[[1, 3, 2, 0], [4, 2, 1, 5], [0, 6, 7, 7], [8, 1, 3, 2]]]],
                  dtype=np.float32)                            # the walkthrough's step 10
    gp = np.array([[[[1, 2], [3, 4]]]], dtype=np.float32)
    xt = mg.tensor(xp, requires_grad=True)
    yt = F.max_pool2d(xt, 2)
    yt.backward(mg.tensor(gp))
    y, dx = yt.detach().numpy()[0, 0], xt.grad.numpy()[0, 0]
    _, arg = cpu.maxpool2d_fwd(xp, 2, 2, 2, 0)                 # where each max was
    arg = arg[0, 0]
    fig = plt.figure(figsize=(12, 3.9))
    ax = fig.add_axes([0, 0, 1, 0.86])
    fig.suptitle("max-pool 2×2, stride 2: the forward keeps where each max was; the "
                 "backward sends each gradient only there", fontsize=12)
    win = [COLOURS[k] for k in (0, 2, 3, 4)]
    x_col = [[None] * 4 for _ in range(4)]
    dx_col = [[None] * 4 for _ in range(4)]
    for oh in range(2):
        for ow in range(2):
            k = oh * 2 + ow
            i, j = divmod(int(arg[oh, ow]), 2)
            x_col[oh * 2 + i][ow * 2 + j] = win[k]
            dx_col[oh * 2 + i][ow * 2 + j] = win[k]
    grid(ax, xp[0, 0], x_col, "{:.0f}", (0, 0), title="x: the max of each window filled")
    for k in range(4):
        outline(ax, (k // 2) * 2, (k % 2) * 2, 2, 2, darker(win[k]))
    pool_col = [[win[oh * 2 + ow] for ow in range(2)] for oh in range(2)]
    grid(ax, y, pool_col, "{:.0f}", (6, -1), title="y (forward)")
    grid(ax, arg, pool_col, "{:.0f}", (9.5, -1), title="arg = i·2 + j")
    ax.annotate("", xy=(5.8, -2), xytext=(4.2, -2), arrowprops={"arrowstyle": "->"})
    grid(ax, gp[0, 0], pool_col, "{:.0f}", (14, -1), title="g = dL/dy")
    grid(ax, dx, dx_col, "{:.0f}", (18.5, 0), title="dx (backward)")
    ax.annotate("", xy=(18.3, -2), xytext=(16.2, -2), arrowprops={"arrowstyle": "->"})
    ax.text(0, -4.5, "The 7s of the bottom-right window tie: the first (offset 0) wins, as in "
            "PyTorch. Every pixel that was not a max gets 0.", ha="left", va="top",
            fontsize=10)
    blank(ax, (-0.3, 22.8), (-5.6, 1.3))
    save(fig, path)


def gemm_tile_figure(plt, path):
    """The tiled GEMM of kernels/gemm.cu on a small product: C (48×64) = A (48×40) @
    B (40×64), 16×16 tiles (TM = TN = 16, 256 threads a block), GEMM_TK = 16."""
    import matplotlib.patches as patches
    M, N, K, T, TK = 48, 64, 40, 16, 16
    tm, tn = 1, 2                                    # the block we follow
    ty, tx = 5, 11                                   # and one of its threads
    fig = plt.figure(figsize=(11, 7.4))
    ax = fig.add_axes([0, 0, 1, 0.93])
    fig.suptitle("Tiled GEMM: a block of 16×16 threads computes one 16×16 tile of C = A @ B",
                 fontsize=12)
    s = 0.1                                          # drawing units per matrix element
    ax_ = (0, 0)                                     # A at the left, B above C
    cx, cy = K * s + 0.8, 0                          # C's top-left corner
    bx = cx                                          # B stands above C, same columns

    def box(x, y, w, h, **kw):
        ax.add_patch(patches.Rectangle((x, y), w, h, **kw))

    # A (M × K): left of C, rows aligned with C's rows; B (K × N): above C
    box(ax_[0], cy - M * s, K * s, M * s, facecolor="#f5f5f5", edgecolor="black")
    box(bx, 0.8, N * s, K * s, facecolor="#f5f5f5", edgecolor="black")
    box(cx, cy - M * s, N * s, M * s, facecolor="white", edgecolor="black")
    for r in range(1, M // T):                       # C's tile lines
        ax.plot([cx, cx + N * s], [cy - r * T * s] * 2, color="#bbbbbb", lw=0.8)
    for c in range(1, N // T):
        ax.plot([cx + c * T * s] * 2, [cy, cy - M * s], color="#bbbbbb", lw=0.8)
    # the A row panel and B column panel the block reads, with one K step of TK shaded
    box(0, cy - (tm + 1) * T * s, K * s, T * s, facecolor="#bbdefb", edgecolor="#1565c0")
    box(0 + TK * s, cy - (tm + 1) * T * s, TK * s, T * s, facecolor="#64b5f6",
        edgecolor="#1565c0")
    box(bx + tn * T * s, 0.8, T * s, K * s, facecolor="#ffe0b2", edgecolor="#e65100")
    box(bx + tn * T * s, 0.8 + (K - 2 * TK) * s, T * s, TK * s, facecolor="#ffb74d",
        edgecolor="#e65100")
    # the block's tile, with its 16×16 threads, and one thread's row and column
    x0, y0 = cx + tn * T * s, cy - tm * T * s
    box(x0, y0 - T * s, T * s, T * s, facecolor="#c8e6c9", edgecolor="#2e7d32", lw=2)
    for k in range(1, T):
        ax.plot([x0 + k * s] * 2, [y0, y0 - T * s], color="#81c784", lw=0.4)
        ax.plot([x0, x0 + T * s], [y0 - k * s] * 2, color="#81c784", lw=0.4)
    box(x0 + tx * s, y0 - (ty + 1) * s, s, s, facecolor="#d32f2f", edgecolor="none")
    ax.plot([0, K * s], [y0 - (ty + 0.5) * s] * 2, color="#d32f2f", lw=1)
    ax.plot([bx + (tn * T + tx + 0.5) * s] * 2, [0.8, 0.8 + K * s], color="#d32f2f", lw=1)
    # labels
    ax.text(K * s / 2, cy + 0.15, f"A  ({M} × K = {K})", ha="center", va="bottom")
    ax.text(bx + N * s + 0.15, 0.8 + K * s / 2, f"B  (K × {N})", ha="left", va="center")
    ax.text(cx + N * s + 0.15, cy - M * s / 2, f"C  ({M} × {N})\n{M // T} × {N // T} tiles "
            f"of {T}×{T},\none block each", ha="left", va="center")
    notes = [
        ("#2e7d32", f"the block's tile (tm, tn) = ({tm}, {tn}): rows m0 = {tm * T}.., "
                    f"columns n0 = {tn * T}.."),
        ("#d32f2f", f"thread (ty, tx) = ({ty}, {tx}) owns C[m0 + {ty}, n0 + {tx}]: row "
                    f"{tm * T + ty} of A · column {tn * T + tx} of B, in one register"),
        ("#1565c0", f"A's row panel (16 × K); per step, a 16 × TK tile (TK = {TK}) goes to "
                    f"shared memory"),
        ("#e65100", "B's column panel (K × 16); per step, a TK × 16 tile goes to shared "
                    "memory"),
    ]
    for k, (colour, note) in enumerate(notes):
        ax.text(0, cy - M * s - 0.5 - 0.42 * k, "■ ", color=colour, ha="left", va="top")
        ax.text(0.3, cy - M * s - 0.5 - 0.42 * k, note, ha="left", va="top")
    ax.text(0, cy - M * s - 0.5 - 0.42 * 4.3,
            f"K steps: k0 = 0, {TK}, {2 * TK}; each: all 256 threads load the two tiles, "
            "__syncthreads(), each thread adds its TK products, __syncthreads().\n"
            f"The last tile (k0 = {2 * TK}) is zero-padded past K = {K}: the loaders return 0 "
            "outside the matrix.", ha="left", va="top", fontsize=9)
    blank(ax, (-0.2, cx + N * s + 2.8), (cy - M * s - 3.2, 0.8 + K * s + 0.5))
    save(fig, path)


# ---- viz.dot --------------------------------------------------------------------------------
def neuron_graph():
    """One sigmoid neuron, σ(w · x + b), after backward: the graph viz draws for the docs."""
    x = mg.tensor([1.0, -2.0])
    w = mg.tensor([0.5, -0.25], requires_grad=True)
    b = mg.tensor(0.75, requires_grad=True)
    out = ((w * x).sum() + b).sigmoid()
    out.backward()
    return out, {"x": x, "w": w, "b": b}


def graph_figure(plt, path):
    out, params = neuron_graph()
    text = mg.viz.dot(out, params=params, rankdir="LR")
    path.with_suffix(".dot").write_text(text)
    if shutil.which("dot") is None:
        print(f"  {path.name}: Graphviz's dot is not installed; wrote only "
              f"{path.with_suffix('.dot').name}")
        return
    mg.viz.render(text, path, format="png")


# ---- the trained model (docs/why_075.md) --------------------------------------------------
def trained_activations(n=512, fresh=False, checkpoint=CHECKPOINT):
    """The sigmoid LeNet of ``checkpoint`` (or, with ``fresh``, a new one as manual_seed(0)
    initialises it) on the first ``n`` test images: (images, labels, [(layer name, output
    Tensor)] for every layer as examples/inspect_lenet.py lists them, [(index in that list,
    output array)] for every Sigmoid)."""
    from examples.inspect_lenet import activations, load_model
    from examples.lenet import lenet
    from minigrad.data import FashionMNIST
    if fresh:
        mg.manual_seed(0)
        net = lenet().eval()
    else:
        net = load_model(checkpoint)
    test = FashionMNIST(train=False, download=False)
    images, labels = test.images[:n], test.labels[:n]
    acts = activations(net, images)
    sig = [(k, a.numpy()) for k, (name, a) in enumerate(acts) if name == "Sigmoid"]
    return images, labels, acts, sig


SIGMOID_NAMES = {2: "conv1 (6×24×24)", 5: "conv2 (16×8×8)", 9: "fc1 (120)", 11: "fc2 (84)"}


def saturation_stats(y):
    """(fraction of outputs below 0.05 or above 0.95, the spread: how much a unit's output
    differs between images — the standard deviation over the images, averaged over units,
    and the median of σ' = y(1 − y)) of one layer's sigmoid outputs (images first)."""
    near = float(np.mean((y < 0.05) | (y > 0.95)))
    return near, float(y.std(axis=0).mean()), float(np.median(y * (1 - y)))


def print_stats(checkpoint):
    """The numbers of saturation.png's titles for any checkpoint ("new" for a new model)."""
    fresh = str(checkpoint) == "new"
    sig = trained_activations(fresh=fresh, checkpoint=None if fresh else checkpoint)[3]
    print(f"{checkpoint}, 512 test images:")
    for k, y in sig:
        near, spread, median = saturation_stats(y)
        print(f"  {SIGMOID_NAMES[k]:<16} saturated {near:4.0%}   spread {spread:.4f}   "
              f"median σ' {median:.3f}")


def saturation_figure(plt, path):
    rows = [("new (manual_seed(0))", trained_activations(fresh=True)[3]),
            ("after 5 epochs", trained_activations()[3])]
    fig, axes = plt.subplots(3, 4, figsize=(13, 8.6))
    fig.suptitle(f"Sigmoid outputs of LeNet on 512 test images: a new model, and the trained "
                 f"one ({CHECKPOINT.name})", fontsize=11)
    bins = np.linspace(0, 1, 41)
    for r, (when, sig) in enumerate(rows):
        for col, (k, y) in enumerate(sig):
            near, spread, _ = saturation_stats(y)
            v = y.ravel()
            ax = axes[r, col]
            ax.hist(v, bins=bins, color="#9e9e9e" if r == 0 else "#5c6bc0",
                    weights=np.full(v.size, 100 / v.size))
            ax.set_title(f"{when}: {SIGMOID_NAMES[k]}\n{near:.0%} saturated (< 0.05 or > 0.95),"
                         f" spread {spread:.4f}", fontsize=9)
            ax.set_xlim(0, 1)
            if col == 0:
                ax.set_ylabel("% of outputs")
    for col, (_, y) in enumerate(rows[1][1]):
        d = (y * (1 - y)).ravel()
        ax = axes[2, col]
        ax.hist(d, bins=np.linspace(0, 0.25, 26), color="#ef6c00",
                weights=np.full(d.size, 100 / d.size))
        ax.set_title(f"after 5 epochs: σ' = y(1 − y), median {np.median(d):.3f}\n(0.25 at "
                     "most; the factor on the gradient)", fontsize=9)
        ax.set_xlabel("σ'(z)")
        if col == 0:
            ax.set_ylabel("% of outputs")
    for ax in axes[1]:
        ax.set_xlabel("y = σ(z)")
    fig.tight_layout()
    save(fig, path)


def feature_maps_figure(plt, path, image=0):
    images, labels, acts, _ = trained_activations()
    from minigrad.data.fashion_mnist import CLASSES
    stages = [(2, "conv1 + sigmoid", 6), (5, "conv2 + sigmoid", 16)]
    fig = plt.figure(figsize=(13, 4.2))
    fig.suptitle(f"The trained sigmoid LeNet on test image {image} ({CLASSES[labels[image]]}):"
                 " the feature maps on one colour scale, 0 to 1", fontsize=11)
    g = fig.add_gridspec(3, 17, left=0.02, right=0.93, top=0.86, bottom=0.1, hspace=0.35)
    ax = fig.add_subplot(g[0:2, 0])
    ax.imshow(images[image], cmap="gray")
    ax.set_title("input", fontsize=8, loc="left")
    ax.axis("off")
    for row, (k, name, n) in enumerate(stages):
        maps = acts[k][1].numpy()[image]
        for c in range(n):
            ax = fig.add_subplot(g[row, c + 1])
            shown = ax.imshow(maps[c], cmap="viridis", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_title(name, fontsize=8, loc="left")
    for row, (k, name) in enumerate([(9, "fc1 + sigmoid (120)"),
                                     (11, "fc2 + sigmoid (84)")]):
        ax = fig.add_subplot(g[2, 1 + row * 8: 8 + row * 8])
        ax.imshow(acts[k][1].numpy()[image][None, :], cmap="viridis", vmin=0, vmax=1,
                  aspect="auto")
        ax.set_yticks([])
        ax.set_title(name, fontsize=8, loc="left")
    fig.colorbar(shown, cax=fig.add_axes([0.945, 0.1, 0.012, 0.7]), label="σ output")
    save(fig, path)


FIGURES = {"im2col": im2col_figure, "col2im": col2im_figure, "maxpool": maxpool_figure,
           "gemm_tile": gemm_tile_figure, "graph": graph_figure,
           "saturation": saturation_figure, "feature_maps_trained": feature_maps_figure}
NEEDS_MODEL = {"saturation", "feature_maps_trained"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*", metavar="NAME",
                    help=f"which figures (default all): {', '.join(FIGURES)}")
    ap.add_argument("--out", type=Path, default=OUT, help="folder (default docs/figures)")
    ap.add_argument("--stats", metavar="CHECKPOINT", help="print the saturation numbers of "
                    "a LeNet checkpoint of examples/lenet_fashion.py ('new': a new model) "
                    "and draw nothing")
    args = ap.parse_args(argv)
    if args.stats:
        return print_stats(args.stats)
    unknown = [n for n in args.names if n not in FIGURES]
    if unknown:
        ap.error(f"no figure {', '.join(unknown)}; choose from {', '.join(FIGURES)}")
    try:
        plt = pyplot()
    except ImportError:
        sys.exit("error: scripts/figures.py needs matplotlib (pip install matplotlib)")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names or FIGURES:
        FIGURES[name](plt, args.out / f"{name}.png")
        print(f"wrote {args.out / name}.png")


if __name__ == "__main__":
    main()
