"""Containers (ModuleList, ModuleDict, ParameterList), buffers, gradient clipping, and the
Embedding and AdaptiveAvgPool2d layers, against PyTorch."""
import functools

import numpy as np
import pytest
import torch

import minigrad
from helpers import check_against_torch, gradcheck_numpy

rng = np.random.default_rng(5)


def normal(*shape):
    return rng.standard_normal(shape)


LAYERS = {
    "embedding": (lambda m, w, i: m.nn.functional.embedding(i, w),
                  [normal(6, 3), np.array([[0, 5, 2], [2, 2, 1]])]),
    "embedding_padding": (lambda m, w, i: m.nn.functional.embedding(i, w, padding_idx=2),
                          [normal(6, 3), np.array([0, 2, 5, 2, 1])]),
    "adaptive_avg_divisible": (lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, (2, 3)),
                               [normal(2, 3, 4, 6)]),
    "adaptive_avg_uneven": (lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, (3, 4)),
                            [normal(2, 2, 5, 7)]),
    "adaptive_avg_global": (lambda m, x: m.nn.AdaptiveAvgPool2d(1)(x), [normal(2, 3, 5, 5)]),
    "adaptive_avg_none": (lambda m, x: m.nn.AdaptiveAvgPool2d((None, 2))(x), [normal(3, 4, 5)]),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layers_against_torch(name, dtype, device):
    f, arrays = LAYERS[name]
    check_against_torch(functools.partial(f, minigrad), functools.partial(f, torch), arrays,
                        dtype=dtype, device=device)


# the padding row gets no gradient by definition, not by calculus: not for finite differences
@pytest.mark.parametrize("name", sorted(set(LAYERS) - {"embedding_padding"}))
def test_layers_gradcheck(name, device):
    f, arrays = LAYERS[name]
    assert gradcheck_numpy(functools.partial(f, minigrad), arrays, device=device)


def test_embedding_module_like_torch():
    e = minigrad.nn.Embedding(10, 4, padding_idx=0)
    assert e.weight.shape == (10, 4) and e.weight.requires_grad
    assert e.weight[0].tolist() == [0.0] * 4
    ref = torch.nn.Embedding(10, 4, padding_idx=0)
    ref.load_state_dict(e.state_dict())
    idx = [[0, 3, 3], [9, 1, 0]]
    out = e(minigrad.tensor(idx))
    out.sum().backward()
    r = ref(torch.tensor(idx))
    r.sum().backward()
    assert np.allclose(out.detach().numpy(), r.detach().numpy())
    assert np.allclose(e.weight.grad.numpy(), ref.weight.grad.numpy())
    pre = minigrad.nn.Embedding.from_pretrained(minigrad.ones(3, 2))
    assert not pre.weight.requires_grad and pre(minigrad.tensor([2])).tolist() == [[1.0, 1.0]]
    with pytest.raises(RuntimeError):
        e(minigrad.tensor([1.0]))


# ---- containers ---------------------------------------------------------------------------
class Net:
    """The same model in both frameworks: a ModuleList, a ModuleDict, a ParameterList and a
    buffer, so the state_dict keys can be compared."""

    @staticmethod
    def make(m):
        class Model(m.nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = m.nn.ModuleList([m.nn.Linear(3, 4), m.nn.Linear(4, 4)])
                self.layers.append(m.nn.Linear(4, 2))
                self.heads = m.nn.ModuleDict({"a": m.nn.Linear(2, 1), "b": m.nn.Tanh()})
                self.scales = m.nn.ParameterList([m.nn.Parameter(m.ones(2)),
                                                  m.nn.Parameter(m.zeros(1))])
                self.register_buffer("running", m.zeros(2))
                self.register_buffer("scratch", m.ones(1), persistent=False)

            def forward(self, x):
                for layer in self.layers:
                    x = layer(x).relu()
                x = x * self.scales[0] + self.scales[1] + self.running
                return self.heads["a"](self.heads["b"](x))
        return Model()


def test_containers_register_like_torch():
    ours, ref = Net.make(minigrad), Net.make(torch)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in ref.named_buffers()]
    assert len(ours.layers) == 3 and isinstance(ours.layers[-1], minigrad.nn.Linear)
    assert len(ours.layers[1:]) == 2 and isinstance(ours.layers[1:], minigrad.nn.ModuleList)
    assert list(ours.heads.keys()) == ["a", "b"] and "a" in ours.heads
    assert len(ours.scales) == 2
    assert repr(ours.layers) == repr(ref.layers)
    assert repr(ours.heads) == repr(ref.heads)
    ref.load_state_dict(ours.state_dict())
    x = normal(5, 3)
    out = ours(minigrad.tensor(x, dtype=minigrad.float32))
    assert np.allclose(out.detach().numpy(), ref(torch.tensor(x, dtype=torch.float32))
                       .detach().numpy(), atol=1e-6)


def test_module_list_editing_like_torch():
    for m in (minigrad, torch):
        lst = m.nn.ModuleList([m.nn.ReLU(), m.nn.Tanh()])
        lst.insert(1, m.nn.Sigmoid())
        lst[0] = m.nn.ELU()
        lst.extend([m.nn.GELU()])
        del lst[2]
        lst += m.nn.ModuleList([m.nn.Softmax(dim=1)])
        names = [type(x).__name__ for x in lst]
        keys = list(lst._modules)
        if m is minigrad:
            ours = names, keys
    assert ours == (names, keys)
    with pytest.raises(IndexError):
        minigrad.nn.ModuleList()[0]
    with pytest.raises(TypeError):
        minigrad.nn.ModuleList([3])


def test_parameter_list_and_module_dict_parameters_reach_the_optimizer():
    minigrad.manual_seed(0)         # some inits leave every ReLU off, and scales[0] no gradient
    model = Net.make(minigrad)
    opt = minigrad.optim.SGD(model.parameters(), lr=0.1)
    model(minigrad.ones(2, 3)).sum().backward()
    before = model.scales[0].detach().clone()
    opt.step()
    assert model.heads["a"].weight.grad is not None
    assert not np.array_equal(before.numpy(), model.scales[0].detach().numpy())
    assert all(b is not p for b in model.buffers() for p in model.parameters())


def test_buffers_move_cast_and_load_like_torch():
    ours, ref = Net.make(minigrad), Net.make(torch)
    ours.running.fill_(3.0)
    assert ours.state_dict()["running"].tolist() == [3.0, 3.0]
    assert "scratch" not in ours.state_dict()
    ours.double()
    assert ours.running.dtype == minigrad.float64 and ours.scratch.dtype == minigrad.float64
    ours.float()
    ref.load_state_dict(ours.state_dict())
    assert ref.running.tolist() == [3.0, 3.0]
    ref.running.fill_(5.0)
    ours.load_state_dict(ref.state_dict())
    assert ours.running.tolist() == [5.0, 5.0]
    ours.running = minigrad.ones(2) * 7            # assigning a tensor keeps it a buffer
    assert "running" in dict(ours.named_buffers()) and ours.state_dict()["running"].tolist() == \
        [7.0, 7.0]
    counter = minigrad.nn.Module()
    counter.register_buffer("steps", minigrad.tensor(0))
    counter.double()                               # integer buffers keep their dtype
    assert counter.steps.dtype == minigrad.int64
    with pytest.raises(KeyError):
        counter.register_buffer("a.b", minigrad.zeros(1))
    with pytest.raises(TypeError):
        counter.register_buffer("c", [1, 2])


def test_buffers_move_to_the_gpu(gpu_device):
    model = Net.make(minigrad).to(gpu_device)
    assert model.running.device.type == "cuda" and model.scratch.device.type == "cuda"
    out = model(minigrad.ones(2, 3, device=gpu_device))
    assert out.device.type == "cuda"


# ---- gradient clipping ------------------------------------------------------------------------
@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 3])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_like_torch(norm_type, max_norm, device):
    grads = [normal(3, 4), normal(5), normal(2, 2)]
    ours = [minigrad.tensor(np.zeros_like(g), requires_grad=True, device=device) for g in grads]
    ref = [torch.tensor(np.zeros_like(g), requires_grad=True) for g in grads]
    for p, r, g in zip(ours, ref, grads):
        p.grad = minigrad.tensor(g, device=device)
        r.grad = torch.tensor(g)
    total = minigrad.nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    ref_total = torch.nn.utils.clip_grad_norm_(ref, max_norm, norm_type=norm_type)
    assert abs(total.item() - ref_total.item()) <= 1e-12 * ref_total.item()
    for p, r in zip(ours, ref):
        np.testing.assert_allclose(p.grad.cpu().numpy(), r.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_and_a_single_tensor_like_torch(device):
    g = normal(4, 3) * 3
    p = minigrad.tensor(np.zeros((4, 3)), requires_grad=True, device=device)
    r = torch.zeros(4, 3, dtype=torch.float64, requires_grad=True)
    p.grad, r.grad = minigrad.tensor(g, device=device), torch.tensor(g)
    minigrad.nn.utils.clip_grad_value_(p, 1.5)
    torch.nn.utils.clip_grad_value_(r, 1.5)
    assert np.array_equal(p.grad.cpu().numpy(), r.grad.numpy())
    assert minigrad.nn.utils.clip_grad_norm_([minigrad.zeros(2, requires_grad=True)],
                                             1.0).item() == 0.0


def test_parameters_to_vector_and_back_like_torch():
    model = minigrad.nn.Sequential(minigrad.nn.Linear(3, 2), minigrad.nn.Linear(2, 1))
    ref = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    with torch.no_grad():
        for p, q in zip(model.parameters(), ref.parameters()):
            q.copy_(torch.tensor(p.detach().numpy()))
    vec = minigrad.nn.utils.parameters_to_vector(model.parameters())
    ref_vec = torch.nn.utils.parameters_to_vector(ref.parameters())
    assert vec.shape == (11,) and np.array_equal(vec.detach().numpy(), ref_vec.detach().numpy())
    (vec ** 2).sum().backward()                       # a graph node, as PyTorch's
    (ref_vec ** 2).sum().backward()
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6)
    new = np.arange(11, dtype=np.float32)
    weight = model[0].weight
    minigrad.nn.utils.vector_to_parameters(minigrad.tensor(new), model.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), ref.parameters())
    assert model[0].weight is weight and weight.requires_grad
    for p, q in zip(model.parameters(), ref.parameters()):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())
    with pytest.raises(ValueError, match="11"):
        minigrad.nn.utils.vector_to_parameters(minigrad.zeros(3), model.parameters())
