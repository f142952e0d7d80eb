"""``DataLoader``: batches of a dataset as tensors on a device, shuffled reproducibly each epoch,
with a ``state_dict`` to resume an interrupted epoch."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator

from minigrad import backend
from minigrad.backend import host as np  # data files live on the host
from minigrad.data.collate import to_device
from minigrad.data.dataset import _generator, fetch_batch

__all__ = ["DataLoader"]


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples.

    Each ``iter()`` is one epoch. With ``shuffle=True`` every epoch draws a fresh permutation
    from ``generator`` (a ``numpy.random.Generator``), else from a host generator seeded with
    ``seed``, else from one seeded once, at construction, from minigrad's global generator (so
    ``minigrad.manual_seed`` before building the loader fixes every epoch's order).

    A batch is the dataset's ``get_batch(indices)`` when it has one (one fancy-index per array:
    ``TensorDataset`` and the built-in sets), else ``collate_fn`` (default: ``default_collate``)
    applied to the list of samples. Every array or tensor in it then becomes a tensor on
    ``device`` (default: minigrad's default device), with one transfer per tensor.

    ``state_dict()`` records the epoch's random state and how many batches it has handed out;
    ``load_state_dict()`` on a loader over the same dataset makes its next ``iter()`` go on from
    the next batch of that same epoch, so an interrupted run resumes with the same batches."""

    def __init__(
        self,
        dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: np.random.Generator | None = None,
        seed: int | None = None,
        device=None,
        collate_fn: Callable | None = None,
    ):
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(
                f"DataLoader: dataset must define __getitem__ and __len__, "
                f"got {type(dataset).__name__}"
            )
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, numbers.Integral)
            or batch_size <= 0
        ):
            raise ValueError(
                f"DataLoader: batch_size must be a positive int, got batch_size={batch_size!r}"
            )
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {collate_fn!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.device = backend.device(device)
        self.collate_fn = collate_fn
        # only a shuffling loader draws from (and so advances) the global generator
        self.generator = _generator(generator, seed, "DataLoader") if shuffle else None
        self._epoch_state = None  # the generator's state before this epoch's permutation
        self._position = 0  # batches handed out in the current epoch
        self._in_epoch = False
        self._resume_at = 0

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator:
        # the epoch is set up here, not lazily, so state_dict() right after iter() is exact
        n = len(self.dataset)
        if self.shuffle:
            self._epoch_state = self.generator.bit_generator.state
            order = self.generator.permutation(n)
        else:
            order = np.arange(n)
        start, self._resume_at = self._resume_at, 0
        self._position, self._in_epoch = start, True
        return self._batches(order, start)

    def _batches(self, order: np.ndarray, start: int) -> Iterator:
        bs = self.batch_size
        for b in range(start, len(self)):
            batch = self._fetch(order[b * bs : (b + 1) * bs])
            self._position = b + 1
            yield batch
        self._in_epoch = False

    def _fetch(self, indices: np.ndarray):
        if self.collate_fn is None:
            batch = fetch_batch(self.dataset, indices)
        else:
            batch = self.collate_fn([self.dataset[int(i)] for i in indices])
        return to_device(batch, self.device)

    # ---------------------------------------------------------------- resuming

    def state_dict(self) -> dict:
        """``{"rng_state": ..., "position": k}``: where the current epoch is (between epochs:
        the next epoch's random state and position 0). Plain dicts and ints, JSON-friendly."""
        if self._in_epoch and self._position < len(self):
            rng_state, position = self._epoch_state, self._position
        elif self._resume_at:  # loaded and not yet iterated: the loaded state, unchanged
            rng_state, position = self._generator_state(), self._resume_at
        else:
            rng_state, position = self._generator_state(), 0
        return {"rng_state": rng_state, "position": position}

    def load_state_dict(self, state: dict) -> None:
        """Make the next ``iter()`` replay the recorded epoch from batch ``position`` on."""
        if not isinstance(state, dict) or set(state) != {"rng_state", "position"}:
            raise ValueError(
                "DataLoader.load_state_dict expects the dict from state_dict() with keys "
                f"'rng_state' and 'position', got {state!r}"
            )
        position = state["position"]
        if (
            isinstance(position, bool)
            or not isinstance(position, numbers.Integral)
            or not 0 <= position <= len(self)
        ):
            raise ValueError(
                f"DataLoader.load_state_dict: position must be an int in [0, {len(self)}] "
                f"(the number of batches of this loader), got {position!r}"
            )
        rng_state = state["rng_state"]
        if (rng_state is None) != (self.generator is None):
            raise ValueError(
                "DataLoader.load_state_dict: the state comes from a loader with "
                f"shuffle={rng_state is not None}, but this one has shuffle={self.shuffle}"
            )
        if rng_state is not None:
            self.generator.bit_generator.state = rng_state
        self._resume_at = int(position)
        self._in_epoch = False

    def _generator_state(self):
        return None if self.generator is None else self.generator.bit_generator.state

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, device='{self.device}')"
        )
