"""nn.Module and the layers: names, state dicts, repr, init, and LeNet against PyTorch."""
import math

import numpy as np
import pytest
import torch

import minigrad
from examples.lenet import lenet
from helpers import rel_err
from minigrad import nn


def torch_and_ours(dtype="float32", device="cpu"):
    """The two LeNets with PyTorch's weights copied into ours."""
    torch.manual_seed(0)
    ref = lenet(torch.nn).to(getattr(torch, dtype))
    ours = lenet(nn).to(dtype).to(device)
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    return ref, ours


def batch(n=8, seed=0):
    g = np.random.default_rng(seed)
    return g.random((n, 1, 28, 28)), g.integers(0, 10, n)


def test_state_dict_keys_and_shapes_match_torch():
    ref, ours = lenet(torch.nn), lenet(nn)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert [tuple(v.shape) for v in ref.state_dict().values()] == \
        [v.shape for v in ours.state_dict().values()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]


def test_repr_equals_torch():
    assert repr(lenet(nn)) == repr(lenet(torch.nn))
    for args in [(3, 8, 3), (3, 8, (3, 5))]:
        kw = dict(stride=2, padding=1, bias=False)
        assert repr(nn.Conv2d(*args, **kw)) == repr(torch.nn.Conv2d(*args, **kw))
    assert repr(nn.MaxPool2d(3, 2, 1)) == repr(torch.nn.MaxPool2d(3, 2, 1))
    assert repr(nn.Linear(3, 2, bias=False)) == repr(torch.nn.Linear(3, 2, bias=False))
    assert repr(nn.ReLU()) == repr(torch.nn.ReLU())
    assert repr(nn.CrossEntropyLoss()) == repr(torch.nn.CrossEntropyLoss())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lenet_loss_and_every_gradient_match_torch(dtype, device):
    ref, ours = torch_and_ours(dtype, device)
    x, y = batch()
    tdt = getattr(torch, dtype)
    loss_ref = torch.nn.CrossEntropyLoss()(ref(torch.tensor(x, dtype=tdt)), torch.tensor(y))
    loss_ref.backward()
    loss = nn.CrossEntropyLoss()(ours(minigrad.tensor(x, dtype=dtype, device=device)),
                                 minigrad.tensor(y, device=device))
    loss.backward()
    # float32: the two frameworks round differently inside each GEMM; 1e-5 normwise holds.
    tol = 1e-10 if dtype == "float64" else 1e-5
    assert abs(loss.item() - loss_ref.item()) <= tol * abs(loss_ref.item())
    grads_ref = {k: p.grad.numpy() for k, p in ref.named_parameters()}
    for name, p in ours.named_parameters():
        assert rel_err(p.grad.cpu().numpy(), grads_ref[name]) <= tol, name


def test_parameters_children_modules_train_eval():
    seq = lenet(nn)
    m = nn.Sequential(seq, nn.Sigmoid())        # a container inside a container
    assert len(list(m.parameters())) == 10
    assert [type(c).__name__ for c in m.children()] == ["Sequential", "Sigmoid"]
    assert len(list(m.modules())) == 15
    assert next(m.named_parameters())[0] == "0.0.weight"
    assert m.training and all(x.training for x in m.modules())
    m.eval()
    assert not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    assert len(seq) == 12 and isinstance(seq[0], nn.Conv2d) and isinstance(seq[-1], nn.Linear)
    assert len(seq[:3]) == 3


def test_zero_grad_and_to_keep_parameter_identity():
    m = lenet(nn)
    params = list(m.parameters())
    x, y = batch(2)
    nn.CrossEntropyLoss()(m(minigrad.tensor(x, dtype="float32")), minigrad.tensor(y)).backward()
    assert all(p.grad is not None for p in params)
    m.zero_grad()
    assert all(p.grad is None for p in params)
    m.double()
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    assert all(p.dtype == minigrad.float64 for p in params)


def test_init_follows_torch_bounds():
    minigrad.manual_seed(1)
    lin = nn.Linear(400, 120)
    conv = nn.Conv2d(6, 16, 5)
    for w, fan_in in [(lin.weight, 400), (lin.bias, 400), (conv.weight, 150), (conv.bias, 150)]:
        a = np.abs(w.detach().numpy())
        bound = 1 / math.sqrt(fan_in)
        assert a.max() <= bound and a.max() > 0.9 * bound          # fills (−b, b)
    assert abs(lin.weight.detach().numpy().mean()) < 0.01 * (1 / 20)  # centred
    assert lin.weight.dtype == minigrad.float32 and lin.weight.requires_grad


def test_load_state_dict_errors_name_the_key():
    m = lenet(nn)
    sd = m.state_dict()
    missing = {k: v for k, v in sd.items() if k != "0.bias"}
    with pytest.raises(RuntimeError, match='Missing key.*"0.bias"'):
        m.load_state_dict(missing)
    assert m.load_state_dict(missing, strict=False).missing_keys == ["0.bias"]
    with pytest.raises(RuntimeError, match='Unexpected key.*"extra"'):
        m.load_state_dict({**sd, "extra": np.zeros(1)})
    bad = dict(sd)
    bad["7.weight"] = np.zeros((120, 255))
    with pytest.raises(RuntimeError, match=r"size mismatch for 7.weight.*\(120, 255\)"):
        m.load_state_dict(bad)


def test_module_needs_init_call():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)
    with pytest.raises(AttributeError, match="Module.__init__"):
        Broken()
