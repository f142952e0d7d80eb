"""``linear``: ``x @ W.T + b`` as one op, for any number of leading dimensions of ``x``."""

from __future__ import annotations

from minigrad.autograd.function import Function, register
from minigrad.ops.linalg import MatMul, matmul
from minigrad.ops.movement import Permute
from minigrad.ops.reduce import Sum, sum_to
from minigrad.tensor import Tensor

_LEADING = [tuple(range(n - 1)) for n in range(9)]  # the axes before the last, per ndim


@register("linear")
class Linear(Function):
    """``x`` (..., in), ``weight`` (out, in), ``bias`` (out,) or None -> (..., out)."""

    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(
            x if ctx.needs_input_grad[1] else None, weight if ctx.needs_input_grad[0] else None
        )
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = gw = None
        if need_x:  # g @ W: (..., out) @ (out, in); a 1-d g goes through linear with W^T
            if g.ndim >= 2:
                gx = MatMul.apply(g, weight)
            else:
                gx = Linear.apply(g, Permute.apply(weight, dims=(1, 0)), None)
        if need_w:
            gw = LinearWeightGrad.apply(g, x)
        gb = None
        if need_b:  # the bias was broadcast over the leading dims
            gb = g if g.ndim == 1 else Sum.apply(g, axes=_LEADING[g.ndim], keepdim=False)
            if gb.shape != ctx._in_shapes[2]:  # a bias of shape (1,) or ()
                gb = sum_to(gb, ctx._in_shapes[2])
        return gx, gw, gb


@register("linear_weight_grad")
class LinearWeightGrad(Function):
    """``g^T x`` summed over every leading position: the weight gradient of ``linear``,
    g (..., out) and x (..., in) -> (out, in)."""

    def forward(ctx, g, x):
        ctx.save_for_backward(g, x)
        g2 = g.reshape(-1, g.shape[-1])  # (M, out)
        x2 = x.reshape(-1, x.shape[-1])  # (M, in)
        return g2.T @ x2

    def backward(ctx, ggw):
        g, x = ctx.saved_tensors
        need_g, need_x = ctx.needs_input_grad
        # d(g^T x) against g is x @ ggw^T = linear(x, ggw); against x it is g @ ggw
        gg = Linear.apply(x, ggw, None) if need_g else None
        gx = matmul(g, ggw) if need_x else None
        return gg, gx


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``: input (..., in_features), weight (out_features,
    in_features), bias (out_features,)."""
    if (  # the common case, checked in one go; anything else gets the detailed checks below
        type(input) is Tensor
        and isinstance(weight, Tensor)
        and (bias is None or isinstance(bias, Tensor))
    ):
        x, w = input._data, weight._data
        if (
            x.dtype.kind == "f"
            and w.dtype == x.dtype
            and w.ndim == 2
            and x.ndim
            and x.shape[-1] == w.shape[1]
            and weight._device is input._device
            and (
                bias is None
                or (
                    bias._data.dtype == x.dtype
                    and bias._data.shape == (w.shape[0],)
                    and bias._device is input._device
                )
            )
        ):
            return Linear.apply(input, weight, bias)
    for arg, t in (("input", input), ("weight", weight), ("bias", bias)):
        if t is None and arg == "bias":
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"linear(): {arg} must be a Tensor, got {type(t).__name__}")
        if not t.dtype.is_floating_point:
            raise TypeError(f"linear(): {arg} must be a floating point tensor, got {t.dtype}")
    if weight.ndim != 2:
        raise ValueError(
            f"linear(): weight must be 2-D (out_features, in_features), got shape "
            f"{tuple(weight.shape)}"
        )
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear(): input of shape {tuple(input.shape)} and weight of shape "
            f"{tuple(weight.shape)} cannot be multiplied: the input's last dimension must equal "
            f"in_features = weight.shape[1] = {weight.shape[1]}"
        )
    if bias is not None and tuple(bias.shape) not in ((weight.shape[0],), (1,), ()):
        raise ValueError(
            f"linear(): bias should have shape ({weight.shape[0]},) (out_features), got "
            f"{tuple(bias.shape)}"
        )
    dt = input._data.dtype
    if weight._data.dtype != dt or (bias is not None and bias._data.dtype != dt):
        got = ", ".join(str(t.dtype) for t in (input, weight, bias) if t is not None)
        raise TypeError(f"linear(): input, weight and bias must share one dtype, got {got}")
    if weight._device is not input._device or (
        bias is not None and bias._device is not input._device
    ):
        raise RuntimeError("linear(): input, weight and bias must be on the same device")
    return Linear.apply(input, weight, bias)
