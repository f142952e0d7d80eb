"""Convolutions: ``conv1d``, ``conv2d`` and ``conv_transpose2d`` with PyTorch's arguments, and the
three ops they run on (``conv2d``, ``conv_transpose2d``, ``conv2d_weight``), each of which is
differentiated by the other two, so gradients of any order work."""

from __future__ import annotations

import numbers

from minigrad.autograd.function import Function, register
from minigrad.ops import conv_kernels as K
from minigrad.ops.movement import Reshape, check_size
from minigrad.tensor import Tensor

# ---------------------------------------------------------------- the three ops

# conv2d keeps its im2col buffers up to this size for the weight gradient, which then skips
# rebuilding them. They are a copy of the saved input rearranged, not a value backward
# differentiates through, so double backward is unaffected.
KEEP_COLS_BYTES = 32 << 20


@register("conv2d")
class Conv2d(Function):
    """``y = conv(x, w) + b`` for ``x (N, C, H, W)``, ``w (O, C/groups, kh, kw)``, ``b (O,)`` or
    None; ``geom`` (a ``Geometry``) holds sizes, stride, padding, dilation and groups."""

    def forward(ctx, x, w, b, geom):
        ctx.geom = geom
        ctx.save_for_backward(x, w)
        if not (ctx.needs_input_grad[1] and K.im2col_bytes(x, geom) <= KEEP_COLS_BYTES):
            return K.conv2d(ctx.xp, x, w, b, geom)
        y, ctx.cols = K.conv2d(ctx.xp, x, w, b, geom, keep_cols=True)
        return y

    def backward(ctx, g):
        x, w = ctx.saved_tensors  # checks first that x was not modified in place
        nx, nw, nb = ctx.needs_input_grad
        geom = ctx.geom
        cols = ctx.__dict__.pop("cols", None)  # used once, then freed like the saved tensors
        gx = ConvTranspose2d.apply(g, w, None, geom=geom) if nx else None
        gw = Conv2dWeight.apply(x, g, geom=geom, cols=cols) if nw else None
        return gx, gw, (g.sum((0, 2, 3)) if nb else None)


@register("conv_transpose2d")
class ConvTranspose2d(Function):
    """The transpose of ``conv2d`` in ``x``: ``y (N, O, oh, ow)`` and ``w (O, C/groups, kh, kw)``
    give ``(N, C, H, W)``, plus ``b (C,)``. It is also ``conv2d``'s input gradient."""

    def forward(ctx, y, w, b, geom):
        ctx.geom = geom
        ctx.save_for_backward(y, w)
        return K.conv_transpose2d(ctx.xp, y, w, b, geom)

    def backward(ctx, gg):
        y, w = ctx.saved_tensors
        ny, nw, nb = ctx.needs_input_grad
        geom = ctx.geom
        gy = Conv2d.apply(gg, w, None, geom=geom) if ny else None
        gw = Conv2dWeight.apply(gg, y, geom=geom) if nw else None
        return gy, gw, (gg.sum((0, 2, 3)) if nb else None)


@register("conv2d_weight")
class Conv2dWeight(Function):
    """``conv2d``'s weight gradient, ``(x (N, C, H, W), g (N, O, oh, ow)) -> (O, C/groups, kh,
    kw)``: bilinear, so its gradients are a transposed convolution (in ``x``) and a convolution
    (in ``g``) with the incoming weight-shaped gradient as the kernel."""

    def forward(ctx, x, g, geom, cols=None):
        ctx.geom = geom
        ctx.save_for_backward(x, g)
        shape = (g.shape[1], x.shape[1] // geom.groups) + geom.kernel
        return K.conv2d_weight(ctx.xp, x, g, geom, shape, cols)

    def backward(ctx, ggw):
        x, g = ctx.saved_tensors
        nx, ng = ctx.needs_input_grad
        geom = ctx.geom
        gx = ConvTranspose2d.apply(g, ggw, None, geom=geom) if nx else None
        gg = Conv2d.apply(x, ggw, None, geom=geom) if ng else None
        return gx, gg


# ---------------------------------------------------------------- argument checking


def int_tuple(name: str, arg: str, value, n: int, what: str = "convolution") -> tuple:
    """An int or a sequence of ``n`` (or 1) ints as an ``n``-tuple of ints."""
    items = value if isinstance(value, (tuple, list)) else (value,)
    ok = len(items) in (1, n) and all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in items
    )
    if not ok:
        raise TypeError(
            f"{name}: expected {arg} to be a single integer or a list of {n} integers to match "
            f"the {what} dimensions, but got {arg}={value!r}"
        )
    return tuple(int(v) for v in items) * (n if len(items) == 1 else 1)


def check_tensor(name: str, arg: str, t) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}: argument '{arg}' must be a Tensor, got {type(t).__name__}")
    if not t.dtype.is_floating_point:
        raise TypeError(f"{name}: expected a floating point {arg}, got dtype {t.dtype}")


def batched(name: str, x: Tensor, nd: int) -> tuple[Tensor, bool]:
    """``x`` with a batch axis (added if it was unbatched), and whether it was added."""
    layout = "(N, C, L)" if nd == 1 else "(N, C, H, W)"
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched {layout}) input to {name}, "
            f"but got input of size: {list(x.shape)}"
        )
    if x.ndim == nd + 1:
        return Reshape.apply(x, shape=(1,) + x.shape), True
    return x, False


def _unbatch(out: Tensor, unbatched: bool) -> Tensor:
    return Reshape.apply(out, shape=out.shape[1:]) if unbatched else out


def _check_common(name, x, weight, bias, stride, dilation, groups, nd, transposed=False):
    """Checks shared by convolutions and transposed convolutions (sizes are checked later)."""
    if weight.ndim != nd + 2:
        kernel = "(O, C/groups, L)" if nd == 1 else "(O, C/groups, kH, kW)"
        if transposed:
            kernel = "(C_in, C_out/groups, kH, kW)"
        raise RuntimeError(
            f"{name}: expected a {nd + 2}-D weight {kernel}, but got weight of size "
            f"{list(weight.shape)}"
        )
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups <= 0:
        raise RuntimeError(f"{name}: non-positive groups is not supported (got groups={groups!r})")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{name}: non-positive stride is not supported (got stride={stride})")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(
            f"{name}: non-positive dilation is not supported (got dilation={dilation})"
        )
    if x.dtype is not weight.dtype:
        raise RuntimeError(
            f"{name}: input type ({x.dtype}) and weight type ({weight.dtype}) should be the same"
        )
    if weight.shape[0] % groups:
        raise RuntimeError(
            f"{name}: given groups={groups}, expected weight to be divisible by {groups} at "
            f"dimension 0, but got weight of size {list(weight.shape)} instead"
        )
    if bias is not None:
        check_tensor(name, "bias", bias)
        if bias.dtype is not x.dtype:
            raise RuntimeError(
                f"{name}: input type ({x.dtype}) and bias type ({bias.dtype}) should be the same"
            )
        size = weight.shape[1] * groups if transposed else weight.shape[0]
        if bias.shape != (size,):
            raise RuntimeError(
                f"{name}: given weight of size {list(weight.shape)}, expected bias to be "
                f"1-dimensional with {size} elements, but got bias of size "
                f"{list(bias.shape)} instead"
            )


def _padding(name, padding, nd, kernel, dilation, stride):
    """Leading and trailing padding per spatial dim, from an int, a tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * nd, (0,) * nd
        if padding != "same":
            raise RuntimeError(
                f"{name}: invalid padding string {padding!r}, should be one of 'valid', 'same'"
            )
        if any(s != 1 for s in stride):
            raise RuntimeError(
                f"{name}: padding='same' is not supported for strided convolutions "
                f"(got stride={stride})"
            )
        # PyTorch's split: the odd element of an even total goes after
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple(t // 2 for t in total), tuple(t - t // 2 for t in total)
    pad = int_tuple(name, "padding", padding, nd)
    if any(p < 0 for p in pad):
        raise RuntimeError(f"{name}: negative padding is not supported (got padding={pad})")
    return pad, pad


# ---------------------------------------------------------------- the public functions


def _conv(name, nd, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
    check_tensor(name, "input", input)
    check_tensor(name, "weight", weight)
    x, unbatched = batched(name, input, nd)
    stride = int_tuple(name, "stride", stride, nd)
    dilation = int_tuple(name, "dilation", dilation, nd)
    _check_common(name, x, weight, bias, stride, dilation, groups, nd)
    if x.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(
            f"{name}: given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(x.shape)} to have {weight.shape[1] * groups} channels, but got "
            f"{x.shape[1]} channels instead"
        )
    kernel = weight.shape[2:]
    lo, hi = _padding(name, padding, nd, kernel, dilation, stride)
    size = x.shape[2:]
    padded = [n + a + b for n, a, b in zip(size, lo, hi)]
    extent = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(p < e for p, e in zip(padded, extent)):
        raise RuntimeError(
            f"{name}: calculated padded input size per channel: ({' x '.join(map(str, padded))})."
            f" Kernel size: ({' x '.join(map(str, extent))}). Kernel size can't be greater than "
            "actual input size"
        )
    out = tuple((p - e) // s + 1 for p, e, s in zip(padded, extent, stride))
    check_size(name, x.shape[:1] + weight.shape[:1] + out, x._data.itemsize)  # (N, O, *out)
    if nd == 1:  # a convolution over (N, C, 1, L)
        x = Reshape.apply(x, shape=x.shape[:2] + (1,) + size)
        weight = Reshape.apply(weight, shape=weight.shape[:2] + (1,) + kernel)
        size, out, kernel = (1,) + size, (1,) + out, (1,) + kernel
        stride, lo, dilation = (1,) + stride, (0,) + lo, (1,) + dilation
    geom = K.Geometry(size, out, kernel, stride, lo, dilation, int(groups))
    y = Conv2d.apply(x, weight, bias, geom=geom)
    if nd == 1:
        y = Reshape.apply(y, shape=y.shape[:2] + y.shape[3:])
    return _unbatch(y, unbatched)


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation, as in PyTorch) of ``input (N, C, H, W)`` or
    ``(C, H, W)`` with ``weight (O, C/groups, kH, kW)``; ``padding`` may be 'valid' or 'same'."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


@register("conv1d")
def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution of ``input (N, C, L)`` or ``(C, L)`` with ``weight (O, C/groups, k)``."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """Transposed 2-D convolution of ``input (N, C_in, H, W)`` or ``(C_in, H, W)`` with
    ``weight (C_in, C_out/groups, kH, kW)``: the gradient of ``conv2d`` with respect to its
    input. ``output_padding`` adds rows/columns at the end of the output."""
    name = "conv_transpose2d"
    check_tensor(name, "input", input)
    check_tensor(name, "weight", weight)
    x, unbatched = batched(name, input, 2)
    if isinstance(padding, str):
        raise TypeError(
            f"{name}: padding must be an int or a pair of ints ('valid' and 'same' are for "
            f"conv2d), got padding={padding!r}"
        )
    stride = int_tuple(name, "stride", stride, 2)
    dilation = int_tuple(name, "dilation", dilation, 2)
    pad = int_tuple(name, "padding", padding, 2)
    out_pad = int_tuple(name, "output_padding", output_padding, 2)
    _check_common(name, x, weight, bias, stride, dilation, groups, 2, transposed=True)
    if x.shape[1] != weight.shape[0]:
        raise RuntimeError(
            f"{name}: given transposed=1, weight of size {list(weight.shape)}, expected "
            f"input{list(x.shape)} to have {weight.shape[0]} channels, but got {x.shape[1]} "
            "channels instead"
        )
    if any(p < 0 for p in pad + out_pad):
        raise RuntimeError(
            f"{name}: negative padding is not supported (got padding={pad}, "
            f"output_padding={out_pad})"
        )
    if any(op >= s and op >= d for op, s, d in zip(out_pad, stride, dilation)):
        raise RuntimeError(
            f"{name}: output padding must be smaller than either stride or dilation, but got "
            f"output_padding={out_pad}, stride={stride}, dilation={dilation}"
        )
    size = x.shape[2:]
    kernel = weight.shape[2:]
    full = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        for n, s, p, d, k, op in zip(size, stride, pad, dilation, kernel, out_pad)
    )
    if any(n <= 0 for n in full):
        raise RuntimeError(
            f"{name}: given input size per channel: ({' x '.join(map(str, size))}). Calculated "
            f"output size per channel: ({' x '.join(map(str, full))}). Output size is too small"
        )
    # (N, C_out, *full)
    check_size(name, x.shape[:1] + (weight.shape[1] * groups,) + full, x._data.itemsize)
    geom = K.Geometry(full, size, kernel, stride, pad, dilation, int(groups))
    return _unbatch(ConvTranspose2d.apply(x, weight, bias, geom=geom), unbatched)
