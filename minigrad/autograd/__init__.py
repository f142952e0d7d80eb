"""Reverse-mode automatic differentiation: the op base class, the engine, grad mode, gradcheck,
anomaly mode."""

from __future__ import annotations

from minigrad.autograd.anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from minigrad.autograd.function import REGISTRY, Function, register, registered_ops
from minigrad.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minigrad.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph: bool = False,
    allow_unused: bool = False,
):
    """The gradients of ``outputs`` with respect to ``inputs`` (a tuple, one per input), without
    touching any ``.grad``. With ``create_graph=True`` the result can be differentiated again."""
    from minigrad.autograd.engine import run_backward
    from minigrad.tensor import Tensor

    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if retain_graph is None:
        retain_graph = create_graph
    return run_backward(
        outputs, list(grad_outputs), retain_graph, create_graph, inputs, allow_unused
    )


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False) -> None:
    """Accumulate gradients of several outputs at once into the leaves' ``.grad``."""
    from minigrad.autograd.engine import run_backward
    from minigrad.tensor import Tensor

    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(tensors, list(grad_tensors), retain_graph, create_graph)


__all__ = [
    "Function",
    "GradcheckError",
    "REGISTRY",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "register",
    "registered_ops",
    "set_detect_anomaly",
    "set_grad_enabled",
]
