"""Containers of modules: ``Sequential`` (a pipeline), ``ModuleList`` and ``ModuleDict``."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from minigrad.nn.modules.module import Module, _addindent


def _index(idx: Any, size: int, what: str) -> int:
    """A valid non-negative position from a (possibly negative) integer index."""
    try:
        idx = operator.index(idx)
    except TypeError:
        raise TypeError(
            f"{what} indices must be integers or slices, not {type(idx).__name__}"
        ) from None
    if not -size <= idx < size:
        raise IndexError(f"index {idx} is out of range for {what} of length {size}")
    return idx % size


def _iterable(owner: str, what: str, value: Any) -> Iterator:
    """``iter(value)``, or a TypeError naming the method and what it was given."""
    try:
        return iter(value)
    except TypeError:
        raise TypeError(
            f"{owner} should be called with an iterable{what}, but got {type(value).__name__}"
        ) from None


def _key(key: Any) -> Any:
    """A ModuleDict key: a string; another hashable key is simply absent (a KeyError later)."""
    if not isinstance(key, str):
        try:
            hash(key)
        except TypeError:
            raise TypeError(
                f"ModuleDict keys are strings, got an unhashable {type(key).__name__}: {key!r}"
            ) from None
    return key


class _Indexed(Module):
    """Shared by Sequential and ModuleList: children named "0", "1", ... in order."""

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, idx: int) -> Any:
        return list(self._modules.values())[_index(idx, len(self), self._get_name())]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[_index(idx, len(self), self._get_name())]
        self.add_module(key, module)

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)
        if isinstance(idx, slice):
            doomed = keys[idx]
        else:
            doomed = [keys[_index(idx, len(self), self._get_name())]]
        for key in doomed:
            del self._modules[key]
        self._renumber()

    def _renumber(self) -> None:
        self.__dict__["_modules"] = {str(i): m for i, m in enumerate(self._modules.values())}

    def append(self, module: Module) -> _Indexed:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> _Indexed:
        for module in _iterable(f"{self._get_name()}.extend", "", modules):
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        try:
            index = operator.index(index)
        except TypeError:
            raise TypeError(
                f"{self._get_name()}.insert(): index must be an integer, got {type(index).__name__}"
            ) from None
        mods = list(self._modules.values())
        index = max(0, min(len(mods), index + len(mods) if index < 0 else index))
        mods.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(mods):
            self.add_module(str(i), m)

    def __dir__(self) -> list[str]:
        return [k for k in super().__dir__() if not k.isdigit()]


class Sequential(_Indexed):
    """Modules applied one after the other: ``Sequential(conv, relu, pool)`` or
    ``Sequential(OrderedDict([("conv", conv), ...]))`` to name them."""

    def __init__(self, *args: Module) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return super().__getitem__(idx)

    def forward(self, input: Any) -> Any:
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(_Indexed):
    """A list of modules that registers them (so their parameters are the parent's)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return super().__getitem__(idx)

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __repr__(self) -> str:
        """Runs of identical children are shown once, as PyTorch does: ``(0-2): 3 x Linear``."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        runs: list[list] = []  # [first index, last index, repr]
        for i, r in enumerate(reprs):
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = []
        for start, end, r in runs:
            if start == end:
                lines.append(_addindent(f"({start}): {r}", 2))
            else:
                lines.append(_addindent(f"({start}-{end}): {end - start + 1} x {r}", 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """An ordered dict of modules that registers them."""

    def __init__(self, modules: Mapping[str, Module] | Iterable | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[_key(key)]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[_key(key)]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return _key(key) in self._modules

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        value = self[key]
        del self[key]
        return value

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules: Mapping[str, Module] | Iterable) -> None:
        if isinstance(modules, (Mapping, ModuleDict)):
            pairs = modules.items()
        else:
            pairs = []
            items = _iterable("ModuleDict.update", " of key/value pairs", modules)
            for j, item in enumerate(items):
                if not isinstance(item, (tuple, list)) or len(item) != 2:
                    raise ValueError(
                        f"ModuleDict update sequence element #{j} should be a (key, module) "
                        f"pair, got {item!r}"
                    )
                pairs.append(item)
        for key, module in pairs:
            self[key] = module
