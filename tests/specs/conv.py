"""Test specs of the convolution and pooling ops. Ops that only exist as gradients
(``conv2d_weight``, ``max_pool2d_grad``, ...) are called directly, with PyTorch's autograd of the
matching function as the counterpart."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import strategies as st

from tests.specs.base import Spec, distinct


def _ints(data, lo, hi, n=2) -> tuple:
    return tuple(data.draw(st.integers(lo, hi)) for _ in range(n))


def _size(data, extent, pad, hi=6) -> int:
    """A spatial size that fits a window of ``extent`` after padding ``pad`` on both sides."""
    return data.draw(st.integers(max(1, extent - 2 * pad), max(1, extent - 2 * pad) + hi - 2))


# ---------------------------------------------------------------- convolutions


def _conv_params(data, nd=2):
    groups = data.draw(st.sampled_from([1, 1, 2]))
    cg = data.draw(st.integers(1, 3 if groups == 1 else 1))
    og = data.draw(st.integers(1, 2))
    kernel = _ints(data, 1, 3, nd)
    stride = _ints(data, 1, 2, nd)
    dilation = _ints(data, 1, 2, nd)
    padding = data.draw(st.sampled_from([0, 1, "valid"] + (["same"] if set(stride) == {1} else [])))
    pad = 1 if padding == 1 else 0
    size = tuple(_size(data, d * (k - 1) + 1, pad) for k, d in zip(kernel, dilation))
    n = data.draw(st.integers(1, 2))
    shapes = [(n, groups * cg) + size, (groups * og, cg) + kernel]
    if data.draw(st.booleans()):
        shapes.append((groups * og,))
    params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return shapes, params


def _conv_transpose_draw(data):
    groups = data.draw(st.sampled_from([1, 1, 2]))
    cg = data.draw(st.integers(1, 3 if groups == 1 else 1))
    og = data.draw(st.integers(1, 2))
    kernel = _ints(data, 1, 3)
    stride = _ints(data, 1, 2)
    dilation = _ints(data, 1, 2)
    padding = _ints(data, 0, 1)
    out_pad = tuple(data.draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    # the output size (n - 1) * s - 2p + d (k - 1) + op + 1 must be positive
    size = tuple(data.draw(st.integers(max(1, 2 * p // s + 1), 4)) for p, s in zip(padding, stride))
    n = data.draw(st.integers(1, 2))
    shapes = [(n, groups * cg) + size, (groups * cg, og) + kernel]
    if data.draw(st.booleans()):
        shapes.append((groups * og,))
    params = {
        "stride": stride,
        "padding": padding,
        "output_padding": out_pad,
        "groups": groups,
        "dilation": dilation,
    }
    return shapes, params


def _conv_weight_draw(data):
    """Inputs of conv2d_weight: x and a gradient shaped like conv2d(x, w)'s output."""
    groups = data.draw(st.sampled_from([1, 1, 2]))
    cg = data.draw(st.integers(1, 3 if groups == 1 else 1))
    og = data.draw(st.integers(1, 2))
    kernel, stride, dilation, padding = (
        _ints(data, 1, 3),
        _ints(data, 1, 2),
        _ints(data, 1, 2),
        _ints(data, 0, 1),
    )
    size = tuple(_size(data, d * (k - 1) + 1, p) for k, d, p in zip(kernel, dilation, padding))
    out = tuple(
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, p, d, k, s in zip(size, padding, dilation, kernel, stride)
    )
    n = data.draw(st.integers(1, 2))
    shapes = [(n, groups * cg) + size, (n, groups * og) + out]
    params = {
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "groups": groups,
    }
    return shapes, params


def _conv_weight_mg(m, p, x, g):
    from minigrad.ops.conv import Conv2dWeight
    from minigrad.ops.conv_kernels import Geometry

    geom = Geometry(
        x.shape[2:], g.shape[2:], p["kernel"], p["stride"], p["padding"], p["dilation"], p["groups"]
    )
    return Conv2dWeight.apply(x, g, geom=geom)


def _conv_weight_torch(torch, p, x, g):
    shape = (g.shape[1], x.shape[1] // p["groups"]) + p["kernel"]
    return torch.nn.grad.conv2d_weight(
        x, shape, g, p["stride"], p["padding"], p["dilation"], p["groups"]
    )


def _conv(m, p, x, w, b=None):
    with warnings.catch_warnings():  # PyTorch warns that 'same' with even kernels copies
        warnings.simplefilter("ignore", UserWarning)
        return m.nn.functional.conv2d(x, w, b, **p)


def _conv1d(m, p, x, w, b=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return m.nn.functional.conv1d(x, w, b, **p)


def _conv_transpose(m, p, x, w, b=None):
    return m.nn.functional.conv_transpose2d(x, w, b, **p)


# ---------------------------------------------------------------- pooling


def _pool_params(data, nd=2, dilation=True, ceil=True):
    kernel = _ints(data, 1, 3, nd)
    stride = data.draw(st.sampled_from([None, 1, 2, (1, 2)[:nd]]))
    padding = tuple(data.draw(st.integers(0, k // 2)) for k in kernel)
    dil = _ints(data, 1, 2, nd) if dilation else (1,) * nd
    # at least `d` elements, so that no dilated window reads padding only (its max is -inf)
    size = tuple(max(d, _size(data, d * (k - 1) + 1, p)) for k, d, p in zip(kernel, dil, padding))
    shape = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3))) + size
    params = {"kernel_size": kernel, "stride": stride, "padding": padding}
    if dilation:
        params["dilation"] = dil
    if ceil:
        params["ceil_mode"] = data.draw(st.booleans())
    return shape, params


def _max_pool_draw(data):
    shape, params = _pool_params(data)
    return [shape], params


def _max_pool1d_draw(data):
    shape, params = _pool_params(data, nd=1)
    return [shape], params


def _pooled_input_draw(data, avg=False):
    """A fixed pooled input (params["x"]) and, as the spec's input, a gradient of the pooled
    shape (or, with ``gather``, a tensor shaped like the fixed input)."""
    shape, params = _pool_params(data, dilation=not avg)
    if avg:
        params["count_include_pad"] = data.draw(st.booleans())
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    params["x"] = distinct(rng.uniform(-2, 2, size=shape))
    return params


def _pooled_shape(params, avg=False):
    import minigrad as mg

    fn = mg.nn.functional.avg_pool2d if avg else mg.nn.functional.max_pool2d
    kw = {k: v for k, v in params.items() if k != "x"}
    return tuple(fn(mg.tensor(params["x"]), **kw).shape)


def _max_grad_draw(data):
    params = _pooled_input_draw(data)
    return [_pooled_shape(params)], params


def _gather_draw(data):
    params = _pooled_input_draw(data)
    return [params["x"].shape], params


def _avg_grad_draw(data):
    params = _pooled_input_draw(data, avg=True)
    return [_pooled_shape(params, avg=True)], params


def _pool_node(m, p, like, avg=False):
    """The graph node of pooling the fixed input: it holds the geometry (and the argmax record)."""
    x = m.tensor(p["x"], dtype=like.dtype, device=like.device, requires_grad=True)
    kw = {k: v for k, v in p.items() if k != "x"}
    fn = m.nn.functional.avg_pool2d if avg else m.nn.functional.max_pool2d
    return fn(x, **kw).grad_fn


def _max_grad_mg(m, p, g):
    from minigrad.ops.pool import MaxPool2dGrad

    node = _pool_node(m, p, g)
    return MaxPool2dGrad.apply(g, geom=node.geom, code=node.code)


def _gather_mg(m, p, v):
    from minigrad.ops.pool import MaxPool2dGather

    node = _pool_node(m, p, v)
    return MaxPool2dGather.apply(v, geom=node.geom, code=node.code)


def _avg_grad_mg(m, p, g):
    from minigrad.ops.pool import AvgPool2dGrad

    node = _pool_node(m, p, g, avg=True)
    return AvgPool2dGrad.apply(g, geom=node.geom, divisor=node.divisor)


def _grad_torch(avg):
    def call(torch, p, g):
        x = torch.tensor(p["x"], dtype=g.dtype, requires_grad=True)
        kw = {k: v for k, v in p.items() if k != "x"}
        fn = torch.nn.functional.avg_pool2d if avg else torch.nn.functional.max_pool2d
        return torch.autograd.grad(fn(x, **kw), x, g, create_graph=True)[0]

    return call


def _gather_torch(torch, p, v):
    kw = {k: val for k, val in p.items() if k != "x"}
    _, idx = torch.nn.functional.max_pool2d(torch.tensor(p["x"]), **kw, return_indices=True)
    flat = torch.gather(v.flatten(2), 2, idx.flatten(2))
    return flat.reshape(idx.shape)


def _avg_pool_draw(data):
    shape, params = _pool_params(data, dilation=False)
    params["count_include_pad"] = data.draw(st.booleans())
    params["divisor_override"] = data.draw(st.sampled_from([None, None, 3]))
    return [shape], params


def _adaptive_draw(data):
    shape = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 3))) + _ints(data, 1, 7)
    size = tuple(data.draw(st.sampled_from([None, 1, 2, 3, 4])) for _ in range(2))
    return [shape], {"output_size": size if data.draw(st.booleans()) else size[0] or 2}


def _tie_free(xs, p):
    return [distinct(xs[0])]


SPECS = {
    "conv2d": Spec(_conv, _conv_params),
    "conv1d": Spec(_conv1d, lambda data: _conv_params(data, nd=1)),
    "conv_transpose2d": Spec(_conv_transpose, _conv_transpose_draw),
    "conv2d_weight": Spec(_conv_weight_mg, _conv_weight_draw, torch=_conv_weight_torch),
    "max_pool2d": Spec(
        lambda m, p, x: m.nn.functional.max_pool2d(x, **p), _max_pool_draw, prepare=_tie_free
    ),
    "max_pool1d": Spec(
        lambda m, p, x: m.nn.functional.max_pool1d(x, **p), _max_pool1d_draw, prepare=_tie_free
    ),
    "max_pool2d_grad": Spec(_max_grad_mg, _max_grad_draw, torch=_grad_torch(avg=False)),
    "max_pool2d_gather": Spec(_gather_mg, _gather_draw, torch=_gather_torch),
    "avg_pool2d": Spec(lambda m, p, x: m.nn.functional.avg_pool2d(x, **p), _avg_pool_draw),
    "avg_pool2d_grad": Spec(_avg_grad_mg, _avg_grad_draw, torch=_grad_torch(avg=True)),
    "adaptive_avg_pool2d": Spec(
        lambda m, p, x: m.nn.functional.adaptive_avg_pool2d(x, **p), _adaptive_draw
    ),
}
