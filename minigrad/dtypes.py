"""Tensor element types (``minigrad.float32`` ...), the default float type, and type promotion."""

from __future__ import annotations

from minigrad import backend


class dtype:
    """An element type; ``np`` is the matching NumPy dtype, which CuPy uses too."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize")

    def __init__(self, name: str):
        if not isinstance(name, str) or name not in backend.NP_DTYPES:
            raise TypeError(
                f"dtype(): name must be one of {sorted(backend.NP_DTYPES)}, got {name!r} (use "
                "the dtypes minigrad.float32, minigrad.int64 ...)"
            )
        self.name = name
        self.np = backend.NP_DTYPES[name]
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "fi"
        self.itemsize = self.np.itemsize

    def __repr__(self) -> str:
        return f"minigrad.{self.name}"

    def __reduce__(self):  # dtypes are singletons, also through copy/deepcopy
        return (_by_name, (self.name,))


float16 = half = dtype("float16")
float32 = dtype("float32")
float64 = double = dtype("float64")
int8 = dtype("int8")
uint8 = dtype("uint8")
int16 = short = dtype("int16")
int32 = dtype("int32")
int64 = long = dtype("int64")
bool_ = dtype("bool")

ALL = (float16, float32, float64, int8, uint8, int16, int32, int64, bool_)
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}


def _by_name(name: str) -> dtype:
    return _BY_NAME[name]


_default_float = float32


def get_default_dtype() -> dtype:
    return _default_float


def set_default_dtype(d: dtype) -> None:
    global _default_float
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype expects a floating point dtype, got {d}")
    _default_float = d


def from_np(np_dtype) -> dtype:
    """The minigrad dtype of a NumPy/CuPy dtype; float16..float64, ints, uint8 and bool."""
    try:
        return _BY_NP[np_dtype]
    except KeyError:
        raise TypeError(f"arrays of dtype {np_dtype} are not supported by minigrad") from None


def as_dtype(d) -> dtype:
    """Accept a minigrad dtype, a NumPy dtype or a name such as ``"float32"``."""
    if isinstance(d, dtype):
        return d
    if isinstance(d, str):
        if d in _BY_NAME:
            return _BY_NAME[d]
        raise TypeError(f"unknown dtype {d!r}; expected one of {sorted(_BY_NAME)}")
    try:
        return from_np(backend.NP_DTYPES.get(getattr(d, "__name__", ""), None) or d)
    except TypeError:
        raise TypeError(f"unknown dtype {d!r}; expected e.g. minigrad.float32") from None


def category(d: dtype) -> int:
    return 2 if d.is_floating_point else (0 if d is bool_ else 1)


def promote(a: dtype, b: dtype) -> dtype:
    """PyTorch's rule: a higher category (bool < integer < float) wins, else the wider type."""
    if a is b:
        return a
    ca, cb = category(a), category(b)
    if ca != cb:
        return a if ca > cb else b
    if a.itemsize != b.itemsize:
        return a if a.itemsize > b.itemsize else b
    return int16 if {a, b} == {int8, uint8} else a
