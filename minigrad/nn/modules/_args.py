"""Checks of layer constructor arguments, shared by the layers: each error names the layer, the
argument, the value received and what was expected."""

from __future__ import annotations

import numbers
from typing import Any

from minigrad.ops.movement import check_bool
from minigrad.tensor import Tensor


def is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def positive_int(layer: str, name: str, value: Any) -> int:
    if not is_int(value) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return int(value)


def ntuple(layer: str, name: str, value: Any, n: int, minimum: int) -> tuple[int, ...]:
    """``value`` (an int or a sequence of ``n`` ints) as an n-tuple of ints >= ``minimum``."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    what = "positive" if minimum == 1 else "non-negative"
    if len(items) != n or not all(is_int(v) and v >= minimum for v in items):
        raise ValueError(
            f"{layer}: {name} must be a {what} integer or a tuple of {n} {what} integers, "
            f"got {value!r}"
        )
    return tuple(int(v) for v in items)


def flag(layer: str, name: str, value: Any) -> bool:
    """A constructor flag such as ``bias``: a bool (a NumPy bool too); anything else, an array
    say, is a TypeError naming the layer and the argument."""
    if value is True or value is False:
        return value
    return check_bool(layer, name, value)


def choice(layer: str, name: str, value: Any, choices: tuple) -> str:
    """One of the strings ``choices`` (an array is refused, not compared elementwise)."""
    if not isinstance(value, str) or value not in choices:
        *rest, last = (repr(c) for c in choices)
        allowed = f"{', '.join(rest)} or {last}" if rest else last
        what = "must be" if len(choices) < 3 else "must be one of"
        raise ValueError(f"{layer}: {name} {what} {allowed}, got {value!r}")
    return value


def probability(layer: str, p: Any) -> float:
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p <= 1:
        raise ValueError(f"{layer}: dropout probability has to be between 0 and 1, but got {p!r}")
    return float(p)


def reduction(layer: str, value: Any) -> str:
    if not isinstance(value, str) or value not in ("none", "mean", "sum"):
        raise ValueError(f"{layer}: reduction must be 'none', 'mean' or 'sum', got {value!r}")
    return value


def tensor_input(layer: Any, x: Any) -> None:
    """Refuse non-tensor input; ``layer`` is a name, or a module whose ``_name()`` gives one
    (computed only when there is an error: this runs on every forward)."""
    if not isinstance(x, Tensor):
        name = layer if isinstance(layer, str) else layer._name()
        raise TypeError(f"{name} expects a minigrad Tensor as input, got {type(x).__name__}")


def same_dtype(layer: Any, x: Tensor, weight: Tensor) -> None:
    """Refuse input whose dtype differs from the layer's weights (as PyTorch does), saying how
    to convert one side."""
    if x._data.dtype != weight._data.dtype:
        name = layer._name()
        raise RuntimeError(
            f"{name}: input dtype ({x.dtype}) and weight dtype ({weight.dtype}) should be the "
            f"same; convert the input (e.g. x.float()) or the model (e.g. model.double())"
        )
