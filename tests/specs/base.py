"""What a test spec of an op says, and helpers that draw shapes and parameters with hypothesis.

A spec's ``call(m, p, *tensors)`` runs the op through the public API of ``m``, which is either
``minigrad`` or ``torch`` (most calls read the same in both), with parameters ``p`` drawn by
``draw``. Inputs are float tensors with values in ``[low, high]``, moved off kinks and ties by
``prepare``. Every op is also run on one case of each kind in ``KINDS`` that it takes; a spec
names the kinds it cannot take, and why, in ``cannot``."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

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
    cannot: dict[str, str] = field(default_factory=dict)  # kind of case -> why the op takes none

    def takes_several_inputs(self) -> bool:
        """Whether ``call`` takes more than one tensor (after ``m`` and ``p``)."""
        params = list(inspect.signature(self.call).parameters.values())[2:]
        return len(params) > 1 or any(q.kind is q.VAR_POSITIONAL for q in params)


# ---------------------------------------------------------------- kinds of case

# Kinds of input every op is run on, besides the hypothesis draws, unless its spec says why not.
KINDS = {
    "noncontig": "an input that is a non-contiguous view (transposed or strided)",
    "size1": "a size-1 dim beside a longer one (for ops that broadcast: stretched against it)",
    "zero_d": "a 0-d input",
    "broadcast": "inputs of different ranks broadcast against each other",
}

# ``cannot`` of the specs in tests/specs/nn.py, conv.py and inplace.py, by op name.
_BATCHED = "it takes (N, C, ...) inputs (as in PyTorch)"
_CONV = {"zero_d": _BATCHED, "broadcast": "its inputs are convolved, not broadcast"}
_PAD = {
    "zero_d": "a 0-d tensor has no dim to pad (as in PyTorch)",
    "size1": "the spec draws every dim of at least 2, batch dims included",
}
_CONTRACTED = "its inputs are contracted, not broadcast"
_ONE_SHAPE = "input and target have one shape (PyTorch warns when they do not)"
_PER_CHANNEL = {"zero_d": _BATCHED, "broadcast": "its weight and bias are per channel"}
CANNOT_BY_NAME: dict[str, dict[str, str]] = {
    "linear": {
        "zero_d": "input and weight carry a feature dim",
        "broadcast": _CONTRACTED,
    },
    "linear_weight_grad": {
        "zero_d": "both inputs carry a feature dim",
        "broadcast": _CONTRACTED,
    },
    "nll_loss": {"zero_d": "the logits need a class dim (as in PyTorch)"},
    "cross_entropy": {"zero_d": "the logits need a class dim (as in PyTorch)"},
    "mse_loss": {"broadcast": _ONE_SHAPE},
    "mse_loss_grad": {"broadcast": _ONE_SHAPE + "; the gradient is 0-d or of that shape"},
    "l1_loss": {"broadcast": _ONE_SHAPE},
    "binary_cross_entropy": {"broadcast": _ONE_SHAPE},
    "binary_cross_entropy_with_logits": {
        "zero_d": "the spec draws inputs of at least one dim, for per-class weights",
        "broadcast": _ONE_SHAPE,
    },
    "batch_norm": _PER_CHANNEL,
    "batch_norm_train": _PER_CHANNEL,
    "batch_norm_train_grad": _PER_CHANNEL,
    "batch_norm_weight_grad": _PER_CHANNEL,
    "layer_norm": {
        "zero_d": "normalized_shape must not be empty (as in PyTorch)",
        "broadcast": "its weight and bias have the normalized shape",
    },
    "normalize": {"zero_d": "the spec draws inputs of at least one dim"},
    "dropout1d": {"zero_d": "it takes (C, L) or (N, C, L) inputs (as in PyTorch)"},
    "dropout2d": {"zero_d": _BATCHED},
    "reflection_pad": _PAD,
    "replication_pad": _PAD,
    "circular_pad": _PAD,
    "interpolate": {"zero_d": _BATCHED},
    "view_write": {
        "zero_d": "the spec writes through a slice, which needs a dim",
        "broadcast": "the written value has the view's shape",
    },
    "conv2d": _CONV,
    "conv1d": _CONV,
    "conv_transpose2d": _CONV,
    "conv2d_weight": _CONV,
    "max_pool2d": {"zero_d": _BATCHED},
    "max_pool1d": {"zero_d": _BATCHED},
    "max_pool2d_grad": {"zero_d": _BATCHED},
    "max_pool2d_gather": {"zero_d": _BATCHED},
    "avg_pool2d": {"zero_d": _BATCHED},
    "avg_pool2d_grad": {"zero_d": _BATCHED},
    "adaptive_avg_pool2d": {"zero_d": _BATCHED},
}


def cannot(name: str, spec: Spec) -> dict[str, str]:
    """The kinds of case op ``name`` does not take, each with the reason."""
    return {**CANNOT_BY_NAME.get(name, {}), **spec.cannot}


def kinds_taken(name: str, spec: Spec) -> list[str]:
    """The kinds of case op ``name`` is run on: all but those it cannot take, and "broadcast"
    only for ops of several inputs."""
    out = [k for k in KINDS if k not in cannot(name, spec)]
    return out if spec.takes_several_inputs() else [k for k in out if k != "broadcast"]


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
    """A single dim of ``ndim`` dims; a 0-d tensor takes 0 or -1, as in PyTorch."""
    n = max(ndim, 1)
    return data.draw(st.integers(-n, n - 1))


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
