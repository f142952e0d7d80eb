"""``gradcheck`` and ``gradgradcheck``: compare autograd's Jacobians with central differences.

Semantics follow PyTorch: inputs should be float64; a mismatch raises ``GradcheckError`` naming
the worst element (which input, which element, numerical vs analytical). Also checked: a zero
upstream gradient gives zero gradients, and gradients match their inputs' shape, dtype, device."""

from __future__ import annotations

import warnings

from minigrad import backend, dtypes
from minigrad.autograd.engine import run_backward


class GradcheckError(RuntimeError):
    """Raised when analytical and numerical gradients disagree."""


def _tensor_cls():
    from minigrad.tensor import Tensor

    return Tensor


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _float_outputs(out) -> list:
    Tensor = _tensor_cls()
    return [o for o in _as_tuple(out) if isinstance(o, Tensor) and o.dtype.is_floating_point]


def _host(t) -> object:
    """A float64 host copy of a tensor's values, flattened."""
    return backend.to_host(t._data).astype("float64").ravel()


def _unravel(k: int, shape: tuple) -> tuple:
    idx = []
    for n in reversed(shape):
        k, r = divmod(k, n)
        idx.append(r)
    return tuple(reversed(idx))


def _fail(msg: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


def _evaluate(func, inputs) -> list:
    # grad mode stays on: gradgradcheck's func runs a backward pass inside
    return [_host(o) for o in _float_outputs(func(*inputs))]


def _grads(outputs, inputs, grad_outputs):
    """Gradients of ``outputs`` wrt ``inputs`` (None where unused), graph kept for reuse."""
    live = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not live:
        return [None] * len(inputs)
    return run_backward(
        [o for o, _ in live], [g for _, g in live], True, False, inputs, allow_unused=True
    )


def _check_grad_meta(grads, inputs, idx, raise_exception) -> bool:
    for g, x, i in zip(grads, inputs, idx):
        if g is None:
            continue
        if g.shape != x.shape or g.dtype is not x.dtype or g.device != x.device:
            return _fail(
                f"gradient for input {i} has shape {tuple(g.shape)}, dtype {g.dtype}, device "
                f"{g.device}; the input has shape {tuple(x.shape)}, dtype {x.dtype}, device "
                f"{x.device}",
                raise_exception,
            )
    return True


def _compare(a, n, atol, rtol):
    """Return (ok, worst position) for host arrays ``a`` (analytical) and ``n`` (numerical)."""
    h = backend.host
    excess = h.abs(a - n) - (atol + rtol * h.abs(n))
    if excess.size == 0 or not h.any(excess > 0) and h.all(h.isfinite(a) == h.isfinite(n)):
        return True, None
    bad = h.where(h.isfinite(excess), excess, h.inf)
    return False, int(h.argmax(bad))


def gradcheck(
    func,
    inputs,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    fast_mode: bool = False,
    check_undefined_grad: bool = True,
) -> bool:
    """Check the gradients of ``func`` at ``inputs`` against central finite differences."""
    Tensor = _tensor_cls()
    inputs = _as_tuple(inputs)
    idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    for i in idx:
        if inputs[i].dtype is not dtypes.float64:
            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point "
                f"({inputs[i].dtype}); gradcheck is only reliable in float64",
                stacklevel=2,
            )
    diff_inputs = [inputs[i] for i in idx]
    outputs = _float_outputs(func(*inputs))
    if not outputs:
        raise ValueError("gradcheck: func returned no floating point tensor")

    if check_undefined_grad:
        zeros = [o._wrap(o.xp.zeros_like(o._data)) for o in outputs]
        for g, i in zip(_grads(outputs, diff_inputs, zeros), idx):
            if g is not None and bool(g.xp.any(g._data != 0)):
                return _fail(
                    f"backward with a zero upstream gradient gave a nonzero gradient for input {i}",
                    raise_exception,
                )
    if fast_mode:
        return _fast_check(func, inputs, idx, outputs, eps, atol, rtol, raise_exception)

    for o_pos, out in enumerate(outputs):
        n_out = out.numel()
        analytical = [backend.host.zeros((n_out, x.numel())) for x in diff_inputs]
        for k in range(n_out):
            go = out.xp.zeros(out.shape, dtype=out._data.dtype)
            go[_unravel(k, out.shape)] = 1
            grads = _grads([out], diff_inputs, [out._wrap(go)])
            if not _check_grad_meta(grads, diff_inputs, idx, raise_exception):
                return False
            for col, g in zip(analytical, grads):
                if g is not None:
                    col[k] = _host(g)
        for x_pos, (x, a) in enumerate(zip(diff_inputs, analytical)):
            if x.numel() == 0 or n_out == 0:
                continue
            n = _numerical_column(func, inputs, x, o_pos, eps)
            ok, worst = _compare(a, n, atol, rtol)
            if not ok:
                r, c = divmod(worst, x.numel())
                return _fail(
                    f"Jacobian mismatch for output {o_pos} with respect to input {idx[x_pos]}: "
                    f"worst at input element {_unravel(c, x.shape)} -> output element "
                    f"{_unravel(r, out.shape)}: numerical {n.ravel()[worst]:.8g} vs analytical "
                    f"{a.ravel()[worst]:.8g}\nnumerical:\n{n.reshape(a.shape)}\n"
                    f"analytical:\n{a}",
                    raise_exception,
                )
    return True


def _numerical_column(func, inputs, x, o_pos, eps):
    """d output[o_pos] / d x by central differences, shaped (output numel, x numel)."""
    h = backend.host
    data = x._data
    cols = []
    for j in range(x.numel()):
        pos = _unravel(j, x.shape)
        orig = data[pos].item()
        data[pos] = orig + eps
        plus = _evaluate(func, inputs)[o_pos]
        data[pos] = orig - eps
        minus = _evaluate(func, inputs)[o_pos]
        data[pos] = orig
        cols.append((plus - minus) / (2 * eps))
    if not cols:
        return h.zeros((0, 0))
    return h.stack(cols, axis=1)


def _fast_check(func, inputs, idx, outputs, eps, atol, rtol, raise_exception):
    """Compare v^T J u for random u (inputs) and v (outputs) instead of whole Jacobians."""
    h = backend.host
    rng = h.random.default_rng(0)
    diff_inputs = [inputs[i] for i in idx]
    us = [rng.standard_normal(x.shape) for x in diff_inputs]
    vs = [rng.standard_normal(o.shape) for o in outputs]
    go = [
        o._wrap(backend.from_host(v.astype(o._data.dtype), o.device)) for o, v in zip(outputs, vs)
    ]
    grads = _grads(outputs, diff_inputs, go)
    if not _check_grad_meta(grads, diff_inputs, idx, raise_exception):
        return False
    analytical = sum(
        float((_host(g) * u.ravel()).sum()) for g, u in zip(grads, us) if g is not None
    )
    originals = [x._data.copy() for x in diff_inputs]

    def shifted(sign):
        for x, u, o in zip(diff_inputs, us, originals):
            x._data[...] = o + backend.from_host((sign * eps * u).astype(o.dtype), x.device)
        return _evaluate(func, inputs)

    plus, minus = shifted(1), shifted(-1)
    for x, o in zip(diff_inputs, originals):
        x._data[...] = o
    numerical = sum(
        float(((p - m) / (2 * eps) * v.ravel()).sum()) for p, m, v in zip(plus, minus, vs)
    )
    if abs(analytical - numerical) > atol + rtol * abs(numerical):
        return _fail(
            f"Jacobian mismatch (fast mode, v^T J u for random u, v): numerical {numerical:.8g} "
            f"vs analytical {analytical:.8g}",
            raise_exception,
        )
    return True


def gradgradcheck(
    func,
    inputs,
    grad_outputs=None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    fast_mode: bool = False,
) -> bool:
    """gradcheck of the gradient: checks that backward is itself correctly differentiable."""
    Tensor = _tensor_cls()
    inputs = _as_tuple(inputs)
    outputs = _float_outputs(func(*inputs))
    if grad_outputs is None:
        rng = backend.host.random.default_rng(1)
        grad_outputs = tuple(
            Tensor._make(
                backend.from_host(rng.standard_normal(o.shape).astype(o._data.dtype), o.device),
                o.device,
                False,
                None,
                None,
                None,
            ).requires_grad_()
            for o in outputs
        )
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def first_order(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = _float_outputs(func(*ins))
        wrt = [t for t in ins if isinstance(t, Tensor) and t.requires_grad]
        live = [(o, g) for o, g in zip(outs, gos) if o.requires_grad]
        grads = run_backward(
            [o for o, _ in live], [g for _, g in live], True, True, wrt, allow_unused=True
        )
        return tuple(g for g in grads if g is not None)

    return gradcheck(
        first_order,
        inputs + grad_outputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
        fast_mode=fast_mode,
    )
