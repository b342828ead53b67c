"""Layers and models (PyTorch's ``torch.nn`` for the subset a CNN needs)."""
from . import functional, init, utils
from .activations import ELU, GELU, LeakyReLU, Softmax, Softplus, Tanh
from .batchnorm import BatchNorm1d, BatchNorm2d
from .containers import ModuleDict, ModuleList, ParameterList
from .losses import BCELoss, BCEWithLogitsLoss, HuberLoss, L1Loss, MSELoss, SmoothL1Loss
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
from .more_layers import AdaptiveAvgPool2d, Embedding
from .parameter import Parameter

__all__ = ["functional", "init", "Module", "Sequential", "Conv2d", "MaxPool2d", "Sigmoid",
           "ReLU", "Linear", "Flatten", "CrossEntropyLoss", "TrainingStats", "Parameter",
           "AvgPool2d", "Dropout", "NLLLoss", "LogSoftmax", "utils", "ELU", "GELU",
           "LeakyReLU", "Softmax", "Softplus", "Tanh", "ModuleDict", "ModuleList",
           "ParameterList", "BCELoss", "BCEWithLogitsLoss", "HuberLoss", "L1Loss", "MSELoss",
           "SmoothL1Loss", "AdaptiveAvgPool2d", "Embedding", "BatchNorm1d", "BatchNorm2d"]
