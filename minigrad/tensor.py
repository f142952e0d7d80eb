"""The Tensor: an array on a device plus what autograd needs (grad, grad_fn, version).

Everything here is surface: operators and methods forward to the ops in ``minigrad.ops``."""

from __future__ import annotations

import weakref
from typing import Any

from minigrad import backend, dtypes
from minigrad.autograd import function as _function
from minigrad.autograd.anomaly import check_leak


class Tensor:
    """A multi-dimensional array that records the operations applied to it.

    ``Tensor(data, dtype=None, device=None, requires_grad=False)`` copies ``data`` like
    ``minigrad.tensor``.
    """

    __slots__ = (
        "_data",
        "_device",
        "_requires_grad",
        "grad",
        "grad_fn",
        "_version",
        "_base",
        "_view_fn",  # set on views only (when _base is not None): see Function.apply
        "_view_version",
        "__weakref__",
    )
    __array_priority__ = 1000  # NumPy defers to our reflected operators

    def __init__(self, data: Any, dtype=None, device=None, requires_grad: bool = False):
        dev = backend.device(device)
        if isinstance(data, Tensor):
            arr = data._data.copy()
            if dtype is not None:
                arr = arr.astype(dtypes.as_dtype(dtype).np)
            arr = backend.to_device(arr, dev)
        elif backend.is_array(data) and not backend.is_host_array(data):
            arr = data.astype(dtypes.as_dtype(dtype).np) if dtype is not None else data.copy()
            arr = backend.to_device(arr, dev)
        else:
            arr = backend.from_host(_host_array(data, dtype), dev)
        self._data = arr
        self._device = dev
        self._requires_grad = False
        self.grad = None
        self.grad_fn = None
        self._version = [0]
        self._base = None
        if requires_grad is not False and _movement.check_bool(
            "Tensor", "requires_grad", requires_grad
        ):
            self.requires_grad = True

    @staticmethod
    def _make(array, device, requires_grad, grad_fn, version, base) -> Tensor:
        """Wrap an array without copying or checking (for ops)."""
        t = object.__new__(Tensor)
        t._data = array
        t._device = device
        t._requires_grad = requires_grad
        t.grad = None
        t.grad_fn = grad_fn
        t._version = [0] if version is None else version
        t._base = base
        return t

    def _wrap(self, array) -> Tensor:
        """A new tensor on this tensor's device, outside the graph."""
        return Tensor._make(array, self._device, False, None, None, None)

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.from_np(self._data.dtype)

    @property
    def device(self) -> backend.Device:
        return self._device

    @property
    def xp(self):
        """The array module (numpy or cupy) this tensor's array belongs to."""
        return backend.get_xp(self._device)

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value is not True and value is not False:
            value = _movement.check_bool("requires_grad_", "requires_grad", value)
        if value and not self.dtype.is_floating_point:
            raise RuntimeError(
                f"Only Tensors of floating point dtype can require gradients; this one is "
                f"{self.dtype} (convert first, e.g. x.float())"
            )
        if not value and self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        self._requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    @property
    def data(self) -> Tensor:
        """The same array, detached from the graph. Changes made through it are not tracked,
        not even by the version counter (as in PyTorch): backward then uses the new values."""
        return Tensor._make(self._data, self._device, False, None, None, None)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be set to a Tensor, got {type(value).__name__}")
        self._data = value._data
        self._device = value._device

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:
        return self.transpose(-2, -1)

    def size(self, dim: int | None = None):
        shape = self._data.shape
        if dim is None:
            return shape
        if not shape:
            _movement.check_int("size", "dim", dim)
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        return shape[_movement.normalize_dim(dim, len(shape))]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self.grad_fn._retained = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        return self.grad_fn is not None and self.grad_fn.__dict__.get("_retained") is not None

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        """Accumulate the gradient of this tensor into the ``.grad`` of the leaves."""
        from minigrad.autograd.engine import run_backward

        if retain_graph is None:
            retain_graph = create_graph
        if inputs is not None:
            inputs = _tensor_list("backward", "inputs", inputs)
            grads = run_backward([self], [gradient], retain_graph, create_graph, inputs, True)
            for t, g in zip(inputs, grads):
                if g is not None:
                    if not create_graph:  # a copy: .grad is added into in place later
                        g = t._wrap(g._data.copy())
                    t.grad = g if t.grad is None else t.grad + g
            return
        run_backward([self], [gradient], retain_graph, create_graph)

    def detach(self) -> Tensor:
        return Tensor._make(self._data, self._device, False, None, self._version, None)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._requires_grad = False
        return self

    # ------------------------------------------------------------------ conversion
    def numpy(self):
        if self._device.type != "cpu":
            raise TypeError(
                f"can't convert {self._device} device type tensor to numpy. Use Tensor.cpu() to "
                "copy the tensor to host memory first."
            )
        if self._requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self._data

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        return self._data.item()

    def tolist(self):
        return backend.to_host(self._data).tolist()

    def __array__(self, dtype=None, copy=None):
        if self._device.type != "cpu":
            raise TypeError(
                f"can't convert {self._device} device type tensor to numpy. Use Tensor.cpu() to "
                "copy the tensor to host memory first."
            )
        a = self._data
        if dtype is None:
            return a
        try:
            return a.astype(dtype)
        except (TypeError, ValueError):
            raise TypeError(
                f"__array__(): dtype must be a NumPy dtype such as numpy.float32, got {dtype!r}"
            ) from None

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """Export through DLPack (the keyword arguments of the array API standard)."""
        if stream is not None:
            _movement.check_int("__dlpack__", "stream", stream)
        for arg, v in (("max_version", max_version), ("dl_device", dl_device)):
            if v is not None and not (
                isinstance(v, tuple) and len(v) == 2 and all(isinstance(i, int) for i in v)
            ):
                raise TypeError(f"__dlpack__(): {arg} must be a pair of ints or None, got {v!r}")
        if copy is not None:
            _movement.check_bool("__dlpack__", "copy", copy)
        given = {"stream": stream, "max_version": max_version, "dl_device": dl_device, "copy": copy}
        try:
            return self._data.__dlpack__(**{k: v for k, v in given.items() if v is not None})
        except (RuntimeError, ValueError) as e:  # BufferError, the standard's own, passes
            raise RuntimeError(f"__dlpack__(): can't export this tensor: {e}") from None

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def to(self, *args, **kwargs) -> Tensor:
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other_tensor)``."""
        dev = kwargs.pop("device", None)
        dt = kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        copy = kwargs.pop("copy", False)
        if kwargs:
            raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dev, dt = a._device, a.dtype
            elif isinstance(a, (str, backend.Device)):
                dev = a
            else:
                dt = a
        out = self
        if dt is not None:
            dt = dtypes.as_dtype(dt)
            if dt.np != self._data.dtype:
                out = _movement.cast(out, dt)
        if dev is not None:
            dev = backend.device(dev)
            if dev is not self._device:
                out = _movement.to_device(out, dev)
        if copy and out is self:
            out = self.clone()
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self) -> Tensor:
        return self.to("cuda")

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        return self.to(dtypes.float16)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool_)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(_movement.check_tensor("type_as", other, "other").dtype)

    def clone(self) -> Tensor:
        return _movement.clone(self)

    def contiguous(self) -> Tensor:
        return self if self._data.flags.c_contiguous else _movement.clone(self)

    # ------------------------------------------------------------------ python protocol
    def __repr__(self) -> str:
        from minigrad._format import tensor_repr

        return tensor_repr(self)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} values is ambiguous"
            )
        return bool(self._data.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        v = self.item()
        if v != v:
            raise ValueError("cannot convert float NaN to integer")
        if v in (_INF, -_INF):
            raise OverflowError(f"cannot convert float {v} to integer")
        return int(v)

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    __hash__ = object.__hash__

    def __deepcopy__(self, memo):
        """``copy.deepcopy``: a leaf with its own copy of the data (and of ``.grad``)."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment; deepcopy x.detach() instead"
            )
        new = Tensor._make(self._data.copy(), self._device, False, None, None, None)
        new.__class__ = type(self)  # keep subclasses such as Parameter (they add no slots)
        new._requires_grad = self._requires_grad
        memo[id(self)] = new
        if self.grad is not None:
            new.grad = self.grad.__deepcopy__(memo)
        return new

    def __getstate__(self):
        raise TypeError(
            "minigrad tensors are not picklable; use minigrad.save (a format with no code in it)"
        )

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other):
        if _function._leak_check:  # True only after a backward freed a graph, until it warns
            check_leak(self, other)
        return _elementwise.add(self, other)

    def __radd__(self, other):
        if _function._leak_check:
            check_leak(self, other)
        return _elementwise.add(other, self)

    def __sub__(self, other):
        return _elementwise.sub(self, other)

    def __rsub__(self, other):
        return _elementwise.sub(other, self)

    def __mul__(self, other):
        return _elementwise.mul(self, other)

    def __rmul__(self, other):
        return _elementwise.mul(other, self)

    def __truediv__(self, other):
        return _elementwise.div(self, other)

    def __rtruediv__(self, other):
        return _elementwise.div(other, self)

    def __pow__(self, other):
        return _elementwise.pow(self, other)

    def __rpow__(self, other):
        return _elementwise.pow(other, self)

    def __matmul__(self, other):
        return _linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return _linalg.matmul(other, self)

    def __floordiv__(self, other):
        return _compare.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _compare.floor_divide(other, self)

    def __mod__(self, other):
        return _compare.remainder(self, other)

    def __neg__(self):
        return _elementwise.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _elementwise.abs(self)

    def __lt__(self, other):
        return _compare.lt(self, other)

    def __le__(self, other):
        return _compare.le(self, other)

    def __gt__(self, other):
        return _compare.gt(self, other)

    def __ge__(self, other):
        return _compare.ge(self, other)

    def __eq__(self, other):
        return _compare.eq(self, other)

    def __ne__(self, other):
        return _compare.ne(self, other)

    def __invert__(self):
        return _compare.logical_not(self)

    def __and__(self, other):
        return _compare.logical_and(self, other)

    def __or__(self, other):
        return _compare.logical_or(self, other)

    def __xor__(self, other):
        return _compare.logical_xor(self, other)

    def __iadd__(self, other):
        if _function._leak_check:
            check_leak(self, other)
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    # ------------------------------------------------------------------ elementwise methods
    def add(self, other, alpha=1):
        if alpha.__class__ is not int or alpha != 1:
            other = _elementwise.scaled("add", self, other, alpha)
        return _elementwise.add(self, other)

    def sub(self, other, alpha=1):
        if alpha.__class__ is not int or alpha != 1:
            other = _elementwise.scaled("sub", self, other, alpha)
        return _elementwise.sub(self, other)

    def mul(self, other):
        return _elementwise.mul(self, other)

    def div(self, other):
        return _elementwise.div(self, other)

    def pow(self, exponent):
        return _elementwise.pow(self, exponent)

    def neg(self):
        return _elementwise.neg(self)

    def exp(self):
        return _elementwise.exp(self)

    def log(self):
        return _elementwise.log(self)

    def sqrt(self):
        return _elementwise.sqrt(self)

    def abs(self):
        return _elementwise.abs(self)

    def erf(self):
        from minigrad.ops.activation import erf

        return erf(self)

    def sin(self):
        return _elementwise.sin(self)

    def cos(self):
        return _elementwise.cos(self)

    def tanh(self):
        return _elementwise.tanh(self)

    def sigmoid(self):
        return _elementwise.sigmoid(self)

    def relu(self):
        return _elementwise.relu(self)

    def square(self):
        return _elementwise.mul(self, self)

    def clamp(self, min=None, max=None):
        return _elementwise.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _elementwise.maximum(self, other)

    def minimum(self, other):
        return _elementwise.minimum(self, other)

    def where(self, condition, other):
        return _elementwise.where(condition, self, other)

    def masked_fill(self, mask, value):
        return _elementwise.where(mask, value, self)

    def sign(self):
        return _compare.sign(self)

    def isnan(self):
        return _compare.isnan(self)

    def isfinite(self):
        return _compare.isfinite(self)

    # ------------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim=False, dtype=None):
        return _reduce.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False):
        return _reduce.mean(self, dim, keepdim)

    def var(self, dim=None, unbiased=True, keepdim=False, *, correction=None):
        return _reduce.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=True, keepdim=False, *, correction=None):
        return _reduce.std(self, dim, unbiased, keepdim, correction=correction)

    def max(self, dim=None, keepdim=False):
        return _reduce.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return _reduce.min(self, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return _reduce.amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return _reduce.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return _reduce.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _reduce.argmin(self, dim, keepdim)

    def prod(self, dim=None, keepdim=False):
        return _reduce.prod(self, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return _reduce.logsumexp(self, dim, keepdim)

    def softmax(self, dim):
        return _reduce.softmax(self, dim)

    def log_softmax(self, dim):
        return _reduce.log_softmax(self, dim)

    def all(self, dim=None, keepdim=False):
        return _compare.all(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return _compare.any(self, dim, keepdim)

    # ------------------------------------------------------------------ shape and movement
    def reshape(self, *shape):
        return _movement.reshape(self, *shape)

    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
            raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
        return _movement.view(self, *shape)

    def view_as(self, other):
        return _movement.view(self, _movement.check_tensor("view_as", other, "other").shape)

    def reshape_as(self, other):
        return _movement.reshape(self, _movement.check_tensor("reshape_as", other, "other").shape)

    def permute(self, *dims):
        return _movement.permute(self, *dims)

    def transpose(self, dim0, dim1):
        return _movement.transpose(self, dim0, dim1)

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D"
            )
        return self.T

    def flatten(self, start_dim=0, end_dim=-1):
        return _movement.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return _movement.unflatten(self, dim, sizes)

    def unsqueeze(self, dim):
        return _movement.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        return _movement.squeeze(self, dim)

    def expand(self, *sizes):
        return _movement.expand(self, *sizes)

    def expand_as(self, other):
        return _movement.expand(self, _movement.check_tensor("expand_as", other, "other").shape)

    def broadcast_to(self, shape):
        return _movement.expand(self, shape)

    def repeat(self, *sizes):
        return _movement.repeat(self, *sizes)

    def flip(self, dims):
        return _movement.flip(self, dims)

    def split(self, split_size_or_sections, dim=0):
        return _movement.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return _movement.chunk(self, chunks, dim)

    def __getitem__(self, key):
        return _movement.getitem(self, key)

    def __setitem__(self, key, value):
        _inplace.setitem(self, key, value)

    # ------------------------------------------------------------------ in place
    def add_(self, other, alpha=1):
        return _inplace.add_(self, other, alpha)

    def sub_(self, other, alpha=1):
        return _inplace.add_(self, other, alpha, "sub_")

    def mul_(self, other):
        return _inplace.mul_(self, other)

    def div_(self, other):
        return _inplace.div_(self, other)

    def clamp_(self, min=None, max=None):
        return _inplace.clamp_(self, min, max)

    def zero_(self):
        return _inplace.fill_(self, 0)

    def fill_(self, value):
        return _inplace.fill_(self, value)

    def copy_(self, src):
        return _inplace.copy_(self, src)

    def uniform_(self, a=0.0, b=1.0):
        return _inplace.copy_random_(self, "uniform", a, b)

    def normal_(self, mean=0.0, std=1.0):
        return _inplace.copy_random_(self, "normal", mean, std)

    # ------------------------------------------------------------------ new tensors alike
    def new_zeros(self, *size, dtype=None):
        from minigrad import creation

        dtype = self.dtype if dtype is None else dtype
        return creation.zeros(*size, dtype=dtype, device=self._device)

    def new_ones(self, *size, dtype=None):
        from minigrad import creation

        dtype = self.dtype if dtype is None else dtype
        return creation.ones(*size, dtype=dtype, device=self._device)

    def new_tensor(self, data, dtype=None):
        return Tensor(data, dtype=self.dtype if dtype is None else dtype, device=self._device)


_INF = float("inf")


def _tensor_list(name: str, arg: str, value) -> list:
    """A Tensor or a sequence of Tensors, as a list."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)) and all(isinstance(v, Tensor) for v in value):
        return list(value)
    raise TypeError(
        f"{name}(): argument '{arg}' must be a Tensor or a sequence of Tensors, got "
        f"{type(value).__name__}"
    )


def _host_array(data, dtype):
    """Python data or host arrays to a host array of the requested (or inferred) dtype."""
    if dtype is not None:
        dt = dtypes.as_dtype(dtype)
        return backend.as_host_array(data, dt.np).copy()
    if backend.is_host_array(data):
        arr = backend.as_host_array(data).copy()
        dtypes.from_np(arr.dtype)  # refuses unsupported dtypes
        return arr
    arr = backend.as_host_array(data)
    kind = arr.dtype.kind
    if kind == "f":
        return arr.astype(dtypes.get_default_dtype().np)
    if kind in "iu":
        return arr.astype(dtypes.int64.np)
    if kind == "b":
        return arr
    if kind in "OUS":  # objects or strings: say which element, as for ragged lists
        raise backend.data_error(data)
    raise TypeError(
        f"can't build a tensor from {type(data).__name__} data (got an array of kind "
        f"{arr.dtype}); expected numbers, nested lists of numbers, or an array"
    )


_function.Tensor = Tensor
_function._NOT_AN_ARRAY = (tuple, list, Tensor)

from minigrad.ops import compare as _compare  # noqa: E402
from minigrad.ops import elementwise as _elementwise  # noqa: E402
from minigrad.ops import inplace as _inplace  # noqa: E402
from minigrad.ops import linalg as _linalg  # noqa: E402
from minigrad.ops import movement as _movement  # noqa: E402
from minigrad.ops import reduce as _reduce  # noqa: E402
