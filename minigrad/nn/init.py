"""Weight initialisation, PyTorch's defaults, drawn from minigrad's seeded generator."""
import math

from .. import random
from ..device import move


def uniform_(tensor, low, high):
    """Fill ``tensor`` in place with samples of U(low, high)."""
    values = random.generator().uniform(low, high, size=tensor.shape).astype(tensor.dtype)
    tensor.data = move(values, tensor.device)
    return tensor


def fan_in(tensor):
    """Inputs feeding one output: in_features for a linear weight, C·KH·KW for a conv's."""
    if tensor.ndim < 2:
        raise ValueError("fan_in needs a weight of at least 2 dims")
    n = tensor.shape[1]
    for k in tensor.shape[2:]:
        n *= k
    return n


def kaiming_uniform_(tensor, a=0.0):
    """U(−b, b) with b = gain·√(3 / fan_in), gain = √(2 / (1 + a²)). PyTorch's default for
    Linear and Conv2d weights uses a = √5, which gives b = 1/√fan_in."""
    gain = math.sqrt(2.0 / (1 + a * a))
    bound = gain * math.sqrt(3.0 / fan_in(tensor))
    return uniform_(tensor, -bound, bound)
