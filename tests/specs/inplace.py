"""Test specs of the ops behind in-place changes made through views."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.specs.base import Spec, shape


def _view(p, y):
    """The view of ``y`` that the spec changes in place (the same code in both libraries)."""
    kind = p["kind"]
    if kind == "slice":
        return y[p["start"] : p["stop"]]
    if kind == "transpose":
        return y.transpose(0, -1)[p["start"] : p["stop"]]
    return y.reshape(-1)[p["start"] : p["stop"]]  # "flat": a reshape, then a slice


def _view_write(m, p, x, w):
    y = x * 1  # a non-leaf, so the in-place change is recorded
    if p["kind"] == "flat":
        y = y.contiguous()  # whether reshape gives a view depends on the strides
    v = _view(p, y)
    if p["op"] == "mul_":
        v.mul_(w)
    else:
        v.add_(w * w)
    return y * x  # y is used after the change: its gradient flows through the new node


def _view_write_draw(data):
    s = shape(data, min_dims=1)
    kind = data.draw(st.sampled_from(["slice", "transpose", "flat"]))
    lead = {"slice": s[0], "transpose": s[-1], "flat": 1}[kind]
    if kind == "flat":
        lead = 1
        for n in s:
            lead *= n
    start = data.draw(st.integers(0, lead - 1))
    stop = data.draw(st.integers(start + 1, lead))
    if kind == "slice":
        view_shape = (stop - start,) + s[1:]
    elif kind == "transpose":
        rest = s[1:-1] + (s[0],) if len(s) > 1 else ()
        view_shape = (stop - start,) + rest
    else:
        view_shape = (stop - start,)
    op = data.draw(st.sampled_from(["mul_", "add_"]))
    return [s, view_shape], {"kind": kind, "start": start, "stop": stop, "op": op}


SPECS = {
    "view_write": Spec(_view_write, _view_write_draw),
}
