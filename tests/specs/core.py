"""Test specs of the core ops: elementwise, reductions, movement, indexing, matmul."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from tests.specs.base import (
    Spec,
    away_from,
    broadcast_shapes,
    dim_arg,
    distinct,
    on_grid,
    one_dim,
    shape,
)


def _unary(data):
    return [shape(data)], {}


def _binary(data):
    return broadcast_shapes(data), {}


def _reduce(data, allow_tuple=True):
    s = shape(data)
    return [s], {
        "dim": dim_arg(data, len(s), allow_tuple=allow_tuple),
        "keep": data.draw(st.booleans()),
    }


def _reduce_dim(data):
    s = shape(data)
    return [s], {"dim": one_dim(data, len(s)), "keep": data.draw(st.booleans())}


def _sum(m, p, x):
    if p["dim"] is None:
        return x.sum()
    return x.sum(dim=p["dim"], keepdim=p["keep"])


def _permutation(data):
    s = shape(data)
    return [s], {"dims": tuple(data.draw(st.permutations(range(len(s)))))}


def _reshape(data):
    s = shape(data)
    n = int(np.prod(s))
    sizes = [d for d in range(1, n + 1) if n % d == 0]
    first = data.draw(st.sampled_from(sizes))
    target = (first, -1) if data.draw(st.booleans()) else (n // first, first)
    return [s], {"shape": target}


def _expand(data):
    s = shape(data, max_dims=2)
    target = tuple(data.draw(st.sampled_from([d, 3])) if d == 1 else d for d in s)
    lead = (data.draw(st.integers(1, 3)),)
    return [s], {"shape": lead + target}


def _slice_key(data):
    s = shape(data)
    if s == ():
        return [s], {"key": (None,)}  # a 0-d tensor takes no index, only new dims
    key = []
    for n in s:
        kind = data.draw(st.sampled_from(["int", "slice", "all"]))
        if kind == "int":
            key.append(data.draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            a = data.draw(st.integers(0, n - 1))
            b = data.draw(st.integers(a + 1, n))
            key.append(slice(a, b, data.draw(st.integers(1, 2))))
        else:
            key.append(slice(None))
    if data.draw(st.booleans()):
        key.insert(data.draw(st.integers(0, len(key))), None)
    return [s], {"key": tuple(key)}


def _index_key(data):
    s = shape(data, min_dims=1)
    n = s[0]
    idx = data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=5))
    mask = None
    if len(s) >= 2 and data.draw(st.booleans()):
        mask = np.array(data.draw(st.lists(st.booleans(), min_size=s[1], max_size=s[1])))
    return [s], {"idx": np.array(idx), "mask": mask}


def _index(m, p, x):
    idx = m.tensor(p["idx"], device=x.device)
    if p["mask"] is not None:
        return x[idx][:, m.tensor(p["mask"], device=x.device)]
    return x[idx]


def _index_grad_mg(m, p, g):
    from minigrad.ops.movement import IndexGrad, index_key

    shape_ = (4,) + g.shape[1:]
    key, advanced = index_key(m.zeros(shape_, device=g.device), m.tensor(p["idx"]))
    return IndexGrad.apply(g, key=key, shape=shape_, accumulate=advanced)


def _index_grad_torch(torch, p, g):
    out = torch.zeros((4,) + tuple(g.shape[1:]), dtype=g.dtype)
    return out.index_put((torch.tensor(p["idx"]),), g, accumulate=True)


def _index_grad_draw(data):
    rest = shape(data, max_dims=2)
    idx = data.draw(st.lists(st.integers(-4, 3), min_size=1, max_size=6))
    return [(len(idx),) + rest], {"idx": np.array(idx)}


def _cat(data):
    s = shape(data, min_dims=1)
    d = one_dim(data, len(s))
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    shapes = [s[: d % len(s)] + (k,) + s[d % len(s) + 1 :] for k in sizes]
    return shapes, {"dim": d}


def _stack(data):
    s = shape(data)
    k = data.draw(st.integers(1, 3))
    return [s] * k, {"dim": data.draw(st.integers(-len(s) - 1, len(s)))}


def _pad(data):
    s = shape(data, min_dims=1)
    k = data.draw(st.integers(1, len(s)))
    pads = (data.draw(st.integers(1, 2)),) + tuple(
        data.draw(st.integers(0, 2)) for _ in range(2 * k - 1)
    )
    return [s], {"pad": pads, "value": data.draw(st.sampled_from([0.0, 1.5]))}


def _matmul(data):
    kind = data.draw(st.sampled_from(["mm", "bmm", "bcast", "vec_l", "vec_r", "dot"]))
    n, k, q = (data.draw(st.integers(1, 4)) for _ in range(3))
    b = data.draw(st.integers(1, 3))
    shapes = {
        "mm": [(n, k), (k, q)],
        "bmm": [(b, n, k), (b, k, q)],
        "bcast": [(b, 1, n, k), (2, k, q)],
        "vec_l": [(k,), (b, k, q)],
        "vec_r": [(b, n, k), (k,)],
        "dot": [(k,), (k,)],
    }[kind]
    return shapes, {}


def _where(data):
    shapes = broadcast_shapes(data, n=3)
    cond = np.random.default_rng(data.draw(st.integers(0, 99))).random(shapes[0]) > 0.5
    return shapes[1:], {"cond": cond}


def _gather(data):
    s = shape(data)
    if not s:  # a 0-d input: dim 0 or -1, index 0, as PyTorch allows
        return [s], {"dim": data.draw(st.sampled_from([0, -1])), "index": np.array(0)}
    d = one_dim(data, len(s))
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    ishape = tuple(
        rng.integers(1, n + 1) if i != d % len(s) else rng.integers(1, 4) for i, n in enumerate(s)
    )
    return [s], {"dim": d, "index": rng.integers(0, s[d], size=ishape)}


def _gather_grad_mg(m, p, g):
    from minigrad.ops.reduce import GatherGrad

    d = p["dim"] % g.ndim
    shape_ = g.shape[:d] + (4,) + g.shape[d + 1 :]
    index = m.tensor(p["index"], device=g.device)._data
    return GatherGrad.apply(g, index=index, dim=d, shape=shape_)


def _gather_grad_torch(torch, p, g):
    d = p["dim"] % g.ndim
    shape_ = tuple(g.shape[:d]) + (4,) + tuple(g.shape[d + 1 :])
    return torch.zeros(shape_, dtype=g.dtype).scatter_add(d, torch.tensor(p["index"]), g)


def _gather_grad_draw(data):
    s = shape(data, min_dims=1)
    d = one_dim(data, len(s))
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    return [s], {"dim": d, "index": rng.integers(0, 4, size=s)}


def _sum_grad_mg(m, p, g):
    from minigrad.ops.reduce import SumGrad

    return SumGrad.apply(g, shape=p["shape"], axes=p["axes"], scale=p["scale"])


def _sum_grad_torch(torch, p, g):
    kept = tuple(1 if i in p["axes"] else n for i, n in enumerate(p["shape"]))
    return g.reshape(kept).expand(p["shape"]) * p["scale"]


def _sum_grad_draw(data):
    s = shape(data)
    axes = tuple(
        sorted(set(data.draw(st.lists(st.integers(0, max(len(s) - 1, 0)), max_size=len(s)))))
    )
    keep = data.draw(st.booleans())
    g_shape = (
        tuple(1 if i in axes else n for i, n in enumerate(s))
        if keep
        else tuple(n for i, n in enumerate(s) if i not in axes)
    )
    return [g_shape], {"shape": s, "axes": axes, "scale": data.draw(st.sampled_from([1, 0.25]))}


def _sum_to_mg(m, p, x):
    from minigrad.ops.reduce import sum_to

    return sum_to(x, p["to"])


def _var_draw(data):
    s = shape(data)
    dim = dim_arg(data, len(s))
    axes = range(len(s)) if dim is None else (dim,) if isinstance(dim, int) else dim
    n = int(np.prod([s[a] for a in axes]))
    # over one value the unbiased variance is 0/0 (nan in PyTorch too): correction 0 there
    correction = data.draw(st.sampled_from([0, 1])) if n > 1 else 0
    return [s], {"dim": dim, "keep": data.draw(st.booleans()), "correction": correction}


def _std_draw(data):
    s = shape(data, min_dims=1)
    wide = [i for i, n in enumerate(s) if n > 1]
    if not wide:  # the std of one value is 0, where sqrt has no derivative: reduce a longer dim
        s, wide = s[:-1] + (2,), [len(s) - 1]
    d = data.draw(st.sampled_from(wide))
    return [s], {
        "dim": d - len(s) if data.draw(st.booleans()) else d,
        "keep": data.draw(st.booleans()),
        "unbiased": data.draw(st.booleans()),
    }


def _flip_draw(data):
    s = shape(data)
    if s == ():  # a 0-d tensor flips along dim 0 (or -1), unchanged, as in PyTorch
        return [s], {"dims": (data.draw(st.sampled_from([0, -1])),)}
    return [s], {"dims": dim_arg(data, len(s), allow_none=False)}


def _sum_to_draw(data):
    to, extra = broadcast_shapes(data)
    full = (2,) + np.broadcast_shapes(to, extra)
    return [full], {"to": to}


def _index_put(m, p, x, v):
    y = x * 1  # a non-leaf, so index assignment is recorded
    y[p["key"]] = v
    return y


def _index_put_draw(data):
    s = shape(data)
    if s == ():
        return [s, s], {"key": ()}
    a = data.draw(st.integers(0, s[0] - 1))
    b = data.draw(st.integers(a + 1, s[0]))
    slot = (b - a,) + s[1:]
    # the value is broadcast to the slot: it may lack leading dims or have size-1 dims
    lead = data.draw(st.integers(0, len(slot)))
    value = tuple(1 if data.draw(st.booleans()) else n for n in slot[lead:])
    return [s, value], {"key": slice(a, b)}


def _to_device_mg(m, p, x):
    from minigrad.ops.movement import ToDevice

    return ToDevice.apply(x, device=x.device)


def _cast(m, p, x):
    return x.to(m.float32).to(m.float64)


def _fused_grad(name):
    def call(m, p, g, out):
        from minigrad.ops import elementwise as E

        return getattr(E, name).apply(g, out)

    return call


SPECS = {
    "add": Spec(lambda m, p, a, b: a + b, _binary),
    "sub": Spec(lambda m, p, a, b: a - b, _binary),
    "mul": Spec(lambda m, p, a, b: a * b, _binary),
    "div": Spec(
        lambda m, p, a, b: a / b, _binary, prepare=lambda xs, p: [xs[0], away_from(xs[1], [0], 0.3)]
    ),
    "pow": Spec(
        lambda m, p, a, b: a**b,
        _binary,
        prepare=lambda xs, p: [np.abs(xs[0]) + 0.2, xs[1]],
    ),
    "neg": Spec(lambda m, p, x: -x, _unary),
    "exp": Spec(lambda m, p, x: x.exp(), _unary),
    "log": Spec(lambda m, p, x: x.log(), _unary, low=0.1, high=3.0),
    "sqrt": Spec(lambda m, p, x: x.sqrt(), _unary, low=0.1, high=3.0),
    "abs": Spec(lambda m, p, x: x.abs(), _unary, prepare=lambda xs, p: [away_from(xs[0], [0])]),
    "sin": Spec(lambda m, p, x: x.sin(), _unary),
    "cos": Spec(lambda m, p, x: x.cos(), _unary),
    "tanh": Spec(lambda m, p, x: x.tanh(), _unary),
    "sigmoid": Spec(lambda m, p, x: x.sigmoid(), _unary, low=-5, high=5),
    "tanh_grad": Spec(
        _fused_grad("TanhGrad"),
        _binary,
        low=-0.9,
        high=0.9,
        torch=lambda torch, p, g, out: torch.ops.aten.tanh_backward(g, out),
    ),
    "sigmoid_grad": Spec(
        _fused_grad("SigmoidGrad"),
        _binary,
        low=0.05,
        high=0.95,
        torch=lambda torch, p, g, out: torch.ops.aten.sigmoid_backward(g, out),
    ),
    "relu_grad": Spec(
        _fused_grad("ReluGrad"),
        _binary,
        prepare=lambda xs, p: [xs[0], away_from(xs[1], [0])],
        torch=lambda torch, p, g, out: torch.ops.aten.threshold_backward(g, out, 0),
    ),
    "relu": Spec(lambda m, p, x: x.relu(), _unary, prepare=lambda xs, p: [away_from(xs[0], [0])]),
    "clamp": Spec(
        lambda m, p, x: x.clamp(p["lo"], p["hi"]),
        lambda data: (
            [shape(data)],
            {
                "lo": data.draw(st.sampled_from([None, -0.5])),
                "hi": data.draw(st.sampled_from([0.5, 1.0])),
            },
        ),
        prepare=lambda xs, p: [away_from(xs[0], [-0.5, 0.5, 1.0])],
    ),
    "maximum": Spec(
        lambda m, p, a, b: m.maximum(a, b),
        _binary,
        prepare=lambda xs, p: [on_grid(xs[0]), on_grid(xs[1], offset=0.1)],
    ),
    "minimum": Spec(
        lambda m, p, a, b: m.minimum(a, b),
        _binary,
        prepare=lambda xs, p: [on_grid(xs[0]), on_grid(xs[1], offset=0.1)],
    ),
    "where": Spec(lambda m, p, a, b: m.where(m.tensor(p["cond"], device=a.device), a, b), _where),
    "sum": Spec(_sum, _reduce),
    "mean": Spec(
        lambda m, p, x: x.mean() if p["dim"] is None else x.mean(dim=p["dim"], keepdim=p["keep"]),
        _reduce,
    ),
    "sum_grad": Spec(_sum_grad_mg, _sum_grad_draw, torch=_sum_grad_torch),
    "sum_to": Spec(
        _sum_to_mg,
        _sum_to_draw,
        torch=False,
        cannot={"zero_d": "a 0-d input sums to itself, which sum_to returns without the op"},
    ),
    "var": Spec(
        lambda m, p, x: x.var(dim=p["dim"], correction=p["correction"], keepdim=p["keep"]),
        _var_draw,
    ),
    "std": Spec(
        lambda m, p, x: x.std(dim=p["dim"], unbiased=p["unbiased"], keepdim=p["keep"]),
        _std_draw,
        cannot={"zero_d": "the std of one value is 0, where sqrt has no derivative"},
    ),
    "amax": Spec(
        lambda m, p, x: (
            x.amax(dim=p["dim"], keepdim=p["keep"]) if p["dim"] is not None else x.max()
        ),
        _reduce,
        prepare=lambda xs, p: [distinct(xs[0])],
    ),
    "amin": Spec(
        lambda m, p, x: (
            x.amin(dim=p["dim"], keepdim=p["keep"]) if p["dim"] is not None else x.min()
        ),
        _reduce,
        prepare=lambda xs, p: [distinct(xs[0])],
    ),
    "gather": Spec(
        lambda m, p, x: m.gather(x, p["dim"], m.tensor(p["index"], device=x.device)),
        _gather,
    ),
    "gather_grad": Spec(
        _gather_grad_mg,
        _gather_grad_draw,
        torch=_gather_grad_torch,
        cannot={
            "zero_d": "its spec scatters into a new dimension of size 4, which needs one; the "
            "gradient of a 0-d gather runs through the gather spec"
        },
    ),
    "prod": Spec(
        lambda m, p, x: x.prod() if p["dim"] is None else x.prod(dim=p["dim"], keepdim=p["keep"]),
        lambda data: _reduce(data, allow_tuple=False),
        low=-1.5,
        high=1.5,
    ),
    "logsumexp": Spec(
        lambda m, p, x: x.logsumexp(dim=p["dim"], keepdim=p["keep"]),
        lambda data: _reduce_dim(data),
    ),
    "softmax": Spec(lambda m, p, x: x.softmax(dim=p["dim"]), _reduce_dim),
    "log_softmax": Spec(lambda m, p, x: x.log_softmax(dim=p["dim"]), _reduce_dim),
    "matmul": Spec(
        lambda m, p, a, b: a @ b,
        _matmul,
        cannot={"zero_d": "matmul needs operands of at least one dim (as in PyTorch)"},
    ),
    "reshape": Spec(lambda m, p, x: x.reshape(p["shape"]), _reshape),
    "permute": Spec(lambda m, p, x: x.permute(p["dims"]), _permutation),
    "expand": Spec(lambda m, p, x: x.expand(*p["shape"]) * 1, _expand),
    "flip": Spec(lambda m, p, x: x.flip(p["dims"]), _flip_draw),
    "slice": Spec(lambda m, p, x: x[p["key"]], _slice_key),
    "index": Spec(
        _index,
        _index_key,
        cannot={"zero_d": "a 0-d tensor takes no index tensor (as in PyTorch)"},
    ),
    "index_grad": Spec(
        _index_grad_mg,
        _index_grad_draw,
        torch=_index_grad_torch,
        cannot={"zero_d": "the gradient of x[index] has the index's dim"},
    ),
    "index_put": Spec(_index_put, _index_put_draw),
    "cat": Spec(
        lambda m, p, *xs: m.cat(list(xs), p["dim"]),
        _cat,
        cannot={
            "zero_d": "0-d tensors cannot be concatenated (as in PyTorch)",
            "broadcast": "it joins tensors of one shape but for the cat dim",
        },
    ),
    "pad": Spec(
        lambda m, p, x: m.nn.functional.pad(x, p["pad"], value=p["value"]),
        _pad,
        cannot={"zero_d": "a 0-d tensor has no dim to pad (as in PyTorch)"},
    ),
    "cast": Spec(_cast, _unary, eps=1e-3, atol=1e-3, rtol=1e-3, float32=False),
    "clone": Spec(lambda m, p, x: x.clone(), _unary),
    "to_device": Spec(_to_device_mg, _unary, torch=False),
    "stack": Spec(
        lambda m, p, *xs: m.stack(list(xs), p["dim"]),
        _stack,
        cannot={"broadcast": "it stacks tensors of one shape (as in PyTorch)"},
    ),
}
