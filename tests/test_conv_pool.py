"""Convolution and pooling against PyTorch over deterministic grids of arguments (values, indices
and every gradient), double backward, float32 on LeNet-sized shapes, and argument errors."""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest

import minigrad as mg
from tests.conftest import DEVICES

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """The shapes here are tiny: PyTorch's worker threads would only spin on a shared machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


F = mg.nn.functional
TF = torch.nn.functional


def _rng(*key):
    """A generator seeded by the test case, the same in every run."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _pair(arrays, dtype=np.float64, device="cpu"):
    """The same arrays as minigrad and torch leaves that require grad (None stays None)."""
    ours, theirs = [], []
    for a in arrays:
        if a is None:
            ours.append(None)
            theirs.append(None)
            continue
        a = np.asarray(a, dtype=dtype)
        ours.append(mg.tensor(a, device=device, requires_grad=True))
        theirs.append(torch.tensor(a, requires_grad=True))
    return ours, theirs


def _check(fm, ft, arrays, rtol=1e-10, atol=1e-12, dtype=np.float64, device="cpu", seed=0):
    """Run both; compare outputs (and indices, exactly), then all gradients for one random
    upstream gradient."""
    ours, theirs = _pair(arrays, dtype, device)
    out_m, out_t = fm(*ours), ft(*theirs)
    if isinstance(out_t, tuple):
        np.testing.assert_array_equal(out_m[1].cpu().numpy(), out_t[1].numpy())
        assert out_m[1].dtype is mg.int64
        out_m, out_t = out_m[0], out_t[0]
    assert tuple(out_m.shape) == tuple(out_t.shape)
    assert out_m.dtype is (mg.float64 if dtype == np.float64 else mg.float32)
    np.testing.assert_allclose(
        out_m.detach().cpu().numpy(), out_t.detach().numpy(), rtol=rtol, atol=atol
    )
    g = np.random.default_rng(seed).standard_normal(out_m.shape).astype(dtype)
    out_m.backward(mg.tensor(g, device=device))
    out_t.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        if a is not None:
            assert a.grad is not None and a.grad.dtype is a.dtype
            np.testing.assert_allclose(a.grad.cpu().numpy(), b.grad.numpy(), rtol=rtol, atol=atol)


def _rejected_by_both(fn, ours, *shapes, **kw) -> bool:
    """True (after checking that minigrad raises too) when PyTorch refuses these arguments or
    gives an empty output."""
    try:
        out = fn(*(torch.zeros(s) for s in shapes), **kw)
        out = out[0] if isinstance(out, tuple) else out
        if 0 not in out.shape:
            return False
    except RuntimeError:
        pass
    with pytest.raises(RuntimeError):
        ours(*(mg.zeros(s) for s in shapes), **kw)
    return True


# ---------------------------------------------------------------- convolution grids

CONV_GRID = [
    dict(stride=s, padding=p, dilation=d, groups=g, kernel=k)
    for s, p, d, g, k in itertools.product(
        [1, 2, 3], [0, 1, 2, "same", "valid"], [1, 2], [1, 2, "dw"], [(1, 1), (3, 3), (2, 5)]
    )
    if not (p == "same" and s != 1)
] + [dict(stride=(1, 2), padding=(2, 0), dilation=(2, 1), groups=1, kernel=(4, 3))]


@pytest.mark.parametrize("case", CONV_GRID, ids=str)
def test_conv2d_matches_torch(case):
    case = dict(case)
    k, g = case.pop("kernel"), case.pop("groups")
    c = 4
    groups = c if g == "dw" else g
    out_ch = 2 * groups if g == "dw" else 6
    x_shape, w_shape = (2, c, 9, 7), (out_ch, c // groups) + k
    if _rejected_by_both(TF.conv2d, F.conv2d, x_shape, w_shape, groups=groups, **case):
        return
    rng = _rng("conv2d", str(case), k, g)
    arrays = [
        rng.standard_normal(x_shape),
        rng.standard_normal(w_shape),
        rng.standard_normal(out_ch),
    ]
    _check(
        lambda x, w, b: F.conv2d(x, w, b, groups=groups, **case),
        lambda x, w, b: TF.conv2d(x, w, b, groups=groups, **case),
        arrays,
    )


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("kernel", [(1, 1), (2, 2), (5, 5), (3, 1)])
def test_conv2d_batch_sizes_and_kernels_without_bias(batch, kernel):
    rng = _rng("conv2d-k", batch, kernel)
    arrays = [rng.standard_normal((batch, 3, 8, 6)), rng.standard_normal((2, 3) + kernel)]
    _check(lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: TF.conv2d(x, w, padding=1), arrays)


def test_conv2d_unbatched_and_noncontiguous_input():
    rng = _rng("conv2d-unbatched")
    x, w = rng.standard_normal((3, 6, 5)), rng.standard_normal((4, 3, 3, 2))
    _check(lambda x, w: F.conv2d(x, w, stride=2), lambda x, w: TF.conv2d(x, w, stride=2), [x, w])
    xt = rng.standard_normal((2, 5, 6, 3))  # permuted to (N, C, H, W): a strided view
    _check(
        lambda x, w: F.conv2d(x.permute(0, 3, 1, 2), w, padding="same"),
        lambda x, w: TF.conv2d(x.permute(0, 3, 1, 2), w, padding="same"),
        [xt, w],
    )


def test_conv2d_empty_batch():
    x = mg.zeros((0, 3, 5, 5))
    w = mg.zeros((4, 3, 3, 3), requires_grad=True)
    y = F.conv2d(x, w)
    assert y.shape == (0, 4, 3, 3)
    y.sum().backward()
    assert w.grad.shape == w.shape and not w.grad.numpy().any()


def _padded_rows_whenever_possible(g, scatter=False):
    """The padded input's width as the GEMM row width wherever it is valid (stride 1; to add
    windows back, the input must lie inside the windows' span)."""
    (sh, sw), (pt, pl), (H, W) = g.span, g.padding, g.in_size
    inside = min(pt, pl) >= 0 and pt + H <= sh and pl + W <= sw
    return sw if g.stride == (1, 1) and (inside or not scatter) else g.out_size[1]


@pytest.mark.parametrize(
    "layout", ["output-width rows", "padded-width rows", "one sample per block"]
)
@pytest.mark.parametrize(
    "kw",
    [
        dict(padding=1),
        dict(padding=2, dilation=(2, 1)),
        dict(padding="same", groups=2),
        dict(stride=2, padding=1),
        dict(padding=(0, 2)),
    ],
    ids=str,
)
def test_conv_gemm_layouts_and_batch_blocks_match_torch(layout, kw, monkeypatch):
    """The GEMM layouts (rows as wide as the output, or as the padded input for stride 1) and
    work split into batch blocks all give PyTorch's values and gradients."""
    from minigrad.ops import conv_kernels

    if layout == "output-width rows":
        monkeypatch.setattr(conv_kernels, "gemm_pitch", lambda g, scatter=False: g.out_size[1])
    elif layout == "padded-width rows":
        monkeypatch.setattr(conv_kernels, "gemm_pitch", _padded_rows_whenever_possible)
    else:
        monkeypatch.setattr(conv_kernels, "BLOCK_BYTES", 1)
    rng = _rng("layouts", str(kw))
    groups = kw.get("groups", 1)
    for out_ch in (2, 6):  # fewer or more output channels: both ways of the input gradient
        arrays = [
            rng.standard_normal((3, 4, 9, 7)),
            rng.standard_normal((out_ch, 4 // groups, 3, 4)),
            rng.standard_normal(out_ch),
        ]
        _check(
            lambda x, w, b: F.conv2d(x, w, b, **kw),
            lambda x, w, b: TF.conv2d(x, w, b, **kw),
            arrays,
        )
    if "padding" in kw and not isinstance(kw["padding"], str):
        t_kw = {k: v for k, v in kw.items() if k != "groups"}
        arrays = [rng.standard_normal((3, 4, 6, 5)), rng.standard_normal((4, 3, 3, 2))]
        _check(
            lambda x, w: F.conv_transpose2d(x, w, **t_kw),
            lambda x, w: TF.conv_transpose2d(x, w, **t_kw),
            arrays,
        )


def test_conv2d_weight_gradient_with_and_without_kept_im2col(monkeypatch):
    """conv2d keeps its im2col buffers for the weight gradient when small enough; the result
    is the same as rebuilding them, a second backward (retain_graph) rebuilds them, and an
    input changed in place is still caught."""
    import minigrad.ops.conv as conv_module

    rng = _rng("kept-cols")
    x = mg.tensor(rng.standard_normal((3, 2, 9, 8)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((4, 2, 3, 3)), requires_grad=True)
    grads = []
    for limit in (conv_module.KEEP_COLS_BYTES, 0):
        monkeypatch.setattr(conv_module, "KEEP_COLS_BYTES", limit)
        out = F.conv2d(x, w, padding=1, stride=(1, 2))
        (gw1,) = mg.autograd.grad(out.sum(), (w,), retain_graph=True)
        (gw2,) = mg.autograd.grad(out.sum(), (w,))
        np.testing.assert_array_equal(gw1.numpy(), gw2.numpy())
        grads.append(gw1.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-12)
    monkeypatch.setattr(conv_module, "KEEP_COLS_BYTES", 1 << 30)
    y = x * 1
    out = F.conv2d(y, w)
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


TRANSPOSE_GRID = [
    dict(stride=s, padding=p, output_padding=op, dilation=d, groups=g, kernel=k, batch=2)
    for s, p, op, d, g, k in itertools.product(
        [1, 2, 3], [0, 1, 2], [0, 1], [1, 2], [1, 2], [(1, 1), (3, 3), (2, 4)]
    )
] + [  # large kernels, one sample: half of the grid (every other case, so each value appears)
    dict(stride=s, padding=p, output_padding=op, dilation=d, groups=g, kernel=k, batch=1)
    for i, (s, p, op, d, g, k) in enumerate(
        itertools.product([1, 2, 3], [0, 1, 2], [0, 1], [1, 2], [1, 2], [(5, 5), (5, 2)])
    )
    if i % 2 == 0
]


@pytest.mark.parametrize("case", TRANSPOSE_GRID, ids=str)
def test_conv_transpose2d_matches_torch(case):
    case = dict(case)
    k, n = case.pop("kernel"), case.pop("batch")
    x_shape, w_shape = (n, 4, 5, 4), (4, 3) + k
    if _rejected_by_both(TF.conv_transpose2d, F.conv_transpose2d, x_shape, w_shape, **case):
        return
    rng = _rng("conv_transpose2d", str(case), k, n)
    arrays = [
        rng.standard_normal(x_shape),
        rng.standard_normal(w_shape),
        rng.standard_normal(3 * case["groups"]),
    ]
    _check(
        lambda x, w, b: F.conv_transpose2d(x, w, b, **case),
        lambda x, w, b: TF.conv_transpose2d(x, w, b, **case),
        arrays,
    )


CONV1D_GRID = [
    dict(stride=s, padding=p, dilation=d, groups=1 + i % 2, kernel=k)
    for i, (s, p, d, k) in enumerate(
        itertools.product([1, 2, 3], [0, 1, 2, "same", "valid"], [1, 2], [1, 2, 3, 5])
    )
    if not (p == "same" and s != 1)
]


@pytest.mark.parametrize("case", CONV1D_GRID, ids=str)
def test_conv1d_matches_torch(case):
    case = dict(case)
    k = case.pop("kernel")
    rng = _rng("conv1d", str(case), k)
    arrays = [rng.standard_normal((2, 4, 11)), rng.standard_normal((6, 4 // case["groups"], k))]
    arrays.append(rng.standard_normal(6))
    _check(
        lambda x, w, b: F.conv1d(x, w, b, **case),
        lambda x, w, b: TF.conv1d(x, w, b, **case),
        arrays,
    )
    _check(  # unbatched (C, L)
        lambda x, w: F.conv1d(x[0], w, **case), lambda x, w: TF.conv1d(x[0], w, **case), arrays[:2]
    )


# ---------------------------------------------------------------- double backward


def _hvp(lib, fn, x, w, b, u, v):
    """Gradient in (x, w, b) of a function of the first gradients: second derivatives."""
    out = fn(x, w, b)
    gx, gw = lib.autograd.grad((out * u).sum(), (x, w), create_graph=True)
    inner = (gx * v[0]).sum() + (gw * v[1]).sum() + (gx * gx).sum() + (gw * gw).sum()
    return lib.autograd.grad(inner, (x, w, b), allow_unused=True)


@pytest.mark.parametrize(
    "kw", [dict(), dict(stride=2, padding=1), dict(dilation=2, groups=2), dict(padding="same")]
)
def test_conv2d_double_backward_matches_torch(kw):
    rng = _rng("hvp", str(kw))
    arrays = [
        rng.standard_normal((2, 4, 7, 6)),
        rng.standard_normal((4, 4 // kw.get("groups", 1), 3, 3)),
    ]
    arrays.append(rng.standard_normal(4))
    ours, theirs = _pair(arrays)
    out_shape = F.conv2d(*ours, **kw).shape
    u = rng.standard_normal(out_shape)
    v = [rng.standard_normal(arrays[0].shape), rng.standard_normal(arrays[1].shape)]
    gm = _hvp(
        mg, lambda x, w, b: F.conv2d(x, w, b, **kw), *ours, mg.tensor(u), [mg.tensor(a) for a in v]
    )
    gt = _hvp(
        torch,
        lambda x, w, b: TF.conv2d(x, w, b, **kw),
        *theirs,
        torch.tensor(u),
        [torch.tensor(a) for a in v],
    )
    for a, b in zip(gm, gt):
        if b is None:
            assert a is None or not a.numpy().any()
        else:
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-10)


def test_conv_transpose2d_double_backward_matches_torch():
    rng = _rng("hvp-t")
    arrays = [
        rng.standard_normal((2, 2, 4, 5)),
        rng.standard_normal((2, 3, 3, 2)),
        rng.standard_normal(3),
    ]
    ours, theirs = _pair(arrays)
    kw = dict(stride=2, padding=1, output_padding=1)
    u = rng.standard_normal(F.conv_transpose2d(*ours, **kw).shape)
    v = [rng.standard_normal(arrays[0].shape), rng.standard_normal(arrays[1].shape)]
    gm = _hvp(
        mg,
        lambda x, w, b: F.conv_transpose2d(x, w, b, **kw),
        *ours,
        mg.tensor(u),
        [mg.tensor(a) for a in v],
    )
    gt = _hvp(
        torch,
        lambda x, w, b: TF.conv_transpose2d(x, w, b, **kw),
        *theirs,
        torch.tensor(u),
        [torch.tensor(a) for a in v],
    )
    for a, b in zip(gm, gt):
        if b is not None:
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("pool", ["max", "avg"])
def test_pooling_double_backward_matches_torch(pool):
    rng = _rng("pool-hvp", pool)
    x = rng.permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) / 10.0  # no ties
    u, v = rng.standard_normal((2, 3, 4, 3)), rng.standard_normal(x.shape)
    kw = dict(kernel_size=3, stride=2, padding=1)
    results = []
    for lib, fn in ((mg, F), (torch, TF)):
        xt = lib.tensor(x, requires_grad=True)
        out = (fn.max_pool2d if pool == "max" else fn.avg_pool2d)(xt, **kw)
        (gx,) = lib.autograd.grad((out * lib.tensor(u)).sum() ** 2, (xt,), create_graph=True)
        (ggx,) = lib.autograd.grad((gx * lib.tensor(v)).sum(), (xt,))
        results.append((gx.detach().numpy(), ggx.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------- pooling grids

POOL_GRID = [
    dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=c)
    for k, s, p, d, c in itertools.product(
        [1, 2, 3, (2, 3)], [None, 1, 2, 3], [0, 1], [1, 2], [False, True]
    )
] + [  # kernels 4 and 5, with the padding of 2 they allow
    dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=c)
    for k, s, p, d, c in itertools.product(
        [4, 5, (5, 4)], [None, 2], [0, 1, 2, (2, 1)], [1, 2], [False, True]
    )
]


@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("case", POOL_GRID, ids=str)
def test_max_pool2d_matches_torch(case, ties):
    if _rejected_by_both(TF.max_pool2d, F.max_pool2d, (1, 1, 9, 8), **case):
        return
    rng = _rng("max_pool2d", str(case), ties)
    x = rng.standard_normal((2, 3, 9, 8))
    if ties:  # few distinct values: the first maximum in row-major order must win, as in PyTorch
        x = np.round(x)
    _check(
        lambda x: F.max_pool2d(x, **case, return_indices=True),
        lambda x: TF.max_pool2d(x, **case, return_indices=True),
        [x],
    )


@pytest.mark.parametrize(
    "case",
    [
        dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=c)
        for k, s, p, d, c in itertools.product(
            [1, 2, 3, 4, 5], [None, 2], [0, 1, 2], [1, 2], [False, True]
        )
    ],
    ids=str,
)
def test_max_pool1d_matches_torch(case):
    if _rejected_by_both(TF.max_pool1d, F.max_pool1d, (1, 1, 11), **case):
        return
    x = np.round(_rng("max_pool1d", str(case)).standard_normal((2, 3, 11)))
    _check(
        lambda x: F.max_pool1d(x, **case, return_indices=True),
        lambda x: TF.max_pool1d(x, **case, return_indices=True),
        [x],
    )
    _check(  # unbatched (C, L)
        lambda x: F.max_pool1d(x[0], **case), lambda x: TF.max_pool1d(x[0], **case), [x]
    )


def test_max_pool2d_nan_and_inf_follow_torch():
    x = np.arange(2 * 36, dtype=np.float64).reshape(2, 1, 6, 6)
    x[0, 0, 0, 1] = np.nan
    x[0, 0, 2, 2] = x[0, 0, 3, 3] = np.nan  # two NaNs in one window: PyTorch keeps the last
    x[1, 0, :2, :2] = -np.inf  # a window of -inf only, next to padding
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1)):
        out_m, idx_m = F.max_pool2d(mg.tensor(x), **kw, return_indices=True)
        out_t, idx_t = TF.max_pool2d(torch.tensor(x), **kw, return_indices=True)
        np.testing.assert_array_equal(out_m.numpy(), out_t.numpy())
        np.testing.assert_array_equal(idx_m.numpy(), idx_t.numpy())


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2)])
def test_max_pool2d_gradient_with_inf_upstream_stays_at_the_maximum(kw):
    x = np.arange(2 * 36, dtype=np.float64).reshape(2, 1, 6, 6) % 7
    grads = []
    for lib, fn in ((mg, F), (torch, TF)):
        xt = lib.tensor(x, requires_grad=True)
        out = fn.max_pool2d(xt, **kw)
        g = np.ones(tuple(out.shape))
        g[0, 0, 0, 0] = np.inf
        out.backward(lib.tensor(g))
        grads.append(xt.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


def test_max_pool2d_unbatched_and_relu_ties_in_float32():
    """LeNet's pattern: pooling ReLU outputs, where whole windows tie at 0."""
    x = _rng("relu-ties").standard_normal((3, 8, 8))
    _check(
        lambda x: F.max_pool2d(x.relu(), 2, return_indices=True),
        lambda x: TF.max_pool2d(x.relu(), 2, return_indices=True),
        [x],
        dtype=np.float32,
        rtol=1e-6,
        atol=1e-7,
    )


AVG_GRID = [
    dict(kernel_size=k, stride=s, padding=p, ceil_mode=c, count_include_pad=i, divisor_override=d)
    for k, s, p, c, i, d in itertools.product(
        [1, 2, 3, (3, 2)], [None, 1, 2], [0, 1], [False, True], [False, True], [None, 5]
    )
] + [  # kernels 4 and 5 with paddings up to 2; the divisor override on every other case
    dict(kernel_size=k, stride=s, padding=p, ceil_mode=c, count_include_pad=i, divisor_override=d)
    for n, (k, s, p, c, i) in enumerate(
        itertools.product(
            [4, 5, (4, 5)], [None, 2], [0, 1, 2, (2, 0)], [False, True], [False, True]
        )
    )
    for d in ([None] if n % 2 else [None, 3])
]


@pytest.mark.parametrize("case", AVG_GRID, ids=str)
def test_avg_pool2d_matches_torch(case):
    if _rejected_by_both(TF.avg_pool2d, F.avg_pool2d, (1, 1, 9, 8), **case):
        return
    x = _rng("avg_pool2d", str(case)).standard_normal((2, 3, 9, 8))
    _check(lambda x: F.avg_pool2d(x, **case), lambda x: TF.avg_pool2d(x, **case), [x])


@pytest.mark.parametrize("size", [1, 2, 3, 5, (2, 4), (None, 3), (7, 6), (9, 8), (4, None)])
@pytest.mark.parametrize("batched", [True, False])
def test_adaptive_avg_pool2d_matches_torch(size, batched):
    x = _rng("adaptive", str(size)).standard_normal((2, 3, 7, 6))
    pick = (lambda x: x) if batched else (lambda x: x[0])
    _check(
        lambda x: F.adaptive_avg_pool2d(pick(x), size),
        lambda x: TF.adaptive_avg_pool2d(pick(x), size),
        [x],
    )


def test_adaptive_avg_pool2d_to_size_zero():
    x = mg.ones((2, 3, 4, 4), requires_grad=True)
    out = F.adaptive_avg_pool2d(x, (0, 2))
    assert out.shape == tuple(TF.adaptive_avg_pool2d(torch.ones(2, 3, 4, 4), (0, 2)).shape)
    out.sum().backward()
    assert x.grad.shape == x.shape and not x.grad.numpy().any()


# ---------------------------------------------------------------- float32, LeNet shapes


def test_lenet_shapes_in_float32_match_torch():
    rng = _rng("lenet")
    x = rng.standard_normal((16, 1, 28, 28))
    w1, b1 = rng.standard_normal((6, 1, 5, 5)) * 0.2, rng.standard_normal(6) * 0.1
    w2, b2 = rng.standard_normal((16, 6, 5, 5)) * 0.1, rng.standard_normal(16) * 0.1

    def net(fn):
        def run(x, w1, b1, w2, b2):
            h = fn.max_pool2d(fn.relu(fn.conv2d(x, w1, b1, padding=2)), 2)
            return fn.max_pool2d(fn.relu(fn.conv2d(h, w2, b2)), 2)

        return run

    _check(net(F), net(TF), [x, w1, b1, w2, b2], dtype=np.float32, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("device", DEVICES)
def test_conv_and_pool_on_device_match_cpu(device):
    rng = _rng("device")
    x, w = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((4, 3, 3, 3))

    def run(dev):
        xm = mg.tensor(x, device=dev, requires_grad=True)
        wm = mg.tensor(w, device=dev, requires_grad=True)
        h = F.conv2d(xm, wm, padding=1, stride=(1, 2))
        out = F.max_pool2d(h, 3, stride=2, padding=1) + F.avg_pool2d(h, 2, ceil_mode=True).sum()
        out.sum().backward()
        return [t.cpu().numpy() for t in (out.detach(), xm.grad, wm.grad)]

    for a, b in zip(run(device), run("cpu")):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- errors

X = (2, 3, 5, 5)
W = (4, 3, 3, 3)

CONV_ERRORS = [
    ("input of size: [2, 3]", lambda: F.conv2d(mg.zeros(2, 3), mg.zeros(W))),
    ("input of size: [1, 2, 3, 5, 5]", lambda: F.conv2d(mg.zeros(1, 2, 3, 5, 5), mg.zeros(W))),
    ("4-D weight", lambda: F.conv2d(mg.zeros(X), mg.zeros(4, 3, 3))),
    (
        "weight of size [6, 3, 5, 5], expected input[8, 1, 28, 28] to have 3 channels, but got 1",
        lambda: F.conv2d(mg.zeros(8, 1, 28, 28), mg.zeros(6, 3, 5, 5)),
    ),
    (
        "divisible by 2 at dimension 0",
        lambda: F.conv2d(mg.zeros(X), mg.zeros(3, 1, 3, 3), groups=2),
    ),
    (
        "to have 2 channels, but got 3",
        lambda: F.conv2d(mg.zeros(X), mg.zeros(4, 1, 3, 3), groups=2),
    ),
    ("non-positive groups", lambda: F.conv2d(mg.zeros(X), mg.zeros(W), groups=0)),
    ("non-positive stride", lambda: F.conv2d(mg.zeros(X), mg.zeros(W), stride=0)),
    ("list of 2 integers", lambda: F.conv2d(mg.zeros(X), mg.zeros(W), stride=(1, 2, 3))),
    ("negative padding", lambda: F.conv2d(mg.zeros(X), mg.zeros(W), padding=-1)),
    ("non-positive dilation", lambda: F.conv2d(mg.zeros(X), mg.zeros(W), dilation=0)),
    ("Kernel size: (7 x 7)", lambda: F.conv2d(mg.zeros(X), mg.zeros(4, 3, 7, 7))),
    ("Kernel size: (7 x 7)", lambda: F.conv2d(mg.zeros(X), mg.zeros(W), dilation=3)),
    (
        "input type (minigrad.float32) and weight type (minigrad.float64)",
        lambda: F.conv2d(mg.zeros(X), mg.zeros(W, dtype=mg.float64)),
    ),
    ("bias type", lambda: F.conv2d(mg.zeros(X), mg.zeros(W), mg.zeros(4, dtype=mg.float64))),
    (
        "bias to be 1-dimensional with 4 elements",
        lambda: F.conv2d(mg.zeros(X), mg.zeros(W), mg.zeros(5)),
    ),
    (
        "'same' is not supported for strided",
        lambda: F.conv2d(mg.zeros(X), mg.zeros(W), stride=2, padding="same"),
    ),
    ("invalid padding string 'full'", lambda: F.conv2d(mg.zeros(X), mg.zeros(W), padding="full")),
    ("floating point input", lambda: F.conv2d(mg.zeros(X, dtype=mg.int64), mg.zeros(W))),
    ("must be a Tensor", lambda: F.conv2d(np.zeros(X), mg.zeros(W))),
    ("input of size: [2, 3, 4, 5]", lambda: F.conv1d(mg.zeros(2, 3, 4, 5), mg.zeros(2, 3, 3))),
    ("3-D weight", lambda: F.conv1d(mg.zeros(2, 3, 5), mg.zeros(2, 3, 3, 3))),
    (
        "transposed=1, weight of size [4, 2, 3, 3], expected input[2, 3, 5, 5] to have 4 channels",
        lambda: F.conv_transpose2d(mg.zeros(X), mg.zeros(4, 2, 3, 3)),
    ),
    (
        "output padding must be smaller than either stride or dilation",
        lambda: F.conv_transpose2d(mg.zeros(X), mg.zeros(3, 2, 3, 3), stride=2, output_padding=2),
    ),
    (
        "Output size is too small",
        lambda: F.conv_transpose2d(mg.zeros(1, 3, 1, 1), mg.zeros(3, 2, 1, 1), padding=1),
    ),
    (
        "'same' are for conv2d",
        lambda: F.conv_transpose2d(mg.zeros(X), mg.zeros(3, 2, 3, 3), padding="same"),
    ),
]

POOL_ERRORS = [
    ("at most half of kernel size", lambda: F.max_pool2d(mg.zeros(X), 3, padding=2)),
    ("at most half of kernel size", lambda: F.max_pool2d(mg.zeros(X), 3, padding=2, dilation=2)),
    ("Output size is too small", lambda: F.max_pool2d(mg.zeros(1, 1, 2, 2), 3)),
    ("kernel size should be greater than zero", lambda: F.max_pool2d(mg.zeros(X), 0)),
    ("stride should be greater than zero", lambda: F.max_pool2d(mg.zeros(X), 2, stride=0)),
    ("dilation should be greater than zero", lambda: F.max_pool2d(mg.zeros(X), 2, dilation=0)),
    ("pad must be non-negative", lambda: F.max_pool2d(mg.zeros(X), 2, padding=-1)),
    ("input of size: [5, 5]", lambda: F.max_pool2d(mg.zeros(5, 5), 2)),
    ("list of 2 integers", lambda: F.max_pool2d(mg.zeros(X), (2, 2, 2))),
    ("kernel_size=2.0", lambda: F.max_pool2d(mg.zeros(X), 2.0)),
    ("input of size: [2, 3, 4, 5]", lambda: F.max_pool1d(mg.zeros(2, 3, 4, 5), 2)),
    ("at most half of kernel size", lambda: F.avg_pool2d(mg.zeros(X), 3, padding=2)),
    ("Output size is too small", lambda: F.avg_pool2d(mg.zeros(1, 1, 2, 2), 3)),
    ("divisor must be not zero", lambda: F.avg_pool2d(mg.zeros(X), 2, divisor_override=0)),
    ("floating point input", lambda: F.avg_pool2d(mg.zeros(X, dtype=mg.int64), 2)),
    ("greater than or equal to 0", lambda: F.adaptive_avg_pool2d(mg.zeros(X), -1)),
    ("output_size must be an int or a pair", lambda: F.adaptive_avg_pool2d(mg.zeros(X), (1, 2, 3))),
    ("input of size: [5, 5]", lambda: F.adaptive_avg_pool2d(mg.zeros(5, 5), 2)),
    (
        "non-zero size for non-batch dimensions",
        lambda: F.adaptive_avg_pool2d(mg.zeros(1, 2, 0, 3), 2),
    ),
]


WRONG_KIND = {
    "floating point input",
    "must be a Tensor",
    "list of 2 integers",
    "kernel_size=2.0",
    "'same' are for conv2d",
    "output_size must be an int or a pair",
}


@pytest.mark.parametrize(
    "message, call", CONV_ERRORS + POOL_ERRORS, ids=[m for m, _ in CONV_ERRORS + POOL_ERRORS]
)
def test_bad_arguments_raise_clear_errors(message, call):
    # PyTorch's exception types: TypeError for arguments of the wrong kind, else RuntimeError
    expected = TypeError if message in WRONG_KIND else RuntimeError
    with pytest.raises(expected) as info:
        call()
    assert message in str(info.value)


def test_mixed_devices_raise():
    if not mg.cuda.is_available():
        pytest.skip("no CUDA device (run with MINIGRAD_FAKE_CUDA=1 to use the CuPy stand-in)")
    with pytest.raises(RuntimeError, match="same device"):
        F.conv2d(mg.zeros(X), mg.zeros(W, device="cuda"))
