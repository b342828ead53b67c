"""Layers and models (PyTorch's ``torch.nn`` for the subset a CNN needs)."""
from . import functional, init
from .modules import (
                      AvgPool2d,
                      Conv2d,
                      CrossEntropyLoss,
                      Dropout,
                      Flatten,
                      Linear,
                      LogSoftmax,
                      MaxPool2d,
                      Module,
                      NLLLoss,
                      ReLU,
                      Sequential,
                      Sigmoid,
                      TrainingStats,
)
from .parameter import Parameter

__all__ = ["functional", "init", "Module", "Sequential", "Conv2d", "MaxPool2d", "Sigmoid",
           "ReLU", "Linear", "Flatten", "CrossEntropyLoss", "TrainingStats", "Parameter",
           "AvgPool2d", "Dropout", "NLLLoss", "LogSoftmax"]
