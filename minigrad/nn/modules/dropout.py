"""``Dropout``: zeroes elements with probability p while training (and scales the rest by
1 / (1 - p)); the identity in eval mode."""

from __future__ import annotations

from minigrad.nn import functional as F
from minigrad.nn.modules import _args
from minigrad.nn.modules.module import Module
from minigrad.tensor import Tensor


class Dropout(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        _args.probability("Dropout", p)
        self.p = p
        self.inplace = _args.flag("Dropout", "inplace", inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
