"""``minigrad.nn.functional``: the ops of neural networks, with PyTorch's names and defaults."""

from __future__ import annotations

from minigrad.ops.movement import pad

__all__ = ["pad"]
