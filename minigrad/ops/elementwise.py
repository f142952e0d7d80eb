"""Elementwise ops: arithmetic, unary math, activations, clamp, maximum/minimum, where.

Broadcast inputs get a gradient of the broadcast shape; the engine sums it back (``sum_to``)."""

from __future__ import annotations

import builtins
import numbers

from minigrad import backend, dtypes
from minigrad.autograd.function import Function, register
from minigrad.ops.movement import check_tensor
from minigrad.tensor import Tensor

# ---------------------------------------------------------------- operands


# the largest finite float16 and float32: a Python number beyond them becomes inf
_FLOAT_MAX = {dtypes.float16: 65504.0, dtypes.float32: 3.4028234663852886e38}


def scalar_tensor(value, like: Tensor, dtype: dtypes.dtype | None = None) -> Tensor:
    """A 0-d tensor holding a Python number, on ``like``'s device (no grad). As in PyTorch, a
    number too large for a float type becomes inf, and an integer wraps around in a narrower
    integer type (uint8 * -1 is 255); an integer beyond int64 is an error."""
    dt = dtype or like.dtype
    xp = like.xp
    big = _FLOAT_MAX.get(dt)
    if big is not None and isinstance(value, (int, float)) and not -big <= value <= big:
        with backend.ignore_float_warnings(xp, "over"):  # to inf (nan and inf included)
            return like._wrap(xp.asarray(value, dtype=dt.np))
    if not isinstance(value, (int, float)) and (
        isinstance(value, complex) or not isinstance(value, numbers.Real)
    ):
        raise TypeError(f"expected a real number, got {type(value).__name__} {value!r}")
    try:
        return like._wrap(xp.asarray(value, dtype=dt.np))
    except (OverflowError, ValueError):  # an int too large for dt, or nan/inf for an int type
        if isinstance(value, numbers.Integral) and -(2**63) <= value < 2**63:
            return like._wrap(xp.asarray(value, dtype=dtypes.int64.np).astype(dt.np))
        raise RuntimeError(
            f"value {value} cannot be converted to type {dt.name} without overflow"
        ) from None


def _scalar_dtype(value, like: Tensor) -> dtypes.dtype:
    """The dtype a Python number takes next to a tensor (PyTorch: the number does not widen)."""
    d = like.dtype
    if isinstance(value, builtins.bool):
        return d
    if isinstance(value, numbers.Integral):
        return dtypes.int64 if d is dtypes.bool_ else d
    if isinstance(value, numbers.Real):
        return d if d.is_floating_point else dtypes.get_default_dtype()
    raise TypeError(
        f"unsupported operand type {type(value).__name__}: expected a Tensor or a Python number"
    )


def as_tensor(value, like: Tensor) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if backend.is_array(value):
        return Tensor(value, device=like.device)
    if isinstance(value, backend.host_scalar_type):
        value = value.item()
    return scalar_tensor(value, like, _scalar_dtype(value, like))


def check_alpha(name: str, alpha):
    """The ``alpha`` of ``add``/``sub``: a real number (a bool counts, as in PyTorch)."""
    if alpha.__class__ is not float and not isinstance(alpha, numbers.Real):
        raise TypeError(f"{name}(): argument 'alpha' must be a number, not {type(alpha).__name__}")
    return alpha


def scaled(name: str, x: Tensor, other, alpha):
    """``other * alpha`` for ``add``/``sub``/``add_``/``sub_`` with an ``alpha``: a real number,
    and not a float when both operands are integers (PyTorch's rules)."""
    check_alpha(name, alpha)
    if isinstance(other, Tensor):
        other_float = other._data.dtype.kind == "f"
    elif isinstance(other, numbers.Real) or backend.is_array(other):
        other_float = backend.np_dtype_of(other).kind == "f"
    else:
        raise TypeError(
            f"{name}(): argument 'other' must be a Tensor or a number, not {type(other).__name__}"
        )
    float_alpha = alpha.__class__ is float or not isinstance(alpha, numbers.Integral)
    if (
        float_alpha
        and not other_float
        and not (isinstance(x, Tensor) and x._data.dtype.kind == "f")
    ):
        raise RuntimeError(
            f"{name}(): for integral input tensors, argument alpha must not be a floating point "
            f"number, got alpha={alpha!r}"
        )
    return other * alpha


def pair(a, b) -> tuple[Tensor, Tensor]:
    """Two operands as tensors of one dtype: numbers adopt the tensor's type, tensors promote."""
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            raise TypeError("at least one operand must be a Tensor")
        a = as_tensor(a, b)
    elif not isinstance(b, Tensor):
        b = as_tensor(b, a)
    da = a._data.dtype
    db = b._data.dtype
    if da != db:
        dt = dtypes.promote(dtypes.from_np(da), dtypes.from_np(db))
        same_category = dtypes.category(a.dtype) == dtypes.category(b.dtype)
        if a._data.ndim == 0 and b._data.ndim != 0 and same_category:
            dt = b.dtype  # a 0-d tensor does not widen a dimensioned one of its category
        elif b._data.ndim == 0 and a._data.ndim != 0 and same_category:
            dt = a.dtype
        if da != dt.np:
            a = a.to(dt)
        if db != dt.np:
            b = b.to(dt)
    return a, b


def check_broadcast(name: str, *shapes) -> None:
    """Raise a clear error if shapes do not broadcast (before any array code runs)."""
    ndim = builtins.max(len(s) for s in shapes)
    for i in range(1, ndim + 1):
        sizes = {s[-i] for s in shapes if len(s) >= i} - {1}
        if len(sizes) > 1:
            pretty = " and ".join(str(tuple(s)) for s in shapes)
            raise RuntimeError(
                f"{name}: shapes {pretty} do not broadcast: the size of dimension {-i} differs "
                f"({' vs '.join(str(s[-i]) if len(s) >= i else '-' for s in shapes)}); sizes "
                "must be equal or 1"
            )


def _binary(cls, a, b):
    a, b = pair(a, b)
    sa, sb = a._data.shape, b._data.shape
    if sa != sb and sa and sb:
        check_broadcast(cls.op_name, sa, sb)
    return cls.apply(a, b)


def _float_input(name: str, x: Tensor) -> Tensor:
    """Math ops on integer tensors compute in the default float type, as PyTorch does."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}() expects a Tensor, got {type(x).__name__}")
    if x._data.dtype.kind != "f":
        return x.to(dtypes.get_default_dtype())
    return x


# ---------------------------------------------------------------- arithmetic


@register("add")
class Add(Function):
    def forward(ctx, a, b):
        return a + b

    def backward(ctx, g):
        return g, g


@register("sub")
class Sub(Function):
    def forward(ctx, a, b):
        return a - b

    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


@register("mul")
class Mul(Function):
    def forward(ctx, a, b):
        na, nb = ctx.needs_input_grad
        ctx.save_for_backward(a if nb else None, b if na else None)
        return a * b

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        return (g * b if na else None), (g * a if nb else None)


@register("div")
class Div(Function):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with backend.ignore_float_warnings(ctx.xp, "divide", "invalid", "over"):  # x/0 is inf
            return a / b

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = g / b if na else None
        gb = -(g * a) / (b * b) if nb else None
        return ga, gb


@register("pow")
class Pow(Function):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with backend.ignore_float_warnings(ctx.xp, "divide", "invalid", "over"):  # (-1)**0.5
            return a**b

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = g * b * a ** (b - 1) if na else None
        gb = None
        if nb:
            # d/db a**b = a**b log a; PyTorch takes it as 0 where a == 0 (and b >= 0)
            safe = where(a == 0, 1, a)
            gb = where(a == 0, 0, g * a**b * log(safe))
        return ga, gb


@register("neg")
class Neg(Function):
    def forward(ctx, a):
        return -a

    def backward(ctx, g):
        return -g


def add(a, b):
    return _binary(Add, a, b)


def sub(a, b):
    for t in (a, b):
        if isinstance(t, Tensor) and t._data.dtype.kind == "b":
            raise RuntimeError(
                "Subtraction, the `-` operator, with a bool tensor is not supported. Use the "
                "`^` or `logical_xor()` operator instead (or `~` to invert a mask)."
            )
    return _binary(Sub, a, b)


def mul(a, b):
    return _binary(Mul, a, b)


def div(a, b):
    a, b = pair(a, b)
    if not a.dtype.is_floating_point:  # true division of integers gives floats
        a, b = a.to(dtypes.get_default_dtype()), b.to(dtypes.get_default_dtype())
    return _binary(Div, a, b)


def pow(a, b):
    a, b = pair(a, b)
    if a.dtype.is_floating_point:
        return _binary(Pow, a, b)
    if isinstance(b, Tensor) and (b._data < 0).any():
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return _binary(Pow, a, b)


def neg(a):
    if check_tensor("neg", a)._data.dtype.kind == "b":
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return Neg.apply(a)


# ---------------------------------------------------------------- unary math


@register("exp")
class Exp(Function):
    def forward(ctx, a):
        with backend.ignore_float_warnings(ctx.xp, "over"):  # exp(100) in float32 is inf
            out = ctx.xp.exp(a)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


@register("log")
class Log(Function):
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with backend.ignore_float_warnings(ctx.xp, "divide", "invalid"):  # log(0), log(-1)
            return ctx.xp.log(a)

    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / a


@register("sqrt")
class Sqrt(Function):
    def forward(ctx, a):
        with backend.ignore_float_warnings(ctx.xp, "invalid"):  # sqrt(-1) is nan
            out = ctx.xp.sqrt(a)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g / (2 * out)


@register("abs")
class Abs(Function):
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.abs(a)

    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * a.sign()


@register("sin")
class Sin(Function):
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with backend.ignore_float_warnings(ctx.xp, "invalid"):  # sin(inf) is nan
            return ctx.xp.sin(a)

    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * cos(a)


@register("cos")
class Cos(Function):
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with backend.ignore_float_warnings(ctx.xp, "invalid"):
            return ctx.xp.cos(a)

    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return -(g * sin(a))


def _times(t, g):
    """``t * g``, in place in the temporary ``t`` when the shapes allow."""
    if t.shape == g.shape:
        t *= g
        return t
    return t * g


@register("tanh")
class Tanh(Function):
    def forward(ctx, a):
        out = ctx.xp.tanh(a)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return TanhGrad.apply(g, out)


@register("tanh_grad")
class TanhGrad(Function):
    """``g * (1 - out**2)``: tanh's backward as one op (it runs on every backward pass)."""

    def forward(ctx, g, out):
        ctx.save_for_backward(g, out)
        return _times(1 - out * out, g)

    def backward(ctx, gg):
        g, out = ctx.saved_tensors
        ng, nout = ctx.needs_input_grad
        return (TanhGrad.apply(gg, out) if ng else None), (-2 * gg * g * out if nout else None)


@register("sigmoid")
class Sigmoid(Function):
    def forward(ctx, a):
        xp = ctx.xp
        # 1 / (1 + exp(-a)) overflows for very negative a; tanh form is stable everywhere
        out = xp.tanh(a * 0.5)
        out *= 0.5
        out += 0.5
        ctx.save_for_backward(out)
        return out

    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return SigmoidGrad.apply(g, out)


@register("sigmoid_grad")
class SigmoidGrad(Function):
    """``g * out * (1 - out)``: sigmoid's backward as one op."""

    def forward(ctx, g, out):
        ctx.save_for_backward(g, out)
        t = 1 - out
        t *= out
        return _times(t, g)

    def backward(ctx, gg):
        g, out = ctx.saved_tensors
        ng, nout = ctx.needs_input_grad
        return (
            SigmoidGrad.apply(gg, out) if ng else None,
            gg * g * (1 - 2 * out) if nout else None,
        )


@register("relu")
class Relu(Function):
    def forward(ctx, a):
        out = ctx.xp.maximum(a, 0)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return ReluGrad.apply(g, out)


@register("relu_grad")
class ReluGrad(Function):
    """``g`` where ``out > 0``, else 0: relu's backward as one op (linear in ``g``)."""

    def forward(ctx, g, out):
        ctx.save_for_backward(out)
        return g * (out > 0)

    def backward(ctx, gg):
        (out,) = ctx.saved_tensors
        return (ReluGrad.apply(gg, out) if ctx.needs_input_grad[0] else None), None


def _unary(cls):
    def fn(x):
        return cls.apply(_float_input(cls.op_name, x))

    fn.__name__ = cls.op_name
    fn.__doc__ = f"Elementwise {cls.op_name}."
    return fn


exp = _unary(Exp)
log = _unary(Log)
sqrt = _unary(Sqrt)
sin = _unary(Sin)
cos = _unary(Cos)
tanh = _unary(Tanh)
sigmoid = _unary(Sigmoid)


def abs(x):
    return Abs.apply(check_tensor("abs", x))


def relu(x):
    return Relu.apply(check_tensor("relu", x))


# ---------------------------------------------------------------- clamp, maximum, minimum, where


@register("clamp")
class Clamp(Function):
    def forward(ctx, a, lo=None, hi=None):
        ctx.save_for_backward(a)
        ctx.lo, ctx.hi = lo, hi
        with backend.ignore_float_warnings(ctx.xp, "over"):  # a bound beyond float16's range
            return ctx.xp.clip(a, lo, hi)

    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        keep = None
        if ctx.lo is not None:
            keep = a >= ctx.lo
        if ctx.hi is not None:
            keep = (a <= ctx.hi) if keep is None else keep & (a <= ctx.hi)
        return g if keep is None else where(keep, g, 0)


def clamp(x, min=None, max=None):
    check_tensor("clamp", x)
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must not be None")
    for name, v in (("min", min), ("max", max)):
        if v is not None and not isinstance(v, numbers.Real):
            if isinstance(v, Tensor):
                return _clamp_tensor(x, min, max)
            raise TypeError(f"clamp: {name} must be a number or a Tensor, got {type(v).__name__}")
    if not x.dtype.is_floating_point and builtins.any(
        v is not None and not isinstance(v, numbers.Integral) for v in (min, max)
    ):  # a float bound makes an integer tensor float (the default float type), as in PyTorch
        x = x.to(dtypes.get_default_dtype())
    if x._data.dtype.kind in "iu":
        info = x.xp.iinfo(x._data.dtype)
        for v in (min, max):
            if v is not None and not info.min <= v <= info.max:
                raise RuntimeError(
                    f"clamp: value {v} cannot be converted to type {x.dtype.name} without overflow"
                )
    return Clamp.apply(x, lo=min, hi=max)


def _clamp_tensor(x, lo, hi):
    if lo is not None:
        x = maximum(x, lo)
    if hi is not None:
        x = minimum(x, hi)
    return x


@register("maximum")
class Maximum(Function):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.maximum(a, b)

    def backward(ctx, g):
        # ties share the gradient equally, as in PyTorch
        a, b = ctx.saved_tensors
        half = where(a == b, g * 0.5, g)
        na, nb = ctx.needs_input_grad
        return (where(a < b, 0, half) if na else None), (where(a > b, 0, half) if nb else None)


@register("minimum")
class Minimum(Function):
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.minimum(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        half = where(a == b, g * 0.5, g)
        na, nb = ctx.needs_input_grad
        return (where(a > b, 0, half) if na else None), (where(a < b, 0, half) if nb else None)


def maximum(a, b):
    return _binary(Maximum, a, b)


def minimum(a, b):
    return _binary(Minimum, a, b)


@register("where")
class Where(Function):
    def forward(ctx, cond, a, b):
        ctx.cond = cond
        return ctx.xp.where(cond, a, b)

    def backward(ctx, g):
        cond = g._wrap(ctx.cond)
        _, na, nb = ctx.needs_input_grad
        zero = scalar_tensor(0, g)
        return (
            None,
            Where.apply(cond, g, zero) if na else None,
            Where.apply(cond, zero, g) if nb else None,
        )


def where(condition, input, other):
    """``input`` where ``condition`` holds, else ``other`` (numbers adopt the tensor's type)."""
    if not isinstance(condition, Tensor):
        raise TypeError(f"where: condition must be a bool Tensor, got {type(condition).__name__}")
    if condition.dtype is not dtypes.bool_:
        raise TypeError(f"where: condition must have dtype bool, got {condition.dtype}")
    for name, v in (("input", input), ("other", other)):
        if not isinstance(v, (Tensor, builtins.bool, numbers.Real)):
            raise TypeError(
                f"where(): argument '{name}' must be a Tensor or a number, not {type(v).__name__}"
            )
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        dt = dtypes.get_default_dtype()
        if all(isinstance(v, numbers.Integral) for v in (input, other)):
            dt = dtypes.int64
        input = scalar_tensor(input, condition, dt)
    input, other = pair(input, other)
    check_broadcast("where", condition.shape, input.shape, other.shape)
    return Where.apply(condition, input, other)
