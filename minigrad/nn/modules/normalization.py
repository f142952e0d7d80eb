"""Batch normalisation: ``BatchNorm1d`` and ``BatchNorm2d``. Training normalises with the batch
statistics and updates the running ones; eval mode uses the running statistics."""

from __future__ import annotations

import numbers

from minigrad import creation, dtypes
from minigrad.autograd.grad_mode import no_grad
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.modules import _args
from minigrad.nn.modules.module import Module
from minigrad.nn.modules.parameter import Parameter
from minigrad.tensor import Tensor


class _BatchNorm(Module):
    _ranks: tuple[int, ...]  # the input ranks accepted

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_features = _args.positive_int(name, "num_features", num_features)
        if not isinstance(eps, numbers.Real) or not eps >= 0:
            raise ValueError(f"{name}: eps must be a non-negative number, got {eps!r}")
        if momentum is not None and (
            not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1
        ):
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum!r}")
        self.eps = eps
        self.momentum = momentum
        self.affine = affine = _args.flag(name, "affine", affine)
        self.track_running_stats = _args.flag(name, "track_running_stats", track_running_stats)
        bias = _args.flag(name, "bias", bias)
        n = self.num_features
        if affine:
            self.weight = Parameter(creation.empty(n, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(creation.empty(n, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", creation.zeros(n, device=device, dtype=dtype))
            self.register_buffer("running_var", creation.ones(n, device=device, dtype=dtype))
            self.register_buffer(
                "num_batches_tracked", creation.zeros((), dtype=dtypes.int64, device=device)
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input(self, input: Tensor) -> None:
        name = type(self).__name__
        _args.tensor_input(name, input)
        if input.ndim not in self._ranks:
            ranks = " or ".join(f"{r}D" for r in self._ranks)
            raise ValueError(
                f"{name}: expected {ranks} input (got {input.ndim}D input of shape "
                f"{tuple(input.shape)})"
            )
        if input.shape[1] != self.num_features:
            raise RuntimeError(
                f"{name}({self.num_features}) got input with {input.shape[1]} channels (shape "
                f"{tuple(input.shape)}); expected {self.num_features}"
            )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked.item())
        # batch statistics while training, or when there are no running statistics to use
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            momentum,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Over (N, C) or (N, C, L) input, per channel C."""

    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Over (N, C, H, W) input, per channel C."""

    _ranks = (4,)
