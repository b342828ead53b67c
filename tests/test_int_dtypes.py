"""The integer dtypes int32 (int), int16 (short), int8 (char) and uint8 (byte) beside int64,
against PyTorch value by value and dtype by dtype: names, type promotion over a grid of dtype
pairs (tensors, 0-d tensors and Python numbers), reductions, in-place ops, range checks,
index tensors, the layers' refusals, NumPy and DataLoader round trips, save/load, and a
makemore-style bigram model that counts in int32."""
import io
import itertools
import operator

import numpy as np
import pytest
import torch

import minigrad
import minigrad.nn.functional as F
from minigrad.utils.data import default_collate

INTS = ["uint8", "int8", "int16", "int32", "int64"]
DTYPES = ["bool"] + INTS + ["float16", "float32", "float64"]

# values that wrap or overflow somewhere (uint8 255, int8 -128) and, as divisors, no zeros
VALUES = {"bool": [True, False, True, True], "uint8": [0, 7, 200, 255],
          "int8": [-128, -7, 0, 127], "int16": [-300, -7, 0, 32000],
          "int32": [-70000, -7, 0, 2**31 - 1], "int64": [-2**40, -7, 0, 2**40],
          "float16": [-2.5, -7.0, 0.0, 100.0], "float32": [-2.5, -7.25, 0.0, 1e6],
          "float64": [-2.5, -7.25, 0.0, 1e12]}
DIVISORS = {"bool": [True] * 4, "uint8": [1, 3, 200, 255], "int8": [-128, -3, 5, 127],
            "int16": [-300, -3, 5, 32000], "int32": [-70000, -3, 5, 2**31 - 1],
            "int64": [-2**40, -3, 5, 2**40], "float16": [-2.5, -3.0, 5.0, 100.0],
            "float32": [-2.5, -3.0, 5.0, 1e6], "float64": [-2.5, -3.0, 5.0, 1e12]}


def pair(values, dtype, device="cpu"):
    """The same values as a minigrad tensor (on ``device``) and a PyTorch CPU tensor."""
    return (minigrad.tensor(values, dtype=getattr(minigrad, dtype), device=device),
            torch.tensor(values, dtype=getattr(torch, dtype)))


def same(ours, ref):
    """Same dtype, shape and values (floats to their precision; NaN where PyTorch has NaN)."""
    name = str(ref.dtype).removeprefix("torch.")
    assert str(ours.dtype) == name, f"dtype {ours.dtype}, PyTorch {name}"
    got, want = ours.cpu().detach().numpy(), ref.detach().numpy()
    assert got.shape == want.shape
    if want.dtype.kind == "f":
        rtol = 1e-3 if want.dtype == np.float16 else 1e-6
        np.testing.assert_allclose(got, want, rtol=rtol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, want)


def same_or_both_refuse(fn, ours_args, ref_args):
    """``fn`` gives the same result in both libraries, or both refuse."""
    try:
        ref = fn(*ref_args)
    except (RuntimeError, TypeError, ZeroDivisionError):
        with pytest.raises((RuntimeError, TypeError, ValueError, ZeroDivisionError)):
            fn(*ours_args)
        return
    same(fn(*ours_args), ref)


BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
          "truediv": operator.truediv, "floordiv": operator.floordiv, "mod": operator.mod,
          "lt": operator.lt, "le": operator.le, "eq": operator.eq, "ne": operator.ne,
          "ge": operator.ge, "gt": operator.gt}


def _grid(device):
    dtypes = DTYPES if device == "cpu" else [d for d in DTYPES if d != "float16"]
    return [(a, b) for a, b in itertools.product(dtypes, dtypes)
            if a in INTS or b in INTS]          # each pair with an integer dtype in it


# ---- names -------------------------------------------------------------------------------------
def test_names_like_torch():
    for name in ("int32", "int", "int16", "short", "int8", "uint8", "int64", "long"):
        assert str(getattr(minigrad, name)) == str(getattr(torch, name)).removeprefix("torch.")
    t = minigrad.tensor([1.7, -2.2, 3.0])
    r = torch.tensor([1.7, -2.2, 3.0])
    for method in ("int", "short", "char", "byte", "long"):
        same(getattr(t, method)(), getattr(r, method)())
        assert getattr(t, method)().type() == getattr(r, method)().type().replace(
            "torch.", "minigrad.")
    same(t.to(minigrad.int32), r.to(torch.int32))
    same(t.int().float(), r.int().float())
    assert repr(t.int()) == repr(r.int()).replace("torch.", "minigrad.")
    assert repr(t.byte()) == repr(r.byte()).replace("torch.", "minigrad.")


def test_cuda_type_names():
    from minigrad._dtype import tensor_type_name
    assert tensor_type_name(minigrad.int32, "cuda") == "minigrad.cuda.IntTensor"
    assert tensor_type_name(minigrad.uint8) == "minigrad.ByteTensor"


@pytest.mark.parametrize("dtype", INTS)
def test_factories_take_the_dtype(dtype, device):
    m, t = getattr(minigrad, dtype), getattr(torch, dtype)
    pairs = [(minigrad.zeros(2, 3, dtype=m, device=device), torch.zeros(2, 3, dtype=t)),
             (minigrad.ones(4, dtype=m, device=device), torch.ones(4, dtype=t)),
             (minigrad.full((2,), 7, dtype=m, device=device), torch.full((2,), 7, dtype=t)),
             (minigrad.arange(5, dtype=m, device=device), torch.arange(5, dtype=t)),
             (minigrad.arange(1, 9, 3, dtype=m, device=device), torch.arange(1, 9, 3, dtype=t)),
             (minigrad.tensor([[1, 2]], dtype=m, device=device), torch.tensor([[1, 2]],
                                                                               dtype=t))]
    for ours, ref in pairs:
        same(ours, ref)
        assert ours.device.type == device
        same(minigrad.zeros_like(ours), torch.zeros_like(ref))
        same(minigrad.ones_like(ours), torch.ones_like(ref))
    assert minigrad.empty(2, dtype=m, device=device).dtype == m
    r = minigrad.randint(0, 5, (50,), dtype=m, device=device)
    assert r.dtype == m and 0 <= int(r.min()) and int(r.max()) < 5
    assert minigrad.zeros(2, dtype=minigrad.float32).int().dtype == minigrad.int32


# ---- promotion over a grid of dtype pairs ----------------------------------------------------
@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_ops_over_dtype_pairs_like_torch(op, device):
    fn = BINARY[op]
    for a_dtype, b_dtype in _grid(device):
        divisor = op in ("truediv", "floordiv", "mod")
        if divisor and "bool" in (a_dtype, b_dtype) and op != "truediv":
            continue                              # bool // bool: not a case worth having
        a, ra = pair(VALUES[a_dtype], a_dtype, device)
        b, rb = pair((DIVISORS if divisor else VALUES)[b_dtype], b_dtype, device)
        with np.errstate(all="ignore"):
            same_or_both_refuse(fn, (a, b), (ra, rb))
            same_or_both_refuse(fn, (a, b[1:2].reshape(())), (ra, rb[1:2].reshape(())))
            same_or_both_refuse(fn, (a[2:3].reshape(()), b), (ra[2:3].reshape(()), rb))


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("number", [3, 300, -1, 2.5, True])
def test_ops_with_python_numbers_like_torch(op, number, device):
    """A Python int takes an integer tensor's dtype, wrapping (uint8 + 300 adds 44); a float
    makes the result float32."""
    fn = BINARY[op]
    if op in ("floordiv", "mod") and number in (True, 300):
        return                                    # 300 wraps to 44 in uint8 but 0 elsewhere
    for dtype in INTS:
        a, ra = pair(VALUES[dtype], dtype, device)
        with np.errstate(all="ignore"):
            same_or_both_refuse(fn, (a, number), (ra, number))
            if op not in ("floordiv", "mod", "truediv"):
                same_or_both_refuse(fn, (number, a), (number, ra))


def test_result_types_the_brief_names():
    cases = [("int32", 1), ("uint8", 300), ("int32", "int64"), ("uint8", "int8"),
             ("int16", "float16"), ("int32", 1.5), ("uint8", "bool")]
    for a_dtype, b in cases:
        a, ra = pair([1, 2], a_dtype)
        ours_b, ref_b = (b, b) if not isinstance(b, str) else pair([3, 4], b)
        same(a + ours_b, ra + ref_b)
    a, ra = pair([1, 2], "int32")
    same(a + minigrad.tensor(5), ra + torch.tensor(5))             # 0-d int64: int32
    same(a + minigrad.tensor(5.0), ra + torch.tensor(5.0))         # 0-d float: float32
    same(a / a, ra / ra)
    same(a ** 2, ra ** 2)
    same(2 ** a, 2 ** ra)
    same(a @ a, ra @ ra)
    with pytest.raises(RuntimeError, match="negative integer powers"):
        a ** -1
    u, ru = pair([0, 200, 255], "uint8")
    s, rs = pair([-128, 5, 127], "int8")              # min by −x would be wrong for both
    same(u.minimum(s), ru.minimum(rs))
    same(minigrad.minimum(s, u), torch.minimum(rs, ru))
    same(s.min(), rs.min())
    same(a + 2**63, ra + 2**63)                     # wraps, as in PyTorch
    with pytest.raises(RuntimeError, match="int too big to convert"):
        a + 2**64
    same(u.amin(0), ru.amin(0))


@pytest.mark.parametrize("dtype", INTS)
def test_reductions_like_torch(dtype, device):
    """Sums, products and running sums of integers are int64; max, min keep the dtype;
    argmax is int64; mean and std refuse integers."""
    a, ra = pair([[v for v in VALUES[dtype]], [3, 1, 2, 1]], dtype, device)
    for fn in (lambda t: t.sum(), lambda t: t.sum(1), lambda t: t.sum(0, keepdim=True),
               lambda t: t.prod(1), lambda t: t.cumsum(1), lambda t: t.cumprod(0),
               lambda t: t.max(), lambda t: t.min(), lambda t: t.max(1).values,
               lambda t: t.min(0).indices, lambda t: t.argmax(), lambda t: t.argmin(1),
               lambda t: t.amax(0), lambda t: t.amin(1), lambda t: t.abs(), lambda t: -t,
               lambda t: t.clamp(0, 100), lambda t: t.clamp(0, 1.5),
               lambda t: t.float().mean(), lambda t: t.count_nonzero()):
        with np.errstate(all="ignore"):
            same(fn(a), fn(ra))
    with pytest.raises((RuntimeError, TypeError)):
        a.mean()
    with pytest.raises((RuntimeError, TypeError)):
        a.std()


# ---- in-place ops, range checks, requires_grad ----------------------------------------------
def test_inplace_ops_keep_the_dtype_like_torch(device):
    ours, ref = minigrad.zeros(3, dtype=minigrad.int32, device=device), torch.zeros(
        3, dtype=torch.int32)
    for o, r in ((ours, ref),):
        o += 1
        r += 1
        o += minigrad.tensor([1, 2, 3], device=device)     # int64 into int32 stays int32
        r += torch.tensor([1, 2, 3])
        o *= 3
        r *= 3
        o //= 2
        r //= 2
    same(ours, ref)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                           "output type Int"):
        ours += 1.5
    with pytest.raises(RuntimeError, match="result type Float can't be cast"):
        ours /= 2
    u, ru = pair([0, 1, 2], "uint8", device)
    u -= 1
    ru -= 1
    same(u, ru)                                             # 0 − 1 wraps to 255


def test_python_numbers_must_fit_like_torch():
    for values, dtype in (([300], "uint8"), ([-256], "uint8"), ([200], "int8"),
                          ([2**31], "int32"), ([2**40], "int32"), ([1e20], "int16"),
                          ([float("nan")], "int32"), ([300.5], "uint8")):
        with pytest.raises(RuntimeError) as ref:
            torch.tensor(values, dtype=getattr(torch, dtype))
        with pytest.raises(RuntimeError, match=f"value cannot be converted to type {dtype} "
                                               "without overflow"):
            minigrad.tensor(values, dtype=getattr(minigrad, dtype))
        assert "without overflow" in str(ref.value)
    for values, dtype in (([-1], "uint8"), ([-200], "uint8"), ([1.7, -1.7], "int32"),
                          ([-128, 127], "int8")):
        same(*pair(values, dtype))
    # an array is converted as it is, wrapping, as torch.tensor(array, dtype=...) does
    same(minigrad.tensor(np.array([300, -1]), dtype=minigrad.uint8),
         torch.tensor(np.array([300, -1]), dtype=torch.uint8))
    with pytest.raises(RuntimeError, match="without overflow"):
        minigrad.full((2,), 300, dtype=minigrad.uint8)
    t, r = pair([0, 0], "uint8")
    same(t.fill_(-1), r.fill_(-1))
    with pytest.raises(RuntimeError, match="without overflow"):
        t.fill_(300)
    i = minigrad.zeros(3, dtype=minigrad.int32)
    with pytest.raises(RuntimeError, match="without overflow"):
        i[0] = 2**40
    i[1] = 2.7
    assert i.tolist() == [0, 2, 0]


@pytest.mark.parametrize("dtype", INTS)
def test_integer_tensors_cannot_require_grad(dtype):
    with pytest.raises(RuntimeError, match="only floating-point tensors can require gradients"):
        minigrad.zeros(2, dtype=getattr(minigrad, dtype)).requires_grad_()
    with pytest.raises(RuntimeError, match="only floating-point"):
        minigrad.tensor([1, 2], dtype=getattr(minigrad, dtype), requires_grad=True)


# ---- index tensors ---------------------------------------------------------------------------
def test_int32_index_tensors_like_torch(device):
    x, rx = pair([[5.0, 6.0, 7.0], [8.0, 9.0, 10.0]], "float32", device)
    i, ri = pair([0, 2, 2], "int32")
    same(x[:, i], rx[:, ri])
    same(x[1, i], rx[1, ri])
    same(x.index_select(1, i), rx.index_select(1, ri))
    g, rg = pair([[0, 2], [1, 1]], "int32")
    same(x.gather(1, g), rx.gather(1, rg))
    same(x.scatter_add(1, g, x[:, :2]), rx.scatter_add(1, rg, rx[:, :2]))
    same(x.index_add(1, i, x), rx.index_add(1, ri, rx))
    counts = minigrad.zeros(3, 3, dtype=minigrad.int32, device=device)
    rcounts = torch.zeros(3, 3, dtype=torch.int32)
    counts[i, i] += 1
    rcounts[ri, ri] += 1
    same(counts, rcounts)
    with pytest.raises(IndexError, match="must be long, int, byte or bool"):
        x[:, i.short()]
    with pytest.raises(IndexError, match="int32 or int64"):
        x.index_select(1, i.char())
    with pytest.warns(UserWarning, match="uint8 is now deprecated"):
        mask = minigrad.tensor([1, 0, 1], dtype=minigrad.uint8)
        same(x[:, mask], rx[:, torch.tensor([True, False, True])])


# ---- layers ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["int32", "uint8"])
def test_layers_refuse_integer_inputs(dtype, device):
    x = minigrad.ones(2, 3, dtype=getattr(minigrad, dtype), device=device)
    w = minigrad.ones(4, 3, device=device)
    with pytest.raises(TypeError, match=f"expected a floating-point tensor, got {dtype}"):
        F.linear(x, w)
    with pytest.raises(TypeError, match="floating-point"):
        F.conv2d(x.reshape(1, 1, 2, 3), minigrad.ones(1, 1, 1, 1, device=device))
    same(F.linear(x.float(), w), torch.nn.functional.linear(torch.ones(2, 3), torch.ones(4, 3)))


def test_class_targets_like_torch(device):
    rng = np.random.default_rng(0)
    z = rng.standard_normal((3, 4)).astype(np.float32)
    logits, ref_logits = minigrad.tensor(z, device=device), torch.tensor(z)
    target = minigrad.tensor([0, 3, 1], device=device)
    for loss, ref_loss in ((F.cross_entropy, torch.nn.functional.cross_entropy),
                           (F.nll_loss, torch.nn.functional.nll_loss)):
        same(loss(logits, target.byte()), ref_loss(ref_logits, torch.tensor([0, 3, 1]).byte()))
        for cast in ("int", "short", "char"):
            with pytest.raises(RuntimeError) as ref:
                ref_loss(ref_logits, getattr(torch.tensor([0, 3, 1]), cast)())
            with pytest.raises(RuntimeError) as ours:
                loss(logits, getattr(target, cast)())
            assert str(ours.value) == str(ref.value)
    emb = minigrad.tensor(rng.standard_normal((5, 2)), device=device)
    same(F.embedding(target.int(), emb), torch.nn.functional.embedding(
        torch.tensor([0, 3, 1]).int(), torch.tensor(emb.cpu().numpy())))


# ---- NumPy, DataLoader, save/load --------------------------------------------------------------
@pytest.mark.parametrize("dtype", INTS)
def test_numpy_round_trip_keeps_the_dtype_and_memory(dtype):
    array = np.array([1, 2, 3], dtype=dtype)
    t, r = minigrad.from_numpy(array), torch.from_numpy(array.copy())
    same(t, r)
    t += 1
    assert array.tolist() == [2, 3, 4]                      # shared memory, as torch
    assert t.numpy().dtype == np.dtype(dtype)
    same(minigrad.tensor(array), torch.tensor(array))
    same(minigrad.as_tensor(array), torch.as_tensor(array))


def test_default_collate_keeps_integer_dtypes():
    import torch.utils.data as tud
    for dtype in ("int32", "uint8", "int16"):
        arrays = [np.array([1, 2], dtype=dtype), np.array([3, 4], dtype=dtype)]
        same(default_collate(arrays), tud.default_collate(arrays))
        tensors = [minigrad.tensor(a) for a in arrays]
        same(default_collate(tensors), tud.default_collate([torch.tensor(a) for a in arrays]))


def test_save_and_load_integer_tensors():
    state = {d: minigrad.tensor(VALUES[d], dtype=getattr(minigrad, d)) for d in INTS}
    buffer = io.BytesIO()
    minigrad.save(state, buffer)
    buffer.seek(0)
    loaded = minigrad.load(buffer)
    for d in INTS:
        assert loaded[d].dtype == getattr(minigrad, d)
        assert loaded[d].tolist() == state[d].tolist()


# ---- makemore: bigram counts in int32 -------------------------------------------------------
WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia"]


def _bigram(lib, device):
    chars = sorted(set("".join(WORDS)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    n = len(stoi)
    kw = {} if lib is torch else {"device": device}
    N = lib.zeros((n, n), dtype=lib.int32, **kw)
    for w in WORDS:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            N[stoi[ch1], stoi[ch2]] += 1
    P = (N + 1).float()
    P /= P.sum(1, keepdims=True)
    return N, P


def test_makemore_bigram_counts_like_torch(device):
    N, P = _bigram(minigrad, device)
    ref_N, ref_P = _bigram(torch, "cpu")
    same(N, ref_N)
    same(P, ref_P)
    g = minigrad.Generator().manual_seed(2147483647)
    ix, out = 0, []
    for _ in range(20):
        ix = minigrad.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()
        out.append(ix)
        if ix == 0:
            break
    assert all(0 <= i < P.shape[0] for i in out)
    log_likelihood = P[N.nonzero(as_tuple=True)].log().sum()
    assert log_likelihood.dtype == minigrad.float32
