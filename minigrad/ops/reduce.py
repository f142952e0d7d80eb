"""Reductions (sum, mean, var/std, max/min, prod, logsumexp), softmax and log_softmax, gather,
and ``sum_to``: the op the engine uses to sum broadcast gradients back to an input's shape."""

from __future__ import annotations

import builtins
import math
import warnings
from typing import NamedTuple

from minigrad import backend, dtypes
from minigrad.autograd.function import Function, register
from minigrad.ops import elementwise as E
from minigrad.ops.movement import (
    Expand,
    Reshape,
    check_bool,
    check_number,
    check_tensor,
    normalize_dim,
    normalize_dims,
)
from minigrad.tensor import Tensor


def _axes(x: Tensor, dim) -> tuple:
    """The axes a reduction over ``dim`` runs over: all for None or an empty list of dims (as
    in PyTorch), else the normalized dims."""
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        return tuple(range(x.ndim))
    if x.ndim == 0:
        normalize_dims(dim, 0)
        return ()
    return normalize_dims(dim, x.ndim)


def _kept_shape(shape: tuple, axes: tuple) -> tuple:
    """The shape of a reduction over ``axes`` with keepdim=True."""
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _spread(g: Tensor, in_shape: tuple, axes: tuple) -> Tensor:
    """A reduced gradient broadcast back over the reduced axes."""
    g = Reshape.apply(g, shape=_kept_shape(in_shape, axes))
    return Expand.apply(g, shape=in_shape) if g.shape != in_shape else g


# ---------------------------------------------------------------- sum, mean, sum_to


@register("sum")
class Sum(Function):
    def forward(ctx, a, axes, keepdim, dtype=None):
        ctx.in_shape, ctx.axes = a.shape, axes
        return a.sum(axis=axes, keepdims=keepdim, dtype=dtype)  # the method skips a wrapper

    def backward(ctx, g):
        return SumGrad.apply(g, shape=ctx.in_shape, axes=ctx.axes, scale=1)


@register("sum_grad")
class SumGrad(Function):
    """The gradient of a sum or mean: ``g`` broadcast back over the reduced ``axes`` of
    ``shape``, times ``scale`` (1/n for a mean). One op, as it runs on every backward pass."""

    def forward(ctx, g, shape, axes, scale):
        ctx.g_shape, ctx.axes, ctx.scale = g.shape, axes, scale
        out = ctx.xp.broadcast_to(g.reshape(_kept_shape(shape, axes)), shape)
        return out if scale == 1 else out * scale

    def backward(ctx, gg):
        out = Sum.apply(gg, axes=ctx.axes, keepdim=False)
        if out.shape != ctx.g_shape:  # the forward reduction kept its dims
            out = Reshape.apply(out, shape=ctx.g_shape)
        return out if ctx.scale == 1 else out * ctx.scale


def sum(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    axes = _axes(check_tensor("sum", x), dim)
    keepdim = check_bool("sum", "keepdim", keepdim)
    np_dtype = None
    if dtype is not None:
        x = x.to(dtype)
        np_dtype = x._data.dtype  # the sum itself in that dtype (bool: any), as in PyTorch
    elif x._data.dtype.kind in "biu":
        np_dtype = dtypes.int64.np
    return Sum.apply(x, axes=axes, keepdim=keepdim, dtype=np_dtype)


@register("mean")
class Mean(Function):
    def forward(ctx, a, axes, keepdim):
        xp = ctx.xp
        ctx.in_shape, ctx.axes = a.shape, axes
        ctx.n = math.prod(a.shape[i] for i in axes)
        if ctx.n == 0:  # a mean over nothing is nan (NumPy would warn, PyTorch does not)
            with backend.ignore_float_warnings(xp, "invalid"):
                return xp.sum(a, axis=axes, keepdims=keepdim) / ctx.n
        return xp.mean(a, axis=axes, keepdims=keepdim)

    def backward(ctx, g):
        scale = 1.0 / ctx.n if ctx.n else float("nan")  # a mean over nothing is nan
        return SumGrad.apply(g, shape=ctx.in_shape, axes=ctx.axes, scale=scale)


def mean(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    keepdim = check_bool("mean", "keepdim", keepdim)
    if not check_tensor("mean", x).dtype.is_floating_point:
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be floating point, got "
            f"{x.dtype} (convert first, e.g. x.float())"
        )
    return Mean.apply(x, axes=_axes(x, dim), keepdim=keepdim)


@register("sum_to")
class SumTo(Function):
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        lead = a.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, s in enumerate(shape) if s == 1 and a.shape[lead + i] != 1
        )
        out = a.sum(axis=axes, keepdims=True) if axes else a
        return out.reshape(shape)

    def backward(ctx, g):
        return Expand.apply(g, shape=ctx.in_shape)


def sum_to(x: Tensor, shape: tuple) -> Tensor:
    """Sum ``x`` down to ``shape`` (the inverse of broadcasting ``shape`` up to ``x.shape``)."""
    if x.shape == tuple(shape):
        return x
    return SumTo.apply(x, shape=tuple(shape))


# ---------------------------------------------------------------- var, std (composites)


def _var(name, x, dim, unbiased, keepdim, correction):
    if not check_tensor(name, x).dtype.is_floating_point:
        raise RuntimeError(
            f"{name}(): std and var only support floating point dtypes, got {x.dtype} (convert "
            "first, e.g. x.float())"
        )
    axes = _axes(x, dim)
    keepdim = check_bool(name, "keepdim", keepdim)
    if correction is None:
        c = 1 if check_bool(name, "unbiased", unbiased) else 0
    else:
        c = check_number(name, "correction", correction)
    n = math.prod(x.shape[i] for i in axes)
    if n - c <= 0:
        warnings.warn(
            f"{name}(): degrees of freedom is <= 0: the correction ({c}) should be less than "
            f"the number of values reduced ({n}); the result is inf or nan",
            stacklevel=3,
        )
    d = x - mean(x, axes, keepdim=True)
    return sum(d * d, axes, keepdim) / builtins.max(n - c, 0)


@register("var")
def var(x: Tensor, dim=None, unbiased: bool = True, keepdim: bool = False, *, correction=None):
    return _var("var", x, dim, unbiased, keepdim, correction)


@register("std")
def std(x: Tensor, dim=None, unbiased: bool = True, keepdim: bool = False, *, correction=None):
    """``sqrt(var)``; where all values are equal (var 0) the gradient is 0, as in PyTorch,
    not the nan of sqrt's gradient at 0 (the square root runs on 1 there)."""
    v = _var("std", x, dim, unbiased, keepdim, correction)
    flat = v == 0
    return E.where(flat, 0.0, E.sqrt(E.where(flat, 1.0, v)))


# ---------------------------------------------------------------- max, min


@register("amax")
class Amax(Function):
    """Max over axes; ties share the gradient equally (PyTorch's amax/max())."""

    reduce = "max"

    def forward(ctx, a, axes, keepdim):
        ctx.in_shape, ctx.axes = a.shape, axes
        out = getattr(ctx.xp, ctx.reduce)(a, axis=axes, keepdims=keepdim)
        ctx.save_for_backward(a, out)
        return out

    def backward(ctx, g):
        a, out = ctx.saved_tensors
        hit = a == Reshape.apply(out, shape=_kept_shape(ctx.in_shape, ctx.axes))
        count = sum(hit, ctx.axes, keepdim=True).to(g.dtype)
        return E.where(hit, _spread(g, ctx.in_shape, ctx.axes) / count, 0)


@register("amin")
class Amin(Amax):
    reduce = "min"


def _check_nonempty(name, x, axes):
    if x._data.size == 0 and (not axes or builtins.any(x.shape[i] == 0 for i in axes)):
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0, or a "
            f"non-empty reduction dim"
        )


def amax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    axes = _axes(check_tensor("amax", x), dim)
    keepdim = check_bool("amax", "keepdim", keepdim)
    _check_nonempty("amax", x, axes)
    return Amax.apply(x, axes=axes, keepdim=keepdim)


def amin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    axes = _axes(check_tensor("amin", x), dim)
    keepdim = check_bool("amin", "keepdim", keepdim)
    _check_nonempty("amin", x, axes)
    return Amin.apply(x, axes=axes, keepdim=keepdim)


class ValuesIndices(NamedTuple):
    values: Tensor
    indices: Tensor


def _extreme(name, x, dim, keepdim, arg):
    keepdim = check_bool(name, "keepdim", keepdim)
    if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
        return (E.maximum if name == "max" else E.minimum)(x, dim)
    if dim is None:
        return amax(x) if name == "max" else amin(x)
    d = normalize_dim(dim, builtins.max(x.ndim, 1))
    _check_nonempty(name, x, (d,) if x.ndim else ())
    if x.ndim == 0:
        return ValuesIndices(x, x._wrap(x.xp.zeros((), dtype=dtypes.int64.np)))
    idx = x._wrap(arg(x._data, axis=d, keepdims=True))
    values = Gather.apply(x, idx, dim=d)
    if not keepdim:
        values = Reshape.apply(values, shape=x.shape[:d] + x.shape[d + 1 :])
        idx = idx._wrap(idx._data.reshape(values.shape))
    return ValuesIndices(values, idx)


def max(x: Tensor, dim=None, keepdim: bool = False):
    """``max()`` -> tensor; ``max(dim)`` -> (values, indices); ``max(other_tensor)`` -> maximum."""
    return _extreme("max", x, dim, keepdim, check_tensor("max", x).xp.argmax)


def min(x: Tensor, dim=None, keepdim: bool = False):
    return _extreme("min", x, dim, keepdim, check_tensor("min", x).xp.argmin)


def _arg(name, fn, x, dim, keepdim):
    keepdim = check_bool(name, "keepdim", keepdim)
    if x._data.size == 0:
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
        )
    if dim is None:
        out = fn(x._data.reshape(-1))
        if keepdim:
            out = x.xp.asarray(out).reshape((1,) * x.ndim)
    else:
        out = fn(x._data, axis=normalize_dim(dim, builtins.max(x.ndim, 1)), keepdims=keepdim)
    return x._wrap(x.xp.asarray(out, dtype=dtypes.int64.np))


def argmax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _arg("argmax", check_tensor("argmax", x).xp.argmax, x, dim, keepdim)


def argmin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _arg("argmin", check_tensor("argmin", x).xp.argmin, x, dim, keepdim)


# ---------------------------------------------------------------- gather and its gradient


def _along(xp, index, dim):
    """A full advanced-index tuple addressing ``index``'s positions along ``dim``."""
    key = []
    for i, n in enumerate(index.shape):
        if i == dim:
            key.append(index)
        else:
            shape = [1] * index.ndim
            shape[i] = n
            key.append(xp.arange(n).reshape(shape))
    return tuple(key)


@register("gather")
class Gather(Function):
    """``out[i][j] = a[i][index[i][j]]`` along ``dim`` (index has a's shape but at ``dim``)."""

    def forward(ctx, a, index, dim):
        ctx.index, ctx.dim, ctx.in_shape = index, dim, a.shape
        return ctx.xp.take_along_axis(a, index, axis=dim)

    def backward(ctx, g):
        return GatherGrad.apply(g, index=ctx.index, dim=ctx.dim, shape=ctx.in_shape), None


@register("gather_grad")
class GatherGrad(Function):
    """Scatter-add ``g`` into zeros of ``shape`` at ``index`` along ``dim``."""

    def forward(ctx, g, index, dim, shape):
        xp = ctx.xp
        ctx.index, ctx.dim = index, dim
        out = xp.zeros(shape, dtype=g.dtype)
        backend.scatter_add(xp, out, _along(xp, index, dim), g)
        return out

    def backward(ctx, gg):
        index = gg._wrap(ctx.index)
        return Gather.apply(gg, index, dim=ctx.dim)


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """PyTorch's ``gather``: index has x's number of dims, values checked against x's shape."""
    check_tensor("gather", x)
    if not isinstance(index, Tensor) or index._data.dtype.kind not in "iu":
        raise TypeError("gather(): index must be an integer Tensor")
    d = normalize_dim(dim, x.ndim)
    if x.ndim == 0 and index.ndim == 0:  # one element along the only dim there is, as in PyTorch
        out = gather(Reshape.apply(x, shape=(1,)), 0, index.reshape(1))
        return Reshape.apply(out, shape=())
    if index.ndim != x.ndim:
        raise RuntimeError(
            f"gather(): Index tensor must have the same number of dimensions as input tensor "
            f"({index.ndim} vs {x.ndim})"
        )
    for i, (n, m) in enumerate(zip(x.shape, index.shape)):
        if i != d and m > n:
            raise RuntimeError(
                f"gather(): Size does not match at dimension {i}: index has {m}, input has {n}"
            )
    if index._data.size:
        hi, lo = int(index._data.max()), int(index._data.min())
        if hi >= x.shape[d] or lo < 0:  # PyTorch takes no negative index here
            bad = hi if hi >= x.shape[d] else lo
            raise RuntimeError(
                f"gather(): index {bad} is out of bounds for dimension {d} with size {x.shape[d]}"
            )
    if builtins.any(m < n for i, (n, m) in enumerate(zip(x.shape, index.shape)) if i != d):
        x = x[tuple(slice(0, m) if i != d else slice(None) for i, m in enumerate(index.shape))]
    return Gather.apply(x, index, dim=d)


# ---------------------------------------------------------------- prod


@register("prod")
class Prod(Function):
    def forward(ctx, a, axes, keepdim):
        ctx.in_shape, ctx.axes = a.shape, axes
        out = ctx.xp.prod(a, axis=axes, keepdims=keepdim)
        ctx.save_for_backward(a, out)
        return out

    def backward(ctx, g):
        a, out = ctx.saved_tensors
        gk = _spread(g, ctx.in_shape, ctx.axes)
        if bool(a.xp.all(a._data != 0)):
            kept = Reshape.apply(out, shape=_kept_shape(ctx.in_shape, ctx.axes))
            return gk * kept / a
        return gk * _prod_of_others(a, ctx.axes)


def _prod_of_others(a: Tensor, axes: tuple) -> Tensor:
    """For each element, the product of the other elements in its reduction group (exact with
    zeros): bring the group to the last axis, make an (n, n) copy with ones on the diagonal,
    and take the product along it."""
    keep = [i for i in range(a.ndim) if i not in axes]
    order = keep + list(axes)
    moved = a.permute(*order)
    outer = moved.shape[: len(keep)]
    n = math.prod(moved.shape[len(keep) :])
    flat = moved.reshape(*outer, 1, n).expand(*outer, n, n)
    eye = a._wrap(a.xp.eye(n, dtype=bool))
    others = prod(E.where(eye, 1, flat), -1)  # (*outer, n)
    others = others.reshape(*moved.shape)
    inverse = sorted(range(len(order)), key=order.__getitem__)
    return others.permute(*inverse)


def prod(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    keepdim = check_bool("prod", "keepdim", keepdim)
    if check_tensor("prod", x)._data.dtype.kind in "biu":
        return x._wrap(x.xp.asarray(x.xp.prod(x._data, axis=_axes(x, dim), keepdims=keepdim)))
    return Prod.apply(x, axes=_axes(x, dim), keepdim=keepdim)


# ---------------------------------------------------------------- logsumexp, softmax


def _shifted(xp, a, axis, finite_shift: bool = True):
    """``a - max(a)`` along ``axis``. With ``finite_shift`` a slice whose maximum is infinite
    is shifted by 0 instead (logsumexp is then +inf or -inf, as in PyTorch); without it the
    shift is the maximum itself, so a slice holding +inf becomes nan, as PyTorch's softmax and
    log_softmax give (an all -inf slice is nan either way)."""
    m = xp.max(a, axis=axis, keepdims=True)
    if finite_shift:
        m = xp.where(xp.isfinite(m), m, 0)
    # a - m may overflow to -inf (exp() of it is 0 anyway); inf - inf is the intended nan
    with backend.ignore_float_warnings(xp, "over", "invalid"):
        return a - m, m


@register("logsumexp")
class LogSumExp(Function):
    def forward(ctx, a, axes, keepdim):
        xp = ctx.xp
        ctx.in_shape, ctx.axes = a.shape, axes
        if builtins.any(a.shape[i] == 0 for i in axes):  # the log of an empty sum: -inf
            out = xp.full(_kept_shape(a.shape, axes), -xp.inf, dtype=a.dtype)
        else:
            s, m = _shifted(xp, a, axes)
            # an all -inf slice gives -inf; one with a nan is shifted by 0, and exp may overflow
            with backend.ignore_float_warnings(xp, "divide", "over"):
                out = xp.log(xp.sum(xp.exp(s), axis=axes, keepdims=True)) + m
        if not keepdim:
            out = out.reshape(tuple(n for i, n in enumerate(a.shape) if i not in axes))
        ctx.save_for_backward(a, out)
        return out

    def backward(ctx, g):
        a, out = ctx.saved_tensors
        kept = _kept_shape(ctx.in_shape, ctx.axes)
        return _spread(g, ctx.in_shape, ctx.axes) * E.exp(a - Reshape.apply(out, shape=kept))


def logsumexp(x: Tensor, dim, keepdim: bool = False) -> Tensor:
    x = E._float_input("logsumexp", x)
    keepdim = check_bool("logsumexp", "keepdim", keepdim)
    if dim is None:
        raise TypeError("logsumexp(): argument 'dim' must be an int or a tuple of ints, not None")
    return LogSumExp.apply(x, axes=_axes(x, dim), keepdim=keepdim)


@register("softmax")
class Softmax(Function):
    def forward(ctx, a, dim):
        xp = ctx.xp
        ctx.dim = dim
        if a.size == 0:  # nothing to normalize: an empty result, as in PyTorch
            out = a.copy()
            ctx.save_for_backward(out)
            return out
        s, _ = _shifted(xp, a, dim, finite_shift=False)
        e = xp.exp(s)
        e /= xp.sum(e, axis=dim, keepdims=True)
        ctx.save_for_backward(e)
        return e

    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return out * (g - sum(g * out, ctx.dim, keepdim=True))


@register("log_softmax")
class LogSoftmax(Function):
    def forward(ctx, a, dim):
        xp = ctx.xp
        ctx.dim = dim
        if a.size == 0:  # nothing to normalize: an empty result, as in PyTorch
            out = a.copy()
            ctx.save_for_backward(out)
            return out
        s, _ = _shifted(xp, a, dim, finite_shift=False)
        out = s - xp.log(xp.sum(xp.exp(s), axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        return out

    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g - E.exp(out) * sum(g, ctx.dim, keepdim=True)


def _softmax_dim(x: Tensor, dim):
    d = normalize_dim(dim, x.ndim)
    return d if x.ndim else ()  # a 0-d input is its own (one-element) slice


def softmax(x: Tensor, dim: int) -> Tensor:
    x = E._float_input("softmax", x)
    return Softmax.apply(x, dim=_softmax_dim(x, dim))


def log_softmax(x: Tensor, dim: int) -> Tensor:
    x = E._float_input("log_softmax", x)
    return LogSoftmax.apply(x, dim=_softmax_dim(x, dim))
