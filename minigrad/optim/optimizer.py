"""``Optimizer``, the base of SGD, Adam, AdamW and RMSprop: parameter groups, per-parameter
state, ``zero_grad``, ``step`` and ``state_dict`` / ``load_state_dict`` in PyTorch's layout."""

from __future__ import annotations

import copy
import numbers
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from minigrad.autograd.grad_mode import enable_grad, no_grad
from minigrad.tensor import Tensor


class _Required:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Holds ``param_groups`` (dicts with ``"params"`` and the options for them) and ``state``
    (a dict per parameter). Subclasses define ``_update(param, grad, state, group)`` and
    ``_check(options)``, which validates hyperparameters with PyTorch's messages."""

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict) -> None:
        self._check(defaults)
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict] = defaultdict(dict)
        self.param_groups: list[dict] = []
        if isinstance(params, (Tensor, str, dict)) or not hasattr(params, "__iter__"):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {type(params).__name__}"
            )
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def _check(self, options: dict) -> None:
        pass

    def _number(self, options: dict, key: str, low: float = 0.0) -> float:
        """``options[key]``, checked to be a number of at least ``low`` (PyTorch's messages)."""
        value = options[key]
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(
                f"{type(self).__name__}: {key} must be a number, got {type(value).__name__} "
                f"{value!r}"
            )
        if not low <= value:
            what = "learning rate" if key == "lr" else f"{key} value"
            raise ValueError(f"Invalid {what}: {value}")
        return value

    def _flag(self, options: dict, key: str) -> bool:
        value = options[key]
        if not isinstance(value, bool):
            raise TypeError(
                f"{type(self).__name__}: {key} must be a bool, got {type(value).__name__} {value!r}"
            )
        return value

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (the rest come from the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is "
                    f"{type(p).__module__}.{type(p).__qualname__}"
                )
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        param_group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization parameter "
                    f"{name}"
                )
            param_group.setdefault(name, default)
        self._check(param_group)
        ids = [id(p) for p in params]
        if len(ids) != len(set(ids)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, "
                "this will cause an error",
                stacklevel=3,
            )
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if taken.intersection(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        if not isinstance(set_to_none, bool):
            raise TypeError(f"zero_grad(): set_to_none must be a bool, got {set_to_none!r}")
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_()
                    p.grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient (frozen ones are skipped).
        ``closure`` re-evaluates the model and returns the loss, which ``step`` returns."""
        loss = None
        if closure is not None and not callable(closure):
            raise TypeError(
                f"step(): closure must be a function that re-evaluates the model and returns "
                f"the loss, got {type(closure).__name__}"
            )
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None or not p.requires_grad:
                        continue
                    state = self.state.get(p) or {}
                    self._update(p, p.grad, state, group)
                    if state:  # plain SGD keeps no state, and gets no entry (as in PyTorch)
                        self.state[p] = state
        return loss

    def _update(self, param: Tensor, grad: Tensor, state: dict, group: dict) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ state dict
    def state_dict(self) -> dict:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``,
        with parameters numbered in group order, as PyTorch does. Tensors are not copied."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore options and state saved by ``state_dict`` (state tensors are copied onto each
        parameter's device, floating ones in its dtype)."""
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(
                "optimizer state_dict must be a dict with 'state' and 'param_groups' entries"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)}) than the optimizer ({len(self.param_groups)})"
            )
        by_index = {}
        for group, saved in zip(self.param_groups, saved_groups):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group ({len(saved['params'])} vs {len(group['params'])})"
                )
            by_index.update(zip(saved["params"], group["params"]))
        state: defaultdict[Tensor, dict] = defaultdict(dict)
        for key, values in state_dict["state"].items():
            if key not in by_index:
                raise ValueError(f"loaded optimizer state refers to unknown parameter {key!r}")
            param = by_index[key]
            state[param] = {k: _cast(k, v, param, key) for k, v in values.items()}
        groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            new["params"] = group["params"]
            self._check(new)
            groups.append(new)
        self.state = state
        self.param_groups = groups

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"


def _cast(name: str, value: Any, param: Tensor, index: int) -> Any:
    """A copy of one saved state value, on the parameter's device (and float dtype)."""
    if name == "step":
        return int(value.item()) if isinstance(value, Tensor) else value
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    if value.ndim and value.shape != param.shape:
        raise ValueError(
            f"loaded optimizer state {name!r} of parameter {index} has shape "
            f"{list(value.shape)}, but the parameter has shape {list(param.shape)}"
        )
    with no_grad():
        if value.is_floating_point():
            value = value.to(param.dtype)
        return value.to(param.device).clone()
