"""Optimizers (PyTorch's ``torch.optim`` rules and names)."""
from .adam import Adam
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Adam", "SGD", "Optimizer"]
