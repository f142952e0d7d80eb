"""Grad mode: ``no_grad``, ``enable_grad`` and ``set_grad_enabled``, as context managers and
decorators. The mode is global (not per thread)."""

from __future__ import annotations

import functools

from minigrad.autograd import function as F


class _Mode:
    enabled = True

    def __enter__(self):
        self._prev = F.set_grad_enabled_flag(self.enabled)
        return self

    def __exit__(self, *exc):
        F.set_grad_enabled_flag(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class _Decorating(_Mode):
    """A mode that also decorates without parentheses: ``@no_grad`` as well as ``@no_grad()``."""

    def __new__(cls, orig_func=None):
        mode = super().__new__(cls)
        if orig_func is None:
            return mode
        if not callable(orig_func):
            raise TypeError(f"{cls.__name__}() takes no arguments (got {orig_func!r})")
        return mode(orig_func)

    def __init__(self, orig_func=None):
        pass


class no_grad(_Decorating):
    """Run without recording the graph (for evaluation and parameter updates)."""

    enabled = False


class enable_grad(_Decorating):
    """Record the graph again inside a ``no_grad`` block."""

    enabled = True


class set_grad_enabled(_Mode):
    """Switch grad mode on or off; takes effect at once, and as a context manager it restores
    the previous mode on exit."""

    def __init__(self, mode: bool):
        if mode is not True and mode is not False:
            from minigrad.ops.movement import check_bool

            mode = check_bool("set_grad_enabled", "mode", mode)
        self.enabled = mode
        self._prev = F.set_grad_enabled_flag(self.enabled)

    def __enter__(self):
        return self

    def __call__(self, fn):
        F.set_grad_enabled_flag(self._prev)
        mode = self.enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


def is_grad_enabled() -> bool:
    return F._grad_enabled
