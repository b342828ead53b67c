"""nn.RNNCell, LSTMCell, GRUCell, RNN, LSTM, GRU against PyTorch: PyTorch's weights are
copied in through load_state_dict, then outputs, final states and the gradients of every
parameter, of the input and of the initial states are compared (float64 ≤ 1e-10 relative,
float32 ≤ 1e-5, against PyTorch in float64; CPU and GPU). Also the state_dict's names and
shapes, the initialisation, the repr and PyTorch's errors."""
import itertools
import warnings

import numpy as np
import pytest
import torch

import minigrad
from helpers import TOL, gradcheck_numpy, raises_like_torch, rel_err, to_numpy

rng = np.random.default_rng(7)
IN, HIDDEN, SEQ, BATCH = 3, 5, 4, 2


def pair(name, *args, dtype="float64", device="cpu", **kwargs):
    """The same layer in PyTorch (float64, its own initial weights) and in minigrad (those
    weights, loaded through load_state_dict)."""
    ref = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = getattr(minigrad.nn, name)(*args, **kwargs, dtype=dtype)
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    return ref, ours.to(device)


def flat(result):
    """A layer's results as a flat list of tensors: output, h_n[, c_n] (or a cell's)."""
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in flat(r)]
    return [result]


def compare(ref, ours, x, states=(), dtype="float64", device="cpu", call=None):
    """Run both on input ``x`` and initial ``states`` (NumPy; packed for the call by
    ``call(layer, x, states)``); weigh each result by fixed random numbers, sum, and
    compare the results and the gradients of the inputs and of every parameter."""
    call = call or (lambda layer, x, s: layer(x, *s))
    tol = TOL[dtype]
    ref_in = [torch.tensor(a, requires_grad=True) for a in (x, *states)]
    our_in = [minigrad.tensor(a.astype(dtype), device=device, requires_grad=True)
              for a in (x, *states)]
    ref_out = flat(call(ref, ref_in[0], ref_in[1:]))
    our_out = flat(call(ours, our_in[0], our_in[1:]))
    assert len(ref_out) == len(our_out)
    weights = [rng.standard_normal(tuple(r.shape)) for r in ref_out]
    sum(((r * torch.tensor(w)).sum() for r, w in zip(ref_out, weights))).backward()
    sum((o * minigrad.tensor(w.astype(dtype), device=device)).sum()
        for o, w in zip(our_out, weights)).backward()
    errors = {}
    for k, (r, o) in enumerate(zip(ref_out, our_out)):
        assert o.dtype == np.dtype(dtype) and o.device == minigrad.device(device)
        errors[f"result{k}"] = rel_err(to_numpy(o), to_numpy(r))
    for k, (r, o) in enumerate(zip(ref_in, our_in)):
        errors[f"grad_in{k}"] = rel_err(to_numpy(o.grad), to_numpy(r.grad))
    ref_params = dict(ref.named_parameters())
    for name, p in ours.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        errors[name] = rel_err(to_numpy(p.grad), to_numpy(ref_params[name].grad))
    bad = {k: v for k, v in errors.items() if not v <= tol}
    assert not bad, f"relative errors above {tol:g} ({dtype}, {device}): {bad}"


def normal(*shape):
    return rng.standard_normal(shape)


# ---- cells ----------------------------------------------------------------------------------
CELLS = {
    "rnn_tanh": ("RNNCell", {}),
    "rnn_relu": ("RNNCell", {"nonlinearity": "relu"}),
    "rnn_no_bias": ("RNNCell", {"bias": False}),
    "lstm": ("LSTMCell", {}),
    "lstm_no_bias": ("LSTMCell", {"bias": False}),
    "gru": ("GRUCell", {}),
    "gru_no_bias": ("GRUCell", {"bias": False}),
}


def cell_states(name, batch):
    shape = (batch, HIDDEN) if batch else (HIDDEN,)
    return [normal(*shape) for _ in range(2 if name == "LSTMCell" else 1)]


def call_cell(layer, x, states):
    if not states:
        return layer(x)
    return layer(x, tuple(states)) if len(states) == 2 else layer(x, states[0])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("how", ["hx", "no_hx", "unbatched", "unbatched_no_hx"])
@pytest.mark.parametrize("case", CELLS)
def test_cell_against_torch(case, how, dtype, device):
    name, kwargs = CELLS[case]
    ref, ours = pair(name, IN, HIDDEN, dtype=dtype, device=device, **kwargs)
    batch = 0 if how.startswith("unbatched") else BATCH
    x = normal(batch, IN) if batch else normal(IN)
    states = [] if how.endswith("no_hx") else cell_states(name, batch)
    compare(ref, ours, x, states, dtype, device, call_cell)


# ---- whole sequences ------------------------------------------------------------------------
LAYERS = {"rnn_tanh": ("RNN", {}), "rnn_relu": ("RNN", {"nonlinearity": "relu"}),
          "lstm": ("LSTM", {}), "gru": ("GRU", {})}


def layer_states(name, layers, directions, batch):
    shape = (layers * directions, batch, HIDDEN) if batch else (layers * directions, HIDDEN)
    return [normal(*shape) for _ in range(2 if name == "LSTM" else 1)]


def call_layer(layer, x, states):
    if not states:
        return layer(x)
    return layer(x, tuple(states)) if len(states) == 2 else layer(x, states[0])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("num_layers,batch_first,bidirectional,given_hx",
                         list(itertools.product([1, 2], [False, True], [False, True],
                                                [False, True])))
@pytest.mark.parametrize("case", LAYERS)
def test_layer_against_torch(case, num_layers, batch_first, bidirectional, given_hx, dtype,
                             device):
    name, kwargs = LAYERS[case]
    ref, ours = pair(name, IN, HIDDEN, num_layers, batch_first=batch_first,
                     bidirectional=bidirectional, dtype=dtype, device=device, **kwargs)
    x = normal(BATCH, SEQ, IN) if batch_first else normal(SEQ, BATCH, IN)
    states = layer_states(name, num_layers, 1 + bidirectional, BATCH) if given_hx else []
    compare(ref, ours, x, states, dtype, device, call_layer)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("bidirectional,given_hx", [(False, False), (False, True),
                                                    (True, True)])
@pytest.mark.parametrize("case", LAYERS)
def test_unbatched_layer_against_torch(case, bidirectional, given_hx, dtype, device):
    """A (seq, input_size) input and (layers·directions, hidden) states, as PyTorch takes
    them; batch_first does not apply to them."""
    name, kwargs = LAYERS[case]
    ref, ours = pair(name, IN, HIDDEN, 2, batch_first=True, bidirectional=bidirectional,
                     dtype=dtype, device=device, **kwargs)
    states = layer_states(name, 2, 1 + bidirectional, 0) if given_hx else []
    compare(ref, ours, normal(SEQ, IN), states, dtype, device, call_layer)


@pytest.mark.parametrize("case", LAYERS)
def test_no_bias_and_one_step_against_torch(case, device):
    name, kwargs = LAYERS[case]
    ref, ours = pair(name, IN, HIDDEN, 2, bias=False, bidirectional=True, device=device,
                     **kwargs)
    compare(ref, ours, normal(1, BATCH, IN), device=device, call=call_layer)


def test_dropout_between_layers_in_training_only(device):
    """p = 1 zeroes all of layer 0's output, so layer 1 sees zeros in both libraries and the
    results agree; in eval mode dropout is off; with p = 0.5 in
    training the output differs from eval's and is random (minigrad's masks are not
    PyTorch's)."""
    ref, ours = pair("LSTM", IN, HIDDEN, 2, dropout=1.0, device=device)
    compare(ref, ours, normal(SEQ, BATCH, IN), device=device, call=call_layer)
    ref, ours = pair("GRU", IN, HIDDEN, 2, dropout=0.5, device=device)
    ref.eval(), ours.eval()
    compare(ref, ours, normal(SEQ, BATCH, IN), device=device, call=call_layer)
    x = minigrad.tensor(normal(SEQ, BATCH, IN), device=device)
    evaluated = ours(x)[0].detach().cpu().numpy()
    ours.train()
    minigrad.manual_seed(0)
    trained = ours(x)[0].detach().cpu().numpy()
    assert not np.allclose(trained, evaluated)
    minigrad.manual_seed(0)
    assert np.array_equal(ours(x)[0].detach().cpu().numpy(), trained)


def test_dropout_with_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        minigrad.nn.RNN(IN, HIDDEN, dropout=0.2)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        torch.nn.RNN(IN, HIDDEN, dropout=0.2)


# ---- parameters -----------------------------------------------------------------------------
SHAPES = [("RNN", IN, HIDDEN), ("LSTM", IN, HIDDEN, 2), ("GRU", IN, HIDDEN, 3),
          ("RNNCell", IN, HIDDEN), ("LSTMCell", IN, HIDDEN), ("GRUCell", IN, HIDDEN)]
KWARGS = [{}, {"bias": False}, {"bidirectional": True}, {"bidirectional": True, "bias": False}]
NAMED = [(args, kwargs) for args in SHAPES for kwargs in KWARGS
         if not (args[0].endswith("Cell") and "bidirectional" in kwargs)]  # one direction


@pytest.mark.parametrize("args,kwargs", NAMED, ids=lambda a: str(a))
def test_state_dict_names_shapes_and_count_like_torch(args, kwargs):
    name, *sizes = args
    ref = getattr(torch.nn, name)(*sizes, **kwargs)
    ours = getattr(minigrad.nn, name)(*sizes, **kwargs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in ref.state_dict().items()]
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in ref.named_parameters()]
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in ref.parameters())
    assert repr(ours) == repr(ref)


def test_initialisation_uniform_within_one_over_root_hidden():
    """Every parameter U(−1/√hidden, 1/√hidden), as PyTorch: inside the bounds and spread
    across them (a uniform's extremes over ~2000 draws come within 1% of the bounds)."""
    hidden = 32
    bound = 1 / np.sqrt(hidden)
    for layer in (minigrad.nn.LSTM(8, hidden, 2, bidirectional=True),
                  minigrad.nn.GRUCell(8, hidden), minigrad.nn.RNN(hidden, hidden)):
        values = np.concatenate([p.detach().numpy().ravel() for p in layer.parameters()])
        assert values.size > 1000
        assert np.abs(values).max() <= bound
        assert values.min() < -0.99 * bound and values.max() > 0.99 * bound
        assert abs(values.mean()) < 0.05 * bound
        assert all(p.dtype == np.float32 and p.requires_grad for p in layer.parameters())


def test_dtype_and_device_arguments(device):
    layer = minigrad.nn.GRU(IN, HIDDEN, dtype=minigrad.float64, device=device)
    assert all(p.dtype == np.float64 and p.device == minigrad.device(device)
               for p in layer.parameters())
    out, h = layer(minigrad.randn(SEQ, IN, dtype=minigrad.float64, device=device))
    assert out.shape == (SEQ, HIDDEN) and h.shape == (1, HIDDEN)


def test_all_weights_groups_by_layer_and_direction():
    layer = minigrad.nn.LSTM(IN, HIDDEN, 2, bidirectional=True)
    groups = layer.all_weights
    assert len(groups) == 4 and all(len(g) == 4 for g in groups)
    assert groups[1][0] is layer.weight_ih_l0_reverse
    assert groups[2][3] is layer.bias_hh_l1


# ---- errors ---------------------------------------------------------------------------------
def both(name, *args, **kwargs):
    return (lambda: getattr(minigrad.nn, name)(*args, **kwargs),
            lambda: getattr(torch.nn, name)(*args, **kwargs))


@pytest.mark.parametrize("exc,args,kwargs,match", [
    (ValueError, ("RNN", 3, 4), {"nonlinearity": "sigmoid"}, "Unknown nonlinearity 'sigmoid'"),
    (ValueError, ("GRU", 3, 4, 2), {"dropout": 1.5}, "dropout should be a number in range"),
    (ValueError, ("LSTM", 3, 4, 0), {}, "num_layers must be greater than zero"),
    (ValueError, ("LSTM", 3, 0), {}, "hidden_size must be greater than zero"),
    (TypeError, ("GRU", 3, 4.0), {}, "hidden_size should be of type int, got: float"),
    (TypeError, ("RNN", 3, 4), {"batch_first": 1}, "batch_first should be of type bool"),
])
def test_constructor_errors_like_torch(exc, args, kwargs, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raises_like_torch(exc, *both(*args, **kwargs), match=match)


def test_cell_nonlinearity_is_checked_when_called_as_torch():
    raises_like_torch(RuntimeError, *call_both("RNNCell", (3, 4), (2, 3), nonlinearity="elu"),
                      match="Unknown nonlinearity: elu")


def test_proj_size_is_refused():
    with pytest.raises(NotImplementedError, match="proj_size"):
        minigrad.nn.LSTM(3, 4, proj_size=2)
    minigrad.nn.LSTM(3, 4, proj_size=0)


def call_both(name, args, x_shape, states=None, **kwargs):
    """Build the layer in both libraries and call each on zeros of ``x_shape`` and
    ``states`` (a shape, or a tuple of shapes for LSTM's pair)."""
    def run(lib, layer):
        def go():
            x = lib.zeros(*x_shape, dtype=lib.float64)
            if states is None:
                return layer(x)
            if isinstance(states[0], tuple):
                return layer(x, tuple(lib.zeros(*s, dtype=lib.float64) for s in states))
            return layer(x, lib.zeros(*states, dtype=lib.float64))
        return go
    ref, ours = pair(name, *args, **kwargs)
    return run(minigrad, ours), run(torch, ref)


@pytest.mark.parametrize("exc,name,args,x_shape,states,match", [
    (RuntimeError, "GRU", (4, 5, 2), (3, 2, 3), None,
     "input.size(-1) must be equal to input_size. Expected 4, got 3"),
    (RuntimeError, "GRU", (4, 5, 2), (3, 2, 4), (2, 3, 5),
     "Expected hidden size (2, 2, 5), got [2, 3, 5]"),
    (RuntimeError, "RNN", (4, 5, 1), (3, 2, 4), (1, 2, 6),
     "Expected hidden size (1, 2, 5), got [1, 2, 6]"),
    (RuntimeError, "GRU", (4, 5, 2), (3, 2, 4), (2, 5),
     "For batched 3-D input, hx should also be 3-D but got 2-D tensor"),
    (RuntimeError, "RNN", (4, 5), (3, 4), (1, 2, 5),
     "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor"),
    (ValueError, "GRU", (4, 5), (1, 3, 2, 4), None,
     "GRU: Expected input to be 2D or 3D, got 4D instead"),
    (ValueError, "RNN", (4, 5), (4,), None,
     "RNN: Expected input to be 2D or 3D, got 1D tensor instead"),
    (RuntimeError, "LSTM", (4, 5, 2), (3, 2, 4), ((2, 2, 5), (2, 2, 6)),
     "Expected hidden[1] size (2, 2, 5), got [2, 2, 6]"),
    (RuntimeError, "LSTM", (4, 5, 2), (3, 2, 4), ((2, 3, 5), (2, 2, 5)),
     "Expected hidden[0] size (2, 2, 5), got [2, 3, 5]"),
    (RuntimeError, "LSTM", (4, 5), (3, 2, 4), ((1, 5), (1, 2, 5)),
     "For batched 3-D input, hx and cx should also be 3-D but got (2-D, 3-D) tensors"),
    (RuntimeError, "GRU", (4, 5), (0, 2, 4), None,
     "Expected sequence length to be larger than 0 in RNN"),
    (RuntimeError, "LSTMCell", (4, 5), (3, 3), None,
     "input has inconsistent input_size: got 3 expected 4"),
    (RuntimeError, "LSTMCell", (4, 5), (3, 4), ((3, 6), (3, 5)),
     "hidden0 has inconsistent hidden_size: got 6, expected 5"),
    (RuntimeError, "LSTMCell", (4, 5), (3, 4), ((3, 5), (3, 6)),
     "hidden1 has inconsistent hidden_size: got 6, expected 5"),
    (RuntimeError, "GRUCell", (4, 5), (3, 4), (2, 5),
     "Input batch size 3 doesn't match hidden0 batch size 2"),
    (ValueError, "RNNCell", (4, 5), (2, 3, 4), None,
     "RNNCell: Expected input to be 1D or 2D, got 3D instead"),
    (ValueError, "GRUCell", (4, 5), (3, 4), (1, 3, 5),
     "GRUCell: Expected hidden to be 1D or 2D, got 3D instead"),
])
def test_call_errors_like_torch(exc, name, args, x_shape, states, match):
    raises_like_torch(exc, *call_both(name, args, x_shape, states), match=match)


def test_input_dtype_must_be_the_weights_as_torch():
    ours, ref = minigrad.nn.LSTM(3, 4), torch.nn.LSTM(3, 4)
    raises_like_torch(ValueError, lambda: ours(minigrad.zeros(2, 3, dtype=minigrad.float64)),
                      lambda: ref(torch.zeros(2, 3, dtype=torch.float64)),
                      match="input dtype")
    with pytest.raises(ValueError, match=r"\(float64\) does not match weight dtype \(float32\)"):
        ours(minigrad.zeros(2, 3, dtype=minigrad.float64))


def test_packed_sequence_is_refused():
    class Packed:                   # what a PackedSequence looks like from outside
        data, batch_sizes = None, None
    with pytest.raises(NotImplementedError, match="PackedSequence"):
        minigrad.nn.LSTM(3, 4)(Packed())


@pytest.mark.parametrize("case", LAYERS)
def test_gradcheck_input_and_state(case, device):
    """Finite differences (float64) for the input's and the initial state's gradients."""
    name, kwargs = LAYERS[case]
    layer = getattr(minigrad.nn, name)(IN, HIDDEN, 2, bidirectional=True, dtype="float64",
                                       **kwargs).to(device)
    states = layer_states(name, 2, 2, BATCH)

    def run(x, *s):
        out, h = layer(x, tuple(s) if len(s) == 2 else s[0])
        return out.sum() + sum(t.sum() for t in flat(h)) * 0.5
    assert gradcheck_numpy(run, [normal(SEQ, BATCH, IN), *states], device=device)


def test_base_classes_as_torch():
    """RNNBase(mode, ...) and RNNCellBase(..., num_chunks): what isinstance checks in
    initialisation code look for."""
    assert all(isinstance(getattr(minigrad.nn, n)(3, 4), minigrad.nn.RNNBase)
               for n in ("RNN", "LSTM", "GRU"))
    assert all(isinstance(getattr(minigrad.nn, n)(3, 4), minigrad.nn.RNNCellBase)
               for n in ("RNNCell", "LSTMCell", "GRUCell"))
    ours, ref = minigrad.nn.RNNBase("GRU", 3, 4, 2), torch.nn.RNNBase("GRU", 3, 4, 2)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in ref.state_dict().items()]
    raises_like_torch(ValueError, lambda: minigrad.nn.RNNBase("CELL", 3, 4),
                      lambda: torch.nn.RNNBase("CELL", 3, 4), match="Unrecognized RNN mode")


def test_empty_batch_gives_empty_results_as_torch():
    out, (h, c) = minigrad.nn.LSTM(3, 4, 2, batch_first=True)(minigrad.zeros(0, 5, 3))
    assert (out.shape, h.shape, c.shape) == ((0, 5, 4), (2, 0, 4), (2, 0, 4))


def test_reset_and_flatten_parameters():
    """reset_parameters draws again within the bounds; flatten_parameters (which code
    written for cuDNN calls) changes nothing."""
    for layer in (minigrad.nn.GRU(IN, HIDDEN, 2), minigrad.nn.LSTMCell(IN, HIDDEN)):
        before = [p.detach().numpy().copy() for p in layer.parameters()]
        if hasattr(layer, "flatten_parameters"):
            layer.flatten_parameters()
            assert all(np.array_equal(b, p.detach().numpy())
                       for b, p in zip(before, layer.parameters()))
        layer.reset_parameters()
        after = [p.detach().numpy() for p in layer.parameters()]
        assert not any(np.array_equal(b, a) for b, a in zip(before, after))
        assert max(np.abs(a).max() for a in after) <= 1 / np.sqrt(HIDDEN)
