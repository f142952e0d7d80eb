"""In-place ops (``add_``, ``mul_``, ``fill_``, ``copy_``, ``x[i] = v`` ...) and version counters.

Outside autograd they write straight into the array. When autograd is involved, the new value
is computed by the ordinary (out-of-place) op, written into the tensor's array, and the tensor
takes the op's node as its ``grad_fn``. Every in-place change bumps the tensor's version, so a
node that saved the old value refuses to run backward with the new one."""

from __future__ import annotations

import math
import numbers

from minigrad import backend, dtypes
from minigrad.autograd import function as F
from minigrad.autograd.function import Function, register
from minigrad.ops import elementwise as E
from minigrad.ops.movement import Index, Slice, index_key
from minigrad.tensor import Tensor


def _tracked(t: Tensor, *others) -> bool:
    if not F._grad_enabled:
        return False
    if t._requires_grad or (t._base is not None and t._base._requires_grad):
        return True
    return any(isinstance(o, Tensor) and o._requires_grad for o in others)


def _check_rebase(t: Tensor, op: str) -> None:
    if t.grad_fn is None and t._requires_grad:
        raise RuntimeError(
            f"a leaf Variable that requires grad is being used in an in-place operation "
            f"({op}). Wrap the update in `with minigrad.no_grad():`, or use an out-of-place op."
        )
    base = t._base
    if base is None:
        return
    if base.grad_fn is None and base._requires_grad:
        raise RuntimeError(
            f"a view of a leaf Variable that requires grad is being used in an in-place "
            f"operation ({op}). Wrap the update in `with minigrad.no_grad():`, or change a "
            "clone of it."
        )
    if t._view_fn is None:
        raise RuntimeError(
            f"{op}: a view created in no_grad mode is being modified in place with grad mode "
            "on, so autograd cannot follow the change; create the view with grad mode on, or "
            "make the change under no_grad()"
        )


def _rebase(t: Tensor, op: str, compute) -> Tensor:
    """Run ``compute(old_value)`` out of place, write the result into ``t``, adopt its node."""
    _check_rebase(t, op)
    if t._base is not None:
        return _rebase_view(t, compute)
    old = Tensor._make(t._data, t._device, t._requires_grad, t.grad_fn, [t._version[0]], None)
    out = compute(old)
    _keep_old_value(out, old, t)
    t._data[...] = out._data
    t.grad_fn = out.grad_fn
    t._requires_grad = out._requires_grad
    t._version[0] += 1
    return t


def _keep_old_value(out: Tensor, old: Tensor, t: Tensor) -> None:
    """If ``out``'s node saved ``old`` (which shares ``t``'s array), give it the value from
    before the change."""
    node = out.grad_fn
    saved = node.__dict__.get("_saved") if node is not None else None
    if saved and any(s is old for s in saved):
        old._data = t._data.copy()


def _rebase_view(t: Tensor, compute) -> Tensor:
    """An in-place change through a view: the base takes a node that writes the new values into
    the view's region (a copy of it, in its backward, for every other element), and the view and
    every other view of the base then rebuild their nodes from it, as in PyTorch."""
    base = t._base
    if t._view_version != t._version[0]:
        F.refresh_view(t)
    old = Tensor._make(t._data, t._device, t._requires_grad, t.grad_fn, [t._version[0]], None)
    out = compute(old)
    _keep_old_value(out, old, t)
    whole = Tensor._make(
        base._data, base._device, base._requires_grad, base.grad_fn, [base._version[0]], None
    )
    new = ViewWrite.apply(whole, out, chain=t._view_fn, in_place=True)
    base.grad_fn = new.grad_fn
    base._requires_grad = new._requires_grad
    base._version[0] += 1  # shared with every view of it
    F.refresh_view(t)
    return t


@register("view_write")
class ViewWrite(Function):
    """``a`` with ``v`` written into the view of ``a`` that ``chain`` selects (view ops with
    their options, applied in turn): the node an in-place change through a view leaves on its
    base. With ``in_place`` the values are written into ``a``'s own array."""

    def forward(ctx, a, v, chain, in_place=False):
        ctx.chain = chain
        out = a if in_place else a.copy()
        F.view_of(ctx.xp, out, chain)[...] = v
        return out

    def backward(ctx, g):
        na, nv = ctx.needs_input_grad
        ga = ViewWrite.apply(g, E.scalar_tensor(0, g), chain=ctx.chain) if na else None
        gv = None
        if nv:
            gv = g
            for cls, kwargs in ctx.chain:
                gv = cls.apply(gv, **kwargs)
        return ga, gv


def _write(t: Tensor, op: str, write) -> Tensor:
    """Change ``t``'s array outside autograd with ``write()`` and bump its version; in anomaly
    mode, an in-place op that leaves the tensor non-finite raises, naming it."""
    if not F._anomaly_enabled:
        write()
        t._version[0] += 1
        return t
    from minigrad.autograd import anomaly

    was_bad = anomaly.bad_kind(t.xp, t._data) is not None
    write()
    t._version[0] += 1
    anomaly.after_inplace(op, t, was_bad)
    return t


def _check_writable(t: Tensor, op: str) -> None:
    """Refuse writing into a broadcast view (``expand``), where several elements are one."""
    a = t._data
    if any(st == 0 and n > 1 for st, n in zip(a.strides, a.shape)):
        raise RuntimeError(
            f"{op}: unsupported operation: more than one element of the written-to tensor "
            f"(shape {tuple(a.shape)}, expanded from a smaller one) refers to a single memory "
            "location. Please clone() the tensor before performing the operation."
        )


def _operand(t: Tensor, other, op: str) -> Tensor:
    """``other`` as a tensor that can be written into ``t`` (same dtype, broadcastable)."""
    _check_writable(t, op)
    o = E.as_tensor(other, t)
    if o._device is not t._device:
        raise RuntimeError(
            f"{op}: expected all tensors to be on the same device, but found {t._device} and "
            f"{o._device}"
        )
    if o._data.dtype != t._data.dtype:
        if dtypes.category(o.dtype) > dtypes.category(t.dtype):
            raise RuntimeError(
                f"{op}: result type {o.dtype} can't be cast to the desired output type {t.dtype}"
            )
        o = o.to(t.dtype)
    if o.shape != t.shape:
        _check_into(op, t.shape, o.shape)
    return o


def _check_into(op: str, shape: tuple, other: tuple) -> None:
    """An operand of shape ``other`` must broadcast to the written tensor's ``shape`` itself."""
    E.check_broadcast(op, shape, other)
    if not _broadcasts_into(other, shape):
        raise RuntimeError(
            f"{op}: output with shape {list(shape)} doesn't match the broadcast shape "
            f"{list(_broadcast_shape(shape, other))}"
        )


def _broadcast_shape(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    return tuple(max(x, y) for x, y in zip(a, b))


def add_(t: Tensor, other, alpha=1, name: str = "add_") -> Tensor:
    """``t += other * alpha`` (``name`` is ``sub_`` for ``t -= other * alpha``)."""
    if name == "sub_":
        other = E.scaled(name, t, other, -E.check_alpha(name, alpha))
    elif alpha.__class__ is not int or alpha != 1:
        other = E.scaled(name, t, other, alpha)
    o = _operand(t, other, name)
    if _tracked(t, o):
        return _rebase(t, name, lambda old: E.add(old, o))
    return _write(t, name, lambda: t.xp.add(t._data, o._data, out=t._data))


def mul_(t: Tensor, other) -> Tensor:
    o = _operand(t, other, "mul_")
    if _tracked(t, o):
        return _rebase(t, "mul_", lambda old: E.mul(old, o))
    return _write(t, "mul_", lambda: t.xp.multiply(t._data, o._data, out=t._data))


def div_(t: Tensor, other) -> Tensor:
    o = _operand(t, other, "div_")
    if not t.dtype.is_floating_point:
        raise RuntimeError(
            f"div_: result type Float can't be cast to the desired output type {t.dtype}"
        )
    if _tracked(t, o):
        return _rebase(t, "div_", lambda old: E.div(old, o))

    def divide():
        with backend.ignore_float_warnings(t.xp, "divide", "invalid"):  # x/0: silent, as PyTorch
            t.xp.divide(t._data, o._data, out=t._data)

    return _write(t, "div_", divide)


def clamp_(t: Tensor, min=None, max=None) -> Tensor:
    _check_writable(t, "clamp_")
    numbers_only = min.__class__ in _NUMBER_TYPES and max.__class__ in _NUMBER_TYPES
    if numbers_only and t._data.dtype.kind == "f" and not _tracked(t):
        if min is None and max is None:
            E.clamp(t, min, max)  # raises its error for no bounds

        def clip():
            with backend.ignore_float_warnings(t.xp, "over"):  # a bound beyond float16's range
                t.xp.clip(t._data, min, max, out=t._data)

        return _write(t, "clamp_", clip)
    # bounds that are tensors, integer tensors, autograd: the checked out-of-place clamp,
    # whose result must fit t's dtype (an integer tensor cannot take a float bound)
    if _tracked(t, min, max):
        return _rebase(t, "clamp_", lambda old: _operand(t, E.clamp(old, min, max), "clamp_"))
    o = _operand(t, E.clamp(t.detach(), min, max), "clamp_")
    return _write(t, "clamp_", lambda: t._data.__setitem__(Ellipsis, o._data))


_NUMBER_TYPES = (int, float, type(None))


def _everywhere(t: Tensor) -> Tensor:
    return t._wrap(t.xp.ones(t.shape, dtype=bool))


def fill_(t: Tensor, value) -> Tensor:
    _check_writable(t, "fill_")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(
            f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} "
            "dimensions."
        )
    if _tracked(t, value):
        v = _operand(t, value, "fill_")
        return _rebase(t, "fill_", lambda old: E.where(_everywhere(t), v, old))
    if value.__class__ not in _FILL_TYPES:
        value = _fill_value(t, value)

    def fill():
        try:
            t._data.fill(value)
        except (OverflowError, TypeError, ValueError):  # nan into an int, 300 into uint8 ...
            raise RuntimeError(
                f"fill_(): value {value!r} cannot be converted to type {t.dtype.name} without "
                "overflow"
            ) from None

    return _write(t, "fill_", fill)


_FILL_TYPES = (int, float, bool)


def _fill_value(t: Tensor, value):
    """A fill value that is not a Python int, float or bool: a 0-d tensor or a NumPy scalar
    (as their Python number), a real number; a complex one fits no real dtype."""
    if isinstance(value, (Tensor, backend.host_scalar_type)):
        value = value.item()
    if isinstance(value, complex):
        raise RuntimeError(
            f"fill_(): value {value!r} cannot be converted to type {t.dtype.name} without overflow"
        )
    if not isinstance(value, numbers.Real):
        raise TypeError(
            f"fill_(): argument 'value' must be a number or a 0-d Tensor, not "
            f"{type(value).__name__}"
        )
    return value


def copy_(t: Tensor, src) -> Tensor:
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_: src must be a Tensor, got {type(src).__name__}")
    _check_writable(t, "copy_")
    if src._device is not t._device:
        from minigrad.ops.movement import to_device

        src = to_device(src, t._device)
    if src.dtype is not t.dtype:
        src = src.to(t.dtype)
    if src.shape != t.shape:
        _check_into("copy_", t.shape, src.shape)
    if _tracked(t, src):
        return _rebase(t, "copy_", lambda old: E.where(_everywhere(t), src, old))
    return _write(t, "copy_", lambda: t._data.__setitem__(Ellipsis, src._data))


def copy_random_(t: Tensor, kind: str, a: float, b: float) -> Tensor:
    """Fill with random numbers drawn on the host (the same numbers on every device)."""
    name = f"{kind}_"
    _check_writable(t, name)
    first, second = ("from", "to") if kind == "uniform" else ("mean", "std")
    a, b = _random_arg(name, first, a), _random_arg(name, second, b)
    if kind == "uniform":
        for arg, v in ((first, a), (second, b)):
            if not math.isfinite(v):
                raise RuntimeError(f"{name}: {arg} is out of bounds for {t.dtype.name}, got {v}")
        if a > b:
            raise RuntimeError(
                f"{name} expects to return a [from, to) range, but found from={a} > to={b}"
            )
        if not math.isfinite(b - a):
            raise RuntimeError(f"{name}: the range [{a}, {b}) is too wide (to - from overflows)")
    elif not b >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {b}")
    else:
        b += 0.0  # -0.0 is a valid std (NumPy refuses its sign bit)
    if not t.dtype.is_floating_point:
        raise RuntimeError(
            f"{name}: not implemented for {t.dtype} tensors (a float dtype is needed)"
        )
    rng = backend.rng()
    with backend.ignore_float_warnings(backend.host, "over", "invalid"):  # inf mean or std
        if kind == "uniform":
            host = rng.uniform(a, b, size=t.shape)
        else:
            host = rng.normal(a, b, size=t.shape)
        host = host.astype(t._data.dtype)  # float16 may overflow to inf, as in PyTorch
    src = t._wrap(backend.from_host(host, t._device))
    with_grad = F._grad_enabled and t._requires_grad
    if with_grad:
        _check_rebase(t, f"{kind}_")
    t._data[...] = src._data
    t._version[0] += 1
    return t


def _random_arg(name: str, arg: str, value) -> float:
    """A bound or moment of a random fill: a real number (or a one-element tensor)."""
    if isinstance(value, Tensor) and value.numel() == 1:
        value = value.item()
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{name}(): argument '{arg}' must be a float, not {type(value).__name__}")
    return float(value)


# ---------------------------------------------------------------- index assignment


@register("index_put")
class IndexPut(Function):
    """``a`` with ``a[key] = v``, out of place."""

    def forward(ctx, a, v, key):
        ctx.key, ctx.v_shape = key, v.shape
        ctx.advanced = any(
            not isinstance(k, (int, slice)) and k is not None and k is not Ellipsis for k in key
        )
        out = a.copy()
        out[key] = v
        return out

    def backward(ctx, g):
        na, nv = ctx.needs_input_grad
        ga = IndexPut.apply(g, E.scalar_tensor(0, g), key=ctx.key) if na else None
        gv = None
        if nv:
            gv = (Index if ctx.advanced else Slice).apply(g, key=ctx.key)
            extra = len(ctx.v_shape) - gv.ndim
            if extra > 0:  # a value with leading 1-dims was written into fewer dims
                gv = gv.reshape((1,) * extra + gv.shape)
        return ga, gv


def setitem(t: Tensor, key, value) -> None:
    _check_writable(t, "index assignment")
    key, _ = index_key(t, key)
    if isinstance(value, Tensor):
        v = value
        if v._device is not t._device:
            raise RuntimeError(
                f"index assignment: value is on {v._device} but the tensor is on {t._device}"
            )
        if v.dtype is not t.dtype:
            v = v.to(t.dtype)
    elif isinstance(value, numbers.Number):
        v = E.scalar_tensor(value, t)
    else:
        v = Tensor(value, dtype=t.dtype, device=t._device)
    try:
        if _tracked(t, v):
            _rebase(t, "index assignment", lambda old: IndexPut.apply(old, v, key=key))
            return
        _write(t, "index assignment", lambda: t._data.__setitem__(key, v._data))
    except ValueError:  # NumPy's broadcast failure: say it as PyTorch does (error path only)
        target = tuple(t._data[key].shape)
        if _broadcasts_into(v.shape, target):
            raise
        raise RuntimeError(
            f"index assignment: shape mismatch: value tensor of shape {list(v.shape)} cannot be "
            f"broadcast to indexing result of shape {list(target)}"
        ) from None


def _broadcasts_into(shape: tuple, target: tuple) -> bool:
    """Whether an array of ``shape`` broadcasts to exactly ``target``."""
    if len(shape) > len(target):
        return False
    return all(a == 1 or a == b for a, b in zip(shape[::-1], target[::-1]))
