"""Losses: nll_loss (a primitive that gathers at the labels), cross_entropy (log_softmax +
nll_loss, with weights, ignore_index, label smoothing or class probabilities), mse/l1 and the
binary cross entropies.

Signatures are PyTorch's, positions included: the deprecated ``size_average`` / ``reduce`` flags
keep their slots and, when given, set ``reduction`` (with PyTorch's deprecation warning)."""

from __future__ import annotations

import math
import numbers
import os
import sys
import warnings

from minigrad.autograd.function import Function, register
from minigrad.ops import elementwise as E
from minigrad.ops.activation import Softplus
from minigrad.ops.movement import Reshape, check_bool
from minigrad.ops.reduce import GatherGrad, log_softmax, mean, sum
from minigrad.tensor import Tensor

_REDUCTIONS = ("none", "mean", "sum")
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


# ---------------------------------------------------------------- argument checks


def _caller_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning raised by the caller of this function point at
    the first frame outside minigrad (the user's line)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """PyTorch's deprecated ``size_average`` / ``reduce`` flags mapped to a ``reduction`` (either
    flag given overrides it), with PyTorch's deprecation warning."""
    if size_average is None and reduce is None:
        return reduction
    size_average = (
        True if size_average is None else check_bool("loss", "size_average", size_average)
    )
    reduce = True if reduce is None else check_bool("loss", "reduce", reduce)
    reduction = "none" if not reduce else ("mean" if size_average else "sum")
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{reduction}' "
        "instead.",
        UserWarning,
        stacklevel=_caller_stacklevel(),
    )
    return reduction


def _check_reduction(name: str, reduction) -> None:
    if reduction.__class__ is not str or reduction not in _REDUCTIONS:
        raise ValueError(
            f"{name}(): reduction must be one of 'none', 'mean' or 'sum', got {reduction!r}"
        )


def _ignore_index(name: str, value) -> int:
    """``ignore_index``: an int (or a one-element integer tensor, as PyTorch takes it)."""
    if value.__class__ is int:
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, Tensor) and value.numel() == 1 and value._data.dtype.kind in "iu":
        return int(value.item())
    raise TypeError(f"{name}(): argument 'ignore_index' must be an int, not {type(value).__name__}")


def _check_float(name: str, arg: str, x) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): {arg} must be a Tensor, got {type(x).__name__}")
    if not x.dtype.is_floating_point:
        raise TypeError(
            f"{name}(): {arg} must be a floating point tensor, got {x.dtype} "
            "(convert first, e.g. x.float())"
        )


def _same_device(name: str, x: Tensor, arg: str, other: Tensor) -> None:
    if other._device is not x._device:
        raise RuntimeError(
            f"{name}(): {arg} is on {other._device} but input is on {x._device}; "
            "move them to the same device"
        )


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    return loss


def _class_layout(name: str, input: Tensor, target: Tensor) -> tuple[Tensor, Tensor, bool]:
    """Check class-index targets against the input and bring both to the batched layout:
    input (N, C, d1, ...) with target (N, d1, ...); an unbatched (C,) input with a 0-d target
    becomes (1, C) with (1,). Returns (input, target, unbatched)."""
    if not isinstance(target, Tensor):
        raise TypeError(f"{name}(): target must be a Tensor, got {type(target).__name__}")
    _same_device(name, input, "target", target)
    if target._data.dtype.kind not in "iu":
        hint = ""
        if name == "cross_entropy":
            hint = (
                f"; for class probabilities pass a float target of the input's shape "
                f"{tuple(input.shape)}"
            )
        raise TypeError(
            f"{name}(): target must hold class indices as an integer tensor (int64), got "
            f"{target.dtype}{hint}"
        )
    if input.ndim == 0:
        raise ValueError(f"{name}(): input must have a class dimension, got a 0-d tensor")
    expected = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
    if tuple(target.shape) != expected:
        raise ValueError(
            f"{name}(): target of shape {tuple(target.shape)} does not fit input of shape "
            f"{tuple(input.shape)}: expected target shape {expected} (the input's shape "
            "without its class dimension)"
        )
    if input.ndim == 1:
        return Reshape.apply(input, shape=(1,) + input.shape), target.reshape(1), True
    return input, target, False


def _check_labels(name: str, target: Tensor, n_classes: int, ignore_index: int) -> None:
    """Every label that is not ``ignore_index`` must lie in [0, C); checked on host values
    before any indexing (CuPy would wrap an out-of-range index silently)."""
    t = target._data
    if t.size == 0:
        return
    xp = target.xp
    keep = t != ignore_index
    hi = int(xp.where(keep, t, 0).max())
    lo = int(xp.where(keep, t, 0).min())
    if hi >= n_classes or lo < 0:
        bad = hi if hi >= n_classes else lo
        raise IndexError(
            f"{name}(): Target {bad} is out of bounds for {n_classes} classes (labels must be "
            f"in [0, {n_classes - 1}], or equal ignore_index={ignore_index})"
        )


def _class_weight(name: str, weight, input: Tensor, n_classes: int):
    """The class weights as an array of the input's dtype (no gradient flows to them)."""
    if weight is None:
        return None
    _check_float(name, "weight", weight)
    _same_device(name, input, "weight", weight)
    if tuple(weight.shape) != (n_classes,):
        raise ValueError(
            f"{name}(): weight should hold one value per class ({n_classes} classes), got "
            f"weight of shape {tuple(weight.shape)}"
        )
    return weight._data.astype(input._data.dtype, copy=False)


# ---------------------------------------------------------------- nll_loss


@register("nll_loss")
class NllLoss(Function):
    """``-weight[t] * input[n, t, ...]`` with ``t = target[n, ...]``, reduced. Input is
    (N, C, d1, ...), target (N, d1, ...); ignored targets contribute 0 and no weight."""

    def forward(ctx, a, target, weight, ignore_index, reduction):
        xp = ctx.xp
        keep = target != ignore_index
        idx = xp.where(keep, target, 0)[:, None]  # (N, 1, d1, ...): safe to index with
        picked = xp.take_along_axis(a, idx, axis=1)[:, 0]  # (N, d1, ...)
        w = keep.astype(a.dtype) if weight is None else xp.where(keep, weight[idx[:, 0]], 0)
        ctx.idx, ctx.in_shape, ctx.reduction = idx, a.shape, reduction
        if reduction == "none":
            ctx.coef = w
            return -(picked * w)
        total = xp.sum(picked * w)
        if reduction == "sum":
            ctx.coef = w
            return 0.0 - total  # +0.0, not -0.0, for a zero total (as PyTorch)
        # mean: divided by the summed weight of the counted targets; 0/0 (nothing counted)
        # gives nan, with zero gradients, as in PyTorch
        denom = xp.sum(w)
        safe = xp.where(denom == 0, 1, denom)
        ctx.coef = w / safe
        return xp.where(denom == 0, math.nan, (0.0 - total) / safe).astype(a.dtype)

    def backward(ctx, g):
        ge = g * g._wrap(-ctx.coef)  # (N, d1, ...)
        ge = Reshape.apply(ge, shape=ctx.idx.shape)
        return GatherGrad.apply(ge, index=ctx.idx, dim=1, shape=ctx.in_shape)


def _nll(input, target, weight, ignore_index, reduction) -> Tensor:
    return NllLoss.apply(
        input, target=target._data, weight=weight, ignore_index=ignore_index, reduction=reduction
    )


def _unbatch(loss: Tensor, unbatched: bool, reduction: str) -> Tensor:
    return Reshape.apply(loss, shape=()) if unbatched and reduction == "none" else loss


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log likelihood of class-index targets, given log-probabilities ``input`` of
    shape (N, C), (N, C, d1, ...) or (C,)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_float("nll_loss", "input", input)
    _check_reduction("nll_loss", reduction)
    ignore_index = _ignore_index("nll_loss", ignore_index)
    x, t, unbatched = _class_layout("nll_loss", input, target)
    w = _class_weight("nll_loss", weight, input, x.shape[1])
    _check_labels("nll_loss", t, x.shape[1], ignore_index)
    return _unbatch(_nll(x, t, w, ignore_index, reduction), unbatched, reduction)


# ---------------------------------------------------------------- cross_entropy


def _class_shape(x: Tensor) -> tuple:
    """Shape that broadcasts a (C,) vector along dimension 1 of ``x``."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _smoothing_term(logp: Tensor, t: Tensor, w, ignore_index: int, reduction: str) -> Tensor:
    """``-sum_c weight[c] * logp[n, c, ...]`` per position, ignored positions zeroed, reduced
    with the same denominator as nll_loss."""
    xp = logp.xp
    if w is None:
        smooth = -sum(logp, 1)
    else:
        smooth = -sum(logp * logp._wrap(w.reshape(_class_shape(logp))), 1)
    keep = t._data != ignore_index
    smooth = E.where(t._wrap(keep), smooth, 0)
    if reduction == "none":
        return smooth
    if reduction == "sum":
        return sum(smooth)
    if w is None:
        denom = xp.sum(keep).astype(logp._data.dtype)
    else:
        denom = xp.sum(xp.where(keep, w[xp.where(keep, t._data, 0)], 0))
    # nothing counted: the nll term already makes the loss nan; avoid 0/0 here
    return sum(smooth) / logp._wrap(xp.where(denom == 0, 1, denom))


def _soft_cross_entropy(x, target, weight, reduction, label_smoothing) -> Tensor:
    """Cross entropy against class probabilities (a float target of the input's shape)."""
    class_dim = 0 if x.ndim == 1 else 1
    n_classes = x.shape[class_dim]
    logp = log_softmax(x, class_dim)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    prod = logp * target
    if weight is not None:
        shape = (n_classes,) if x.ndim == 1 else _class_shape(x)
        prod = prod * Reshape.apply(weight.to(x.dtype), shape=shape)
    loss = -sum(prod, class_dim)
    if reduction == "mean":
        return sum(loss) / (x._data.size // n_classes) if x._data.size else sum(loss) * math.nan
    return _reduce(loss, reduction)


@register("cross_entropy")
def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross entropy between logits ``input`` ((N, C), (N, C, d1, ...) or (C,)) and class
    indices (int64, the input's shape without C) or class probabilities (float, the input's
    shape). Computed as ``nll_loss(log_softmax(input))``, stable for any finite logits."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_float("cross_entropy", "input", input)
    _check_reduction("cross_entropy", reduction)
    ignore_index = _ignore_index("cross_entropy", ignore_index)
    if label_smoothing.__class__ is not float and (
        not isinstance(label_smoothing, numbers.Real) or isinstance(label_smoothing, bool)
    ):
        raise TypeError(
            f"cross_entropy(): argument 'label_smoothing' must be a float, not "
            f"{type(label_smoothing).__name__}"
        )
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"cross_entropy(): label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        )
    if isinstance(target, Tensor) and target.dtype.is_floating_point:
        if input.ndim == 0:
            raise IndexError(
                "cross_entropy(): input must have a class dimension, got a 0-d tensor "
                "(Dimension specified as 1 but tensor has no dimensions)"
            )
        if tuple(target.shape) != tuple(input.shape):
            labels = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
            raise ValueError(
                f"cross_entropy(): got a {target.dtype} target of shape {tuple(target.shape)} "
                f"for input of shape {tuple(input.shape)}: class indices must be an integer "
                f"(int64) tensor of shape {labels}, class probabilities a float tensor of the "
                "input's shape"
            )
        if ignore_index >= 0:
            raise ValueError("cross_entropy(): ignore_index is not supported for float targets")
        _same_device("cross_entropy", input, "target", target)
        if weight is not None:
            _check_float("cross_entropy", "weight", weight)
            n_classes = input.shape[0 if input.ndim == 1 else 1]
            if tuple(weight.shape) != (n_classes,):
                raise ValueError(
                    f"cross_entropy(): weight should hold one value per class ({n_classes} "
                    f"classes), got weight of shape {tuple(weight.shape)}"
                )
        return _soft_cross_entropy(input, target, weight, reduction, label_smoothing)
    x, t, unbatched = _class_layout("cross_entropy", input, target)
    n_classes = x.shape[1]
    w = _class_weight("cross_entropy", weight, input, n_classes)
    _check_labels("cross_entropy", t, n_classes, ignore_index)
    logp = log_softmax(x, 1)
    loss = _nll(logp, t, w, ignore_index, reduction)
    if label_smoothing > 0:
        smooth = _smoothing_term(logp, t, w, ignore_index, reduction)
        loss = loss * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)
    return _unbatch(loss, unbatched, reduction)


# ---------------------------------------------------------------- regression losses


def _pointwise_pair(name: str, input, target) -> tuple[Tensor, Tensor]:
    _check_float(name, "input", input)
    if not isinstance(target, Tensor):
        raise TypeError(f"{name}(): target must be a Tensor, got {type(target).__name__}")
    _same_device(name, input, "target", target)
    if tuple(target.shape) != tuple(input.shape):
        E.check_broadcast(name, input.shape, target.shape)
        warnings.warn(
            f"{name}(): using a target size {tuple(target.shape)} that is different to the "
            f"input size {tuple(input.shape)}; they are broadcast, which is likely not what "
            "you want. Please ensure they have the same size.",
            UserWarning,
            stacklevel=_caller_stacklevel(),
        )
    return input, target


@register("mse_loss")
class MseLoss(Function):
    """``(x - t)^2`` reduced, as one op (a common loss, so its graph is kept small)."""

    def forward(ctx, x, t, reduction):
        ctx.save_for_backward(x, t)
        ctx.reduction = reduction
        d = x - t  # NumPy may warn about inf - inf here, as it does in add and sub
        d *= d
        if reduction == "mean":  # sum / n is NumPy's mean without its Python-level wrapper
            return d.sum() / d.size if d.size else ctx.xp.full((), math.nan, dtype=d.dtype)
        return d.sum() if reduction == "sum" else d

    def backward(ctx, g):
        x, t = ctx.saved_tensors
        gx = MseLossGrad.apply(g, x, t, reduction=ctx.reduction)
        need_x, need_t = ctx.needs_input_grad
        return (gx if need_x else None), (-gx if need_t else None)


@register("mse_loss_grad")
class MseLossGrad(Function):
    """``2 (x - t) g`` (divided by the count for a mean): the input gradient of ``mse_loss``."""

    def forward(ctx, g, x, t, reduction):
        ctx.save_for_backward(g, x, t)
        ctx.reduction = reduction
        ctx.scale = 2.0 / x.size if reduction == "mean" and x.size else 2.0
        d = x - t  # as in the forward, NumPy's warnings for infinite inputs are let through
        d *= g * ctx.scale if reduction != "none" else g
        if reduction == "none":
            d *= 2.0
        return d

    def backward(ctx, gg):
        g, x, t = ctx.saved_tensors
        need_g, need_x, need_t = ctx.needs_input_grad
        gg_scaled = gg * ctx.scale
        gx = gg_scaled * g if (need_x or need_t) else None
        gg_g = None
        if need_g:
            prod = gg_scaled * (x - t)
            gg_g = sum(prod) if ctx.reduction != "none" else prod
        return gg_g, (gx if need_x else None), (-gx if need_t else None)


def _sample_weight(name: str, weight, input: Tensor) -> None:
    if weight is None:
        return
    _check_float(name, "weight", weight)
    _same_device(name, input, "weight", weight)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(
            f"{name}(): Weights and input must have the same size, got weight of shape "
            f"{tuple(weight.shape)} for input of shape {tuple(input.shape)}"
        )


def _weighted(loss: Tensor, weight: Tensor, reduction: str) -> Tensor:
    """``loss * weight`` reduced; the mean divides by the summed weights, as in PyTorch."""
    loss = loss * weight
    if reduction == "mean":
        return sum(loss) / sum(weight)
    return _reduce(loss, reduction)


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Squared error ``(input - target)^2``, reduced; ``weight`` (the input's shape) scales
    each element, and the mean then divides by ``weight.sum()``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction("mse_loss", reduction)
    input, target = _pointwise_pair("mse_loss", input, target)
    _sample_weight("mse_loss", weight, input)
    if weight is not None:
        d = input - target
        return _weighted(d * d, weight, reduction)
    if input.shape != target.shape or input.dtype is not target.dtype:
        d = input - target  # broadcast or mixed dtypes: the plain composite
        return _reduce(d * d, reduction)
    return MseLoss.apply(input, target, reduction=reduction)


@register("l1_loss")
def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Absolute error ``|input - target|``, reduced; ``weight`` as in ``mse_loss``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction("l1_loss", reduction)
    input, target = _pointwise_pair("l1_loss", input, target)
    _sample_weight("l1_loss", weight, input)
    if weight is not None:
        return _weighted(E.abs(input - target), weight, reduction)
    return _reduce(E.abs(input - target), reduction)


# ---------------------------------------------------------------- binary cross entropy


def _binary_args(name, input, target, weight) -> None:
    _check_float(name, "input", input)
    if not isinstance(target, Tensor):
        raise TypeError(f"{name}(): target must be a Tensor, got {type(target).__name__}")
    if not target.dtype.is_floating_point:
        raise TypeError(
            f"{name}(): target must be a floating point tensor of probabilities, got "
            f"{target.dtype} (convert first, e.g. target.float())"
        )
    _same_device(name, input, "target", target)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"{name}(): target size {tuple(target.shape)} must be the same as input size "
            f"{tuple(input.shape)}"
        )
    if weight is not None:
        _check_float(name, "weight", weight)
        _same_device(name, input, "weight", weight)
        E.check_broadcast(f"{name} (weight)", input.shape, weight.shape)


@register("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross entropy of logits: ``-(pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x)))``,
    computed as ``(1 - y) x + (1 + (pw - 1) y) softplus(-x)``: finite for any logits."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    _binary_args("binary_cross_entropy_with_logits", input, target, weight)
    softplus_neg = Softplus.apply(-input, beta=1.0, threshold=math.inf)  # -log sigmoid(x)
    if pos_weight is not None:
        _check_float("binary_cross_entropy_with_logits", "pos_weight", pos_weight)
        _same_device("binary_cross_entropy_with_logits", input, "pos_weight", pos_weight)
        E.check_broadcast(
            "binary_cross_entropy_with_logits (pos_weight)", input.shape, pos_weight.shape
        )
        softplus_neg = softplus_neg * ((pos_weight - 1) * target + 1)
    loss = (1 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _clamped_log(p: Tensor) -> Tensor:
    """``max(log p, -100)``, with no inf or nan from ``p == 0`` in the value or gradient."""
    pos = p > 0
    return E.clamp(E.where(pos, E.log(E.where(pos, p, 1)), -100.0), -100.0)


@register("binary_cross_entropy")
def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross entropy of probabilities ``input`` in [0, 1]; each log is clamped at -100,
    as in PyTorch, so that 0 and 1 give finite losses."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction("binary_cross_entropy", reduction)
    _binary_args("binary_cross_entropy", input, target, weight)
    data = input._data
    if data.size and not bool(((data >= 0) & (data <= 1)).all()):
        lo, hi = float(data.min()), float(data.max())
        bad = lo if not lo >= 0 else hi
        raise ValueError(
            f"binary_cross_entropy(): all elements of input should be between 0 and 1 "
            f"(probabilities), got {bad}; for logits use binary_cross_entropy_with_logits"
        )
    log_p = _clamped_log(input)
    log_q = _clamped_log(1 - input)
    loss = -(target * log_p + (1 - target) * log_q)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)
