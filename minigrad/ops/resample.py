"""Resampling through computed indices: the reflect/replicate/circular modes of ``pad`` and
``interpolate`` (nearest, nearest-exact, linear/bilinear/trilinear).

Everything is a gather through integer index arrays with the ``Index`` op (plus a weighted sum
for the linear modes), so gradients and double backward come from ``Index``/``IndexGrad``."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from minigrad.autograd.function import OutOfMemoryError, register
from minigrad.ops import movement as M
from minigrad.ops.movement import Index, Reshape, check_bool, out_of_memory
from minigrad.tensor import Tensor

# ---------------------------------------------------------------- pad


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _source_index(xp, n: int, lo: int, hi: int, mode: str):
    """For one dimension of size n padded by (lo, hi): which input position each output
    position reads. Negative amounts crop."""
    if mode == "circular":  # ... n-2 n-1 | 0 1 ... n-1 | 0 1 ...
        # negative amounts crop first; the rest wraps around what is left, as in PyTorch
        start, kept = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)
        return xp.arange(-max(lo, 0), kept + max(hi, 0)) % kept + start
    j = xp.arange(-lo, n + hi)
    if mode == "reflect":  # ... 2 1 | 0 1 2 ... n-1 | n-2 n-3 ... (the edge is not repeated)
        j = xp.abs(j)
        return xp.where(j > n - 1, 2 * (n - 1) - j, j)
    return xp.clip(j, 0, n - 1)  # replicate: ... 0 0 | 0 1 ... n-1 | n-1 n-1 ...


def _check_pad_modes(x: Tensor, pad: tuple, mode: str) -> None:
    k = len(pad) // 2
    if k not in (1, 2, 3) or x.ndim not in (k + 1, k + 2):
        raise ValueError(
            f"pad(): mode {mode!r} pads the last 1, 2 or 3 dimensions of an input with one or "
            f"two leading (batch, channel) dimensions: 2 pad values for a 2-D or 3-D input, 4 "
            f"for 3-D or 4-D, 6 for 4-D or 5-D; got {len(pad)} pad values for an input of "
            f"shape {tuple(x.shape)}"
        )
    for i in range(k):
        d = x.ndim - 1 - i
        n, lo, hi = x.shape[d], pad[2 * i], pad[2 * i + 1]
        if n + lo + hi < 1:
            raise ValueError(
                f"pad(): padding ({lo}, {hi}) of dimension {d} (size {n}) leaves no elements"
            )
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(
                f"pad(): reflect padding must be smaller than the padded dimension (Padding "
                f"size should be less than the corresponding input dimension): got padding "
                f"({lo}, {hi}) for dimension {d} of size {n} (input shape {tuple(x.shape)})"
            )
        kept = n - max(-lo, 0) - max(-hi, 0)
        if mode == "circular" and (kept < 1 or lo > kept or hi > kept):
            raise RuntimeError(
                f"pad(): circular padding can wrap around at most once (Padding value causes "
                f"wrapping around more than once): got padding "
                f"({lo}, {hi}) for dimension {d} of size {n} ({kept} left after cropping; input "
                f"shape {tuple(x.shape)})"
            )


def _pad_by_index(x: Tensor, pad: tuple, mode: str) -> Tensor:
    k = len(pad) // 2
    xp = x.xp
    # one open-mesh index per padded dim: (o1, 1, 1), (1, o2, 1), (1, 1, o3)
    key = []
    for i in range(k):
        d = x.ndim - k + i
        lo, hi = pad[2 * (k - 1 - i)], pad[2 * (k - 1 - i) + 1]
        idx = _source_index(xp, x.shape[d], lo, hi, mode)
        key.append(idx.reshape((-1,) + (1,) * (k - 1 - i)))
    return Index.apply(x, key=(slice(None),) * (x.ndim - k) + tuple(key))


@register("reflection_pad")
def reflection_pad(x: Tensor, padding: Sequence[int]) -> Tensor:
    """Pad by mirroring about the edge element (which is not repeated)."""
    return pad(x, padding, mode="reflect")


@register("replication_pad")
def replication_pad(x: Tensor, padding: Sequence[int]) -> Tensor:
    """Pad by repeating the edge element."""
    return pad(x, padding, mode="replicate")


@register("circular_pad")
def circular_pad(x: Tensor, padding: Sequence[int]) -> Tensor:
    """Pad by wrapping around (periodic boundary)."""
    return pad(x, padding, mode="circular")


def pad(
    input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None
) -> Tensor:
    """PyTorch's ``F.pad``: ``pad`` lists (left, right) amounts starting from the LAST
    dimension; negative amounts crop. ``mode`` is 'constant' (filled with ``value``, default 0)
    or, for the last 1-3 dimensions, 'reflect', 'replicate' or 'circular'."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): input must be a Tensor, got {type(input).__name__}")
    if not isinstance(mode, str) or mode not in _PAD_MODES:
        raise ValueError(f"pad(): mode must be one of {_PAD_MODES}, got {mode!r}")
    if not isinstance(pad, (tuple, list)) or any(
        not isinstance(p, numbers.Integral) or isinstance(p, bool) for p in pad
    ):
        raise TypeError(f"pad(): pad must be a sequence of ints, got {pad!r}")
    pad = tuple(int(p) for p in pad)
    if mode == "constant":
        return M.pad(input, pad, value=0.0 if value is None else value)
    if value is not None:
        raise ValueError(f"pad(): mode {mode!r} doesn't take a value argument, got {value!r}")
    if len(pad) % 2:
        raise ValueError(f"pad(): padding length must be even, got {len(pad)} values {pad}")
    _check_pad_modes(input, pad, mode)
    if not any(pad):
        return input
    try:
        return _pad_by_index(input, pad, mode)
    except (MemoryError, OutOfMemoryError):
        raise out_of_memory("pad", _padded_shape(input.shape, pad), input._data.itemsize) from None


def _padded_shape(shape: tuple, pad: tuple) -> tuple:
    out = list(shape)
    for i in range(len(pad) // 2):
        out[-1 - i] += pad[2 * i] + pad[2 * i + 1]
    return tuple(out)


# ---------------------------------------------------------------- interpolate


_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear")


def _per_dim(name: str, arg: str, value, k: int, kind) -> tuple:
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * k
    if len(values) != k:
        raise ValueError(
            f"{name}(): {arg} must be one value or one per spatial dimension ({k}), got {value!r}"
        )
    for v in values:
        if not isinstance(v, kind) or isinstance(v, bool):
            raise TypeError(f"{name}(): {arg} must hold numbers, got {value!r}")
    return values


def _output_size(name, x, size, scale_factor, recompute_scale_factor):
    """Output sizes, and the scales the index rule uses (None: input size / output size)."""
    k = x.ndim - 2
    if (size is None) == (scale_factor is None):
        raise ValueError(
            f"{name}(): give exactly one of size and scale_factor (got size={size!r}, "
            f"scale_factor={scale_factor!r})"
        )
    if size is not None:
        out = tuple(int(s) for s in _per_dim(name, "size", size, k, numbers.Integral))
        scales = (None,) * k
    else:
        sf = tuple(float(s) for s in _per_dim(name, "scale_factor", scale_factor, k, numbers.Real))
        if any(not s > 0 or not math.isfinite(s) for s in sf):
            raise ValueError(f"{name}(): scale_factor must be positive, got {scale_factor!r}")
        out = tuple(math.floor(n * s) for n, s in zip(x.shape[2:], sf))
        scales = (None,) * k if recompute_scale_factor else sf
    for d, (n, o) in enumerate(zip(x.shape[2:], out)):
        if o < 1 or n < 1:
            raise ValueError(
                f"{name}(): input and output sizes should be greater than 0, but got input size "
                f"{n} and output size {o} for spatial dimension {d}"
            )
    return out, scales


def _nearest_index(xp, n: int, out: int, scale, exact: bool):
    """PyTorch's nearest rule in single precision: src = floor(dst * s) (or (dst + 0.5) * s
    for nearest-exact), s = 1 / scale_factor if given else n / out, capped at n - 1."""
    f32 = xp.float32
    if not exact and out == n:
        return xp.arange(out)
    if not exact and out == 2 * n:
        return xp.arange(out) // 2
    s = f32(1.0 / scale) if scale is not None else f32(n) / f32(out)
    if exact:  # (dst + 0.5) * s is formed in double precision, then rounded to single
        src = ((xp.arange(out) + 0.5) * float(s)).astype(f32)
    else:
        src = xp.arange(out).astype(f32) * s
    return xp.minimum(xp.floor(src).astype(xp.int64), n - 1)


def _repeat_each(x: Tensor, factors: tuple) -> Tensor:
    """Repeat every element ``factors[d]`` times along spatial dim d (a reshape, an expand and
    a reshape): (N, C, h, w) -> (N, C, h, 1, w, 1) -> (N, C, h, sh, w, sw) -> (N, C, h*sh, w*sw)."""
    lead = x.shape[:2]
    spatial = x.shape[2:]
    inter = lead + tuple(v for n in spatial for v in (n, 1))
    wide = lead + tuple(v for n, s in zip(spatial, factors) for v in (n, s))
    y = M.expand(Reshape.apply(x, shape=inter), wide)
    return Reshape.apply(y, shape=lead + tuple(n * s for n, s in zip(spatial, factors)))


def _nearest(x: Tensor, out: tuple, scales: tuple, exact: bool) -> Tensor:
    xp = x.xp
    spatial = x.shape[2:]
    idx = [_nearest_index(xp, n, o, s, exact) for n, o, s in zip(spatial, out, scales)]
    # whole-number upscaling whose index rule is plain repetition: no gather needed
    if all(o % n == 0 for n, o in zip(spatial, out)):
        factors = tuple(o // n for n, o in zip(spatial, out))
        if all(bool((i == xp.arange(o) // f).all()) for i, o, f in zip(idx, out, factors)):
            return x if all(f == 1 for f in factors) else _repeat_each(x, factors)
    k = len(spatial)
    key = tuple(i.reshape((-1,) + (1,) * (k - 1 - d)) for d, i in enumerate(idx))
    return Index.apply(x, key=(slice(None), slice(None)) + key)


def _linear_weights(xp, dtype, n: int, out: int, scale, align_corners: bool):
    """PyTorch's linear source positions for one dim: lower/upper input index and weights."""
    real = dtype.type  # the arithmetic runs in the input's precision, as in PyTorch
    dst = xp.arange(out).astype(dtype)
    if align_corners:
        s = real(n - 1) / real(out - 1) if out > 1 else real(0)
        src = dst * s
    else:
        s = real(1.0 / scale) if scale is not None else real(n) / real(out)
        src = xp.maximum(s * (dst + real(0.5)) - real(0.5), real(0))
    lower = xp.minimum(xp.floor(src).astype(xp.int64), n - 1)
    frac = xp.clip(src - lower.astype(dtype), 0, 1)
    upper = xp.minimum(lower + 1, n - 1)
    return lower, upper, 1 - frac, frac


def _linear(x: Tensor, out: tuple, scales: tuple, align_corners: bool) -> Tensor:
    """Separable linear interpolation: along the last spatial dim first, then the others."""
    xp = x.xp
    k = x.ndim - 2
    for d in reversed(range(k)):
        axis = 2 + d
        if out[d] == x.shape[axis]:  # PyTorch copies such a dim unchanged
            continue
        lo, hi, w_lo, w_hi = _linear_weights(
            xp, x._data.dtype, x.shape[axis], out[d], scales[d], align_corners
        )
        lead = (slice(None),) * axis
        trail = (1,) * (x.ndim - 1 - axis)  # weights broadcast over the dims after ``axis``
        a = Index.apply(x, key=lead + (lo,))
        b = Index.apply(x, key=lead + (hi,))
        x = a * x._wrap(w_lo.reshape((-1,) + trail)) + b * x._wrap(w_hi.reshape((-1,) + trail))
    return x


@register("interpolate")
def interpolate(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dims of an (N, C, L), (N, C, H, W) or (N, C, D, H, W) input to
    ``size``, or by ``scale_factor`` (output size floor(input size * scale_factor)).

    Modes: 'nearest' (PyTorch's rule src = floor(dst * in / out)), 'nearest-exact' (rounds
    to the nearest centre), 'linear' (3-D), 'bilinear' (4-D), 'trilinear' (5-D)."""
    name = "interpolate"
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): input must be a Tensor, got {type(input).__name__}")
    if not isinstance(mode, str) or mode not in _MODES:
        if isinstance(mode, str) and mode in ("bicubic", "area"):
            raise NotImplementedError(
                f"{name}(): mode {mode!r} is not implemented; available modes: {_MODES}"
            )
        raise ValueError(f"{name}(): mode must be one of {_MODES}, got {mode!r}")
    if check_bool(name, "antialias", antialias):
        raise NotImplementedError(f"{name}(): antialias=True is not implemented")
    if input.ndim not in (3, 4, 5):
        raise ValueError(
            f"{name}(): expected a 3-D (N, C, L), 4-D (N, C, H, W) or 5-D (N, C, D, H, W) "
            f"input, got shape {tuple(input.shape)}"
        )
    if mode in _LINEAR_MODES:
        if _LINEAR_MODES[mode] != input.ndim - 2:
            raise ValueError(
                f"{name}(): mode {mode!r} needs a {_LINEAR_MODES[mode] + 2}-D input, got "
                f"shape {tuple(input.shape)}"
            )
        if not input.dtype.is_floating_point:
            raise TypeError(f"{name}(): mode {mode!r} needs a floating point input")
    elif align_corners is not None:
        raise ValueError(
            f"{name}(): align_corners can only be set with the interpolating modes linear, "
            f"bilinear and trilinear, not {mode!r}"
        )
    out, scales = _output_size(name, input, size, scale_factor, recompute_scale_factor)
    try:
        if mode in _LINEAR_MODES:
            return _linear(input, out, scales, bool(align_corners))
        return _nearest(input, out, scales, exact=mode == "nearest-exact")
    except (MemoryError, OutOfMemoryError):
        raise out_of_memory(name, input.shape[:2] + out, input._data.itemsize) from None


def upsample(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """The older name of :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)
