"""Layers and models (PyTorch's ``torch.nn`` for the subset a CNN needs)."""
from . import functional, init
from .modules import (
                      Conv2d,
                      CrossEntropyLoss,
                      Flatten,
                      Linear,
                      MaxPool2d,
                      Module,
                      ReLU,
                      Sequential,
                      Sigmoid,
                      TrainingStats,
)
from .parameter import Parameter

__all__ = ["functional", "init", "Module", "Sequential", "Conv2d", "MaxPool2d", "Sigmoid",
           "ReLU", "Linear", "Flatten", "CrossEntropyLoss", "TrainingStats", "Parameter"]
