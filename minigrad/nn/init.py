"""Weight initialisation with PyTorch's names, arguments and defaults, drawn from minigrad's
seeded generator. Each fills its tensor in place, outside the graph, and returns it."""
import math

from ..autograd import no_grad


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


def kaiming_uniform_(tensor, a=0.0):
    """U(−b, b) with b = gain·√(3 / fan_in), gain = √(2 / (1 + a²)). PyTorch's default for
    Linear and Conv2d weights uses a = √5, which gives b = 1/√fan_in."""
    gain = math.sqrt(2.0 / (1 + a * a))
    bound = gain * math.sqrt(3.0 / fan_in(tensor))
    return uniform_(tensor, -bound, bound)


def xavier_uniform_(tensor, gain=1.0):
    """U(−b, b) with b = gain·√(6 / (fan_in + fan_out)) (Glorot & Bengio)."""
    bound = gain * math.sqrt(6.0 / (fan_in(tensor) + fan_out(tensor)))
    return uniform_(tensor, -bound, bound)
