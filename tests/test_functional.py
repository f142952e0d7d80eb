"""``minigrad.nn.functional`` against PyTorch: every function and option, values and gradients;
numerical stability of the losses; dropout statistics; running statistics of batch_norm; and
the error raised for each kind of bad argument."""

from __future__ import annotations

import ast
import inspect
import math

import numpy as np
import pytest

import minigrad as mg

F = mg.nn.functional
RNG = np.random.default_rng(1234)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _both(torch, a, grad=True, dtype="float64"):
    """The same host array as a minigrad and a torch tensor (leaves that require grad)."""
    a = np.asarray(a, dtype=dtype)
    m = mg.tensor(a, requires_grad=grad)
    t = torch.tensor(a, requires_grad=grad)
    return m, t


def _close(m, t, rtol=1e-10, atol=1e-12):
    m_arr = m.detach().numpy() if isinstance(m, mg.Tensor) else np.asarray(m)
    t_arr = t.detach().numpy()
    assert m_arr.shape == t_arr.shape
    np.testing.assert_allclose(m_arr, t_arr, rtol=rtol, atol=atol)


def _check_grads(out_m, out_t, ins_m, ins_t, rtol=1e-10, atol=1e-12):
    """Values equal, then gradients for one random upstream gradient equal."""
    torch = pytest.importorskip("torch")
    _close(out_m, out_t, rtol, atol)
    g = RNG.standard_normal(tuple(out_t.shape))
    gm = mg.autograd.grad(out_m, ins_m, mg.tensor(g, dtype=out_m.dtype), allow_unused=True)
    gt = torch.autograd.grad(out_t, ins_t, torch.tensor(g, dtype=out_t.dtype), allow_unused=True)
    for a, b in zip(gm, gt):
        if b is None:
            assert a is None or not a.numpy().any()
        else:
            _close(a, b, rtol, atol)


# ---------------------------------------------------------------- signatures

# Where minigrad's signature differs from PyTorch's on purpose: {name: parameters PyTorch has
# that minigrad leaves out}. Nothing else may differ.
SIGNATURE_DIFFERENCES = {
    "normalize": ["out"],  # minigrad's functions never write into a tensor given as out=
}
# Functions in minigrad.nn.functional that PyTorch keeps elsewhere (compared with that one).
ELSEWHERE = {"flatten": "torch.flatten"}


def _params(sig: inspect.Signature) -> list[tuple]:
    return [(p.name, p.kind.name, p.default) for p in sig.parameters.values()]


def _torch_params(torch, name: str) -> list[tuple]:
    """PyTorch's parameters (name, kind, default): from ``inspect`` where it can tell, else
    from the signature line of the docstring (C builtins, and the wrappers that dispatch on
    ``return_indices``)."""
    fn = eval(ELSEWHERE[name], {"torch": torch}) if name in ELSEWHERE else None
    fn = fn or getattr(torch.nn.functional, name)
    try:
        sig = inspect.signature(fn)
        if all(p.kind is not p.VAR_POSITIONAL for p in sig.parameters.values()):
            return _params(sig)
    except (TypeError, ValueError):
        pass
    head = fn.__doc__.strip().splitlines()[0].split("->")[0].strip()
    args = ast.parse(f"def {head}: pass").body[0].args
    empty = inspect.Parameter.empty
    positional = [empty] * (len(args.args) - len(args.defaults)) + args.defaults
    out = [
        (a.arg, "POSITIONAL_OR_KEYWORD", d if d is empty else ast.literal_eval(d))
        for a, d in zip(args.args, positional)
    ]
    out += [
        (a.arg, "KEYWORD_ONLY", empty if d is None else ast.literal_eval(d))
        for a, d in zip(args.kwonlyargs, args.kw_defaults)
    ]
    return out


@pytest.mark.parametrize("name", F.__all__)
def test_signature_matches_pytorch(torch, name):
    """Names, order, kinds and defaults of every parameter, so that a call written for PyTorch
    (positional arguments included) means the same here."""
    ours = _params(inspect.signature(getattr(F, name)))
    theirs = [
        p for p in _torch_params(torch, name) if p[0] not in SIGNATURE_DIFFERENCES.get(name, [])
    ]
    assert ours == theirs


def test_every_public_function_is_listed_and_has_a_counterpart(torch):
    public = {n for n, v in vars(F).items() if not n.startswith("_") and inspect.isfunction(v)}
    assert public == set(F.__all__)
    assert not set(ELSEWHERE) & set(dir(torch.nn.functional))
    for name, dropped in SIGNATURE_DIFFERENCES.items():  # each exception is still needed
        assert {p[0] for p in _torch_params(torch, name)} >= set(dropped)


# ---------------------------------------------------------------- activations and linear

ACTIVATIONS = [
    ("relu", {}),
    ("sigmoid", {}),
    ("tanh", {}),
    ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.3}),
    ("elu", {}),
    ("elu", {"alpha": 0.4}),
    ("gelu", {}),
    ("gelu", {"approximate": "tanh"}),
    ("softplus", {}),
    ("softplus", {"beta": 2.0, "threshold": 3.0}),
    ("silu", {}),
    ("hardtanh", {}),
    ("hardtanh", {"min_val": -0.5, "max_val": 2.0}),
    ("relu6", {}),
    ("logsigmoid", {}),
]


@pytest.mark.parametrize("name, kwargs", ACTIVATIONS)
def test_activation_parity(torch, name, kwargs):
    x = RNG.uniform(-8, 8, size=(3, 4, 5))
    x[np.abs(x) < 0.05] = 0.3  # no kinks
    for edge in (-1.0, 2.0, 6.0, -0.5, 1.5):
        x[np.abs(x - edge) < 0.05] = edge + 0.1
    xm, xt = _both(torch, x)
    out_m = getattr(F, name)(xm, **kwargs)
    out_t = getattr(torch.nn.functional, name)(xt, **kwargs)
    _check_grads(out_m, out_t, [xm], [xt])


@pytest.mark.parametrize(
    "name, kwargs, kinks",
    [
        ("relu", {}, [0.0]),
        ("leaky_relu", {"negative_slope": 0.2}, [0.0]),
        ("elu", {"alpha": 0.5}, [0.0]),
        ("hardtanh", {"min_val": -0.5, "max_val": 1.0}, [-0.5, 1.0]),
        ("relu6", {}, [0.0, 6.0]),
        ("softplus", {"beta": 2.0, "threshold": 3.0}, [1.5]),
    ],
)
def test_gradients_at_kinks_match_pytorch(torch, name, kwargs, kinks):
    x = np.array(kinks + [k + d for k in kinks for d in (-1e-3, 1e-3)])
    xm, xt = _both(torch, x)
    out_m = getattr(F, name)(xm, **kwargs)
    _check_grads(out_m, getattr(torch.nn.functional, name)(xt, **kwargs), [xm], [xt])


def test_l1_and_max_shift_ties_match_pytorch(torch):
    am, at = _both(torch, [1.0, 2.0, -3.0])
    bm, bt = _both(torch, [1.0, 0.0, -3.0])
    _check_grads(F.l1_loss(am, bm), torch.nn.functional.l1_loss(at, bt), [am, bm], [at, bt])
    xm, xt = _both(torch, [[2.0, 2.0, -1.0], [0.0, 0.0, 0.0]])  # tied maxima in the shift
    labels = np.array([1, 2])
    out_m = F.cross_entropy(xm, mg.tensor(labels))
    out_t = torch.nn.functional.cross_entropy(xt, torch.tensor(labels))
    _check_grads(out_m, out_t, [xm], [xt])


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "silu", "hardtanh", "relu6"])
def test_inplace_activations_write_into_the_input(torch, name):
    x = RNG.standard_normal((4, 3))
    xm, xt = _both(torch, x, grad=False)
    out_m = getattr(F, name)(xm, inplace=True)
    getattr(torch.nn.functional, name)(xt, inplace=True)
    assert out_m is xm
    _close(xm, xt)


def test_activations_keep_float32(torch):
    x = mg.randn(3, 4)
    for name, kwargs in ACTIVATIONS:
        assert getattr(F, name)(x, **kwargs).dtype is mg.float32, name


def test_erf_is_accurate_in_float64():
    from minigrad.ops.activation import erf

    x = np.concatenate(
        [np.linspace(-7, 7, 20001), np.logspace(-300, 1.2, 2000), -np.logspace(-12, 1.5, 2000)]
    )
    ref = np.array([math.erf(v) for v in x])
    got = erf(mg.tensor(x, dtype=mg.float64)).numpy()
    rel = np.abs(got - ref) / np.where(ref == 0, 1.0, np.abs(ref))
    assert rel.max() <= 1e-13, f"worst relative error {rel.max():.3g} at x = {x[rel.argmax()]}"
    assert erf(mg.tensor([math.inf, -math.inf, 40.0], dtype=mg.float64)).tolist() == [1, -1, 1]
    assert math.isnan(erf(mg.tensor([math.nan], dtype=mg.float64)).item())
    assert erf(mg.tensor([0.3])).dtype is mg.float32


@pytest.mark.parametrize("lead", [(), (5,), (2, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_parity(torch, lead, bias):
    xm, xt = _both(torch, RNG.standard_normal(lead + (4,)))
    wm, wt = _both(torch, RNG.standard_normal((3, 4)))
    bm, bt = _both(torch, RNG.standard_normal(3)) if bias else (None, None)
    out_m, out_t = F.linear(xm, wm, bm), torch.nn.functional.linear(xt, wt, bt)
    ins_m = [xm, wm] + ([bm] if bias else [])
    ins_t = [xt, wt] + ([bt] if bias else [])
    _check_grads(out_m, out_t, ins_m, ins_t)


def test_linear_is_one_node_and_twice_differentiable():
    x = mg.randn(2, 4, dtype=mg.float64, requires_grad=True)
    w = mg.randn(3, 4, dtype=mg.float64, requires_grad=True)
    b = mg.randn(3, dtype=mg.float64, requires_grad=True)
    out = F.linear(x, w, b)
    assert out.grad_fn.name() == "LinearBackward"
    assert all(isinstance(e, mg.Tensor) for e in out.grad_fn._edges)  # straight to the leaves
    assert mg.autograd.gradgradcheck(lambda *a: F.linear(*a).tanh(), [x, w, b])


def test_softmax_and_log_softmax_follow_pytorch(torch):
    xm, xt = _both(torch, RNG.standard_normal((3, 5)))
    for name in ("softmax", "log_softmax"):
        for dim in (0, 1, -1):
            out_m = getattr(F, name)(xm, dim)
            _check_grads(out_m, getattr(torch.nn.functional, name)(xt, dim), [xm], [xt])
        assert getattr(F, name)(mg.randn(2, 3), 1, dtype=mg.float64).dtype is mg.float64


@pytest.mark.parametrize("shape", [(), (4,), (3, 4), (2, 3, 4), (2, 3, 2, 2)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_without_dim_warns_and_picks_pytorchs_dim(torch, name, shape):
    xm, xt = _both(torch, RNG.standard_normal(shape))
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name}") as record:
        out_m = getattr(F, name)(xm)
    assert record[0].filename == __file__  # the warning points at the caller
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        out_t = getattr(torch.nn.functional, name)(xt)
    _check_grads(out_m, out_t, [xm], [xt])
    with pytest.warns(UserWarning) as record:  # positional, as in PyTorch: dim, _stacklevel, dtype
        out = getattr(F, name)(xm.float(), None, 3, mg.float64)
    assert out.dtype is mg.float64 and len(record) == 1


# ---------------------------------------------------------------- cross_entropy and nll_loss


def _labels(shape, n_classes, ignore=None):
    t = RNG.integers(0, n_classes, size=shape)
    if ignore is not None and t.size > 2:
        t.flat[0] = ignore
        t.flat[t.size // 2] = ignore
    return t


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 2])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("layout", [(6, 4), (3, 4, 2, 3), (4,)])
def test_cross_entropy_parity(torch, reduction, weighted, ignore_index, smoothing, layout):
    xm, xt = _both(torch, RNG.standard_normal(layout) * 3)
    tshape = layout[:1] + layout[2:] if len(layout) > 1 else ()
    labels = _labels(tshape, layout[-1] if len(layout) == 1 else layout[1], ignore_index)
    if labels.flat[-1] == ignore_index:
        labels.flat[-1] = 0
    weight = RNG.uniform(0.2, 3.0, size=layout[0 if len(layout) == 1 else 1])
    kw = {"ignore_index": ignore_index, "reduction": reduction, "label_smoothing": smoothing}
    out_m = F.cross_entropy(xm, mg.tensor(labels), mg.tensor(weight) if weighted else None, **kw)
    out_t = torch.nn.functional.cross_entropy(
        xt, torch.tensor(labels), torch.tensor(weight) if weighted else None, **kw
    )
    _check_grads(out_m, out_t, [xm], [xt])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_with_class_probabilities(torch, reduction, smoothing):
    xm, xt = _both(torch, RNG.standard_normal((3, 4, 2)))
    pm, pt = _both(torch, RNG.dirichlet(np.ones(4), size=(3, 2)).transpose(0, 2, 1))
    wm, wt = _both(torch, RNG.uniform(0.5, 2, size=4), grad=False)
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    out_m = F.cross_entropy(xm, pm, wm, **kw)
    out_t = torch.nn.functional.cross_entropy(xt, pt, wt, **kw)
    _check_grads(out_m, out_t, [xm, pm], [xt, pt])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_parity(torch, reduction):
    xm, xt = _both(torch, RNG.standard_normal((5, 3, 4)))
    labels = _labels((5, 4), 3, ignore=-100)
    wm, wt = _both(torch, RNG.uniform(0.5, 2, size=3), grad=False)
    out_m = F.nll_loss(xm, mg.tensor(labels), wm, reduction=reduction)
    out_t = torch.nn.functional.nll_loss(xt, torch.tensor(labels), wt, reduction=reduction)
    _check_grads(out_m, out_t, [xm], [xt])


def test_nll_loss_with_every_target_ignored_is_nan_with_zero_gradient(torch):
    xm, xt = _both(torch, RNG.standard_normal((3, 4)))
    labels = np.full(3, -100)
    out_m = F.nll_loss(xm, mg.tensor(labels))
    out_t = torch.nn.functional.nll_loss(xt, torch.tensor(labels))
    assert math.isnan(out_m.item()) and math.isnan(out_t.item())
    out_m.backward()
    assert not xm.grad.numpy().any()


def test_nll_loss_double_backward():
    x = mg.randn(4, 3, dtype=mg.float64, requires_grad=True)
    labels = mg.tensor([0, 2, 1, 2])
    w = mg.tensor([0.5, 1.0, 2.0], dtype=mg.float64)
    assert mg.autograd.gradgradcheck(lambda a: F.cross_entropy(a * a, labels, w), [x])


@pytest.mark.parametrize(
    "dtype, scale, smoothing",
    [
        ("float64", 1e4, 0.0),
        ("float64", 1e4, 0.1),
        ("float32", 1e4, 0.0),
        ("float32", 1e4, 0.1),
        ("float32", 1e38, 0.0),  # (smoothing sums the logits: past float32's range at 1e38)
    ],
    ids=str,
)
def test_cross_entropy_is_stable_for_huge_logits(torch, dtype, scale, smoothing):
    x = np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0], [0.5, -1.0, 1.0]]) * scale
    labels = np.array([1, 1, 2])  # wrong, right and right: losses of order `scale` and 0
    xm, xt = _both(torch, x, dtype=dtype)
    out_m = F.cross_entropy(xm, mg.tensor(labels), label_smoothing=smoothing)
    out_t = torch.nn.functional.cross_entropy(xt, torch.tensor(labels), label_smoothing=smoothing)
    assert math.isfinite(out_m.item())
    out_m.backward()
    out_t.backward()
    assert np.isfinite(xm.grad.numpy()).all()
    np.testing.assert_allclose(out_m.item(), out_t.item(), rtol=1e-6)
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------- other losses


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_parity(torch, name, reduction):
    am, at = _both(torch, RNG.standard_normal((3, 4)))
    bm, bt = _both(torch, RNG.standard_normal((3, 4)))
    out_m = getattr(F, name)(am, bm, reduction=reduction)
    out_t = getattr(torch.nn.functional, name)(at, bt, reduction=reduction)
    _check_grads(out_m, out_t, [am, bm], [at, bt])


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_with_weight_parity(torch, name, reduction):
    am, at = _both(torch, RNG.standard_normal((3, 4)))
    bm, bt = _both(torch, RNG.standard_normal((3, 4)))
    wm, wt = _both(torch, RNG.uniform(0.1, 2.0, (3, 4)))
    out_m = getattr(F, name)(am, bm, reduction=reduction, weight=wm)
    out_t = getattr(torch.nn.functional, name)(at, bt, reduction=reduction, weight=wt)
    _check_grads(out_m, out_t, [am, bm, wm], [at, bt, wt])
    with pytest.raises(ValueError, match=r"Weights and input must have the same size.*\(4,\)"):
        getattr(F, name)(am, bm, weight=mg.ones(4, dtype=mg.float64))


def _positional_calls(lib):
    """Loss calls with PyTorch's positional slots (deprecated ones passed as None)."""
    F_ = lib.nn.functional
    rng = np.random.default_rng(5)

    def t(a, **kw):
        return lib.tensor(a, **kw)

    x, p = t(rng.normal(size=(4, 3))), t(rng.uniform(0.05, 0.95, (4, 3)))
    y, w = t(np.array([0, 2, 1, 2])), t(np.array([1.0, 0.5, 2.0]))
    return [
        F_.cross_entropy(x, y, None, None, 1),
        F_.cross_entropy(x, y, w, None, 2, None, "sum", 0.2),
        F_.nll_loss(x.log_softmax(1), y, w, None, 0, None, "none"),
        F_.mse_loss(x, p, None, None, "sum"),
        F_.mse_loss(x, p, None, None, "none", p),
        F_.l1_loss(x, p, None, None, "mean", p),
        F_.binary_cross_entropy(p, p.flip(0), w, None, None, "sum"),
        F_.binary_cross_entropy_with_logits(x, p, None, None, None, "none", w),
    ]


def test_losses_take_pytorchs_positional_arguments(torch):
    for ours, theirs in zip(_positional_calls(mg), _positional_calls(torch)):
        _close(ours, theirs)


@pytest.mark.parametrize(
    "size_average, reduce, expected",
    [(False, None, "sum"), (None, False, "none"), (True, True, "mean"), (False, True, "sum")],
)
def test_deprecated_size_average_and_reduce_map_to_reduction(torch, size_average, reduce, expected):
    x, t = RNG.standard_normal((4, 3)), RNG.integers(0, 3, 4)
    flags = {"size_average": size_average, "reduce": reduce}
    for name, args in [
        ("cross_entropy", (x, t)),
        ("nll_loss", (x, t)),
        ("mse_loss", (x, x + 1)),
    ]:
        with pytest.warns(
            UserWarning, match=f"please use reduction='{expected}' instead"
        ) as record:
            ours = getattr(F, name)(*(mg.tensor(a) for a in args), **flags)
        assert record[0].filename == __file__
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            theirs = getattr(torch.nn.functional, name)(*(torch.tensor(a) for a in args), **flags)
        _close(ours, theirs)
        plain = getattr(F, name)(*(mg.tensor(a) for a in args), reduction=expected)
        np.testing.assert_array_equal(ours.numpy(), plain.numpy())


def test_regression_losses_warn_when_broadcasting():
    with pytest.warns(UserWarning, match=r"target size \(3, 1\).*input size \(3,\)"):
        F.mse_loss(mg.randn(3), mg.randn(3, 1))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
def test_bce_with_logits_parity(torch, reduction, weighted, pos_weighted):
    xm, xt = _both(torch, RNG.standard_normal((4, 3)) * 5)
    ym, yt = _both(torch, RNG.uniform(0, 1, size=(4, 3)))
    wm, wt = _both(torch, RNG.uniform(0.5, 2, size=(4, 1)), grad=False)
    pm, pt = _both(torch, RNG.uniform(0.5, 3, size=3), grad=False)
    out_m = F.binary_cross_entropy_with_logits(
        xm,
        ym,
        wm if weighted else None,
        reduction=reduction,
        pos_weight=pm if pos_weighted else None,
    )
    out_t = torch.nn.functional.binary_cross_entropy_with_logits(
        xt,
        yt,
        wt if weighted else None,
        reduction=reduction,
        pos_weight=pt if pos_weighted else None,
    )
    _check_grads(out_m, out_t, [xm, ym], [xt, yt])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_with_logits_is_stable_for_huge_logits(torch, dtype):
    x = np.array([1e4, -1e4, 50.0, -50.0, 1e30])
    y = np.array([0.0, 1.0, 0.5, 1.0, 0.0])
    xm, xt = _both(torch, x, dtype=dtype)
    ym, yt = _both(torch, y, dtype=dtype, grad=False)
    out_m = F.binary_cross_entropy_with_logits(xm, ym, reduction="none")
    out_t = torch.nn.functional.binary_cross_entropy_with_logits(xt, yt, reduction="none")
    assert np.isfinite(out_m.detach().numpy()).all()
    out_m.sum().backward()
    out_t.sum().backward()
    np.testing.assert_allclose(out_m.detach().numpy(), out_t.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_parity(torch, reduction):
    pm, pt = _both(torch, RNG.uniform(0.05, 0.95, size=(3, 4)))
    ym, yt = _both(torch, RNG.uniform(0, 1, size=(3, 4)))
    wm, wt = _both(torch, RNG.uniform(0.5, 2, size=4), grad=False)
    out_m = F.binary_cross_entropy(pm, ym, wm, reduction=reduction)
    out_t = torch.nn.functional.binary_cross_entropy(pt, yt, wt, reduction=reduction)
    _check_grads(out_m, out_t, [pm, ym], [pt, yt])
    edge = np.array([0.0, 1.0, 0.0, 1.0])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    loss_m = F.binary_cross_entropy(mg.tensor(edge), mg.tensor(y), reduction="none")
    loss_t = torch.nn.functional.binary_cross_entropy(
        torch.tensor(edge), torch.tensor(y), reduction="none"
    )
    _close(loss_m, loss_t)  # log clamped at -100: 0, 0, 100, 100


# ---------------------------------------------------------------- batch_norm, layer_norm


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 5)])
@pytest.mark.parametrize("affine", [False, True])
def test_batch_norm_training_parity_and_running_stats(torch, shape, affine):
    xm, xt = _both(torch, RNG.standard_normal(shape) * 2 + 1)
    rm0, rv0 = RNG.standard_normal(3), RNG.uniform(0.5, 2, size=3)
    rm_m, rm_t = _both(torch, rm0, grad=False)
    rv_m, rv_t = _both(torch, rv0, grad=False)
    wm, wt = _both(torch, RNG.standard_normal(3)) if affine else (None, None)
    bm, bt = _both(torch, RNG.standard_normal(3)) if affine else (None, None)
    out_m = F.batch_norm(xm, rm_m, rv_m, wm, bm, training=True, momentum=0.3)
    out_t = torch.nn.functional.batch_norm(xt, rm_t, rv_t, wt, bt, training=True, momentum=0.3)
    ins_m, ins_t = [xm] + ([wm, bm] if affine else []), [xt] + ([wt, bt] if affine else [])
    _check_grads(out_m, out_t, ins_m, ins_t)
    # running stats: moved by momentum toward the batch mean and the UNBIASED batch variance
    axes = (0,) + tuple(range(2, len(shape)))
    x = xm.detach().numpy()
    np.testing.assert_allclose(rm_m.numpy(), 0.7 * rm0 + 0.3 * x.mean(axis=axes), rtol=1e-12)
    np.testing.assert_allclose(rv_m.numpy(), 0.7 * rv0 + 0.3 * x.var(axis=axes, ddof=1))
    _close(rm_m, rm_t)
    _close(rv_m, rv_t)
    assert not rm_m.requires_grad and rm_m.grad_fn is None


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 5)])
def test_batch_norm_eval_uses_running_stats(torch, shape):
    xm, xt = _both(torch, RNG.standard_normal(shape))
    rm, rv = RNG.standard_normal(3), RNG.uniform(0.5, 2, size=3)
    wm, wt = _both(torch, RNG.standard_normal(3))
    bm, bt = _both(torch, RNG.standard_normal(3))
    rm_m, rv_m = mg.tensor(rm), mg.tensor(rv)
    out_m = F.batch_norm(xm, rm_m, rv_m, wm, bm, training=False)
    out_t = torch.nn.functional.batch_norm(
        xt, torch.tensor(rm), torch.tensor(rv), wt, bt, training=False
    )
    _check_grads(out_m, out_t, [xm, wm, bm], [xt, wt, bt])
    assert rm_m.tolist() == rm.tolist() and rv_m.tolist() == rv.tolist()  # untouched


def test_batch_norm_training_without_running_stats(torch):
    xm, xt = _both(torch, RNG.standard_normal((5, 2, 3)))
    out_m = F.batch_norm(xm, None, None, training=True)
    _check_grads(out_m, torch.nn.functional.batch_norm(xt, None, None, training=True), [xm], [xt])


def _batch_norm_composite(x, weight, bias, eps=1e-5):
    """Training-mode batch norm written with small differentiable ops (the reference)."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    centred = x - x.mean(axes, keepdim=True)
    out = centred / ((centred * centred).mean(axes, keepdim=True) + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


@pytest.mark.parametrize("shape", [(6, 3), (3, 2, 5), (2, 3, 4, 3)])
@pytest.mark.parametrize("affine", ["none", "weight", "both"])
def test_batch_norm_fused_matches_composite(shape, affine):
    c = shape[1]
    x = mg.tensor(RNG.standard_normal(shape) * 3 + 2, requires_grad=True)
    w = mg.tensor(RNG.standard_normal(c), requires_grad=True) if affine != "none" else None
    b = mg.tensor(RNG.standard_normal(c), requires_grad=True) if affine == "both" else None
    ins = [t for t in (x, w, b) if t is not None]
    fused = F.batch_norm(x, None, None, w, b, training=True)
    ref = _batch_norm_composite(x, w, b)
    assert "BatchNormTrain" in type(fused.grad_fn).__name__
    np.testing.assert_allclose(fused.detach().numpy(), ref.detach().numpy(), rtol=0, atol=1e-13)
    g = mg.tensor(RNG.standard_normal(shape))
    got = mg.autograd.grad(fused, ins, g, create_graph=True)
    want = mg.autograd.grad(ref, ins, g, create_graph=True)
    for a, e in zip(got, want):
        np.testing.assert_allclose(a.detach().numpy(), e.detach().numpy(), rtol=0, atol=1e-12)
    # second order: differentiate a function of those gradients
    s_got = sum(((a * a).sum() for a in got), mg.tensor(0.0)) * x.sum()
    s_want = sum(((e * e).sum() for e in want), mg.tensor(0.0)) * x.sum()
    second_got = mg.autograd.grad(s_got, ins, allow_unused=True)
    second_want = mg.autograd.grad(s_want, ins, allow_unused=True)
    for a, e in zip(second_got, second_want):
        if e is None:  # the bias does not reach the gradients
            assert a is None or not a.numpy().any()
        else:
            np.testing.assert_allclose(a.numpy(), e.numpy(), rtol=1e-10, atol=1e-10)


def test_batch_norm_double_backward_with_dependent_upstream(torch):
    """The gradient of a loss built from the input gradient, where the upstream gradient of the
    normalisation depends on the input too: only the partial derivatives may be chained."""
    shape = (4, 3, 5)
    xm, xt = _both(torch, RNG.standard_normal(shape))
    wm, wt = _both(torch, RNG.standard_normal(3))
    results = []
    for m, x, w in ((mg, xm, wm), (torch, xt, wt)):
        y = m.nn.functional.batch_norm(x, None, None, w, None, training=True)
        (gx,) = m.autograd.grad((y * y * x).sum(), [x], create_graph=True)
        results.append(m.autograd.grad((gx * gx).sum(), [x, w]))
    for a, b in zip(*results):
        _close(a, b, rtol=1e-9, atol=1e-11)


def test_batch_norm_float32_stays_float32(torch):
    x = RNG.standard_normal((8, 4, 3, 3)).astype(np.float32)
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    wm, bm = mg.ones(4, requires_grad=True), mg.zeros(4, requires_grad=True)
    rm, rv = mg.zeros(4), mg.ones(4)
    out = F.batch_norm(xm, rm, rv, wm, bm, training=True)
    out.sum().backward()
    assert out.dtype == mg.float32 and xm.grad.dtype == mg.float32 and wm.grad.dtype == mg.float32
    assert rm.dtype == mg.float32 and rv.dtype == mg.float32
    ref = torch.nn.functional.batch_norm(xt, None, None, training=True)
    _close(out, ref, rtol=1e-5, atol=1e-5)


def test_batch_norm_empty_and_single_value_batches(torch):
    empty = F.batch_norm(mg.randn(0, 3, 4), None, None, training=True)  # as PyTorch: empty
    assert empty.shape == tuple(torch.nn.functional.batch_norm(
        torch.randn(0, 3, 4), None, None, training=True).shape) == (0, 3, 4)  # fmt: skip
    msg = r"expected more than 1 value per channel when training, got input of shape \(1, 3, 1\)"
    _err(ValueError, msg, F.batch_norm, mg.randn(1, 3, 1), mg.zeros(3), mg.ones(3), training=True)
    x = mg.randn(0, 3, 4, 4, requires_grad=True)
    out = F.batch_norm(x, mg.zeros(3), mg.ones(3), mg.ones(3), mg.zeros(3), training=False)
    assert out.shape == (0, 3, 4, 4)
    out.sum().backward()
    assert x.grad.shape == (0, 3, 4, 4)


@pytest.mark.parametrize("normalized", [(5,), (4, 5)])
def test_layer_norm_parity(torch, normalized):
    xm, xt = _both(torch, RNG.standard_normal((3, 4, 5)))
    wm, wt = _both(torch, RNG.standard_normal(normalized))
    bm, bt = _both(torch, RNG.standard_normal(normalized))
    out_m = F.layer_norm(xm, normalized, wm, bm)
    out_t = torch.nn.functional.layer_norm(xt, normalized, wt, bt)
    _check_grads(out_m, out_t, [xm, wm, bm], [xt, wt, bt])


@pytest.mark.parametrize("p, dim", [(2.0, 1), (1.0, 0), (3.0, -1), (math.inf, 1)])
def test_normalize_parity(torch, p, dim):
    xm, xt = _both(torch, RNG.uniform(0.2, 2, size=(3, 4)) * RNG.choice([-1, 1], size=(3, 4)))
    out_m = F.normalize(xm, p, dim)
    _check_grads(out_m, torch.nn.functional.normalize(xt, p, dim), [xm], [xt])


# ---------------------------------------------------------------- dropout


def test_dropout_statistics():
    x = mg.ones(200_000, dtype=mg.float64)
    for p in (0.1, 0.5, 0.8):
        y = F.dropout(x, p).numpy()
        zeroed = (y == 0).mean()
        assert abs(zeroed - p) < 0.01, (p, zeroed)
        assert np.allclose(y[y != 0], 1 / (1 - p))  # survivors are scaled by 1 / (1 - p)
        assert abs(y.mean() - 1.0) < 0.02  # so the mean is preserved


def test_dropout_same_seed_same_mask_and_gradient_through_it():
    mg.manual_seed(3)
    a = F.dropout(mg.ones(50), 0.5)
    mg.manual_seed(3)
    x = mg.ones(50, requires_grad=True)
    b = F.dropout(x, 0.5)
    assert a.tolist() == b.tolist()
    assert 0 < (a.numpy() == 0).sum() < 50
    b.sum().backward()
    assert x.grad.tolist() == b.detach().tolist()  # d out / d x is the scaled mask


def test_dropout_edge_cases():
    x = mg.randn(4, 5, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    y = F.dropout(x, 1.0)
    assert not y.detach().numpy().any()
    y.sum().backward()
    assert not x.grad.numpy().any()
    z = mg.ones(10)
    assert F.dropout(z, 0.5, inplace=True) is z and (z.numpy() != 1).any()


@pytest.mark.parametrize("name, shape", [("dropout2d", (3, 8, 4, 4)), ("dropout1d", (3, 8, 5))])
def test_channel_dropout_drops_whole_channels(name, shape):
    y = getattr(F, name)(mg.ones(*shape), 0.5).numpy()
    per_channel = y.reshape(shape[0], shape[1], -1)
    assert (per_channel.min(axis=2) == per_channel.max(axis=2)).all()
    assert set(np.unique(y)) <= {0.0, 2.0} and 0 < (y == 0).mean() < 1


def test_dropout2d_reads_3d_input_as_n_c_l_like_pytorch():
    with pytest.warns(UserWarning, match="dropout2d"):
        y = F.dropout2d(mg.ones(4, 6, 5), 0.5).numpy()
    assert (y.min(axis=2) == y.max(axis=2)).all()


# ---------------------------------------------------------------- pad and interpolate

PADS = [
    ((2, 3, 5), (2, 1)),
    ((2, 3, 5), (-1, 3)),
    ((3, 5), (4, 0)),
    ((2, 3, 4, 5), (1, 2, 3, 0)),
    ((2, 3, 4, 5), (2, -1, -1, 3)),
    ((3, 4, 5), (0, 0, 1, 1)),
    ((1, 2, 3, 4, 5), (1, 1, 2, 0, 0, 2)),
]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape, pad", PADS)
def test_pad_modes_parity(torch, mode, shape, pad):
    xm, xt = _both(torch, RNG.standard_normal(shape))
    out_m = F.pad(xm, pad, mode=mode)
    _check_grads(out_m, torch.nn.functional.pad(xt, pad, mode=mode), [xm], [xt])


def test_pad_constant_mode_and_value(torch):
    xm, xt = _both(torch, RNG.standard_normal((2, 3)))
    out_m = F.pad(xm, (1, 2, 0, 1), value=-3.5)
    _check_grads(out_m, torch.nn.functional.pad(xt, (1, 2, 0, 1), value=-3.5), [xm], [xt])


INTERPOLATIONS = [
    ((2, 3, 5), {"scale_factor": 2}),
    ((2, 3, 5), {"scale_factor": 3}),
    ((2, 3, 5), {"size": 8}),
    ((2, 3, 5), {"size": 3}),
    ((2, 3, 5), {"scale_factor": 1.7}),
    ((1, 2, 4, 5), {"scale_factor": 2}),
    ((1, 2, 4, 5), {"scale_factor": (3, 2)}),
    ((1, 2, 4, 5), {"size": (7, 3)}),
    ((1, 2, 4, 5), {"scale_factor": 0.6}),
    ((1, 2, 4, 5), {"scale_factor": 2.5, "recompute_scale_factor": True}),
    ((1, 2, 3, 4, 2), {"scale_factor": 2}),
    ((1, 2, 3, 4, 2), {"size": (5, 2, 3)}),
]


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear", "linear-corners"])
@pytest.mark.parametrize("shape, kwargs", INTERPOLATIONS)
def test_interpolate_parity(torch, mode, shape, kwargs):
    kwargs = dict(kwargs)
    if mode.startswith("linear"):
        kwargs["align_corners"] = mode == "linear-corners"
        mode = {3: "linear", 4: "bilinear", 5: "trilinear"}[len(shape)]
    xm, xt = _both(torch, RNG.standard_normal(shape))
    out_m = F.interpolate(xm, mode=mode, **kwargs)
    _check_grads(out_m, torch.nn.functional.interpolate(xt, mode=mode, **kwargs), [xm], [xt])


def test_interpolate_in_float32_matches_pytorch(torch):
    x = RNG.standard_normal((1, 2, 7, 9)).astype(np.float32)
    for size in [(10, 13), (16, 27), (5, 4), (21, 18)]:
        for mode in ("nearest", "nearest-exact", "bilinear"):
            out_m = F.interpolate(mg.tensor(x), size=size, mode=mode)
            out_t = torch.nn.functional.interpolate(torch.tensor(x), size=size, mode=mode)
            _close(out_m, out_t, rtol=1e-5, atol=1e-6)


def test_nearest_integer_upscaling_is_a_reshape_and_expand():
    x = mg.randn(2, 3, 4, 5, requires_grad=True)
    y = F.interpolate(x, scale_factor=3)
    assert y.grad_fn.name() == "ReshapeBackward"  # no gather
    assert F.upsample(x, scale_factor=3).tolist() == y.tolist()
    ref = np.repeat(np.repeat(x.detach().numpy(), 3, axis=2), 3, axis=3)
    np.testing.assert_array_equal(y.detach().numpy(), ref)


# ---------------------------------------------------------------- one_hot


def test_one_hot(torch):
    t = RNG.integers(0, 5, size=(3, 4))
    _close(F.one_hot(mg.tensor(t)), torch.nn.functional.one_hot(torch.tensor(t)))
    _close(F.one_hot(mg.tensor(t), 7), torch.nn.functional.one_hot(torch.tensor(t), 7))
    assert F.one_hot(mg.tensor([1, 0])).dtype is mg.int64


# ---------------------------------------------------------------- errors


def _err(exc, match, fn, *args, **kwargs):
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


def test_class_target_errors():
    x = mg.randn(3, 5)
    _err(
        IndexError,
        r"Target 7 is out of bounds for 5 classes",
        F.cross_entropy,
        x,
        mg.tensor([1, 7, 2]),
    )
    _err(
        IndexError,
        r"Target -1 is out of bounds for 5 classes",
        F.nll_loss,
        x,
        mg.tensor([1, -1, 2]),
    )
    _err(
        IndexError,
        r"Target -100 is out of bounds",
        F.nll_loss,
        x,
        mg.tensor([1, -100, 2]),
        ignore_index=3,
    )
    _err(
        ValueError,
        r"float32 target of shape \(3,\).*integer \(int64\) tensor of shape \(3,\)",
        F.cross_entropy,
        x,
        mg.tensor([1.0, 2.0, 0.0]),
    )
    _err(TypeError, r"integer tensor.*float32", F.nll_loss, x, mg.tensor([1.0, 2.0, 0.0]))
    _err(
        ValueError,
        r"target of shape \(2,\).*input of shape \(3, 5\).*\(3,\)",
        F.cross_entropy,
        x,
        mg.tensor([1, 2]),
    )
    _err(
        ValueError,
        r"target of shape \(2, 4\).*\(2, 5, 3\).*\(2, 3\)",
        F.cross_entropy,
        mg.randn(2, 5, 3),
        mg.tensor(np.zeros((2, 4), dtype=np.int64)),
    )
    _err(
        ValueError,
        r"weight.*5 classes.*\(4,\)",
        F.cross_entropy,
        x,
        mg.tensor([1, 2, 3]),
        mg.ones(4),
    )
    _err(
        ValueError,
        r"label_smoothing must be between 0.0 and 1.0, got 1.5",
        F.cross_entropy,
        x,
        mg.tensor([1, 2, 3]),
        label_smoothing=1.5,
    )
    _err(
        ValueError,
        r"target of shape \(3, 4\) for input of shape \(3, 5\)",
        F.cross_entropy,
        x,
        mg.rand(3, 4),
    )


@pytest.mark.parametrize(
    "fn, args",
    [
        (F.cross_entropy, (mg.randn(3, 5), mg.tensor([1, 2, 3]))),
        (F.nll_loss, (mg.randn(3, 5), mg.tensor([1, 2, 3]))),
        (F.mse_loss, (mg.randn(3), mg.randn(3))),
        (F.l1_loss, (mg.randn(3), mg.randn(3))),
        (F.binary_cross_entropy_with_logits, (mg.randn(3), mg.rand(3))),
        (F.binary_cross_entropy, (mg.rand(3), mg.rand(3))),
    ],
)
def test_bad_reduction_names_the_valid_values(fn, args):
    _err(
        ValueError,
        r"reduction must be one of 'none', 'mean' or 'sum', got 'avg'",
        fn,
        *args,
        reduction="avg",
    )


def test_binary_loss_errors():
    _err(
        ValueError,
        r"target size \(3, 1\) must be the same as input size \(3,\)",
        F.binary_cross_entropy_with_logits,
        mg.randn(3),
        mg.rand(3, 1),
    )
    _err(
        ValueError,
        r"between 0 and 1.*got 1.5",
        F.binary_cross_entropy,
        mg.tensor([0.5, 1.5]),
        mg.rand(2),
    )
    _err(
        TypeError,
        r"floating point tensor of probabilities, got .*int64",
        F.binary_cross_entropy_with_logits,
        mg.randn(2),
        mg.tensor([0, 1]),
    )


def test_linear_errors():
    _err(
        ValueError,
        r"input of shape \(2, 3\) and weight of shape \(4, 5\).*in_features = weight.shape\[1\] = 5",
        F.linear,
        mg.randn(2, 3),
        mg.randn(4, 5),
    )
    _err(
        ValueError,
        r"bias should have shape \(4,\).*got \(3,\)",
        F.linear,
        mg.randn(2, 5),
        mg.randn(4, 5),
        mg.randn(3),
    )
    _err(ValueError, r"weight must be 2-D", F.linear, mg.randn(2, 5), mg.randn(5))
    _err(
        TypeError,
        r"share one dtype, got .*float32, .*float64",
        F.linear,
        mg.randn(2, 5),
        mg.randn(4, 5, dtype=mg.float64),
    )


def test_dropout_errors():
    for p in (-0.1, 1.5):
        _err(
            ValueError,
            rf"dropout probability has to be between 0 and 1, but got {p}",
            F.dropout,
            mg.randn(3),
            p,
        )
    _err(
        ValueError,
        r"dropout2d\(\): expected an input with 3 \(unbatched\) or 4",
        F.dropout2d,
        mg.randn(2, 3),
        0.5,
    )


def test_batch_norm_errors():
    x = mg.randn(4, 3, 2)
    _err(
        ValueError,
        r"running_mean should have shape \(3,\).*got \(2,\)",
        F.batch_norm,
        x,
        mg.zeros(2),
        mg.ones(3),
    )
    _err(
        ValueError,
        r"more than 1 value per channel when training.*\(1, 3\)",
        F.batch_norm,
        mg.randn(1, 3),
        None,
        None,
        training=True,
    )
    _err(
        ValueError,
        r"running_mean and running_var must be given when training=False",
        F.batch_norm,
        x,
        None,
        None,
    )
    _err(ValueError, r"at least 2 dimensions", F.batch_norm, mg.randn(3), None, None, training=True)


def test_pad_errors():
    x = mg.randn(1, 2, 3)
    _err(
        RuntimeError,
        r"reflect padding must be smaller.*\(3, 0\).*size 3",
        F.pad,
        x,
        (3, 0),
        mode="reflect",
    )
    _err(
        RuntimeError,
        r"circular padding can wrap around at most once",
        F.pad,
        x,
        (4, 0),
        mode="circular",
    )
    _err(ValueError, r"mode must be one of.*'mirror'", F.pad, x, (1, 1), mode="mirror")
    _err(
        ValueError,
        r"2 pad values for a 2-D or 3-D input.*4 pad values.*\(2, 3\)",
        F.pad,
        mg.randn(2, 3),
        (1, 1, 1, 1),
        mode="replicate",
    )
    _err(ValueError, r"doesn't take a value", F.pad, x, (1, 1), mode="reflect", value=1.0)


def test_layer_norm_errors_match_pytorch_types():
    x = mg.randn(2, 3)
    _err(RuntimeError, r"at least 1-dimensional.*normalized_shape = \[\]", F.layer_norm, x, ())
    _err(
        RuntimeError,
        r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\], but got input of "
        r"size\[2, 3\]",
        F.layer_norm,
        x,
        (4,),
    )
    _err(
        TypeError, r"'normalized_shape' must be tuple of ints, not NoneType", F.layer_norm, x, None
    )
    _err(TypeError, r"found element of type float at pos 0", F.layer_norm, x, [3.0])
    assert F.layer_norm(x, 3).shape == (2, 3)


def test_flags_of_functional_ops_must_be_bools():
    x = mg.randn(1, 2, 4, 4)
    _err(
        TypeError,
        r"'ceil_mode' must be a bool, not ndarray",
        F.max_pool2d,
        x,
        2,
        ceil_mode=np.ones(2),
    )
    _err(TypeError, r"'return_indices' must be a bool", F.max_pool1d, x[0], 2, return_indices=1)
    _err(TypeError, r"'count_include_pad' must be a bool", F.avg_pool2d, x, 2, count_include_pad=0)
    _err(TypeError, r"'training' must be a bool, not NoneType", F.dropout, x, training=None)
    _err(TypeError, r"'training' must be a bool", F.dropout2d, x, training=np.ones(2))
    _err(
        TypeError,
        r"'training' must be a bool",
        F.batch_norm,
        mg.randn(4, 3),
        mg.zeros(3),
        mg.ones(3),
        training=np.ones(2),
    )
    y, labels = mg.randn(2, 3), mg.tensor([0, 2])
    _err(TypeError, r"'size_average' must be a bool", F.mse_loss, y, y, size_average=np.ones(2))
    _err(
        TypeError,
        r"'ignore_index' must be an int, not float",
        F.nll_loss,
        y,
        labels,
        ignore_index=1.5,
    )
    _err(
        TypeError,
        r"'label_smoothing' must be a float",
        F.cross_entropy,
        y,
        labels,
        label_smoothing=None,
    )
    _err(TypeError, r"'num_classes' must be an int, not float", F.one_hot, labels, math.nan)
    _err(TypeError, r"softmax\(\): argument 'input' must be a Tensor", F.softmax, None)


def test_interpolate_errors():
    x = mg.randn(1, 2, 4, 4)
    _err(ValueError, r"exactly one of size and scale_factor", F.interpolate, x)
    _err(
        ValueError,
        r"exactly one of size and scale_factor",
        F.interpolate,
        x,
        size=3,
        scale_factor=2,
    )
    _err(
        NotImplementedError,
        r"mode 'bicubic' is not implemented",
        F.interpolate,
        x,
        scale_factor=2,
        mode="bicubic",
    )
    _err(
        ValueError,
        r"mode 'linear' needs a 3-D input",
        F.interpolate,
        x,
        scale_factor=2,
        mode="linear",
    )
    _err(
        ValueError,
        r"align_corners can only be set",
        F.interpolate,
        x,
        scale_factor=2,
        align_corners=True,
    )
    _err(
        ValueError,
        r"size must be one value or one per spatial dimension \(2\)",
        F.interpolate,
        x,
        size=(2, 3, 4),
    )
    _err(
        ValueError,
        r"expected a 3-D .* got shape \(4, 4\)",
        F.interpolate,
        mg.randn(4, 4),
        scale_factor=2,
    )
    _err(ValueError, r"greater than 0.*output size 0", F.interpolate, x, scale_factor=0.1)


def test_activation_and_one_hot_errors():
    _err(
        ValueError,
        r"approximate must be 'none' or 'tanh', got 'fast'",
        F.gelu,
        mg.randn(2),
        approximate="fast",
    )
    _err(TypeError, r"floating point tensor, got .*int64", F.leaky_relu, mg.tensor([1, 2]))
    _err(
        ValueError,
        r"class values must be smaller than num_classes=3, got 4",
        F.one_hot,
        mg.tensor([1, 4]),
        3,
    )
    _err(ValueError, r"non-negative, got -1", F.one_hot, mg.tensor([1, -1]))
    _err(TypeError, r"int64 tensor of class indices, got .*float32", F.one_hot, mg.tensor([1.0]))


def test_labels_are_checked_on_every_device(device):
    # CuPy wraps out-of-range indices silently: the check must run before any indexing
    x = mg.randn(3, 5, device=device)
    with pytest.raises(IndexError, match="Target 5 is out of bounds for 5 classes"):
        F.cross_entropy(x, mg.tensor([0, 5, 1], device=device))
    with pytest.raises(IndexError, match="Target -2 is out of bounds for 5 classes"):
        F.nll_loss(x, mg.tensor([0, -2, 1], device=device))
    with pytest.raises(ValueError, match="smaller than num_classes=3, got 3"):
        F.one_hot(mg.tensor([0, 3], device=device), 3)


def test_dropout_mask_is_the_same_on_every_device(device):
    mg.manual_seed(5)
    a = F.dropout(mg.ones(100), 0.3).numpy()
    mg.manual_seed(5)
    b = F.dropout(mg.ones(100, device=device), 0.3)
    assert b.device == mg.device(device)
    np.testing.assert_array_equal(a, b.cpu().numpy())
