"""Array-level window code shared by convolution and pooling: the window geometry, im2col and
col2im as loops over kernel taps (strided slices, so the same code runs on NumPy and CuPy), the
three convolution GEMMs, and max/average pooling over strided windows."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Geometry:
    """Sliding windows over the last two axes of ``(N, C, H, W)`` arrays.

    Output position ``(p, q)`` with kernel tap ``(i, j)`` reads input row
    ``p * stride[0] - padding[0] + i * dilation[0]`` (columns alike); rows outside ``[0, H)`` are
    padding. ``padding`` is what lies before row/column 0 (negative: windows start inside the
    input); what lies after follows from ``out_size``. For a convolution ``x (N, C, H, W)`` and
    ``w (O, C / groups, kh, kw)`` give ``y (N, O, oh, ow)``; the transposed convolution and the
    weight gradient use the same object.
    """

    in_size: tuple[int, int]
    out_size: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1

    @property
    def span(self) -> tuple[int, int]:
        """Rows and columns from the first window's start to the last window's end."""
        return tuple(
            (o - 1) * s + (k - 1) * d + 1
            for o, s, k, d in zip(self.out_size, self.stride, self.kernel, self.dilation)
        )

    @property
    def taps(self) -> list[tuple[int, int]]:
        return [(i, j) for i in range(self.kernel[0]) for j in range(self.kernel[1])]

    def overlapping(self) -> bool:
        """Whether an input element can lie in two windows."""
        return any(s < (k - 1) * d + 1 for s, k, d in zip(self.stride, self.kernel, self.dilation))

    def tiles(self) -> bool:
        """Whether the windows cover every input element exactly once."""
        dense = all(
            s == k and (d == 1 or k == 1)
            for s, k, d in zip(self.stride, self.kernel, self.dilation)
        )
        return dense and self.padding == (0, 0) and self.span == self.in_size

    def transposed(self) -> Geometry:
        """For stride 1: the correlation that computes this convolution's transpose (with the
        kernel flipped), from ``out_size`` back to ``in_size``."""
        pad = tuple((k - 1) * d - p for k, d, p in zip(self.kernel, self.dilation, self.padding))
        return Geometry(
            self.out_size, self.in_size, self.kernel, (1, 1), pad, self.dilation, self.groups
        )


def tap(buf, g: Geometry, i: int, j: int, start=(0, 0)):
    """The ``(..., oh, ow)`` strided view of ``buf`` that kernel tap ``(i, j)`` reads, where
    ``start`` is the buffer position of the first window's top-left corner."""
    (oh, ow), (sh, sw), (dh, dw) = g.out_size, g.stride, g.dilation
    r, c = start[0] + i * dh, start[1] + j * dw
    return buf[..., r : r + (oh - 1) * sh + 1 : sh, c : c + (ow - 1) * sw + 1 : sw]


def window_buffer(xp, x, g: Geometry, fill=0.0):
    """``x`` cut or padded (with ``fill``) to exactly the rows and columns the windows read:
    ``(..., H, W) -> (..., span_h, span_w)``, the first window at the top-left corner."""
    (H, W), (sh, sw), (pt, pl) = x.shape[-2:], g.span, g.padding
    r0, r1 = max(0, -pt), min(H, sh - pt)  # rows of x that the windows read
    c0, c1 = max(0, -pl), min(W, sw - pl)
    if r1 - r0 == sh and c1 - c0 == sw:
        return x[..., r0:r1, c0:c1]
    buf = xp.empty(x.shape[:-2] + (sh, sw), dtype=x.dtype)
    top, left = r0 + pt, c0 + pl
    bottom, right = top + max(r1 - r0, 0), left + max(c1 - c0, 0)
    buf[..., :top, :] = fill
    buf[..., bottom:, :] = fill
    buf[..., top:bottom, :left] = fill
    buf[..., top:bottom, right:] = fill
    buf[..., top:bottom, left:right] = x[..., r0:r1, c0:c1]
    return buf


def scatter_buffer(xp, shape, g: Geometry, dtype, zero: bool = True):
    """A buffer that holds both the input planes and every window, for adding windows back
    into input positions. Returns ``(buf, start, crop)``: ``start`` is where the first window
    begins, ``crop`` the index that cuts the ``(..., H, W)`` input out of ``buf``."""
    (H, W), span = g.in_size, g.span
    off = [max(p, 0) for p in g.padding]  # buffer position of input row/column 0
    start = tuple(o - p for o, p in zip(off, g.padding))
    size = tuple(max(o + n, s + sp) for o, n, s, sp in zip(off, (H, W), start, span))
    buf = (xp.zeros if zero else xp.empty)(tuple(shape) + size, dtype=dtype)
    crop = (Ellipsis, slice(off[0], off[0] + H), slice(off[1], off[1] + W))
    return buf, start, crop


def im2col(xp, x, g: Geometry):
    """``(N, C, H, W) -> (C, kh, kw, N, oh, ow)``: one strided copy per kernel tap. The batch
    sits next to the output positions, so that one GEMM over ``N * oh * ow`` columns does the
    work of the whole batch."""
    (kh, kw), (oh, ow) = g.kernel, g.out_size
    buf = window_buffer(xp, x, g).transpose(1, 0, 2, 3)  # (C, N, span_h, span_w)
    col = xp.empty((x.shape[1], kh, kw, x.shape[0], oh, ow), dtype=x.dtype)
    for i, j in g.taps:
        col[:, i, j] = tap(buf, g, i, j)
    return col


def col2im(xp, col, g: Geometry):
    """``(C, kh, kw, N, oh, ow) -> (N, C, H, W)``: each tap added back where it was read."""
    buf, start, crop = scatter_buffer(xp, (col.shape[3], col.shape[0]), g, col.dtype)
    planes = buf.transpose(1, 0, 2, 3)  # (C, N, ...) view
    for i, j in g.taps:
        view = tap(planes, g, i, j, start)
        view += col[:, i, j]
    return buf[crop]


def _channels_first(xp, y, groups):
    """``(N, O, oh, ow) -> (G, O/G, N * oh * ow)``, the GEMM operand layout (a copy)."""
    N, O = y.shape[:2]
    out = xp.empty((O, N) + y.shape[2:], dtype=y.dtype)
    out[...] = y.transpose(1, 0, 2, 3)
    return out.reshape(groups, O // groups, out[0].size)


def _batch_first(xp, y, shape, bias):
    """The GEMM result ``(C, N * h * w)`` as a new ``(N, C, h, w)`` array, plus ``bias``."""
    N, C = shape[:2]
    hw = shape[2] * shape[3]
    rows = y.reshape(C, N, hw).transpose(1, 0, 2)  # (N, C, h*w) view
    out = xp.empty(shape, dtype=y.dtype)
    if bias is None:
        out.reshape(N, C, hw)[...] = rows
    else:
        xp.add(rows, bias.reshape(C, 1), out=out.reshape(N, C, hw))
    return out


# ---------------------------------------------------------------- the convolution triangle


def conv2d(xp, x, w, b, g: Geometry):
    """``y = conv(x, w) + b``: ``(N, C, H, W), (O, C/G, kh, kw) -> (N, O, oh, ow)``."""
    N, O, G = x.shape[0], w.shape[0], g.groups
    K, NP = w[0].size, N * g.out_size[0] * g.out_size[1]  # K = C/G * kh * kw
    col = im2col(xp, x, g).reshape(G, K, NP)
    y = xp.matmul(w.reshape(G, O // G, K), col)  # (G, O/G, N*oh*ow): one GEMM per group
    return _batch_first(xp, y, (N, O) + g.out_size, b)


def conv_transpose2d(xp, y, w, b, g: Geometry):
    """The transpose of ``conv2d`` in ``x``: ``(N, O, oh, ow), (O, C/G, kh, kw) -> (N, C, H, W)``
    (plus ``b`` per output channel)."""
    N, O, G = y.shape[0], w.shape[0], g.groups
    Cg, kh, kw = w.shape[1:]
    if g.stride == (1, 1) and O * math.prod(g.in_size) <= Cg * G * math.prod(g.out_size):
        # a plain correlation with the flipped kernel: im2col of y, cheaper than col2im here
        wt = w.reshape(G, O // G, Cg, kh, kw).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
        return conv2d(xp, y, wt.reshape(G * Cg, O // G, kh, kw), b, g.transposed())
    wt = w.reshape(G, O // G, Cg * kh * kw).transpose(0, 2, 1)  # (G, C/G*kh*kw, O/G)
    col = xp.matmul(wt, _channels_first(xp, y, G))  # (G, C/G*kh*kw, N*oh*ow)
    x = col2im(xp, col.reshape((G * Cg, kh, kw, N) + g.out_size), g)
    if b is not None:
        x += b.reshape(-1, 1, 1)
    return x


def conv2d_weight(xp, x, y, g: Geometry, kernel_shape):
    """The gradient of ``conv2d`` in ``w``: ``(N, C, H, W), (N, O, oh, ow) -> (O, C/G, kh, kw)``
    (bilinear in ``x`` and ``y``)."""
    G, K = g.groups, math.prod(kernel_shape[1:])  # K = C/G * kh * kw
    col = im2col(xp, x, g).reshape(G, K, x.shape[0] * g.out_size[0] * g.out_size[1])
    gw = xp.matmul(_channels_first(xp, y, G), col.transpose(0, 2, 1))  # (G, O/G, C/G*kh*kw)
    return gw.reshape(kernel_shape)


# ---------------------------------------------------------------- pooling


def code_dtype(xp, g: Geometry):
    """The smallest integer type that numbers every kernel tap ``i * kw + j``."""
    return xp.uint8 if g.kernel[0] * g.kernel[1] <= 256 else xp.int32


def _first_real_tap(g: Geometry) -> list | None:
    """Per output position, the first tap (row-major) that reads a real element rather than
    padding, as an ``(oh, ow)`` nested list; None when that is tap 0 everywhere."""
    per_axis = []
    for o, s, p, d in zip(g.out_size, g.stride, g.padding, g.dilation):
        per_axis.append([max(0, -(-(p - q * s) // d)) for q in range(o)])
    rows, cols = per_axis
    if not any(rows) and not any(cols):
        return None
    return [[i * g.kernel[1] + j for j in cols] for i in rows]


def max_pool2d(xp, x, g: Geometry, code, nan_aware=False):
    """Window maxima ``(N, C, H, W) -> (N, C, oh, ow)``. Writes into ``code`` the tap
    ``i * kw + j`` of each window's maximum: the first in row-major order, as in PyTorch; NaN
    wins (the last NaN). Each tap is copied to a contiguous buffer first: elementwise ops on
    contiguous arrays are several times faster than on strided views."""
    buf = window_buffer(xp, x, g, fill=-math.inf)  # (N, C, span_h, span_w)
    taps, cdt = g.taps, code.dtype
    v = xp.empty(code.shape, dtype=x.dtype)
    better = xp.empty(code.shape, dtype=bool)
    step = xp.empty(code.shape, dtype=cdt)
    first = _first_real_tap(g)
    if first is None:
        m = tap(buf, g, *taps[0]).copy()
        code[...] = 0
        begin = 1
    else:  # a running maximum from -inf: padding (-inf) never wins
        m = xp.full(code.shape, -math.inf, dtype=x.dtype)
        code[...] = xp.asarray(first, dtype=cdt)
        begin = 0
    for t in range(begin, len(taps)):
        v[...] = tap(buf, g, *taps[t])
        xp.greater(v, m, out=better)
        if nan_aware:
            better |= xp.isnan(v)
            m = xp.where(better, v, m)
        else:
            xp.maximum(m, v, out=m)
        # taps come in order, so a tap that beats the running maximum has a larger number
        xp.multiply(better, t, out=step, dtype=cdt)
        xp.maximum(code, step, out=code)
    if not nan_aware and bool(xp.isnan(m).any()):
        return max_pool2d(xp, x, g, code, nan_aware=True)
    return m


def flat_indices(xp, code, g: Geometry):
    """PyTorch's max-pool indices: the position of each maximum in its flattened input plane."""
    (oh, ow), (sh, sw), (pt, pl), (dh, dw) = g.out_size, g.stride, g.padding, g.dilation
    kw, W = g.kernel[1], g.in_size[1]
    t = code.astype(xp.int64)
    rows = (xp.arange(oh, dtype=xp.int64) * sh - pt).reshape(oh, 1) + (t // kw) * dh
    cols = (xp.arange(ow, dtype=xp.int64) * sw - pl) + (t % kw) * dw
    return rows * W + cols


def max_pool2d_scatter(xp, g_out, code, g: Geometry):
    """``(N, C, oh, ow) -> (N, C, H, W)``: each value added at its window's maximum."""
    overlap = g.overlapping()
    buf, start, crop = scatter_buffer(xp, g_out.shape[:2], g, g_out.dtype, zero=not g.tiles())
    # g * (code == t) is exact for finite g (and faster than a select); inf * 0 would be nan
    finite = not overlap and bool(xp.isfinite(g_out).all())
    zero = xp.zeros((), dtype=g_out.dtype)
    for t, (i, j) in enumerate(g.taps):
        view = tap(buf, g, i, j, start)
        if finite:  # disjoint windows: every buffer position is written once at most
            xp.multiply(g_out, code == t, out=view)
        elif overlap:
            view += xp.where(code == t, g_out, zero)
        else:
            view[...] = xp.where(code == t, g_out, zero)
    return buf[crop]


def max_pool2d_gather(xp, x, code, g: Geometry):
    """``(N, C, H, W) -> (N, C, oh, ow)``: the element of ``x`` at each window's maximum."""
    buf = window_buffer(xp, x, g)
    out = xp.zeros(code.shape, dtype=x.dtype)
    for t, (i, j) in enumerate(g.taps):
        out = xp.where(code == t, tap(buf, g, i, j), out)
    return out


def avg_pool2d(xp, x, g: Geometry, divisor):
    """Window sums divided by ``divisor`` (``(oh, ow)`` or a scalar): ``-> (N, C, oh, ow)``."""
    buf = window_buffer(xp, x, g)
    taps = g.taps
    out = tap(buf, g, *taps[0]).copy()
    for i, j in taps[1:]:
        out += tap(buf, g, i, j)
    out /= divisor
    return out


def avg_pool2d_scatter(xp, g_out, g: Geometry, divisor):
    """The transpose of ``avg_pool2d``: ``(N, C, oh, ow) -> (N, C, H, W)``."""
    share = g_out / divisor
    overlap = g.overlapping()
    buf, start, crop = scatter_buffer(xp, g_out.shape[:2], g, g_out.dtype)
    for i, j in g.taps:
        view = tap(buf, g, i, j, start)
        if overlap:
            view += share
        else:
            view[...] = share
    return buf[crop]
