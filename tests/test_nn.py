"""nn.Module and the layers as modules: names, state dicts, repr, apply, slices, the loss
modules, nn.init's initialisers, and LeNet against PyTorch (an empty batch included)."""
import inspect
import math

import numpy as np
import pytest
import torch

import minigrad
from examples.lenet import lenet
from helpers import rel_err, results
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


# ---- modules as PyTorch's: apply, slices, an empty batch ----------------------------------------
def test_module_apply_and_requires_grad_like_torch():
    def init_weights(lib):            # d2l's pattern: net.apply(init_weights)
        def init(m):
            if type(m) is lib.nn.Linear:
                lib.nn.init.constant_(m.weight, 0.01)
                lib.nn.init.zeros_(m.bias)
        return init
    ours = nn.Sequential(nn.Linear(3, 2), nn.Sigmoid(), nn.Sequential(nn.Linear(2, 2)))
    ref = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Sigmoid(),
                              torch.nn.Sequential(torch.nn.Linear(2, 2)))
    visited, ref_visited = [], []
    assert ours.apply(lambda m: visited.append(type(m).__name__)) is ours
    ref.apply(lambda m: ref_visited.append(type(m).__name__))
    assert visited == ref_visited
    ours.apply(init_weights(minigrad))
    ref.apply(init_weights(torch))
    for (k, p), (_, r) in zip(ours.named_parameters(), ref.named_parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), r.detach().numpy(), err_msg=k)
    assert ours.requires_grad_(False) is ours
    assert not any(p.requires_grad for p in ours.parameters())


def test_sequential_slices_keep_the_child_names_like_torch():
    ours, ref = lenet(nn), lenet(torch.nn)
    for index in [slice(2, 5), slice(None, None, 2), slice(-3, None)]:
        assert list(ours[index].state_dict()) == list(ref[index].state_dict())
        assert repr(ours[index]) == repr(ref[index])
    with pytest.raises(IndexError):
        ours[12]


def test_empty_batch_through_lenet_forward_and_backward(device):
    torch.manual_seed(0)
    ref = lenet(torch.nn).double()
    ours = lenet().double().to(device)
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x, no_targets = np.zeros((0, 1, 28, 28)), np.zeros(0, dtype=np.int64)
    out, ref_out = ours(minigrad.tensor(x, device=device)), ref(torch.tensor(x))
    assert out.shape == tuple(ref_out.shape) == (0, 10)
    loss = minigrad.nn.CrossEntropyLoss(reduction="sum")(
        out, minigrad.tensor(no_targets, device=device))
    loss.backward()
    torch.nn.CrossEntropyLoss(reduction="sum")(ref_out, torch.tensor(no_targets)).backward()
    for name, p in ours.named_parameters():
        assert p.grad.cpu().numpy().tolist() == dict(ref.named_parameters())[name].grad.tolist()


# ---- layer and loss modules ---------------------------------------------------------------------
def test_avg_pool_module_repr_and_defaults_as_torch():
    for args, kw in [((2,), {}), ((3, 2, 1), dict(ceil_mode=True, count_include_pad=False))]:
        ours, theirs = nn.AvgPool2d(*args, **kw), torch.nn.AvgPool2d(*args, **kw)
        assert repr(ours) == repr(theirs)
        x = np.random.default_rng(0).standard_normal((1, 2, 7, 7))
        assert rel_err(ours(minigrad.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy()) <= 1e-12


def test_loss_modules_match_torch():
    g = np.random.default_rng(0)
    logits, target, weight = g.standard_normal((6, 4)) * 2, g.integers(0, 4, 6), g.random(4) + 0.5
    target[2] = -100                                  # an ignored row
    z, t = minigrad.tensor(logits, requires_grad=True), minigrad.tensor(target)
    tz, tt = torch.tensor(logits, requires_grad=True), torch.tensor(target)
    pairs = [(nn.NLLLoss(minigrad.tensor(weight)), torch.nn.NLLLoss(torch.tensor(weight)),
              True),
             (nn.CrossEntropyLoss(label_smoothing=0.1, reduction="sum"),
              torch.nn.CrossEntropyLoss(label_smoothing=0.1, reduction="sum"), False),
             (nn.CrossEntropyLoss(minigrad.tensor(weight), ignore_index=-100),
              torch.nn.CrossEntropyLoss(torch.tensor(weight), ignore_index=-100), False)]
    for ours, theirs, log_first in pairs:
        a = ours(nn.LogSoftmax(dim=1)(z) if log_first else z, t)
        b = theirs(torch.nn.LogSoftmax(dim=1)(tz) if log_first else tz, tt)
        assert rel_err(a.item(), b.item()) <= 1e-12, ours
    assert repr(nn.LogSoftmax(dim=1)) == repr(torch.nn.LogSoftmax(dim=1))
    assert repr(nn.NLLLoss()) == repr(torch.nn.NLLLoss())


def test_loss_weights_move_and_cast_with_the_loss(device):
    """PyTorch keeps a loss's class weights as a buffer, so .to() moves them: the same here."""
    for cls in (minigrad.nn.CrossEntropyLoss, minigrad.nn.NLLLoss):
        loss_fn = cls(weight=minigrad.tensor([1.0, 2.0, 0.5])).to(device).double()
        assert loss_fn.weight.device.type == device and loss_fn.weight.dtype == minigrad.float64
        scores = minigrad.tensor(np.log(np.full((4, 3), 1 / 3)), device=device)
        target = minigrad.tensor(np.array([0, 1, 2, 1]), device=device)
        assert abs(loss_fn(scores, target).item() - np.log(3)) < 1e-12


# ---- initialisation -----------------------------------------------------------------------------
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


def test_init_functions_have_torch_names_and_defaults():
    for name in ["uniform_", "normal_", "constant_", "zeros_", "ones_", "kaiming_uniform_",
                 "xavier_uniform_"]:
        ours = inspect.signature(getattr(nn.init, name)).parameters
        ref = inspect.signature(getattr(torch.nn.init, name)).parameters
        for param, spec in ours.items():
            assert param in ref, (name, param)
            assert spec.default == ref[param].default, (name, param)
    w = minigrad.zeros(2000)
    assert nn.init.uniform_(w) is w
    assert 0 <= w.numpy().min() and w.numpy().max() < 1 and w.numpy().min() < 0.01
    nn.init.uniform_(w, a=-3.0, b=-2.0)
    assert -3 <= w.numpy().min() and w.numpy().max() < -2
    p = nn.Linear(4, 3).weight                                # a leaf that requires grad
    nn.init.xavier_uniform_(p)
    assert np.abs(p.detach().numpy()).max() <= math.sqrt(6 / 7) and p.is_leaf


NONLINEARITIES = ["linear", "conv2d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


def test_calculate_gain_is_torchs():
    for name in NONLINEARITIES:
        assert nn.init.calculate_gain(name) == torch.nn.init.calculate_gain(name), name
    assert nn.init.calculate_gain("leaky_relu", 0.2) == \
        torch.nn.init.calculate_gain("leaky_relu", 0.2)
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        nn.init.calculate_gain("swish")


def sample_std(fill, shape=(400, 300, 3)):
    """Fill a large tensor with ``fill`` in minigrad and in PyTorch; their std, and the
    largest |value| of each."""
    ours = minigrad.zeros(*shape)
    theirs = torch.zeros(*shape)
    fill(nn.init, ours)
    fill(torch.nn.init, theirs)
    a, b = ours.numpy(), theirs.numpy()
    return a.std(), b.std(), np.abs(a).max(), np.abs(b).max(), a.mean()


@pytest.mark.parametrize("name, fill, uniform", [
    ("xavier_uniform_", lambda init, t: init.xavier_uniform_(t), True),
    ("xavier_uniform_ gain 2", lambda init, t: init.xavier_uniform_(t, gain=2.0), True),
    ("xavier_normal_", lambda init, t: init.xavier_normal_(t), False),
    ("kaiming_normal_", lambda init, t: init.kaiming_normal_(t), False),
    ("kaiming_normal_ fan_out relu",
     lambda init, t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), False),
    ("kaiming_uniform_ a=√5", lambda init, t: init.kaiming_uniform_(t, a=math.sqrt(5)), True),
    ("kaiming_uniform_ fan_out",
     lambda init, t: init.kaiming_uniform_(t, mode="fan_out"), True),
])
def test_random_initialisers_draw_torchs_distribution(name, fill, uniform):
    """Same shape, same distribution (the numbers come from different generators): the std
    within 1% (120,000 samples give ~0.3%), the mean near 0, and for the uniform ones the
    same bound (the largest value within 0.1% of PyTorch's largest)."""
    ours_std, torch_std, ours_max, torch_max, mean = sample_std(fill)
    assert abs(ours_std / torch_std - 1) < 0.01, name
    assert abs(mean) < 0.02 * ours_std
    if uniform:
        assert abs(ours_max / torch_max - 1) < 1e-3, name


def test_constant_initialisers_through_module_apply():
    """d2l's pattern: ``net.apply(init_fn)`` reaching every layer."""
    net = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Sequential(nn.Conv2d(1, 2, 3)))

    def init(m):
        if type(m) in (nn.Linear, nn.Conv2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        if type(m) is nn.Conv2d:
            nn.init.constant_(m.weight, 0.5)
    assert net.apply(init) is net
    assert (net[0].weight.detach().numpy() == 1).all() and (net[0].bias.detach().numpy() == 0).all()
    assert (net[2][0].weight.detach().numpy() == 0.5).all()
    assert (net[2][0].bias.detach().numpy() == 0).all()


def test_init_errors():
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        nn.init.kaiming_normal_(minigrad.zeros(3, 4), mode="fan_avg")
    with pytest.raises(ValueError, match="at least 2 dims"):
        nn.init.xavier_normal_(minigrad.zeros(3))


# ---- a zero-sized layer --------------------------------------------------------------------------
def test_zero_sized_linear_like_torch():
    ours, ref = results(lambda m: m.nn.Linear(0, 3))
    assert ours.weight.shape == tuple(ref.weight.shape) == (3, 0)
    assert ours.bias.tolist() == ref.bias.tolist() == [0.0, 0.0, 0.0]
    out = ours(minigrad.zeros(2, 0))
    assert out.shape == (2, 3) and out.tolist() == [[0.0] * 3] * 2


# ---- registering, replacing, sharing and deleting what a Module holds ----------------------------
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
