"""Anomaly mode (NaN/Inf checks on every op's output and every gradient, with the user's source
line) and the warning for the classic leak of accumulating a loss that still carries its graph."""

from __future__ import annotations

import functools
import linecache
import os
import sys
import warnings

from minigrad.autograd import function as F

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_leak_warned = False  # the leak warning is given once per process


def set_detect_anomaly(mode: bool) -> None:
    """Switch anomaly mode on or off for the whole process."""
    if not isinstance(mode, bool):
        raise TypeError(f"set_detect_anomaly: mode must be a bool, got {mode!r}")
    F._anomaly_enabled = mode


def is_anomaly_enabled() -> bool:
    return F._anomaly_enabled


class detect_anomaly:
    """Context manager (and decorator) that turns anomaly mode on for its body.

    While on, every float output of an op is checked for NaN/Inf and each graph node records the
    source line that created it; in backward every gradient an op returns is checked too. The
    first non-finite value raises a ``RuntimeError`` naming the op and that line. A value that
    enters already non-finite (a tensor built with ``nan``) is reported at the first op that
    receives it, and the message says its inputs were non-finite. Everything runs slower.
    """

    def __init__(self, check_nan: bool = True) -> None:
        if not isinstance(check_nan, bool):
            raise TypeError(f"detect_anomaly: check_nan must be a bool, got {check_nan!r}")
        self.check_nan = check_nan
        self._prev = False

    def __enter__(self) -> detect_anomaly:
        self._prev = F._anomaly_enabled
        F._anomaly_enabled = self.check_nan
        return self

    def __exit__(self, *exc) -> None:
        F._anomaly_enabled = self._prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


# ---------------------------------------------------------------------- where a node came from
def creation_site() -> str:
    """``file:line: code`` of the innermost stack frame outside the minigrad package."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<inside minigrad>"
    path, line = frame.f_code.co_filename, frame.f_lineno
    code = linecache.getline(path, line).strip()
    return f"{os.path.basename(path)}:{line}: {code}" if code else f"{path}:{line}"


def bad_kind(xp, array) -> str | None:
    """``None`` when a float array is all finite (or the array is not float), else nan/inf."""
    if array.dtype.kind not in "fc" or bool(xp.isfinite(array).all()):
        return None
    return "nan" if bool(xp.isnan(array).any()) else "inf"


# ---------------------------------------------------------------------- the checks
_in_backward = 0  # >0 while the engine runs a backward: its ops are checked at the node instead


def after_forward(cls, ctx, args, out) -> None:
    """Called by ``Function.apply`` in anomaly mode: record the site, check the output."""
    if _in_backward:  # gradients are checked where the backward node returns them
        ctx._anomaly_site = creation_site()
        return
    kind = bad_kind(ctx.xp, out)
    if kind is not None:
        site = creation_site()
        note = ""
        from minigrad.tensor import Tensor

        if any(isinstance(a, Tensor) and bad_kind(ctx.xp, a._data) for a in args):
            note = "; its inputs were already non-finite"
        raise RuntimeError(
            f"anomaly: {cls.__name__} produced {kind} in its output of shape "
            f"{tuple(out.shape)} (created at {site}){note}"
        )
    ctx._anomaly_site = creation_site()


def after_inplace(op: str, t, was_bad: bool) -> None:
    """Called by the in-place ops that write outside autograd (under no_grad, or on tensors
    that need no gradient): raise if the change left ``t`` with NaN or Inf."""
    kind = bad_kind(t.xp, t._data)
    if kind is None:
        return
    note = "; the tensor was already non-finite before it" if was_bad else ""
    raise RuntimeError(
        f"anomaly: {op} produced {kind} in its output of shape {tuple(t.shape)} "
        f"(created at {creation_site()}){note}"
    )


def enter_backward() -> None:
    global _in_backward
    _in_backward += 1


def exit_backward() -> None:
    global _in_backward
    _in_backward -= 1


def check_gradient(node, i: int, grad) -> None:
    """Called by the engine in anomaly mode for each gradient a node's backward returns."""
    kind = bad_kind(node.xp, grad._data)
    if kind is None:
        return
    site = node.__dict__.get("_anomaly_site")
    where = (
        f"the forward op was created at {site}"
        if site
        else "turn anomaly mode on before the forward pass to see where it was created"
    )
    raise RuntimeError(
        f"anomaly: {node.name()} returned {kind} in its gradient for input {i} of shape "
        f"{tuple(grad.shape)} ({where})"
    )


# ---------------------------------------------------------------------- graph leak
def _reaches_freed(t) -> bool:
    """True when ``t``'s graph reaches, within two steps, a node freed by an earlier backward."""
    fn = getattr(t, "grad_fn", None)
    if fn is None:
        return False
    if "_released" in fn.__dict__:
        return True
    for e in fn._edges:
        if isinstance(e, F.Function) and "_released" in e.__dict__:
            return True
    return False


def check_leak(a, b) -> None:
    """Called by ``Tensor.__add__``/``__radd__``/``__iadd__`` once a backward has freed a graph."""
    global _leak_warned
    if _leak_warned or not (_reaches_freed(a) or _reaches_freed(b)):
        return
    _leak_warned = True
    F._leak_check = False
    warnings.warn(
        "a tensor whose graph was already freed by backward() is being added to: accumulating a "
        "loss across steps (total += loss) keeps every step's graph alive. Accumulate "
        "loss.item() (a Python number) or loss.detach() instead. (Warned once per process.)",
        UserWarning,
        stacklevel=3,
    )


def _reset_leak_warning() -> None:
    """Allow the leak warning to fire again (for tests)."""
    global _leak_warned
    _leak_warned = False
    F._leak_check = F._released_any
