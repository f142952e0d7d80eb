"""Neural-network building blocks: ``functional`` (ops) and, on top of it, modules, ``init`` and
``utils``."""

from minigrad.nn import functional, init, utils
from minigrad.nn.modules import (
    GELU,
    AdaptiveAvgPool2d,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    BCEWithLogitsLoss,
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MaxPool1d,
    MaxPool2d,
    Module,
    ModuleDict,
    ModuleList,
    MSELoss,
    NLLLoss,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
    Unflatten,
    Upsample,
)
from minigrad.nn.modules import __all__ as _modules_all

__all__ = ["functional", "init", "utils", *_modules_all]
