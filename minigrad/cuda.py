"""``minigrad.cuda``: is a CUDA device usable (CuPy installed and a GPU present)?"""

from __future__ import annotations

from minigrad import backend


def is_available() -> bool:
    """True when device ``"cuda"`` can be used. Never raises."""
    return backend.cuda_is_available()


def device_count() -> int:
    return 1 if is_available() else 0


def synchronize() -> None:
    if is_available():
        backend.get_xp(backend.device("cuda")).cuda.Device().synchronize()
