"""Shape and movement ops: reshape, permute, expand, indexing, cat, pad, flip, casts, copies.

Each backward is another movement op, so every gradient here is itself differentiable."""

from __future__ import annotations

import builtins
import math
import numbers

from minigrad import backend, dtypes
from minigrad.autograd.function import Function, OutOfMemoryError, register
from minigrad.tensor import Tensor

# ---------------------------------------------------------------- argument checking


def check_tensor(name: str, x, arg: str = "input") -> Tensor:
    """``x`` itself if it is a Tensor, else a TypeError naming the function and argument."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be a Tensor, not {type(x).__name__}")
    return x


def check_bool(name: str, arg: str, value) -> builtins.bool:
    """A flag such as ``keepdim``: a Python (or NumPy) bool, as PyTorch requires."""
    if isinstance(value, builtins.bool):
        return value
    if isinstance(value, backend.host_scalar_type) and value.dtype.kind == "b":
        return builtins.bool(value)
    raise TypeError(f"{name}(): argument '{arg}' must be a bool, not {type(value).__name__}")


def check_int(name: str, arg: str, value) -> int:
    """An integer argument (a Python or NumPy int, not a bool)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, builtins.bool):
        return int(value)
    raise TypeError(f"{name}(): argument '{arg}' must be an int, not {type(value).__name__}")


def check_number(name: str, arg: str, value) -> float:
    """A real number (int or float, not a bool)."""
    if isinstance(value, numbers.Real) and not isinstance(value, builtins.bool):
        return value
    raise TypeError(f"{name}(): argument '{arg}' must be a number, not {type(value).__name__}")


def check_str(name: str, arg: str, value, choices: tuple) -> str:
    """One of the strings ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}(): {arg} must be one of {choices}, got {value!r}")
    return value


def out_of_memory(name: str, shape, itemsize: int) -> RuntimeError:
    """The error for an allocation the machine cannot satisfy (PyTorch raises RuntimeError)."""
    n = math.prod(shape)
    return RuntimeError(
        f"{name}: can't allocate memory: an array of shape {tuple(shape)} needs {n * itemsize} "
        "bytes"
    )


def check_size(name: str, shape, itemsize: int) -> None:
    """Refuse, before any array code, an array of ``shape`` whose byte size no address space
    holds (NumPy's 'array is too big' ValueError); smaller ones are left to the allocator."""
    if math.prod(shape) * itemsize >= 2**63:
        raise out_of_memory(name, shape, itemsize)


def normalize_dim(dim, ndim: int) -> int:
    if not isinstance(dim, numbers.Integral) or isinstance(dim, builtins.bool):
        raise TypeError(f"dim must be an int, got {dim!r}")
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not lo <= dim <= hi:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})"
        )
    return int(dim) % builtins.max(ndim, 1)


def normalize_dims(dims, ndim: int) -> tuple:
    if isinstance(dims, (tuple, list)):
        out = tuple(normalize_dim(d, ndim) for d in dims)
        if len(set(out)) != len(out):
            raise RuntimeError(f"dim {tuple(dims)} appears multiple times in the list of dims")
        return out
    return (normalize_dim(dims, ndim),)


def _shape_arg(shape) -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, numbers.Integral) or isinstance(s, builtins.bool):
            raise TypeError(f"sizes must be ints, got {tuple(shape)!r}")
    return tuple(int(s) for s in shape)


def infer_shape(shape: tuple, numel: int) -> tuple:
    if builtins.sum(1 for s in shape if s == -1) > 1:
        raise RuntimeError(f"only one dimension can be inferred, got shape {list(shape)}")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"invalid shape dimension {min(shape)} in {list(shape)}")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


# ---------------------------------------------------------------- reshape, permute, expand


@register("reshape")
class Reshape(Function):
    is_view = True

    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        out = a.reshape(shape)
        if not a.flags.c_contiguous and not ctx.xp.may_share_memory(a, out):
            ctx._copied = True  # the strides did not allow a view: a copy, not a view
        return out

    def backward(ctx, g):
        return Reshape.apply(g, shape=ctx.in_shape)


def reshape(x: Tensor, *shape) -> Tensor:
    check_tensor("reshape", x)
    shape = infer_shape(_shape_arg(shape), x._data.size)
    if shape == x._data.shape:
        return x if not x._requires_grad else Reshape.apply(x, shape=shape)
    return Reshape.apply(x, shape=shape)


def view(x: Tensor, *shape) -> Tensor:
    """``reshape`` that never copies: a tensor whose strides do not allow the new shape as a
    view is refused, as in PyTorch."""
    out = reshape(x, *shape)
    if out is not x and out._base is None and x._data.size:
        raise RuntimeError(
            f"view size is not compatible with input tensor's size and stride (at least one "
            f"dimension spans across two contiguous subspaces): shape {list(x.shape)} to "
            f"{list(out.shape)}. Use .reshape(...) instead."
        )
    return out


@register("permute")
class Permute(Function):
    is_view = True

    def forward(ctx, a, dims):
        ctx.dims = dims
        return a.transpose(dims)

    def backward(ctx, g):
        inverse = tuple(sorted(range(len(ctx.dims)), key=ctx.dims.__getitem__))
        return Permute.apply(g, dims=inverse)


def permute(x: Tensor, *dims) -> Tensor:
    check_tensor("permute", x)
    dims = _shape_arg(dims)
    if len(dims) != x.ndim:
        raise RuntimeError(
            f"permute: number of dims {len(dims)} doesn't match the tensor's {x.ndim} dimensions"
        )
    return Permute.apply(x, dims=normalize_dims(dims, x.ndim))


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    n = check_tensor("transpose", x).ndim
    d0, d1 = normalize_dim(dim0, n), normalize_dim(dim1, n)
    if n == 0:  # dims 0 and -1 of a 0-d tensor: the tensor itself, as in PyTorch
        return Permute.apply(x, dims=())
    dims = list(range(n))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(x, dims=tuple(dims))


@register("expand")
class Expand(Function):
    is_view = True

    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        if math.prod(shape) == a.size:  # only new leading 1s: a writable view, as in PyTorch
            return a.reshape(shape)
        return ctx.xp.broadcast_to(a, shape)

    def backward(ctx, g):
        from minigrad.ops.reduce import sum_to

        return sum_to(g, ctx.in_shape)


def expand(x: Tensor, *sizes) -> Tensor:
    check_tensor("expand", x)
    sizes = _shape_arg(sizes)
    shape = x.shape
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({len(shape)})"
        )
    lead = len(sizes) - len(shape)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(
                    f"expand: the size {s} is not allowed in a leading, new dimension ({i})"
                )
            target.append(s)
            continue
        have = shape[i - lead]
        if s == -1:
            s = have
        elif s < 0:
            raise RuntimeError(
                f"expand: sizes must be non-negative (or -1 to keep a size), got {s} at dimension "
                f"{i}.  Target sizes: {list(sizes)}"
            )
        if have != s and have != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({have}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(shape)}"
            )
        target.append(s)
    target = tuple(target)
    if target == shape:
        return x
    return Expand.apply(x, shape=target)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    dim = normalize_dim(dim, check_tensor("unsqueeze", x).ndim + 1)
    shape = x.shape
    return Reshape.apply(x, shape=shape[:dim] + (1,) + shape[dim:])


def squeeze(x: Tensor, dim=None) -> Tensor:
    shape = check_tensor("squeeze", x).shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = normalize_dims(dim, x.ndim)
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return x if new == shape else Reshape.apply(x, shape=new)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if check_tensor("flatten", x).ndim == 0:
        normalize_dim(start_dim, 0)
        normalize_dim(end_dim, 0)
        return Reshape.apply(x, shape=(1,))
    s, e = normalize_dim(start_dim, x.ndim), normalize_dim(end_dim, x.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = x.shape
    new = shape[:s] + (math.prod(shape[s : e + 1]),) + shape[e + 1 :]
    return x if new == shape else Reshape.apply(x, shape=new)


def unflatten(x: Tensor, dim: int, sizes) -> Tensor:
    d = normalize_dim(dim, check_tensor("unflatten", x).ndim)
    if x.ndim == 0:
        raise RuntimeError(f"unflatten: Dimension specified as {dim} but tensor has no dimensions")
    sizes = infer_shape(_shape_arg((sizes,)), x.shape[d])
    return Reshape.apply(x, shape=x.shape[:d] + sizes + x.shape[d + 1 :])


def repeat(x: Tensor, *sizes) -> Tensor:
    """Tile ``x``: a reshape, an expand and a reshape, so the gradient needs no op of its own."""
    check_tensor("repeat", x)
    sizes = _shape_arg(sizes)
    if builtins.any(s < 0 for s in sizes):
        raise RuntimeError(f"repeat: repeats must be non-negative, got {list(sizes)}")
    if len(sizes) < x.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            f"of tensor ({len(sizes)} < {x.ndim})"
        )
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    inter = tuple(v for s in shape for v in (1, s))
    target = tuple(v for r, s in zip(sizes, shape) for v in (r, s))
    out = reshape(x, inter).expand(target)
    final = tuple(r * s for r, s in zip(sizes, shape))
    try:
        return reshape(out, final)
    except (MemoryError, OutOfMemoryError):
        raise out_of_memory("repeat", final, x._data.itemsize) from None


@register("flip")
class Flip(Function):
    is_view = True

    def forward(ctx, a, dims):
        ctx.dims = dims
        return ctx.xp.flip(a, dims)

    def backward(ctx, g):
        return Flip.apply(g, dims=ctx.dims)


def flip(x: Tensor, dims) -> Tensor:
    dims = normalize_dims(dims, check_tensor("flip", x).ndim)
    return Flip.apply(x, dims=dims if x.ndim else ())  # a 0-d tensor flips to itself


# ---------------------------------------------------------------- indexing


def _index_array(k, x: Tensor):
    """An index given as a Tensor, list or array, as an array on ``x``'s device."""
    if isinstance(k, Tensor):
        arr = k._data if k._device is x._device else backend.to_device(k._data, x._device)
    elif backend.is_array(k):
        arr = backend.to_device(k, x._device)
    else:
        try:
            arr = backend.from_host(backend.as_host_array(k), x._device)
        except (TypeError, ValueError, RuntimeError) as e:
            raise IndexError(f"an index list must be a rectangular nesting of ints: {e}") from None
    kind = arr.dtype.kind
    if kind == "f" and arr.size == 0:  # an empty list
        return arr.astype(dtypes.int64.np)
    if kind not in "biu":
        raise IndexError(
            f"tensors used as indices must be long, int or bool tensors, got dtype {arr.dtype}"
        )
    return arr


def index_key(x: Tensor, key) -> tuple[tuple, bool]:
    """Check an index against ``x``'s shape; return the array key and whether it is advanced.

    Integer arrays are bounds-checked here, because CuPy wraps out-of-range indices instead of
    raising. Boolean masks become integer arrays (their nonzero positions)."""
    if not isinstance(key, tuple):
        key = (key,)
    items = []
    for k in key:
        if k is None or k is Ellipsis or isinstance(k, slice):
            items.append(k)
        elif isinstance(k, builtins.bool):
            raise IndexError("indexing with a Python bool is not supported; use a bool tensor")
        elif isinstance(k, numbers.Integral):
            items.append(int(k))
        elif isinstance(k, Tensor) and k.ndim == 0 and k._data.dtype.kind in "iu":
            items.append(int(k.item()))
        elif isinstance(k, (Tensor, list, tuple)) or backend.is_array(k):
            items.append(_index_array(k, x))
        else:
            raise IndexError(
                f"only integers, slices, None, Ellipsis, and integer or bool tensors are valid "
                f"indices; got {type(k).__name__}"
            )
    consumed = builtins.sum(
        (k.ndim if k.dtype.kind == "b" else 1)
        for k in items
        if k is not None and k is not Ellipsis and not isinstance(k, (int, slice))
    ) + builtins.sum(1 for k in items if isinstance(k, (int, slice)))
    n_ell = builtins.sum(1 for k in items if k is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    shape = x.shape
    if consumed > len(shape):
        raise IndexError(
            f"too many indices for tensor of dimension {len(shape)} (got {consumed} indices)"
        )
    out = []
    dim = 0
    advanced = False
    for k in items:
        if k is None:
            out.append(None)
        elif k is Ellipsis:
            out.append(Ellipsis)
            dim += len(shape) - consumed
        elif isinstance(k, slice):
            if k.step is not None and k.step <= 0:
                raise ValueError("step must be greater than zero")
            out.append(k)
            dim += 1
        elif isinstance(k, int):
            n = shape[dim]
            if not -n <= k < n:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size {n}")
            out.append(k)
            dim += 1
        elif k.dtype.kind == "b":
            if k.ndim == 0:
                raise IndexError(
                    "indexing with a 0-d bool tensor is not supported; index with a 1-d mask "
                    "(e.g. mask.reshape(1)) or use where()"
                )
            want = shape[dim : dim + k.ndim]
            if k.shape != want:
                raise IndexError(
                    f"The shape of the mask {list(k.shape)} at index {dim} does not match the "
                    f"shape of the indexed tensor {list(want)} at index {dim}"
                )
            out.extend(k.nonzero())
            dim += k.ndim
            advanced = True
        else:
            n = shape[dim]
            if k.size:
                hi, lo = int(k.max()), int(k.min())
                if hi >= n or lo < -n:
                    bad = hi if hi >= n else lo
                    raise IndexError(
                        f"index {bad} is out of bounds for dimension {dim} with size {n}"
                    )
            out.append(k)
            dim += 1
            advanced = True
    if not advanced and Ellipsis not in out:
        out.append(Ellipsis)  # so that NumPy returns a 0-d array, not a scalar
    return tuple(out), advanced


@register("slice")
class Slice(Function):
    """Basic indexing (ints, slices, None, ...): the result is a view."""

    is_view = True

    def forward(ctx, a, key):
        ctx.key, ctx.in_shape = key, a.shape
        return a[key]

    def backward(ctx, g):
        return IndexGrad.apply(g, key=ctx.key, shape=ctx.in_shape, accumulate=False)


@register("index")
class Index(Function):
    """Advanced indexing (integer arrays, masks): the result is a copy."""

    def forward(ctx, a, key):
        ctx.key, ctx.in_shape = key, a.shape
        return a[key]

    def backward(ctx, g):
        return IndexGrad.apply(g, key=ctx.key, shape=ctx.in_shape, accumulate=True)


@register("index_grad")
class IndexGrad(Function):
    """The gradient of indexing: ``g`` written (or, for repeated indices, added) into zeros."""

    def forward(ctx, g, key, shape, accumulate):
        ctx.key, ctx.accumulate = key, accumulate
        out = ctx.xp.zeros(shape, dtype=g.dtype)
        if accumulate:
            backend.scatter_add(ctx.xp, out, key, g)
        else:
            out[key] = g
        return out

    def backward(ctx, gg):
        return (Index if ctx.accumulate else Slice).apply(gg, key=ctx.key)


def getitem(x: Tensor, key) -> Tensor:
    key, advanced = index_key(x, key)
    return (Index if advanced else Slice).apply(x, key=key)


# ---------------------------------------------------------------- cat, stack, split


@register("cat")
class Cat(Function):
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        ctx.sizes = [a.shape[dim] for a in arrays]
        return ctx.xp.concatenate(arrays, axis=dim)

    def backward(ctx, g):
        grads = []
        start = 0
        lead = (slice(None),) * ctx.dim
        for size, need in zip(ctx.sizes, ctx.needs_input_grad):
            if need:
                grads.append(Slice.apply(g, key=lead + (slice(start, start + size), Ellipsis)))
            else:
                grads.append(None)
            start += size
        return tuple(grads)


def _tensor_list(name: str, tensors) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"{name}(): argument 'tensors' must be a list or tuple of Tensors, not "
            f"{type(tensors).__name__}"
        )
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"{name}(): expected a list of Tensors, but element {i} is {type(t).__name__}"
            )
    return list(tensors)


def cat(tensors, dim: int = 0) -> Tensor:
    tensors = _tensor_list("cat", tensors)
    if not tensors:
        raise RuntimeError("cat expects a non-empty list of Tensors")
    ref = tensors[0]
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = normalize_dim(dim, ref.ndim)
    dt = ref.dtype
    for i, t in enumerate(tensors[1:], 1):
        if t.ndim != ref.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref.ndim} and {t.ndim} "
                f"(tensor number {i})"
            )
        for j, (a, b) in enumerate(zip(ref.shape, t.shape)):
            if j != d and a != b:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {a} but "
                    f"got size {b} for tensor number {i} in the list."
                )
        dt = dtypes.promote(dt, t.dtype)
    tensors = [t if t.dtype is dt else t.to(dt) for t in tensors]
    return Cat.apply(*tensors, dim=d)


@register("stack")
def stack(tensors, dim: int = 0) -> Tensor:
    tensors = _tensor_list("stack", tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors[1:], 1):
        if t.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} "
                f"at entry 0 and {list(t.shape)} at entry {i}"
            )
    d = normalize_dim(dim, tensors[0].ndim + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def split(x: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    if check_tensor("split", x).ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = normalize_dim(dim, x.ndim)
    n = x.shape[d]
    sections = split_size_or_sections
    if isinstance(sections, numbers.Integral) and not isinstance(sections, builtins.bool):
        step = int(sections)
        if step < 0 or (step == 0 and n != 0):
            raise RuntimeError(
                f"split expects split_size be positive (or 0 for a dimension of size 0), but "
                f"got split_size={step} for a dimension of size {n}"
            )
        sizes = [builtins.min(step, n - i) for i in range(0, n, step)] if step else [0]
        sizes = sizes or [0]
    else:
        if not isinstance(sections, (list, tuple)) or not builtins.all(
            isinstance(s, numbers.Integral) and not isinstance(s, builtins.bool) for s in sections
        ):
            raise TypeError(
                f"split(): split_size_or_sections must be an int or a list of ints, got "
                f"{sections!r}"
            )
        sizes = [int(s) for s in sections]
        if builtins.any(s < 0 for s in sizes):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                f"split_sizes={sizes}"
            )
        if builtins.sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {d}), but got split_sizes={sizes}"
            )
    lead = (slice(None),) * d
    out = []
    start = 0
    for s in sizes:
        out.append(Slice.apply(x, key=lead + (slice(start, start + s), Ellipsis)))
        start += s
    return tuple(out)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    if check_tensor("chunk", x).ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    chunks = check_int("chunk", "chunks", chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = x.shape[normalize_dim(dim, x.ndim)]
    return split(x, builtins.max(1, -(-n // chunks)), dim)


# ---------------------------------------------------------------- pad


@register("pad")
class Pad(Function):
    """Constant padding; ``widths`` has one (before, after) pair per dimension."""

    def forward(ctx, a, widths, value):
        ctx.key = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, a.shape))
        return ctx.xp.pad(a, widths, mode="constant", constant_values=value)

    def backward(ctx, g):
        return Slice.apply(g, key=ctx.key + (Ellipsis,))


def pad(x: Tensor, pad, mode: str = "constant", value: float = 0.0) -> Tensor:
    """PyTorch's ``F.pad``: ``pad`` lists (left, right) pairs starting from the LAST dimension.
    Negative amounts crop."""
    check_tensor("pad", x)
    if isinstance(value, Tensor) and value.ndim == 0:
        value = value.item()
    check_number("pad", "value", value)
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(
            f"pad: padding length must be even and at most 2 * ndim ({2 * x.ndim}); got {pad}"
        )
    if mode != "constant":
        raise NotImplementedError(f"pad mode {mode!r}: only 'constant' is implemented here")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if any(lo < 0 or hi < 0 for lo, hi in widths):
        crop = []
        for (lo, hi), n in zip(widths, x.shape):
            start, stop = builtins.max(-lo, 0), n - builtins.max(-hi, 0)
            if stop < start:
                raise RuntimeError(f"pad: negative padding {pad} crops more than the size {n}")
            crop.append(slice(start, stop))
        x = Slice.apply(x, key=tuple(crop) + (Ellipsis,))
        widths = [(builtins.max(lo, 0), builtins.max(hi, 0)) for lo, hi in widths]
    if all(lo == 0 and hi == 0 for lo, hi in widths):
        return x
    try:
        return Pad.apply(x, widths=tuple(widths), value=value)
    except (MemoryError, OutOfMemoryError):
        shape = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, widths))
        raise out_of_memory("pad", shape, x._data.itemsize) from None


# ---------------------------------------------------------------- casts and copies


@register("cast")
class Cast(Function):
    def forward(ctx, a, dtype):
        ctx.in_dtype = a.dtype
        if dtype.kind != "f":
            ctx.mark_non_differentiable()
        # nan/inf to an integer, or overflow to inf in a narrower float: PyTorch is silent
        with backend.ignore_float_warnings(ctx.xp, "invalid", "over"):
            return a.astype(dtype)

    def backward(ctx, g):
        return Cast.apply(g, dtype=ctx.in_dtype)


def cast(x: Tensor, dt: dtypes.dtype) -> Tensor:
    return Cast.apply(x, dtype=dt.np)


@register("clone")
class Clone(Function):
    def forward(ctx, a):
        return a.copy()

    def backward(ctx, g):
        return g


def clone(x: Tensor) -> Tensor:
    return Clone.apply(x)


@register("to_device")
class ToDevice(Function):
    changes_device = True

    def forward(ctx, a, device):
        ctx.out_device = device
        return backend.to_device(a, device)

    def backward(ctx, g):
        return ToDevice.apply(g, device=ctx.device)


def to_device(x: Tensor, dev) -> Tensor:
    return ToDevice.apply(x, device=dev)
