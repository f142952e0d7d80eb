"""Testing helpers for minigrad and for code written against it.

``fakecupy`` is a strict CPU stand-in for CuPy: it lets the GPU code path run, and catch leaks
between host and device arrays, on a machine without a GPU (``MINIGRAD_FAKE_CUDA=1``).
"""

from minigrad.testing import fakecupy

__all__ = ["fakecupy"]
