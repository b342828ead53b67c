"""The production GEMM's launch shapes and tiles (kernels/gemm.cu, backend/cuda/conv.py), on the
host emulator: conv's weight gradient split over batch × pixels from the shape alone, every
tile of GEMM_TILES (register-blocked ones included) bounds-checked at awkward sizes, and the
same bits whatever the emulated device's multiprocessor count.

What is asserted is the launch (grid, block, kernel arguments, read through runtime's launch
recording) and the numbers, never a time: speed is for benchmarks/ on a GPU."""
import math

import numpy as np
import pytest

from helpers import EMULATED, emulated_gpu, forget_the_gpu, rel_err
from minigrad.backend import textbook

rng = np.random.default_rng(7)

# LeNet's two convolutions at batch 256: x, weight, and which gradients the layer needs
# (conv1's input is the data: no dx).
LENET = {
    "conv1": ((256, 1, 28, 28), (6, 1, 5, 5), (False, True, True)),
    "conv2": ((256, 6, 12, 12), (16, 6, 5, 5), (True, True, True)),
}


# In an emulated session (python -m minigrad.emulate -m pytest -m cuda ...) the tests are its
# cuda tests; in an ordinary run they install the emulator themselves (helpers.emulated_gpu).
@pytest.fixture(params=[pytest.param("emulated", marks=pytest.mark.cuda) if EMULATED
                        else "emulated"])
def emulator(request):
    """(fake_cupy, the CUDA backend) with the host emulator in place of CuPy: the session's,
    or one installed for this test. Restores the emulated multiprocessor count afterwards."""
    from minigrad.backend import cuda
    with emulated_gpu() as fake_cupy:
        try:
            yield fake_cupy, cuda
        finally:
            cuda.limit_blocks(None)


def on_device_size(fake_cupy, sms):
    """Make the emulated GPU report ``sms`` multiprocessors, forgetting what was asked before
    (max_blocks is 32 per multiprocessor)."""
    fake_cupy.set_sm_count(sms)
    forget_the_gpu()


def serial_k_tiles(grid, m, n, chunks, k_split, tile, gemm_tk):
    """The work model of one tiled launch: the most K-tiles one block runs one after another
    (its share of the output tiles and chunks, times the K-tiles of a chunk)."""
    tm, tn = tile[:2]
    tiles_n, tiles_m = -(-n // tn), -(-m // tm)
    trips = (-(-tiles_n // grid[0])) * (-(-tiles_m // grid[1])) * (-(-chunks // grid[2]))
    return trips * -(-k_split // gemm_tk)


def lenet_inputs(layer, dtype=np.float32):
    x_shape, w_shape, needs = LENET[layer]
    x = rng.standard_normal(x_shape).astype(dtype)
    w = (rng.standard_normal(w_shape) * 0.2).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    oh = x_shape[2] - w_shape[2] + 1
    g = rng.standard_normal((x_shape[0], w_shape[0], oh, oh)).astype(dtype)
    return x, w, b, g, needs


@pytest.mark.parametrize("layer", sorted(LENET))
def test_weight_gradient_at_lenet_sizes_fills_the_gpu_with_short_blocks(emulator, layer):
    """conv_wgrad at batch 256 on an H200-sized device: at least 264 blocks (two per
    multiprocessor), each running at most 36 K-tiles one after another (was: conv1 64 blocks
    of 144 K-tiles, one block per 4-image chunk)."""
    fake_cupy, cuda = emulator
    import cupy
    on_device_size(fake_cupy, fake_cupy.H200_SMS)
    x, w, b, g, needs = lenet_inputs(layer)
    _, saved = cuda.conv2d_fwd(cupy.asarray(x), cupy.asarray(w), cupy.asarray(b), 1, 0)
    with cuda.runtime.recording() as launches:
        cuda.conv2d_bwd(cupy.asarray(g), saved, x.shape, w.shape, 1, 0, needs)
    shapes = {label.split("<")[0]: replay.args for label, replay in launches}
    grid, block, args = shapes["conv_wgrad"]
    n, oc, p = x.shape[0], w.shape[0], g.shape[2] * g.shape[3]
    k_cols = math.prod(w.shape[1:]) + 1                # the weight's columns, and the bias's
    k_split = int(args[14])
    splits = -(-(n * p) // k_split)
    tile = cuda.runtime.GEMM_TILES[int(args[-1])]
    assert (block[0] * tile[3], block[1] * tile[2]) == tile[1::-1], (block, tile)
    blocks = math.prod(grid)
    serial = serial_k_tiles(grid, oc, k_cols, splits, k_split, tile, cuda.runtime.GEMM_TK)
    assert blocks >= 264 and serial <= 36, f"{layer}: {blocks} blocks of {serial} K-tiles"
    # the split is the shape's alone: the same on a 1-multiprocessor device
    assert cuda.conv.wgrad_split(n * p) == (splits, k_split)


@pytest.mark.parametrize("layer", sorted(LENET))
def test_lenet_conv_gives_the_same_bits_on_any_device_size_and_the_textbook_numbers(
        emulator, layer):
    """conv2d forward and backward at LeNet's batch-256 shapes (conv1's forward on
    register-blocked 8 x 128 tiles, conv2's dcols too, both weight gradients split
    over 32-K-tile pieces) on devices of 1, 7 and 132 multiprocessors: bit for bit the same,
    and the textbook's numbers. float32: the weight gradient sums up to 147,456 products, in
    another order than NumPy's, so 1e-4 (the difference is ~1e-6)."""
    fake_cupy, cuda = emulator
    import cupy
    x, w, b, g, needs = lenet_inputs(layer)
    y_ref, saved_ref = textbook.conv2d_fwd(x, w, b, 1, 0)
    ref = textbook.conv2d_bwd(g, saved_ref, x.shape, w.shape, 1, 0, needs)
    results = []
    for sms in (1, 7, fake_cupy.H200_SMS):
        on_device_size(fake_cupy, sms)
        y, saved = cuda.conv2d_fwd(cupy.asarray(x), cupy.asarray(w), cupy.asarray(b), 1, 0)
        grads = cuda.conv2d_bwd(cupy.asarray(g), saved, x.shape, w.shape, 1, 0, needs)
        results.append([np.asarray(y)] + [None if a is None else np.asarray(a) for a in grads])
    for other in results[1:]:
        for a, b_ in zip(results[0], other):
            if a is not None:
                np.testing.assert_array_equal(a, b_)
    assert rel_err(results[0][0], y_ref) <= 1e-5
    for ours, theirs in zip(results[0][1:], ref):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert rel_err(ours, theirs) <= 1e-4


def test_the_tile_chooser_blocks_registers_only_where_the_output_is_big():
    from minigrad.backend.cuda import conv
    assert conv.gemm_tile(6, 256 * 576) == (8, 128, 1, 4)       # conv1 forward
    assert conv.gemm_tile(150, 256 * 64) == (8, 128, 1, 4)      # conv2 dcols: 152 rows, not 160
    assert conv.gemm_tile(1024, 4096) == (32, 32, 2, 2)
    assert conv.gemm_tile(16, 256 * 64) == (16, 16, 1, 1)       # conv2 forward: 256 tiles of 1x4
    assert conv.gemm_tile(256, 120) == (32, 8, 1, 1)            # fc1: too few tiles to block
    assert conv.gemm_tile(6, 26) == (8, 32, 1, 1)               # conv1 weight gradient


def test_the_weight_gradient_split_depends_on_k_alone():
    from minigrad.backend.cuda import conv
    assert conv.wgrad_split(256 * 576) == (288, 512)
    assert conv.wgrad_split(256 * 64) == (32, 512)
    assert conv.wgrad_split(1) == (1, 512)
    splits, k_split = conv.wgrad_split(10**9)                  # long pieces, few partials
    assert splits <= conv.WGRAD_MAX_SPLITS and splits * k_split >= 10**9 and k_split % 16 == 0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_tile_is_bounds_checked_at_awkward_sizes(emulator, dtype, monkeypatch):
    """Each tile of GEMM_TILES forced in turn (register-blocked ones too) on products whose
    sizes are multiples of no tile, every operand layout, a bias and a ones column, and a
    strided, padded conv forward and backward whose weight gradient is cut into several
    pieces with an uneven last one; the grid capped at 3 blocks a dimension so every loop
    takes several trips. Against the textbook."""
    fake_cupy, cuda = emulator
    import cupy
    tol = 1e-5 if dtype == "float32" else 1e-12
    on_device_size(fake_cupy, 1)
    cuda.limit_blocks(3)
    monkeypatch.setattr(cuda.conv, "WGRAD_SPLIT_TILES", 2)     # pieces of 32 products
    x = rng.standard_normal((3, 2, 9, 7)).astype(dtype)
    w = rng.standard_normal((5, 2, 3, 3)).astype(dtype)
    bias = rng.standard_normal(5).astype(dtype)
    g = rng.standard_normal((3, 5, 5, 4)).astype(dtype)
    y_ref, saved_ref = textbook.conv2d_fwd(x, w, bias, 2, 1)
    ref = textbook.conv2d_bwd(g, saved_ref, x.shape, w.shape, 2, 1, (True, True, True))
    choose = cuda.conv.gemm_tile
    for tile in cuda.runtime.GEMM_TILES:
        # (the weight gradient takes one-output tiles only: there its own choice)
        monkeypatch.setattr(cuda.conv, "gemm_tile", lambda m, n, blocked_ok=True, tile=tile:
                            tile if blocked_ok or tile[2] * tile[3] == 1
                            else choose(m, n, blocked_ok))
        for ta, tb in [(False, False), (True, False), (False, True)]:
            a = rng.standard_normal((45, 37) if ta else (37, 45)).astype(dtype)
            b = rng.standard_normal((70, 45) if tb else (45, 70)).astype(dtype)
            cb = rng.standard_normal(70).astype(dtype)
            ours = cuda.gemm(cupy.asarray(a), cupy.asarray(b), ta, tb, bias=cupy.asarray(cb))
            want = textbook.gemm(a, b, ta, tb, bias=cb)
            assert rel_err(np.asarray(ours), want) <= tol, (tile, ta, tb)
        gx = rng.standard_normal((37, 45)).astype(dtype)
        gg = rng.standard_normal((37, 20)).astype(dtype)
        dx, dw, db = cuda.linear_bwd(cupy.asarray(gg), cupy.asarray(gx),
                                     cupy.asarray(rng.standard_normal((20, 45)).astype(dtype)),
                                     (False, True, True))
        assert rel_err(np.asarray(dw), gg.T @ gx) <= tol and rel_err(np.asarray(db),
                                                                      gg.sum(0)) <= tol
        y, saved = cuda.conv2d_fwd(cupy.asarray(x), cupy.asarray(w), cupy.asarray(bias), 2, 1)
        assert rel_err(np.asarray(y), y_ref) <= tol, tile
        grads = cuda.conv2d_bwd(cupy.asarray(g), saved, x.shape, w.shape, 2, 1,
                                (True, True, True))
        for name, ours, theirs in zip(("dx", "dw", "db"), grads, ref):
            assert rel_err(np.asarray(ours), theirs) <= tol, (tile, name)
