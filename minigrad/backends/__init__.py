"""PyTorch's ``torch.backends``, for the one question tutorials ask of it:
``torch.backends.mps.is_available()`` — minigrad has no Apple GPU backend.

Not to be confused with ``minigrad.backend`` (singular), the internal package that computes the
layers on each device; this one is only PyTorch's name, kept so tutorials' code runs."""
from . import mps
