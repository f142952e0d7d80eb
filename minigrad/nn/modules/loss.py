"""Loss layers: ``CrossEntropyLoss``, ``NLLLoss``, ``MSELoss`` and ``BCEWithLogitsLoss``, with the
arguments of their functional versions. Class weights are buffers (saved in the state dict)."""

from __future__ import annotations

import numbers

from minigrad.nn import functional as F
from minigrad.nn.modules import _args
from minigrad.nn.modules.module import Module
from minigrad.ops.loss import legacy_reduction
from minigrad.tensor import Tensor


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        reduction = legacy_reduction(size_average, reduce, reduction)
        self.reduction = _args.reduction(type(self).__name__, reduction)


class _WeightedLoss(_Loss):
    def __init__(
        self, weight: Tensor | None = None, size_average=None, reduce=None, reduction="mean"
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        if weight is not None and (not isinstance(weight, Tensor) or weight.ndim != 1):
            raise ValueError(
                f"{type(self).__name__}: weight must be a 1-D Tensor with one weight per class, "
                f"got {weight!r}"
            )
        self.register_buffer("weight", weight)


def _ignore_index(name: str, value: int) -> int:
    if not _args.is_int(value):
        raise TypeError(f"{name}: ignore_index must be an integer, got {value!r}")
    return int(value)


class CrossEntropyLoss(_WeightedLoss):
    """``nll_loss(log_softmax(input, 1), target)`` over (N, C) or (N, C, *) logits."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = _ignore_index("CrossEntropyLoss", ignore_index)
        if not isinstance(label_smoothing, numbers.Real) or not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, got "
                f"{label_smoothing!r}"
            )
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """The negative log-likelihood of ``target`` classes under log-probabilities ``input``."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = _ignore_index("NLLLoss", ignore_index)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )


class MSELoss(_Loss):
    """Mean (or sum) of squared differences."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy of ``sigmoid(input)``, computed stably from the logits."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average=None,
        reduce=None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        for name, t in (("weight", weight), ("pos_weight", pos_weight)):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"BCEWithLogitsLoss: {name} must be a Tensor, got {t!r}")
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )
