"""``minigrad.nn.functional``: the ops of neural networks, with PyTorch's names and defaults."""

from __future__ import annotations

from minigrad.ops.conv import conv1d, conv2d, conv_transpose2d
from minigrad.ops.movement import pad
from minigrad.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool1d, max_pool2d
