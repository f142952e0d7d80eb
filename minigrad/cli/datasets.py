"""The data sets the command line knows, each with its default model and training recipe, and
loading them with errors that say what to install or which path to pass."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from minigrad import data
from minigrad.cli.errors import CLIError
from minigrad.data import fashion_mnist


@dataclass(frozen=True)
class DataSpec:
    """A built-in data set and the recipe ``train`` uses for it unless told otherwise."""

    name: str
    title: str
    make: Callable  # (train: bool, root: str | None) -> dataset
    model: str
    epochs: int
    batch_size: int
    lr: float
    optimizer: str = "adam"
    weight_decay: float = 0.0
    schedule: str = "cosine"  # the learning rate per epoch: "cosine" annealing or "constant"
    # pictures only: the input values of background and ink, and the Normalize applied after
    pixel_range: tuple[float, float] | None = None
    normalize: tuple[float, float] | None = None
    # (train, root) -> the error for missing files: where they were looked for, how to get them
    missing: Callable[[bool, str | None], str] | None = None


def _fashion(train: bool, root: str | None) -> data.FashionMNIST:
    stats = data.FashionMNIST.mean, data.FashionMNIST.std
    return data.FashionMNIST(root, train=train, transform=data.Normalize(*stats))


def _fashion_missing(train: bool, root: str | None) -> str:
    if root is not None:
        where = str(root)
    else:  # the loader's own search order: $MINIGRAD_DATA, then the Debian package's directory
        env = os.environ.get(fashion_mnist.ENV_VAR)
        where = f"${fashion_mnist.ENV_VAR} ({env}) or " if env else ""
        where += str(fashion_mnist.DEFAULT_ROOT)
    split = "training" if train else "test"
    return (
        f"Fashion-MNIST's {split} files are not in {where}: apt-get install "
        f"dataset-fashion-mnist, or pass --root DIR, a directory with "
        f"{fashion_mnist.FILES[train][0]}.gz and the other IDX files"
    )


DATASETS: dict[str, DataSpec] = {
    spec.name: spec
    for spec in (
        DataSpec(
            "xo",
            "X or O (9x9, the lecture's toy)",
            lambda train, root: data.XO(n=2000 if train else 1000, train=train),
            model="xonet",
            epochs=5,
            batch_size=50,
            lr=1e-2,
            pixel_range=(-1.0, 1.0),
        ),
        DataSpec(
            "fashion-mnist",
            "Fashion-MNIST (28x28)",
            _fashion,
            model="fashion-cnn",
            epochs=8,
            batch_size=64,
            lr=2e-3,
            pixel_range=(0.0, 1.0),
            normalize=(data.FashionMNIST.mean, data.FashionMNIST.std),
            missing=_fashion_missing,
        ),
        DataSpec(
            "digits",
            "digits (8x8, scikit-learn)",
            lambda train, root: data.Digits(train=train),
            model="digits-cnn",
            epochs=40,
            batch_size=32,
            lr=1e-2,
            pixel_range=(0.0, 1.0),
        ),
        DataSpec(
            "mnist1d",
            "MNIST-1D (40-sample signals)",
            lambda train, root: data.MNIST1D(train=train),
            model="mnist1d-cnn",
            epochs=30,
            batch_size=100,
            lr=3e-3,
            optimizer="adamw",
            weight_decay=1e-2,
        ),
    )
}


def load(spec: DataSpec, train: bool, root: str | None = None, limit: int | None = None):
    """The train or test split (its first ``limit`` samples when given), or a ``CLIError``
    that says how to get the data."""
    try:
        dataset = spec.make(train, root)
    except FileNotFoundError as e:
        if spec.missing is not None:
            raise CLIError(spec.missing(train, root)) from None
        raise CLIError(f"the {spec.name} data set was not found: {e}") from None
    except ImportError as e:
        raise CLIError(
            f"the {spec.name} data set is not available: {e} (or: pip install 'minigrad[data]')"
        ) from None
    except ValueError as e:  # a damaged file
        raise CLIError(f"the {spec.name} data set can't be read: {e}") from None
    if limit is not None and limit < len(dataset):
        subset = data.Subset(dataset, range(limit))
        subset.classes, subset.sample_shape = dataset.classes, dataset.sample_shape
        return subset
    return dataset
