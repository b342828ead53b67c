"""Property-based tests (hypothesis): random shapes, dims, dtypes and indices for
broadcasting binary ops, reductions, shape ops and indexing, each compared with PyTorch —
values, result dtypes, gradients, and which inputs are errors.

The example counts are modest so the suite stays fast, and ``derandomize=True`` makes every
run (and CI) draw the same examples."""
import operator
import os

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import minigrad

# MINIGRAD_PROPERTY_EXAMPLES=1000 for a longer hunt on your machine
PROPERTY = settings(max_examples=int(os.environ.get("MINIGRAD_PROPERTY_EXAMPLES", 40)),
                    derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
DTYPES = ["float32", "float64", "int64", "bool"]
TOL = {"float32": 2e-6, "float64": 1e-12}


def make_array(rng, shape, dtype):
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype == "int64":
        return rng.integers(-4, 5, shape)
    # distinct values (no ties for max), never 0 (no division by zero in the float case)
    n = int(np.prod(shape))
    values = (rng.permutation(n) + 1) / (n + 1) * rng.choice([-3.0, 3.0], n)
    return values.reshape(shape).astype(dtype)


def both(array, requires_grad=False):
    grad = requires_grad and array.dtype.kind == "f"
    return (minigrad.tensor(array, requires_grad=grad),
            torch.tensor(array, requires_grad=grad))


def same_outcome(fn_ours, fn_ref, exact_type=True):
    """Run both; if PyTorch raises, minigrad must raise too (the same type when asked).
    Returns (ours, ref), or None when both raised."""
    try:
        ref = fn_ref()
    except (RuntimeError, IndexError, ValueError, TypeError) as e:
        with pytest.raises(type(e) if exact_type else Exception):
            fn_ours()
        return None
    return fn_ours(), ref


def assert_same_values(ours, ref):
    assert str(ours.dtype) == str(ref.dtype).replace("torch.", ""), (ours.dtype, ref.dtype)
    assert ours.shape == tuple(ref.shape)
    a, b = ours.detach().numpy(), ref.detach().numpy()
    if a.dtype.kind == "f":
        # atol: a float32 sum that cancels to ~0 differs by rounding (values here are ≤ 3)
        np.testing.assert_allclose(a, b, rtol=TOL[str(a.dtype)], equal_nan=True,
                                   atol=1e-6 if a.dtype == np.float32 else 1e-12)
    else:
        np.testing.assert_array_equal(a, b)


def assert_same_grads(ours_out, ref_out, ours_in, ref_in, seed=0):
    if not ours_out.requires_grad:
        return
    upstream = np.random.default_rng(seed).standard_normal(ours_out.shape)
    ours_out.backward(minigrad.tensor(upstream.astype(ours_out.dtype)))
    ref_out.backward(torch.tensor(upstream.astype(ours_out.dtype)))
    for o, r in zip(ours_in, ref_in):
        if isinstance(o, minigrad.Tensor) and o.requires_grad:
            assert o.grad is not None and o.grad.dtype == o.dtype
            np.testing.assert_allclose(o.grad.numpy(), r.grad.numpy(),
                                       rtol=TOL[str(o.dtype)] * 10, atol=1e-6)


# ---- broadcasting binary ops --------------------------------------------------------------
BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
          "<": operator.lt, "==": operator.eq, "max": None}


def python_number(rng, dtype):
    return {"bool": True, "int64": int(rng.integers(1, 4)),
            "float32": float(rng.uniform(0.5, 2)), "float64": -1.5}[dtype]


@PROPERTY
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       dtypes=st.tuples(st.sampled_from(DTYPES), st.sampled_from(DTYPES)),
       op=st.sampled_from(sorted(BINARY)), number=st.sampled_from([None, "left", "right"]),
       seed=st.integers(0, 2**16))
def test_broadcasting_binary_ops(shapes, dtypes, op, number, seed):
    rng = np.random.default_rng(seed)
    arrays = [make_array(rng, s, d) for s, d in zip(shapes.input_shapes, dtypes)]
    ours_in, ref_in = zip(*(both(a, requires_grad=True) for a in arrays))
    ours_in, ref_in = list(ours_in), list(ref_in)
    if number is not None and op != "max":          # one side a Python number
        i = 0 if number == "left" else 1
        ours_in[i] = ref_in[i] = python_number(rng, dtypes[i])
    if op == "max":
        fn_ours, fn_ref = (lambda a, b: a.maximum(b)), torch.maximum
    else:
        fn_ours = fn_ref = BINARY[op]
    outcome = same_outcome(lambda: fn_ours(*ours_in), lambda: fn_ref(*ref_in))
    if outcome is not None:
        assert_same_values(*outcome)
        assert_same_grads(*outcome, ours_in, ref_in, seed)


# ---- reductions -------------------------------------------------------------------------------
@st.composite
def reduction_cases(draw):
    shape = draw(array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4))
    n = max(len(shape), 1)
    op = draw(st.sampled_from(["sum", "mean", "max"]))
    if op == "max":
        dim = draw(st.one_of(st.none(), st.integers(-n - 1, n)))
    else:
        dim = draw(st.one_of(st.none(), st.integers(-n - 1, n),
                             st.lists(st.integers(-n, n - 1), min_size=1, max_size=n,
                                      unique=True).map(tuple)))
    return shape, op, dim, draw(st.booleans()), draw(st.sampled_from(["float32", "float64"]))


@PROPERTY
@given(case=reduction_cases(), seed=st.integers(0, 2**16))
def test_reductions(case, seed):
    shape, op, dim, keepdim, dtype = case
    x, tx = both(make_array(np.random.default_rng(seed), shape, dtype), requires_grad=True)

    def call(t):
        if dim is None:
            return getattr(t, op)()
        out = getattr(t, op)(dim, keepdim=keepdim)
        return out[0] if op == "max" else out
    outcome = same_outcome(lambda: call(x), lambda: call(tx))
    if outcome is not None:
        assert_same_values(*outcome)
        assert_same_grads(*outcome, [x], [tx], seed)


# ---- shape ops --------------------------------------------------------------------------------
@st.composite
def shape_cases(draw):
    shape = draw(array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3))
    nd = len(shape)
    op = draw(st.sampled_from(["reshape", "permute", "transpose", "unsqueeze", "squeeze",
                               "flatten"]))
    some_dim = st.integers(-nd - 2, nd + 1)
    if op == "reshape":
        new = list(reversed(shape))
        if new and draw(st.booleans()):
            new[draw(st.integers(0, len(new) - 1))] = -1
        args = (tuple(new),)
    elif op == "permute":
        perm = draw(st.permutations(range(nd)))
        if perm and draw(st.booleans()):
            perm[draw(st.integers(0, nd - 1))] = draw(some_dim)
        args = (tuple(perm),)
    elif op in ("transpose", "flatten"):
        args = (draw(some_dim), draw(some_dim))
    elif op == "unsqueeze":
        args = (draw(some_dim),)
    else:                                             # squeeze() or squeeze(dim)
        args = draw(st.one_of(st.just(()), some_dim.map(lambda d: (d,))))
    return shape, op, args


@PROPERTY
@given(case=shape_cases(), seed=st.integers(0, 2**16))
def test_shape_ops(case, seed):
    shape, op, args = case
    x, tx = both(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)
    outcome = same_outcome(lambda: getattr(x, op)(*args), lambda: getattr(tx, op)(*args),
                           exact_type=op != "reshape")   # reshape: ValueError vs RuntimeError
    if outcome is not None:
        assert_same_values(*outcome)
        assert_same_grads(*outcome, [x], [tx], seed)


# ---- indexing, reading and writing ------------------------------------------------------------
@st.composite
def index_cases(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    parts = []
    for side in shape[:draw(st.integers(1, len(shape)))]:
        kind = draw(st.sampled_from(["int", "slice", "list"]))
        if kind == "int":
            parts.append(draw(st.integers(-side, side - 1)))
        elif kind == "slice":
            parts.append(slice(draw(st.one_of(st.none(), st.integers(-side - 1, side + 1))),
                               draw(st.one_of(st.none(), st.integers(-side - 1, side + 1))),
                               draw(st.one_of(st.none(), st.integers(1, 3)))))
        else:
            parts.append(draw(st.lists(st.integers(-side, side - 1), min_size=1, max_size=4)))
    if sum(isinstance(p, list) for p in parts) > 1:       # one index list: no pairing rules
        parts = [p[0] if isinstance(p, list) else p for p in parts]
    for _ in range(draw(st.integers(0, 2))):              # None (a new dim) anywhere
        parts.insert(draw(st.integers(0, len(parts))), None)
    if draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), Ellipsis)
    return shape, tuple(parts)


@PROPERTY
@given(case=index_cases(), dtype=st.sampled_from(["float32", "float64"]),
       seed=st.integers(0, 2**16))
def test_indexing(case, dtype, seed):
    shape, index = case
    array = make_array(np.random.default_rng(seed), shape, dtype)
    x, tx = both(array, requires_grad=True)
    outcome = same_outcome(lambda: x[index], lambda: tx[index])
    if outcome is None:
        return
    assert_same_values(*outcome)
    assert_same_grads(*outcome, [x], [tx], seed)
    # writing: the same index, a broadcast value, on copies without grad
    w, tw = both(array)
    value = float(np.random.default_rng(seed).integers(-9, 9))
    w[index] = value
    tw[index] = value
    assert_same_values(w, tw)
    assert w._version == tw._version == 1
