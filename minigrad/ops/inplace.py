"""In-place ops (``add_``, ``mul_``, ``fill_``, ``copy_``, ``x[i] = v`` ...) and version counters.

Outside autograd they write straight into the array. When autograd is involved, the new value
is computed by the ordinary (out-of-place) op, written into the tensor's array, and the tensor
takes the op's node as its ``grad_fn``. Every in-place change bumps the tensor's version, so a
node that saved the old value refuses to run backward with the new one."""

from __future__ import annotations

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
    return t._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)


def _check_rebase(t: Tensor, op: str) -> None:
    if t.grad_fn is None and t._requires_grad:
        raise RuntimeError(
            f"a leaf Variable that requires grad is being used in an in-place operation "
            f"({op}). Wrap the update in `with minigrad.no_grad():`, or use an out-of-place op."
        )
    if t._base is not None:
        raise RuntimeError(
            f"{op}: in-place changes to a view (a slice, reshape or transpose of another "
            "tensor) are not tracked by autograd here; change the base tensor, use index "
            "assignment on it (base[i] = v), or use out-of-place ops"
        )


def _rebase(t: Tensor, op: str, compute) -> Tensor:
    """Run ``compute(old_value)`` out of place, write the result into ``t``, adopt its node."""
    _check_rebase(t, op)
    old = Tensor._make(t._data, t._device, t._requires_grad, t.grad_fn, [t._version[0]], None)
    out = compute(old)
    node = out.grad_fn
    saved = node.__dict__.get("_saved") if node is not None else None
    if saved and any(s is old for s in saved):
        old._data = t._data.copy()  # the node needs the value from before the change
    t._data[...] = out._data
    t.grad_fn = node
    t._requires_grad = out._requires_grad
    t._version[0] += 1
    return t


def _operand(t: Tensor, other, op: str) -> Tensor:
    """``other`` as a tensor that can be written into ``t`` (same dtype, broadcastable)."""
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
    shape = t.shape
    if o.shape != shape:
        E.check_broadcast(op, shape, o.shape)
        if len(o.shape) > len(shape) or any(
            b != 1 and a != b for a, b in zip(shape[::-1], o.shape[::-1])
        ):
            raise RuntimeError(
                f"{op}: output with shape {list(shape)} doesn't match the broadcast shape "
                f"{list(_broadcast_shape(shape, o.shape))}"
            )
    return o


def _broadcast_shape(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    return tuple(max(x, y) for x, y in zip(a, b))


def add_(t: Tensor, other, alpha=1) -> Tensor:
    o = _operand(t, other if alpha == 1 else E.mul(other, alpha), "add_")
    if _tracked(t, o):
        return _rebase(t, "add_", lambda old: E.add(old, o))
    t.xp.add(t._data, o._data, out=t._data)
    t._version[0] += 1
    return t


def mul_(t: Tensor, other) -> Tensor:
    o = _operand(t, other, "mul_")
    if _tracked(t, o):
        return _rebase(t, "mul_", lambda old: E.mul(old, o))
    t.xp.multiply(t._data, o._data, out=t._data)
    t._version[0] += 1
    return t


def div_(t: Tensor, other) -> Tensor:
    o = _operand(t, other, "div_")
    if not t.dtype.is_floating_point:
        raise RuntimeError(
            f"div_: result type Float can't be cast to the desired output type {t.dtype}"
        )
    if _tracked(t, o):
        return _rebase(t, "div_", lambda old: E.div(old, o))
    t.xp.divide(t._data, o._data, out=t._data)
    t._version[0] += 1
    return t


def clamp_(t: Tensor, min=None, max=None) -> Tensor:
    if _tracked(t):
        return _rebase(t, "clamp_", lambda old: E.clamp(old, min, max))
    t.xp.clip(t._data, min, max, out=t._data)
    t._version[0] += 1
    return t


def _everywhere(t: Tensor) -> Tensor:
    return t._wrap(t.xp.ones(t.shape, dtype=bool))


def fill_(t: Tensor, value) -> Tensor:
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(
            f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} "
            "dimensions."
        )
    if _tracked(t, value):
        v = _operand(t, value, "fill_")
        return _rebase(t, "fill_", lambda old: E.where(_everywhere(t), v, old))
    t._data.fill(value.item() if isinstance(value, Tensor) else value)
    t._version[0] += 1
    return t


def copy_(t: Tensor, src) -> Tensor:
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_: src must be a Tensor, got {type(src).__name__}")
    if src._device is not t._device:
        from minigrad.ops.movement import to_device

        src = to_device(src, t._device)
    if src.dtype is not t.dtype:
        src = src.to(t.dtype)
    if src.shape != t.shape:
        E.check_broadcast("copy_", t.shape, src.shape)
    if _tracked(t, src):
        return _rebase(t, "copy_", lambda old: E.where(_everywhere(t), src, old))
    t._data[...] = src._data
    t._version[0] += 1
    return t


def copy_random_(t: Tensor, kind: str, a: float, b: float) -> Tensor:
    """Fill with random numbers drawn on the host (the same numbers on every device)."""
    rng = backend.rng()
    if kind == "uniform":
        host = rng.uniform(a, b, size=t.shape)
    else:
        host = rng.normal(a, b, size=t.shape)
    src = t._wrap(backend.from_host(host.astype(t._data.dtype), t._device))
    with_grad = F._grad_enabled and t._requires_grad
    if with_grad:
        _check_rebase(t, f"{kind}_")
    t._data[...] = src._data
    t._version[0] += 1
    return t


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
    if _tracked(t, v):
        _rebase(t, "index assignment", lambda old: IndexPut.apply(old, v, key=key))
        return
    t._data[key] = v._data
    t._version[0] += 1
