"""Array-level window code shared by convolution and pooling: the window geometry; im2col and
col2im as loops over kernel taps (slices, so the same code runs on NumPy and CuPy) in a layout
where one GEMM per group covers a whole block of the batch; the three convolution GEMMs; max
and average pooling over windows."""

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


def window_buffer(xp, x, g: Geometry, fill=0.0, out=None):
    """``x`` cut or padded (with ``fill``) to exactly the rows and columns the windows read:
    ``(..., H, W) -> (..., span_h, span_w)``, the first window at the top-left corner. Without
    ``out`` this is a view of ``x`` when no padding is needed."""
    (H, W), (sh, sw), (pt, pl) = x.shape[-2:], g.span, g.padding
    r0, r1 = max(0, -pt), min(H, sh - pt)  # rows of x that the windows read
    c0, c1 = max(0, -pl), min(W, sw - pl)
    if out is None:
        if r1 - r0 == sh and c1 - c0 == sw:
            return x[..., r0:r1, c0:c1]
        out = xp.empty(x.shape[:-2] + (sh, sw), dtype=x.dtype)
    top, left = r0 + pt, c0 + pl
    bottom, right = top + max(r1 - r0, 0), left + max(c1 - c0, 0)
    out[..., :top, :] = fill
    out[..., bottom:, :] = fill
    out[..., top:bottom, :left] = fill
    out[..., top:bottom, right:] = fill
    out[..., top:bottom, left:right] = x[..., r0:r1, c0:c1]
    return out


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


def gemm_pitch(g: Geometry, scatter: bool = False) -> int:
    """Columns per output row in the GEMM layout. For stride 1 this is the width of the padded
    input (when not much wider than the output): each kernel tap of every window is then one
    contiguous run of the flattened padded planes, and the copies are near memcpy speed; the
    few junk columns at the end of each row are dropped afterwards. Otherwise it is the output
    width. ``scatter``: for adding windows back (col2im), which also needs the whole input
    inside the windows' span."""
    ow, (sh, sw), (pt, pl) = g.out_size[1], g.span, g.padding
    if g.stride != (1, 1) or 8 * sw > 9 * ow:  # measured: worth it up to 1/8 junk columns
        return ow
    if scatter and not (min(pt, pl) >= 0 and pt + g.in_size[0] <= sh and pl + g.in_size[1] <= sw):
        return ow
    return sw


def _flat_planes(xp, g: Geometry, channels: int, batch: int, dtype):
    """Zeros ``(C, N * span_h * span_w + slack)``: the padded planes of each channel in a row
    (the slack lets the last tap's view run past the last plane); and the planes' 4-D view."""
    sh, sw = g.span
    n = batch * sh * sw
    slack = (g.kernel[0] - 1) * g.dilation[0] * sw + (g.kernel[1] - 1) * g.dilation[1]
    flat = xp.zeros((channels, n + slack), dtype=dtype)
    return flat, flat[:, :n].reshape(channels, batch, sh, sw)


def _flat_tap(flat, g: Geometry, batch: int, i: int, j: int):
    """``(C, N, oh * span_w)``: tap ``(i, j)`` of every window, rows of junk-ended output rows."""
    sh, sw = g.span
    off = i * g.dilation[0] * sw + j * g.dilation[1]
    return flat[:, off : off + batch * sh * sw].reshape(flat.shape[0], batch, sh * sw)[
        :, :, : g.out_size[0] * sw
    ]


def im2col(xp, x, g: Geometry, pitch: int):
    """``(N, C, H, W) -> (C, kh, kw, N, oh * pitch)``: one copy per kernel tap. The batch sits
    next to the output positions, so one GEMM over ``N * oh * pitch`` columns does the work of
    the whole batch."""
    (N, C), (kh, kw), (oh, ow) = x.shape[:2], g.kernel, g.out_size
    col = xp.empty((C, kh, kw, N, oh * pitch), dtype=x.dtype)
    if pitch == ow:
        buf = window_buffer(xp, x, g).transpose(1, 0, 2, 3)  # (C, N, span_h, span_w)
        taps = col.reshape(C, kh, kw, N, oh, ow)
        for i, j in g.taps:
            taps[:, i, j] = tap(buf, g, i, j)
        return col
    flat, planes = _flat_planes(xp, g, C, N, x.dtype)
    window_buffer(xp, x.transpose(1, 0, 2, 3), g, out=planes)
    for i, j in g.taps:
        col[:, i, j] = _flat_tap(flat, g, N, i, j)
    return col


def col2im(xp, col, g: Geometry, pitch: int, out):
    """``(C, kh, kw, N, oh * pitch) -> out (N, C, H, W)``: each tap added back where it was
    read."""
    C, kh, kw, N = col.shape[:4]
    (oh, ow), (H, W), (pt, pl) = g.out_size, g.in_size, g.padding
    if pitch == ow:
        buf, start, crop = scatter_buffer(xp, (N, C), g, col.dtype)
        planes = buf.transpose(1, 0, 2, 3)  # (C, N, ...) view
        taps = col.reshape(C, kh, kw, N, oh, ow)
        for i, j in g.taps:
            view = tap(planes, g, i, j, start)
            view += taps[:, i, j]
        out[...] = buf[crop]
        return out
    flat, planes = _flat_planes(xp, g, C, N, col.dtype)
    for i, j in g.taps:
        view = _flat_tap(flat, g, N, i, j)
        view += col[:, i, j]  # junk columns hold zeros: adding them changes nothing
    out[...] = planes[:, :, pt : pt + H, pl : pl + W].transpose(1, 0, 2, 3)
    return out


def _channels_first(xp, y, groups, pitch):
    """``(N, O, oh, ow) -> (G, O/G, N * oh * pitch)``, the GEMM operand layout (a copy, with
    zeros in the junk columns)."""
    N, O, oh, ow = y.shape
    out = (xp.zeros if pitch > ow else xp.empty)((O, N, oh, pitch), dtype=y.dtype)
    out[..., :ow] = y.transpose(1, 0, 2, 3)
    return out.reshape(groups, O // groups, N * oh * pitch)


def _batch_first(xp, y, out, bias, pitch):
    """Write the GEMM result ``(C, N * h * pitch)`` into ``out (N, C, h, w)``, plus ``bias``."""
    N, C, h, w = out.shape
    rows = y.reshape(C, N, h, pitch)[..., :w].transpose(1, 0, 2, 3)  # (N, C, h, w) view
    if bias is None:
        out[...] = rows
    else:
        xp.add(rows, bias.reshape(C, 1, 1), out=out)
    return out


# Work on the batch in blocks whose im2col buffer is about this size: it then stays in the
# last-level cache between the copies that fill it and the GEMM that reads it, and is reused
# (no fresh pages to fault in).
BLOCK_BYTES = 4 << 20


def batch_blocks(n: int, bytes_per_item: int) -> list[slice]:
    """``range(n)`` cut into nearly equal blocks of at most ``BLOCK_BYTES`` each (at least one
    item per block; one empty block when ``n == 0``)."""
    count = max(1, -(-n * bytes_per_item // BLOCK_BYTES))
    count = min(count, max(n, 1))
    bounds = [n * k // count for k in range(count + 1)]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:])]


# ---------------------------------------------------------------- the convolution triangle


def conv2d(xp, x, w, b, g: Geometry, keep_cols: bool = False):
    """``y = conv(x, w) + b``: ``(N, C, H, W), (O, C/G, kh, kw) -> (N, O, oh, ow)``. With
    ``keep_cols`` returns ``(y, cols)``, the im2col blocks, which ``conv2d_weight`` of the same
    ``x`` can reuse."""
    N, O, G = x.shape[0], w.shape[0], g.groups
    pitch, K = gemm_pitch(g), w[0].size  # K = C/G * kh * kw
    cols = g.out_size[0] * pitch  # GEMM columns per sample
    wg = w.reshape(G, O // G, K)
    out = xp.empty((N, O) + g.out_size, dtype=x.dtype)
    kept = []
    for part in batch_blocks(N, G * K * cols * x.itemsize):
        n = part.stop - part.start
        col = im2col(xp, x[part], g, pitch).reshape(G, K, n * cols)
        y = xp.matmul(wg, col)  # (G, O/G, n*oh*pitch): one GEMM per group
        _batch_first(xp, y, out[part], b, pitch)
        if keep_cols:
            kept.append(col)
    return (out, kept) if keep_cols else out


def im2col_bytes(x, g: Geometry) -> int:
    """The size of all of ``x``'s im2col blocks."""
    return (
        x.size
        // math.prod(g.in_size)
        * math.prod(g.kernel)
        * g.out_size[0]
        * gemm_pitch(g)
        * x.itemsize
    )


def conv_transpose2d(xp, y, w, b, g: Geometry):
    """The transpose of ``conv2d`` in ``x``: ``(N, O, oh, ow), (O, C/G, kh, kw) -> (N, C, H, W)``
    (plus ``b`` per output channel)."""
    N, O, G = y.shape[0], w.shape[0], g.groups
    Cg, kh, kw = w.shape[1:]
    if g.stride == (1, 1) and O * math.prod(g.in_size) <= Cg * G * math.prod(g.out_size):
        # a plain correlation with the flipped kernel: im2col of y, cheaper than col2im here
        wt = w.reshape(G, O // G, Cg, kh, kw).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
        return conv2d(xp, y, wt.reshape(G * Cg, O // G, kh, kw), b, g.transposed())
    pitch = gemm_pitch(g, scatter=True)
    cols = g.out_size[0] * pitch
    wt = w.reshape(G, O // G, Cg * kh * kw).transpose(0, 2, 1)  # (G, C/G*kh*kw, O/G)
    x = xp.empty((N, G * Cg) + g.in_size, dtype=y.dtype)
    for part in batch_blocks(N, G * Cg * kh * kw * cols * y.itemsize):
        n = part.stop - part.start
        col = xp.matmul(wt, _channels_first(xp, y[part], G, pitch))  # (G, C/G*kh*kw, n*cols)
        col2im(xp, col.reshape(G * Cg, kh, kw, n, cols), g, pitch, x[part])
    if b is not None:
        x += b.reshape(-1, 1, 1)
    return x


def conv2d_weight(xp, x, y, g: Geometry, kernel_shape, cols=None):
    """The gradient of ``conv2d`` in ``w``: ``(N, C, H, W), (N, O, oh, ow) -> (O, C/G, kh, kw)``
    (bilinear in ``x`` and ``y``). ``cols``: the im2col blocks of ``x`` kept by ``conv2d``."""
    G, K, pitch = g.groups, math.prod(kernel_shape[1:]), gemm_pitch(g)  # K = C/G * kh * kw
    width = g.out_size[0] * pitch
    gw = None
    for b, part in enumerate(batch_blocks(x.shape[0], G * K * width * x.itemsize)):
        n = part.stop - part.start
        col = cols[b] if cols else im2col(xp, x[part], g, pitch).reshape(G, K, n * width)
        gy = _channels_first(xp, y[part], G, pitch)  # junk columns are zero: they add nothing
        for k in _k_chunks(gy.shape[1] * K, n * width):
            term = xp.matmul(gy[..., k], col[..., k].transpose(0, 2, 1))  # (G, O/G, C/G*kh*kw)
            gw = term if gw is None else xp.add(gw, term, out=gw)
    return gw.reshape(kernel_shape)


def _k_chunks(outputs: int, depth: int) -> list[slice]:
    """Slices of a GEMM's inner dimension. A tiny output (a few hundred elements) over a very
    long inner dimension runs several times faster in pieces of about 2**20 / outputs (a BLAS
    small-matrix path); other GEMMs run whole."""
    if outputs > 1024 or outputs * depth <= 1 << 20:
        return [slice(None)]
    step = max(512, (1 << 20) // outputs)
    return [slice(a, a + step) for a in range(0, depth, step)]


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
    v = xp.empty_like(out)
    for i, j in taps[1:]:
        v[...] = tap(buf, g, i, j)  # contiguous first: the add then runs vectorized
        out += v
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
