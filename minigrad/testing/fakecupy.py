"""A strict stand-in for CuPy, for testing GPU code paths on a machine with no GPU.

Import it in place of ``cupy`` (it also provides ``cupyx.scatter_add`` as ``scatter_add``).
Its arrays are :class:`ndarray` objects that hold a NumPy array but are not NumPy arrays, and
they refuse what CuPy refuses, so that code which leaks "device" arrays into NumPy, or host
arrays into device code, fails on the CPU the way it would fail on a GPU:

* implicit conversion to NumPy (``np.asarray(x)``, ``host[...] = x``, ``np.exp(x)``,
  ``np.sum(x)``, ``np.concatenate([x])``, ``np.add.at(x, ...)``) raises ``TypeError``;
  only explicit transfers work: ``asnumpy(x)``, ``x.get()``, ``x.item()``, ``x.tolist()``,
  and ``float``/``int``/``bool`` of one-element arrays;
* a NumPy array mixed into a device operation (``x + host``, ``host + x``,
  ``add(x, host)``, ``concatenate([x, host])``, ``x[...] = host``) raises ``TypeError``;
  Python and NumPy scalars are accepted, as CuPy accepts them;
* results are always device arrays: reductions and single-element indexing give 0-d arrays;
* out-of-range integer-array indices wrap around (``i`` behaves like ``i % n``) in
  ``x[idx]``, ``x[idx] = v``, ``take``, ``ufunc.at`` and ``scatter_add``, as CuPy does;
  a plain integer index out of range still raises ``IndexError``;
* floating-point events (overflow, 0/0, inf - inf) are silent: CuPy never warns about them,
  so NumPy's ``RuntimeWarning`` must not show (or be needed) on the device path;
* the ufunc methods CuPy lacks raise ``NotImplementedError`` (``reduce`` and ``accumulate``
  exist only for ``add``/``multiply``; ``at`` only for ``add``, ``subtract``, ``maximum``,
  ``minimum`` and the bitwise ones, with CuPy's dtype limits), and NumPy names CuPy does not
  have (``errstate``, ``nditer``, ...) are missing.

Views stay views (slices, ``reshape``, ``T``, ``as_strided``...), in-place operators and
``out=`` write into the wrapped data, and ``random`` draws the same numbers NumPy draws for
the same seed. ``cuda`` reports one available device.

minigrad uses this module as its CUDA array module when ``MINIGRAD_FAKE_CUDA=1``; it can test
any NumPy/CuPy-generic code in the same way. It is written for clarity, not speed.
"""

from __future__ import annotations

import builtins  # the module defines its own any/sum/max/abs, so builtins are named in full
import functools
import operator
import sys
import types
from typing import Any

import numpy as np

_IMPLICIT = (
    "Implicit conversion to a NumPy array is not allowed. "
    "Please use `.get()` to construct a NumPy array explicitly."
)
_SCALARS = (bool, int, float, complex, np.generic)


def _unsupported(obj: Any) -> TypeError:
    return TypeError(f"Unsupported type {type(obj)}")


# ---------------------------------------------------------------- wrapping and unwrapping


def _unwrap(obj: Any, found: list, host_ok: bool = False) -> Any:
    """Replace device arrays by their NumPy data, recursively; refuse host arrays."""
    if isinstance(obj, ndarray):
        found.append(obj)
        return obj._a
    if isinstance(obj, np.ndarray):
        if host_ok:
            return obj
        raise _unsupported(obj)
    if isinstance(obj, list):
        return [_unwrap(o, found, host_ok) for o in obj]
    if isinstance(obj, tuple):
        return tuple(_unwrap(o, found, host_ok) for o in obj)
    if isinstance(obj, dict):
        return {k: _unwrap(v, found, host_ok) for k, v in obj.items()}
    return obj


def _wrap(obj: Any, parents: list | tuple = ()) -> Any:
    """Replace NumPy arrays and scalars by device arrays, recursively.

    ``parents`` are the device arrays the result was computed from: an output that *is* one of
    their arrays (``out=``) gives that array back, and a view of one records it as its base.
    """
    if isinstance(obj, np.ndarray):
        for p in parents:
            if obj is p._a:
                return p
        out = ndarray._from_numpy(obj)
        if obj.base is not None:
            for p in parents:
                if np.may_share_memory(obj, p._a):
                    out._base = p if p._base is None else p._base
                    break
        return out
    if isinstance(obj, np.generic):
        return ndarray._from_numpy(np.asarray(obj))
    if isinstance(obj, list):
        return [_wrap(o, parents) for o in obj]
    if isinstance(obj, tuple):
        items = [_wrap(o, parents) for o in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else tuple(items)
    if isinstance(obj, dict):
        return {k: _wrap(v, parents) for k, v in obj.items()}
    return obj


# CuPy's kernels raise no floating-point warnings; NumPy's do, so device work runs without them
_quiet = np.errstate(all="ignore")


@_quiet
def _call(func, args: tuple, kwargs: dict, parents: tuple = (), host_ok: bool = False) -> Any:
    found = list(parents)
    args = _unwrap(args, found, host_ok)
    kwargs = _unwrap(kwargs, found, host_ok)
    return _wrap(func(*args, **kwargs), found)


def _delegate(func, zero_dim: bool = False, host_ok: bool = False):
    """The NumPy function ``func`` taking and returning device arrays.

    ``zero_dim``: wrap a Python scalar result in a 0-d array, as CuPy returns one.
    ``host_ok``: accept host arrays (for functions that only read dtypes).
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        out = _call(func, args, kwargs, host_ok=host_ok)
        if zero_dim and isinstance(out, _SCALARS):
            out = ndarray._from_numpy(np.asarray(out))
        return out

    return wrapper


def _index(key: Any, shape: tuple) -> Any:
    """An index for NumPy: device index arrays unwrapped, host ones and lists accepted (as by
    CuPy), and integer-array indices wrapped around their axis the way CuPy wraps them."""
    items = list(key) if isinstance(key, tuple) else [key]
    for i, item in enumerate(items):
        if isinstance(item, ndarray):
            items[i] = item._a
        elif isinstance(item, list):
            arr = np.asarray(_unwrap(item, [], host_ok=True))
            items[i] = arr.astype(np.intp) if arr.size == 0 else arr

    def width(item: Any) -> int:  # how many axes of the array an index entry consumes
        if item is None or item is Ellipsis or isinstance(item, (bool, np.bool_)):
            return 0
        if isinstance(item, np.ndarray) and item.dtype == np.bool_:
            return item.ndim
        return 1

    free = len(shape) - builtins.sum(width(item) for item in items)
    axis = 0
    for i, item in enumerate(items):
        if item is Ellipsis:
            axis += builtins.max(free, 0)
            continue
        is_int_array = isinstance(item, np.ndarray) and item.dtype.kind in "iu"
        if is_int_array and axis < len(shape) and shape[axis] > 0:
            items[i] = np.mod(item, shape[axis])
        axis += width(item)
    return tuple(items)


def _has_array_index(key: tuple) -> bool:
    arrays = [k for k in key if isinstance(k, np.ndarray)]
    return not (len(arrays) == 0 or (len(arrays) == 1 and arrays[0].dtype == np.bool_))


def _operand(other: Any) -> Any:
    """The NumPy-side value of an operator's other operand, or NotImplemented."""
    if isinstance(other, ndarray):
        return other._a
    if isinstance(other, _SCALARS):
        return other
    if isinstance(other, np.ndarray):
        raise _unsupported(other)
    return NotImplemented


# ---------------------------------------------------------------- the array class


class ndarray:
    """A "device" array: a NumPy array behind CuPy's walls.

    ``ndarray(shape, dtype=float)`` makes an uninitialized array, as ``cupy.ndarray`` does;
    use :func:`asarray` to copy host data in and :meth:`get` to copy it out.
    """

    __slots__ = ("_a", "_base")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, shape, dtype=float, order: str = "C") -> None:
        self._a = np.empty(shape, dtype=dtype, order=order)
        self._base = None

    @classmethod
    def _from_numpy(cls, arr: np.ndarray) -> ndarray:
        self = object.__new__(cls)
        self._a = arr
        self._base = None
        return self

    # ---- the walls: NumPy may not look inside
    def __array__(self, dtype=None, copy=None):
        raise TypeError(_IMPLICIT)

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"{_IMPLICIT} (numpy.{func.__name__} was given a cupy array)")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc in _COMPARISONS:  # NumPy passes a NumPy scalar here as a 0-d array; CuPy undoes it
            inputs = tuple(i[()] if isinstance(i, np.ndarray) and not i.ndim else i for i in inputs)
        others = [i for i in inputs + tuple(kwargs.get("out", ())) if not isinstance(i, ndarray)]
        for other in others:
            if isinstance(other, np.ndarray):
                raise _unsupported(other)
        # `np.float32(2) * x` arrives here from the NumPy scalar's operator; CuPy computes it.
        if (
            method == "__call__"
            and not kwargs
            and ufunc in _OPERATOR_UFUNCS
            and builtins.any(isinstance(i, np.generic) for i in others)
        ):
            return _call(ufunc, inputs, {})
        raise TypeError(f"{_IMPLICIT} (numpy.{ufunc.__name__}.{method} was given a cupy array)")

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        raise BufferError(
            "fakecupy arrays stand for CUDA memory and cannot be exported through DLPack; "
            "use .get() for a NumPy copy"
        )

    def __dlpack_device__(self) -> tuple[int, int]:
        return (2, 0)  # (kDLCUDA, device 0)

    # ---- explicit transfers and Python conversions
    def get(self, stream=None, order: str = "C", out: np.ndarray | None = None, blocking=True):
        """Copy to a new NumPy array, or into ``out`` (same shape and dtype)."""
        if out is None:
            return np.array(self._a, order=order)
        if not isinstance(out, np.ndarray):
            raise TypeError("Only numpy.ndarray can be obtained from cupy.ndarray")
        if out.dtype != self.dtype:
            raise TypeError(f"{out.dtype} array cannot be obtained from {self.dtype} array")
        if out.shape != self.shape:
            raise ValueError(f"Shape mismatch. Expected shape: {self.shape}, actual: {out.shape}")
        out[...] = self._a
        return out

    def set(self, arr: np.ndarray, stream=None) -> None:
        """Copy a NumPy array of the same shape and dtype into this array."""
        if not isinstance(arr, np.ndarray):
            raise TypeError("Only numpy.ndarray can be set to cupy.ndarray")
        if arr.dtype != self.dtype:
            raise TypeError(f"{arr.dtype} array cannot be set to {self.dtype} array")
        if arr.shape != self.shape:
            raise ValueError(f"Shape mismatch. Old shape: {self.shape}, new shape: {arr.shape}")
        self._a[...] = arr

    def item(self, *args) -> Any:
        return self._a.item(*args)

    def tolist(self) -> Any:
        return self._a.tolist()

    def tobytes(self, order: str = "C") -> bytes:
        return self._a.tobytes(order)

    def __bool__(self) -> bool:
        return bool(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __complex__(self) -> complex:
        return complex(self._a)

    # CuPy arrays have no __index__: range(x) or some_list[x] fails on a GPU, so it fails here.

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self._a.shape[0]))

    def __repr__(self) -> str:
        return repr(self._a)

    def __str__(self) -> str:
        return str(self._a)

    def __format__(self, spec: str) -> str:
        return format(self._a, spec)

    def __copy__(self) -> ndarray:
        return self.copy()

    def __deepcopy__(self, memo) -> ndarray:
        return self.copy()

    def __reduce__(self):
        return (array, (self.get(),))

    # ---- attributes
    @property
    def shape(self) -> tuple[int, ...]:
        return self._a.shape

    @shape.setter
    def shape(self, value) -> None:
        self._a.shape = value

    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: _wrap(self._a.T, (self,)))
    mT = property(lambda self: _wrap(self._a.mT, (self,)))
    real = property(lambda self: _wrap(self._a.real, (self,)))
    imag = property(lambda self: _wrap(self._a.imag, (self,)))

    @property
    def base(self) -> ndarray | None:
        """The device array this one is a view of, or None."""
        return self._base

    @property
    def device(self) -> _Device:
        return _Device(0)

    # ---- indexing
    def __getitem__(self, key) -> ndarray:
        key = _index(key, self._a.shape)
        if not builtins.any(k is Ellipsis for k in key):
            key = key + (Ellipsis,)  # a 0-d view rather than a NumPy scalar, as CuPy gives
        return _wrap(self._a[key], (self,))

    def __setitem__(self, key, value) -> None:
        if isinstance(value, ndarray):
            value = value._a
        elif not (
            isinstance(value, _SCALARS) or (isinstance(value, np.ndarray) and not value.ndim)
        ):
            raise _unsupported(value)
        self._a[_index(key, self._a.shape)] = value

    def take(self, indices, axis=None, out=None) -> ndarray:
        return take(self, indices, axis=axis, out=out)

    def put(self, indices, values, mode: str = "wrap") -> None:
        put(self, indices, values, mode=mode)

    # ---- unary operators
    def __neg__(self) -> ndarray:
        return _wrap(-self._a)

    def __pos__(self) -> ndarray:
        return _wrap(+self._a)

    def __abs__(self) -> ndarray:
        return _wrap(builtins.abs(self._a))

    def __invert__(self) -> ndarray:
        return _wrap(~self._a)


def _method(name: str):
    def method(self, *args, **kwargs):
        return _call(getattr(self._a, name), args, kwargs, parents=(self,))

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"Like numpy.ndarray.{name}, on the device."
    return method


for _name in (
    "all any argmax argmin argpartition argsort astype choose clip compress conj conjugate copy "
    "cumprod cumsum diagonal dot fill flatten max mean min nonzero partition prod ravel repeat "
    "reshape round searchsorted sort squeeze std sum swapaxes trace transpose var view"
).split():
    setattr(ndarray, _name, _method(_name))


def _binary(func, reflected: bool = False):
    @_quiet
    def op(self, other):
        b = _operand(other)
        if b is NotImplemented:
            return NotImplemented
        return _wrap(func(b, self._a) if reflected else func(self._a, b))

    return op


def _inplace(func):
    @_quiet
    def op(self, other):
        b = _operand(other)
        if b is NotImplemented:
            return NotImplemented
        func(self._a, b)  # NumPy's in-place operator writes into the wrapped array
        return self

    return op


for _name in "add sub mul truediv floordiv mod pow matmul and or xor lshift rshift".split():
    _func = getattr(operator, _name + "_" if _name in ("and", "or") else _name)
    setattr(ndarray, f"__{_name}__", _binary(_func))
    setattr(ndarray, f"__r{_name}__", _binary(_func, reflected=True))
    setattr(ndarray, f"__i{_name}__", _inplace(getattr(operator, f"i{_name}")))
for _name in "lt le eq ne gt ge".split():
    setattr(ndarray, f"__{_name}__", _binary(getattr(operator, _name)))
ndarray.__divmod__ = _binary(divmod)
ndarray.__rdivmod__ = _binary(divmod, reflected=True)
del _name, _func

_COMPARISONS = frozenset(
    (np.less, np.less_equal, np.equal, np.not_equal, np.greater, np.greater_equal)
)
_OPERATOR_UFUNCS = _COMPARISONS | frozenset(
    (np.add, np.subtract, np.multiply, np.true_divide, np.floor_divide, np.remainder, np.power)
    + (np.matmul, np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.left_shift, np.right_shift)
    + (np.divmod,)
)


# ---------------------------------------------------------------- ufuncs

# The ufuncs CuPy has ``at`` for, and the dtypes it accepts there with integer-array indices.
_AT_DTYPES = {
    "add": "int32 float16 float32 float64 uint32 uint64",
    "subtract": "int32 uint32",
    "maximum": "int32 float32 float64 uint32 uint64",
    "minimum": "int32 float32 float64 uint32 uint64",
    "bitwise_and": "int32 int64 uint32 uint64",
    "bitwise_or": "int32 int64 uint32 uint64",
    "bitwise_xor": "int32 int64 uint32 uint64",
}


class ufunc:
    """A NumPy ufunc on device arrays, with CuPy's subset of the ufunc methods."""

    def __init__(self, np_ufunc: np.ufunc) -> None:
        self._f = np_ufunc
        self.__name__ = np_ufunc.__name__
        self.__doc__ = np_ufunc.__doc__
        self.nin, self.nout, self.nargs = np_ufunc.nin, np_ufunc.nout, np_ufunc.nargs

    def __repr__(self) -> str:
        return f"<ufunc 'cupy_{self.__name__}'>"

    def _unsupported_method(self, method: str) -> NotImplementedError:
        return NotImplementedError(f"`cupy_{self.__name__}.{method}` is not supported yet")

    def __call__(self, *args, **kwargs):
        for arg in args:
            if not isinstance(arg, (ndarray, *_SCALARS)):
                raise _unsupported(arg)
        return _call(self._f, args, kwargs)

    def outer(self, A, B, **kwargs):
        return _call(self._f.outer, (A, B), kwargs)

    def reduce(self, array: ndarray, axis=0, dtype=None, out=None, keepdims: bool = False):
        if self.__name__ not in ("add", "multiply"):
            raise self._unsupported_method("reduce")
        method = array.sum if self.__name__ == "add" else array.prod
        return method(axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def accumulate(self, array: ndarray, axis=0, dtype=None, out=None):
        if self.__name__ not in ("add", "multiply"):
            raise self._unsupported_method("accumulate")
        method = array.cumsum if self.__name__ == "add" else array.cumprod
        return method(axis=axis, dtype=dtype, out=out)

    def reduceat(self, array: ndarray, indices, axis=0, dtype=None, out=None):
        if self.__name__ != "add":
            raise self._unsupported_method("reduceat")
        return _call(self._f.reduceat, (array, indices), dict(axis=axis, dtype=dtype, out=out))

    def at(self, a: ndarray, indices, b=None) -> None:
        """Unbuffered in-place operation (repeated indices all count); indices wrap around."""
        if self.__name__ not in _AT_DTYPES:
            raise self._unsupported_method("at")
        if not isinstance(a, ndarray):
            raise _unsupported(a)
        key = _index(indices, a.shape)
        allowed = _AT_DTYPES[self.__name__].split()
        if _has_array_index(key) and a.dtype.name not in allowed:
            raise TypeError(
                f"cupy.{self.__name__}.at only supports {', '.join(allowed)} as data type"
            )
        args = (a._a, key) if b is None else (a._a, key, _unwrap(b, []))
        self._f.at(*args)


def scatter_add(a: ndarray, slices, value) -> None:
    """``a[slices] += value`` with repeated indices accumulating (``cupyx.scatter_add``)."""
    ufunc(np.add).at(a, slices, value)


# ---------------------------------------------------------------- transfers and indexing helpers


def array(
    obj, dtype=None, copy: bool = True, order: str = "K", subok=False, ndmin=0, *, blocking=False
) -> ndarray:
    """A device array from device or host data (host data is always copied)."""
    if isinstance(obj, ndarray) and not copy:
        return asarray(obj, dtype=dtype)
    data = _unwrap(obj, [], host_ok=True)
    return ndarray._from_numpy(np.array(data, dtype=dtype, copy=True, order=order, ndmin=ndmin))


def asarray(a, dtype=None, order=None, *, copy=None, blocking: bool = False) -> ndarray:
    """``a`` itself if it is a device array of that dtype, else a copy on the device."""
    if isinstance(a, ndarray) and not copy and (dtype is None or np.dtype(dtype) == a.dtype):
        return a
    data = _unwrap(a, [], host_ok=True)
    return ndarray._from_numpy(np.array(data, dtype=dtype, order=order or "K", copy=True))


asanyarray = asarray


def asnumpy(a, stream=None, order: str = "C", out: np.ndarray | None = None, *, blocking=True):
    """Copy a device array to a NumPy array (into ``out`` if given); host data passes through."""
    if isinstance(a, ndarray):
        return a.get(order=order, out=out)
    host = np.asarray(a, order=order)
    if out is None:
        return host
    out[...] = host
    return out


def get_array_module(*args):
    """This module if any argument is a device array, else NumPy."""
    return sys.modules[__name__] if builtins.any(isinstance(a, ndarray) for a in args) else np


def from_dlpack(array, *, device=None, copy=None) -> ndarray:
    """A device array from a DLPack exporter: device arrays are shared, CPU ones copied."""
    if isinstance(array, ndarray):
        return array if not copy else array.copy()
    kind = array.__dlpack_device__()[0] if hasattr(array, "__dlpack_device__") else None
    if kind != 1:  # kDLCPU
        raise BufferError(f"cannot import a DLPack object from device type {kind}")
    return ndarray._from_numpy(np.from_dlpack(array).copy())


def take(a: ndarray, indices, axis=None, out=None) -> ndarray:
    """``numpy.take`` with out-of-range indices wrapping around, as in CuPy."""
    idx = _unwrap(indices, [], host_ok=True)
    return _call(
        functools.partial(np.take, indices=idx, mode="wrap"), (a,), dict(axis=axis, out=out)
    )


def put(a: ndarray, ind, v, mode: str = "wrap") -> None:
    """``numpy.put`` with CuPy's default ``mode='wrap'``."""
    _call(functools.partial(np.put, ind=_unwrap(ind, [], host_ok=True)), (a,), dict(v=v, mode=mode))


def _along(func, arr: ndarray, indices, axis):
    """``func`` (take/put_along_axis) with ``indices`` wrapped around ``axis`` like CuPy."""
    n = arr.size if axis is None else arr.shape[axis]
    idx = _unwrap(indices, [], host_ok=True)
    return functools.partial(func, indices=np.mod(idx, n) if n else idx, axis=axis)


def take_along_axis(a: ndarray, indices, axis) -> ndarray:
    """``numpy.take_along_axis`` with out-of-range indices wrapping around."""
    return _call(_along(np.take_along_axis, a, indices, axis), (a,), {})


def put_along_axis(arr: ndarray, indices, values, axis) -> None:
    """``numpy.put_along_axis`` with out-of-range indices wrapping around."""
    _call(_along(np.put_along_axis, arr, indices, axis), (arr,), dict(values=values))


# ---------------------------------------------------------------- the rest of the namespace

for _name in (
    "abs absolute add arccos arccosh arcsin arcsinh arctan arctan2 arctanh bitwise_and "
    "bitwise_not bitwise_or bitwise_xor cbrt ceil conj conjugate copysign cos cosh deg2rad "
    "degrees divide divmod equal exp exp2 expm1 fabs float_power floor floor_divide fmax fmin "
    "fmod frexp greater greater_equal heaviside hypot invert isfinite isinf isnan ldexp "
    "left_shift less less_equal log log10 log1p log2 logaddexp logaddexp2 logical_and "
    "logical_not logical_or logical_xor matmul maximum minimum mod modf multiply negative "
    "nextafter not_equal positive power rad2deg radians reciprocal remainder right_shift rint "
    "sign signbit sin sinh sqrt square subtract tan tanh true_divide trunc"
).split():
    globals()[_name] = ufunc(getattr(np, _name))

for _name in (
    "amax amin any all append arange argmax argmin argsort argwhere around array_split "
    "ascontiguousarray asfortranarray atleast_1d atleast_2d atleast_3d average bincount "
    "broadcast_arrays broadcast_to clip column_stack concatenate copy copyto cov cumprod cumsum "
    "diag diagflat diagonal diff digitize dot dstack einsum empty empty_like expand_dims eye "
    "fill_diagonal flatnonzero flip fliplr flipud full full_like histogram hstack identity inner "
    "interp isclose kron linspace logspace max mean median meshgrid min moveaxis nan_to_num "
    "nanargmax nanargmin nanmax nanmean nanmin nanprod nanstd nansum nanvar nonzero ones "
    "ones_like outer pad partition percentile prod ptp quantile ravel repeat reshape roll "
    "rollaxis rot90 round searchsorted select sort split squeeze stack std sum swapaxes "
    "tensordot tile trace transpose tri tril triu unique var vdot vstack where zeros zeros_like"
).split():
    globals()[_name] = _delegate(getattr(np, _name))

for _name in "allclose array_equal array_equiv count_nonzero".split():
    globals()[_name] = _delegate(getattr(np, _name), zero_dim=True)  # CuPy returns 0-d arrays
for _name in "result_type can_cast promote_types min_scalar_type shape ndim size isscalar".split():
    globals()[_name] = _delegate(getattr(np, _name), host_ok=True)  # metadata only
del _name

# dtypes and constants are NumPy's own, as in CuPy
bool_, int8, int16, int32, int64 = np.bool_, np.int8, np.int16, np.int32, np.int64
uint8, uint16, uint32, uint64 = np.uint8, np.uint16, np.uint32, np.uint64
float16, float32, float64 = np.float16, np.float32, np.float64
complex64, complex128 = np.complex64, np.complex128
dtype, finfo, iinfo, issubdtype = np.dtype, np.finfo, np.iinfo, np.issubdtype
generic, number, integer, floating = np.generic, np.number, np.integer, np.floating
signedinteger, unsignedinteger = np.signedinteger, np.unsignedinteger
newaxis, inf, nan, pi, e = None, np.inf, np.nan, np.pi, np.e

lib = types.SimpleNamespace(
    stride_tricks=types.SimpleNamespace(
        as_strided=_delegate(np.lib.stride_tricks.as_strided),
        sliding_window_view=_delegate(np.lib.stride_tricks.sliding_window_view),
    )
)


class _Namespace:
    """A NumPy submodule (``linalg``, ``fft``) on device arrays."""

    def __init__(self, module: types.ModuleType) -> None:
        self._module = module

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        obj = getattr(self._module, name)
        return _delegate(obj) if callable(obj) and not isinstance(obj, type) else obj


linalg = _Namespace(np.linalg)
fft = _Namespace(np.fft)

# NumPy names CuPy does not have: code that uses them fails on a GPU, so it fails here.
_NOT_IN_CUPY = frozenset(
    (
        "asmatrix block bmat busday_count busday_offset busdaycalendar bytes_ char character "
        "clongdouble complex256 core ctypeslib datetime64 datetime_as_string datetime_data dtypes "
        "einsum_path emath errstate f2py flexible float128 frompyfunc fromregex geomspace "
        "get_include getbufsize geterr geterrcall histogram_bin_edges insert is_busday isnat "
        "longdouble ma matrix matvec memmap nanpercentile nanquantile ndenumerate nditer "
        "nested_iters object_ polyder polydiv polyint rec recarray record sctypeDict setbufsize "
        "seterr seterrcall spacing str_ strings timedelta64 typecodes unstack vecdot vecmat void"
    ).split()
)


def __getattr__(name: str):
    """Any other NumPy name CuPy also has, on device arrays."""
    if name.startswith("_") or name in _NOT_IN_CUPY or not hasattr(np, name):
        raise AttributeError(f"module 'cupy' has no attribute {name!r}")
    obj = getattr(np, name)
    if isinstance(obj, np.ufunc):
        return ufunc(obj)
    if isinstance(obj, types.ModuleType):
        return _Namespace(obj)
    return _delegate(obj) if callable(obj) and not isinstance(obj, type) else obj


# ---------------------------------------------------------------- random


def _draw(func, native_dtype: bool = False):
    """A NumPy random function returning device arrays (0-d for a single draw).

    CuPy's draws take ``dtype``; where NumPy's do not, the draw is made in NumPy's default
    dtype and cast, so that the numbers match NumPy's for the same seed.
    """

    @functools.wraps(func)
    def draw(*args, dtype=None, **kwargs):
        if native_dtype and dtype is not None:
            kwargs["dtype"] = dtype
        out = _call(func, args, kwargs)
        if out is None:
            return None
        out = out if isinstance(out, ndarray) else ndarray._from_numpy(np.asarray(out))
        return out.astype(dtype, copy=False) if dtype is not None and not native_dtype else out

    return draw


class _Generator:
    """``numpy.random.Generator`` whose draws are device arrays."""

    _NATIVE_DTYPE = frozenset(("integers", "random", "standard_normal", "standard_exponential"))

    def __init__(self, generator: np.random.Generator) -> None:
        self._gen = generator

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        attr = getattr(self._gen, name)
        return _draw(attr, name in self._NATIVE_DTYPE) if callable(attr) else attr


def _default_rng(seed=None) -> _Generator:
    return _Generator(np.random.default_rng(seed))


random = types.SimpleNamespace(
    default_rng=_default_rng,
    seed=np.random.seed,
    randint=_draw(np.random.randint, native_dtype=True),
    shuffle=_draw(np.random.shuffle),
    **{
        name: _draw(getattr(np.random, name))
        for name in (
            "rand randn random random_sample normal uniform permutation choice standard_normal "
            "binomial exponential"
        ).split()
    },
)


# ---------------------------------------------------------------- cuda


class _Device:
    """``cupy.cuda.Device``: device 0 is the only one."""

    def __init__(self, device: int | None = None) -> None:
        self.id = 0 if device is None else int(device)

    def _check(self) -> None:
        if self.id != 0:
            raise RuntimeError("cudaErrorInvalidDevice: invalid device ordinal")

    def use(self) -> None:
        self._check()

    def synchronize(self) -> None:
        self._check()

    def __enter__(self) -> _Device:
        self._check()
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    def __eq__(self, other) -> bool:
        return isinstance(other, _Device) and other.id == self.id

    def __hash__(self) -> int:
        return hash(("cuda", self.id))

    def __repr__(self) -> str:
        return f"<CUDA Device {self.id}>"


class _Stream:
    """``cupy.cuda.Stream``: work is done when it is queued, so there is nothing to wait for."""

    null: _Stream

    def __init__(self, null: bool = False, non_blocking: bool = False, ptds: bool = False):
        self.done = True

    def synchronize(self) -> None:
        return None

    def use(self) -> _Stream:
        return self

    def __enter__(self) -> _Stream:
        return self

    def __exit__(self, *exc_info) -> None:
        return None


_Stream.null = _Stream(null=True)


def _is_available() -> bool:
    return True


def _device_count() -> int:
    return 1


def _current_device() -> int:
    return 0


def _no_op(*args, **kwargs) -> None:
    return None


def _device_properties(device: int = 0) -> dict:
    _Device(device)._check()
    return {"name": b"fakecupy (CPU stand-in)", "totalGlobalMem": 0, "major": 0, "minor": 0}


def _current_stream() -> _Stream:
    return _Stream.null


cuda = types.SimpleNamespace(
    is_available=_is_available,
    Device=_Device,
    Stream=_Stream,
    get_device_id=_current_device,
    get_current_stream=_current_stream,
    runtime=types.SimpleNamespace(
        getDeviceCount=_device_count,
        getDevice=_current_device,
        deviceSynchronize=_no_op,
        getDeviceProperties=_device_properties,
    ),
)


class _MemoryPool:
    """``cupy.get_default_memory_pool()``: NumPy manages the memory, so the pool is empty."""

    def used_bytes(self) -> int:
        return 0

    def total_bytes(self) -> int:
        return 0

    def free_all_blocks(self) -> None:
        return None


def get_default_memory_pool() -> _MemoryPool:
    return _MemoryPool()
