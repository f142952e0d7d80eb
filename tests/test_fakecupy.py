"""The CuPy stand-in: it must catch each kind of host/device leak, and allow what CuPy allows."""

from __future__ import annotations

import copy
import importlib.util
import pathlib
import pickle
import sys
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest


def _load_fakecupy() -> types.ModuleType:
    """Import the stand-in; load it by path if the rest of the package does not import."""
    try:
        from minigrad.testing import fakecupy
    except Exception:  # the stand-in needs only NumPy, whatever state the package is in
        path = pathlib.Path(__file__).parents[1] / "minigrad" / "testing" / "fakecupy.py"
        spec = importlib.util.spec_from_file_location("fakecupy_standalone", path)
        fakecupy = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = fakecupy
        spec.loader.exec_module(fakecupy)
    return fakecupy


cp = _load_fakecupy()

IMPLICIT = "Implicit conversion to a NumPy array is not allowed"
UNSUPPORTED = "Unsupported type <class 'numpy.ndarray'>"


def assert_device_equal(actual: Any, expected: Any) -> None:
    assert isinstance(actual, cp.ndarray)
    np.testing.assert_array_equal(actual.get(), np.asarray(expected))


# ---------------------------------------------------------------- leaks the stand-in must catch


def leaky_asarray(x: cp.ndarray) -> Any:
    return np.asarray(x)


def leaky_array(x: cp.ndarray) -> Any:
    return np.array(x)


def leaky_host_setitem(x: cp.ndarray) -> Any:
    host = np.zeros(x.shape)
    host[...] = x
    return host


def leaky_ufunc(x: cp.ndarray) -> Any:
    return np.exp(x)


def leaky_function(x: cp.ndarray) -> Any:
    return np.sum(x)


def leaky_concatenate(x: cp.ndarray) -> Any:
    return np.concatenate([x, x])


def leaky_where(x: cp.ndarray) -> Any:
    return np.where(x > 0, x, 0.0)


def leaky_add_at(x: cp.ndarray) -> None:
    np.add.at(x, [0, 0], 1.0)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_np_asarray_is_refused(shape: tuple) -> None:
    x = cp.ones(shape)
    with pytest.raises(TypeError, match=IMPLICIT):
        leaky_asarray(x)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_np_array_is_refused_and_no_sequence_fallback(shape: tuple) -> None:
    x = cp.ones(shape)
    with pytest.raises(TypeError, match=IMPLICIT):
        leaky_array(x)
    with pytest.raises(TypeError, match=IMPLICIT):
        np.array([x, x])
    with pytest.raises(TypeError, match=IMPLICIT):
        np.array(x, dtype=object)


def test_assigning_into_a_numpy_array_is_refused() -> None:
    with pytest.raises(TypeError, match=IMPLICIT):
        leaky_host_setitem(cp.ones((2, 3)))


@pytest.mark.parametrize("leaky", [leaky_ufunc, leaky_add_at, lambda x: np.add.reduce(x)])
def test_numpy_ufuncs_are_refused(leaky: Callable) -> None:
    with pytest.raises(TypeError, match=IMPLICIT):
        leaky(cp.ones(3))


@pytest.mark.parametrize("leaky", [leaky_function, leaky_concatenate, leaky_where])
def test_numpy_functions_are_refused(leaky: Callable) -> None:
    with pytest.raises(TypeError, match=IMPLICIT):
        leaky(cp.ones(3))


MIXED = {
    "x + host": lambda x, h: x + h,
    "host + x": lambda x, h: h + x,
    "x * host": lambda x, h: x * h,
    "host < x": lambda x, h: h < x,
    "x == host": lambda x, h: x == h,
    "x @ host": lambda x, h: x @ h,
    "x += host": lambda x, h: x.__iadd__(h),
    "host += x": lambda x, h: h.__iadd__(x),
    "x.dot(host)": lambda x, h: x.dot(h),
    "add(x, host)": lambda x, h: cp.add(x, h),
    "add(x, x, out=host)": lambda x, h: cp.add(x, x, out=h),
    "concatenate([x, host])": lambda x, h: cp.concatenate([x, h]),
    "where(host > 0, x, 0)": lambda x, h: cp.where(h > 0, x, 0.0),
    "maximum(host, x)": lambda x, h: cp.maximum(h, x),
    "sum(host)": lambda x, h: cp.sum(h),
}


@pytest.mark.parametrize("leaky", MIXED.values(), ids=MIXED.keys())
def test_mixing_a_numpy_array_into_device_code_is_refused(leaky: Callable) -> None:
    with pytest.raises(TypeError, match=UNSUPPORTED):
        leaky(cp.ones(3), np.ones(3))


@pytest.mark.parametrize("key", [Ellipsis, slice(None), 0, [0, 1]])
def test_setitem_with_a_numpy_array_is_refused(key: Any) -> None:
    x = cp.ones((2, 3))
    with pytest.raises(TypeError, match=UNSUPPORTED):
        x[key] = np.zeros(3)
    assert_device_equal(x, np.ones((2, 3)))


def test_the_data_is_not_reachable_through_numpy_protocols() -> None:
    x = cp.ones(3)
    for name in ("__array_interface__", "__array_struct__", "__cuda_array_interface__", "data"):
        assert not hasattr(x, name)
    with pytest.raises(TypeError):
        memoryview(x)
    assert not isinstance(x, np.ndarray)
    assert x.__hash__ is None


def test_no_index_conversion_as_in_cupy() -> None:
    with pytest.raises(TypeError):
        range(cp.array(3))
    with pytest.raises(TypeError):
        [1, 2, 3][cp.array(1)]


def test_dlpack_reports_a_cuda_device() -> None:
    x = cp.arange(3.0)
    assert x.__dlpack_device__() == (2, 0)
    with pytest.raises(BufferError):
        np.from_dlpack(x)
    shared = cp.from_dlpack(x)
    shared[0] = 7
    assert x[0].item() == 7
    host = np.arange(3.0)
    imported = cp.from_dlpack(host)
    host[0] = 9
    assert_device_equal(imported, [0.0, 1.0, 2.0])


# ---------------------------------------------------------------- what is allowed


def test_explicit_transfers() -> None:
    host = np.arange(6.0).reshape(2, 3)
    x = cp.asarray(host)
    host[0, 0] = 100  # a copy was made
    assert isinstance(x, cp.ndarray)
    assert cp.asarray(x) is x
    assert cp.array(x) is not x
    back = cp.asnumpy(x)
    assert type(back) is np.ndarray and back[0, 0] == 0
    np.testing.assert_array_equal(x.get(), np.arange(6.0).reshape(2, 3))
    out = np.empty((2, 3))
    assert x.get(out=out) is out and out[1, 2] == 5
    x.set(np.ones((2, 3)))
    assert x.tolist() == [[1.0] * 3] * 2
    assert cp.array([1, 2]).dtype == np.int64
    assert cp.asarray(np.float32(2)).shape == ()


def test_python_conversions_of_one_element() -> None:
    x = cp.arange(3.0)
    s = x.sum()
    assert s.item() == 3.0 and float(s) == 3.0 and int(s) == 3 and bool(s)
    assert f"{s:.1f}" == "3.0"
    assert len(x) == 3 and len(cp.ones((4, 2))) == 4
    items = list(x)
    assert all(isinstance(i, cp.ndarray) and i.shape == () for i in items)
    assert [i.item() for i in items] == [0.0, 1.0, 2.0]
    with pytest.raises(TypeError):
        iter(s)
    with pytest.raises(ValueError):
        bool(x)


def test_python_and_numpy_scalars_are_operands_on_both_sides() -> None:
    x = cp.arange(3.0, dtype=np.float32)
    for result in (
        x * 2,
        2 * x,
        x + 1.5,
        np.float32(2) * x,
        x * np.float32(2),
        np.int64(3) - x,
        x**2,
        2.0**x,
        np.float32(2) < x,
        x > np.float32(0.5),
        cp.multiply(x, np.float32(2)),
        cp.maximum(0.5, x),
    ):
        assert isinstance(result, cp.ndarray)
    assert_device_equal(np.float32(2) * x, [0.0, 2.0, 4.0])
    assert_device_equal(np.float32(1) < x, [False, False, True])
    assert (np.float32(2) * x).dtype == np.float32
    x[0] = np.float32(5)
    x[1] = np.array(6.0)  # a 0-d NumPy array is a scalar here, as in CuPy
    assert_device_equal(x, [5.0, 6.0, 2.0])


def test_results_are_device_arrays_never_numpy_scalars() -> None:
    x = cp.arange(6.0).reshape(2, 3)
    for result in (
        x.sum(),
        x.max(),
        x.mean(),
        x.argmax(),
        cp.max(x),
        cp.sum(x),
        cp.prod(x),
        cp.var(x),
        x[0, 1],
        x[1][2],
        cp.allclose(x, x),
        cp.array_equal(x, x),
    ):
        assert isinstance(result, cp.ndarray) and result.shape == ()
    assert x.sum().item() == 15.0
    assert isinstance(cp.unique(x, return_counts=True)[1], cp.ndarray)
    assert all(isinstance(part, cp.ndarray) for part in cp.split(x, 3, axis=1))


def test_views_write_through_to_their_base() -> None:
    x = cp.zeros((2, 3))
    x[1:, 1:][...] = 1
    x.reshape(6)[0] = 2
    x.T[2, 0] = 3
    cp.transpose(x)[1, 0] = 4
    x.swapaxes(0, 1)[0, 1] = 5
    x[0, 0][...] += 10
    assert_device_equal(x, [[12, 4, 3], [5, 1, 1]])
    for view in (x[1:], x.reshape(3, 2), x.T, x[0, 1], x.transpose(), cp.reshape(x, (6,))):
        assert view.base is x
    assert x.copy().base is None and x.base is None


def test_in_place_operations_write_into_the_array() -> None:
    x = cp.arange(4.0)
    alias = x
    x += 1
    x *= cp.full(4, 2.0)
    x[x > 4] = 0
    assert alias is x
    out = cp.empty(4)
    assert cp.add(x, 1, out=out) is out
    cp.exp(cp.zeros(4), out=x)
    assert_device_equal(x, [1, 1, 1, 1])
    assert_device_equal(out, [3, 5, 1, 1])
    y = cp.ones(3, dtype=np.int32)
    y <<= 2
    assert_device_equal(y, [4, 4, 4])


def test_floating_point_events_are_silent_as_in_cupy() -> None:
    import warnings

    x = cp.asarray([0.0, 1.0, np.inf], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy would warn about each of these
        logs = cp.log(x)
        quotient = x / 0
        difference = x - x
        big = cp.exp(x * np.float32(1e30))
        y = x.copy()
        y /= 0
    assert_device_equal(logs, [-np.inf, 0, np.inf])
    assert_device_equal(quotient, [np.nan, np.inf, np.inf])
    assert_device_equal(difference, [0, 0, np.nan])
    assert_device_equal(big, [1, np.inf, np.inf])
    assert_device_equal(y, [np.nan, np.inf, np.inf])


def test_stride_tricks_give_views() -> None:
    x = cp.zeros(6)
    strided = cp.lib.stride_tricks.as_strided(x, shape=(3,), strides=(16,))
    strided[...] = 1
    assert_device_equal(x, [1, 0, 1, 0, 1, 0])
    windows = cp.lib.stride_tricks.sliding_window_view(x, 3, writeable=True)
    assert isinstance(windows, cp.ndarray) and windows.shape == (4, 3)
    assert_device_equal(windows.sum(axis=1), [2, 1, 2, 1])
    windows[1, 0] = 7
    assert x[1].item() == 7


def test_integer_array_indices_wrap_around() -> None:
    x = cp.arange(5.0)
    assert_device_equal(x[cp.array([1, 7, -6])], [1, 2, 4])
    assert_device_equal(x[[5]], [0])
    assert_device_equal(x[np.array([6])], [1])  # CuPy accepts host index arrays
    assert_device_equal(cp.take(x, cp.array([12]), axis=0), [2])
    assert_device_equal(x.take(cp.array([-7])), [3])
    m = cp.arange(6.0).reshape(2, 3)
    assert_device_equal(m[cp.array([3]), cp.array([4])], [4])
    assert_device_equal(m[:, cp.array([5])], [[2], [5]])
    assert_device_equal(cp.take_along_axis(m, cp.array([[3], [4]]), axis=1), [[0], [4]])
    x[cp.array([5, 8])] = -1
    x[cp.array([10])] += 100
    assert_device_equal(x, [99, 1, 2, -1, 4])


def test_scatter_add_and_add_at_accumulate_and_wrap() -> None:
    a = cp.zeros(3, dtype=np.float32)
    cp.scatter_add(a, cp.array([0, 3, 3, -1]), cp.ones(4, dtype=np.float32))
    assert_device_equal(a, [3, 0, 1])
    cp.add.at(a, cp.array([4, 4]), np.float32(0.5))
    assert_device_equal(a, [3, 1, 1])
    g = cp.zeros((2, 3))
    cp.scatter_add(g, (slice(None), cp.array([1, 1, 5])), cp.ones((2, 3)))
    assert_device_equal(g, [[0, 2, 1], [0, 2, 1]])
    with pytest.raises(TypeError, match=UNSUPPORTED):
        cp.scatter_add(g, cp.array([0]), np.ones(3))


def test_basic_integer_index_out_of_range_raises() -> None:
    x = cp.arange(5.0)
    with pytest.raises(IndexError):
        x[10]
    with pytest.raises(IndexError):
        x[-6] = 1
    with pytest.raises(IndexError):
        cp.ones((2, 3))[0, 3]


def test_boolean_masks() -> None:
    m = cp.arange(6.0).reshape(2, 3)
    assert_device_equal(m[m > 3], [4, 5])
    assert_device_equal(m[:, cp.array([True, False, True])], [[0, 2], [3, 5]])
    m[cp.array([True, False])] = -1
    assert_device_equal(m, [[-1, -1, -1], [3, 4, 5]])


def test_ufunc_methods_and_dtypes_cupy_lacks() -> None:
    x = cp.ones(3)
    assert cp.add.reduce(x).item() == 3 and cp.multiply.accumulate(x).shape == (3,)
    assert_device_equal(cp.add.outer(cp.arange(2), cp.arange(2)), [[0, 1], [1, 2]])
    with pytest.raises(NotImplementedError):
        cp.maximum.reduce(x)
    with pytest.raises(NotImplementedError):
        cp.multiply.at(x, cp.array([0]), 2.0)
    with pytest.raises(TypeError, match="only supports"):
        cp.add.at(cp.zeros(3, dtype=np.int64), cp.array([0]), 1)
    counts = cp.zeros(3, dtype=np.int64)
    cp.add.at(counts, cp.array([True, False, True]), 1)  # a mask has no dtype limit
    assert_device_equal(counts, [1, 0, 1])


def test_numpy_names_cupy_does_not_have_are_missing() -> None:
    for name in ("errstate", "seterr", "nditer", "matrix", "frompyfunc"):
        assert not hasattr(cp, name)
    assert cp.unravel_index is not None and isinstance(cp.logaddexp, cp.ufunc)


def test_namespace_wraps_numpy() -> None:
    x = cp.arange(6.0).reshape(2, 3)
    assert_device_equal(cp.einsum("ij,j->i", x, cp.ones(3)), [3, 12])
    assert_device_equal(cp.pad(cp.ones(1), 1), [0, 1, 0])
    assert_device_equal(cp.bincount(cp.array([0, 2, 2])), [1, 0, 2])
    assert_device_equal(cp.linalg.norm(cp.full(4, 2.0)), 4.0)
    assert cp.ascontiguousarray(x) is x
    assert cp.result_type(x, np.float32) == np.float64
    assert cp.float32 is np.float32 and cp.dtype is np.dtype and cp.newaxis is None
    assert cp.finfo(cp.float16).bits == 16 and cp.inf == np.inf


def test_random_draws_match_numpy_for_the_same_seed() -> None:
    r = cp.random.default_rng(3).standard_normal((2, 3), dtype=np.float32)
    assert isinstance(r, cp.ndarray) and r.dtype == np.float32
    np.testing.assert_array_equal(
        r.get(), np.random.default_rng(3).standard_normal((2, 3), dtype=np.float32)
    )
    cp.random.seed(1)
    legacy = cp.random.randn(4, dtype=np.float32)
    np.random.seed(1)
    np.testing.assert_array_equal(legacy.get(), np.random.randn(4).astype(np.float32))
    for draw in (cp.random.rand(), cp.random.permutation(5), cp.random.uniform(size=2)):
        assert isinstance(draw, cp.ndarray)


def test_cuda_namespace() -> None:
    assert cp.cuda.is_available() and cp.cuda.runtime.getDeviceCount() == 1
    assert cp.cuda.Device(0).id == 0 and cp.cuda.Device().id == 0
    cp.cuda.Device(0).use()
    with cp.cuda.Device(0) as dev:
        assert dev == cp.cuda.Device(0)
    assert cp.cuda.Stream.null.synchronize() is None
    assert cp.cuda.Device().synchronize() is None
    with pytest.raises(RuntimeError):
        cp.cuda.Device(1).use()
    assert cp.arange(2).device == cp.cuda.Device(0)


def test_get_array_module() -> None:
    assert cp.get_array_module(np.ones(1), cp.ones(1)) is cp
    assert cp.get_array_module(np.ones(1), 3.0) is np


def test_copy_and_pickle_stay_on_the_device() -> None:
    x = cp.arange(3.0)
    for clone in (copy.copy(x), copy.deepcopy(x), pickle.loads(pickle.dumps(x))):
        assert isinstance(clone, cp.ndarray) and clone is not x
        assert_device_equal(clone, [0, 1, 2])
    assert repr(cp.arange(2.0)) == "array([0., 1.])"
