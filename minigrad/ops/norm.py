"""Normalisation and dropout: batch_norm (fused ops in training, with running statistics),
layer_norm, normalize, dropout and its channel-wise variants. Dropout masks are drawn on the
host, so a seed gives the same mask on every device."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence

from minigrad import backend
from minigrad.autograd import grad as grad_fn
from minigrad.autograd.function import Function, register
from minigrad.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from minigrad.ops import elementwise as E
from minigrad.ops import reduce as R
from minigrad.ops.movement import Reshape, check_bool, normalize_dim
from minigrad.ops.reduce import mean
from minigrad.tensor import Tensor

# ---------------------------------------------------------------- batch_norm


def _check_float(name: str, arg: str, x) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): {arg} must be a Tensor, got {type(x).__name__}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{name}(): {arg} must be a floating point tensor, got {x.dtype}")


def _check_channel_vector(name: str, arg: str, t, x: Tensor, n: int) -> None:
    if t is None:
        return
    _check_float(name, arg, t)
    if tuple(t.shape) != (n,):
        raise ValueError(
            f"{name}(): {arg} should have shape ({n},) (one value per channel of the input of "
            f"shape {tuple(x.shape)}), got {tuple(t.shape)}"
        )
    if t._device is not x._device:
        raise RuntimeError(f"{name}(): {arg} is on {t._device} but input is on {x._device}")


def _as3(x):
    """View an (N, C, ...) array as (N, C, M), M the product of the trailing sizes."""
    return x.reshape(x.shape[0], x.shape[1], -1)


def _channel_stats(xp, x3, eps: float):
    """Per-channel statistics of an (N, C, M) array: the mean, the centred input (a new array
    the caller may overwrite), the biased variance and ``1 / sqrt(var + eps)``; all but the
    centred input have shape (C,). Channel sums are einsum contractions, which need no
    full-size temporary."""
    n = x3.shape[0] * x3.shape[2]
    mu = xp.einsum("ncm->c", x3) / n
    xc = x3 - mu[:, None]
    var = xp.einsum("ncm,ncm->c", xc, xc) / n
    invstd = 1.0 / xp.sqrt(var + eps)
    return mu, xc, var, invstd


def _bn_input_grad_composite(g, x, weight, eps: float, axes: tuple) -> Tensor:
    """The input gradient of training-mode batch norm written with differentiable Tensor ops:
    ``invstd * (gy - mean(gy) - xhat * mean(gy * xhat))`` with ``gy = g * weight``."""
    xc = x - mean(x, axes, keepdim=True)
    invstd = 1.0 / E.sqrt(mean(xc * xc, axes, keepdim=True) + eps)
    xhat = xc * invstd
    gy = g if weight is None else g * _per_channel(weight, x.ndim)
    inner = gy - mean(gy, axes, keepdim=True) - xhat * mean(gy * xhat, axes, keepdim=True)
    return inner * invstd


def _bn_weight_grad_composite(g, x, eps: float, axes: tuple) -> Tensor:
    """``sum(g * xhat)`` per channel, with differentiable Tensor ops."""
    xc = x - mean(x, axes, keepdim=True)
    invstd = 1.0 / E.sqrt(mean(xc * xc, axes, keepdim=True) + eps)
    return R.sum(g * xc * invstd, axes)


def _per_channel(t: Tensor, ndim: int) -> Tensor:
    """A (C,) vector reshaped to (1, C, 1, ...) so that it broadcasts along dimension 1."""
    return Reshape.apply(t, shape=(1, t.shape[0]) + (1,) * (ndim - 2))


def _composite_vjp(fn, tensors: list, needs: tuple, grad: Tensor) -> list:
    """The vector-Jacobian product of ``fn(*tensors)`` with ``grad``, for the inputs that
    ``needs`` marks, by differentiating the composite formula. Each input enters through a fresh
    identity node, so the result is the partial derivative even when the inputs depend on each
    other, and it stays connected to them for higher orders."""
    outer = is_grad_enabled()
    with enable_grad():
        alias = [
            Reshape.apply(t, shape=t.shape) if t is not None and need else t
            for t, need in zip(tensors, needs)
        ]
        out = fn(*alias)
        wanted = [a for a, need in zip(alias, needs) if need and a is not None]
        grads = iter(grad_fn(out, wanted, grad, create_graph=outer, allow_unused=True))
    return [next(grads) if need and t is not None else None for t, need in zip(tensors, needs)]


def _axes(ndim: int) -> tuple:
    """The dimensions batch norm reduces over: all but dimension 1."""
    return (0,) + tuple(range(2, ndim))


@register("batch_norm_train")
class BatchNormTrain(Function):
    """Training-mode batch norm of an (N, C, ...) input with per-channel batch statistics:
    ``(x - mean) * (invstd * weight) + bias``; weight and bias (C,) may be None. When ``stats``
    is a list, the batch mean and biased variance (each (C,)) are appended to it, for the
    running statistics."""

    def forward(ctx, x, weight, bias, eps: float, stats: list | None = None):
        ctx.eps = eps
        ctx.save_for_backward(x, weight)
        # an inf in the input makes its channel nan, silently, as in PyTorch
        with backend.ignore_float_warnings(ctx.xp, "invalid", "over"):
            mu, out, var, invstd = _channel_stats(ctx.xp, _as3(x), eps)  # out: centred (N, C, M)
            ctx.batch_stats = (mu, invstd)  # for the first-order input gradient of this x
            if stats is not None:
                stats += [mu, var]
            scale = invstd if weight is None else invstd * weight
            out *= scale[:, None]
            if bias is not None:
                out += bias[:, None]
            return out.reshape(x.shape)

    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        eps = ctx.eps
        sums = []  # the input-gradient op leaves sum(g * xhat) here, the weight gradient
        # the batch mean and 1/std of x from the forward pass: x's version was just checked,
        # so they are what the input-gradient op would compute again; its own backward
        # differentiates the formula from x, so higher orders do not depend on them
        known = ctx.__dict__.pop("batch_stats", None)
        gx = (
            BatchNormTrainGrad.apply(g, x, weight, eps=eps, sums=sums, stats=known)
            if need_x
            else None
        )
        known = sums[0] if sums else None
        gw = BatchNormWeightGrad.apply(g, x, eps=eps, known=known) if need_w else None
        gb = R.sum(g, _axes(g.ndim)) if need_b else None
        return gx, gw, gb


@register("batch_norm_train_grad")
class BatchNormTrainGrad(Function):
    """The input gradient of ``BatchNormTrain``: with ``gy = g * weight`` and per-channel means,
    ``invstd * (gy - mean(gy) - xhat * mean(gy * xhat))``. When ``sums`` is a list,
    ``sum(g * xhat)`` per channel (C,), the weight gradient, is appended to it. ``stats``: the
    batch mean and 1/std of ``x`` if already known (each (C,)), else computed here."""

    def forward(ctx, g, x, weight, eps: float, sums: list | None = None, stats=None):
        ctx.eps = eps
        ctx.save_for_backward(g, x, weight)
        with backend.ignore_float_warnings(ctx.xp, "invalid", "over"):  # inf input: nan
            xp = ctx.xp
            g3 = _as3(g)
            if stats is None:
                _, xc, _, invstd = _channel_stats(xp, _as3(x), eps)  # xc (N, C, M), overwritten
            else:  # the forward pass's mean and 1/std of this x
                mu, invstd = stats
                xc = _as3(x) - mu[:, None]
            n = xc.shape[0] * xc.shape[2]
            g_mean = xp.einsum("ncm->c", g3) / n
            gxc_mean = xp.einsum("ncm,ncm->c", g3, xc) / n
            if sums is not None:
                sums.append(gxc_mean * n * invstd)
            # g - mean(g) - xc * invstd^2 * mean(g * xc), then * invstd * weight
            xc *= (invstd * invstd * gxc_mean)[:, None]
            xc += g_mean[:, None]
            out = xp.subtract(g3, xc, out=xc)
            scale = invstd if weight is None else invstd * weight
            out *= scale[:, None]
            return out.reshape(x.shape)

    def backward(ctx, gg):
        g, x, weight = ctx.saved_tensors
        eps, axes = ctx.eps, _axes(x.ndim)

        def fn(g, x, weight):
            return _bn_input_grad_composite(g, x, weight, eps, axes)

        return tuple(_composite_vjp(fn, [g, x, weight], ctx.needs_input_grad, gg))


@register("batch_norm_weight_grad")
class BatchNormWeightGrad(Function):
    """The weight gradient of ``BatchNormTrain``: ``sum(g * xhat)`` per channel, shape (C,).
    ``known`` is that same value when the input-gradient op has just computed it from the same
    g and x; forward then returns it instead of reading both arrays again."""

    def forward(ctx, g, x, eps: float, known=None):
        ctx.eps = eps
        ctx.save_for_backward(g, x)
        if known is not None:
            return known
        with backend.ignore_float_warnings(ctx.xp, "invalid", "over"):  # inf input: nan
            xp = ctx.xp
            _, xc, _, invstd = _channel_stats(xp, _as3(x), eps)
            return xp.einsum("ncm,ncm->c", _as3(g), xc) * invstd

    def backward(ctx, gg):
        g, x = ctx.saved_tensors
        eps, axes = ctx.eps, _axes(x.ndim)

        def fn(g, x):
            return _bn_weight_grad_composite(g, x, eps, axes)

        return tuple(_composite_vjp(fn, [g, x], ctx.needs_input_grad, gg))


@register("batch_norm")
def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (dimension 1) of an (N, C), (N, C, L) or (N, C, H, W) input.

    Training: by the batch mean and biased variance over all dimensions but 1; the running
    statistics (if given) move toward the batch mean and *unbiased* variance by ``momentum``,
    in place. Evaluation: by the running statistics. Then ``* weight + bias`` per channel."""
    _check_float("batch_norm", "input", input)
    if input.ndim < 2:
        raise ValueError(
            f"batch_norm(): expected an input of shape (N, C, ...) with at least 2 dimensions, "
            f"got shape {tuple(input.shape)}"
        )
    c = input.shape[1]
    for arg, t in (("running_mean", running_mean), ("running_var", running_var)):
        _check_channel_vector("batch_norm", arg, t, input, c)
    _check_channel_vector("batch_norm", "weight", weight, input, c)
    _check_channel_vector("batch_norm", "bias", bias, input, c)
    if not isinstance(momentum, numbers.Real) or isinstance(momentum, bool):
        raise TypeError(f"batch_norm(): momentum must be a number, got {momentum!r}")
    if not isinstance(eps, numbers.Real) or isinstance(eps, bool):
        raise TypeError(f"batch_norm(): eps must be a number, got {eps!r}")
    if check_bool("batch_norm", "training", training):
        n = input._data.size // max(c, 1)
        if n == 1:  # an empty batch is fine (an empty output), as in PyTorch
            raise ValueError(
                f"batch_norm(): expected more than 1 value per channel when training, got input "
                f"of shape {tuple(input.shape)}"
            )
        if n == 0:  # nothing to normalise: an empty output, running statistics unchanged
            out = input
            if weight is not None:
                out = out * _per_channel(weight.to(input.dtype), input.ndim)
            if bias is not None:
                out = out + _per_channel(bias.to(input.dtype), input.ndim)
            return out if out is not input else input * 1
        track = running_mean is not None or running_var is not None
        stats = [] if track else None
        w, b = (None if t is None else t.to(input.dtype) for t in (weight, bias))
        out = BatchNormTrain.apply(input, w, b, eps=float(eps), stats=stats)
        if track:
            mu, var = (input._wrap(s) for s in stats)
            _update_running_stats(running_mean, running_var, mu, var, n, float(momentum))
        return out
    if running_mean is None or running_var is None:
        raise ValueError(
            "batch_norm(): running_mean and running_var must be given when training=False"
        )
    # per-channel scale and shift first, so that only two ops touch the whole input
    scale = 1.0 / E.sqrt(running_var.to(input.dtype) + eps)  # (C,)
    if weight is not None:
        scale = scale * weight
    shift = -running_mean.to(input.dtype) * scale
    if bias is not None:
        shift = shift + bias
    return input * _per_channel(scale, input.ndim) + _per_channel(shift, input.ndim)


def _update_running_stats(running_mean, running_var, mu, var, n: int, momentum: float) -> None:
    """Move the running statistics toward the batch mean and the UNBIASED batch variance (each
    (C,)), in place and outside autograd."""
    with no_grad():
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(mu.to(running_mean.dtype) * momentum)
        if running_var is not None:
            unbiased = var * (n / (n - 1))
            running_var.mul_(1 - momentum).add_(unbiased.to(running_var.dtype) * momentum)


# ---------------------------------------------------------------- layer_norm


@register("layer_norm")
def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dimensions (biased variance), then
    ``* weight + bias`` (each of shape ``normalized_shape``)."""
    _check_float("layer_norm", "input", input)
    if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape, bool):
        normalized_shape = (normalized_shape,)
    if not isinstance(normalized_shape, (tuple, list)):
        raise TypeError(
            f"layer_norm(): argument 'normalized_shape' must be tuple of ints, not "
            f"{type(normalized_shape).__name__}"
        )
    for i, s in enumerate(normalized_shape):
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(
                f"layer_norm(): argument 'normalized_shape' must be tuple of ints, but found "
                f"element of type {type(s).__name__} at pos {i}"
            )
    normalized_shape = tuple(int(s) for s in normalized_shape)
    k = len(normalized_shape)
    if k == 0:
        raise RuntimeError(
            "layer_norm(): Expected normalized_shape to be at least 1-dimensional, i.e., "
            "containing at least one element, but got normalized_shape = []"
        )
    if k > input.ndim or tuple(input.shape[input.ndim - k :]) != normalized_shape:
        raise RuntimeError(
            f"layer_norm(): Given normalized_shape={list(normalized_shape)}, expected input with "
            f"shape [*, {', '.join(map(str, normalized_shape))}], but got input of "
            f"size{list(input.shape)}"
        )
    for arg, t in (("weight", weight), ("bias", bias)):
        if t is not None:
            _check_float("layer_norm", arg, t)
            if tuple(t.shape) != normalized_shape:
                raise ValueError(
                    f"layer_norm(): {arg} should have shape {normalized_shape} (normalized_shape), "
                    f"got {tuple(t.shape)}"
                )
    axes = tuple(range(input.ndim - k, input.ndim))
    centred = input - mean(input, axes, keepdim=True)
    var = mean(centred * centred, axes, keepdim=True)
    out = centred / E.sqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


@register("normalize")
def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``input / max(||input||_p, eps)``, the p-norm taken along ``dim``."""
    _check_float("normalize", "input", input)
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not p > 0:
        raise ValueError(f"normalize(): p must be a positive number (or inf), got {p!r}")
    d = normalize_dim(dim, input.ndim)
    if p == 2:
        norm = E.sqrt(R.sum(input * input, d, keepdim=True))
    elif p == math.inf:
        norm = R.amax(E.abs(input), d, keepdim=True)
    else:
        norm = R.sum(E.abs(input) ** p, d, keepdim=True) ** (1.0 / p)
    return input / E.clamp(norm, min=eps)


# ---------------------------------------------------------------- dropout


def _check_p(name: str, p) -> float:
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}(): dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _keep_mask(x: Tensor, shape: tuple, p: float) -> Tensor:
    """Ones with probability 1 - p scaled by 1 / (1 - p), else zeros; drawn on the host."""
    keep = backend.rng().random(shape) >= p
    scaled = keep.astype(x._data.dtype) * (1.0 / (1.0 - p))
    return x._wrap(backend.from_host(scaled, x._device))


def _apply_mask(input: Tensor, mask_shape: tuple, p: float, inplace: bool) -> Tensor:
    if p == 1.0:
        mask = input._wrap(input.xp.zeros((), dtype=input._data.dtype))
    else:
        mask = _keep_mask(input, mask_shape, p)
    return input.mul_(mask) if inplace else input * mask


@register("dropout")
def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``, during
    training; the identity otherwise."""
    p = _check_p("dropout", p)
    _check_float("dropout", "input", input)
    training = training if training is True else check_bool("dropout", "training", training)
    inplace = inplace if inplace is False else check_bool("dropout", "inplace", inplace)
    if not training or p == 0.0 or input._data.size == 0:
        return input
    return _apply_mask(input, input.shape, p, inplace)


def _feature_dropout(name, input, p, training, inplace, dims) -> Tensor:
    """Zero whole channels: the mask has shape (N, C, 1, ...); an unbatched input (one
    dimension fewer than the batched form) is treated as a single sample, except that
    dropout2d reads 3-D inputs as (N, C, L), as PyTorch does."""
    p = _check_p(name, p)
    _check_float(name, "input", input)
    if input.ndim not in (dims, dims + 1):
        raise ValueError(
            f"{name}(): expected an input with {dims} (unbatched) or {dims + 1} (batched) "
            f"dimensions, got shape {tuple(input.shape)}"
        )
    training = training if training is True else check_bool(name, "training", training)
    inplace = inplace if inplace is False else check_bool(name, "inplace", inplace)
    lead = 1 if input.ndim == dims else 2
    if name == "dropout2d" and input.ndim == 3:
        warnings.warn(
            "dropout2d(): received a 3-D input; as in PyTorch it is read as (N, C, L) and whole "
            "(n, c) rows are dropped. Use dropout1d for that, or add a batch dimension for an "
            "unbatched (C, H, W) input.",
            UserWarning,
            stacklevel=3,
        )
        lead = 2
    if not training or p == 0.0 or input._data.size == 0:
        return input
    mask_shape = input.shape[:lead] + (1,) * (input.ndim - lead)
    return _apply_mask(input, mask_shape, p, inplace)


@register("dropout1d")
def dropout1d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Channel-wise dropout of (N, C, L) or (C, L) inputs."""
    return _feature_dropout("dropout1d", input, p, training, inplace, 2)


@register("dropout2d")
def dropout2d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Channel-wise dropout of (N, C, H, W) or (C, H, W) inputs."""
    return _feature_dropout("dropout2d", input, p, training, inplace, 3)
