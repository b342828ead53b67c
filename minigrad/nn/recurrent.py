"""Recurrent layers: ``RNNCell``, ``LSTMCell``, ``GRUCell`` (one time step) and ``RNN``,
``LSTM``, ``GRU`` (a whole sequence, stacked layers, optionally both directions), with
PyTorch's arguments, parameter names, shapes, initialisation and gate order.

They are made of differentiable tensor ops only (linear, sigmoid, tanh, relu, chunk, stack),
so autograd gives their gradients and they run on both devices with no kernel of their own.
With x the input, h the hidden state, c the LSTM cell state and each W·v + b standing for
``F.linear(v, W, b)`` (the weights hold the gates' rows one after the other):

  RNN   h' = tanh(W_ih x + b_ih + W_hh h + b_hh)          (or relu)
  LSTM  i, f, g, o = split into 4 (W_ih x + b_ih + W_hh h + b_hh)
        c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g),    h' = σ(o) ⊙ tanh(c')
  GRU   x_r, x_z, x_n = split into 3 (W_ih x + b_ih),  h_r, h_z, h_n = split into 3 (W_hh h + b_hh)
        r = σ(x_r + h_r),  z = σ(x_z + h_z),  n = tanh(x_n + r ⊙ h_n),  h' = (1 − z) ⊙ n + z ⊙ h

Every weight and bias starts as U(−1/√hidden_size, 1/√hidden_size), as in PyTorch.
Not supported: PackedSequence (``nn.utils.rnn`` does not exist in minigrad; pad the
sequences instead) and LSTM's ``proj_size`` (refused with NotImplementedError)."""
import math
import numbers
import warnings

import numpy as np

from .. import _dtype
from ..creation import zeros
from ..functions import cat, stack
from ..tensor import Tensor
from . import functional as F
from . import init
from .modules import Module
from .parameter import Parameter

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ---- one step of each kind ----------------------------------------------------------------
def _rnn_step(relu):
    act = F.relu if relu else (lambda v: v.tanh())

    def step(gi, h, w_hh, b_hh):
        """gi = W_ih x + b_ih, already computed; h' = act(gi + W_hh h + b_hh)."""
        return act(gi + F.linear(h, w_hh, b_hh))
    return step


def _lstm_step(gi, state, w_hh, b_hh):
    """(h, c) -> (h', c') with PyTorch's gate order i, f, g, o."""
    h, c = state
    i, f, g, o = (gi + F.linear(h, w_hh, b_hh)).chunk(4, -1)
    c = F.sigmoid(f) * c + F.sigmoid(i) * g.tanh()
    return F.sigmoid(o) * c.tanh(), c


def _gru_step(gi, h, w_hh, b_hh):
    """h -> h' with PyTorch's gate order r, z, n; r scales W_hn h + b_hn, not h."""
    x_r, x_z, x_n = gi.chunk(3, -1)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, -1)
    r = F.sigmoid(x_r + h_r)
    z = F.sigmoid(x_z + h_z)
    n = (x_n + r * h_n).tanh()
    return (1 - z) * n + z * h


def _step_of(mode):
    if mode == "LSTM":
        return _lstm_step
    if mode == "GRU":
        return _gru_step
    return _rnn_step(mode == "RNN_RELU")


def _time_steps(t):
    """t's slices along dim 0, cut by halving. A slice's backward writes its gradient into
    zeros shaped like what it was cut from, so L slices cut from t directly would cost
    L·size(t) in the backward; halving costs about 2·size(t) per level, log₂ L levels."""
    if t.shape[0] == 1:
        return [t[0]]
    mid = t.shape[0] // 2
    return _time_steps(t[:mid]) + _time_steps(t[mid:])


def _uniform(shape, bound, dtype):
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    return init.uniform_(Parameter(np.zeros(shape, dt)), -bound, bound)


def _reset(module):
    """Draw every parameter again from U(−1/√hidden, 1/√hidden)."""
    bound = 1 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0.0
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


def _refuse_packed(input):
    if not isinstance(input, Tensor) and hasattr(input, "batch_sizes"):
        raise NotImplementedError("minigrad's recurrent layers take padded tensors only, "
                                  "not a PackedSequence")


def _check_sizes(input_size, hidden_size):
    for name, n in (("input_size", input_size), ("hidden_size", hidden_size)):
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"{name} should be of type int, got: {type(n).__name__}")
    if input_size <= 0:
        raise ValueError("input_size must be greater than zero")
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")


# ---- cells ----------------------------------------------------------------------------------
class RNNCellBase(Module):
    """weight_ih (G·hidden, input), weight_hh (G·hidden, hidden), bias_ih and bias_hh
    (G·hidden,) for G = ``num_chunks`` gates; input (batch, input_size) or (input_size,)."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        rows = num_chunks * hidden_size
        bound = 1 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0     # as PyTorch
        self.weight_ih = _uniform((rows, input_size), bound, dtype)
        self.weight_hh = _uniform((rows, hidden_size), bound, dtype)
        if bias:
            self.bias_ih = _uniform((rows,), bound, dtype)
            self.bias_hh = _uniform((rows,), bound, dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        if device is not None:
            self.to(device)

    def reset_parameters(self):
        _reset(self)

    def _check(self, input, states):
        """Make input and each state 2-D; PyTorch's errors for sizes that do not fit."""
        name = type(self).__name__
        _refuse_packed(input)
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D "
                             "instead")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if x.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {x.shape[1]} "
                               f"expected {self.input_size}")
        if states is None:
            return batched, x, None
        out = []
        for k, s in enumerate(states):
            s = s if batched else s.unsqueeze(0)
            if s.ndim != 2 or s.shape[0] != x.shape[0]:
                raise RuntimeError(f"Input batch size {x.shape[0]} doesn't match hidden{k} "
                                   f"batch size {s.shape[0] if s.ndim else 0}")
            if s.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got "
                                   f"{s.shape[1]}, expected {self.hidden_size}")
            out.append(s)
        return batched, x, out

    def _zeros(self, x):
        return zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu); forward(input, hx=None) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if hx is not None and hx.ndim not in (1, 2):
            raise ValueError(f"RNNCell: Expected hidden to be 1D or 2D, got {hx.ndim}D instead")
        batched, x, states = self._check(input, None if hx is None else [hx])
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        h = self._zeros(x) if states is None else states[0]
        gi = F.linear(x, self.weight_ih, self.bias_ih)
        h = _rnn_step(self.nonlinearity == "relu")(gi, h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """(h', c') from input and (h, c), gates i, f, g, o; forward(input, hx=None) -> (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        if hx is not None:
            for k, v in enumerate(hx):
                if v.ndim not in (1, 2):
                    raise ValueError(f"LSTMCell: Expected hx[{k}] to be 1D or 2D, got "
                                     f"{v.ndim}D instead")
        batched, x, states = self._check(input, None if hx is None else list(hx))
        if states is None:
            states = [self._zeros(x), self._zeros(x)]
        gi = F.linear(x, self.weight_ih, self.bias_ih)
        h, c = _lstm_step(gi, states, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """h' from input and h, gates r, z, n; forward(input, hx=None) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        if hx is not None and hx.ndim not in (1, 2):
            raise ValueError(f"GRUCell: Expected hidden to be 1D or 2D, got {hx.ndim}D instead")
        batched, x, states = self._check(input, None if hx is None else [hx])
        h = self._zeros(x) if states is None else states[0]
        h = _gru_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh,
                      self.bias_hh)
        return h if batched else h.squeeze(0)


# ---- whole sequences ------------------------------------------------------------------------
class RNNBase(Module):
    """Layers l = 0 … num_layers−1, each in one or two directions, with parameters
    weight_ih_l{l}[_reverse] (G·hidden, in_l), weight_hh_l{l}[_reverse] (G·hidden, hidden),
    bias_ih_l{l}[_reverse], bias_hh_l{l}[_reverse] (G·hidden,), in_0 = input_size and
    in_l = hidden·directions after. Layer l + 1 reads layer l's output (both directions
    concatenated), with dropout between layers in training mode."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) or \
                not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: "
                            f"{type(batch_first).__name__}")
        _check_sizes(input_size, hidden_size)
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size:
            raise NotImplementedError("LSTM: minigrad does not support proj_size (got "
                                      f"proj_size={proj_size})")
        if mode not in GATES:
            raise ValueError("Unrecognized RNN mode: " + str(mode))
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, 0
        directions = 2 if bidirectional else 1
        rows, bound = GATES[mode] * hidden_size, 1 / math.sqrt(hidden_size)
        self._flat_weights_names = []
        for layer in range(num_layers):
            width = input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes = {"weight_ih": (rows, width), "weight_hh": (rows, hidden_size)}
                if bias:
                    shapes.update(bias_ih=(rows,), bias_hh=(rows,))
                for kind, shape in shapes.items():
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, _uniform(shape, bound, dtype))
                    self._flat_weights_names.append(name)
        if device is not None:
            self.to(device)

    @property
    def all_weights(self):
        """The parameters as a list per layer and direction: [w_ih, w_hh(, b_ih, b_hh)]."""
        per = 4 if self.bias else 2
        flat = [getattr(self, n) for n in self._flat_weights_names]
        return [flat[k:k + per] for k in range(0, len(flat), per)]

    def reset_parameters(self):
        _reset(self)

    def flatten_parameters(self):
        """Nothing to do: PyTorch packs the weights into one buffer for cuDNN here."""

    def _weights(self, layer, suffix):
        w = [getattr(self, f"{kind}_l{layer}{suffix}") for kind in ("weight_ih", "weight_hh")]
        if self.bias:
            return w + [getattr(self, f"{kind}_l{layer}{suffix}")
                        for kind in ("bias_ih", "bias_hh")]
        return w + [None, None]

    def _check_input(self, input):
        _refuse_packed(input)
        if input.ndim not in (2, 3):
            what = "tensor instead" if self.mode.startswith("RNN") else "instead"
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got "
                             f"{input.ndim}D {what}")
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({weight.dtype}). Convert input: "
                             f"input.to(minigrad.{weight.dtype}), or convert model: "
                             f"model.to(minigrad.{input.dtype})")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")

    def _check_hidden(self, hx, batched, expected, message="Expected hidden size {}, got {}"):
        """hx (layers·directions, batch, hidden), or without the batch dim when unbatched."""
        want = 3 if batched else 2
        if hx.ndim != want:
            kind = "batched 3-D" if batched else "unbatched 2-D"
            raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got "
                               f"{hx.ndim}-D tensor")
        hx = hx if batched else hx.unsqueeze(1)
        if hx.shape != expected:
            raise RuntimeError(message.format(expected, list(hx.shape)))
        return hx

    def _run(self, x, states):
        """x (seq, batch, input); states: one list per state kind (h, and c for LSTM), each
        layers·directions tensors (batch, hidden). Returns the last layer's output
        (seq, batch, directions·hidden) and the final states in the same layout."""
        step, lstm = _step_of(self.mode), self.mode == "LSTM"
        directions = 2 if self.bidirectional else 1
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = F.dropout(x, self.dropout, training=True)
            outputs = []
            for d, suffix in enumerate(("", "_reverse")[:directions]):
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, suffix)
                k = layer * directions + d
                state = (states[0][k], states[1][k]) if lstm else states[0][k]
                gi = _time_steps(F.linear(x, w_ih, b_ih))    # all steps' W_ih x at once
                times = range(len(gi)) if d == 0 else range(len(gi) - 1, -1, -1)
                hs = [None] * len(gi)
                for t in times:
                    state = step(gi[t], state, w_hh, b_hh)
                    hs[t] = state[0] if lstm else state
                for kind, s in enumerate(state if lstm else (state,)):
                    finals[kind].append(s)
                outputs.append(stack(hs))
            x = outputs[0] if directions == 1 else cat(outputs, -1)
        return x, [stack(f) for f in finals]

    def forward(self, input, hx=None):
        self._check_input(input)
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(1)
        if self.batch_first and batched:
            x = x.transpose(0, 1)
        if x.shape[0] == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        directions = 2 if self.bidirectional else 1
        expected = (self.num_layers * directions, x.shape[1], self.hidden_size)
        lstm = self.mode == "LSTM"
        if hx is None:
            zero = zeros(*expected, dtype=x.dtype, device=x.device)
            states = [zero, zero] if lstm else [zero]
        elif lstm:
            h, c = hx
            if h.ndim != (3 if batched else 2) or c.ndim != (3 if batched else 2):
                kind, want = ("batched 3-D", 3) if batched else ("unbatched 2-D", 2)
                raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but "
                                   f"got ({h.ndim}-D, {c.ndim}-D) tensors")
            states = [self._check_hidden(h, batched, expected, "Expected hidden[0] size {}, "
                                         "got {}"),
                      self._check_hidden(c, batched, expected, "Expected hidden[1] size {}, "
                                         "got {}")]
        else:
            states = [self._check_hidden(hx, batched, expected)]
        out, finals = self._run(x, [s.unbind(0) for s in states])
        if self.batch_first and batched:
            out = out.transpose(0, 1)
        if not batched:
            out, finals = out.squeeze(1), [f.squeeze(1) for f in finals]
        return (out, tuple(finals)) if lstm else (out, finals[0])

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN over a sequence: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t−1) + b_hh) (or relu).
    forward(input, hx=None) -> (output, h_n): input (seq, batch, input_size) — (batch, seq,
    input_size) with batch_first — or (seq, input_size); output (…, directions·hidden);
    h_n (layers·directions, batch, hidden)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory over a sequence (gates i, f, g, o). forward(input, hx=None) ->
    (output, (h_n, c_n)); hx, when given, is (h_0, c_0), each shaped as h_n."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit over a sequence (gates r, z, n). forward(input, hx=None) ->
    (output, h_n), shaped as RNN's."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)
