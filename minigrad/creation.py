"""Functions that make new tensors: from data, filled, ranges, random, and from other arrays."""

from __future__ import annotations

import math
import numbers

from minigrad import backend, dtypes
from minigrad.ops.movement import (
    check_bool,
    check_int,
    check_size,
    check_tensor,
    out_of_memory,
)
from minigrad.tensor import Tensor


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays or a Tensor)."""
    requires_grad = check_bool("tensor", "requires_grad", requires_grad)
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    if isinstance(data, Tensor) and (dtype is None or data.dtype is dtypes.as_dtype(dtype)):
        return data if device is None else data.to(device)
    return Tensor(data, dtype=dtype, device=device)


def _size(size, name: str = "size") -> tuple:
    """``f(2, 3)``, ``f((2, 3))`` or ``f([2, 3])`` as a tuple of non-negative ints."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(
                f"{name} must be a tuple of ints, got {tuple(size)!r} (an element of type "
                f"{type(s).__name__})"
            )
    if any(s < 0 for s in size):
        raise RuntimeError(
            f"Trying to create tensor with negative dimension {min(size)}: {list(size)}"
        )
    return tuple(int(s) for s in size)


def _alloc(name: str, make, shape: tuple, dt: dtypes.dtype):
    """``make()``, with an allocation the machine cannot satisfy as a RuntimeError (PyTorch's
    type) instead of NumPy's MemoryError or 'array is too big' ValueError."""
    check_size(name, shape, dt.itemsize)
    try:
        return make()
    except MemoryError:
        raise out_of_memory(name, shape, dt.itemsize) from None


def _finish(array, dev, requires_grad, name: str = "tensor") -> Tensor:
    t = Tensor._make(array, dev, False, None, None, None)
    if check_bool(name, "requires_grad", requires_grad):
        t.requires_grad = True
    return t


def _fill_value(name: str, value):
    """A fill value: a Python number or a one-element tensor (PyTorch's Number)."""
    if isinstance(value, Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, backend.host_scalar_type):
        value = value.item()
    if not isinstance(value, (bool, numbers.Real)):
        raise TypeError(f"{name}(): fill_value must be a number, got {type(value).__name__}")
    return value


def _float(dtype) -> dtypes.dtype:
    return dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    fill_value = _fill_value("full", fill_value)
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = dtypes.bool_
        elif isinstance(fill_value, numbers.Integral):
            dtype = dtypes.int64
    dt, dev = _float(dtype), backend.device(device)
    xp = backend.get_xp(dev)
    shape = _size((size,))
    with backend.ignore_float_warnings(xp, "over", "invalid"):  # 1e6 in float16 is inf
        array = _alloc("full", lambda: xp.full(shape, fill_value, dtype=dt.np), shape, dt)
    return _finish(array, dev, requires_grad, "full")


def _filled(name: str, size, dtype, device, requires_grad) -> Tensor:
    dt, dev = _float(dtype), backend.device(device)
    shape = _size(size)
    make = getattr(backend.get_xp(dev), name)
    return _finish(
        _alloc(name, lambda: make(shape, dtype=dt.np), shape, dt), dev, requires_grad, name
    )


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _filled("zeros", size, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _filled("ones", size, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _filled("empty", size, dtype, device, requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    n = check_int("eye", "n", n)
    m = n if m is None else check_int("eye", "m", m)
    for arg, v in (("n", n), ("m", m)):
        if v < 0:
            raise RuntimeError(f"eye(): {arg} must be greater or equal to 0, got {v}")
    dt, dev = _float(dtype), backend.device(device)
    xp = backend.get_xp(dev)
    return _finish(
        _alloc("eye", lambda: xp.eye(n, m, dtype=dt.np), (n, m), dt), dev, requires_grad, "eye"
    )


def _like(name: str, x: Tensor, dtype, device):
    check_tensor(name, x)
    return (x.dtype if dtype is None else dtypes.as_dtype(dtype)), (
        x.device if device is None else device
    )


def zeros_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like("zeros_like", x, dtype, device)
    return zeros(x.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def ones_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like("ones_like", x, dtype, device)
    return ones(x.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def empty_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like("empty_like", x, dtype, device)
    return empty(x.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def full_like(x: Tensor, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like("full_like", x, dtype, device)
    return full(x.shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def _real(name: str, arg: str, value):
    """A bound of a range: a Python number or a one-element tensor."""
    if isinstance(value, Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, backend.host_scalar_type):
        value = value.item()
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name}(): {arg} must be a number, got {type(value).__name__}")
    return value


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    if end is None:
        start, end = 0, start
    start, end, step = (
        _real("arange", a, v) for a, v in zip(("start", "end", "step"), (start, end, step))
    )
    if not all(math.isfinite(v) for v in (start, end, step)):
        raise RuntimeError(f"arange(): unsupported range: {start} -> {end} with step {step}")
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"arange(): upper bound and lower bound inconsistent with step sign (start={start}, "
            f"end={end}, step={step})"
        )
    if dtype is None:
        ints = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.get_default_dtype()
    dt, dev = dtypes.as_dtype(dtype), backend.device(device)
    n = max(math.ceil((end - start) / step), 0)
    f64 = dtypes.float64
    host = _alloc(
        "arange", lambda: backend.host.arange(start, end, step, dtype=f64.np), (n,), f64
    ).astype(dt.np)
    return _finish(backend.from_host(host, dev), dev, requires_grad, "arange")


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False) -> Tensor:
    start, end = _real("linspace", "start", start), _real("linspace", "end", end)
    steps = check_int("linspace", "steps", steps)
    if steps < 0:
        raise RuntimeError(f"linspace(): number of steps must be non-negative, got {steps}")
    dt, dev = _float(dtype), backend.device(device)
    f64 = dtypes.float64
    with backend.ignore_float_warnings(backend.host, "invalid", "over"):  # inf bounds: nan
        host = _alloc("linspace", lambda: backend.host.linspace(start, end, steps), (steps,), f64)
        host = host.astype(dt.np)
    return _finish(backend.from_host(host, dev), dev, requires_grad, "linspace")


# ---------------------------------------------------------------- random (drawn on the host)


def manual_seed(seed: int) -> None:
    """Seed the generator behind rand/randn/randint, dropout and init (on every device).
    Negative seeds are taken modulo 2**64, as in PyTorch."""
    backend.manual_seed(check_int("manual_seed", "seed", seed) % 2**64)


def _random(name, draw, size, dtype, device, requires_grad) -> Tensor:
    dt, dev = _float(dtype), backend.device(device)
    if not dt.is_floating_point:
        raise NotImplementedError(
            f"{name}(): random floats need a floating point dtype, got {dt} (for integers use "
            "randint)"
        )
    shape = _size(size)
    f64 = dtypes.float64
    host = _alloc(name, lambda: draw(backend.rng(), shape), shape, f64).astype(dt.np)
    return _finish(backend.from_host(host, dev), dev, requires_grad, name)


def rand(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _random("rand", lambda r, s: r.random(s), size, dtype, device, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    draw = lambda r, s: r.standard_normal(s)  # noqa: E731
    return _random("randn", draw, size, dtype, device, requires_grad)


def randint(low, high=None, size=None, dtype=None, device=None) -> Tensor:
    """Integers drawn uniformly from ``[low, high)``: ``randint(high, size)`` or
    ``randint(low, high, size)``, with ``size`` a tuple (or list) of ints, as in PyTorch."""
    if size is None:
        if not isinstance(high, (tuple, list)):
            raise TypeError(
                f"randint() needs a size: randint(high, size) or randint(low, high, size) with "
                f"size a tuple of ints; got low={low!r}, high={high!r} and no size"
            )
        low, high, size = 0, low, high  # randint(high, size)
    elif high is None:  # randint(high, size=...)
        low, high = 0, low
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): size must be a tuple of ints, not {type(size).__name__}")
    low, high = check_int("randint", "low", low), check_int("randint", "high", high)
    if high <= low:
        raise RuntimeError(f"randint(): expected low < high, got low={low}, high={high}")
    dt = dtypes.int64 if dtype is None else dtypes.as_dtype(dtype)
    dev = backend.device(device)
    shape = _size((size,))
    i64 = dtypes.int64
    draw = lambda: backend.rng().integers(low, high, size=shape)  # noqa: E731
    host = _alloc("randint", draw, shape, i64).astype(dt.np)
    return _finish(backend.from_host(host, dev), dev, False)


def randperm(n: int, dtype=None, device=None) -> Tensor:
    if isinstance(n, Tensor) and n.numel() == 1 and not n.dtype.is_floating_point:
        n = n.item()
    n = check_int("randperm", "n", n)
    if n < 0:
        raise RuntimeError(f"randperm(): n must be non-negative, got {n}")
    dt = dtypes.int64 if dtype is None else dtypes.as_dtype(dtype)
    dev = backend.device(device)
    i64 = dtypes.int64
    host = _alloc("randperm", lambda: backend.rng().permutation(n), (n,), i64).astype(dt.np)
    return _finish(backend.from_host(host, dev), dev, False)


def rand_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like("rand_like", x, dtype, device)
    return rand(x.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def randn_like(x: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like("randn_like", x, dtype, device)
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
