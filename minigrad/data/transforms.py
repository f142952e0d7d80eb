"""Batch transforms for the built-in data sets: they act on float32 NumPy batches (B, C, ...)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

from minigrad.backend import host as np  # data files live on the host

__all__ = ["Normalize"]


class Normalize:
    """``(x - mean[c]) / std[c]`` for each channel ``c`` of a batch of shape (B, C, ...).

    ``mean`` and ``std`` are numbers (all channels) or one value per channel, as in
    torchvision; e.g. ``Normalize(FashionMNIST.mean, FashionMNIST.std)``."""

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]):
        self.mean = _per_channel("mean", mean)
        self.std = _per_channel("std", std)
        if len(self.mean) != len(self.std):
            raise ValueError(
                f"Normalize: mean and std need the same number of channels, got "
                f"{len(self.mean)} and {len(self.std)}"
            )
        if np.any(self.std <= 0):
            raise ValueError(f"Normalize: std must be positive, got {std!r}")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if x.ndim < 2 or len(self.mean) not in (1, x.shape[1]):
            raise ValueError(
                f"Normalize: expected a batch (B, C, ...) with C = {len(self.mean)}, "
                f"got shape {x.shape}"
            )
        # (C,) -> (1, C, 1, ...) so the statistics broadcast over the batch and the pixels
        shape = (1, -1) + (1,) * (x.ndim - 2)
        mean = self.mean.astype(x.dtype).reshape(shape)
        std = self.std.astype(x.dtype).reshape(shape)
        return (x - mean) / std

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


def _per_channel(name: str, value) -> np.ndarray:
    values = [value] if isinstance(value, numbers.Real) else list(value)
    if not values or not all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values
    ):
        raise TypeError(f"Normalize: {name} must be a number or a sequence of numbers, got {value}")
    return np.asarray(values, dtype=np.float64)
