"""Pooling: ``max_pool1d``, ``max_pool2d``, ``avg_pool2d`` and ``adaptive_avg_pool2d`` with
PyTorch's arguments. Max pooling records which kernel tap won each window; its gradient scatters
through that record, and the scatter's gradient gathers through it again."""

from __future__ import annotations

import numbers

from minigrad import backend
from minigrad.autograd.function import Function, register
from minigrad.ops import conv_kernels as K
from minigrad.ops.conv import batched, check_tensor, int_tuple
from minigrad.ops.linalg import matmul
from minigrad.ops.movement import Reshape, check_bool, check_size, out_of_memory
from minigrad.tensor import Tensor

# ---------------------------------------------------------------- max pooling ops


@register("max_pool2d")
class MaxPool2d(Function):
    """Window maxima of ``x (N, C, H, W)``. ``code``, an integer array of the output's shape,
    is filled with the winning tap ``i * kw + j`` of each window (integer metadata the
    gradient ops share)."""

    def forward(ctx, x, geom, code):
        ctx.geom, ctx.code = geom, code
        return K.max_pool2d(ctx.xp, x, geom, code)

    def backward(ctx, g):
        return MaxPool2dGrad.apply(g, geom=ctx.geom, code=ctx.code)


@register("max_pool2d_grad")
class MaxPool2dGrad(Function):
    """``(N, C, oh, ow) -> (N, C, H, W)``: each value placed at its window's maximum (added up
    where windows overlap)."""

    def forward(ctx, g, geom, code):
        ctx.geom, ctx.code = geom, code
        return K.max_pool2d_scatter(ctx.xp, g, code, geom)

    def backward(ctx, gg):
        return MaxPool2dGather.apply(gg, geom=ctx.geom, code=ctx.code)


@register("max_pool2d_gather")
class MaxPool2dGather(Function):
    """``(N, C, H, W) -> (N, C, oh, ow)``: the element at each window's recorded maximum."""

    def forward(ctx, x, geom, code):
        ctx.geom, ctx.code = geom, code
        return K.max_pool2d_gather(ctx.xp, x, code, geom)

    def backward(ctx, g):
        return MaxPool2dGrad.apply(g, geom=ctx.geom, code=ctx.code)


# ---------------------------------------------------------------- average pooling ops


@register("avg_pool2d")
class AvgPool2d(Function):
    """Window sums of ``x (N, C, H, W)`` divided by ``divisor`` (a scalar or an ``(oh, ow)``
    array in ``x``'s dtype)."""

    def forward(ctx, x, geom, divisor):
        ctx.geom, ctx.divisor = geom, divisor
        with backend.ignore_float_warnings(ctx.xp, "invalid", "over"):  # inf - inf: nan
            return K.avg_pool2d(ctx.xp, x, geom, divisor)

    def backward(ctx, g):
        return AvgPool2dGrad.apply(g, geom=ctx.geom, divisor=ctx.divisor)


@register("avg_pool2d_grad")
class AvgPool2dGrad(Function):
    """The transpose of ``avg_pool2d``: each value divided and spread over its window."""

    def forward(ctx, g, geom, divisor):
        ctx.geom, ctx.divisor = geom, divisor
        with backend.ignore_float_warnings(ctx.xp, "invalid", "over"):  # inf - inf: nan
            return K.avg_pool2d_scatter(ctx.xp, g, geom, divisor)

    def backward(ctx, gg):
        return AvgPool2d.apply(gg, geom=ctx.geom, divisor=ctx.divisor)


# ---------------------------------------------------------------- geometry


def _pool_input(name: str, input, nd: int) -> tuple[Tensor, bool]:
    check_tensor(name, "input", input)
    return batched(name, input, nd)


def _pool_geometry(name, x, nd, kernel_size, stride, padding, dilation, ceil_mode):
    """Check pooling arguments as PyTorch does and build the 2-D geometry (``nd == 1`` pools
    an ``(N, C, 1, L)`` view)."""
    ceil_mode = ceil_mode if ceil_mode is False else check_bool(name, "ceil_mode", ceil_mode)
    kernel = int_tuple(name, "kernel_size", kernel_size, nd, "pooling")
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel
    stride = int_tuple(name, "stride", stride, nd, "pooling")
    pad = int_tuple(name, "padding", padding, nd, "pooling")
    dilation = int_tuple(name, "dilation", dilation, nd, "pooling")
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"{name}: kernel size should be greater than zero, but got {kernel}")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{name}: stride should be greater than zero, but got {stride}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"{name}: dilation should be greater than zero, but got {dilation}")
    if any(p < 0 for p in pad):
        raise RuntimeError(f"{name}: pad must be non-negative, but got pad: {pad}")
    if any(p > k // 2 for p, k in zip(pad, kernel)):
        raise RuntimeError(
            f"{name}: pad should be at most half of kernel size, but got pad={pad} and "
            f"kernel_size={kernel}"
        )
    size = x.shape[2:]
    out = tuple(
        pooled_size(n, k, s, p, d, ceil_mode)
        for n, k, s, p, d in zip(size, kernel, stride, pad, dilation)
    )
    if any(o < 1 for o in out):
        raise RuntimeError(
            f"{name}: given input size: ({'x'.join(map(str, x.shape[1:]))}). Calculated output "
            f"size: ({'x'.join(map(str, x.shape[1:2] + out))}). Output size is too small"
        )
    if nd == 1:
        size, out, kernel = (1,) + size, (1,) + out, (1,) + kernel
        stride, pad, dilation = (1,) + stride, (0,) + pad, (1,) + dilation
    return K.Geometry(size, out, kernel, stride, pad, dilation)


def pooled_size(n, k, s, p, d, ceil_mode) -> int:
    """PyTorch's rule: with ceil_mode the last window must start inside the input or the
    leading padding."""
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _as_2d(x: Tensor, nd: int) -> Tensor:
    """``(N, C, L) -> (N, C, 1, L)`` for 1-D pooling."""
    return x if nd == 2 else Reshape.apply(x, shape=x.shape[:2] + (1,) + x.shape[2:])


def _restore(out: Tensor, nd: int, unbatched: bool) -> Tensor:
    shape = out.shape if nd == 2 else out.shape[:2] + out.shape[3:]
    if unbatched:
        shape = shape[1:]
    return out if shape == out.shape else Reshape.apply(out, shape=shape)


# ---------------------------------------------------------------- the public functions


def _max_pool(name, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, unbatched = _pool_input(name, input, nd)
    if return_indices is not False:
        return_indices = check_bool(name, "return_indices", return_indices)
    geom = _pool_geometry(name, x, nd, kernel_size, stride, padding, dilation, ceil_mode)
    x = _as_2d(x, nd)
    code = x.xp.empty(x.shape[:2] + geom.out_size, dtype=K.code_dtype(x.xp, geom))
    out = _restore(MaxPool2d.apply(x, geom=geom, code=code), nd, unbatched)
    if not return_indices:
        return out
    indices = x._wrap(K.flat_indices(x.xp, code, geom).reshape(out.shape))
    return out, indices


def max_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """2-D max pooling of ``(N, C, H, W)`` or ``(C, H, W)``; ``stride`` defaults to the kernel
    size. With ``return_indices`` also returns each maximum's index in its flattened
    ``H * W`` input plane (int64)."""
    return _max_pool(
        "max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


@register("max_pool1d")
def max_pool1d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """1-D max pooling of ``(N, C, L)`` or ``(C, L)`` (indices count along ``L``)."""
    return _max_pool(
        "max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def _avg_divisor(xp, geom, count_include_pad, dtype):
    """Each window's divisor as an ``(oh, ow)`` array: the window's size clipped to the padded
    input, or (without ``count_include_pad``) its number of real elements."""
    per_axis = []
    for n, o, k, s, p in zip(geom.in_size, geom.out_size, geom.kernel, geom.stride, geom.padding):
        sizes = []
        for q in range(o):
            start = q * s - p
            end = min(start + k, n + p)
            sizes.append(end - start if count_include_pad else min(end, n) - max(start, 0))
        per_axis.append(sizes)
    rows, cols = per_axis
    return xp.asarray([[a * b for b in cols] for a in rows], dtype=dtype)


def avg_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """2-D average pooling of ``(N, C, H, W)`` or ``(C, H, W)``. Windows are averaged over
    their size within the padded input (``count_include_pad``) or over their real elements;
    ``divisor_override`` replaces either divisor."""
    name = "avg_pool2d"
    x, unbatched = _pool_input(name, input, 2)
    geom = _pool_geometry(name, x, 2, kernel_size, stride, padding, 1, ceil_mode)
    if count_include_pad is not True:
        count_include_pad = check_bool(name, "count_include_pad", count_include_pad)
    if divisor_override is not None:
        if not isinstance(divisor_override, numbers.Real) or divisor_override == 0:
            raise RuntimeError(
                f"{name}: divisor must be not zero (a nonzero number), got "
                f"divisor_override={divisor_override!r}"
            )
        divisor = x.xp.asarray(divisor_override, dtype=x._data.dtype)
    else:
        divisor = _avg_divisor(x.xp, geom, count_include_pad, x._data.dtype)
    return _restore(AvgPool2d.apply(x, geom=geom, divisor=divisor), 2, unbatched)


def _averaging_matrix(xp, out: int, n: int, dtype):
    """``(out, n)``: row ``i`` averages input positions ``floor(i*n/out) .. ceil((i+1)*n/out)``
    (each window's weight computed in float64, then cast)."""
    i = xp.arange(out)[:, None]  # (out, 1)
    j = xp.arange(n)[None, :]  # (1, n)
    start, end = (i * n) // out, -((-(i + 1) * n) // out)
    inside = (start <= j) & (j < end)  # (out, n)
    return xp.where(inside, 1.0 / xp.maximum(end - start, 1), 0.0).astype(dtype)


@register("adaptive_avg_pool2d")
def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling of ``(N, C, H, W)`` or ``(C, H, W)`` to ``output_size`` (an int, or a
    pair whose None entries keep the input's size), with PyTorch's windows: output row ``i``
    averages rows ``floor(i*H/oh)`` to ``ceil((i+1)*H/oh)``. Computed as ``A_h @ x @ A_w^T``."""
    name = "adaptive_avg_pool2d"
    x, unbatched = _pool_input(name, input, 2)
    size = x.shape[2:]
    if output_size is None or isinstance(output_size, numbers.Integral):
        output_size = (output_size, output_size)
    if not isinstance(output_size, (tuple, list)) or len(output_size) != 2:
        raise TypeError(
            f"{name}: output_size must be an int or a pair of ints (None keeps the input size), "
            f"got {output_size!r}"
        )
    out = []
    for o, n in zip(output_size, size):
        if o is None:
            o = n
        if not isinstance(o, numbers.Integral) or isinstance(o, bool) or o < 0:
            raise RuntimeError(
                f"{name}: elements of output_size must be integers greater than or equal to 0 "
                f"(or None), but got output_size={output_size!r}"
            )
        out.append(int(o))
    if 0 in size:
        raise RuntimeError(
            f"{name}: expected input to have non-zero size for non-batch dimensions, but input "
            f"has sizes {list(input.shape)}"
        )
    xp, dtype = x.xp, x._data.dtype
    # the result (N, C, oh, ow) and the averaging matrices must fit in memory at all
    for shape in (x.shape[:2] + tuple(out), (out[0], size[0]), (out[1], size[1])):
        check_size(name, shape, x._data.itemsize)
    try:
        rows = x._wrap(_averaging_matrix(xp, out[0], size[0], dtype))  # (oh, H)
        cols = x._wrap(_averaging_matrix(xp, out[1], size[1], dtype).T)  # (W, ow)
    except MemoryError:
        raise out_of_memory(name, x.shape[:2] + tuple(out), x._data.itemsize) from None
    y = matmul(matmul(rows, x), cols)  # (oh, H) @ (N, C, H, W) @ (W, ow) -> (N, C, oh, ow)
    return _restore(y, 2, unbatched)
