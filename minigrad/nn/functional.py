"""``minigrad.nn.functional``: the ops of neural networks, with PyTorch's names, argument order
and defaults (``tests/test_functional.py`` compares every signature with PyTorch's)."""

from __future__ import annotations

import warnings

from minigrad import dtypes
from minigrad.ops import elementwise as _elementwise
from minigrad.ops import movement as _movement
from minigrad.ops import reduce as _reduce
from minigrad.ops.activation import (
    elu,
    gelu,
    hardtanh,
    leaky_relu,
    logsigmoid,
    relu,
    relu6,
    silu,
    softplus,
)
from minigrad.ops.conv import conv1d, conv2d, conv_transpose2d
from minigrad.ops.linear import linear
from minigrad.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from minigrad.ops.norm import (
    batch_norm,
    dropout,
    dropout1d,
    dropout2d,
    layer_norm,
    normalize,
)
from minigrad.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool1d, max_pool2d
from minigrad.ops.resample import interpolate, pad, upsample
from minigrad.tensor import Tensor


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's legacy choice when no ``dim`` is given, with its deprecation warning: dim 0
    for 0-, 1- and 3-D input (an unbatched vector or (C, H, W) image), else dim 1."""
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(
    input: Tensor,
    dim: int | None = None,
    _stacklevel: int = 3,
    dtype: dtypes.dtype | None = None,
) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim`` (max-shifted); ``dtype`` casts the input first.
    ``dim=None`` is deprecated (as in PyTorch): it warns and picks dim 0 or 1 by rank."""
    _movement.check_tensor("softmax", input)
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim, _stacklevel)
    return _reduce.softmax(input if dtype is None else input.to(dtype), dim)


def log_softmax(
    input: Tensor,
    dim: int | None = None,
    _stacklevel: int = 3,
    dtype: dtypes.dtype | None = None,
) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``, computed in one max-shifted pass; ``dim=None`` as in
    ``softmax``."""
    _movement.check_tensor("log_softmax", input)
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim, _stacklevel)
    return _reduce.log_softmax(input if dtype is None else input.to(dtype), dim)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``, elementwise."""
    return _elementwise.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """``tanh(x)``, elementwise."""
    return _elementwise.tanh(input)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dimensions ``start_dim`` to ``end_dim`` merged into one (``torch.flatten``)."""
    return _movement.flatten(input, start_dim, end_dim)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices (int64, any shape) -> int64 of shape (*, num_classes) with a 1 at each
    index; ``num_classes=-1`` uses the largest index + 1. Not differentiable."""
    if not isinstance(tensor, Tensor) or tensor.dtype is not dtypes.int64:
        got = tensor.dtype if isinstance(tensor, Tensor) else type(tensor).__name__
        raise TypeError(f"one_hot(): tensor must be an int64 tensor of class indices, got {got}")
    num_classes = _movement.check_int("one_hot", "num_classes", num_classes)
    xp = tensor.xp
    t = tensor._data
    hi = int(t.max()) if t.size else -1
    lo = int(t.min()) if t.size else 0
    if lo < 0:
        raise ValueError(f"one_hot(): class values must be non-negative, got {lo}")
    if num_classes == -1:
        num_classes = hi + 1 if t.size else 0
        if not t.size:
            raise ValueError("one_hot(): cannot infer num_classes from an empty tensor")
    elif num_classes < 1 or hi >= num_classes:
        raise ValueError(
            f"one_hot(): class values must be smaller than num_classes={num_classes}, got {hi}"
        )
    shape = t.shape + (num_classes,)
    _movement.check_size("one_hot", shape, dtypes.int64.itemsize)
    try:
        out = (t[..., None] == xp.arange(num_classes)).astype(dtypes.int64.np)
    except MemoryError:
        raise _movement.out_of_memory("one_hot", shape, dtypes.int64.itemsize) from None
    return tensor._wrap(out)


__all__ = [
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "cross_entropy",
    "dropout",
    "dropout1d",
    "dropout2d",
    "elu",
    "flatten",
    "gelu",
    "hardtanh",
    "interpolate",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "max_pool1d",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "relu",
    "relu6",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "tanh",
    "upsample",
]
