"""Edge cases where PyTorch has a definite answer — an empty dim, a float bound on an int
tensor, a zero-sized layer, an impossible range or size, an int64 overflow, a wrong .grad —
and minigrad must give the same result or refuse in the same way (not wrap, round or divide
by zero)."""
import warnings

import pytest
import torch

import minigrad


def results(f):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(minigrad), f(torch)


def test_max_over_an_empty_batch_like_torch():
    ours, ref = results(lambda m: m.zeros(0, 3).max(1))
    assert ours.values.shape == tuple(ref.values.shape) == (0,)
    assert ours.indices.dtype == minigrad.int64
    ours, ref = results(lambda m: m.zeros(0, 3).min(1))
    assert ours.values.shape == (0,)
    for m in (minigrad, torch):
        with pytest.raises(IndexError):
            m.zeros(3, 0).max(1)
        with pytest.raises((IndexError, RuntimeError)):
            m.zeros(0).max()


@pytest.mark.parametrize("f", [
    lambda m: m.tensor([0, 1, 2]).clamp(min=0.5),
    lambda m: m.tensor([0, 1, 2]).clamp(0, 1.5),
    lambda m: m.tensor([-3, 1, 7]).clamp(-1, 2),
    lambda m: m.tensor([0.25, 1.0]).clamp(min=0.5),
])
def test_clamp_dtype_like_torch(f):
    ours, ref = results(f)
    assert str(ours.dtype) == str(ref.dtype).replace("torch.", "")
    assert ours.tolist() == ref.tolist()


def test_zero_sized_linear_like_torch():
    ours, ref = results(lambda m: m.nn.Linear(0, 3))
    assert ours.weight.shape == tuple(ref.weight.shape) == (3, 0)
    assert ours.bias.tolist() == ref.bias.tolist() == [0.0, 0.0, 0.0]
    out = ours(minigrad.zeros(2, 0))
    assert out.shape == (2, 3) and out.tolist() == [[0.0] * 3] * 2


@pytest.mark.parametrize("f, error", [
    (lambda m: m.arange(0, 1, 0), RuntimeError),
    (lambda m: m.arange(0, 5, -1), RuntimeError),
    (lambda m: m.arange(5, 0, 1), RuntimeError),
    (lambda m: m.zeros(2.5), TypeError),
    (lambda m: m.ones((2, 1.5)), TypeError),
    (lambda m: m.nn.functional.max_pool2d(m.zeros(1, 1, 4, 4), 2, 0), RuntimeError),
    (lambda m: m.tensor(2 ** 63), (RuntimeError, ValueError)),
    (lambda m: m.tensor([1e20], dtype=m.int64), RuntimeError),
])
def test_refused_like_torch(f, error):
    for m in (minigrad, torch):
        with pytest.raises(error):
            f(m)


def test_ranges_that_are_fine():
    for args in ((5, 0, -1), (0, 5, 2), (0.0, 1.0, 0.25), (3, 3)):
        ours, ref = results(lambda m, args=args: m.arange(*args))
        assert ours.tolist() == ref.tolist()
    assert minigrad.zeros(minigrad.tensor(2), 3).shape == (2, 3)


def test_int64_overflow_in_an_assignment_like_torch():
    for m in (minigrad, torch):
        x = m.zeros(2, dtype=m.int64)
        with pytest.raises(RuntimeError, match="overflow"):
            x[0] = 1e20
        x[1] = 2.0 ** 62                       # fits
        assert x.tolist() == [0, 2 ** 62]


@pytest.mark.parametrize("value, error", [
    (lambda m: m.zeros(3), RuntimeError),
    (lambda m: m.zeros(2, dtype=m.float64), RuntimeError),
    (lambda m: 3, TypeError),
    (lambda m: [0.0, 0.0], TypeError),
])
def test_assigning_a_wrong_grad_is_refused_like_torch(value, error):
    for m in (minigrad, torch):
        x = m.zeros(2, requires_grad=True)
        with pytest.raises(error):
            x.grad = value(m)
        assert x.grad is None
        x.grad = m.ones(2)
        x.grad = None


def test_save_into_a_missing_folder_names_the_folder(tmp_path):
    target = tmp_path / "missing" / "model.pt"
    for m in (minigrad, torch):
        with pytest.raises(RuntimeError, match="missing"):
            m.save({"w": m.zeros(2)}, target)
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("make_base", [
    lambda m: m.ones(3, requires_grad=True) * 1,
    lambda m: m.ones(3, requires_grad=True),
])
def test_a_no_grad_view_written_with_grad_on_is_refused_like_torch(make_base):
    for m in (minigrad, torch):
        x = make_base(m)
        with m.no_grad():
            v = x[:2]
        with pytest.raises(RuntimeError, match="view was created in no_grad mode"):
            v.mul_(2)
        with m.no_grad():
            v.mul_(2)                        # both inside no_grad: fine
        assert x.tolist() == [2.0, 2.0, 1.0]
    for m in (minigrad, torch):             # a base without grad: nothing to be ambiguous
        x = m.ones(3)
        with m.no_grad():
            v = x[:2]
        v.mul_(2)
        assert x.tolist() == [2.0, 2.0, 1.0]
