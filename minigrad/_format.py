"""``repr`` of a tensor in PyTorch's style: ``tensor([1.0000, 2.5000], requires_grad=True)``."""

from __future__ import annotations

from minigrad import backend, dtypes

_DEFAULT_INT = dtypes.int64


def _float_formatter(values):
    """One number format for the whole tensor, chosen as PyTorch does."""
    h = backend.host
    finite = values[h.isfinite(values)]
    if finite.size == 0:
        return lambda v: _special(v) or f"{v:.4f}"
    absmax = float(h.abs(finite).max())
    nonzero = h.abs(finite[finite != 0])
    absmin = float(nonzero.min()) if nonzero.size else 0.0
    integral = bool(h.all(finite == h.round(finite)))
    wide = absmax > 1e8 or bool(absmin and absmax / absmin > 1e3)  # PyTorch's rule
    if integral and not wide:
        width = max(len(f"{v:.0f}.") for v in (finite.max(), finite.min()))
        return lambda v: (_special(v) or f"{v:.0f}.").rjust(width)
    if wide or (absmin and absmin < 1e-4):
        return lambda v: _special(v) or f"{v:.4e}"
    width = max(len(f"{v:.4f}") for v in (finite.max(), finite.min()))
    return lambda v: (_special(v) or f"{v:.4f}").rjust(width)


def _special(v):
    if v != v:
        return "nan"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    return None


def _body(values, dt) -> str:
    h = backend.host
    if dt.is_floating_point:
        fmt = _float_formatter(values.astype(h.float64))
        formatter = {"float_kind": lambda v: fmt(float(v))}
    elif dt is dtypes.bool_:
        width = 5 if not h.all(values) else 4
        formatter = {"bool": lambda v: ("True" if v else "False").rjust(width)}
    else:
        ends = (values.max(), values.min()) if values.size else ()
        width = max((len(str(int(v))) for v in ends), default=1)
        formatter = {"int": lambda v: str(int(v)).rjust(width)}
    text = h.array2string(
        values,
        separator=", ",
        prefix="tensor(",
        formatter=formatter,
        threshold=1000,
        edgeitems=3,
        max_line_width=80,
    )
    return text.replace(", ...,", ",  ...,")  # PyTorch's spacing around the summary


def tensor_repr(t) -> str:
    values = backend.to_host(t._data)
    dt = t.dtype
    body = _body(values, dt)
    extras = []
    if t.device.type != "cpu":
        extras.append(f"device='{t.device}'")
    show_dtype = (dt.is_floating_point and dt is not dtypes.get_default_dtype()) or (
        not dt.is_floating_point and dt is not _DEFAULT_INT and dt is not dtypes.bool_
    )
    if values.size == 0:
        body = "[]"
        if values.ndim != 1:
            extras.append(f"size={tuple(values.shape)}")
        show_dtype = dt is not dtypes.get_default_dtype()  # an empty tensor always says
    if show_dtype:
        extras.append(f"dtype={dt}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn={t.grad_fn!r}")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + ", ".join([body] + extras) + ")"
