"""minigrad's one random generator. ``manual_seed(n)`` makes every draw after it repeat.

Numbers are drawn on the CPU and copied to the GPU when asked for there, so the same seed
gives the same numbers on both devices."""
import numpy as np

_initial_seed = int(np.random.SeedSequence().entropy) % 2**63   # a fresh one per process
_generator = np.random.default_rng(_initial_seed)


def manual_seed(seed):
    """Seed the generator that randn, rand, weight initialisation and shuffling draw from."""
    global _generator, _initial_seed
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
    _generator = np.random.default_rng(int(seed))
    _initial_seed = int(seed)


def initial_seed():
    """The seed the generator started from: the last ``manual_seed``'s, else the one
    chosen at import."""
    return _initial_seed


def seed():
    """Seed the generator with a fresh non-deterministic number, and return it."""
    fresh = int(np.random.SeedSequence().entropy) % 2**63
    manual_seed(fresh)
    return fresh


# the generator's state as a tensor: PCG64's 128-bit state and increment in 32-bit pieces,
# then its two cached-draw fields (PyTorch's state is a uint8 tensor of its own layout; this
# one too is only for giving back to set_rng_state)
_PIECES = 4


def get_rng_state():
    """The generator's state as an int64 tensor, to give to ``set_rng_state`` later (the
    draws after it then repeat)."""
    from .tensor import Tensor
    state = _generator.bit_generator.state
    words = []
    for name in ("state", "inc"):
        value = state["state"][name]
        words += [(value >> (32 * i)) & 0xFFFFFFFF for i in range(_PIECES)]
    words += [int(state["has_uint32"]), int(state["uinteger"])]
    return Tensor(np.asarray(words, dtype=np.int64))


def set_rng_state(new_state):
    """Put back a state that ``get_rng_state`` returned."""
    words = [int(w) for w in np.asarray(new_state.cpu()._data).reshape(-1)] \
        if hasattr(new_state, "_data") else None
    if words is None or len(words) != 2 * _PIECES + 2:
        raise RuntimeError("set_rng_state: expected a tensor that get_rng_state returned")
    state, inc = (sum(w << (32 * i) for i, w in enumerate(words[k:k + _PIECES]))
                  for k in (0, _PIECES))
    _generator.bit_generator.state = {
        "bit_generator": "PCG64", "state": {"state": state, "inc": inc},
        "has_uint32": words[-2], "uinteger": words[-1]}


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

