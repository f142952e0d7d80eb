"""Datasets: the abstract ``Dataset``, ``TensorDataset``, ``Subset``, ``random_split``, and the
base of the built-in image sets, which keep whole arrays so a batch is one fancy-index away."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

from minigrad import backend
from minigrad.backend import host as np  # data files live on the host
from minigrad.creation import from_numpy
from minigrad.data.collate import default_collate, to_device
from minigrad.tensor import Tensor

__all__ = [
    "Dataset",
    "TensorDataset",
    "Subset",
    "random_split",
    "ArrayImageDataset",
    "fetch_batch",
]


class Dataset:
    """A map from an index in ``range(len(dataset))`` to a sample.

    Subclasses define ``__getitem__`` and ``__len__``. They may also define
    ``get_batch(indices)``, returning a whole batch (a tuple of arrays or tensors stacked along a
    first dimension) for a 1-D int64 NumPy array of indices: ``DataLoader`` then uses it instead
    of fetching samples one by one."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


def check_indices(indices, n: int, what: str) -> np.ndarray:
    """``indices`` as a 1-D int64 host array, every entry in ``[0, n)`` (negatives wrap once)."""
    idx = np.asarray(indices)
    if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
        raise TypeError(f"{what}: expected a 1-D sequence of ints, got {indices!r}")
    idx = idx.astype(np.int64, copy=False)
    if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
        bad = idx[(idx < -n) | (idx >= n)][0]
        raise IndexError(f"{what}: index {int(bad)} is out of range for a dataset of size {n}")
    return np.where(idx < 0, idx + n, idx)


def _check_item_index(index, n: int, what: str) -> int:
    if isinstance(index, bool) or not isinstance(index, numbers.Integral):
        raise TypeError(f"{what} indices must be ints, got {type(index).__name__}")
    i = int(index)
    if not -n <= i < n:
        raise IndexError(f"{what} index {i} is out of range for a dataset of size {n}")
    return i % n


def fetch_batch(dataset, indices: np.ndarray):
    """The batch at ``indices``: ``dataset.get_batch`` when it has one, else stacked samples."""
    get_batch = getattr(dataset, "get_batch", None)
    if get_batch is not None:
        return get_batch(indices)
    return default_collate([dataset[int(i)] for i in indices])


class TensorDataset(Dataset):
    """Samples are the rows of tensors that share their first dimension (NumPy arrays are
    wrapped as CPU tensors without a copy): ``dataset[i] == (t[i] for t in tensors)``."""

    def __init__(self, *tensors: Tensor):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        wrapped = []
        for k, t in enumerate(tensors):
            if isinstance(t, np.ndarray):
                try:
                    t = from_numpy(t)  # no copy
                except TypeError as e:
                    raise TypeError(f"TensorDataset: argument {k}: {e}") from None
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"TensorDataset: argument {k} must be a Tensor or a NumPy array, "
                    f"got {type(t).__name__}"
                )
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {k} is 0-d; it needs a first dimension")
            wrapped.append(t)
        sizes = [t.shape[0] for t in wrapped]
        if any(s != sizes[0] for s in sizes):
            raise ValueError(
                f"Size mismatch between tensors: TensorDataset needs equal first dimensions, "
                f"got {sizes}"
            )
        self.tensors = tuple(wrapped)

    def __getitem__(self, index) -> tuple:
        i = _check_item_index(index, len(self), "TensorDataset")
        return tuple(t[i] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def get_batch(self, indices) -> tuple:
        """The rows at ``indices`` of every tensor: one fancy-index each, on the tensor's device
        (batches are data: they are not part of any autograd graph)."""
        idx = check_indices(indices, len(self), "TensorDataset.get_batch")
        out = []
        for t in self.tensors:
            key = backend.from_host(idx, t.device)  # the index travels to the data, not back
            out.append(Tensor._make(t._data[key], t.device, False, None, None, None))
        return tuple(out)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = check_indices(list(indices), len(dataset), "Subset")

    def __getitem__(self, index):
        i = _check_item_index(index, len(self), "Subset")
        return self.dataset[int(self.indices[i])]

    def __len__(self) -> int:
        return len(self.indices)

    def get_batch(self, indices):
        idx = check_indices(indices, len(self), "Subset.get_batch")
        return fetch_batch(self.dataset, self.indices[idx])


def random_split(
    dataset,
    lengths: Sequence[int | float],
    generator: np.random.Generator | None = None,
    seed: int | None = None,
) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    ``lengths`` are sizes summing to ``len(dataset)``, or fractions summing to 1 (rounded down,
    with the remainder handed out one by one from the first subset on, as in PyTorch). The
    permutation comes from ``generator``, else a host generator seeded with ``seed``, else one
    seeded from minigrad's global generator (``minigrad.manual_seed``)."""
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths):
        if not math.isclose(sum(lengths), 1.0, abs_tol=1e-6) or any(x < 0 for x in lengths):
            raise ValueError(f"random_split: fractions must be >= 0 and sum to 1, got {lengths}")
        sizes = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
    elif all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in lengths):
        sizes = [int(x) for x in lengths]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ValueError(
                f"random_split: lengths must be non-negative and sum to the dataset's size {n}, "
                f"got {sizes}"
            )
    else:
        raise TypeError(f"random_split: lengths must be all ints or all floats, got {lengths}")
    gen = _generator(generator, seed, "random_split")
    perm = gen.permutation(n)
    bounds = np.cumsum([0] + sizes)
    return [Subset(dataset, perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def _generator(generator, seed, what: str) -> np.random.Generator:
    if generator is not None and seed is not None:
        raise ValueError(f"{what}: pass either generator or seed, not both")
    if generator is not None:
        if not isinstance(generator, np.random.Generator):
            raise TypeError(
                f"{what}: generator must be a numpy.random.Generator (e.g. from "
                f"minigrad.backend.host_generator(seed)), got {type(generator).__name__}"
            )
        return generator
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"{what}: seed must be an int, got {seed!r}")
    return backend.host_generator(None if seed is None else int(seed))


class ArrayImageDataset(Dataset):
    """A labelled data set held as two host arrays: ``data`` (raw samples, e.g. uint8 pixels)
    and ``targets`` (int64 labels).

    A sample comes out as a float32 array of shape ``sample_shape`` (e.g. (C, H, W)) equal to
    ``data * scale`` (so uint8 pixels land in [0, 1]). ``transform``, when given, is applied to
    float32 NumPy *batches* of shape (B, *sample_shape) -- single samples as a batch of one --
    so elementwise or per-channel transforms such as :class:`Normalize` cost one call per batch;
    ``target_transform`` likewise gets int64 label batches (B,). ``dataset[i]`` is a CPU
    ``(image tensor, int label)`` pair; ``get_batch`` gives whole batches."""

    classes: tuple = ()

    def __init__(
        self,
        data: np.ndarray,
        targets: np.ndarray,
        scale: float,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        sample_shape: tuple | None = None,
    ):
        for name, fn in (("transform", transform), ("target_transform", target_transform)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be callable or None, got {type(fn).__name__}")
        self.data = data
        self.targets = targets
        self.scale = float(scale)
        self.sample_shape = tuple(data.shape[1:]) if sample_shape is None else tuple(sample_shape)
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.targets)

    def _images(self, raw: np.ndarray) -> np.ndarray:
        # (B, *raw sample dims) -> (B, *sample_shape) float32
        x = raw.reshape((len(raw),) + self.sample_shape).astype(np.float32, copy=False)
        if self.scale != 1.0:
            x = x * np.float32(self.scale)
        return x if self.transform is None else self.transform(x)

    def _labels(self, y: np.ndarray) -> np.ndarray:
        return y if self.target_transform is None else self.target_transform(y)

    def __getitem__(self, index) -> tuple:
        i = _check_item_index(index, len(self), type(self).__name__)
        # [[i]] copies: the sample never shares memory with the data set
        image = to_device(self._images(self.data[[i]])[0], backend.CPU)
        label = self._labels(self.targets[[i]])[0]
        return image, (label.item() if isinstance(label, np.generic) else label)

    def get_batch(self, indices) -> tuple:
        """(images (B, *sample_shape) float32, labels (B,) int64) as host arrays."""
        idx = check_indices(indices, len(self), f"{type(self).__name__}.get_batch")
        return self._images(self.data[idx]), self._labels(self.targets[idx])

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        return (
            f"{type(self).__name__}(n={len(self)}, sample_shape={self.sample_shape}, "
            f"classes={len(self.classes)}{', ' + extra if extra else ''})"
        )
