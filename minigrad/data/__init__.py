"""Data loading: ``Dataset``, ``TensorDataset``, ``DataLoader``, and the built-in data sets
(the lecture's X-or-O toy, Fashion-MNIST, scikit-learn's digits, MNIST-1D)."""

from minigrad.data.collate import default_collate
from minigrad.data.dataset import (
    ArrayImageDataset,
    Dataset,
    Subset,
    TensorDataset,
    random_split,
)
from minigrad.data.digits import Digits
from minigrad.data.fashion_mnist import FashionMNIST
from minigrad.data.loader import DataLoader
from minigrad.data.mnist1d import MNIST1D
from minigrad.data.transforms import Normalize
from minigrad.data.xo import LECTURE_KERNELS, LECTURE_O, LECTURE_X, XO

__all__ = [
    "ArrayImageDataset",
    "DataLoader",
    "Dataset",
    "Digits",
    "FashionMNIST",
    "LECTURE_KERNELS",
    "LECTURE_O",
    "LECTURE_X",
    "MNIST1D",
    "Normalize",
    "Subset",
    "TensorDataset",
    "XO",
    "default_collate",
    "random_split",
]
