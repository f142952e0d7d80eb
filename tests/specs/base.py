"""What a test spec of an op says, and helpers that draw shapes and parameters with hypothesis.

A spec's ``call(m, p, *tensors)`` runs the op through the public API of ``m``, which is either
``minigrad`` or ``torch`` (most calls read the same in both), with parameters ``p`` drawn by
``draw``. Inputs are float tensors with values in ``[low, high]``, moved off kinks and ties by
``prepare``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


@dataclass
class Spec:
    call: Callable  # call(m, p, *tensors) -> Tensor
    draw: Callable  # draw(data) -> (list of input shapes, params dict)
    low: float = -2.0
    high: float = 2.0
    prepare: Callable | None = None  # prepare(list of arrays, params) -> arrays
    grad: tuple | None = None  # positions of inputs that require grad (default: all)
    gradgrad: bool = True
    torch: Callable | bool = True  # False: no parity test (say why in no_torch); callable: own call
    no_torch: str = "it is internal to minigrad and has no PyTorch counterpart"
    eps: float = 1e-6
    atol: float = 1e-5
    rtol: float = 1e-3
    float32: bool = True  # float32 in gives float32 out


# ---------------------------------------------------------------- shape draws


def shape(data, min_dims=0, max_dims=3, min_side=1, max_side=4) -> tuple:
    return data.draw(
        hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)
    )


def broadcast_shapes(data, n=2, min_dims=0, max_dims=3, max_side=4) -> list:
    result = data.draw(
        hnp.mutually_broadcastable_shapes(
            num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side
        )
    )
    return list(result.input_shapes)


def dim_arg(data, ndim: int, allow_none=True, allow_tuple=True):
    """A ``dim`` argument valid for ``ndim`` dims: None, an int (maybe negative) or a tuple."""
    choices = []
    if allow_none:
        choices.append(st.none())
    if ndim > 0:
        choices.append(st.integers(-ndim, ndim - 1))
        if allow_tuple:
            choices.append(
                st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(
                    tuple
                )
            )
    if not choices:
        return None
    return data.draw(st.one_of(*choices))


def one_dim(data, ndim: int) -> int:
    return data.draw(st.integers(-ndim, ndim - 1))


# ---------------------------------------------------------------- value preparation


def away_from(x: np.ndarray, points, gap=0.05) -> np.ndarray:
    """Move values closer than ``gap`` to any of ``points`` out to that distance."""
    x = np.array(x, dtype=float)  # also for 0-d draws, which come back as NumPy scalars
    for p in points:
        near = np.abs(x - p) < gap
        x[near] = p + np.where(x[near] >= p, gap, -gap)
    return x


def distinct(x: np.ndarray, gap=0.05) -> np.ndarray:
    """The same ordering as ``x`` but every value at least ``gap`` from every other."""
    flat = x.ravel()
    order = np.argsort(flat, kind="stable")
    out = np.empty_like(flat)
    out[order] = flat[order[0]] + gap * np.arange(flat.size)
    return out.reshape(x.shape) + 0.0 * x


def on_grid(x: np.ndarray, step=0.2, offset=0.0) -> np.ndarray:
    """Round to ``offset + k * step``: two inputs on grids offset by step/2 never tie."""
    return np.round((x - offset) / step) * step + offset
