"""Shape layers: ``Identity``, ``Flatten``, ``Unflatten`` and ``Upsample``."""

from __future__ import annotations

import numbers
from typing import Any

from minigrad.nn import functional as F
from minigrad.nn.modules import _args
from minigrad.nn.modules.module import Module
from minigrad.tensor import Tensor

_UPSAMPLE_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")


class Identity(Module):
    """Returns its input; any constructor arguments are ignored (as in PyTorch)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


class Flatten(Module):
    """Flattens dims ``start_dim..end_dim`` into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        for name, v in (("start_dim", start_dim), ("end_dim", end_dim)):
            if not _args.is_int(v):
                raise TypeError(f"Flatten: {name} must be an integer, got {v!r}")
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return F.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits dim ``dim`` into ``unflattened_size``: (N, 400) -> (N, 16, 5, 5)."""

    def __init__(self, dim: int, unflattened_size: tuple[int, ...] | list[int]) -> None:
        super().__init__()
        if not _args.is_int(dim):
            raise TypeError(f"Unflatten: dim must be an integer, got {dim!r}")
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(
                "Unflatten: unflattened_size must be a tuple of ints, got "
                f"{type(unflattened_size).__name__}"
            )
        for i, s in enumerate(unflattened_size):
            if not _args.is_int(s):
                raise TypeError(
                    "Unflatten: unflattened_size must be tuple of ints, but found element of "
                    f"type {type(s).__name__} at pos {i}"
                )
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        _args.tensor_input(self._get_name(), input)
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Upsample(Module):
    """Resizes (N, C, *spatial) input to ``size`` or by ``scale_factor`` (one of the two)."""

    def __init__(
        self,
        size: Any = None,
        scale_factor: Any = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ) -> None:
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError(
                "Upsample: exactly one of size or scale_factor should be defined, got "
                f"size={size!r}, scale_factor={scale_factor!r}"
            )
        _args.choice("Upsample", "mode", mode, _UPSAMPLE_MODES)
        for arg, v in (
            ("align_corners", align_corners),
            ("recompute_scale_factor", recompute_scale_factor),
        ):
            if v is not None:
                _args.flag("Upsample", arg, v)
        sizes = size if isinstance(size, (tuple, list)) else (size,)
        if size is not None and not all(_args.is_int(s) and s > 0 for s in sizes):
            raise ValueError(f"Upsample: size must be positive integers, got {size!r}")
        factors = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor,)
        if scale_factor is not None and not all(
            isinstance(f, numbers.Real) and not isinstance(f, bool) and f > 0 for f in factors
        ):
            raise ValueError(
                f"Upsample: scale_factor must be positive numbers, got {scale_factor!r}"
            )
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor: Any = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"
