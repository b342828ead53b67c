"""The CUDA backend functions issue 15 adds, against their NumPy twins, in the style of
tests/test_cuda.py and with its ``gpu`` fixture: on a GPU (with the block cap forced to 1,
3 and 7 as well) and on the host emulator (1 and 132 multiprocessors), so that ``make
test`` runs the kernels here too. Average pooling, the Philox dropout mask (against the
textbook Philox in backend/reference.py, itself checked against Random123's published
answers), NLL, and the Adadelta and RMSprop steps; zero sizes and bad shapes."""
import numpy as np
import pytest

import minigrad
import test_cuda
from helpers import rel_err
from minigrad.backend import cpu, reference
from test_cuda import both, get

gpu = test_cuda.gpu             # its fixture: every backend test below runs on each device

TOL = {"float32": 1e-6, "float64": 1e-14}
rng = np.random.default_rng(0)


# ---- average pool ---------------------------------------------------------------------------
AVG = [  # (x shape, kernel, stride, pad, ceil_mode, count_include_pad, divisor)
    ((2, 6, 28, 28), (2, 2), (2, 2), (0, 0), False, True, None),
    ((2, 3, 9, 8), (3, 3), (2, 2), (1, 1), False, True, None),
    ((2, 3, 9, 8), (3, 3), (2, 2), (1, 1), True, False, None),
    ((1, 2, 7, 5), (3, 2), (1, 2), (1, 1), True, True, None),
    ((3, 1, 6, 6), (3, 3), (1, 1), (0, 0), False, True, 5),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", AVG, ids=str)
def test_avgpool_matches_numpy(gpu, case, dtype):
    shape, *args = case
    x = rng.standard_normal(shape).astype(dtype)
    ref, ours = both(gpu, "avgpool2d_fwd", x, *args)
    assert ours.shape == ref.shape and rel_err(get(ours), ref) <= TOL[dtype]
    g = rng.standard_normal(ref.shape).astype(dtype)
    ref, ours = both(gpu, "avgpool2d_bwd", g, shape, *args)
    assert ours.shape == shape and rel_err(get(ours), ref) <= TOL[dtype]


# ---- dropout masks --------------------------------------------------------------------------
def test_philox_reference_gives_random123s_known_answers():
    """The three Philox4x32-10 test vectors of Random123 (kat_vectors): counter, key, output."""
    vectors = [
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
        ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
         (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
    ]
    for counter, key, out in vectors:
        assert reference.philox4x32_10(counter, key) == out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("size, p", [(13, 0.3), (1, 0.5), (4097, 0.25), (64, 0.0), (9, 1.0)],
                         ids=str)
def test_dropout_mask_is_philox_bit_for_bit(gpu, size, p, dtype):
    """Mask after mask, the kernel gives exactly the reference's bits for (seed, offset),
    offset counting the masks drawn since manual_seed; any size (a last, partial group of
    four), any p (0 keeps all, 1 none), any grid (the gpu fixture's caps)."""
    minigrad.manual_seed(2**40 + 5)              # a seed wider than 32 bits: both key words
    for offset in range(3):
        mask = gpu.dropout_mask((size,), p, np.dtype(dtype))
        expected = reference.dropout_mask_philox(size, p, 2**40 + 5, offset, dtype)
        assert mask.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(get(mask), expected)
    np.testing.assert_array_equal(get(gpu.philox_state()), [2**40 + 5, 3])


def test_the_generator_state_lives_in_one_device_array(gpu):
    """The kernels read (seed, offset) from device memory and philox_advance moves the
    offset there, so nothing on the host changes between masks (a captured CUDA graph can
    replay them); manual_seed rewrites the same array in place."""
    minigrad.manual_seed(1)
    gpu.dropout_mask((5,), 0.5, np.dtype("float32"))
    state = gpu.philox_state()
    gpu.dropout_mask((5,), 0.5, np.dtype("float32"))
    assert gpu.philox_state() is state and list(get(state)) == [1, 2]
    minigrad.manual_seed(9)
    assert gpu.philox_state() is state and list(get(state)) == [9, 0]


def test_dropout_masks_of_unseeded_generators_differ(gpu):
    minigrad.random._generator = np.random.default_rng()
    a = get(gpu.dropout_mask((256,), 0.5, np.dtype("float32")))
    minigrad.random._generator = np.random.default_rng()
    b = get(gpu.dropout_mask((256,), 0.5, np.dtype("float32")))
    assert (a != b).any()


# ---- NLL ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_matches_numpy(gpu, weighted, dtype):
    logp = rng.standard_normal((37, 10)).astype(dtype)
    t = rng.integers(0, 10, 37)
    t[[3, 20]] = -100
    w = rng.random(10).astype(dtype) if weighted else None
    (loss, wb), (gloss, gwb) = both(gpu, "nll_fwd", logp, t, w, -100)
    assert rel_err(get(gloss), loss) <= TOL[dtype] and rel_err(get(gwb), wb) <= TOL[dtype]
    g = rng.standard_normal(37).astype(dtype)
    ref, ours = both(gpu, "nll_bwd", g, t, w, -100, 10)
    np.testing.assert_array_equal(get(ours), ref)


def test_nll_class_out_of_range_gives_nan_not_a_fault(gpu):
    import cupy
    loss, w = gpu.nll_fwd(cupy.zeros((2, 3)), cupy.asarray(np.array([1, 7])), None, -100)
    assert np.isfinite(get(loss)[0]) and np.isnan(get(loss)[1]) and np.isnan(get(w)[1])


# ---- Adadelta and RMSprop ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_adadelta_step_matches_numpy(gpu, weight_decay, dtype):
    import cupy
    p, g, s, acc = (rng.standard_normal(1000).astype(dtype) for _ in range(4))
    s, acc = np.abs(s), np.abs(acc)
    gp, gs, gacc = cupy.array(p), cupy.array(s), cupy.array(acc)     # updated in place
    for _ in range(3):
        cpu.adadelta_step(p, g, s, acc, 1.0, 0.9, 1e-6, weight_decay)
        gpu.adadelta_step(gp, cupy.array(g), gs, gacc, 1.0, 0.9, 1e-6, weight_decay)
    for a, b in ((gp, p), (gs, s), (gacc, acc)):
        assert rel_err(get(a), b) <= TOL[dtype]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("centered, momentum, weight_decay",
                         [(False, 0.0, 0.0), (True, 0.0, 0.0), (False, 0.9, 0.01),
                          (True, 0.5, 0.01)])
def test_rmsprop_step_matches_numpy(gpu, centered, momentum, weight_decay, dtype):
    import cupy
    p, g = (rng.standard_normal(999).astype(dtype) for _ in range(2))
    s = np.abs(rng.standard_normal(999)).astype(dtype) + 1
    gbar = (rng.standard_normal(999) * 0.1).astype(dtype) if centered else None
    buf = rng.standard_normal(999).astype(dtype) if momentum else None
    on_gpu = lambda a: cupy.array(a) if a is not None else None
    gp, gs, ggbar, gbuf = on_gpu(p), on_gpu(s), on_gpu(gbar), on_gpu(buf)
    for _ in range(3):
        cpu.rmsprop_step(p, g, s, gbar, buf, 1e-2, 0.99, 1e-8, weight_decay, momentum, centered)
        gpu.rmsprop_step(gp, cupy.array(g), gs, ggbar, gbuf, 1e-2, 0.99, 1e-8, weight_decay,
                         momentum, centered)
    for a, b in ((gp, p), (gs, s), (ggbar, gbar), (gbuf, buf)):
        if b is not None:
            assert rel_err(get(a), b) <= TOL[dtype]


# ---- zero sizes and bad shapes ----------------------------------------------------------------
f64 = lambda *shape: rng.standard_normal(shape)
EMPTY_CASES = {
    "avgpool2d_fwd": lambda: (f64(0, 6, 28, 28), (2, 2), (2, 2), (0, 0)),
    "avgpool2d_bwd": lambda: (f64(0, 6, 14, 14), (0, 6, 28, 28), (2, 2), (2, 2), (0, 0)),
    "nll_fwd": lambda: (f64(0, 10), np.zeros(0, np.int64), None, -100),
    "nll_bwd": lambda: (f64(0), np.zeros(0, np.int64), None, -100, 10),
}


@pytest.mark.parametrize("case", sorted(EMPTY_CASES))
def test_a_batch_of_zero_gives_what_the_cpu_gives_without_a_launch(gpu, case, monkeypatch):
    monkeypatch.setattr(gpu, "_launch", lambda *a, **k: pytest.fail(f"{case} launched"))
    ref, ours = both(gpu, case, *EMPTY_CASES[case]())
    for r, o in zip(ref if isinstance(ref, tuple) else (ref,),
                    ours if isinstance(ours, tuple) else (ours,)):
        assert o.shape == r.shape and o.dtype == r.dtype
        np.testing.assert_array_equal(get(o), r)


def test_empty_masks_and_parameters_launch_nothing(gpu, monkeypatch):
    import cupy
    monkeypatch.setattr(gpu, "_launch", lambda *a, **k: pytest.fail("launched"))
    assert gpu.dropout_mask((0, 5), 0.5, np.dtype("float32")).shape == (0, 5)
    e = lambda: cupy.zeros((0, 3))
    gpu.adadelta_step(e(), e(), e(), e(), 1.0, 0.9, 1e-6, 0.0)
    gpu.rmsprop_step(e(), e(), e(), e(), e(), 1e-2, 0.99, 1e-8, 0.0, 0.9, True)


def test_bad_shapes_are_python_errors_not_cuda_faults(gpu):
    import cupy
    z = lambda *s: cupy.zeros(s)
    with pytest.raises(ValueError, match="avgpool2d_bwd: gradient"):
        gpu.avgpool2d_bwd(z(1, 1, 3, 3), (1, 1, 4, 4), (2, 2), (2, 2), (0, 0))
    with pytest.raises(ValueError, match="nll_fwd: weight has shape"):
        gpu.nll_fwd(z(2, 3), cupy.zeros(2, np.int64), z(4), -100)
    with pytest.raises(ValueError, match="nll_fwd: log-probabilities"):
        gpu.nll_fwd(z(2, 3), cupy.zeros(3, np.int64), None, -100)
    with pytest.raises(TypeError, match="int64"):
        gpu.nll_fwd(z(2, 3), cupy.zeros(2, np.int32), None, -100)
    with pytest.raises(ValueError, match="acc_delta is"):
        gpu.adadelta_step(z(4), z(4), z(4), z(5), 1.0, 0.9, 1e-6, 0.0)
    with pytest.raises(ValueError, match="grad_avg is"):
        gpu.rmsprop_step(z(4), z(4), z(4), z(3), None, 1e-2, 0.99, 1e-8, 0.0, 0.0, True)
    with pytest.raises(ValueError, match="param must be contiguous"):
        gpu.adadelta_step(z(4, 4)[:, 0], z(4), z(4), z(4), 1.0, 0.9, 1e-6, 0.0)
    cupy.cuda.get_current_stream().synchronize()      # and the GPU is still healthy
