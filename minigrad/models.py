"""The default models of ``python -m minigrad train``, one per built-in data set, written the way
PyTorch models are (``features`` then ``classifier``), and ``build_model(name, **kwargs)``."""

from __future__ import annotations

from collections.abc import Sequence

from minigrad import nn
from minigrad.autograd import no_grad
from minigrad.creation import zeros
from minigrad.tensor import Tensor

__all__ = [
    "MODELS",
    "DigitsCNN",
    "FashionCNN",
    "MLP",
    "MNIST1DNet",
    "XONet",
    "build_model",
]


class Classifier(nn.Module):
    """``classifier(features(x))``: the convolution/pooling stages, then the fully connected
    layers, whose last ``Linear`` gives one score (logit) per class."""

    spatial_dims: int | None = None  # 2: images (C, H, W); 1: signals (C, L); None: anything

    def __init__(self, in_shape: Sequence[int], num_classes: int) -> None:
        super().__init__()
        self.in_shape = _check_shape(type(self).__name__, in_shape, self.spatial_dims)
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(
                f"{type(self).__name__}: num_classes must be an int >= 2, got {num_classes!r}"
            )
        self.num_classes = num_classes

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))

    def _flat_features(self) -> int:
        """How many values ``features`` makes from one input (a probe on zeros, in eval mode
        so that no running statistics move)."""
        was_training = self.features.training
        self.features.eval()
        with no_grad():
            n = self.features(zeros(1, *self.in_shape)).numel()
        self.features.train(was_training)
        return n


class XONet(Classifier):
    """The lecture's ConvNet for 9x9 X-or-O pictures: conv 3x3 -> ReLU -> max-pool 2 (partial
    windows kept, 7x7 -> 4x4, as on the slides), twice, then one fully connected vote.

    (1, 9, 9) -> conv (8, 7, 7) -> pool (8, 4, 4) -> conv (16, 2, 2) -> pool (16, 1, 1) -> 2."""

    spatial_dims = 2

    def __init__(
        self,
        num_classes: int = 2,
        in_shape: Sequence[int] = (1, 9, 9),
        channels: Sequence[int] = (8, 16),
    ) -> None:
        super().__init__(in_shape, num_classes)
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(self.in_shape[0], c1, 3),
            nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(c1, c2, 3),
            nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(self._flat_features(), num_classes))


class FashionCNN(Classifier):
    """A small ConvNet for 28x28 pictures: two conv 3x3 (padding 1) -> batch norm -> ReLU ->
    max-pool 2 stages, then a hidden fully connected layer with dropout.

    (1, 28, 28) -> (32, 14, 14) -> (64, 7, 7) -> 128 -> 10."""

    spatial_dims = 2

    def __init__(
        self,
        num_classes: int = 10,
        in_shape: Sequence[int] = (1, 28, 28),
        channels: Sequence[int] = (32, 64),
        hidden: int = 128,
        dropout: float = 0.3,
    ) -> None:
        super().__init__(in_shape, num_classes)
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(self.in_shape[0], c1, 3, padding=1),
            nn.BatchNorm2d(c1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.BatchNorm2d(c2),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(self._flat_features(), hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )


class DigitsCNN(Classifier):
    """A ConvNet for scikit-learn's 8x8 digits: two conv 3x3 (padding 1) -> ReLU -> max-pool 2
    stages, then dropout and one fully connected layer.

    (1, 8, 8) -> (16, 4, 4) -> (32, 2, 2) -> 10."""

    spatial_dims = 2

    def __init__(
        self,
        num_classes: int = 10,
        in_shape: Sequence[int] = (1, 8, 8),
        channels: Sequence[int] = (16, 32),
        dropout: float = 0.25,
    ) -> None:
        super().__init__(in_shape, num_classes)
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(self.in_shape[0], c1, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2, ceil_mode=True),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(self._flat_features(), num_classes)
        )


class MNIST1DNet(Classifier):
    """A Conv1d net for MNIST-1D signals: three conv 5 (padding 2) -> batch norm -> ReLU ->
    max-pool 2 stages, then dropout and one fully connected layer.

    (1, 40) -> (32, 20) -> (64, 10) -> (64, 5) -> 10."""

    spatial_dims = 1

    def __init__(
        self,
        num_classes: int = 10,
        in_shape: Sequence[int] = (1, 40),
        channels: Sequence[int] = (32, 64, 64),
        dropout: float = 0.3,
    ) -> None:
        super().__init__(in_shape, num_classes)
        layers: list[nn.Module] = []
        width = self.in_shape[0]
        for c in channels:
            layers += [
                nn.Conv1d(width, c, 5, padding=2),
                nn.BatchNorm1d(c),
                nn.ReLU(),
                nn.MaxPool1d(2),
            ]
            width = c
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(self._flat_features(), num_classes)
        )


class MLP(Classifier):
    """A multilayer perceptron for inputs of any shape: flatten, then ``Linear -> ReLU`` per
    entry of ``hidden``, then one ``Linear`` to the classes. No convolution: the baseline."""

    def __init__(
        self, num_classes: int = 10, in_shape: Sequence[int] = (1, 28, 28), hidden=(128,)
    ) -> None:
        super().__init__(in_shape, num_classes)
        self.features = nn.Flatten()
        layers: list[nn.Module] = []
        width = self._flat_features()
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.classifier = nn.Sequential(*layers, nn.Linear(width, num_classes))


MODELS: dict[str, type[Classifier]] = {
    "xonet": XONet,
    "fashion-cnn": FashionCNN,
    "digits-cnn": DigitsCNN,
    "mnist1d-cnn": MNIST1DNet,
    "mlp": MLP,
}


def build_model(name: str, **kwargs) -> Classifier:
    """The model registered as ``name`` (see ``MODELS``), built with ``kwargs`` (e.g.
    ``num_classes``, ``in_shape``)."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}: expected one of {', '.join(MODELS)}")
    return MODELS[name](**kwargs)


def _check_shape(name: str, in_shape, spatial_dims: int | None) -> tuple[int, ...]:
    ok = isinstance(in_shape, (tuple, list)) and all(
        isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in in_shape
    )
    if not ok or not in_shape:
        raise ValueError(f"{name}: in_shape must be a tuple of positive ints, got {in_shape!r}")
    if spatial_dims is not None and len(in_shape) != spatial_dims + 1:
        kind = "images (C, H, W)" if spatial_dims == 2 else "signals (C, L)"
        raise ValueError(
            f"{name} takes {kind}, but in_shape is {tuple(in_shape)}; pick a model made for "
            "this data (see minigrad.models.MODELS)"
        )
    return tuple(in_shape)
