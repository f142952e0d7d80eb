"""scikit-learn's 8x8 handwritten digits with a deterministic, stratified train/test split."""

from __future__ import annotations

import numbers
from collections.abc import Callable

from minigrad.backend import host as np  # data files live on the host
from minigrad.data.dataset import ArrayImageDataset

__all__ = ["Digits"]


def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(
            "Digits needs scikit-learn, which ships the 8x8 digits: pip install scikit-learn"
        ) from None
    bunch = load_digits()
    # pixel values are the integers 0..16
    return bunch.images.astype(np.uint8), bunch.target.astype(np.int64)


def stratified_split(labels: np.ndarray, test_size: float, seed: int) -> tuple:
    """(train indices, test indices): per class, a ``test_size`` share (rounded) goes to test."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        k = int(round(test_size * len(members)))
        test.append(members[:k])
        train.append(members[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


class Digits(ArrayImageDataset):
    """The 1797 8x8 handwritten digits that ship with scikit-learn (``load_digits``), 10 classes.

    ``Digits(train=True, test_size=0.25, seed=0)``: the same ``seed`` always gives the same
    split, and each digit keeps its share in both parts. ``data`` is uint8 (N, 8, 8) with values
    0..16; samples and batches are float32 (1, 8, 8) in [0, 1] (``data / 16``)."""

    classes = tuple(str(d) for d in range(10))

    def __init__(
        self,
        train: bool = True,
        test_size: float = 0.25,
        seed: int = 0,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ):
        if not isinstance(test_size, numbers.Real) or not 0.0 < float(test_size) < 1.0:
            raise ValueError(f"Digits: test_size must be a fraction in (0, 1), got {test_size!r}")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"Digits: seed must be a non-negative int, got {seed!r}")
        images, labels = _load_digits()
        self.train, self.test_size, self.seed = bool(train), float(test_size), int(seed)
        train_idx, test_idx = stratified_split(labels, self.test_size, self.seed)
        idx = train_idx if self.train else test_idx
        super().__init__(
            images[idx], labels[idx], 1.0 / 16.0, transform, target_transform, (1, 8, 8)
        )

    def extra_repr(self) -> str:
        return f"{'train' if self.train else 'test'}, test_size={self.test_size}, seed={self.seed}"
