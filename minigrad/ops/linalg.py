"""Matrix multiplication with NumPy's ``matmul`` rules (1-d operands, batch broadcasting)."""

from __future__ import annotations

from minigrad.autograd.function import Function, register
from minigrad.ops import elementwise as E
from minigrad.ops.movement import Permute, Reshape
from minigrad.tensor import Tensor


def _mT(t: Tensor) -> Tensor:
    n = t.ndim
    dims = tuple(range(n - 2)) + (n - 1, n - 2)
    return Permute.apply(t, dims=dims)


@register("matmul")
class MatMul(Function):
    """``a @ b`` for operands with at least 2 dims; batch dims broadcast (the engine sums the
    gradient of a broadcast operand back to its shape)."""

    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        return (MatMul.apply(g, _mT(b)) if na else None), (MatMul.apply(_mT(a), g) if nb else None)


def matmul(a, b) -> Tensor:
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(
            f"matmul expects two Tensors, got {type(a).__name__} and {type(b).__name__}"
        )
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D"
        )
    if a.dtype is not b.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {a.dtype} != {b.dtype} "
            "(convert one first, e.g. b.to(a.dtype))"
        )
    sa, sb = a.shape, b.shape
    k_a = sa[-1]
    k_b = sb[0] if len(sb) == 1 else sb[-2]
    if k_a != k_b:
        left = "x".join(map(str, sa if len(sa) > 1 else (1,) + sa))
        right = "x".join(map(str, sb if len(sb) > 1 else sb + (1,)))
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({left} and {right}): the last dimension "
            f"of the first ({k_a}) must equal the {'first' if len(sb) == 1 else 'second-to-last'} "
            f"dimension of the second ({k_b})"
        )
    if len(sa) > 2 or len(sb) > 2:
        E.check_broadcast("matmul (batch dimensions)", sa[:-2], sb[:-2] if len(sb) > 1 else ())
    if len(sa) == 1 and len(sb) == 1:
        out = MatMul.apply(Reshape.apply(a, shape=(1,) + sa), Reshape.apply(b, shape=sb + (1,)))
        return Reshape.apply(out, shape=())
    if len(sa) == 1:
        out = MatMul.apply(Reshape.apply(a, shape=(1,) + sa), b)
        return Reshape.apply(out, shape=out.shape[:-2] + out.shape[-1:])
    if len(sb) == 1:
        out = MatMul.apply(a, Reshape.apply(b, shape=sb + (1,)))
        return Reshape.apply(out, shape=out.shape[:-1])
    return MatMul.apply(a, b)
