"""Turning a list of samples into one batch (``default_collate``) and moving a batch's arrays and
tensors to a device, one transfer per tensor."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

from minigrad import backend, dtypes
from minigrad.backend import host as np  # data files live on the host
from minigrad.tensor import Tensor

__all__ = ["default_collate", "to_device"]


def default_collate(batch: list):
    """Stack a list of samples the way PyTorch's ``default_collate`` does.

    Tensors and NumPy arrays are stacked along a new first dimension; Python ints become int64,
    floats float64 and bools bool; tuples, lists and dicts are collated field by field; strings
    are kept as a list. Arrays stay on the host (the loader moves them), tensors stay tensors."""
    if not isinstance(batch, Sequence) or len(batch) == 0:
        raise TypeError(f"default_collate expects a non-empty list of samples, got {batch!r}")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        return np.stack(batch)
    if isinstance(elem, np.generic):
        return np.array(batch)
    if isinstance(elem, bool):
        return np.array(batch, dtype=np.bool_)
    if isinstance(elem, numbers.Integral):
        return np.array(batch, dtype=np.int64)
    if isinstance(elem, numbers.Real):
        return np.array(batch, dtype=np.float64)
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(column)) for column in zip(*batch)]
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise TypeError(
        "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        f"found {type(elem).__name__}"
    )


def _stack_tensors(batch: list) -> Tensor:
    from minigrad.ops.movement import stack

    cpu = backend.CPU
    if all(t.device == cpu and not t.requires_grad for t in batch):
        # one host stack instead of N unsqueezes and a cat through the graph machinery
        return Tensor._make(np.stack([t._data for t in batch]), cpu, False, None, None, None)
    return stack(batch)


def to_device(batch, device: backend.Device):
    """Arrays and tensors anywhere in ``batch`` (tuples, lists, dicts) as tensors on ``device``."""
    if isinstance(batch, Tensor):
        return batch if batch.device == device else batch.to(device)
    if isinstance(batch, (np.ndarray, np.generic)):
        array = np.ascontiguousarray(batch)
        dtypes.from_np(array.dtype)  # a clear TypeError for dtypes tensors can't hold
        return Tensor._make(backend.from_host(array, device), device, False, None, None, None)
    if backend.is_array(batch):  # an array of the CUDA module
        array = backend.to_device(batch, device)
        return Tensor._make(array, device, False, None, None, None)
    if isinstance(batch, tuple):
        return tuple(to_device(b, device) for b in batch)
    if isinstance(batch, list):
        return [to_device(b, device) for b in batch]
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    return batch
