"""Parameter groups and per-parameter state as PyTorch keeps them: state keyed by the
parameter itself, and a parameter in two groups refused."""
import numpy as np
import pytest
import torch

import minigrad


@pytest.mark.parametrize("make", [
    lambda m, ps: m.optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda m, ps: m.optim.Adam(ps, lr=0.1),
    lambda m, ps: m.optim.RMSprop(ps, lr=0.1),
    lambda m, ps: m.optim.Adadelta(ps),
])
def test_state_is_keyed_by_the_parameter(make):
    p = minigrad.ones(3, requires_grad=True)
    t = torch.ones(3, requires_grad=True)
    ours, ref = make(minigrad, [p]), make(torch, [t])
    for param, opt in ((p, ours), (t, ref)):
        (param * param).sum().backward()
        opt.step()
    assert p in ours.state and t in ref.state
    assert sorted(ours.state[p]) == sorted(ref.state[t])
    for key, value in ref.state[t].items():
        if value.ndim:
            np.testing.assert_allclose(np.asarray(minigrad.as_tensor(ours.state[p][key])),
                                       value.numpy(), rtol=1e-6)
    again = make(minigrad, [p])
    again.load_state_dict(ours.state_dict())
    assert p in again.state


def test_a_parameter_in_two_groups_is_an_error_like_torch():
    for m in (minigrad, torch):
        a, b = m.ones(2, requires_grad=True), m.ones(2, requires_grad=True)
        with pytest.raises(ValueError, match="more than one parameter group"):
            m.optim.SGD([{"params": [a, b]}, {"params": [a], "lr": 1.0}], lr=0.1)
        m.optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)     # fine


def test_shared_parameter_of_two_modules_is_stepped_once():
    shared = minigrad.nn.Linear(2, 2)
    model = minigrad.nn.Sequential(shared, shared)
    opt = minigrad.optim.SGD([{"params": [shared.weight]}, {"params": [shared.bias]}], lr=1.0)
    shared.weight.grad = minigrad.ones(2, 2)
    before = shared.weight.detach().clone()
    opt.step()
    assert np.allclose((before - shared.weight.detach()).numpy(), 1.0)
    assert len(list(model.parameters())) == 2
