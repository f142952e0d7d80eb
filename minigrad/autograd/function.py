"""``Function``: the base of every op (forward on arrays, backward on Tensors), the graph node it
becomes, grad mode, and the registry through which tests enumerate every differentiable op."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minigrad.backend import get_xp, host_scalar_type

Tensor = None  # set by minigrad.tensor once the class exists (the two modules need each other)
_grad_enabled = True  # read on every op; switched by no_grad/enable_grad
_anomaly_enabled = False  # read on every op; switched by autograd.detect_anomaly
_released_any = False  # set once a backward has freed a graph
_leak_check = False  # Tensor addition checks for the accumulated-graph leak while this is True

# name -> callable taking Tensors; primitives register their Function class, composites a function
REGISTRY: dict[str, Any] = {}


def register(name: str):
    """Class or function decorator: make a differentiable op visible to the test registry."""

    def deco(obj):
        if name in REGISTRY:
            raise ValueError(f"op {name!r} registered twice")
        REGISTRY[name] = obj
        if isinstance(obj, type):
            obj.op_name = name
        return obj

    return deco


class _Output:
    """Marker in a node's saved list for the op's own output."""


_OUTPUT = _Output()


class Function:
    """Base of an op and the graph node it leaves behind.

    Subclass and write ``forward(ctx, *arrays, **options)``, which works on the raw arrays of the
    inputs (NumPy or CuPy: use ``ctx.xp``) and returns one array, and ``backward(ctx, grad)``,
    which works on Tensors with differentiable operations (so higher-order gradients work) and
    returns one gradient per positional input (``None`` where there is none). Call it with
    ``MyOp.apply(*inputs, **options)``. In forward, ``ctx.save_for_backward(...)`` keeps inputs or
    the output for backward, where ``ctx.saved_tensors`` gives them back as Tensors.
    """

    op_name = None
    _to_save = ()  # what forward asked to keep, until the node is linked
    is_view = False  # True for ops whose output is a view of the first input
    changes_device = False  # True for the op that moves data: its output is on ctx.out_device
    # Set by apply on each node:
    #   xp                 the array module of the inputs' device
    #   device             their Device
    #   needs_input_grad   one bool per positional input
    #   _edges             per positional input: its grad_fn node, a leaf Tensor, or None
    #   _in_shapes/_in_dtypes   shapes and dtypes of positional tensor inputs (None elsewhere)

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    @classmethod
    def name(cls) -> str:
        return cls.__name__ + "Backward"

    @property
    def next_functions(self) -> tuple:
        return tuple((e if isinstance(e, Function) else None) for e in self._edges)

    # ------------------------------------------------------------------ saving for backward
    def save_for_backward(self, *items) -> None:
        """Keep inputs (the arrays forward received, or Tensors) or the output for backward."""
        self._to_save = items

    def mark_non_differentiable(self) -> None:
        self._non_differentiable = True

    @property
    def saved_tensors(self) -> tuple:
        saved = self.__dict__.get("_saved")
        if saved is None:
            if self.__dict__.get("_freed"):
                raise RuntimeError(
                    f"Trying to backward through the graph a second time (or directly access "
                    f"saved tensors after they have already been freed) in {self.name()}. "
                    f"Saved intermediate values of the graph are freed when you call .backward() "
                    f"or autograd.grad(). Specify retain_graph=True if you need to backward "
                    f"through the graph a second time."
                )
            return ()
        out = []
        for i, (t, version) in enumerate(zip(saved, self._saved_versions)):
            if t is None:
                pass
            elif t is _OUTPUT:
                array, counter = self._out
                if counter[0] != version:
                    what = f"its own output (shape {tuple(array.shape)}, {array.dtype})"
                    self._raise_modified(what, i, counter[0], version)
                t = Tensor._make(array, self.device, True, self, counter, None)
            elif t._version[0] != version:
                now = t.grad_fn
                what = (
                    f"an input (shape {tuple(t.shape)}, {t._data.dtype}), which is now the "
                    f"output of {now.name()}"
                    if now is not None
                    else f"a leaf input (shape {tuple(t.shape)}, {t._data.dtype}), changed "
                    "under no_grad()"
                )
                self._raise_modified(what, i, t._version[0], version)
            out.append(t)
        return tuple(out)

    def _raise_modified(self, what: str, i: int, now: int, expected: int) -> None:
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: tensor {i} saved by {self.name()}, {what}, is at version "
            f"{now}; expected version {expected} instead. Use an out-of-place op (e.g. "
            "x = x + 1 instead of x += 1), or .clone() the tensor before changing it."
        )

    def _release(self) -> None:
        """Free what was saved for backward (called after backward unless retain_graph) and
        mark the node as used up, which the accumulated-graph leak check looks for."""
        d = self.__dict__
        d["_released"] = True
        if d.get("_saved") is not None:
            d["_saved"] = None
            d["_out"] = None
            d["_freed"] = True

    # ------------------------------------------------------------------ running an op
    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("a Function subclass must define backward")

    @property
    def xp(self):
        """The array module (numpy or cupy) of the op's device."""
        return get_xp(self.device)

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = _new(cls)
        arrays = []
        needs = []  # per positional input: does it require grad
        dev = None
        for a in args:
            if isinstance(a, Tensor):
                if a._base is not None and a._view_version != a._version[0]:
                    refresh_view(a)  # its base changed in place since its node was made
                d = a._device
                if d is not dev:
                    if dev is not None:
                        raise RuntimeError(
                            f"Expected all tensors to be on the same device, but found at least "
                            f"two devices, {dev} and {d} (in {cls.__name__.lower()})"
                        )
                    dev = d
                arrays.append(a._data)
                needs.append(a._requires_grad)
            else:
                arrays.append(a)
                needs.append(False)
        if dev is None:
            raise TypeError(f"{cls.__name__}.apply needs at least one Tensor argument")
        ctx.device = dev
        track = _grad_enabled and True in needs
        if track:
            ctx.needs_input_grad = tuple(needs)
        else:
            ctx.needs_input_grad = _NO_GRAD[len(args)] if len(args) < 8 else (False,) * len(args)
        try:
            out = cls.forward(ctx, *arrays, **kwargs)
        except (MemoryError, ValueError) as e:
            if isinstance(e, ValueError) and not _is_size_error(e):
                raise
            raise _out_of_memory(cls, args, e) from None
        if out is None or isinstance(out, _NOT_AN_ARRAY):
            raise TypeError(
                f"{cls.__name__}.forward must return one array (of the module ctx.xp), got "
                f"{type(out).__name__}; an op with several results is written as several ops"
            )
        if isinstance(out, host_scalar_type):  # NumPy gives scalars for 0-d results
            array = ctx.xp.asarray(out)
            if ctx._to_save:
                ctx._to_save = tuple(array if s is out else s for s in ctx._to_save)
            out = array
        if _anomaly_enabled:
            from minigrad.autograd.anomaly import after_forward

            after_forward(cls, ctx, args, out)
        base = None
        if cls.is_view and "_copied" not in ctx.__dict__:
            # the output shares memory, so it shares the version counter; it remembers its
            # root base and the view ops that lead there, to rebuild its node after an
            # in-place change of the base (None: made without grad, never rebuilt)
            src = args[0]
            counter = src._version
            base = src._base
            if base is None:
                base = src
                chain = ((cls, kwargs),) if _grad_enabled else None
            else:
                chain = src._view_fn
                chain = chain + ((cls, kwargs),) if chain is not None and _grad_enabled else None
        else:
            counter = [0]
        if cls.changes_device:
            dev = ctx.out_device
        if not track or "_non_differentiable" in ctx.__dict__:
            t = _make(out, dev, False, None, counter, base)
        else:
            t = ctx._link(args, arrays, out, counter, base, dev)
        if base is not None:
            t._view_fn = chain
            t._view_version = counter[0]
        return t

    def _link(self, args, arrays, out, counter, base, out_device):
        """Turn the op into a graph node: edges to its inputs, saved tensors, the output."""
        edges = []
        shapes = []
        dtypes = []
        for a, need in zip(args, self.needs_input_grad):
            if need:
                fn = a.grad_fn
                edges.append(a if fn is None else fn)
                data = a._data
                shapes.append(data.shape)
                dtypes.append(data.dtype)
            else:
                edges.append(None)
                shapes.append(None)
                dtypes.append(None)
        self._edges = edges
        self._in_shapes = shapes
        self._in_dtypes = dtypes
        to_save = self.__dict__.pop("_to_save", None)
        if to_save:
            self._save(to_save, args, arrays, out, counter)
        return _make(out, out_device, True, self, counter, base)

    def _save(self, items, args, arrays, out, counter) -> None:
        saved = []
        versions = []
        for item in items:
            if item is None:
                saved.append(None)
                versions.append(None)
                continue
            if item is out:
                saved.append(_OUTPUT)
                versions.append(counter[0])
                self._out = (out, counter)
                continue
            if isinstance(item, Tensor):
                t = item
            else:
                t = None
                for x, arr in zip(args, arrays):
                    if arr is item:
                        t = x
                        break
                if not isinstance(t, Tensor):
                    raise RuntimeError(
                        f"{type(self).__name__}.save_for_backward takes the inputs forward "
                        "received or the array it returns; recompute other intermediates "
                        "in backward (so that double backward stays correct)"
                    )
            saved.append(t)
            versions.append(t._version[0])
        self._saved = saved
        self._saved_versions = versions


# NumPy's words for an array larger than any machine's memory (a ValueError, not MemoryError)
_SIZE_ERRORS = ("array is too big", "Maximum allowed size exceeded")


def _is_size_error(e: ValueError) -> bool:
    text = str(e)
    return any(s in text for s in _SIZE_ERRORS)


class OutOfMemoryError(RuntimeError):
    """An op's forward could not allocate its result (a RuntimeError, as in PyTorch)."""


def _out_of_memory(cls, args, e: BaseException) -> RuntimeError:
    """The error for an op whose forward could not allocate its result: names the op, its
    input shapes and what the array library asked for."""
    shapes = ", ".join(str(tuple(a.shape)) for a in args if isinstance(a, Tensor))
    return OutOfMemoryError(
        f"{cls.op_name or cls.__name__}: can't allocate memory for inputs of shapes {shapes}: {e}"
    )


_new = object.__new__
_NOT_AN_ARRAY = (tuple, list)  # Tensor is added once minigrad.tensor defines it
_NO_GRAD = [(False,) * n for n in range(8)]


def _make(array, device, requires_grad, grad_fn, version, base):
    """A Tensor around ``array`` (the fast path of ``Tensor._make``)."""
    t = _new(Tensor)
    t._data = array
    t._device = device
    t._requires_grad = requires_grad
    t.grad = None
    t.grad_fn = grad_fn
    t._version = version
    t._base = base
    return t


def refresh_view(v) -> None:
    """Rebuild the graph node of the view ``v`` from its base's current node, after the base
    (or another view of it) was changed in place: the view's values changed with the base, so
    its gradient must flow through the base's new node, as in PyTorch."""
    global _grad_enabled
    v._view_version = v._version[0]
    chain = v._view_fn
    if chain is None:
        return
    prev, _grad_enabled = _grad_enabled, True
    try:
        t = v._base
        for cls, kwargs in chain:
            t = cls.apply(t, **kwargs)
    finally:
        _grad_enabled = prev
    v.grad_fn = t.grad_fn
    v._requires_grad = t._requires_grad


def view_of(xp, array, chain):
    """Replay the view ops ``chain`` on a raw array: the same view of it."""
    ctx = _new(_Scratch)
    ctx.xp = xp
    for cls, kwargs in chain:
        array = cls.forward(ctx, array, **kwargs)
    return array


class _Scratch:
    """A throwaway context for replaying a view op's forward on an array."""


def is_grad_enabled() -> bool:
    return _grad_enabled


def set_grad_enabled_flag(mode: bool) -> bool:
    """Set grad mode, returning the previous one."""
    global _grad_enabled
    prev = _grad_enabled
    _grad_enabled = bool(mode)
    return prev


def registered_ops() -> dict[str, Callable]:
    return dict(REGISTRY)
