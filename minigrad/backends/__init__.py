"""PyTorch's ``torch.backends``, for the one question tutorials ask of it:
``torch.backends.mps.is_available()`` — minigrad has no Apple GPU backend."""
from . import mps
