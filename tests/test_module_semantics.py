"""How a Module registers, replaces, shares and deletes what it holds, against PyTorch:
shared modules visited once, tied weights kept under every name in the state_dict,
parameter order kept on reassignment, wrong-type assignments refused, ``del``."""
import pytest
import torch

import minigrad


def both(build):
    """The same construction in minigrad and PyTorch."""
    return build(minigrad), build(torch)


def shared_model(m):
    block = m.nn.Linear(2, 2)
    model = m.nn.Sequential(block, m.nn.ReLU(), block)
    return model


def tied_model(m):
    class Tied(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = m.nn.Embedding(5, 3)
            self.out = m.nn.Linear(3, 5, bias=False)
            self.out.weight = self.embed.weight
    return Tied()


@pytest.mark.parametrize("build", [shared_model, tied_model])
def test_shared_modules_and_tied_weights_like_torch(build):
    ours, ref = both(build)
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in ref.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in ref.named_children()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert list(ours.state_dict()) == list(ref.state_dict())
    visits = {"ours": [], "ref": []}
    ours.apply(lambda mod: visits["ours"].append(type(mod).__name__))
    ref.apply(lambda mod: visits["ref"].append(type(mod).__name__))
    assert visits["ours"] == visits["ref"]
    assert len(list(ours.modules())) == len(list(ref.modules()))
    ref.load_state_dict(ours.state_dict())


def test_reassigning_a_parameter_keeps_its_place_like_torch():
    for m in (minigrad, torch):
        lin = m.nn.Linear(2, 3)
        lin.weight = m.nn.Parameter(m.zeros(3, 2))
        lin.extra = m.nn.Parameter(m.ones(1))
        if m is minigrad:
            ours = [n for n, _ in lin.named_parameters()]
        else:
            assert ours == [n for n, _ in lin.named_parameters()] == ["weight", "bias", "extra"]
    seq_names = []
    for m in (minigrad, torch):
        seq = m.nn.Sequential(m.nn.Linear(1, 1), m.nn.ReLU())
        seq[1] = m.nn.Sigmoid()
        setattr(seq, "0", m.nn.Tanh())
        seq_names.append([type(x).__name__ for x in seq])
    assert seq_names[0] == seq_names[1] == ["Tanh", "Sigmoid"]


@pytest.mark.parametrize("assign", [
    lambda m, lin: setattr(lin, "weight", m.zeros(3, 2)),           # a tensor, not a Parameter
    lambda m, lin: setattr(lin, "weight", 3),
    lambda m, lin: setattr(lin, "weight", [1.0]),
])
def test_wrong_type_for_a_parameter_is_refused_like_torch(assign):
    for m in (minigrad, torch):
        lin = m.nn.Linear(2, 3)
        with pytest.raises(TypeError, match="cannot assign"):
            assign(m, lin)
        assert isinstance(lin.weight, m.nn.Parameter)


def test_wrong_type_for_a_module_or_buffer_is_refused_like_torch():
    for m in (minigrad, torch):
        outer = m.nn.Module()
        outer.inner = m.nn.Linear(1, 1)
        outer.register_buffer("stat", m.zeros(1))
        with pytest.raises(TypeError, match="cannot assign"):
            outer.inner = 3
        with pytest.raises(TypeError, match="cannot assign"):
            outer.stat = 3
        outer.inner = None
        outer.stat = None
        assert outer.inner is None and outer.stat is None
        assert list(outer.state_dict()) == []
        lin = m.nn.Linear(2, 2)
        lin.bias = None
        assert [n for n, _ in lin.named_parameters()] == ["weight"]


def test_del_removes_parameters_modules_and_buffers_like_torch():
    for m in (minigrad, torch):
        model = m.nn.Sequential(m.nn.Linear(2, 2))
        model.fc = m.nn.Linear(2, 1)
        model.register_buffer("stat", m.zeros(1))
        model.scale = m.nn.Parameter(m.ones(1))
        model.note = "plain"
        del model.fc, model.stat, model.scale, model.note
        assert list(model.state_dict()) == ["0.weight", "0.bias"]
        for name in ("fc", "stat", "scale", "note"):
            assert not hasattr(model, name)
        with pytest.raises(AttributeError):
            del model.missing


def test_a_plain_attribute_becomes_a_parameter_when_one_is_assigned():
    for m in (minigrad, torch):
        mod = m.nn.Module()
        mod.w = 3
        mod.w = m.nn.Parameter(m.ones(2))
        assert isinstance(mod.w, m.nn.Parameter)
        assert [n for n, _ in mod.named_parameters()] == ["w"]
