"""``Linear``: y = x Wᵀ + b over the last dimension."""

from __future__ import annotations

import math

from minigrad import creation
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.modules import _args
from minigrad.nn.modules.module import Module
from minigrad.nn.modules.parameter import Parameter
from minigrad.tensor import Tensor


class Linear(Module):
    """``Linear(in_features, out_features, bias=True)``: weight (out, in), bias (out,)."""

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__()
        self.in_features = _args.positive_int("Linear", "in_features", in_features)
        self.out_features = _args.positive_int("Linear", "out_features", out_features)
        shape = (self.out_features, self.in_features)
        self.weight = Parameter(creation.empty(shape, device=device, dtype=dtype))
        if _args.flag("Linear", "bias", bias):
            self.bias = Parameter(creation.empty(self.out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            init._no_grad_uniform_bias(self.bias, self.weight)

    def _name(self) -> str:
        return f"Linear(in_features={self.in_features}, out_features={self.out_features})"

    def forward(self, input: Tensor) -> Tensor:
        _args.tensor_input(self, input)
        shape = input.shape
        if not shape or shape[-1] != self.in_features:
            got = f"last dimension {shape[-1]}" if shape else "a 0-d tensor"
            raise RuntimeError(
                f"{self._name()} got input with {got} (shape {tuple(shape)}); expected "
                f"{self.in_features}"
            )
        weight = self.weight
        _args.same_dtype(self, input, weight)
        return F.linear(input, weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
