"""Every registered op, every family: gradcheck + gradgradcheck (float64, hypothesis shapes),
PyTorch parity (forward and backward), float32 in -> float32 out, and the same numbers on "cuda"
as on the CPU, on every device. Besides the hypothesis draws, every op runs on one fixed case of
each kind of input it takes (a non-contiguous view, a size-1 dim, a 0-d input, a broadcast pair),
so that no kind is left to chance."""

from __future__ import annotations

import functools
import gc
import importlib
import pkgutil

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

import minigrad as mg
from minigrad.autograd import REGISTRY, Function, gradcheck, gradgradcheck
from tests.conftest import CUDA, DEVICES
from tests.specs import SPECS
from tests.specs.base import KINDS, cannot, kinds_taken

NAMES = sorted(REGISTRY)
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
needs_cuda = pytest.mark.skipif(
    not CUDA, reason="no CUDA device (run with MINIGRAD_FAKE_CUDA=1 to use the CuPy stand-in)"
)


def test_every_registered_op_has_a_spec():
    missing = sorted(set(REGISTRY) - set(SPECS))
    assert not missing, f"ops without a test spec: {missing}"
    stale = sorted(set(SPECS) - set(REGISTRY))
    assert not stale, f"specs for ops that are not registered: {stale}"


def test_registry_is_large_enough_to_mean_something():
    assert len(REGISTRY) >= 40


def _function_classes() -> set:
    """Every Function subclass defined in minigrad, once all of minigrad is imported."""
    for info in pkgutil.walk_packages(mg.__path__, "minigrad."):
        if not info.name.endswith("__main__"):  # running the command line is no import
            importlib.import_module(info.name)
    found, stack = set(), list(Function.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls not in found:
            found.add(cls)
            stack.extend(cls.__subclasses__())
    return {c for c in found if c.__module__.split(".")[0] == "minigrad"}


def _unregistered(classes) -> list[str]:
    registered = {id(op) for op in REGISTRY.values()}
    return sorted(f"{c.__module__}.{c.__qualname__}" for c in classes if id(c) not in registered)


def test_every_function_in_minigrad_is_registered():
    classes = _function_classes()
    assert len(classes) >= 40  # the walk found the ops
    missing = _unregistered(classes)
    assert not missing, f"Function subclasses that no registry test runs: {missing}"


def test_an_unregistered_function_would_be_caught():
    hidden = type("Hidden", (Function,), {"__module__": "minigrad.ops.elementwise"})
    assert "minigrad.ops.elementwise.Hidden" in _unregistered(_function_classes())
    assert _unregistered([REGISTRY["add"], REGISTRY["matmul"]]) == []
    del hidden
    gc.collect()  # Function.__subclasses__ forgets the class once it is collected
    assert "minigrad.ops.elementwise.Hidden" not in _unregistered(_function_classes())


# ---------------------------------------------------------------- drawing inputs


class Case:
    """Inputs drawn for one example: host arrays, the params, which inputs need grad, and how
    each input is laid out in memory ("contiguous", "transposed" or "strided")."""

    def __init__(self, spec, data):
        self.shapes, self.params = spec.draw(data)
        seed = data.draw(st.integers(0, 2**16))
        rng = np.random.default_rng(seed)
        arrays = [rng.uniform(spec.low, spec.high, size=s) for s in self.shapes]
        if spec.prepare is not None:
            arrays = spec.prepare(arrays, self.params)
        self.arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
        self.layouts = [data.draw(st.sampled_from(_layouts(a.ndim))) for a in self.arrays]
        grad = spec.grad if spec.grad is not None else range(len(self.arrays))
        self.grad = set(grad)

    def __repr__(self) -> str:
        shapes = [a.shape for a in self.arrays]
        return f"Case(shapes={shapes}, layouts={self.layouts}, params={self.params})"

    def minigrad(self, device, dtype=mg.float64):
        out = []
        for i, (a, layout) in enumerate(zip(self.arrays, self.layouts)):
            if layout == "transposed":  # the transpose of a contiguous array
                x = mg.tensor(np.ascontiguousarray(a.T), dtype=dtype, device=device).T
            elif layout == "strided":  # every other element of the last dim
                x = mg.tensor(np.repeat(a, 2, axis=-1), dtype=dtype, device=device)[..., ::2]
            else:
                x = mg.tensor(a, dtype=dtype, device=device)
            x = x.detach()
            out.append(x.requires_grad_() if i in self.grad else x)
        return out

    def torch(self, torch):
        return [
            torch.tensor(a, dtype=torch.float64, requires_grad=i in self.grad)
            for i, a in enumerate(self.arrays)
        ]

    def kinds(self, broadcasts: bool) -> set:
        """The kinds of case (see tests.specs.base.KINDS) these inputs are, for an op that
        broadcasts its inputs against each other or not."""
        shapes = [a.shape for a in self.arrays]
        found = set()
        if any(
            not _host_view(a, lay).flags.c_contiguous for a, lay in zip(self.arrays, self.layouts)
        ):
            found.add("noncontig")
        if any(s == () for s in shapes):
            found.add("zero_d")
        try:
            full = np.broadcast_shapes(*shapes)
        except ValueError:  # inputs that are not broadcast against each other (matmul, conv...)
            full = None
        if broadcasts and full is not None:
            # a size-1 dim that broadcasting stretches (dims aligned from the right)
            if any(n == 1 and m > 1 for s in shapes for n, m in zip(s[::-1], full[::-1])):
                found.add("size1")
        elif any(1 in s and max(s) > 1 for s in shapes):  # a size-1 dim beside a longer one
            found.add("size1")
        ranks = {len(s) for s in shapes}
        if len(shapes) > 1 and len(ranks) > 1 and 0 not in ranks:
            found.add("broadcast")
        return found


def _layouts(ndim: int) -> list[str]:
    return ["contiguous"] + (["strided"] if ndim >= 1 else []) + (["transposed"] * (ndim >= 2))


def _host_view(a: np.ndarray, layout: str) -> np.ndarray:
    """The NumPy array laid out as Case.minigrad lays out the tensor."""
    if layout == "transposed":
        return np.ascontiguousarray(a.T).T
    if layout == "strided":
        return np.repeat(a, 2, axis=-1)[..., ::2]
    return a


class _Draw:
    """Lets Case, written for ``st.data()``, draw inside a composite strategy."""

    def __init__(self, draw):
        self.draw = draw


@st.composite
def _cases(draw, spec):
    return Case(spec, _Draw(draw))


# the first case hypothesis draws that is of the kind, always the same (derandomized)
_FIND = settings(
    database=None, derandomize=True, max_examples=1000, phases=[Phase.generate], deadline=None
)


def _broadcasts(name: str) -> bool:
    return "broadcast" in kinds_taken(name, SPECS[name])


@functools.cache
def fixed_case(name: str, kind: str) -> Case:
    spec = SPECS[name]
    broadcasts = _broadcasts(name)
    try:
        return find(_cases(spec), lambda c: kind in c.kinds(broadcasts), settings=_FIND)
    except NoSuchExample:
        raise AssertionError(
            f"the spec of {name!r} draws no {kind!r} case ({KINDS[kind]}): change its draw, "
            f"or say in its 'cannot' why the op takes none"
        ) from None


FIXED = [(name, kind) for name in NAMES for kind in kinds_taken(name, SPECS[name])]
FIXED_IDS = [f"{name}-{kind}" for name, kind in FIXED]
FIXED_PARITY = [(n, k) for n, k in FIXED if SPECS[n].torch is not False]


def test_every_op_gets_every_kind_of_case_it_takes():
    """Each op runs on a case of each kind of input, unless its spec says why it takes none."""
    problems = []
    for name in NAMES:
        spec = SPECS[name]
        excluded = cannot(name, spec)
        unknown = sorted(set(excluded) - set(KINDS))
        if unknown:
            problems.append(f"{name}: unknown kinds {unknown} in 'cannot'")
        problems += [
            f"{name}: no reason why it takes no {k!r}" for k, r in excluded.items() if not r
        ]
        if "broadcast" in excluded and not spec.takes_several_inputs():
            problems.append(f"{name}: one input, so 'broadcast' needs no reason")
        for kind in kinds_taken(name, spec):
            try:
                case = fixed_case(name, kind)
            except AssertionError as e:
                problems.append(str(e))
                continue
            if kind not in case.kinds(_broadcasts(name)):
                problems.append(f"{name}: the {kind!r} case {case} is not of that kind")
    assert not problems, "\n".join(problems)
    taken = {k: sum(k in kinds_taken(n, SPECS[n]) for n in NAMES) for k in KINDS}
    # every op takes non-contiguous inputs; most take 0-d; the elementwise ones broadcast
    assert taken["noncontig"] == len(NAMES)
    assert taken["size1"] >= len(NAMES) - 5 and taken["zero_d"] >= 40 and taken["broadcast"] >= 12


def test_the_kinds_of_a_case_are_recognized():
    found = fixed_case("add", "broadcast")
    assert len({a.ndim for a in found.arrays}) == 2 and "broadcast" in found.kinds(True)
    assert SPECS["add"].takes_several_inputs() and not SPECS["exp"].takes_several_inputs()

    def kinds(shapes, layouts=None, broadcasts=True):
        case = Case.__new__(Case)  # inputs set by hand
        case.arrays = [np.zeros(s) for s in shapes]
        case.layouts = layouts or ["contiguous"] * len(shapes)
        return case.kinds(broadcasts)

    assert kinds([(3, 1), (3, 4)]) == {"size1"}
    assert kinds([(1, 4), (1, 4)]) == set()  # nothing stretched
    assert kinds([(1, 4), (1, 4)], broadcasts=False) == {"size1"}
    assert kinds([(1, 1), (1,)], broadcasts=False) == {"broadcast"}  # no longer dim beside a 1
    assert kinds([(2, 3), (3, 2)], ["strided", "transposed"]) == {"noncontig"}
    # a transposed or strided view that only moves size-1 dims is contiguous all the same
    assert kinds([(2, 1), (1, 2)], ["transposed", "transposed"], broadcasts=False) == {"size1"}
    assert kinds([(), (2,)], ["contiguous", "strided"]) == {"zero_d", "noncontig"}


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


def _host(t) -> np.ndarray:
    return t.detach().cpu().numpy()


# ---------------------------------------------------------------- gradcheck + gradgradcheck


def _check_gradients(name, case, device, kind=None):
    spec = SPECS[name]
    inputs = case.minigrad(device)
    if kind == "noncontig":
        assert any(not x.is_contiguous() for x in inputs), f"{case}: all inputs are contiguous"
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


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", NAMES)
@fixture_ok
@given(data=st.data())
def test_gradcheck_and_gradgradcheck(name, device, data):
    _check_gradients(name, Case(SPECS[name], data), device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kind"), FIXED, ids=FIXED_IDS)
def test_gradcheck_and_gradgradcheck_of_each_kind_of_case(name, kind, device):
    _check_gradients(name, fixed_case(name, kind), device, kind)


# ---------------------------------------------------------------- parity with PyTorch


def _run_mg(spec, case, device):
    """Outputs and the gradients of every input that requires grad, for fixed random
    output gradients, as host arrays (None where an input gets no gradient)."""
    ours = case.minigrad(device)
    out = _outputs(spec.call(mg, case.params, *ours))
    rng = np.random.default_rng(0)
    grads = [mg.tensor(rng.standard_normal(o.shape), dtype=o.dtype, device=device) for o in out]
    wrt = [x for x in ours if x.requires_grad]
    gs = mg.autograd.grad(list(out), wrt, grads, allow_unused=True) if wrt else []
    return [_host(o) for o in out], [None if g is None else _host(g) for g in gs], out


def _check_parity(name, case, device):
    torch = pytest.importorskip("torch")
    spec = SPECS[name]
    outs_m, grads_m, out_m = _run_mg(spec, case, device)
    for o in out_m:
        assert o.device == device, f"{name}: an output on {o.device}"
    theirs = case.torch(torch)
    call_t = spec.torch if callable(spec.torch) else spec.call
    out_t = _outputs(call_t(torch, case.params, *theirs))
    for om, ot in zip(outs_m, out_t):
        np.testing.assert_allclose(om, ot.detach().numpy(), rtol=1e-10, atol=1e-12)
        assert tuple(om.shape) == tuple(ot.shape)
    rng = np.random.default_rng(0)
    grads = [torch.tensor(rng.standard_normal(tuple(o.shape))) for o in out_t]
    wrt_t = [x for x in theirs if x.requires_grad]
    gt = torch.autograd.grad(list(out_t), wrt_t, grads, allow_unused=True) if wrt_t else []
    assert len(grads_m) == len(gt)
    for a, b in zip(grads_m, gt):
        if a is None or b is None:  # "no gradient" and a gradient of zeros mean the same
            assert a is None or not a.any()
            assert b is None or not b.numpy().any()
            continue
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", NAMES)
@fixture_ok
@given(data=st.data())
def test_parity_with_torch(name, device, data):
    spec = SPECS[name]
    if spec.torch is False:
        pytest.skip(f"no parity test for {name}: {spec.no_torch}")
    _check_parity(name, Case(spec, data), device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kind"), FIXED_PARITY, ids=[f"{n}-{k}" for n, k in FIXED_PARITY])
def test_parity_with_torch_of_each_kind_of_case(name, kind, device):
    _check_parity(name, fixed_case(name, kind), device)


# ---------------------------------------------------------------- cuda gives the cpu numbers


def _check_cuda_matches_cpu(name, case):
    spec = SPECS[name]
    outs_c, grads_c, _ = _run_mg(spec, case, "cpu")
    outs_g, grads_g, out_g = _run_mg(spec, case, "cuda")
    assert all(o.device == "cuda" for o in out_g), f"{name}: an output left the GPU"
    # the stand-in runs the very NumPy kernels: its numbers are the CPU's to the bit; a real
    # GPU may sum in another order
    tol = {"rtol": 0, "atol": 0} if _fake_cuda() else {"rtol": 1e-12, "atol": 1e-14}
    for a, b in zip(outs_g + grads_g, outs_c + grads_c):
        assert (a is None) == (b is None), f"{name}: a gradient on one device only"
        if a is not None:
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_allclose(a, b, **tol, err_msg=f"{name}: {case}")


def _fake_cuda() -> bool:
    from minigrad import backend

    return backend._fake_cuda_requested()


@needs_cuda
@pytest.mark.parametrize("name", NAMES)
@fixture_ok
@given(data=st.data())
def test_cuda_gives_the_cpu_results(name, data):
    _check_cuda_matches_cpu(name, Case(SPECS[name], data))


@needs_cuda
@pytest.mark.parametrize(("name", "kind"), FIXED, ids=FIXED_IDS)
def test_cuda_gives_the_cpu_results_of_each_kind_of_case(name, kind):
    _check_cuda_matches_cpu(name, fixed_case(name, kind))


# ---------------------------------------------------------------- float32 stays float32


def _check_float32(name, case, device):
    spec = SPECS[name]
    out32 = _outputs(spec.call(mg, case.params, *case.minigrad(device, mg.float32)))
    out64 = _outputs(spec.call(mg, case.params, *case.minigrad(device, mg.float64)))
    for a, b in zip(out32, out64):
        assert a.dtype is mg.float32, f"{name}: float32 inputs gave {a.dtype}"
        np.testing.assert_allclose(_host(a), _host(b), rtol=1e-4, atol=1e-5)
    loss = sum((o.sum() for o in out32 if o.requires_grad), mg.tensor(0.0, device=device))
    if loss.requires_grad:
        loss.backward()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", NAMES)
@fixture_ok
@given(data=st.data())
def test_float32_in_float32_out(name, device, data):
    spec = SPECS[name]
    if not spec.float32:
        pytest.skip(f"{name} changes dtype by design")
    _check_float32(name, Case(spec, data), device)


# ---------------------------------------------------------------- 0-d inputs PyTorch takes


def test_gather_of_a_0d_tensor():
    torch = pytest.importorskip("torch")

    x = mg.tensor(0.5, dtype=mg.float64, requires_grad=True)
    out = mg.gather(x, 0, mg.tensor(0))
    assert out.shape == torch.gather(torch.tensor(0.5), 0, torch.tensor(0)).shape == ()
    assert gradcheck(lambda t: mg.gather(t, -1, mg.tensor(0)), [x])
