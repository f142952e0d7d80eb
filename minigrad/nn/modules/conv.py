"""Convolution layers: ``Conv1d``, ``Conv2d`` and ``ConvTranspose2d`` (PyTorch's arguments,
weight layouts and default initialisation)."""

from __future__ import annotations

import math
from typing import Any

from minigrad import creation
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.modules import _args
from minigrad.nn.modules.module import Module
from minigrad.nn.modules.parameter import Parameter
from minigrad.tensor import Tensor

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What the convolutions share: argument checks, parameters, init and ``repr``.

    Weight layout: (out, in / groups, *kernel) for convolutions and (in, out / groups, *kernel)
    for transposed ones, as in PyTorch."""

    _n: int  # spatial dimensions
    _transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        output_padding: Any = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        name, n = type(self).__name__, self._n
        self.in_channels = _args.positive_int(name, "in_channels", in_channels)
        self.out_channels = _args.positive_int(name, "out_channels", out_channels)
        self.groups = _args.positive_int(name, "groups", groups)
        for arg, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
            if channels % groups:
                raise ValueError(
                    f"{name}: {arg} ({channels}) must be divisible by groups ({groups})"
                )
        self.kernel_size = _args.ntuple(name, "kernel_size", kernel_size, n, 1)
        self.stride = _args.ntuple(name, "stride", stride, n, 1)
        self.dilation = _args.ntuple(name, "dilation", dilation, n, 1)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(
                    f"{name}: invalid padding string {padding!r}, should be one of "
                    "{'valid', 'same'}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(
                    f"{name}: padding='same' is not supported for strided convolutions "
                    f"(stride={self.stride})"
                )
            if self._transposed:
                raise ValueError(f"{name}: padding must be an integer or tuple, not a string")
            self.padding: Any = padding
        else:
            self.padding = _args.ntuple(name, "padding", padding, n, 0)
        if not isinstance(padding_mode, str) or padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of {_PADDING_MODES}, but got "
                f"padding_mode={padding_mode!r}"
            )
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f'{name}: only "zeros" padding_mode is supported')
        self.padding_mode = padding_mode
        self.output_padding = _args.ntuple(name, "output_padding", output_padding, n, 0)
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if op >= s and op >= d:
                raise ValueError(
                    f"{name}: output padding must be smaller than either stride or dilation, "
                    f"got output_padding={self.output_padding}, stride={self.stride}, "
                    f"dilation={self.dilation}"
                )
        if self._transposed:
            shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        else:
            shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(creation.empty(shape, device=device, dtype=dtype))
        if _args.flag(name, "bias", bias):
            self.bias = Parameter(creation.empty(self.out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # fan_in comes from weight dim 1, also for the transposed layout (PyTorch does the same)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            init._no_grad_uniform_bias(self.bias, self.weight)

    def _name(self) -> str:
        return (
            f"{type(self).__name__}(in_channels={self.in_channels}, "
            f"out_channels={self.out_channels}, kernel_size={self.kernel_size})"
        )

    def _check_input(self, input: Tensor) -> None:
        """Batched (N, C, *spatial) or unbatched (C, *spatial) input with ``in_channels``."""
        _args.tensor_input(self, input)
        shape, n = input.shape, self._n
        if len(shape) not in (n + 1, n + 2):
            dims = "L" if n == 1 else "H, W"
            raise RuntimeError(
                f"{self._name()} expects a {n + 1}-D (C, {dims}) or {n + 2}-D (N, C, {dims}) "
                f"input; got shape {tuple(shape)}"
            )
        c = shape[-n - 1]
        if c != self.in_channels:
            raise RuntimeError(
                f"{self._name()} got input with {c} channels (shape {tuple(shape)}); "
                f"expected {self.in_channels}"
            )
        _args.same_dtype(self, input, self.weight)

    def _pads(self) -> list[tuple[int, int]]:
        """(before, after) padding per spatial dim; 'same' puts the odd element after, as the
        functional op does."""
        n = self._n
        if self.padding == "valid":
            return [(0, 0)] * n
        if self.padding == "same":
            total = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            return [(t // 2, t - t // 2) for t in total]
        return [(p, p) for p in self.padding]

    def extra_repr(self) -> str:
        n = self._n
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    _conv: str  # the functional op

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device=device,
            dtype=dtype,
        )

    def _check_size(self, input: Tensor) -> None:
        """Refuse an input the padding mode can't pad or the kernel doesn't fit, naming the
        layer and what would fit."""
        size = tuple(input.shape[-self._n :])
        pads = self._pads()
        mode = self.padding_mode
        if mode in ("reflect", "circular"):
            # reflect mirrors without repeating the edge (pad < size); circular wraps once
            limit = [m - 1 if mode == "reflect" else m for m in size]
            if any(max(p) > lim for p, lim in zip(pads, limit)):
                raise RuntimeError(
                    f"{self._name()} with padding_mode={mode!r} got input of size "
                    f"{_x(size)}, too small for its padding {tuple(pads)} (each side must be "
                    f"{'smaller than' if mode == 'reflect' else 'at most'} the input size); "
                    "use a larger input, less padding or padding_mode='replicate'"
                )
        padded = [m + a + b for m, (a, b) in zip(size, pads)]
        extent = [d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation)]
        if all(p >= e for p, e in zip(padded, extent)):
            return
        what = _x(size) + (f" ({_x(padded)} after padding)" if padded != list(size) else "")
        kernel = f"{_x(extent)} kernel" if self._n > 1 else f"kernel of length {extent[0]}"
        if any(d != 1 for d in self.dilation):
            kernel += f" ({_x(self.kernel_size)} with dilation={self.dilation})"
        raise RuntimeError(
            f"{self._name()} got input of {'size' if self._n > 1 else 'length'} {what}, "
            f"smaller than its {kernel}; use a larger input, more padding (e.g. "
            "padding='same') or a smaller kernel_size"
        )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        self._check_size(input)
        conv = getattr(F, self._conv)
        if self.padding_mode != "zeros":
            # F.pad widths: (before, after) pairs, last dim first
            widths = [w for pair in reversed(self._pads()) for w in pair]
            input = F.pad(input, widths, mode=self.padding_mode)
            padding: Any = 0
        else:
            padding = self.padding
        return conv(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


def _x(size) -> str:
    """``(3, 4) -> '3x4'``."""
    return "x".join(map(str, size))


class Conv1d(_Conv):
    """1-D convolution over (N, C, L) input; weight (out, in / groups, k)."""

    _n = 1
    _conv = "conv1d"


class Conv2d(_Conv):
    """2-D convolution over (N, C, H, W) input; weight (out, in / groups, kh, kw)."""

    _n = 2
    _conv = "conv2d"


class ConvTranspose2d(_ConvNd):
    """The transpose (gradient) of a 2-D convolution, used to upsample; weight
    (in, out / groups, kh, kw). ``forward(x, output_size=None)`` like PyTorch."""

    _n = 2
    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            output_padding,
            device=device,
            dtype=dtype,
        )

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple[int, ...]:
        """The output padding that makes the result ``output_size`` (H, W) large."""
        if output_size is None:
            return self.output_padding
        if not isinstance(output_size, (tuple, list)) or not all(
            _args.is_int(s) for s in output_size
        ):
            raise TypeError(
                f"{self._name()}: output_size must be a tuple of ints (H, W) or (N, C, H, W), "
                f"got {output_size!r}"
            )
        size = [int(s) for s in output_size][-2:]
        if len(output_size) not in (2, input.ndim):
            raise ValueError(
                f"{self._name()}: output_size must have 2 or {input.ndim} elements (the output's "
                f"last 2 or all dimensions), got {output_size!r}"
            )
        pads = []
        for d in range(2):
            dim = input.shape[-2 + d]
            k, s, p, dil = self.kernel_size[d], self.stride[d], self.padding[d], self.dilation[d]
            smallest = (dim - 1) * s - 2 * p + dil * (k - 1) + 1
            if not smallest <= size[d] < smallest + s:
                raise ValueError(
                    f"{self._name()}: requested an output size of {size}, but valid sizes "
                    f"for dimension {d} range from {smallest} to {smallest + s - 1} (for an "
                    f"input of {tuple(input.shape[-2:])})"
                )
            pads.append(size[d] - smallest)
        return tuple(pads)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        self._check_input(input)
        output_padding = self._output_padding(input, output_size)
        size = tuple(input.shape[-2:])
        full = [
            (n - 1) * s + d * (k - 1) + 1 + op
            for n, s, d, k, op in zip(
                size, self.stride, self.dilation, self.kernel_size, output_padding
            )
        ]
        out = [f - 2 * p for f, p in zip(full, self.padding)]
        if any(o <= 0 for o in out):
            raise RuntimeError(
                f"{self._name()} got input of size {_x(size)}, which gives an output of "
                f"{_x(full)} before padding={self.padding} trims it to {_x(out)}; use less "
                "padding, a larger input or a larger kernel_size"
            )
        return F.conv_transpose2d(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            output_padding,
            self.groups,
            self.dilation,
        )
