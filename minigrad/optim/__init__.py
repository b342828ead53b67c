"""Optimizers (PyTorch's ``torch.optim`` rules and names) and, in ``lr_scheduler``, the
learning-rate schedules."""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .nadam import NAdam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Adam", "AdamW", "Adamax", "NAdam", "Adadelta", "Adagrad", "RMSprop", "SGD",
           "Optimizer", "lr_scheduler"]
