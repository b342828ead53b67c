"""Weight initialisation with PyTorch's names, arguments and defaults, drawn from minigrad's
seeded generator. Each fills its tensor in place, outside the graph, and returns it."""
import math
import warnings

import numpy as np

from .. import random
from ..autograd import no_grad
from ..tensor import as_tensor


def uniform_(tensor, a=0.0, b=1.0):
    """Fill ``tensor`` with samples of U(a, b)."""
    with no_grad():
        return tensor.uniform_(a, b)


def normal_(tensor, mean=0.0, std=1.0):
    """Fill ``tensor`` with samples of N(mean, std²)."""
    with no_grad():
        return tensor.normal_(mean, std)


def constant_(tensor, val):
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def fan_in(tensor):
    """Inputs feeding one output: in_features for a linear weight, C·KH·KW for a conv's."""
    if tensor.ndim < 2:
        raise ValueError("fan_in needs a weight of at least 2 dims")
    n = tensor.shape[1]
    for k in tensor.shape[2:]:
        n *= k
    return n


def fan_out(tensor):
    """Outputs fed by one input: out_features for a linear weight, OC·KH·KW for a conv's."""
    if tensor.ndim < 2:
        raise ValueError("fan_out needs a weight of at least 2 dims")
    return tensor.shape[0] * fan_in(tensor) // tensor.shape[1]


def calculate_gain(nonlinearity, param=None):
    """The factor that keeps activations' variance steady through a layer followed by
    ``nonlinearity``, PyTorch's table: 1 for linear layers and sigmoid, 5/3 for tanh, √2 for
    relu, √(2 / (1 + slope²)) for leaky_relu (slope ``param``, 0.01 by default), 3/4 for
    selu."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                        "conv_transpose2d", "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"negative_slope {slope} not a valid number")
        return math.sqrt(2.0 / (1 + slope * slope))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _kaiming_gain_and_fan(tensor, a, mode, nonlinearity):
    """The gain and the fan of He et al. (2015): the weights' std is gain / √fan."""
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan = fan_in(tensor) if mode == "fan_in" else fan_out(tensor)
    return calculate_gain(nonlinearity, a), fan


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """U(−b, b) with b = √3 · gain / √fan (He et al.), fan = fan_in or fan_out (``mode``),
    gain = calculate_gain(nonlinearity, a). PyTorch's default for Linear and Conv2d weights
    uses a = √5, which gives b = 1/√fan_in."""
    if tensor.numel() == 0:                  # nn.Linear(0, 3): nothing to draw, as PyTorch
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    gain, fan = _kaiming_gain_and_fan(tensor, a, mode, nonlinearity)
    bound = gain * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """N(0, std²) with std = gain / √fan (He et al.), as kaiming_uniform_."""
    gain, fan = _kaiming_gain_and_fan(tensor, a, mode, nonlinearity)
    return normal_(tensor, 0.0, gain / math.sqrt(fan))


def xavier_uniform_(tensor, gain=1.0):
    """U(−b, b) with b = gain·√(6 / (fan_in + fan_out)) (Glorot & Bengio)."""
    bound = gain * math.sqrt(6.0 / (fan_in(tensor) + fan_out(tensor)))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    """N(0, std²) with std = gain·√(2 / (fan_in + fan_out)) (Glorot & Bengio)."""
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in(tensor) + fan_out(tensor))))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """N(mean, std²) conditioned on a ≤ x ≤ b (``a``, ``b`` are values, not numbers of
    stds). Drawn by rejection: normal samples outside [a, b] are drawn again, so each value
    has exactly the truncated density; a draw asks for about n / P(a ≤ x ≤ b) samples."""
    if not a < b:
        raise ValueError(f"trunc_normal_: a ({a}) must be below b ({b})")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    def cdf(v):                               # P(x ≤ v) for x ~ N(mean, std²)
        return 0.5 * (1 + math.erf((v - mean) / (std * math.sqrt(2))))

    inside = cdf(b) - cdf(a)
    if inside < 1e-9:
        raise ValueError(f"trunc_normal_: [{a}, {b}] holds almost none of N({mean}, {std}²); "
                         "draws would never end")
    rng = random.generator(generator)
    n = tensor.numel()
    kept = np.empty(0)
    while kept.size < n:
        draw = rng.normal(mean, std, size=int((n - kept.size) / inside * 1.1) + 16)
        kept = np.concatenate([kept, draw[(draw >= a) & (draw <= b)]])
    values = kept[:n].reshape(tensor.shape).astype(tensor.dtype)
    with no_grad():
        return tensor.copy_(as_tensor(values))
