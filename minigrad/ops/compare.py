"""Ops without a gradient: comparisons, logical ops, sign, tests for nan/inf, integer division.

Their results never require grad, so they run straight on the arrays."""

from __future__ import annotations

from minigrad import backend, dtypes
from minigrad.ops.elementwise import check_broadcast, pair
from minigrad.ops.movement import check_bool, check_number, check_tensor
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
    if check_tensor("logical_not", a)._data.dtype.kind != "b":
        return _nograd(a, ~a._data) if a._data.dtype.kind in "iu" else _nograd(a, a._data == 0)
    return _nograd(a, ~a._data)


def sign(a: Tensor) -> Tensor:
    if check_tensor("sign", a)._data.dtype.kind == "b":  # the sign of a bool is itself
        return _nograd(a, a._data.copy())
    return _nograd(a, a.xp.sign(a._data))


def isnan(a: Tensor) -> Tensor:
    check_tensor("isnan", a)
    return _nograd(a, a.xp.isnan(a._data))


def isfinite(a: Tensor) -> Tensor:
    check_tensor("isfinite", a)
    return _nograd(a, a.xp.isfinite(a._data))


def _divisor(name, a, b):
    """Integer division by zero is an error in PyTorch; float division gives inf or nan."""
    if b._data.dtype.kind in "biu" and a._data.dtype.kind in "biu" and not b._data.all():
        raise RuntimeError(f"{name}: ZeroDivisionError (an integer divided by zero)")


def floor_divide(a, b):
    a, b = _compare("floor_divide", a, b)
    _divisor("floor_divide", a, b)
    with backend.ignore_float_warnings(a.xp, "divide", "invalid"):
        return _nograd(a, a._data // b._data)


def remainder(a, b):
    a, b = _compare("remainder", a, b)
    _divisor("remainder", a, b)
    with backend.ignore_float_warnings(a.xp, "divide", "invalid"):
        return _nograd(a, a._data % b._data)


def _axes(dim, ndim):
    from minigrad.ops.movement import normalize_dims

    if dim is None:
        return None
    axes = normalize_dims(dim, ndim)
    return axes if ndim else None  # a 0-d tensor reduces over its only element


def all(a: Tensor, dim=None, keepdim=False) -> Tensor:
    keepdim = check_bool("all", "keepdim", keepdim)
    axes = _axes(dim, check_tensor("all", a).ndim)
    return _nograd(a, a.xp.all(a._data, axis=axes, keepdims=keepdim))


def any(a: Tensor, dim=None, keepdim=False) -> Tensor:
    keepdim = check_bool("any", "keepdim", keepdim)
    axes = _axes(dim, check_tensor("any", a).ndim)
    return _nograd(a, a.xp.any(a._data, axis=axes, keepdims=keepdim))


def equal(a: Tensor, b: Tensor) -> bool:
    """True if both have the same shape and elements."""
    check_tensor("equal", a, "input")
    check_tensor("equal", b, "other")
    return a.shape == b.shape and bool(a.xp.all(a._data == b._data))


def allclose(a: Tensor, b: Tensor, rtol=1e-5, atol=1e-8, equal_nan=False) -> bool:
    """``|a - b| <= atol + rtol * |b|`` everywhere (infinities must be equal; nan is close to
    nan only with ``equal_nan``)."""
    check_tensor("allclose", a, "input")
    check_tensor("allclose", b, "other")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not check_number("allclose", name, v) >= 0:
            raise RuntimeError(f"allclose(): {name} must be greater than or equal to zero, got {v}")
    equal_nan = check_bool("allclose", "equal_nan", equal_nan)
    a, b = _compare("allclose", a, b)
    xp, x, y = a.xp, a._data, b._data
    if x.dtype.kind != "f":  # bools and (unsigned) integers: compare as floats, no wrap-around
        x, y = x.astype(dtypes.float64.np), y.astype(dtypes.float64.np)
    with backend.ignore_float_warnings(xp, "invalid", "over"):  # inf - inf
        close = (x == y) | (xp.abs(x - y) <= atol + rtol * xp.abs(y))
    if equal_nan and x.dtype.kind == "f":
        close |= xp.isnan(x) & xp.isnan(y)
    return bool(xp.all(close))
