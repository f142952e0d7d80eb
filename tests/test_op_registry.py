"""Every registered op, every family: gradcheck + gradgradcheck (float64, hypothesis shapes),
PyTorch parity (forward and backward), float32 in -> float32 out, on every device."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.autograd import REGISTRY, gradcheck, gradgradcheck
from tests.conftest import DEVICES
from tests.specs import SPECS

NAMES = sorted(REGISTRY)
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_every_registered_op_has_a_spec():
    missing = sorted(set(REGISTRY) - set(SPECS))
    assert not missing, f"ops without a test spec: {missing}"
    stale = sorted(set(SPECS) - set(REGISTRY))
    assert not stale, f"specs for ops that are not registered: {stale}"


def test_registry_is_large_enough_to_mean_something():
    assert len(REGISTRY) >= 40


class Case:
    """Inputs drawn for one example: host arrays, the params, and which need grad."""

    def __init__(self, spec, data):
        self.shapes, self.params = spec.draw(data)
        seed = data.draw(st.integers(0, 2**16))
        rng = np.random.default_rng(seed)
        arrays = [rng.uniform(spec.low, spec.high, size=s) for s in self.shapes]
        if spec.prepare is not None:
            arrays = spec.prepare(arrays, self.params)
        self.arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
        self.transposed = [a.ndim >= 2 and data.draw(st.booleans()) for a in self.arrays]
        grad = spec.grad if spec.grad is not None else range(len(self.arrays))
        self.grad = set(grad)

    def minigrad(self, device, dtype=mg.float64):
        out = []
        for i, (a, t) in enumerate(zip(self.arrays, self.transposed)):
            if t:  # a non-contiguous leaf: the transpose of a contiguous array
                x = mg.tensor(np.ascontiguousarray(a.T), dtype=dtype, device=device).T.detach()
            else:
                x = mg.tensor(a, dtype=dtype, device=device)
            out.append(x.requires_grad_() if i in self.grad else x)
        return out

    def torch(self, torch):
        return [
            torch.tensor(a, dtype=torch.float64, requires_grad=i in self.grad)
            for i, a in enumerate(self.arrays)
        ]


def _graph_classes(out) -> set:
    seen, stack, names = set(), [out.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.add(type(node))
        stack.extend(e for e in node._edges if isinstance(e, mg.autograd.Function))
    return names


def _outputs(result):
    return result if isinstance(result, tuple) else (result,)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", NAMES)
@fixture_ok
@given(data=st.data())
def test_gradcheck_and_gradgradcheck(name, device, data):
    spec = SPECS[name]
    case = Case(spec, data)
    inputs = case.minigrad(device)
    op = REGISTRY[name]

    def fn(*xs):
        return spec.call(mg, case.params, *xs)

    out = fn(*inputs)
    if isinstance(op, type):  # a primitive: the spec must really run it
        assert any(issubclass(c, op) for c in _graph_classes(_outputs(out)[0])), (
            f"the spec of {name!r} does not reach {op.__name__}"
        )
    kw = {"eps": spec.eps, "atol": spec.atol, "rtol": spec.rtol}
    assert gradcheck(fn, inputs, **kw)
    if spec.gradgrad:
        assert gradgradcheck(fn, inputs, **kw)


@pytest.mark.parametrize("name", NAMES)
@fixture_ok
@given(data=st.data())
def test_parity_with_torch(name, data):
    torch = pytest.importorskip("torch")
    spec = SPECS[name]
    if spec.torch is False:
        pytest.skip(f"no parity test for {name}: {spec.no_torch}")
    case = Case(spec, data)
    ours = case.minigrad("cpu")
    theirs = case.torch(torch)
    call_t = spec.torch if callable(spec.torch) else spec.call
    out_m = _outputs(spec.call(mg, case.params, *ours))
    out_t = _outputs(call_t(torch, case.params, *theirs))
    rng = np.random.default_rng(0)
    for om, ot in zip(out_m, out_t):
        np.testing.assert_allclose(om.detach().numpy(), ot.detach().numpy(), rtol=1e-10, atol=1e-12)
        assert tuple(om.shape) == tuple(ot.shape)
    grads = [rng.standard_normal(o.shape) for o in out_m]
    wrt_m = [x for x in ours if x.requires_grad]
    wrt_t = [x for x in theirs if x.requires_grad]
    gm = mg.autograd.grad(
        list(out_m), wrt_m, [mg.tensor(g, dtype=mg.float64) for g in grads], allow_unused=True
    )
    gt = torch.autograd.grad(
        list(out_t), wrt_t, [torch.tensor(g) for g in grads], allow_unused=True
    )
    for a, b in zip(gm, gt):
        if a is None or b is None:  # "no gradient" and a gradient of zeros mean the same
            assert a is None or not a.numpy().any()
            assert b is None or not b.numpy().any()
            continue
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", NAMES)
@fixture_ok
@given(data=st.data())
def test_float32_in_float32_out(name, device, data):
    spec = SPECS[name]
    if not spec.float32:
        pytest.skip(f"{name} changes dtype by design")
    case = Case(spec, data)
    out32 = _outputs(spec.call(mg, case.params, *case.minigrad(device, mg.float32)))
    out64 = _outputs(spec.call(mg, case.params, *case.minigrad(device, mg.float64)))
    for a, b in zip(out32, out64):
        assert a.dtype is mg.float32, f"{name}: float32 inputs gave {a.dtype}"
        np.testing.assert_allclose(
            a.detach().cpu().numpy(), b.detach().cpu().numpy(), rtol=1e-4, atol=1e-5
        )
    loss = sum((o.sum() for o in out32 if o.requires_grad), mg.tensor(0.0, device=device))
    if loss.requires_grad:
        loss.backward()
