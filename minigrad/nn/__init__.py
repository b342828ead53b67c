"""Layers and models (PyTorch's ``torch.nn`` for the subset a CNN needs)."""
from . import functional, init, utils
from .activations import (
    ELU,
    GELU,
    SELU,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    Mish,
    PReLU,
    ReLU6,
    SiLU,
    Softmax,
    Softplus,
    Softsign,
    Tanh,
)
from .attention import (
    MultiheadAttention,
    Transformer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from .batchnorm import BatchNorm1d, BatchNorm2d
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList
from .instancenorm import InstanceNorm1d, InstanceNorm2d
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    SmoothL1Loss,
)
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
from .more_layers import (
    AdaptiveAvgPool2d,
    AvgPool1d,
    Conv1d,
    Dropout2d,
    Embedding,
    Identity,
    MaxPool1d,
    Unflatten,
    Upsample,
    UpsamplingNearest2d,
)
from .normalization import GroupNorm, LayerNorm
from .parameter import Parameter
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase

__all__ = ["functional", "init", "Module", "Sequential", "Conv2d", "MaxPool2d", "Sigmoid",
           "ReLU", "Linear", "Flatten", "CrossEntropyLoss", "TrainingStats", "Parameter",
           "AvgPool2d", "Dropout", "NLLLoss", "LogSoftmax", "utils", "ELU", "GELU",
           "LeakyReLU", "Softmax", "Softplus", "Tanh", "ModuleDict", "ModuleList",
           "ParameterList", "BCELoss", "BCEWithLogitsLoss", "HuberLoss", "L1Loss", "MSELoss",
           "SmoothL1Loss", "AdaptiveAvgPool2d", "Embedding", "BatchNorm1d", "BatchNorm2d",
           "InstanceNorm1d", "InstanceNorm2d",
           "SiLU", "Hardtanh", "ReLU6", "LogSigmoid", "Softsign", "Mish", "SELU", "PReLU",
           "ParameterDict", "KLDivLoss", "Dropout2d", "Identity", "Unflatten", "LayerNorm",
           "Upsample", "UpsamplingNearest2d", "GroupNorm", "Conv1d", "MaxPool1d", "AvgPool1d",
           "RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU",
           "RNNBase", "RNNCellBase", "MultiheadAttention", "TransformerEncoderLayer",
           "TransformerEncoder", "Transformer"]
