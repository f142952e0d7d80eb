"""The only module that imports numpy or cupy: devices, their array modules, and the few
calls that differ between NumPy and CuPy (scatter-add, host transfers, random numbers)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys

import numpy as np

__all__ = ["Device", "device", "get_xp", "cuda_is_available", "to_host", "from_host"]

# ---------------------------------------------------------------- host memory


def _keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse instead of handing it back to the OS.

    NumPy allocates every array with malloc. By default glibc maps blocks over 128 KiB fresh
    from the kernel and returns them on free, so the next op's array arrives as new pages and
    pays a page fault per 4 KiB: about 10,000 faults (40 MiB) per training step of the examples'
    Fashion-MNIST ConvNet. Serving blocks up to 32 MiB from the heap and trimming the heap only
    when 256 MiB lie free at its top removes them (the peak memory stays the same: freed blocks
    are reused). Set ``MINIGRAD_KEEP_FREED_MEMORY=0`` before importing minigrad to leave malloc
    as it is. Returns whether the settings were applied."""
    if os.environ.get("MINIGRAD_KEEP_FREED_MEMORY", "1") == "0" or not sys.platform.startswith(
        "linux"
    ):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt  # glibc; other C libraries lack mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 32 << 20) and mallopt(m_trim_threshold, 256 << 20))


KEEPS_FREED_MEMORY = _keep_freed_memory()

host = np  # the host array module, for the few host-only helpers (data loading, images, files)
host_scalar_type = np.generic  # what NumPy returns instead of a 0-d array from some calls


class Device:
    """Where a tensor's array lives: ``cpu`` (NumPy) or ``cuda`` (CuPy)."""

    __slots__ = ("type", "index")

    def __init__(self, type: str, index: int | None = None):
        self.type = type
        self.index = index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (ValueError, RuntimeError):
                return False
        if not isinstance(other, Device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = Device("cpu")
_CUDA0 = Device("cuda", 0)


def device(spec: str | Device | None) -> Device:
    """Parse ``"cpu"``, ``"cuda"``, ``"cuda:0"`` or a Device; ``None`` gives the default device."""
    if spec is None:
        return default_device()
    if isinstance(spec, Device):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"device must be a string like 'cpu' or 'cuda', or a Device; got {spec!r}")
    name, _, idx = spec.strip().lower().partition(":")
    if name == "cpu" and idx in ("", "0"):
        return CPU
    if name == "cuda":
        if idx and idx != "0":
            raise ValueError(f"device {spec!r}: only one CUDA device, 'cuda:0', is supported")
        return _CUDA0
    raise ValueError(f"unknown device {spec!r}: expected 'cpu' or 'cuda'")


_default_device: Device | None = None


def default_device() -> Device:
    global _default_device
    if _default_device is None:
        _default_device = device(os.environ.get("MINIGRAD_DEVICE", "cpu"))
    return _default_device


def set_default_device(spec: str | Device) -> None:
    global _default_device
    _default_device = device(spec)


# ---------------------------------------------------------------- the CUDA array module

_cuda_module = None


def _fake_cuda_requested() -> bool:
    return os.environ.get("MINIGRAD_FAKE_CUDA", "") not in ("", "0")


def _load_cuda():
    """Import CuPy (or the strict stand-in under MINIGRAD_FAKE_CUDA=1), or say why not."""
    global _cuda_module
    if _cuda_module is not None:
        return _cuda_module
    if _fake_cuda_requested():
        from minigrad.testing import fakecupy

        _cuda_module = fakecupy
        return fakecupy
    try:
        import cupy
    except ImportError:
        raise RuntimeError(
            "device 'cuda' needs CuPy, which is not installed: pip install 'minigrad[cuda]' "
            "(or set MINIGRAD_FAKE_CUDA=1 to test with the CPU stand-in)"
        ) from None
    try:
        ok = cupy.cuda.is_available()
    except Exception:  # a broken driver install raises instead of answering
        ok = False
    if not ok:
        raise RuntimeError(
            "device 'cuda': CuPy is installed but found no CUDA device "
            "(cupy.cuda.is_available() is False); use device 'cpu'"
        )
    _cuda_module = cupy
    return cupy


def cuda_is_available() -> bool:
    try:
        _load_cuda()
    except RuntimeError:
        return False
    return True


def get_xp(dev: Device):
    """The array module (numpy or cupy) for a device."""
    return np if dev.type == "cpu" else _load_cuda()


def device_of(array) -> Device:
    return CPU if isinstance(array, (np.ndarray, np.generic)) else _CUDA0


def is_host_array(x) -> bool:
    return isinstance(x, (np.ndarray, np.generic))


def is_array(x) -> bool:
    """True for NumPy arrays and arrays of the CUDA module (if one is loaded)."""
    if isinstance(x, np.ndarray):
        return True
    return _cuda_module is not None and isinstance(x, _cuda_module.ndarray)


def to_host(array) -> np.ndarray:
    if isinstance(array, np.ndarray):
        return array
    if isinstance(array, np.generic):
        return np.asarray(array)
    return _load_cuda().asnumpy(array)


def from_host(array: np.ndarray, dev: Device):
    """Move a host array to ``dev`` (no copy for the CPU)."""
    if dev.type == "cpu":
        return array
    return _load_cuda().asarray(array)


def to_device(array, dev: Device):
    """Move any backend array to ``dev``; returns the same array when it is already there."""
    if device_of(array) == dev:
        return array
    return from_host(to_host(array), dev)


def as_host_array(data, dtype=None) -> np.ndarray:
    """Python data (lists, scalars, host arrays) to a host array. Data that is not numbers in
    a rectangular nesting is refused with PyTorch's kind of error (see ``data_error``)."""
    try:
        if dtype is None:
            return np.asarray(data)
        with np.errstate(over="ignore"):  # 1e30 as float16 is inf, as in PyTorch
            return np.asarray(data, dtype=dtype)
    except (ValueError, TypeError, OverflowError) as e:
        raise data_error(data, e) from None


def _is_nested(v) -> bool:
    return isinstance(v, (list, tuple)) or (
        hasattr(v, "shape") and hasattr(v, "__len__") and len(v.shape) > 0
    )


def data_error(data, cause: BaseException | None = None) -> Exception:
    """The error for ``data`` that cannot become a tensor, as PyTorch words it: nested lists
    of unequal lengths ('expected sequence of length 2 at dim 1 (got 1)'), a sequence next to
    a number, strings, or other objects. Walks the nesting level by level (error path only)."""
    what = f"can't build a tensor from {type(data).__name__} data"
    level, dim = [data], 0
    while True:
        nested = [_is_nested(v) for v in level]
        if not any(nested):
            break
        if not all(nested):
            odd = level[nested.index(False)]
            return TypeError(
                f"{what}: expected a sequence at dim {dim} (every element at one depth must "
                f"be a sequence of the same length), found {type(odd).__name__} {odd!r}"
            )
        lengths = [len(v) for v in level]
        for n in lengths:
            if n != lengths[0]:
                return ValueError(
                    f"{what}: expected sequence of length {lengths[0]} at dim {dim} (got {n})"
                )
        level = [item for v in level for item in v]
        dim += 1
    for v in level:
        if isinstance(v, str):
            if dim == 0:
                return TypeError(f"{what}: new(): invalid data type 'str' (got {v!r})")
            return ValueError(f"{what}: too many dimensions 'str' (element {v!r} at dim {dim})")
        if not isinstance(v, (bool, int, float, np.generic, np.ndarray)) and not hasattr(
            v, "__array__"
        ):
            return TypeError(
                f"{what}: elements must be real numbers, got {type(v).__name__} {v!r} "
                "(expected numbers, nested lists of numbers, or an array)"
            )
    for v in level:
        if isinstance(v, int) and not -(2**63) <= v < 2**63:
            return RuntimeError(
                f"{what}: {v} is out of the range of int64 (Overflow when unpacking long)"
            )
    if isinstance(cause, OverflowError):
        return RuntimeError(f"{what}: a value is out of range for the dtype: {cause}")
    if cause is None:
        return TypeError(
            f"{what}: expected numbers, nested lists of numbers, or an array of numbers"
        )
    kind = ValueError if isinstance(cause, ValueError) else TypeError
    return kind(f"{what}: {cause}")


# ---------------------------------------------------------------- calls that differ


def scatter_add(xp, target, index, values) -> None:
    """``target[index] += values`` with repeated indices accumulating, in place."""
    if xp is np:
        np.add.at(target, index, values)
    elif _fake_cuda_requested() and xp is _cuda_module:
        xp.scatter_add(target, index, values)
    else:
        import cupyx

        cupyx.scatter_add(target, index, values)


def ignore_float_warnings(xp, *kinds: str):
    """A context in which NumPy does not warn about the floating-point events ``kinds``
    ('over', 'invalid', 'divide') that an op produces on purpose, e.g. overflow to inf in a
    max-shifted softmax near the float32 limit, or the nan of inf - inf and the -inf of log(0)
    that PyTorch gives silently. CuPy never warns."""
    if xp is not np:
        return contextlib.nullcontext()
    return np.errstate(**{k: "ignore" for k in kinds})


def as_strided(xp, array, shape, strides):
    return xp.lib.stride_tricks.as_strided(array, shape=shape, strides=strides)


def dlpack_import(obj, dev: Device | None):
    """Import an object that speaks DLPack onto the matching device."""
    if not hasattr(obj, "__dlpack__"):
        raise RuntimeError(
            f"from_dlpack(): expected an array that supports DLPack (with a __dlpack__ method: "
            f"NumPy, CuPy, PyTorch ...), got {type(obj).__name__}"
        )
    kind = obj.__dlpack_device__()[0] if hasattr(obj, "__dlpack_device__") else 1
    if kind == 1:  # kDLCPU
        return np.from_dlpack(obj)
    return _load_cuda().from_dlpack(obj)


# ---------------------------------------------------------------- random numbers

# Random numbers are drawn on the host from one generator and then moved, so that the same seed
# gives the same numbers on every device.
_rng = np.random.default_rng(0)


def manual_seed(seed: int) -> None:
    global _rng
    _rng = np.random.default_rng(int(seed))


def rng() -> np.random.Generator:
    return _rng


def get_rng_state() -> dict:
    return _rng.bit_generator.state


def set_rng_state(state: dict) -> None:
    _rng.bit_generator.state = state


def host_generator(seed: int | None = None) -> np.random.Generator:
    """A separate host generator (for data shuffling); seeded from the global one if no seed."""
    if seed is None:
        seed = int(_rng.integers(0, 2**63 - 1))
    return np.random.default_rng(seed)


# ---------------------------------------------------------------- dtypes

NP_DTYPES = {
    "float16": np.dtype(np.float16),
    "float32": np.dtype(np.float32),
    "float64": np.dtype(np.float64),
    "int8": np.dtype(np.int8),
    "uint8": np.dtype(np.uint8),
    "int16": np.dtype(np.int16),
    "int32": np.dtype(np.int32),
    "int64": np.dtype(np.int64),
    "bool": np.dtype(np.bool_),
}


def np_dtype_of(x):
    return np.asarray(x).dtype if not hasattr(x, "dtype") else x.dtype


def finfo(np_dtype):
    return np.finfo(np_dtype)
