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


def generator():
    return _generator

