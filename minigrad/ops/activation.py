"""Activations beyond the elementwise basics: leaky_relu, elu, gelu (and the erf it needs),
softplus, silu, hardtanh/relu6, logsigmoid, and ``relu`` with PyTorch's ``inplace`` flag (the
``relu``, ``sigmoid`` and ``tanh`` ops themselves live in ``elementwise``)."""

from __future__ import annotations

import math
import numbers

from minigrad import backend
from minigrad.autograd.function import Function, register
from minigrad.ops import elementwise as E
from minigrad.ops.movement import check_bool
from minigrad.tensor import Tensor

# ---------------------------------------------------------------- erf

# W. J. Cody's rational Chebyshev approximations (Math. Comp. 1969), three intervals of |x|:
# erf on [0, 0.46875], erfc on (0.46875, 4] and erfc on (4, inf). Designed for ~18 digits.
_ERF_A = (3.16112374387056560, 113.864154151050156, 377.485237685302021, 3209.37758913846947)
_ERF_A4 = 0.185777706184603153
_ERF_B = (23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062)
_ERFC_C = (
    0.564188496988670089, 8.88314979438837594, 66.1191906371416295, 298.635138197400131,
    881.952221241769090, 1712.04761263407058, 2051.07837782607147, 1230.33935479799725,
)  # fmt: skip
_ERFC_C8 = 2.15311535474403846e-8
_ERFC_D = (
    15.7449261107098347, 117.693950891312499, 537.181101862009858, 1621.38957456669019,
    3290.79923573345963, 4362.61909014324716, 3439.36767414372164, 1230.33935480374942,
)  # fmt: skip
_ERFC_P = (
    0.305326634961232344, 0.360344899949804439, 0.125781726111229246,
    0.0160837851487422766, 6.58749161529837803e-4,
)  # fmt: skip
_ERFC_P5 = 0.0163153871373020978
_ERFC_Q = (
    2.56852019228982242, 1.87295284992346047, 0.527905102951428412,
    0.0605183413124413191, 0.00233520497626869185,
)  # fmt: skip
_SQRT_1_PI = 0.56418958354775628695  # 1 / sqrt(pi)
_TWO_OVER_SQRT_PI = 1.1283791670955125739


def _ratio(z, top, top_last, bottom):
    """``(top_last z^n + top[0] z^(n-1) + ... + top[-1]) / (z^n + bottom[0] z^(n-1) + ...)``,
    evaluated by Horner's rule as Cody writes it."""
    num = top_last * z
    den = z
    for a, b in zip(top[:-1], bottom[:-1]):
        num = (num + a) * z
        den = (den + b) * z
    return (num + top[-1]) / (den + bottom[-1])


def _exp_neg_square(xp, y):
    """``exp(-y*y)`` with y*y split as (a whole number of sixteenths)^2 + the rest, so that the
    rounding error of y*y is not amplified by exp."""
    head = xp.trunc(y * 16.0) / 16.0
    return xp.exp(-head * head) * xp.exp(-(y - head) * (y + head))


def erf_array(xp, x):
    """The error function of a float array (NumPy or CuPy), accurate to ~1e-16 in float64."""
    y = xp.abs(x)
    small = xp.minimum(y, 0.46875)
    z = small * small
    near = small * _ratio(z, _ERF_A, _ERF_A4, _ERF_B)  # erf itself, for |x| <= 0.46875
    mid = xp.clip(y, 0.46875, 4.0)
    erfc_mid = _exp_neg_square(xp, mid) * _ratio(mid, _ERFC_C, _ERFC_C8, _ERFC_D)
    # beyond ~27 erfc underflows to 0; clamping keeps inf inputs away from inf - inf
    far = xp.clip(y, 4.0, 27.0)
    w = 1.0 / (far * far)
    erfc_far = (_SQRT_1_PI - w * _ratio(w, _ERFC_P, _ERFC_P5, _ERFC_Q)) / far
    erfc_far = _exp_neg_square(xp, far) * erfc_far
    erfc = xp.where(y <= 4.0, erfc_mid, erfc_far)
    out = xp.where(y <= 0.46875, near, (0.5 - erfc) + 0.5)
    return xp.where(x < 0, -out, out)


@register("erf")
class Erf(Function):
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with backend.ignore_float_warnings(ctx.xp, "over", "invalid"):  # float16 overflows
            return erf_array(ctx.xp, a)

    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * (E.exp(-(a * a)) * _TWO_OVER_SQRT_PI)


def erf(input: Tensor) -> Tensor:
    """The error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``, elementwise."""
    return Erf.apply(E._float_input("erf", input))


# ---------------------------------------------------------------- relu family


def _check_tensor(name: str, x) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): input must be a Tensor, got {type(x).__name__}")
    if not x.dtype.is_floating_point:
        raise TypeError(
            f"{name}(): input must be a floating point tensor, got {x.dtype} "
            "(convert first, e.g. x.float())"
        )


def _check_number(name: str, arg: str, value) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name}(): {arg} must be a number, got {value!r}")
    return float(value)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``; ``inplace=True`` writes the result into ``input``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"relu(): input must be a Tensor, got {type(input).__name__}")
    inplace = check_bool("relu", "inplace", inplace)
    out = E.relu(input)
    return input.copy_(out) if inplace else out


@register("leaky_relu")
class LeakyRelu(Function):
    def forward(ctx, a, slope):
        ctx.slope = slope
        ctx.save_for_backward(a)
        if slope == 0 or not math.isfinite(slope):  # inf * 0 is nan, silently as in PyTorch
            with backend.ignore_float_warnings(ctx.xp, "invalid"):
                return ctx.xp.where(a > 0, a, a * slope)
        return ctx.xp.where(a > 0, a, a * slope)

    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return E.where(a > 0, g, g * ctx.slope)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where ``x > 0``, else ``negative_slope * x``."""
    _check_tensor("leaky_relu", input)
    slope = _check_number("leaky_relu", "negative_slope", negative_slope)
    inplace = check_bool("leaky_relu", "inplace", inplace)
    out = LeakyRelu.apply(input, slope=slope)
    return input.copy_(out) if inplace else out


@register("elu")
class Elu(Function):
    def forward(ctx, a, alpha):
        xp = ctx.xp
        ctx.alpha = alpha
        ctx.save_for_backward(a)
        with backend.ignore_float_warnings(xp, "invalid", "over"):  # alpha = inf times 0
            return xp.where(a > 0, a, alpha * xp.expm1(xp.minimum(a, 0)))

    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return E.where(a > 0, g, g * (E.exp(E.minimum(a, 0)) * ctx.alpha))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    _check_tensor("elu", input)
    inplace = check_bool("elu", "inplace", inplace)
    out = Elu.apply(input, alpha=_check_number("elu", "alpha", alpha))
    return input.copy_(out) if inplace else out


@register("hardtanh")
class Hardtanh(Function):
    """``x`` clamped to ``[lo, hi]``; like PyTorch, the gradient is 0 at the bounds too."""

    def forward(ctx, a, lo, hi):
        ctx.lo, ctx.hi = lo, hi
        ctx.save_for_backward(a)
        return ctx.xp.clip(a, lo, hi)

    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return E.where((a > ctx.lo) & (a < ctx.hi), g, 0)


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """``x`` clamped to ``[min_val, max_val]``."""
    _check_tensor("hardtanh", input)
    lo = _check_number("hardtanh", "min_val", min_val)
    hi = _check_number("hardtanh", "max_val", max_val)
    if lo > hi:
        raise ValueError(f"hardtanh(): min_val ({lo}) cannot be greater than max_val ({hi})")
    inplace = check_bool("hardtanh", "inplace", inplace)
    out = Hardtanh.apply(input, lo=lo, hi=hi)
    return input.copy_(out) if inplace else out


@register("relu6")
def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


# ---------------------------------------------------------------- gelu


_SQRT_HALF = 0.70710678118654752440
_INV_SQRT_2PI = 0.39894228040143267794  # 1 / sqrt(2 pi)
_TANH_K = 0.79788456080286535588  # sqrt(2 / pi)
_TANH_C = 0.044715


@register("gelu")
class Gelu(Function):
    """``x * Phi(x)`` (Phi: the standard normal CDF), or its tanh approximation."""

    def forward(ctx, a, approximate):
        xp = ctx.xp
        ctx.approximate = approximate
        ctx.save_for_backward(a)
        with backend.ignore_float_warnings(xp, "invalid", "over"):  # inf * 0 is nan
            if approximate == "tanh":
                inner = _TANH_K * (a + _TANH_C * a * a * a)
                return 0.5 * a * (1.0 + xp.tanh(inner))
            return 0.5 * a * (1.0 + erf_array(xp, a * _SQRT_HALF))

    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            # d/dx 0.5 x (1 + t), t = tanh(u), u = k (x + c x^3): 0.5 (1 + t) + 0.5 x (1 - t^2) u'
            t = E.tanh(_TANH_K * (a + _TANH_C * a * a * a))
            du = _TANH_K * (1.0 + (3.0 * _TANH_C) * a * a)
            return g * (0.5 * (1.0 + t) + 0.5 * a * (1.0 - t * t) * du)
        # d/dx x Phi(x) = Phi(x) + x phi(x)
        cdf = 0.5 * (1.0 + erf(a * _SQRT_HALF))
        pdf = E.exp(-0.5 * (a * a)) * _INV_SQRT_2PI
        return g * (cdf + a * pdf)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit: ``x * Phi(x)``; ``approximate='tanh'`` uses
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``."""
    _check_tensor("gelu", input)
    if not isinstance(approximate, str) or approximate not in ("none", "tanh"):
        raise ValueError(f"gelu(): approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(input, approximate=approximate)


# ---------------------------------------------------------------- softplus and friends


@register("softplus")
class Softplus(Function):
    """``log(1 + exp(beta x)) / beta``, and ``x`` itself where ``beta x > threshold``."""

    def forward(ctx, a, beta, threshold):
        xp = ctx.xp
        ctx.beta, ctx.threshold = beta, threshold
        ctx.save_for_backward(a)
        # log(1 + e^z) = max(z, 0) + log1p(e^-|z|): no overflow for any z (inf * 0 may be
        # nan for an infinite beta or input, silently as in PyTorch)
        with backend.ignore_float_warnings(xp, "invalid", "over"):
            z = a * beta
            soft = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / beta
            return xp.where(z > threshold, a, soft)

    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        z = a * ctx.beta
        return E.where(z > ctx.threshold, g, g * E.sigmoid(z))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, reverting to ``x`` where ``beta x > threshold``."""
    _check_tensor("softplus", input)
    beta = _check_number("softplus", "beta", beta)
    if beta == 0:
        raise ValueError("softplus(): beta must be nonzero, got 0")
    threshold = _check_number("softplus", "threshold", threshold)
    return Softplus.apply(input, beta=beta, threshold=threshold)


@register("logsigmoid")
def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, finite for any x."""
    _check_tensor("logsigmoid", input)
    return -Softplus.apply(-input, beta=1.0, threshold=math.inf)


@register("silu")
def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (also called swish)."""
    _check_tensor("silu", input)
    inplace = check_bool("silu", "inplace", inplace)
    out = input * E.sigmoid(input)
    return input.copy_(out) if inplace else out
