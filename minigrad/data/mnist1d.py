"""MNIST-1D: the ten digits as 40-sample 1-D signals, generated offline by the ``mnist1d``
package (``make_dataset``; never ``get_dataset``, which downloads)."""

from __future__ import annotations

import numbers
import random
from collections.abc import Callable

from minigrad.backend import host as np  # data files live on the host
from minigrad.data.dataset import ArrayImageDataset

__all__ = ["MNIST1D"]

_cache: dict = {}


def _generate(seed: int, shuffle_seq: bool) -> dict:
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise ImportError("MNIST1D needs the mnist1d package: pip install mnist1d") from None
    key = (seed, shuffle_seq)
    if key not in _cache:
        args = get_dataset_args()
        args.seed, args.shuffle_seq = seed, shuffle_seq
        # make_dataset reseeds NumPy's and Python's global generators: leave them as we found them
        np_state, py_state = np.random.get_state(), random.getstate()
        try:
            made = make_dataset(args)
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)
        arrays = {
            "x": made["x"].astype(np.float32),
            "y": made["y"].astype(np.int64),
            "x_test": made["x_test"].astype(np.float32),
            "y_test": made["y_test"].astype(np.int64),
        }
        for a in arrays.values():
            a.setflags(write=False)  # shared by every instance with this seed
        _cache[key] = arrays
    return _cache[key]


class MNIST1D(ArrayImageDataset):
    """MNIST-1D (Greydanus, "Scaling down deep learning"): 4000 train / 1000 test signals.

    ``MNIST1D(train=True, seed=42)`` uses the package's default arguments (seed 42 is its
    published data set); ``shuffle_seq=True`` permutes the 40 positions, the variant where
    ConvNets lose their edge. ``data`` is float32 (N, 40), already standardised by the package;
    samples and batches are float32 (1, 40). ``data`` is read-only and shared between instances
    with the same seed."""

    classes = tuple(str(d) for d in range(10))

    def __init__(
        self,
        train: bool = True,
        seed: int = 42,
        shuffle_seq: bool = False,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ):
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"MNIST1D: seed must be a non-negative int, got {seed!r}")
        self.train, self.seed, self.shuffle_seq = bool(train), int(seed), bool(shuffle_seq)
        made = _generate(self.seed, self.shuffle_seq)
        x, y = (made["x"], made["y"]) if self.train else (made["x_test"], made["y_test"])
        length = x.shape[1]
        super().__init__(x, y.copy(), 1.0, transform, target_transform, (1, length))

    def extra_repr(self) -> str:
        return f"{'train' if self.train else 'test'}, seed={self.seed}"
