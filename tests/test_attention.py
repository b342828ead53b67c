"""F.scaled_dot_product_attention, nn.MultiheadAttention, nn.TransformerEncoderLayer and
nn.TransformerEncoder against PyTorch: PyTorch's weights are copied in through
load_state_dict, then outputs, attention weights and the gradients of every parameter and
input are compared (float64 ≤ 1e-10 relative, float32 ≤ 1e-5, against PyTorch in float64;
CPU and GPU), with dropout 0. Also state_dict names, initialisation and PyTorch's errors."""
import numpy as np
import pytest
import torch

import minigrad
import minigrad.nn.functional as F
from helpers import TOL, gradcheck_numpy, rel_err, to_numpy

rng = np.random.default_rng(11)
E, HEADS, L, S, N = 8, 2, 4, 5, 3


def normal(*shape):
    return rng.standard_normal(shape)


def compare(ref_fn, our_fn, inputs, dtype="float64", device="cpu", ref=None, ours=None):
    """Run ``ref_fn(*torch inputs)`` and ``our_fn(*minigrad inputs)`` (inputs: NumPy arrays,
    all needing gradients); weigh each result (None results skipped) by fixed random
    numbers, sum, and compare results, input gradients and, given the two modules, every
    parameter's gradient."""
    tol = TOL[dtype]
    ref_in = [torch.tensor(a, requires_grad=True) for a in inputs]
    our_in = [minigrad.tensor(a.astype(dtype), device=device, requires_grad=True)
              for a in inputs]
    ref_out, our_out = ref_fn(*ref_in), our_fn(*our_in)
    ref_out = list(ref_out) if isinstance(ref_out, tuple) else [ref_out]
    our_out = list(our_out) if isinstance(our_out, tuple) else [our_out]
    assert [r is None for r in ref_out] == [o is None for o in our_out]
    pairs = [(r, o) for r, o in zip(ref_out, our_out) if r is not None]
    weights = [rng.standard_normal(tuple(r.shape)) for r, _ in pairs]
    sum((r * torch.tensor(w)).sum() for (r, _), w in zip(pairs, weights)).backward()
    sum((o * minigrad.tensor(w.astype(dtype), device=device)).sum()
        for (_, o), w in zip(pairs, weights)).backward()
    errors = {}
    for k, (r, o) in enumerate(pairs):
        assert o.dtype == np.dtype(dtype) and o.device == minigrad.device(device)
        errors[f"result{k}"] = rel_err(to_numpy(o), to_numpy(r))
    for k, (r, o) in enumerate(zip(ref_in, our_in)):
        errors[f"grad_in{k}"] = rel_err(to_numpy(o.grad), to_numpy(r.grad))
    if ref is not None:
        ref_params = dict(ref.named_parameters())
        assert sorted(ref_params) == sorted(n for n, _ in ours.named_parameters())
        for name, p in ours.named_parameters():
            assert p.grad is not None, f"{name} got no gradient"
            errors[name] = rel_err(to_numpy(p.grad), to_numpy(ref_params[name].grad))
    bad = {k: v for k, v in errors.items() if not v <= tol}
    assert not bad, f"relative errors above {tol:g} ({dtype}, {device}): {bad}"


def loaded(ref, ours, dtype, device):
    """``ours`` with ``ref``'s (float64) weights, in ``dtype`` on ``device``."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    return ours.to(device=device, dtype=dtype)


def mask_pair(array, device):
    return torch.tensor(array), minigrad.tensor(array, device=device)


# ---- scaled_dot_product_attention ----------------------------------------------------------
SDPA_CASES = {
    "plain": {},
    "causal": {"is_causal": True},
    "bool_mask": {"attn_mask": rng.random((L, S)) > 0.3},
    "float_mask": {"attn_mask": normal(N, 1, L, S)},
    "scale": {"scale": 0.3},
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", sorted(SDPA_CASES))
def test_sdpa(case, dtype, device):
    kwargs = dict(SDPA_CASES[case])
    if case == "bool_mask":
        kwargs["attn_mask"][:, 0] = True          # every query sees at least one key
    mask = kwargs.pop("attn_mask", None)
    ref_kw, our_kw = dict(kwargs), dict(kwargs)
    if mask is not None:
        ref_kw["attn_mask"] = torch.tensor(mask)
        our_kw["attn_mask"] = minigrad.tensor(mask if mask.dtype == bool
                                              else mask.astype(dtype), device=device)
    length = S if case == "causal" else L
    inputs = [normal(N, HEADS, length, E), normal(N, HEADS, S, E), normal(N, HEADS, S, 6)]
    compare(lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(q, k, v,
                                                                             **ref_kw),
            lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **our_kw),
            inputs, dtype, device)


@pytest.mark.parametrize("mask", ["none", "causal", "float"])
def test_sdpa_finite_differences(mask, device):
    float_mask = minigrad.tensor(normal(3, 3), device=device)
    kw = {"none": {}, "causal": {"is_causal": True}, "float": {"attn_mask": float_mask}}[mask]
    assert gradcheck_numpy(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kw),
                           [normal(2, 3, 4), normal(2, 3, 4), normal(2, 3, 2)], device=device)


def test_multihead_attention_finite_differences(device):
    mha = minigrad.nn.MultiheadAttention(4, 2, kdim=3, dtype="float64").to(device)
    kpm = minigrad.tensor(np.array([[False, False, True], [False, False, False]]),
                          device=device)
    assert gradcheck_numpy(lambda q, k, v: mha(q, k, v, key_padding_mask=kpm)[0],
                           [normal(2, 2, 4), normal(3, 2, 3), normal(3, 2, 4)], device=device)


def test_sdpa_refuses_mask_with_causal():
    q = minigrad.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=minigrad.ones(3, 3),
                                       is_causal=True)


def test_sdpa_dropout_drops_weights():
    minigrad.manual_seed(0)
    q = minigrad.randn(1, 6, 4)
    v = minigrad.ones(1, 6, 4)
    out = F.scaled_dot_product_attention(q, q, v, dropout_p=0.5).numpy()
    # rows of kept weights, rescaled by 2, no longer sum to exactly one
    assert not np.allclose(out, 1.0)


# ---- MultiheadAttention --------------------------------------------------------------------
MHA_CASES = {
    "seq_first": ({}, {}),
    "batch_first": ({"batch_first": True}, {}),
    "no_bias": ({"bias": False}, {}),
    "key_padding_mask": ({}, {"key_padding_mask": "bool"}),
    "float_key_padding_mask": ({}, {"key_padding_mask": "float"}),
    "attn_mask_bool": ({}, {"attn_mask": "bool"}),
    "attn_mask_float_3d": ({}, {"attn_mask": "float3d"}),
    "both_masks": ({"batch_first": True}, {"attn_mask": "bool", "key_padding_mask": "bool"}),
    "no_weights": ({}, {"need_weights": False}),
    "per_head_weights": ({}, {"average_attn_weights": False}),
    "kdim_vdim": ({"kdim": 3, "vdim": 6}, {}),
    "kdim_vdim_batch_first": ({"kdim": 3, "vdim": 6, "batch_first": True},
                              {"average_attn_weights": False}),
    "causal": ({}, {"attn_mask": "causal", "is_causal": True}),
}


def make_masks(call, dtype, device, source_length=S, length=L):
    """The forward's keyword arguments for torch and for minigrad, masks made from NumPy."""
    ref_kw, our_kw = {}, {}
    for name, value in call.items():
        if name == "key_padding_mask":
            m = np.zeros((N, source_length), bool)
            m[0, -2:] = m[2, 1] = True
            if value == "float":
                m = np.where(m, -1e9, 0.0) + 0.1 * normal(N, source_length)
        elif name == "attn_mask" and value == "bool":
            m = rng.random((length, source_length)) > 0.7
            m[:, 0] = False
        elif name == "attn_mask" and value == "float3d":
            m = normal(N * HEADS, length, source_length)
        elif name == "attn_mask" and value == "causal":
            m = np.triu(np.ones((length, source_length), bool), 1)
        else:
            ref_kw[name] = our_kw[name] = value
            continue
        ref_kw[name] = torch.tensor(m)
        our_kw[name] = minigrad.tensor(m if m.dtype == bool else m.astype(dtype),
                                       device=device)
    return ref_kw, our_kw


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", sorted(MHA_CASES))
def test_multihead_attention(case, dtype, device):
    build, call = MHA_CASES[case]
    ref = torch.nn.MultiheadAttention(E, HEADS, **build).double()
    ours = loaded(ref, minigrad.nn.MultiheadAttention(E, HEADS, **build), dtype, device)
    length, source_length = (L, L) if case == "causal" else (L, S)
    ref_kw, our_kw = make_masks(call, dtype, device, source_length, length)
    kdim, vdim = build.get("kdim", E), build.get("vdim", E)
    order = (lambda n, f: (n, f)) if build.get("batch_first") else (lambda n, f: (f, n))
    inputs = [normal(*order(N, length), E), normal(*order(N, source_length), kdim),
              normal(*order(N, source_length), vdim)]
    compare(lambda q, k, v: ref(q, k, v, **ref_kw), lambda q, k, v: ours(q, k, v, **our_kw),
            inputs, dtype, device, ref, ours)


@pytest.mark.parametrize("call", [{}, {"average_attn_weights": False}])
def test_multihead_attention_unbatched(call, device):
    ref = torch.nn.MultiheadAttention(E, HEADS).double()
    ours = loaded(ref, minigrad.nn.MultiheadAttention(E, HEADS), "float64", device)
    kpm = np.zeros(S, bool)
    kpm[-1] = True
    ref_kw = dict(call, key_padding_mask=torch.tensor(kpm))
    our_kw = dict(call, key_padding_mask=minigrad.tensor(kpm, device=device))
    inputs = [normal(L, E), normal(S, E), normal(S, E)]
    compare(lambda q, k, v: ref(q, k, v, **ref_kw), lambda q, k, v: ours(q, k, v, **our_kw),
            inputs, "float64", device, ref, ours)


@pytest.mark.parametrize("build", [{}, {"kdim": 3, "vdim": 6}, {"bias": False}])
def test_multihead_attention_state_dict_and_init(build):
    ref = torch.nn.MultiheadAttention(E, HEADS, **build)
    ours = minigrad.nn.MultiheadAttention(E, HEADS, **build)
    ref_sd, our_sd = ref.state_dict(), ours.state_dict()
    assert list(our_sd) == list(ref_sd)
    for k in ref_sd:
        assert tuple(our_sd[k].shape) == tuple(ref_sd[k].shape), k
    for name, p in ours.named_parameters():
        a = p.detach().numpy()
        if name.endswith("bias"):
            assert np.all(a == 0), name            # PyTorch zeroes both biases
        else:       # Xavier-uniform input projections; out_proj.weight as nn.Linear's
            fan_out, fan_in = a.shape
            bound = (1 / np.sqrt(fan_in) if name == "out_proj.weight"
                     else np.sqrt(6 / (fan_in + fan_out)))
            assert np.abs(a).max() <= bound and np.abs(a).max() > bound / 2, name


def test_multihead_attention_errors():
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        minigrad.nn.MultiheadAttention(7, 2)
    mha = minigrad.nn.MultiheadAttention(E, HEADS)
    x = minigrad.randn(L, N, E)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match="attn_mask is"):
        mha(x, x, x, attn_mask=minigrad.zeros(L + 1, L))


# ---- TransformerEncoderLayer / TransformerEncoder ------------------------------------------
LAYER_CASES = {
    "relu": {},
    "gelu": {"activation": "gelu"},
    "norm_first": {"norm_first": True},
    "gelu_norm_first_batch_first": {"activation": "gelu", "norm_first": True,
                                    "batch_first": True},
    "no_bias": {"bias": False, "layer_norm_eps": 1e-6},
}


def encoder_inputs(batch_first):
    return [normal(N, L, E) if batch_first else normal(L, N, E)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_encoder_layer(case, dtype, device):
    build = dict(LAYER_CASES[case], dim_feedforward=16, dropout=0.0)
    ref = torch.nn.TransformerEncoderLayer(E, HEADS, **build).double()
    ours = loaded(ref, minigrad.nn.TransformerEncoderLayer(E, HEADS, **build), dtype, device)
    assert list(ours.state_dict()) == list(ref.state_dict())
    compare(ref, ours, encoder_inputs(build.get("batch_first")), dtype, device, ref, ours)


@pytest.mark.parametrize("call", [{"src_mask": "causal", "is_causal": True},
                                  {"src_key_padding_mask": "bool"}])
def test_encoder_layer_masks(call, device):
    ref = torch.nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.0).double()
    ours = loaded(ref, minigrad.nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.0),
                  "float64", device)
    names = {"src_mask": "attn_mask", "src_key_padding_mask": "key_padding_mask"}
    ref_kw, our_kw = make_masks({names.get(k, k): v for k, v in call.items()}, "float64",
                                device, L, L)
    back = {v: k for k, v in names.items()}
    ref_kw = {back.get(k, k): v for k, v in ref_kw.items()}
    our_kw = {back.get(k, k): v for k, v in our_kw.items()}
    compare(lambda x: ref(x, **ref_kw), lambda x: ours(x, **our_kw), encoder_inputs(False),
            "float64", device, ref, ours)


def test_encoder_layer_callable_activation(device):
    ref = torch.nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.0,
                                           activation=torch.nn.functional.silu).double()
    ours = loaded(ref, minigrad.nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.0,
                                                           activation=F.silu),
                  "float64", device)
    compare(ref, ours, encoder_inputs(False), "float64", device, ref, ours)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("with_norm", [False, True])
def test_encoder(with_norm, dtype, device):
    def build(nn):
        layer = nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.0, batch_first=True)
        kw = {"enable_nested_tensor": False} if nn is torch.nn else {}
        return nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(E) if with_norm else None,
                                     **kw)
    ref = build(torch.nn).double()
    ours = loaded(ref, build(minigrad.nn), dtype, device)
    assert list(ours.state_dict()) == list(ref.state_dict())
    mask = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64)
    our_mask = minigrad.nn.Transformer.generate_square_subsequent_mask(L, device=device,
                                                                        dtype=dtype)
    kpm = np.zeros((N, L))          # float, like the mask (PyTorch warns on mixed types)
    kpm[1, -1] = -np.inf
    compare(lambda x: ref(x, mask=mask, src_key_padding_mask=torch.tensor(kpm)),
            lambda x: ours(x, mask=our_mask, src_key_padding_mask=minigrad.tensor(
                kpm.astype(dtype), device=device)),
            encoder_inputs(True), dtype, device, ref, ours)


def test_encoder_layers_are_copies():
    layer = minigrad.nn.TransformerEncoderLayer(E, HEADS, 16)
    enc = minigrad.nn.TransformerEncoder(layer, 2)
    a, b = enc.layers[0].linear1.weight, enc.layers[1].linear1.weight
    assert a is not b and a is not layer.linear1.weight
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_encoder_layer_bad_activation():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        minigrad.nn.TransformerEncoderLayer(E, HEADS, activation="tanh")


def test_square_subsequent_mask():
    ours = minigrad.nn.Transformer.generate_square_subsequent_mask(5).numpy()
    ref = torch.nn.Transformer.generate_square_subsequent_mask(5).numpy()
    assert ours.dtype == ref.dtype
    np.testing.assert_array_equal(ours, ref)
    with pytest.raises(NotImplementedError):
        minigrad.nn.Transformer()


def test_dropout_only_in_training(device):
    minigrad.manual_seed(0)
    layer = minigrad.nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.5).to(device)
    x = minigrad.tensor(normal(L, N, E).astype("float32"), device=device)
    assert not np.allclose(to_numpy(layer(x)), to_numpy(layer(x)))     # fresh masks
    layer.eval()
    np.testing.assert_array_equal(to_numpy(layer(x)), to_numpy(layer(x)))
    mha = minigrad.nn.MultiheadAttention(E, HEADS, dropout=0.5).to(device)
    weights = to_numpy(mha(x, x, x, average_attn_weights=False)[1])
    assert (weights == 0).any()                  # dropped attention weights are returned
