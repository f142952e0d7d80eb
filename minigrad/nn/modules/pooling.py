"""Pooling layers: ``MaxPool1d``, ``MaxPool2d``, ``AvgPool2d`` and ``AdaptiveAvgPool2d``."""

from __future__ import annotations

from typing import Any

from minigrad.nn import functional as F
from minigrad.nn.modules import _args
from minigrad.nn.modules.module import Module
from minigrad.ops.pool import pooled_size
from minigrad.tensor import Tensor


def _check_rank(layer: Module, input: Tensor, n: int) -> None:
    """Batched (N, C, *spatial) or unbatched (C, *spatial) input with ``n`` spatial dims."""
    _args.tensor_input(type(layer).__name__, input)
    if input.ndim not in (n + 1, n + 2):
        dims = "L" if n == 1 else "H, W"
        raise RuntimeError(
            f"{type(layer).__name__} expects a {n + 1}-D (C, {dims}) or {n + 2}-D (N, C, {dims}) "
            f"input; got shape {tuple(input.shape)}"
        )


def _check_pad(name: str, padding: Any, kernel_size: Any, n: int) -> None:
    """The functional ops' rule, checked at construction: padding at most half the kernel size
    (the undilated one, as in PyTorch)."""
    pads = _args.ntuple(name, "padding", padding, n, 0)
    k = _args.ntuple(name, "kernel_size", kernel_size, n, 1)
    if any(p > kk // 2 for p, kk in zip(pads, k)):
        raise ValueError(
            f"{name}: pad should be at most half of kernel size, but got pad={padding} and "
            f"kernel_size={kernel_size}"
        )


def _check_size(layer: Module, input: Tensor, n: int, dilation: Any = 1) -> None:
    """Refuse an input too small for even one window, naming the layer and what would fit."""
    name = type(layer).__name__
    size = tuple(input.shape[-n:])
    k = _args.ntuple(name, "kernel_size", layer.kernel_size, n, 1)
    s = _args.ntuple(name, "stride", layer.stride, n, 1)
    p = _args.ntuple(name, "padding", layer.padding, n, 0)
    d = _args.ntuple(name, "dilation", dilation, n, 1)
    out = [pooled_size(*args, layer.ceil_mode) for args in zip(size, k, s, p, d)]
    if all(o >= 1 for o in out):
        return
    extent = [dd * (kk - 1) + 1 for kk, dd in zip(k, d)]
    padded = [m + 2 * pp for m, pp in zip(size, p)]
    what = "x".join(map(str, size))
    if any(p):
        what += f" ({'x'.join(map(str, padded))} after padding)"
    window = "x".join(map(str, extent))
    if any(dd != 1 for dd in d):
        window += f" ({'x'.join(map(str, k))} with dilation={tuple(d)})"
    least = "x".join(str(max(e - 2 * pp, 1)) for e, pp in zip(extent, p))
    raise RuntimeError(
        f"{name}({layer.extra_repr()}) got input of size {what}, smaller than its pooling "
        f"window of {window}; it needs an input of at least {least}: use a larger input or "
        "a smaller kernel_size"
    )


class _MaxPoolNd(Module):
    _n: int

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        name, n = type(self).__name__, self._n
        _args.ntuple(name, "kernel_size", kernel_size, n, 1)
        if stride is not None:
            _args.ntuple(name, "stride", stride, n, 1)
        _args.ntuple(name, "dilation", dilation, n, 1)
        _check_pad(name, padding, kernel_size, n)
        # the arguments are kept as given (an int stays an int), as PyTorch's repr shows them
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.dilation = dilation
        self.return_indices = _args.flag(name, "return_indices", return_indices)
        self.ceil_mode = _args.flag(name, "ceil_mode", ceil_mode)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows of (N, C, L) input."""

    _n = 1

    def forward(self, input: Tensor) -> Any:
        _check_rank(self, input, 1)
        _check_size(self, input, 1, self.dilation)
        return F.max_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )


class MaxPool2d(_MaxPoolNd):
    """Max over sliding windows of (N, C, H, W) input."""

    _n = 2

    def forward(self, input: Tensor) -> Any:
        _check_rank(self, input, 2)
        _check_size(self, input, 2, self.dilation)
        return F.max_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )


class AvgPool2d(Module):
    """Mean over sliding windows of (N, C, H, W) input."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        name = "AvgPool2d"
        _args.ntuple(name, "kernel_size", kernel_size, 2, 1)
        if stride is not None:
            _args.ntuple(name, "stride", stride, 2, 1)
        _check_pad(name, padding, kernel_size, 2)
        if divisor_override is not None:
            _args.positive_int(name, "divisor_override", divisor_override)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = _args.flag(name, "ceil_mode", ceil_mode)
        self.count_include_pad = _args.flag(name, "count_include_pad", count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        _check_rank(self, input, 2)
        _check_size(self, input, 2)
        return F.avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Mean pooling to a fixed ``output_size`` (H, W) whatever the input size; ``None`` keeps
    that input dimension."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        items = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
        if len(items) != 2 or not all(v is None or (_args.is_int(v) and v > 0) for v in items):
            raise ValueError(
                "AdaptiveAvgPool2d: output_size must be a positive integer or a tuple of 2 "
                f"positive integers (or None), got {output_size!r}"
            )
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        _check_rank(self, input, 2)
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
