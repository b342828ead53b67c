"""minigrad: a small tensor/autograd engine on NumPy (CPU) and CuPy (GPU) with hand-written
CUDA kernels for the layers of a CNN. PyTorch's names for the subset it implements, so
``import minigrad as torch`` runs PyTorch-style LeNet code."""
from . import cuda, linalg
from ._dtype import bool_ as bool
from ._dtype import (
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (
    arange,
    full,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    randn_like,
    tensor,
    where,
    zeros,
    zeros_like,
)
from .device import device
from .linalg import cdist
from .random import (
    Generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from .tensor import Tensor, as_tensor

float = float32
double = float64
long = int64
int = int32          # noqa: A001 (PyTorch's name, as float above)
short = int16
half = float16

__version__ = "0.1.0"


def flatten(input, start_dim=0, end_dim=-1):
    """``input`` with dims start_dim..end_dim merged into one (all of them by default), as
    ``torch.flatten``."""
    return input.flatten(start_dim, end_dim)


def set_num_threads(n, pin=False):
    """Spread each CPU layer over ``n`` threads, as ``torch.set_num_threads`` (the default:
    one per core this process may use, or $MINIGRAD_NUM_THREADS). ``pin``: see
    ``minigrad.backend.cpu.set_num_threads``."""
    from .backend import cpu
    cpu.set_num_threads(n, pin=pin)


def get_num_threads():
    """The number of threads each CPU layer is spread over, as ``torch.get_num_threads``."""
    from .backend import cpu
    return cpu.get_num_threads()


def _lazy(name):
    import importlib
    return importlib.import_module(f"minigrad.{name}")


def __getattr__(name):
    # nn, optim, data, viz and the save/load helpers load on first use, keeping import light.
    if name in ("nn", "optim", "data", "autograd", "viz", "utils", "backends",
                "distributions"):
        return _lazy(name)
    if name in ("save", "load"):
        return getattr(_lazy("serialization"), name)
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")


# the torch.* function forms (torch.sum(x, 1), torch.cat, torch.from_numpy, ...): last, as
# they take builtin names (sum, max, min, abs, any, all, pow) in this namespace
from . import functions as _functions  # noqa: E402
from .functions import (  # noqa: E402
    cat,
    concat,
    concatenate,
    einsum,
    empty,
    empty_like,
    eye,
    from_numpy,
    full_like,
    hstack,
    is_tensor,
    linspace,
    meshgrid,
    normal,
    randint,
    randint_like,
    randperm,
    stack,
    vstack,
)

globals().update(_functions.METHOD_FUNCTIONS)
