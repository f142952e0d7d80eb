"""Ops without a gradient: comparisons, logical ops, sign, tests for nan/inf, integer division.

Their results never require grad, so they run straight on the arrays."""

from __future__ import annotations

from minigrad.ops.elementwise import check_broadcast, pair
from minigrad.tensor import Tensor


def _compare(name, a, b):
    a, b = pair(a, b)
    if a._data.shape != b._data.shape and a._data.shape and b._data.shape:
        check_broadcast(name, a._data.shape, b._data.shape)
    return a, b


def _nograd(like: Tensor, array) -> Tensor:
    return Tensor._make(like.xp.asarray(array), like._device, False, None, None, None)


def lt(a, b):
    a, b = _compare("lt", a, b)
    return _nograd(a, a._data < b._data)


def le(a, b):
    a, b = _compare("le", a, b)
    return _nograd(a, a._data <= b._data)


def gt(a, b):
    a, b = _compare("gt", a, b)
    return _nograd(a, a._data > b._data)


def ge(a, b):
    a, b = _compare("ge", a, b)
    return _nograd(a, a._data >= b._data)


def eq(a, b):
    if not isinstance(b, Tensor) and not _is_number(b):
        return False
    a, b = _compare("eq", a, b)
    return _nograd(a, a._data == b._data)


def ne(a, b):
    if not isinstance(b, Tensor) and not _is_number(b):
        return True
    a, b = _compare("ne", a, b)
    return _nograd(a, a._data != b._data)


def _is_number(v) -> bool:
    return isinstance(v, (int, float, bool)) or hasattr(v, "dtype")


def _bools(name, a, b):
    a, b = _compare(name, a, b)
    for t in (a, b):
        if t._data.dtype.kind not in "biu":
            raise TypeError(f"{name} expects bool or integer tensors, got {t.dtype}")
    return a, b


def logical_and(a, b):
    a, b = _bools("logical_and", a, b)
    return _nograd(a, a._data & b._data)


def logical_or(a, b):
    a, b = _bools("logical_or", a, b)
    return _nograd(a, a._data | b._data)


def logical_xor(a, b):
    a, b = _bools("logical_xor", a, b)
    return _nograd(a, a._data ^ b._data)


def logical_not(a: Tensor) -> Tensor:
    if a._data.dtype.kind != "b":
        return _nograd(a, ~a._data) if a._data.dtype.kind in "iu" else _nograd(a, a._data == 0)
    return _nograd(a, ~a._data)


def sign(a: Tensor) -> Tensor:
    return _nograd(a, a.xp.sign(a._data))


def isnan(a: Tensor) -> Tensor:
    return _nograd(a, a.xp.isnan(a._data))


def isfinite(a: Tensor) -> Tensor:
    return _nograd(a, a.xp.isfinite(a._data))


def floor_divide(a, b):
    a, b = _compare("floor_divide", a, b)
    return _nograd(a, a._data // b._data)


def remainder(a, b):
    a, b = _compare("remainder", a, b)
    return _nograd(a, a._data % b._data)


def _axes(dim, ndim):
    from minigrad.ops.movement import normalize_dims

    return None if dim is None else normalize_dims(dim, ndim)


def all(a: Tensor, dim=None, keepdim=False) -> Tensor:
    return _nograd(a, a.xp.all(a._data, axis=_axes(dim, a.ndim), keepdims=keepdim))


def any(a: Tensor, dim=None, keepdim=False) -> Tensor:
    return _nograd(a, a.xp.any(a._data, axis=_axes(dim, a.ndim), keepdims=keepdim))


def equal(a: Tensor, b: Tensor) -> bool:
    """True if both have the same shape and elements."""
    return a.shape == b.shape and bool(a.xp.all(a._data == b._data))


def allclose(a: Tensor, b: Tensor, rtol=1e-5, atol=1e-8, equal_nan=False) -> bool:
    return bool(a.xp.allclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan))
