"""Functions that make new tensors: from data, filled, ranges, random, and from other arrays."""

from __future__ import annotations

import numbers

from minigrad import backend, dtypes
from minigrad.tensor import Tensor


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays or a Tensor)."""
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    if isinstance(data, Tensor) and (dtype is None or data.dtype is dtypes.as_dtype(dtype)):
        return data if device is None else data.to(device)
    return Tensor(data, dtype=dtype, device=device)


def _size(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, numbers.Integral) or isinstance(s, bool) or s < 0:
            raise ValueError(f"sizes must be non-negative ints, got {tuple(size)!r}")
    return tuple(int(s) for s in size)


def _finish(array, dev, requires_grad) -> Tensor:
    t = Tensor._make(array, dev, False, None, None, None)
    if requires_grad:
        t.requires_grad = True
    return t


def _float(dtype) -> dtypes.dtype:
    return dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = dtypes.bool_
        elif isinstance(fill_value, numbers.Integral):
            dtype = dtypes.int64
    dt, dev = _float(dtype), backend.device(device)
    xp = backend.get_xp(dev)
    return _finish(xp.full(_size((size,)), fill_value, dtype=dt.np), dev, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dt, dev = _float(dtype), backend.device(device)
    return _finish(backend.get_xp(dev).zeros(_size(size), dtype=dt.np), dev, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dt, dev = _float(dtype), backend.device(device)
    return _finish(backend.get_xp(dev).ones(_size(size), dtype=dt.np), dev, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dt, dev = _float(dtype), backend.device(device)
    return _finish(backend.get_xp(dev).empty(_size(size), dtype=dt.np), dev, requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _float(dtype), backend.device(device)
    return _finish(backend.get_xp(dev).eye(n, m, dtype=dt.np), dev, requires_grad)


def _like(x: Tensor, dtype, device):
    return (x.dtype if dtype is None else dtypes.as_dtype(dtype)), (
        x.device if device is None else device
    )


def zeros_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(x, dtype, device)
    return zeros(x.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def ones_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(x, dtype, device)
    return ones(x.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def empty_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(x, dtype, device)
    return empty(x.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def full_like(x: Tensor, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(x, dtype, device)
    return full(x.shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        ints = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.get_default_dtype()
    dt, dev = dtypes.as_dtype(dtype), backend.device(device)
    host = backend.host.arange(start, end, step, dtype=backend.host.float64).astype(dt.np)
    return _finish(backend.from_host(host, dev), dev, requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False) -> Tensor:
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    dt, dev = _float(dtype), backend.device(device)
    host = backend.host.linspace(start, end, steps).astype(dt.np)
    return _finish(backend.from_host(host, dev), dev, requires_grad)


# ---------------------------------------------------------------- random (drawn on the host)


def manual_seed(seed: int) -> None:
    """Seed the generator behind rand/randn/randint, dropout and init (on every device)."""
    backend.manual_seed(seed)


def _random(draw, size, dtype, device, requires_grad) -> Tensor:
    dt, dev = _float(dtype), backend.device(device)
    host = draw(backend.rng(), _size(size)).astype(dt.np)
    return _finish(backend.from_host(host, dev), dev, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _random(lambda r, s: r.random(s), size, dtype, device, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _random(lambda r, s: r.standard_normal(s), size, dtype, device, requires_grad)


def randint(low, high=None, size=(), dtype=None, device=None) -> Tensor:
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    dt = dtypes.int64 if dtype is None else dtypes.as_dtype(dtype)
    dev = backend.device(device)
    host = backend.rng().integers(low, high, size=_size((size,))).astype(dt.np)
    return _finish(backend.from_host(host, dev), dev, False)


def randperm(n: int, dtype=None, device=None) -> Tensor:
    dt = dtypes.int64 if dtype is None else dtypes.as_dtype(dtype)
    dev = backend.device(device)
    return _finish(backend.from_host(backend.rng().permutation(n).astype(dt.np), dev), dev, False)


def rand_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(x, dtype, device)
    return rand(x.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def randn_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(x, dtype, device)
    return randn(x.shape, dtype=dt, device=dev, requires_grad=requires_grad)


# ---------------------------------------------------------------- from other arrays


def from_numpy(array) -> Tensor:
    """A CPU tensor sharing memory with a NumPy array (like ``torch.from_numpy``)."""
    if not backend.is_host_array(array) or isinstance(array, backend.host_scalar_type):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    dtypes.from_np(array.dtype)
    return Tensor._make(array, backend.CPU, False, None, None, None)


def from_dlpack(obj) -> Tensor:
    """A tensor sharing memory with any array that speaks DLPack (NumPy, CuPy, PyTorch...)."""
    if isinstance(obj, Tensor):
        return obj.detach()
    array = backend.dlpack_import(obj, None)
    dtypes.from_np(array.dtype)
    return Tensor._make(array, backend.device_of(array), False, None, None, None)
