"""Test specs of the neural-network ops: linear, activations, losses, normalisation, dropout,
padding modes and interpolation. Calls go through ``m.nn.functional`` so that the same lambda
runs on minigrad and on torch; labels and other non-differentiable arguments are drawn as
parameters and built inside the call."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from tests.specs.base import Spec, away_from, shape


def _rng(data) -> np.random.Generator:
    return np.random.default_rng(data.draw(st.integers(0, 2**16)))


def _away(x, points, gap=0.05):
    """``away_from`` for any input, 0-d draws (NumPy scalars) included."""
    return away_from(np.array(x, dtype=np.float64), points, gap)


def _unary(data):
    return [shape(data)], {}


def _reduction(data) -> str:
    return data.draw(st.sampled_from(["none", "mean", "sum"]))


# ---------------------------------------------------------------- linear


def _linear_draw(data):
    lead = shape(data, max_dims=2, max_side=3)
    n_in, n_out = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    shapes = [lead + (n_in,), (n_out, n_in)]
    if data.draw(st.booleans()):
        shapes.append((n_out,))
    return shapes, {}


# ---------------------------------------------------------------- activations


def _erf_mg(m, p, x):
    from minigrad.ops.activation import erf

    return erf(x)


def _softplus_draw(data):
    beta = data.draw(st.sampled_from([1.0, 2.0, 0.5]))
    threshold = data.draw(st.sampled_from([20.0, 1.0]))
    return [shape(data)], {"beta": beta, "threshold": threshold}


# ---------------------------------------------------------------- losses


def _class_draw(data, probs_allowed=False):
    """Logits of shape (C,), (N, C) or (N, C, d1[, d2]) and matching labels, some ignored."""
    rng = _rng(data)
    c = data.draw(st.integers(2, 4))
    kind = data.draw(st.sampled_from(["unbatched", "batched", "spatial"]))
    n = data.draw(st.integers(1, 3))
    spatial = tuple(data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    xshape = {"unbatched": (c,), "batched": (n, c), "spatial": (n, c) + spatial}[kind]
    tshape = xshape[:1] + xshape[2:] if kind != "unbatched" else ()
    target = rng.integers(0, c, size=tshape)
    ignore = data.draw(st.sampled_from([-100, 1]))
    if target.size > 1 and data.draw(st.booleans()):
        target.flat[0] = ignore
    if target.flat[-1] == ignore:
        target.flat[-1] = 0  # at least one position counts (else a 'mean' is 0/0 = nan)
    params = {
        "target": target,
        "ignore": ignore,
        "weight": rng.uniform(0.5, 2.0, size=c) if data.draw(st.booleans()) else None,
        "reduction": _reduction(data),
        "probs": None,
    }
    if probs_allowed and data.draw(st.integers(0, 3)) == 0:
        probs = rng.uniform(0.0, 1.0, size=xshape)
        params["probs"] = probs / probs.sum(axis=0 if kind == "unbatched" else 1, keepdims=True)
        params["ignore"] = -100
    return [xshape], params


def _weight(m, p, x):
    if p["weight"] is None:
        return None
    return m.tensor(p["weight"], dtype=x.dtype, device=x.device)


def _nll(m, p, x):
    target = m.tensor(p["target"], device=x.device)
    return m.nn.functional.nll_loss(
        x, target, _weight(m, p, x), ignore_index=p["ignore"], reduction=p["reduction"]
    )


def _cross_entropy_draw(data):
    shapes, params = _class_draw(data, probs_allowed=True)
    params["smoothing"] = data.draw(st.sampled_from([0.0, 0.0, 0.2]))
    return shapes, params


def _cross_entropy(m, p, x):
    if p["probs"] is not None:
        target = m.tensor(p["probs"], dtype=x.dtype, device=x.device)
    else:
        target = m.tensor(p["target"], device=x.device)
    return m.nn.functional.cross_entropy(
        x,
        target,
        _weight(m, p, x),
        ignore_index=p["ignore"],
        reduction=p["reduction"],
        label_smoothing=p["smoothing"],
    )


def _pair_draw(data):
    s = shape(data)
    return [s, s], {"reduction": _reduction(data)}


def _weighted_pair_draw(data):
    """Input and target, and half of the time a per-element weight (a third input)."""
    shapes, params = _pair_draw(data)
    return shapes + shapes[:1] * data.draw(st.sampled_from([0, 1])), params


def _l1(m, p, a, b, *weight):
    return m.nn.functional.l1_loss(a, b, reduction=p["reduction"], weight=(weight or [None])[0])


def _l1_prepare(xs, p):
    """The target away from the input (|x - t| has a kink there); weights in [0.5, 2.5]."""
    return [xs[0], xs[0] + _away(xs[1] - xs[0], [0]), *(np.abs(w) + 0.5 for w in xs[2:])]


def _bce_logits_draw(data):
    s = shape(data, min_dims=1)
    rng = _rng(data)
    return [s, s], {
        "reduction": _reduction(data),
        "weight": rng.uniform(0.5, 2.0, size=s[-1:]) if data.draw(st.booleans()) else None,
        "pos_weight": rng.uniform(0.5, 3.0, size=s[-1:]) if data.draw(st.booleans()) else None,
    }


def _bce_logits(m, p, x, y):
    w, pw = (
        None if p[k] is None else m.tensor(p[k], dtype=x.dtype, device=x.device)
        for k in ("weight", "pos_weight")
    )
    return m.nn.functional.binary_cross_entropy_with_logits(
        x, y, w, reduction=p["reduction"], pos_weight=pw
    )


def _bce_draw(data):
    s = shape(data)
    return [s, s], {"reduction": _reduction(data)}


# ---------------------------------------------------------------- normalisation, dropout


def _batch_norm_draw(data):
    n = data.draw(st.integers(1, 3))
    c = data.draw(st.integers(1, 3))
    spatial = tuple(data.draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    training = data.draw(st.booleans())
    if training and n * int(np.prod(spatial)) < 2:
        n = 2  # training needs more than one value per channel
    rng = _rng(data)
    shapes = [(n, c) + spatial]
    affine = data.draw(st.booleans())
    if affine:
        shapes += [(c,), (c,)]
    return shapes, {
        "training": training,
        "mean": rng.standard_normal(c),
        "var": rng.uniform(0.5, 2.0, size=c),
        "momentum": data.draw(st.sampled_from([0.1, 0.5])),
    }


def _batch_norm(m, p, x, weight=None, bias=None):
    rm = m.tensor(p["mean"], dtype=x.dtype, device=x.device)
    rv = m.tensor(p["var"], dtype=x.dtype, device=x.device)
    return m.nn.functional.batch_norm(
        x, rm, rv, weight, bias, training=p["training"], momentum=p["momentum"], eps=1e-5
    )


def _bn_train_draw(with_g: bool, affine_options=(False, True)):
    """(N, C, ...) inputs with at least 3 values per channel, then (C,) weight (and bias)."""

    def draw(data):
        n = data.draw(st.integers(1, 3))
        c = data.draw(st.integers(1, 3))
        spatial = tuple(data.draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
        if n * int(np.prod(spatial)) < 3:
            n = 3
        x = (n, c) + spatial
        affine = data.draw(st.sampled_from(affine_options))
        shapes = [x, x] if with_g else [x]
        shapes += ([(c,)] if with_g else [(c,), (c,)]) if affine else []
        return shapes, {"affine": affine}

    return draw


def _bn_train(m, p, x, weight=None, bias=None):
    if m.__name__ == "torch":
        return m.nn.functional.batch_norm(x, None, None, weight, bias, training=True, eps=1e-5)
    from minigrad.ops.norm import BatchNormTrain

    return BatchNormTrain.apply(x, weight, bias, eps=1e-5)


def _bn_train_grad_mg(m, p, g, x, weight=None):
    from minigrad.ops.norm import BatchNormTrainGrad

    return BatchNormTrainGrad.apply(g, x, weight, eps=1e-5)


def _bn_train_grad_torch(torch, p, g, x, weight=None):
    # the input gradient of torch's own batch norm, kept differentiable
    xd = x if x.requires_grad else x.detach().requires_grad_()
    y = torch.nn.functional.batch_norm(xd, None, None, weight, None, training=True, eps=1e-5)
    return torch.autograd.grad(y, xd, g, create_graph=True)[0]


def _bn_weight_grad_mg(m, p, g, x):
    from minigrad.ops.norm import BatchNormWeightGrad

    return BatchNormWeightGrad.apply(g, x, eps=1e-5)


def _bn_weight_grad_torch(torch, p, g, x):
    w = torch.ones(x.shape[1], dtype=x.dtype, requires_grad=True)
    y = torch.nn.functional.batch_norm(x, None, None, w, None, training=True, eps=1e-5)
    return torch.autograd.grad(y, w, g, create_graph=True)[0]


def _layer_norm_draw(data):
    s = shape(data, min_dims=1)
    k = data.draw(st.integers(1, len(s)))
    shapes = [s]
    if data.draw(st.booleans()):
        shapes += [s[len(s) - k :], s[len(s) - k :]]
    return shapes, {"normalized": s[len(s) - k :]}


def _normalize_draw(data):
    s = shape(data, min_dims=1)
    return [s], {
        "p": data.draw(st.sampled_from([2.0, 1.0, 3.0])),
        "dim": data.draw(st.integers(-len(s), len(s) - 1)),
    }


def _dropout_draw(min_dims, max_dims):
    def draw(data):
        s = shape(data, min_dims=min_dims, max_dims=max_dims)
        return [s], {"p": data.draw(st.sampled_from([0.2, 0.5, 0.0, 1.0])), "seed": 7}

    return draw


def _dropout(name):
    def call(m, p, x):
        m.manual_seed(p["seed"])  # the same mask on every call: gradcheck evaluates many times
        return getattr(m.nn.functional, name)(x, p["p"], training=True)

    return call


# ---------------------------------------------------------------- padding and resampling


def _pad_draw(mode):
    def draw(data):
        k = data.draw(st.integers(1, 2))
        batch = data.draw(st.integers(1, 2))  # one or two leading dims
        s = shape(data, min_dims=k + batch, max_dims=k + batch, min_side=2, max_side=4)
        pad = []
        for d in range(k):
            n = s[-1 - d]
            most = n - 1  # reflect needs < n; circular must not wrap past what a crop leaves
            lo = data.draw(st.integers(-1, most))
            hi = data.draw(st.integers(0 if lo < 0 else -1, most))
            pad += [lo, hi]
        return [s], {"pad": tuple(pad)}

    return draw


def _pad(mode):
    return lambda m, p, x: m.nn.functional.pad(x, p["pad"], mode=mode)


def _interpolate_draw(data):
    k = data.draw(st.integers(1, 2))
    s = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))) + tuple(
        data.draw(st.integers(1, 4)) for _ in range(k)
    )
    mode = data.draw(st.sampled_from(["nearest", "nearest-exact", "linear"]))
    align = None
    if mode == "linear":
        mode = {1: "linear", 2: "bilinear"}[k]
        align = data.draw(st.booleans())
    if data.draw(st.booleans()):
        params = {"size": tuple(data.draw(st.integers(1, 6)) for _ in range(k)), "scale": None}
    else:
        params = {"size": None, "scale": data.draw(st.sampled_from([2.0, 3.0, 1.5, 0.75]))}
    params.update(mode=mode, align=align)
    if params["scale"] is not None and any(int(n * params["scale"]) < 1 for n in s[2:]):
        params["scale"] = 2.0
    return [s], params


def _interpolate(m, p, x):
    return m.nn.functional.interpolate(
        x, size=p["size"], scale_factor=p["scale"], mode=p["mode"], align_corners=p["align"]
    )


def _linear_weight_grad_mg(m, p, g, x):
    from minigrad.ops.linear import LinearWeightGrad

    return LinearWeightGrad.apply(g, x)


def _linear_weight_grad_torch(torch, p, g, x):
    return g.reshape(-1, g.shape[-1]).T @ x.reshape(-1, x.shape[-1])


def _linear_weight_grad_draw(data):
    lead = shape(data, min_dims=0, max_dims=2)
    return [lead + (data.draw(st.integers(1, 4)),), lead + (data.draw(st.integers(1, 4)),)], {}


_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


def _mse_grad_mg(m, p, g, x, t):
    from minigrad.ops.loss import MseLossGrad

    return MseLossGrad.apply(g, x, t, reduction=p["reduction"])


def _mse_grad_torch(torch, p, g, x, t):
    return torch.ops.aten.mse_loss_backward(g, x, t, _REDUCTIONS[p["reduction"]])


def _mse_grad_draw(data):
    s = shape(data)
    reduction = data.draw(st.sampled_from(sorted(_REDUCTIONS)))
    return [s if reduction == "none" else (), s, s], {"reduction": reduction}


_RANDOM = "its random mask comes from minigrad's generator, not PyTorch's (tests/test_functional.py checks its statistics)"

SPECS = {
    "linear": Spec(lambda m, p, *xs: m.nn.functional.linear(*xs), _linear_draw),
    "erf": Spec(_erf_mg, _unary, torch=lambda torch, p, x: torch.erf(x)),
    "leaky_relu": Spec(
        lambda m, p, x: m.nn.functional.leaky_relu(x, p["slope"]),
        lambda data: ([shape(data)], {"slope": data.draw(st.sampled_from([0.01, 0.2, -0.5]))}),
        prepare=lambda xs, p: [_away(xs[0], [0])],
    ),
    "elu": Spec(
        lambda m, p, x: m.nn.functional.elu(x, p["alpha"]),
        lambda data: ([shape(data)], {"alpha": data.draw(st.sampled_from([1.0, 0.5]))}),
        prepare=lambda xs, p: [_away(xs[0], [0])],
    ),
    "hardtanh": Spec(
        lambda m, p, x: m.nn.functional.hardtanh(x, -0.5, 1.0),
        _unary,
        prepare=lambda xs, p: [_away(xs[0], [-0.5, 1.0])],
    ),
    "relu6": Spec(
        lambda m, p, x: m.nn.functional.relu6(x),
        _unary,
        low=-2.0,
        high=8.0,
        prepare=lambda xs, p: [_away(xs[0], [0.0, 6.0])],
    ),
    "gelu": Spec(
        lambda m, p, x: m.nn.functional.gelu(x, approximate=p["approximate"]),
        lambda data: ([shape(data)], {"approximate": data.draw(st.sampled_from(["none", "tanh"]))}),
        low=-4.0,
        high=4.0,
    ),
    "softplus": Spec(
        lambda m, p, x: m.nn.functional.softplus(x, p["beta"], p["threshold"]),
        _softplus_draw,
        prepare=lambda xs, p: [_away(xs[0], [p["threshold"] / p["beta"]])],
    ),
    "logsigmoid": Spec(lambda m, p, x: m.nn.functional.logsigmoid(x), _unary, low=-6, high=6),
    "silu": Spec(lambda m, p, x: m.nn.functional.silu(x), _unary, low=-4, high=4),
    "nll_loss": Spec(_nll, lambda data: _class_draw(data)),
    "cross_entropy": Spec(_cross_entropy, _cross_entropy_draw, low=-3.0, high=3.0),
    "linear_weight_grad": Spec(
        _linear_weight_grad_mg, _linear_weight_grad_draw, torch=_linear_weight_grad_torch
    ),
    "mse_loss_grad": Spec(_mse_grad_mg, _mse_grad_draw, torch=_mse_grad_torch),
    "mse_loss": Spec(
        lambda m, p, a, b: m.nn.functional.mse_loss(a, b, reduction=p["reduction"]), _pair_draw
    ),
    "l1_loss": Spec(_l1, _weighted_pair_draw, prepare=_l1_prepare),
    "binary_cross_entropy_with_logits": Spec(
        _bce_logits,
        _bce_logits_draw,
        low=-4.0,
        high=4.0,
        prepare=lambda xs, p: [xs[0], (xs[1] + 4.0) / 8.0],
    ),
    "binary_cross_entropy": Spec(
        lambda m, p, x, y: m.nn.functional.binary_cross_entropy(x, y, reduction=p["reduction"]),
        _bce_draw,
        low=0.1,
        high=0.9,
    ),
    "batch_norm": Spec(_batch_norm, _batch_norm_draw),
    "batch_norm_train": Spec(_bn_train, _bn_train_draw(False)),
    "batch_norm_train_grad": Spec(
        _bn_train_grad_mg, _bn_train_draw(True), torch=_bn_train_grad_torch
    ),
    "batch_norm_weight_grad": Spec(
        _bn_weight_grad_mg, _bn_train_draw(True, (False,)), torch=_bn_weight_grad_torch
    ),
    "layer_norm": Spec(
        lambda m, p, x, *wb: m.nn.functional.layer_norm(x, p["normalized"], *wb),
        _layer_norm_draw,
    ),
    "normalize": Spec(
        lambda m, p, x: m.nn.functional.normalize(x, p["p"], p["dim"]),
        _normalize_draw,
        prepare=lambda xs, p: [_away(xs[0], [0], 0.2)],
    ),
    "dropout": Spec(_dropout("dropout"), _dropout_draw(0, 3), torch=False, no_torch=_RANDOM),
    "dropout1d": Spec(_dropout("dropout1d"), _dropout_draw(2, 3), torch=False, no_torch=_RANDOM),
    "dropout2d": Spec(_dropout("dropout2d"), _dropout_draw(4, 4), torch=False, no_torch=_RANDOM),
    "reflection_pad": Spec(_pad("reflect"), _pad_draw("reflect")),
    "replication_pad": Spec(_pad("replicate"), _pad_draw("replicate")),
    "circular_pad": Spec(_pad("circular"), _pad_draw("circular")),
    "interpolate": Spec(_interpolate, _interpolate_draw),
}
