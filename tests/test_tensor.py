"""The Tensor surface: creation, attributes, dtypes and promotion, conversion, repr, shapes."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from tests.conftest import DEVICES


def test_tensor_infers_pytorch_dtypes():
    assert mg.tensor([1.0, 2.0]).dtype is mg.float32
    assert mg.tensor([1, 2]).dtype is mg.int64
    assert mg.tensor([True, False]).dtype is mg.bool
    assert mg.tensor(np.zeros(2, dtype=np.float64)).dtype is mg.float64
    assert mg.tensor(np.zeros(2, dtype=np.int32)).dtype is mg.int32
    assert mg.tensor([1, 2], dtype=mg.float64).dtype is mg.float64
    mg.set_default_dtype(mg.float64)
    assert mg.tensor([1.0]).dtype is mg.float64 and mg.zeros(1).dtype is mg.float64


def test_tensor_copies_its_data():
    a = np.zeros(3, dtype=np.float32)
    t = mg.tensor(a)
    a[0] = 5
    assert t[0].item() == 0
    shared = mg.from_numpy(a)
    a[1] = 7
    assert shared[1].item() == 7


@pytest.mark.parametrize("device", DEVICES)
def test_creation_functions(device):
    assert mg.zeros(2, 3, device=device).shape == (2, 3)
    assert mg.ones((2, 3), device=device).numel() == 6
    assert mg.full((2,), 7, device=device).tolist() == [7, 7]
    assert mg.full((2,), 1.5, device=device).dtype is mg.float32
    assert mg.empty(4, device=device).shape == (4,)
    assert mg.arange(5, device=device).tolist() == [0, 1, 2, 3, 4]
    assert mg.arange(0, 1, 0.25, device=device).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert mg.linspace(0, 1, 5, device=device).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert mg.eye(3, device=device).sum().item() == 3
    x = mg.randn(2, 3, device=device)
    for like in (mg.zeros_like, mg.ones_like, mg.randn_like, mg.rand_like, mg.empty_like):
        y = like(x)
        assert y.shape == x.shape and y.dtype is x.dtype and y.device == x.device
    r = mg.randint(0, 5, (100,), device=device)
    assert r.dtype is mg.int64 and 0 <= r.min().item() and r.max().item() < 5
    u = mg.rand(1000, device=device)
    assert 0 <= u.min().item() and u.max().item() < 1


def test_manual_seed_reproduces_random_numbers():
    mg.manual_seed(123)
    a = mg.randn(5)
    mg.manual_seed(123)
    b = mg.randn(5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), mg.randn(5).numpy())


def test_attributes():
    x = mg.ones(2, 3, requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3 and x.numel() == 6
    assert x.is_leaf and x.grad is None and x.grad_fn is None and x.requires_grad
    assert x.device == "cpu" and str(x.device) == "cpu"
    y = x * 2
    assert not y.is_leaf and repr(y.grad_fn) == "<MulBackward>"
    assert x.T.shape == (3, 2)
    d = y.data
    assert not d.requires_grad and d.grad_fn is None
    np.testing.assert_array_equal(d.numpy(), y.detach().numpy())


def test_python_scalars_keep_float32():
    x = mg.ones(3)
    for y in (x + 1.5, 2.5 * x, x / 3, x**2.0, 1 - x, x - 1e-3, -x, abs(x)):
        assert y.dtype is mg.float32
    i = mg.tensor([1, 2])
    assert (i + 1).dtype is mg.int64
    assert (i + 0.5).dtype is mg.float32
    assert (i / 2).dtype is mg.float32
    assert (x + mg.ones(3, dtype=mg.float64)).dtype is mg.float64
    assert (x + mg.tensor(2.0, dtype=mg.float64)).dtype is mg.float32  # 0-d does not widen
    assert (mg.ones(2, dtype=mg.int32) + mg.ones(2)).dtype is mg.float32


def test_reflected_and_comparison_operators():
    x = mg.tensor([1.0, 2.0, 3.0])
    assert (10 - x).tolist() == [9.0, 8.0, 7.0]
    assert (6 / x).tolist() == [6.0, 3.0, 2.0]
    assert (2**x).tolist() == [2.0, 4.0, 8.0]
    assert (x > 1.5).tolist() == [False, True, True]
    assert (x == 2).tolist() == [False, True, False]
    assert (x != 2).dtype is mg.bool
    m = (x > 1) & (x < 3)
    assert m.tolist() == [False, True, False] and (~m).tolist() == [True, False, True]
    assert not (x > 1).requires_grad


def test_reductions_with_dim_and_keepdim():
    x = mg.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    assert x.sum().item() == 21
    assert x.sum(0).tolist() == [5.0, 7.0, 9.0]
    assert x.sum((0, 1), keepdim=True).shape == (1, 1)
    assert x.mean(-1).tolist() == [3.0, 4.0]
    values, indices = x.max(1)
    assert values.tolist() == [5.0, 6.0] and indices.tolist() == [1, 2]
    assert x.max(dim=0, keepdim=True).values.shape == (1, 3)
    assert x.min().item() == 1 and x.argmax().item() == 5 and x.argmin(1).tolist() == [0, 1]
    assert x.prod(1).tolist() == [15.0, 48.0]
    np.testing.assert_allclose(x.var(1).numpy(), np.var(x.numpy(), 1, ddof=1))
    np.testing.assert_allclose(x.std(1, unbiased=False).numpy(), np.std(x.numpy(), 1))
    assert mg.tensor([1, 2, 3]).sum().dtype is mg.int64


def test_shape_ops():
    x = mg.arange(24).reshape(2, 3, 4)
    assert x.view(6, -1).shape == (6, 4)
    assert x.permute(2, 0, 1).shape == (4, 2, 3)
    assert x.transpose(0, 2).shape == (4, 3, 2)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    assert x.unsqueeze(0).shape == (1, 2, 3, 4) and x.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert mg.zeros(1, 3, 1).squeeze().shape == (3,) and mg.zeros(1, 3, 1).squeeze(0).shape == (
        3,
        1,
    )
    assert mg.zeros(3, 1).expand(3, 4).shape == (3, 4)
    assert mg.zeros(3, 1).expand(2, -1, 5).shape == (2, 3, 5)
    assert x.contiguous().is_contiguous() and not x.transpose(0, 1).is_contiguous()
    assert x.transpose(0, 1).contiguous().is_contiguous()
    assert [t.shape for t in x.split(2, dim=2)] == [(2, 3, 2), (2, 3, 2)]
    assert [t.shape for t in x.split([1, 2], dim=1)] == [(2, 1, 4), (2, 2, 4)]
    assert [t.shape for t in x.chunk(3, dim=2)] == [(2, 3, 2), (2, 3, 2)]
    assert mg.cat([x, x], 1).shape == (2, 6, 4) and mg.stack([x, x], -1).shape == (2, 3, 4, 2)
    assert mg.nn.functional.pad(mg.ones(2, 2), (1, 2)).shape == (2, 5)
    assert x.repeat(1, 2, 1).shape == (2, 6, 4)
    assert x.flip(0)[0, 0, 0].item() == 12


def test_indexing():
    x = mg.arange(12).reshape(3, 4)
    assert x[1].tolist() == [4, 5, 6, 7]
    assert x[1, 2].item() == 6 and x[1, 2].shape == ()
    assert x[:, 1:3].shape == (3, 2)
    assert x[..., -1].tolist() == [3, 7, 11]
    assert x[None].shape == (1, 3, 4)
    assert x[[0, 2]].shape == (2, 4)
    assert x[mg.tensor([2, 0]), mg.tensor([1, 1])].tolist() == [9, 1]
    assert x[x > 9].tolist() == [10, 11]
    assert x[mg.tensor([-1])].tolist() == [[8, 9, 10, 11]]


def test_indexing_gradient_accumulates_repeated_indices():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2]].sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 1.0]


def test_conversions():
    x = mg.tensor([[1.5, 2.0]])
    assert isinstance(x.numpy(), np.ndarray) and x.tolist() == [[1.5, 2.0]]
    assert mg.tensor(3.5).item() == 3.5 and float(mg.tensor([2.0])) == 2.0
    assert int(mg.tensor(3)) == 3 and bool(mg.tensor([1]))
    assert x.double().dtype is mg.float64 and x.float().dtype is mg.float32
    assert x.long().tolist() == [[1, 2]] and x.int().dtype is mg.int32 and x.bool().dtype is mg.bool
    assert x.to(mg.float64).dtype is mg.float64 and x.to("cpu") is x
    assert x.to(mg.ones(1, dtype=mg.float64)).dtype is mg.float64
    np.testing.assert_array_equal(np.asarray(x), x.numpy())
    c = x.clone()
    c[0, 0] = 9.0
    assert x[0, 0].item() == 1.5
    r = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        r.numpy()
    assert r.detach().numpy().tolist() == [1.0]


def test_dtype_conversion_is_differentiable_between_floats():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * 3
    y.sum().backward()
    assert x.grad.dtype is mg.float32 and x.grad.tolist() == [3.0, 3.0]
    assert not x.long().requires_grad


def test_dlpack_round_trip():
    x = mg.arange(6.0).reshape(2, 3)
    y = mg.from_dlpack(np.from_dlpack(x))
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    z = mg.from_dlpack(np.arange(3.0))
    assert z.tolist() == [0.0, 1.0, 2.0] and z.dtype is mg.float64
    # PyTorch's keyword-only protocol: arguments are checked, the rest is NumPy's export
    assert type(x.__dlpack__(stream=None, copy=False)).__name__ == "PyCapsule"
    with pytest.raises(TypeError):
        x.__dlpack__(None)
    with pytest.raises(TypeError, match=r"'copy' must be a bool"):
        x.__dlpack__(copy=np.ones(2))
    with pytest.raises(RuntimeError, match=r"__dlpack__\(\): can't export this tensor"):
        x.__dlpack__(stream=1)
    with pytest.raises(TypeError, match=r"__array__\(\): dtype must be a NumPy dtype"):
        x.__array__(dtype="")
    assert np.asarray(x, dtype=np.float64).dtype == np.float64


def test_repr_like_pytorch():
    assert repr(mg.tensor([1.0, 2.0, 3.0])) == "tensor([1., 2., 3.])"
    assert repr(mg.tensor([1.5, 2.25])) == "tensor([1.5000, 2.2500])"
    assert repr(mg.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(mg.tensor([1, 2], dtype=mg.int32)) == "tensor([1, 2], dtype=minigrad.int32)"
    assert repr(mg.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(mg.tensor([1.0], dtype=mg.float64)) == "tensor([1.], dtype=minigrad.float64)"
    assert repr(mg.tensor([True, False])) == "tensor([ True, False])"
    assert repr(mg.tensor(2.5)) == "tensor(2.5000)"
    assert "grad_fn=<AddBackward>" in repr(mg.tensor([1.0], requires_grad=True) + 1)
    assert repr(mg.tensor([[1.0, 2.0], [3.0, 4.0]])) == "tensor([[1., 2.],\n        [3., 4.]])"
    assert repr(mg.zeros(0)) == "tensor([])"
    assert repr(mg.tensor([1e-6, 1.0])) == "tensor([1.0000e-06, 1.0000e+00])"


def test_hashable_by_identity_and_not_picklable():
    import pickle

    a, b = mg.ones(1), mg.ones(1)
    assert len({a, b}) == 2
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(a)


def test_len_iter_and_bool():
    x = mg.arange(6).reshape(3, 2)
    assert len(x) == 3 and [r.tolist() for r in x] == [[0, 1], [2, 3], [4, 5]]
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(mg.ones(2))


REPR_CASES = {
    "ints padded to one width": lambda m: m.tensor([10, 7, 4, 1]),
    "int matrix": lambda m: m.tensor([[1, 100], [2, 3]]),
    "negative ints": lambda m: m.tensor([-5, 3]),
    "empty int64 says its dtype": lambda m: m.zeros(0, dtype=m.int64),
    "empty bool says its dtype": lambda m: m.zeros(0, dtype=m.bool),
    "empty 2-d": lambda m: m.zeros(2, 0),
    "integral floats, wide range": lambda m: m.tensor([0.0, 1.0, 1999.0]),
    "summarised floats": lambda m: m.arange(2000.0),
    "summarised ints, 2-d": lambda m: m.arange(2000).reshape(40, 50),
    "summarised floats, 2-d": lambda m: m.arange(2000.0).reshape(40, 50) / 7,
    "large": lambda m: m.tensor([123456789.0, 1.0]),
    "fractions": lambda m: m.linspace(0, 1, 5),
    "bool matrix": lambda m: m.tensor([[True, False], [False, False]]),
    "nan and inf": lambda m: m.tensor([float("nan"), float("inf"), 1.0]),
    "float64": lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=m.float64),
}


@pytest.mark.parametrize("name", list(REPR_CASES))
def test_repr_reads_like_pytorchs(name):
    torch = pytest.importorskip("torch")
    ours = repr(REPR_CASES[name](mg)).replace("minigrad.", "")
    theirs = repr(REPR_CASES[name](torch)).replace("torch.", "")
    assert ours == theirs
