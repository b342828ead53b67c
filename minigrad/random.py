"""minigrad's one random generator. ``manual_seed(n)`` makes every draw after it repeat.

Numbers are drawn on the CPU and copied to the GPU when asked for there, so the same seed
gives the same numbers on both devices."""
import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed):
    """Seed the generator that randn, rand, weight initialisation and shuffling draw from."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
    _generator = np.random.default_rng(int(seed))


def generator(own=None):
    """The NumPy generator to draw from: ``own``'s (a ``Generator`` passed as
    ``generator=``) or minigrad's global one."""
    if own is None:
        return _generator
    if not isinstance(own, Generator):
        raise TypeError(f"generator must be a minigrad.Generator, got {type(own).__name__}")
    return own._rng


class Generator:
    """A random generator of its own, as ``torch.Generator``: ``g =
    minigrad.Generator().manual_seed(42)``, then ``randn(3, generator=g)`` draws from it and
    leaves the global generator alone. (Its numbers are not PyTorch's for the same seed.)"""

    def __init__(self, device="cpu"):
        self.device = device
        self._rng = np.random.default_rng()

    def manual_seed(self, seed):
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
        self._rng = np.random.default_rng(int(seed))
        return self

