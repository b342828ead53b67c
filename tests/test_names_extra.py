"""More names tutorial code types: nn.utils.rnn.pad_sequence, distributions.Categorical,
nn.InstanceNorm1d/2d with F.instance_norm, optim.Adamax and optim.NAdam — against PyTorch
(values and gradients, float64 and float32, CPU and GPU), by finite differences, and
PyTorch's refusals, in the style of test_nn_names."""
import functools

import numpy as np
import pytest
import torch

import minigrad
from helpers import check_against_torch, gradcheck_numpy, rel_err

rng = np.random.default_rng(33)


def normal(*shape):
    return rng.standard_normal(shape)


def _pad(m, *seqs, **kw):
    return m.nn.utils.rnn.pad_sequence(list(seqs), **kw)


# name: (f(m, *tensors) with m minigrad or torch, inputs)
CASES = {
    "pad_sequence": (lambda m, a, b, c: _pad(m, a, b, c), [normal(3), normal(5), normal(1)]),
    "pad_sequence_batch_first": (
        lambda m, a, b: _pad(m, a, b, batch_first=True, padding_value=-2.5),
        [normal(2, 3), normal(4, 3)]),
    "pad_sequence_left": (
        lambda m, a, b, c: _pad(m, a, b, c, batch_first=True, padding_side="left"),
        [normal(2, 2, 3), normal(4, 2, 3), normal(4, 2, 3)]),
    "pad_sequence_left_time_first": (
        lambda m, a, b: _pad(m, a, b, padding_side="left", padding_value=1.0),
        [normal(3, 2), normal(1, 2)]),
}


def _run(name, module):
    return functools.partial(CASES[name][0], module)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_against_torch(name, dtype, device):
    check_against_torch(_run(name, minigrad), _run(name, torch), CASES[name][1], dtype=dtype,
                        device=device)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name, device):
    assert gradcheck_numpy(_run(name, minigrad), CASES[name][1], device=device)


# ---- nn.utils.rnn ---------------------------------------------------------------------------
def test_pad_sequence_of_a_tensor_takes_its_rows():
    x = normal(2, 3)
    ours = minigrad.nn.utils.rnn.pad_sequence(minigrad.tensor(x))
    ref = torch.nn.utils.rnn.pad_sequence(torch.tensor(x))
    assert ours.shape == tuple(ref.shape) == (3, 2)
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


@pytest.mark.parametrize("call, match", [
    (lambda m: m.nn.utils.rnn.pad_sequence([]), "received an empty list of sequences"),
    (lambda m: m.nn.utils.rnn.pad_sequence([m.zeros(2, 3), m.zeros(3, 4)]), None),
    (lambda m: m.nn.utils.rnn.pad_sequence([m.zeros(2)], padding_side="mid"),
     "Expected padding_side to be one of left or right, but got mid."),
    (lambda m: m.nn.utils.rnn.pad_sequence([m.zeros(())]), None),
])
def test_pad_sequence_refuses_what_torch_refuses(call, match):
    with pytest.raises(RuntimeError) as ref:
        call(torch)
    with pytest.raises(RuntimeError) as ours:
        call(minigrad)
    if match:
        assert match in str(ref.value) and match in str(ours.value)


def test_packing_says_minigrad_takes_padded_batches():
    from minigrad.nn.utils.rnn import pack_padded_sequence
    with pytest.raises(NotImplementedError, match="padded"):
        pack_padded_sequence(minigrad.zeros(3, 2, 4), [3, 2])
