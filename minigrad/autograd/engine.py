"""Reverse-mode differentiation over the recorded graph: ``backward`` and ``grad``.

The traversal is iterative: count how many consumers each node has, then run nodes whose
consumers have all passed their gradient on. No recursion, so graphs of any depth work."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from minigrad.autograd import anomaly as A
from minigrad.autograd import function as F
from minigrad.autograd.function import Function

_CYCLE_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the "
    "parameter and its gradient which can cause a memory leak. We recommend using "
    "autograd.grad when creating the graph to avoid this. If you have to use this function, "
    "make sure to reset the .grad fields of your parameters to None after use to break the "
    "cycle and avoid the leak."
)


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, (tuple, list)):
        return tuple(x)
    return (x,)


def _root_grads(outputs, grad_outputs, create_graph):
    """Check the outputs and build their starting gradients (ones for scalars)."""
    from minigrad.tensor import Tensor

    if len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"got {len(grad_outputs)} gradients for {len(outputs)} outputs; give one per output"
        )
    result = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(out, Tensor):
            raise TypeError(f"outputs[{i}] must be a Tensor, got {type(out).__name__}")
        if not out._requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn "
                "(was it computed under no_grad(), or from tensors without requires_grad=True?)"
            )
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; output {i} has "
                    f"shape {tuple(out.shape)}: pass gradient= (a tensor of that shape), or "
                    "reduce it first, e.g. .sum()"
                )
            g = Tensor._make(out.xp.ones_like(out._data), out._device, False, None, None, None)
        else:
            if not isinstance(g, Tensor):
                g = Tensor(g, dtype=out.dtype, device=out._device)
            if tuple(g.shape) != tuple(out.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {tuple(g.shape)} and "
                    f"output[{i}] has a shape of {tuple(out.shape)}"
                )
            if g._device is not out._device:
                raise RuntimeError(
                    f"grad_output[{i}] is on {g._device} but output[{i}] is on {out._device}"
                )
            if g.dtype is not out.dtype:
                g = g.to(out.dtype)
            if not create_graph:
                g = g.detach()
        result.append(g)
    return result


def _collect(roots: list[Function]):
    """Count, for every node reachable from the roots, the edges that point at it."""
    deps: dict[int, int] = {}
    stack = list(roots)
    seen = {id(n) for n in roots}
    while stack:
        node = stack.pop()
        for e in node._edges:
            if isinstance(e, Function):
                k = id(e)
                deps[k] = deps.get(k, 0) + 1
                if k not in seen:
                    seen.add(k)
                    stack.append(e)
    return deps


def _needed(roots, deps, inputs):
    """Nodes that lie on a path to one of ``inputs`` (for ``grad``: run nothing else)."""
    targets = {id(t.grad_fn) if t.grad_fn is not None else id(t) for t in inputs}
    order = []  # a topological order: every node before the nodes it points to
    remaining = dict(deps)
    ready = [n for n in roots if remaining.get(id(n), 0) == 0]
    while ready:
        node = ready.pop()
        order.append(node)
        for e in node._edges:
            if isinstance(e, Function):
                remaining[id(e)] -= 1
                if remaining[id(e)] == 0:
                    ready.append(e)
    needed = set()
    for node in reversed(order):
        k = id(node)
        if any(e is not None and (id(e) in needed or id(e) in targets) for e in node._edges):
            needed.add(k)
    return needed


def run_backward(
    outputs: Sequence,
    grad_outputs: Sequence,
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence | None = None,
    allow_unused: bool = False,
):
    """The engine. With ``inputs`` it returns their gradients (and leaves ``.grad`` alone);
    without, it accumulates into the ``.grad`` of every leaf that requires grad."""
    from minigrad.ops.movement import check_bool
    from minigrad.ops.reduce import sum_to
    from minigrad.tensor import Tensor

    if retain_graph is not True and retain_graph is not False:
        retain_graph = check_bool("backward", "retain_graph", retain_graph)
    if create_graph is not True and create_graph is not False:
        create_graph = check_bool("backward", "create_graph", create_graph)
    outputs = list(outputs)
    for t in (*outputs, *(inputs or ())):
        if isinstance(t, Tensor) and t._base is not None and t._view_version != t._version[0]:
            F.refresh_view(t)  # a view whose base changed in place: rebuild its node first
    roots_g = _root_grads(outputs, list(grad_outputs), create_graph)
    accumulate = inputs is None
    captured: dict[int, object] = {}
    capture_ids = set()
    if not accumulate:
        for t in inputs:
            if not isinstance(t, Tensor) or not t._requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            capture_ids.add(id(t.grad_fn) if t.grad_fn is not None else id(t))

    grads: dict[int, object] = {}
    leaf_grads: dict[int, object] = {}
    roots: list[Function] = []
    for out, g in zip(outputs, roots_g):
        node = out.grad_fn
        if node is None:  # the output is itself a leaf
            k = id(out)
            leaf_grads[k] = (out, g if k not in leaf_grads else leaf_grads[k][1] + g)
            continue
        k = id(node)
        if k in grads:
            grads[k] = grads[k] + g
        else:
            grads[k] = g
            roots.append(node)

    deps = _collect(roots)
    needed = None if accumulate else _needed(roots, deps, inputs)
    ready = [n for n in roots if deps.get(id(n), 0) == 0]
    if create_graph and accumulate:
        warnings.warn(_CYCLE_WARNING, UserWarning, stacklevel=3)
    anomaly = F._anomaly_enabled
    if anomaly:
        A.enter_backward()
    prev_mode = F.set_grad_enabled_flag(create_graph)
    try:
        while ready:
            node = ready.pop()
            k = id(node)
            g = grads.pop(k, None)
            if g is not None:
                if k in capture_ids:
                    captured[k] = g
                if needed is not None and k not in needed:
                    g = None
            if g is None:
                out = None
            else:
                if "_retained" in node.__dict__:
                    _retain(node, g, create_graph)
                out = _run_node(node, g)
                if not retain_graph:
                    node._release()
            # hand each input its gradient (summed to the input's shape) and count down the
            # consumers of the input's node, in one walk over the edges
            for i, e in enumerate(node._edges):
                if e is None:
                    continue
                gi = None if out is None else out[i]
                if gi is not None:
                    gi = _checked(node, i, gi, sum_to, Tensor)
                    if anomaly:
                        A.check_gradient(node, i, gi)
                ke = id(e)
                if isinstance(e, Function):
                    if gi is not None:
                        grads[ke] = gi if ke not in grads else grads[ke] + gi
                    deps[ke] -= 1
                    if deps[ke] == 0:
                        ready.append(e)
                elif gi is not None:  # a leaf
                    leaf_grads[ke] = (e, gi if ke not in leaf_grads else leaf_grads[ke][1] + gi)
    finally:
        F.set_grad_enabled_flag(prev_mode)
        if anomaly:
            A.exit_backward()
    if not retain_graph and not F._released_any:
        F._released_any = True
        F._leak_check = not A._leak_warned

    if accumulate:
        # arrays the caller passed as gradient= must not become (and later be added into as)
        # a leaf's .grad: treat them as already handed out, so a leaf gets a copy
        given = {id(_owner(g._data)) for g, user in zip(roots_g, grad_outputs) if user is not None}
        _accumulate_leaves(leaf_grads, create_graph, given)
        return None
    result = []
    for i, t in enumerate(inputs):
        k = id(t.grad_fn) if t.grad_fn is not None else id(t)
        g = captured.get(k) if t.grad_fn is not None else leaf_grads.get(k, (None, None))[1]
        if g is None and not allow_unused:
            raise RuntimeError(
                f"One of the differentiated Tensors (inputs[{i}], shape {tuple(t.shape)}) appears "
                "to not have been used in the graph. Set allow_unused=True if this is the "
                "desired behavior."
            )
        result.append(g)
    return tuple(result)


def _retain(node, g, create_graph):
    ref = node.__dict__.get("_retained")
    if ref is None:
        return
    t = ref()
    if t is not None:
        # the same gradient flows on to the inputs, maybe into a leaf's .grad: keep a copy
        g = g if create_graph else F._make(g._data.copy(), g._device, False, None, [0], None)
        t.grad = g if t.grad is None else t.grad + g


def _run_node(node, g) -> tuple:
    """One node's backward: one gradient (or None) per positional input."""
    out = type(node).backward(node, g)  # works for methods and PyTorch-style staticmethods
    if type(out) is not tuple:
        out = tuple(out) if isinstance(out, list) else (out,)
    if len(out) != len(node._edges):
        raise RuntimeError(
            f"function {node.name()} returned an incorrect number of gradients "
            f"(expected {len(node._edges)}, got {len(out)})"
        )
    return out


def _checked(node, i, gi, sum_to, Tensor):
    """Gradient ``gi`` for input ``i`` of ``node``, summed to the input's shape and checked."""
    if not isinstance(gi, Tensor):
        raise TypeError(
            f"function {node.name()} returned a {type(gi).__name__} as gradient {i}; "
            "backward must return Tensors (or None)"
        )
    data = gi._data
    shape = node._in_shapes[i]
    if data.shape != shape:
        gi = _fit_shape(node, i, gi, shape, sum_to)
        data = gi._data
    if data.dtype != node._in_dtypes[i]:
        raise RuntimeError(
            f"function {node.name()} returned a gradient of dtype {gi.dtype} for input {i}, "
            f"which has dtype {node._in_dtypes[i]}"
        )
    if gi._device is not node.device:
        raise RuntimeError(
            f"function {node.name()} returned a gradient on {gi._device} for input {i}, "
            f"which is on {node.device}"
        )
    return gi


def _fit_shape(node, i, gi, shape, sum_to):
    """Sum a broadcast gradient back to its input's shape (the one place this happens)."""
    gshape = gi._data.shape
    lead = len(gshape) - len(shape)
    ok = lead >= 0 and all(s == 1 or s == d for s, d in zip(shape, gshape[lead:]))
    if not ok:
        raise RuntimeError(
            f"function {node.name()} returned a gradient of shape {tuple(gshape)} for input "
            f"{i}, which has shape {tuple(shape)}"
        )
    return sum_to(gi, shape)


def _writable(array) -> bool:
    """False for read-only or broadcast (zero-stride) arrays, which must not become ``.grad``."""
    if not getattr(array.flags, "writeable", True):
        return False
    return array.size <= 1 or 0 not in array.strides


def _owner(array):
    """The array that owns ``array``'s memory (itself, or the base of a view)."""
    return array if array.base is None else array.base


def _accumulate_leaves(leaf_grads, create_graph, given: set):
    """Write gradients into ``.grad``: in place when a gradient is already there (as PyTorch
    does); a new gradient is copied if it is read-only or shares memory with one handed to
    another leaf in this pass or with an array in ``given`` (ids of owners), so no two
    ``.grad`` ever alias, nor alias the caller's arrays."""
    from minigrad.tensor import Tensor

    for leaf, g in leaf_grads.values():
        old = leaf.grad
        if create_graph:
            leaf.grad = g if old is None else old + g
            continue
        arr = g._data
        if old is not None:
            o = old._data
            if o.shape == arr.shape and o.dtype == arr.dtype and _writable(o):
                o += arr
                old._version[0] += 1
            else:
                leaf.grad = (old + g).detach()
            continue
        root = _owner(arr)
        if id(root) in given or not _writable(arr):
            arr = arr.copy()
            root = arr
        given.add(id(root))
        leaf.grad = Tensor._make(arr, g._device, False, None, None, None)
