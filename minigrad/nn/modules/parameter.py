"""``Parameter``: a leaf tensor that a ``Module`` registers when it is assigned as an attribute."""

from __future__ import annotations

from minigrad import creation
from minigrad.ops.movement import check_bool
from minigrad.tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a module's learnable parameter.

    ``Parameter(data, requires_grad=True)`` shares ``data``'s memory (no copy), like PyTorch, and
    is always a leaf. Results of ops on parameters are plain tensors.
    """

    __slots__ = ()

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        if data is None:
            data = creation.empty(0)
        elif not isinstance(data, Tensor):
            raise TypeError(
                f"Parameter(data): data must be a minigrad Tensor, got {type(data).__name__} "
                "(wrap it first, e.g. Parameter(minigrad.tensor(data)))"
            )
        p = object.__new__(cls)
        p._data = data._data
        p._device = data._device
        p._requires_grad = False
        p.grad = None
        p.grad_fn = None
        p._version = data._version
        p._base = None
        if requires_grad is not False and check_bool("Parameter", "requires_grad", requires_grad):
            p.requires_grad = True  # refuses integer dtypes with a clear message
        return p

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass  # everything happened in __new__; Tensor.__init__ would copy

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        out = Parameter(self.detach().clone(), self._requires_grad)
        memo[id(self)] = out
        return out
