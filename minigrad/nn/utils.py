"""``minigrad.nn.utils``: gradient clipping and flattening parameters to one vector."""

from __future__ import annotations

import math
from collections.abc import Iterable

from minigrad import creation, dtypes
from minigrad.autograd.grad_mode import no_grad
from minigrad.ops import movement
from minigrad.tensor import Tensor

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "parameters_to_vector",
    "vector_to_parameters",
]


def _tensors(parameters: Tensor | Iterable[Tensor], fn: str) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{fn}: expected Tensors (parameters), got {type(p).__name__}")
    return params


def _norm(g: Tensor, p: float) -> Tensor:
    """The p-norm of all elements of ``g`` as a 0-d tensor."""
    if p == math.inf:
        return g.abs().amax()
    if p == 2.0:
        return (g * g).sum().sqrt()
    if p == 1.0:
        return g.abs().sum()
    return (g.abs() ** p).sum() ** (1.0 / p)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale the gradients in place so that their joint ``norm_type``-norm is at most
    ``max_norm``; returns the norm before clipping (a 0-d tensor).

    As in PyTorch, the gradients are multiplied by ``min(1, max_norm / (norm + 1e-6))``."""
    params = _tensors(parameters, "clip_grad_norm_")
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be positive or inf, got {norm_type}")
    grads = [p.grad for p in params if p.grad is not None]
    with no_grad():
        if not grads:
            return creation.tensor(0.0)
        dt = grads[0].dtype
        for g in grads[1:]:
            dt = dtypes.promote(dt, g.dtype)
        first = grads[0].device
        norms = [_norm(g, norm_type).to(dt).to(first) for g in grads]
        total = _norm(movement.stack(norms), norm_type)
        if error_if_nonfinite and not bool(total.isfinite()):
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from `parameters` is "
                "non-finite, so it cannot be clipped. To disable this error and scale the "
                "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
            )
        coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef if g.device is first else coef.to(g.device))
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]``, in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _tensors(parameters, "clip_grad_value_"):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor."""
    params = _tensors(parameters, "parameters_to_vector")
    return movement.cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters (the inverse of the above)."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D Tensor, got {vec!r}")
    params = _tensors(parameters, "vector_to_parameters")
    total = sum(p.numel() for p in params)
    if vec.numel() != total:
        raise ValueError(
            f"vector_to_parameters: vec has {vec.numel()} elements but the parameters hold {total}"
        )
    offset = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec[offset : offset + n].reshape(p.shape))
            offset += n
