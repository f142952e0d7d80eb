"""``RMSprop``, with PyTorch's update formulas (optional momentum and centering)."""

from __future__ import annotations

from collections.abc import Iterable

from minigrad import creation
from minigrad.optim.optimizer import Optimizer
from minigrad.tensor import Tensor


class RMSprop(Optimizer):
    """``v = alpha v + (1 - alpha) g²``; ``avg = sqrt(v - ḡ²) + eps`` when centered (``ḡ`` the
    running mean of g), else ``sqrt(v) + eps``; then ``p -= lr * g / avg``, or with momentum
    ``b = momentum b + g / avg`` and ``p -= lr * b``."""

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check(self, o: dict) -> None:
        self._number(o, "lr")
        if not 0.0 <= self._number(o, "eps", -float("inf")):
            raise ValueError(f"Invalid epsilon value: {o['eps']}")
        for key in ("momentum", "weight_decay", "alpha"):
            self._number(o, key)
        self._flag(o, "centered")
        self._flag(o, "maximize")

    def _update(self, p: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        alpha, eps, momentum = group["alpha"], group["eps"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = creation.zeros_like(p)
            if momentum > 0:
                state["momentum_buffer"] = creation.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = creation.zeros_like(p)
        if group["maximize"]:
            grad = -grad
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        square_avg = state["square_avg"]
        square_avg.mul_(alpha).add_((grad * grad).mul_(1 - alpha))
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.mul_(alpha).add_(grad, alpha=1 - alpha)
            avg = (square_avg - grad_avg * grad_avg).sqrt().add_(eps)
        else:
            avg = square_avg.sqrt().add_(eps)
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf.mul_(momentum).add_(grad / avg)
            p.add_(buf, alpha=-group["lr"])
        else:
            p.add_((grad / avg).mul_(-group["lr"]))
