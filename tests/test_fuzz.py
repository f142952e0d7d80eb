"""Fuzzing the public API.

Random programs: chains of 1-8 registered ops, each called the way its test spec says (shapes,
parameters, input domain and the kinks it must stay away from), with intermediates reused,
reshaped and broadcast against fresh inputs; run in minigrad and PyTorch in float64, values and
gradients must agree.

Random invalid arguments: every public function of ``minigrad``, every Tensor method and
operator, every ``nn.functional`` op, every ``nn`` module (constructor, forward, methods) and
every optimizer and learning-rate scheduler is called with a valid baseline and then with bad
arguments (wrong shapes, dtypes, types, negative and huge sizes, NaN/Inf, empty tensors). The
only acceptable failure is an error that minigrad raises on purpose: a ValueError, TypeError,
RuntimeError, IndexError or NotImplementedError from a ``raise`` statement in minigrad's source,
with a message. A Python error from inside minigrad (AttributeError, 'tuple index out of
range'), anything raised inside NumPy, a NumPy warning or a hang is a defect.
"""

from __future__ import annotations

import inspect
import io
import linecache
import math
import os
import resource
import signal
import subprocess
import sys
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.autograd import REGISTRY
from minigrad.ops import elementwise as E
from minigrad.ops import inplace, linalg
from minigrad.ops import loss as L
from minigrad.ops import reduce as R
from minigrad.optim import lr_scheduler
from tests.specs import SPECS

# Both fuzzers scale with the hypothesis profile (``ci``: 20 examples per test by default).
_PROFILE_EXAMPLES = settings().max_examples
PROGRAM_EXAMPLES = 25 * _PROFILE_EXAMPLES  # random programs
ARGUMENT_EXAMPLES = 2 * _PROFILE_EXAMPLES  # random bad calls per public callable


# =============================================================================================
# Random programs from the op registry, checked against PyTorch
# =============================================================================================

# every registered op whose spec has a PyTorch counterpart (the others cannot be compared)
PROGRAM_OPS = sorted(n for n in REGISTRY if n in SPECS and SPECS[n].torch is not False)


def _fit(v, shape: tuple):
    """``v``'s values laid out in ``shape`` (same code for both libraries): flatten, tile if
    too short (a repeat, so elements are reused), cut to size and reshape."""
    n = math.prod(shape)
    flat = v.reshape(-1)
    have = flat.shape[0]
    if have < n:
        flat = flat.repeat(-(-n // have))
    return flat[:n].reshape(shape)


def _squash(v, low: float, high: float):
    """Map any value into (low, high), close to the identity in the middle of the interval."""
    mid, half = (low + high) / 2, (high - low) / 2
    return ((v - mid) / half).tanh() * half + mid


class _Program:
    """A program built step by step, run at once in minigrad (``m``) and torch (``t``)."""

    def __init__(self, torch, data):
        self.torch = torch
        self.data = data
        self.rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
        self.pool: list[tuple] = []  # (minigrad tensor, torch tensor, name): values so far
        self.leaves: list[tuple] = []  # (minigrad leaf, torch leaf) that require grad
        self.lines: list[str] = []

    def text(self) -> str:
        return "\n".join(self.lines)

    def leaf(self, array: np.ndarray, grad: bool) -> tuple:
        name = f"v{len(self.pool)}"
        transposed = array.ndim >= 2 and self.data.draw(st.booleans(), label="transposed")
        if transposed:  # a non-contiguous leaf: the transpose of a contiguous array
            m = mg.tensor(np.ascontiguousarray(array.T), dtype=mg.float64).T.detach()
        else:
            m = mg.tensor(array, dtype=mg.float64)
        t = self.torch.tensor(array, dtype=self.torch.float64)
        if grad:
            m.requires_grad_()
            t.requires_grad_()
            self.leaves.append((m, t))
        self.pool.append((m, t, name))
        self.lines.append(
            f"{name} = leaf{tuple(array.shape)}{' (transposed)' if transposed else ''}"
        )
        return m, t, name

    def inputs(self, spec, shapes, params) -> list[tuple]:
        """One (minigrad, torch) pair per input shape: a fresh leaf or a reused value."""
        grad = set(spec.grad if spec.grad is not None else range(len(shapes)))
        chosen, arrays = [], []
        for i, s in enumerate(shapes):
            usable = [p for p in self.pool if p[0].numel() > 0]
            if usable and self.data.draw(st.integers(0, 3), label="reuse") > 0:
                m, t, name = usable[self.data.draw(st.integers(0, len(usable) - 1), label="pick")]
                m, t = (
                    _squash(_fit(m, s), spec.low, spec.high),
                    _squash(_fit(t, s), spec.low, spec.high),
                )
                if i not in grad:
                    m, t = m.detach(), t.detach()
                chosen.append((m, t, f"fit({name}, {s})"))
                arrays.append(m.detach().numpy().copy())
            else:
                chosen.append(None)
                arrays.append(self.rng.uniform(spec.low, spec.high, size=s))
        if spec.prepare is not None:
            prepared = spec.prepare(arrays, params)
        else:
            prepared = arrays
        out = []
        for i, (c, before, after) in enumerate(zip(chosen, arrays, prepared)):
            after = np.asarray(after, dtype=np.float64)
            if c is None:
                m, t, name = self.leaf(after, i in grad)
                out.append((m, t, name))
                continue
            m, t, name = c
            shift = after - before  # moves the reused values off kinks; gradient unchanged
            if np.any(shift):
                m = m + mg.tensor(shift, dtype=mg.float64)
                t = t + self.torch.tensor(shift, dtype=self.torch.float64)
                name += " + shift"
            out.append((m, t, name))
        return out

    def step(self, name: str) -> None:
        spec = SPECS[name]
        shapes, params = spec.draw(self.data)
        ins = self.inputs(spec, shapes, params)
        call_t = spec.torch if callable(spec.torch) else spec.call
        out_m = spec.call(mg, params, *[m for m, _, _ in ins])
        out_t = call_t(self.torch, params, *[t for _, t, _ in ins])
        out_m = out_m if isinstance(out_m, tuple) else (out_m,)
        out_t = out_t if isinstance(out_t, tuple) else (out_t,)
        args = ", ".join(n for _, _, n in ins)
        for om, ot in zip(out_m, out_t):
            if not (isinstance(om, mg.Tensor) and om.dtype.is_floating_point):
                continue
            label = f"v{len(self.pool)}"
            self.lines.append(f"{label} = {name}({args}; {params})")
            assert tuple(om.shape) == tuple(ot.shape), f"{name}: shapes differ\n{self.text()}"
            np.testing.assert_allclose(
                om.detach().numpy(),
                ot.detach().numpy(),
                rtol=1e-7,
                atol=1e-9,
                err_msg=f"values of {label} differ in the program\n{self.text()}",
            )
            self.pool.append((om, ot, label))


@pytest.mark.parametrize("length", [1, 8], ids=["short", "long"])
@settings(max_examples=PROGRAM_EXAMPLES // 2)
@given(data=st.data())
def test_random_programs_match_torch(length, data):
    torch = pytest.importorskip("torch")
    prog = _Program(torch, data)
    n_ops = data.draw(st.integers(1, length), label="ops")
    for _ in range(n_ops):
        prog.step(data.draw(st.sampled_from(PROGRAM_OPS), label="op"))
    computed = [p for p in prog.pool if p[0].grad_fn is not None]
    if not computed or not prog.leaves:
        return
    outs = [computed[-1]]
    extra = data.draw(st.lists(st.sampled_from(computed), max_size=2), label="outputs")
    outs += [p for p in extra if p is not outs[0]]
    grads = [prog.rng.standard_normal(p[0].shape) for p in outs]
    gm = mg.autograd.grad(
        [p[0] for p in outs],
        [m for m, _ in prog.leaves],
        [mg.tensor(g, dtype=mg.float64) for g in grads],
        allow_unused=True,
    )
    gt = torch.autograd.grad(
        [p[1] for p in outs],
        [t for _, t in prog.leaves],
        [torch.tensor(g, dtype=torch.float64) for g in grads],
        allow_unused=True,
    )
    outputs = ", ".join(p[2] for p in outs)
    for i, (a, b) in enumerate(zip(gm, gt)):
        a = np.zeros(prog.leaves[i][0].shape) if a is None else a.numpy()
        b = np.zeros(prog.leaves[i][0].shape) if b is None else b.numpy()
        np.testing.assert_allclose(
            a,
            b,
            rtol=1e-6,
            atol=1e-9,
            err_msg=f"gradient of leaf {i} differs; outputs {outputs}\n{prog.text()}",
        )


def test_program_ops_cover_the_registry():
    missing = sorted(set(REGISTRY) - set(PROGRAM_OPS))
    no_torch = {n for n in REGISTRY if n in SPECS and SPECS[n].torch is False}
    assert set(missing) == no_torch, f"ops the program fuzzer never draws: {missing}"
    assert len(PROGRAM_OPS) >= 40


# =============================================================================================
# Invalid arguments to every public callable
# =============================================================================================

_MINIGRAD_DIR = os.path.dirname(os.path.abspath(mg.__file__)) + os.sep
_THIS_FILE = os.path.abspath(__file__)
ALLOWED = (ValueError, TypeError, RuntimeError, IndexError, NotImplementedError)
# PyTorch's own type for a missing key: ModuleDict lookups, a scheduler resumed without the
# optimizer's initial_lr; fine when minigrad raises it on purpose
ALLOWED_KEYERROR = (KeyError,)
# file errors of save/load are Python's own (FileNotFoundError ...), as in PyTorch
ALLOWED_BY_TARGET = {
    "minigrad.save": (OSError,),
    "minigrad.load": (OSError,),
    # the mapping protocol: a missing key is a KeyError, as for a dict
    "nn.ModuleDict.__getitem__": (KeyError,),
    "nn.ModuleDict.__delitem__": (KeyError,),
    "nn.ModuleDict.pop": (KeyError,),
    # PyTorch's type for a missing submodule
    "nn.Module.get_submodule": (AttributeError,),
    # Python's (and PyTorch's) type for int(inf)
    "Tensor.__int__": (OverflowError,),
    # the DLPack standard's type for an export that cannot be done (a device asked for ...)
    "Tensor.__dlpack__": (BufferError,),
}
HANG_SECONDS = 5


def _lines_of(*functions) -> set:
    out = set()
    for f in functions:
        lines, start = inspect.getsourcelines(f)
        out |= {(os.path.abspath(inspect.getsourcefile(f)), start + i) for i in range(len(lines))}
    return out


# NumPy's floating-point warnings for infinite inputs (inf - inf, inf * 0) from the forward
# of add, sub, mul, matmul, sum, sum_to, mean and mse_loss (and its gradient) are accepted:
# these run on every step, and
# silencing them (np.errstate) costs about 1 us per call, as much as the rest of a small op
# (5% of a tiny MLP's training step). The same holds for the in-place add_ and mul_ (x += y
# included), which the optimizers run several times per parameter and step. PyTorch is
# silent; a cheaper silencer in backend.ignore_float_warnings would let these ops use it. Ops
# whose finite inputs give inf or nan (log(0), x / 0, sqrt(-1), exp(100), (-8) ** (1 / 3)) are
# silenced.
HOT_PATH_FLOAT_WARNINGS = _lines_of(
    E.Add.forward,
    E.Sub.forward,
    E.Mul.forward,
    linalg.MatMul.forward,
    R.Sum.forward,
    R.SumTo.forward,
    R.Mean.forward,
    L.MseLoss.forward,
    L.MseLossGrad.forward,
    inplace.add_,
    inplace.mul_,
)


# ---------------------------------------------------------------- valid baseline arguments


def _x():
    return mg.rand(2, 3) + 0.5  # positive: valid for log, sqrt, pow ... as well


def _img():
    return mg.randn(1, 2, 5, 5)  # (N, C, H, W)


def _seq():
    return mg.randn(1, 2, 6)  # (N, C, L)


def _labels():
    return mg.tensor([0, 2])


def _mask():
    return mg.tensor([[True, False, True], [False, True, False]])


def _param():
    p = nn.Parameter(mg.randn(3))
    p.grad = mg.randn(3)
    return p


def _sgd():
    return optim.SGD([_param()], lr=0.1, momentum=0.9)


def _value(v):
    return lambda: v


# A valid value for a parameter, by its name. Targets whose parameters need something else list
# it in BASELINE_OVERRIDES.
BY_NAME: dict[str, Callable] = {
    "x": _x,
    "a": _x,
    "b": _x,
    "input": _x,
    "other": _x,
    "self": _x,
    "src": _x,
    "dim": _value(0),
    "dim0": _value(0),
    "dim1": _value(1),
    "dims": _value((0,)),
    "condition": _mask,
    "mask": _mask,
    "value": _value(0.5),
    "fill_value": _value(1.5),
    "exponent": _value(2.0),
    "chunks": _value(2),
    "split_size_or_sections": _value(1),
    "index": lambda: mg.tensor([[0, 1, 0], [1, 0, 2]]),
    "tensors": lambda: [_x(), _x()],
    "data": _value([[1.0, 2.0], [3.0, 4.0]]),
    "obj": _x,
    "array": lambda: np.ones((2, 3)),
    "start": _value(0),
    "end": _value(5),
    "steps": _value(4),
    "n": _value(3),
    "low": _value(0),
    "seed": _value(0),
    "spec": _value("cpu"),
    "d": _value(mg.float64),
    "mode": _value(True),
    "type": _value("cpu"),
    "name": _value("float32"),
    "memo": dict,
    "sizes": _value((1, 2)),
    "shape": _value((4, 2, 3)),
    "requires_grad": _value(True),
    "params": lambda: [_param()],
    "optimizer": _sgd,
    "in_channels": _value(2),
    "out_channels": _value(3),
    "kernel_size": _value(3),
    "in_features": _value(3),
    "out_features": _value(4),
    "num_features": _value(3),
    "output_size": _value(2),
    "f": _value("fuzz.mg"),
    "step_size": _value(1),
    "gamma": _value(0.5),
    "milestones": _value([1, 2]),
    "T_max": _value(3),
    "defaults": lambda: {"lr": 0.1},
    "param_group": lambda: {"params": [_param()]},
    "state_dict": lambda: _sgd().state_dict(),
    "key": _value(0),
    "idx": _value(0),
    "module": lambda: nn.ReLU(),
    "fn": _value(lambda m: None),
    "hook": _value(lambda *a: None),
    "target": _value(""),
}
VAR_BY_NAME = {"size": (2, 3), "shape": (3, 2), "sizes": (2, 3), "dims": (1, 0), "args": ()}


@dataclass
class Target:
    """A public callable: how to reach it and a valid call of it."""

    name: str
    func: Callable  # func(*args, **kwargs); for methods, args[0] is the receiver
    params: list  # inspect.Parameter, in order (the receiver included)
    base: dict = field(default_factory=dict)  # parameter name -> factory of a valid value
    receiver: bool = False  # params[0] is ``self``: only tensors (or modules...) replace it

    def baseline(self) -> dict:
        out = {}
        for p in self.params:
            if p.name in self.base:
                out[p.name] = self.base[p.name]
            elif p.kind is p.VAR_POSITIONAL:
                out[p.name] = _value(VAR_BY_NAME.get(p.name, ()))
            elif p.kind is p.VAR_KEYWORD:
                continue
            elif p.default is inspect.Parameter.empty:
                out[p.name] = BY_NAME.get(p.name, _missing(self.name, p.name))
        return out

    def call(self, values: dict):
        """Call with ``values`` (parameter name -> value): positional up to a ``*args``, then
        keywords; parameters not in ``values`` keep their defaults."""
        args, kwargs = [], {}
        positional = True
        for p in self.params:
            if p.kind is p.VAR_POSITIONAL:
                positional = False
                args.extend(values.get(p.name, ()))
            elif p.kind is p.VAR_KEYWORD:
                kwargs.update(values.get(p.name, {}))
            elif p.name not in values:
                positional = False  # a default is kept: the parameters after it go by keyword
            elif positional and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                args.append(values[p.name])
            else:
                kwargs[p.name] = values[p.name]
        return self.func(*args, **kwargs)


def _missing(target, name):
    def fail():
        raise LookupError(
            f"no baseline value for parameter {name!r} of {target}: add one to BY_NAME or "
            "BASELINE_OVERRIDES"
        )

    return fail


def _saved_tensor():
    buffer = io.BytesIO()
    mg.save({"w": _x()}, buffer)
    buffer.seek(0)
    return buffer


def _module_instance(cls):
    """A valid instance of an ``nn`` class, and the input its forward takes."""
    return MODULES[cls.__name__]


# nn classes: (constructor arguments, forward arguments); the default is no constructor
# arguments and forward(x) with x of shape (2, 3).
MODULES: dict[str, tuple[dict, dict]] = {
    "AdaptiveAvgPool2d": ({"output_size": _value(2)}, {"input": _img}),
    "AvgPool2d": ({"kernel_size": _value(2)}, {"input": _img}),
    "BCEWithLogitsLoss": ({}, {"input": _x, "target": lambda: mg.rand(2, 3)}),
    "BatchNorm1d": ({"num_features": _value(3)}, {"input": lambda: mg.randn(4, 3)}),
    "BatchNorm2d": ({"num_features": _value(2)}, {"input": _img}),
    "Conv1d": ({}, {"input": _seq}),
    "Conv2d": ({}, {"input": _img}),
    "ConvTranspose2d": ({}, {"input": _img}),
    "CrossEntropyLoss": ({}, {"input": _x, "target": _labels}),
    "NLLLoss": ({}, {"input": lambda: _x().log_softmax(1), "target": _labels}),
    "MSELoss": ({}, {"input": _x, "target": _x}),
    "Flatten": ({}, {"input": _img}),
    "Unflatten": ({"dim": _value(1), "unflattened_size": _value((3, 1))}, {"input": _x}),
    "Upsample": ({"scale_factor": _value(2)}, {"input": _seq}),
    "MaxPool1d": ({"kernel_size": _value(2)}, {"input": _seq}),
    "MaxPool2d": ({"kernel_size": _value(2)}, {"input": _img}),
    "Softmax": ({"dim": _value(1)}, {"input": _x}),
    "LogSoftmax": ({"dim": _value(1)}, {"input": _x}),
    "Linear": ({}, {"input": _x}),
    "Sequential": ({"args": _value((nn.Linear(3, 4), nn.ReLU()))}, {"input": _x}),
    "ModuleList": ({"modules": lambda: [nn.Linear(3, 4)]}, {}),
    "ModuleDict": ({"modules": lambda: {"a": nn.Linear(3, 4)}}, {}),
    "Parameter": ({"data": _x}, {}),
}


# Targets whose parameters need other values than BY_NAME gives: name -> parameter -> factory.
BASELINE_OVERRIDES: dict[str, dict[str, Callable]] = {
    "minigrad.as_tensor": {"data": _x},
    "minigrad.clamp": {"min": _value(0.6)},
    "minigrad.matmul": {"b": lambda: mg.randn(3, 2)},
    "Tensor.clamp": {"min": _value(0.6)},
    "Tensor.clamp_": {"min": _value(0.6)},
    "Tensor.clip": {"min": _value(0.6)},
    "minigrad.from_dlpack": {"obj": lambda: np.ones((2, 3))},
    "minigrad.from_numpy": {"array": lambda: np.ones((2, 3))},
    "minigrad.full": {"size": _value((2, 3))},
    "minigrad.gather": {"dim": _value(1)},
    "minigrad.load": {"f": _saved_tensor},
    "minigrad.save": {"f": io.BytesIO},
    "minigrad.randint": {"low": _value(5), "size": _value((3,))},
    "F.softmax": {"dim": _value(1)},
    "F.log_softmax": {"dim": _value(1)},
    "minigrad.set_default_dtype": {"d": _value(mg.float32)},
    "minigrad.where": {"input": _x},
    "minigrad.Tensor": {"data": _value([1.0, 2.0])},
    "minigrad.transpose": {"dim1": _value(1)},
    "Tensor.backward": {"self": lambda: (mg.randn(3, requires_grad=True) * 2).sum()},
    "Tensor.retain_grad": {"self": lambda: mg.randn(3, requires_grad=True) * 2},
    "Tensor.item": {"self": lambda: mg.tensor([1.5])},
    "Tensor.__bool__": {"self": lambda: mg.tensor([1.5])},
    "Tensor.__float__": {"self": lambda: mg.tensor([1.5])},
    "Tensor.__int__": {"self": lambda: mg.tensor([1.5])},
    "Tensor.__index__": {"self": lambda: mg.tensor(2)},
    "Tensor.__getitem__": {"key": _value((0, slice(1, 3)))},
    "Tensor.__setitem__": {"key": _value((0, slice(1, 3))), "value": _value(0.5)},
    "Tensor.__and__": {"self": _mask, "other": _mask},
    "Tensor.__or__": {"self": _mask, "other": _mask},
    "Tensor.__xor__": {"self": _mask, "other": _mask},
    "Tensor.__invert__": {"self": _mask},
    "Tensor.__matmul__": {"other": lambda: mg.randn(3, 2)},
    "Tensor.__rmatmul__": {"other": lambda: mg.randn(3, 2), "self": lambda: mg.randn(2, 3)},
    "Tensor.__getstate__": {},
    "Tensor.gather": {"dim": _value(1)},
    "Tensor.to": {"args": _value((mg.float64,))},
    "Tensor.copy_": {"src": _x},
    "Tensor.where": {"condition": _mask, "other": _x},
    "Tensor.masked_fill": {"mask": _mask, "value": _value(0.5)},
    "Tensor.broadcast_to": {"shape": _value((4, 2, 3))},
    "Tensor.split": {"split_size_or_sections": _value(1)},
    "Tensor.unflatten": {"dim": _value(1), "sizes": _value((3, 1))},
    "Tensor.type_as": {"other": lambda: mg.ones(1, dtype=mg.float64)},
    "Tensor.new_tensor": {"data": _value([1.0, 2.0])},
    "F.adaptive_avg_pool2d": {"input": _img, "output_size": _value(2)},
    "F.avg_pool2d": {"input": _img, "kernel_size": _value(2)},
    "F.max_pool1d": {"input": _seq, "kernel_size": _value(2)},
    "F.max_pool2d": {"input": _img, "kernel_size": _value(2)},
    "F.batch_norm": {
        "input": lambda: mg.randn(4, 3),
        "running_mean": lambda: mg.zeros(3),
        "running_var": lambda: mg.ones(3),
    },
    "F.binary_cross_entropy": {"input": lambda: mg.rand(2, 3), "target": lambda: mg.rand(2, 3)},
    "F.binary_cross_entropy_with_logits": {"target": lambda: mg.rand(2, 3)},
    "F.conv1d": {"input": _seq, "weight": lambda: mg.randn(3, 2, 3)},
    "F.conv2d": {"input": _img, "weight": lambda: mg.randn(3, 2, 3, 3)},
    "F.conv_transpose2d": {"input": _img, "weight": lambda: mg.randn(2, 3, 3, 3)},
    "F.cross_entropy": {"target": _labels},
    "F.nll_loss": {"input": lambda: _x().log_softmax(1), "target": _labels},
    "F.mse_loss": {"target": _x},
    "F.l1_loss": {"target": _x},
    "F.layer_norm": {"normalized_shape": _value((3,))},
    "F.linear": {"weight": lambda: mg.randn(4, 3)},
    "F.one_hot": {"tensor": _labels},
    "F.pad": {"pad": _value((1, 1))},
    "F.interpolate": {"input": _seq, "size": _value(4)},
    "F.upsample": {"input": _seq, "size": _value(4)},
    "F.dropout1d": {"input": _seq},
    "F.dropout2d": {"input": _img},
    "nn.Module.add_module": {"name": _value("extra"), "module": lambda: nn.ReLU()},
    "nn.Module.register_module": {"name": _value("extra"), "module": lambda: nn.ReLU()},
    "nn.Module.register_buffer": {"name": _value("extra"), "tensor": _x},
    "nn.Module.register_parameter": {"name": _value("extra"), "param": _param},
    "nn.Module.load_state_dict": {"state_dict": lambda: _container().state_dict()},
    "nn.Module.to": {"args": _value((mg.float64,))},
    "nn.Module.get_submodule": {"target": _value("0")},
    "nn.Sequential.append": {"module": lambda: nn.ReLU()},
    "nn.Sequential.insert": {"index": _value(0), "module": lambda: nn.ReLU()},
    "nn.Sequential.extend": {"modules": lambda: [nn.ReLU()]},
    "nn.Sequential.__getitem__": {"idx": _value(0)},
    "nn.ModuleList.append": {"module": lambda: nn.ReLU()},
    "nn.ModuleList.insert": {"index": _value(0), "module": lambda: nn.ReLU()},
    "nn.ModuleList.extend": {"modules": lambda: [nn.ReLU()]},
    "nn.ModuleList.__getitem__": {"idx": _value(0)},
    "nn.ModuleList.__iadd__": {"modules": lambda: [nn.ReLU()]},
    "nn.ModuleDict.__getitem__": {"key": _value("a")},
    "nn.ModuleDict.__setitem__": {"key": _value("b"), "module": lambda: nn.ReLU()},
    "nn.ModuleDict.__delitem__": {"key": _value("a")},
    "nn.ModuleDict.__contains__": {"key": _value("a")},
    "nn.ModuleDict.pop": {"key": _value("a")},
    "nn.ModuleDict.update": {"modules": lambda: {"b": nn.ReLU()}},
    "optim.Optimizer.load_state_dict": {"state_dict": lambda: _sgd().state_dict()},
    "lr_scheduler.LRScheduler.load_state_dict": {
        "state_dict": lambda: lr_scheduler.StepLR(_sgd(), 1).state_dict()
    },
}


def _container():
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU())


# Receivers of the methods of non-Tensor classes.
RECEIVERS: dict[str, Callable] = {
    "nn.Module": _container,
    "optim.Optimizer": _sgd,
    "lr_scheduler.LRScheduler": lambda: lr_scheduler.StepLR(_sgd(), 1),
}

# Public callables that are not fuzzed, each with the reason.
EXCLUDED: dict[str, str] = {
    "nn.Module.forward": "the base class has no computation (subclasses are fuzzed)",
    "optim.Optimizer": "the abstract base (its subclasses and methods are fuzzed)",
    "lr_scheduler.LRScheduler": "the abstract base (its subclasses and methods are fuzzed)",
    "lr_scheduler.LRScheduler.get_lr": "abstract; each scheduler's own get_lr is fuzzed",
    "minigrad.Device": "a plain record (type, index) with no checks; device() parses devices",
    "Tensor.__deepcopy__": "copy.deepcopy's protocol: memo is the copy module's own dict",
    "Tensor.__getstate__": "pickling is refused by design (TypeError naming minigrad.save)",
}

# Targets whose baseline moves to the CUDA device (without one they raise a RuntimeError)
NEEDS_CUDA = {"Tensor.cuda", "nn.Module.cuda"}

# Tensor dunders that are part of the public surface (operators and Python protocols).
_TENSOR_DUNDERS = {
    n
    for n in vars(mg.Tensor)
    if n.startswith("__")
    and n.endswith("__")
    and callable(vars(mg.Tensor)[n])
    and n not in {"__init__", "__hash__", "__repr__", "__array__", "__dlpack__"}
}
_TENSOR_DUNDERS |= {"__repr__", "__array__", "__dlpack__"}


def _signature_params(func, drop_first=False) -> list:
    params = list(inspect.signature(func).parameters.values())
    return params[1:] if drop_first else params


def _method_target(name, func, receiver_factory) -> Target:
    params = _signature_params(func)
    base = {params[0].name: receiver_factory} if params else {}
    base.update(BASELINE_OVERRIDES.get(name, {}))
    return Target(name, func, params, base, receiver=True)


def _call_module(self, *args, **kwargs):
    return self(*args, **kwargs)


def _targets() -> dict[str, Target]:
    found: dict[str, Target] = {}
    seen: set[int] = set()

    def add(name, func, params, base=None, receiver=False):
        if name in EXCLUDED:
            return
        b = dict(base or {})
        b.update(BASELINE_OVERRIDES.get(name, {}))
        found[name] = Target(name, func, params, b, receiver)

    # the functions and classes exported by minigrad
    for n in sorted(dir(mg)):
        obj = getattr(mg, n)
        if n.startswith("_") or not callable(obj) or isinstance(obj, mg.dtype):
            continue
        if id(obj) in seen:  # an alias (clip, concat, ...)
            continue
        seen.add(id(obj))
        add(f"minigrad.{n}", obj, _signature_params(obj))
    # Tensor methods, operators and properties
    for n, obj in sorted(vars(mg.Tensor).items()):
        if isinstance(obj, property):
            if not n.startswith("_"):
                add(f"Tensor.{n}", obj.fget, _signature_params(obj.fget), receiver=True)
            continue
        if not callable(obj) or isinstance(obj, staticmethod):
            continue
        if n.startswith("_") and n not in _TENSOR_DUNDERS:
            continue
        add(f"Tensor.{n}", obj, _signature_params(obj), receiver=True)
    # nn.functional
    for n in F.__all__:
        obj = getattr(F, n)
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        add(f"F.{n}", obj, _signature_params(obj))
    # nn classes: constructor, forward and the methods each defines
    for n in nn.__all__:
        cls = getattr(nn, n)
        if not isinstance(cls, type):
            continue
        init, forward = MODULES.get(n, ({}, {"input": _x}))
        add(f"nn.{n}", cls, _signature_params(cls), init)
        if not issubclass(cls, nn.Module):
            continue

        def make(cls=cls, init=init):
            t = Target(cls.__name__, cls, _signature_params(cls), init)
            return t.call({k: f() for k, f in t.baseline().items()})

        if cls is nn.Module:
            methods = dict(vars(nn.Module))
        else:  # what the class and its private bases (up to Module) define
            methods = {}
            for klass in reversed(cls.__mro__[: cls.__mro__.index(nn.Module)]):
                methods.update(vars(klass))
        for m, obj in methods.items():
            public = not m.startswith("_") or m in {
                "__getitem__", "__setitem__", "__delitem__", "__len__", "__iter__",
                "__contains__", "__iadd__",
            }  # fmt: skip
            if not public or not callable(obj) or isinstance(obj, (staticmethod, classmethod)):
                continue
            receiver = RECEIVERS["nn.Module"] if cls is nn.Module else make
            if m == "forward":
                params = _signature_params(obj)
                add(
                    f"nn.{n}.forward",
                    _call_module,
                    params,
                    {params[0].name: receiver, **forward},
                    True,
                )
            else:
                params = _signature_params(obj)
                add(f"nn.{n}.{m}", obj, params, {params[0].name: receiver}, True)
    # optimizers and learning-rate schedulers
    for prefix, module, base_cls in (
        ("optim", optim, optim.Optimizer),
        ("lr_scheduler", lr_scheduler, lr_scheduler.LRScheduler),
    ):
        for n in sorted(dir(module)):
            cls = getattr(module, n)
            if not (isinstance(cls, type) and issubclass(cls, base_cls)):
                continue
            if cls.__module__ != module.__name__ and not cls.__module__.startswith(
                module.__name__ + "."
            ):
                continue
            add(f"{prefix}.{n}", cls, _signature_params(cls))
            for m, obj in vars(cls).items():
                if m.startswith("_") or not callable(obj):
                    continue
                if cls is base_cls:
                    receiver = RECEIVERS[f"{prefix}.{base_cls.__name__}"]
                else:

                    def receiver(cls=cls, name=f"{prefix}.{n}"):
                        t = found[name]
                        return t.call({k: f() for k, f in t.baseline().items()})

                params = _signature_params(obj)
                add(f"{prefix}.{n}.{m}", obj, params, {params[0].name: receiver}, True)
    return found


TARGETS = _targets()


# ---------------------------------------------------------------- bad values


def _bad(label, make):
    return label, (make if callable(make) and not isinstance(make, type) else _value(make))


# fresh on every call (the op under test may change a tensor in place)
BAD_TENSORS = [
    _bad("tensor(1.5)", lambda: mg.tensor(1.5)),
    _bad("zeros(0)", lambda: mg.zeros(0)),
    _bad("zeros(2, 0)", lambda: mg.zeros(2, 0)),
    _bad("tensor([1, 2, 3])", lambda: mg.tensor([1, 2, 3])),
    _bad("tensor([True, False])", lambda: mg.tensor([True, False])),
    _bad("tensor([nan, inf, -inf])", lambda: mg.tensor([math.nan, math.inf, -math.inf])),
    _bad("ones(5, 7)", lambda: mg.ones(5, 7)),
    _bad("ones(1, 1, 1, 1)", lambda: mg.ones(1, 1, 1, 1)),
    _bad("float64 ones(2, 3)", lambda: mg.ones(2, 3, dtype=mg.float64)),
    _bad("uint8 ones(2, 3)", lambda: mg.ones(2, 3, dtype=mg.uint8)),
    _bad("float16 randn(2, 3)", lambda: mg.randn(2, 3, dtype=mg.float16)),
    _bad("randn(2, 3, requires_grad=True)", lambda: mg.randn(2, 3, requires_grad=True)),
]
BAD_VALUES = [
    _bad("None", None),
    _bad("'a'", "a"),
    _bad("''", ""),
    _bad("-1", -1),
    _bad("0", 0),
    _bad("10**12", 10**12),
    _bad("1.5", 1.5),
    _bad("nan", math.nan),
    _bad("inf", math.inf),
    _bad("-inf", -math.inf),
    _bad("True", True),
    _bad("()", lambda: ()),
    _bad("[]", lambda: []),
    _bad("(2, -1)", (2, -1)),
    _bad("[[1, 2], [3]]", lambda: [[1, 2], [3]]),
    _bad("object()", lambda: object()),
    _bad("1j", 1j),
    _bad("minigrad.int64", mg.int64),
    _bad("np.ones(2)", lambda: np.ones(2)),
    _bad("[ones(2), None]", lambda: [mg.ones(2), None]),
    *BAD_TENSORS,
]


@st.composite
def any_tensor(draw):
    """A small tensor of any dtype and shape (empty and 0-d included), with NaN/Inf in it."""
    shape = tuple(draw(st.lists(st.integers(0, 3), max_size=4), label="shape"))
    dt = draw(st.sampled_from(["float32", "float64", "float16", "int64", "int32", "uint8", "bool"]))
    n = math.prod(shape)
    if dt.startswith("float"):
        pool = [0.0, -0.0, 1.0, -1.5, 3.0, math.nan, math.inf, -math.inf, 1e30]
    elif dt == "bool":
        pool = [True, False]
    else:
        pool = [0, 1, 2, 3] if dt == "uint8" else [-2, -1, 0, 1, 2, 3]
    values = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n), label="values")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 1e30 overflows float16: that is the point
        t = mg.tensor(np.array(values, dtype=dt).reshape(shape))
    if t.dtype.is_floating_point and draw(st.booleans(), label="requires_grad"):
        t.requires_grad_()
    return t


ANY_SCALAR = st.one_of(
    st.none(),
    st.integers(-3, 4),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.5, -2.5, 10**12, -(10**12)]),
    st.booleans(),
    st.text(max_size=2),
    st.lists(st.integers(-2, 3), max_size=3).map(tuple),
    st.lists(st.integers(-2, 3), max_size=3),
    st.sampled_from([mg.float64, mg.int64, mg.bool, "cpu", "cuda:1"]),
)


def any_value(receiver: bool):
    """Anything a caller may pass: a fixed bad value, a random tensor, a random scalar."""
    fixed = st.sampled_from(BAD_TENSORS if receiver else BAD_VALUES).map(lambda lv: lv[1]())
    if receiver:
        return st.one_of(fixed, any_tensor())
    return st.one_of(fixed, any_tensor(), ANY_SCALAR)


# ---------------------------------------------------------------- judging a call


@dataclass
class Defect:
    target: str
    args: str  # what the call was given (labels of the bad values)
    kind: str  # exception class name, "RuntimeWarning", "hang"
    where: str  # the minigrad file (relative to the package) where it arose, or the library
    detail: str

    @property
    def key(self) -> tuple[str, str]:
        return self.target, f"{self.kind}@{self.where}"

    def __str__(self) -> str:
        return f"{self.target}({self.args}): {self.kind} at {self.where}: {self.detail}"


class _Hang(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Hang("no answer in time")


def _relative(filename: str) -> str:
    if filename.startswith(_MINIGRAD_DIR):
        return filename[len(_MINIGRAD_DIR) :]
    for lib in ("numpy", "torch"):
        if f"{os.sep}{lib}{os.sep}" in filename:
            return lib
    return os.path.basename(filename)


def _where(exc: BaseException) -> str:
    """The minigrad file (relative to the package) deepest in the traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f.filename.startswith(_MINIGRAD_DIR)]
    return _relative(ours[-1].filename if ours else frames[-1].filename)


def _judge_exception(exc: BaseException, target: str) -> tuple[str, str] | None:
    """None if ``exc`` is an error minigrad raised on purpose, else (where, what is wrong)."""
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1]
    where = _where(exc)
    kind = type(exc)
    if isinstance(exc, ALLOWED_BY_TARGET.get(target, ())):
        return None
    if not isinstance(exc, ALLOWED + ALLOWED_KEYERROR):
        return where, f"{kind.__name__} is not an error minigrad raises: {exc}"
    if kind.__module__.split(".")[0] == "numpy":
        return where, f"NumPy's {kind.__name__}: {exc}"
    if not str(exc).strip():
        return where, "an error without a message"
    if last.filename == _THIS_FILE:  # raised by the call itself: wrong number of arguments ...
        return None if kind is TypeError else (where, f"{exc}")
    if not last.filename.startswith(_MINIGRAD_DIR):
        return where, f"raised inside {_relative(last.filename)}: {exc}"
    line = linecache.getline(last.filename, last.lineno).strip()
    if not line.startswith("raise"):
        return where, f"Python's {kind.__name__} from `{line}` (line {last.lineno}): {exc}"
    return None


def _reset_global_state() -> None:
    mg.set_grad_enabled(True)
    mg.set_default_dtype(mg.float32)
    mg.set_default_device("cpu")


# memory a call may take beyond what the process holds (a bad size must not exhaust the machine)
CALL_MEMORY = 4 * 2**30


def _address_space() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


def _run(target: Target, values: dict, args: str, seconds: float = HANG_SECONDS) -> Defect | None:
    """Call ``target`` with ``values``; return the defect it shows, if any."""
    old = signal.signal(signal.SIGALRM, _on_alarm)
    limits = resource.getrlimit(resource.RLIMIT_AS)
    cap = _address_space() + CALL_MEMORY
    if limits[1] == resource.RLIM_INFINITY or cap < limits[1]:
        resource.setrlimit(resource.RLIMIT_AS, (cap, limits[1]))
    signal.setitimer(signal.ITIMER_REAL, seconds)
    defect = None
    try:
        caught = []

        def record(message, category, filename, lineno, file=None, line=None):
            ours = [f for f in traceback.extract_stack() if f.filename.startswith(_MINIGRAD_DIR)]
            site = (os.path.abspath(ours[-1].filename), ours[-1].lineno) if ours else None
            caught.append((message, category, filename, lineno, site))

        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = record  # sees the stack: which minigrad line warned
            try:
                result = target.call(values)
                if inspect.isgenerator(result) or type(result).__name__.endswith("iterator"):
                    list(result)
            except _Hang as e:
                defect = Defect(target.name, args, "hang", _where(e), str(e))
            except BaseException as e:  # noqa: B036 - judging every failure is the point
                if isinstance(e, KeyboardInterrupt):
                    raise
                judged = _judge_exception(e, target.name)
                if judged is not None:
                    where, detail = judged
                    detail = detail.strip().splitlines()[0][:300] if detail.strip() else detail
                    defect = Defect(target.name, args, type(e).__name__, where, detail)
        if defect is None:
            for message, category, filename, lineno, site in caught:
                if site in HOT_PATH_FLOAT_WARNINGS:
                    continue
                if issubclass(category, RuntimeWarning) or _relative(filename) == "numpy":
                    where = _relative(site[0]) if site else _relative(filename)
                    line = site[1] if site else lineno
                    detail = f"{message} (line {line})"
                    defect = Defect(target.name, args, category.__name__, where, detail)
                    break
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        resource.setrlimit(resource.RLIMIT_AS, limits)
        _reset_global_state()
    return defect


# ---------------------------------------------------------------- known defects elsewhere

# Defects the fuzzer finds in files outside the ops, creation and optimizers, keyed by (target,
# "kind@file"), each with the bad argument that shows it (a label of BAD_VALUES, on top of the
# target's baseline call). Remove an entry once it is fixed: test_known_failures_still_fail
# says when.
KNOWN_FAILURES: dict[tuple[str, str], str] = {}

# Known hangs are not run here (one may also fill the memory before the timer can stop it):
# (target, parameter) -> the test of a value that hangs, and a reproduction, which
# test_known_failures_still_fail runs in a subprocess with limited time and memory.
_HUGE = 10**6


def _has_huge(v) -> bool:
    items = v if isinstance(v, (tuple, list)) else (v,)
    return any(isinstance(i, int) and not isinstance(i, bool) and abs(i) >= _HUGE for i in items)


KNOWN_HANGS: dict[tuple[str, str], tuple[Callable, str]] = {}


def _hangs(target: Target, values: dict) -> bool:
    for (name, param), (test, _) in KNOWN_HANGS.items():
        if name == target.name and param in values and test(values[param]):
            return True
    return False


# ---------------------------------------------------------------- the tests


def _mutable(target: Target) -> list:
    out = []
    for i, p in enumerate(target.params):
        if p.kind is p.VAR_KEYWORD or p.name.startswith("_"):  # private: PyTorch's too
            continue
        if i == 0 and target.receiver and not target.name.startswith("Tensor."):
            continue  # a module, optimizer or scheduler: its methods get the bad values
        out.append(p)
    return out


def _bad_for(target: Target, p) -> list:
    tensor_only = target.receiver and target.name.startswith("Tensor.") and p is target.params[0]
    return BAD_TENSORS if tensor_only else BAD_VALUES


def _fresh(base: dict) -> dict:
    return {k: f() for k, f in base.items()}


@pytest.fixture(autouse=True)
def _in_tmp_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # save/load may be handed a file name


def _unknown(defects: list[Defect]) -> list[Defect]:
    return [d for d in defects if d.key not in KNOWN_FAILURES]


def _report(defects: list[Defect]) -> str:
    by_key: dict = {}
    for d in defects:
        by_key.setdefault(d.key, d)
    lines = [str(d) for d in by_key.values()]
    return f"{len(by_key)} defects (one example each):\n" + "\n".join(lines[:60])


def test_every_public_callable_has_a_valid_baseline_call():
    """Each target runs cleanly with its baseline arguments, so the bad values below reach
    past the first check. A new public callable whose parameters are unknown fails here: give
    it a baseline in BY_NAME or BASELINE_OVERRIDES, or an entry with a reason in EXCLUDED."""
    assert len(TARGETS) > 300
    failures = []
    for target in TARGETS.values():
        if target.name in NEEDS_CUDA and not mg.cuda.is_available():
            continue
        try:
            values = _fresh(target.baseline())
        except LookupError as e:
            failures.append(str(e))
            continue
        try:
            target.call(values)
        except Exception as e:
            failures.append(f"{target.name}: {type(e).__name__}: {e}")
        finally:
            _reset_global_state()
    assert not failures, "\n".join(failures)


def test_exclusions_name_real_callables():
    every = set(_targets_without_exclusions())
    stale = sorted(set(EXCLUDED) - every)
    assert not stale, f"EXCLUDED names callables that do not exist: {stale}"
    assert all(reason.strip() for reason in EXCLUDED.values())


def _targets_without_exclusions():
    saved = dict(EXCLUDED)
    EXCLUDED.clear()
    try:
        return _targets()
    finally:
        EXCLUDED.update(saved)


def test_each_bad_argument_alone():
    """Every parameter of every target gets every value of BAD_VALUES, one at a time."""
    defects = []
    for target in TARGETS.values():
        base = target.baseline()
        for p in _mutable(target):
            for label, make in _bad_for(target, p):
                variants = [((make(),), f"*{p.name}=({label},)")]
                if p.kind is p.VAR_POSITIONAL:
                    variants.append(((*base[p.name](), make()), f"*{p.name}=(..., {label})"))
                else:
                    variants = [(make(), f"{p.name}={label}")]
                for value, text in variants:
                    values = _fresh(base)
                    values[p.name] = value
                    if _hangs(target, values):
                        continue
                    d = _run(target, values, text)
                    if d is not None:
                        defects.append(d)
    unknown = _unknown(defects)
    assert not unknown, _report(unknown)


@pytest.mark.parametrize("name", sorted(TARGETS))
@settings(max_examples=ARGUMENT_EXAMPLES)
@given(data=st.data())
def test_random_bad_arguments(name, data):
    """Several parameters at once get random bad values (tensors of any dtype and shape, with
    NaN/Inf, empty or 0-d; numbers; strings; tuples; dtypes and devices)."""
    target = TARGETS[name]
    mutable = _mutable(target)
    if not mutable:
        return
    chosen = data.draw(
        st.lists(st.sampled_from(mutable), min_size=1, max_size=3, unique_by=lambda p: p.name),
        label="parameters",
    )
    values = _fresh(target.baseline())
    texts = []
    for p in chosen:
        receiver = _bad_for(target, p) is BAD_TENSORS
        if p.kind is p.VAR_POSITIONAL:
            value = tuple(data.draw(st.lists(any_value(False), max_size=3), label=p.name))
        else:
            value = data.draw(any_value(receiver), label=p.name)
        values[p.name] = value
        texts.append(f"{p.name}=<drawn>")
    if _hangs(target, values):
        return
    d = _run(target, values, ", ".join(texts))
    if d is not None and d.key not in KNOWN_FAILURES:
        raise AssertionError(str(d))


def _reproduce(target: Target, repro: str) -> tuple[dict, str]:
    """The values of a KNOWN_FAILURES reproduction: ``param=label`` or ``*param=(label,)``
    (a label of BAD_VALUES), several joined by "; "."""
    labels = dict(BAD_VALUES)
    values = _fresh(target.baseline())
    for item in repro.split("; "):
        name, _, label = item.partition("=")
        star = name.startswith("*")
        name = name.lstrip("*")
        if star:
            label = label[1:-2] if label.endswith(",)") else label
        if label not in labels:
            raise LookupError(f"{repro!r}: {label!r} is not a label of BAD_VALUES")
        values[name] = (labels[label](),) if star else labels[label]()
    return values, repro


def _clean_in_a_subprocess(code: str, seconds: float = 4, memory: int = 2**31) -> bool:
    """Whether ``code`` ends within ``seconds`` and ``memory`` bytes, returning or raising one
    of the allowed errors."""
    script = (
        "import minigrad as mg\nimport minigrad.nn.functional as F\n"
        f"try:\n    {code}\nexcept {tuple(e.__name__ for e in ALLOWED)}:\n    pass\n"
    )

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    try:
        done = subprocess.run(
            [sys.executable, "-c", script], preexec_fn=limit, timeout=seconds, capture_output=True
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def test_known_failures_still_fail():
    """Each KNOWN_FAILURES entry still shows its defect: once one is fixed, remove it."""
    fixed = []
    for (name, signature), repro in KNOWN_FAILURES.items():
        target = TARGETS.get(name)
        if target is None:
            fixed.append(f"{name}: no such target any more")
            continue
        d = _run(target, *_reproduce(target, repro))
        if d is None or f"{d.kind}@{d.where}" != signature:
            fixed.append(f"{name} {signature}: {repro} now gives {d or 'no defect'}")
    for repro in (code for _, code in KNOWN_HANGS.values()):
        if _clean_in_a_subprocess(repro):
            fixed.append(f"`{repro}` no longer hangs: remove it from KNOWN_HANGS")
    assert not fixed, "fixed, remove from KNOWN_FAILURES:\n" + "\n".join(fixed)


# Sizes no machine can hold: each must be refused at once with a RuntimeError that names the
# op (PyTorch's type for a failed allocation), not fill the memory, loop for long or surface
# NumPy's MemoryError / 'array is too big' ValueError.
IMPOSSIBLE_SIZES = [
    "F.adaptive_avg_pool2d(mg.rand(1, 2, 5, 5), 10**12)",
    "F.adaptive_avg_pool2d(mg.rand(1, 2, 5, 5), 10**6)",
    "F.conv1d(mg.randn(1, 2, 6), mg.randn(3, 2, 3), padding=10**12)",
    "F.conv2d(mg.randn(1, 2, 5, 5), mg.randn(3, 2, 3, 3), padding=10**12)",
    "F.conv_transpose2d(mg.randn(1, 2, 5, 5), mg.randn(2, 3, 3, 3), stride=10**12)",
    "F.one_hot(mg.tensor([0, 2]), 10**12)",
    "mg.ones(2).expand(10**12, 2) + 1",
    "mg.ones(2).repeat(10**12)",
]


def test_impossible_sizes_are_runtime_errors_at_once():
    """In one subprocess with 2 GiB of address space: every case raises a RuntimeError."""
    script = (
        "import sys\nimport minigrad as mg\nimport minigrad.nn.functional as F\n"
        f"cases = {IMPOSSIBLE_SIZES!r}\n"
        "for code in cases:\n"
        "    try:\n"
        "        eval(code)\n"
        "        print(code, 'did not raise')\n"
        "    except RuntimeError as e:\n"
        "        if not str(e).strip():\n"
        "            print(code, 'raised a RuntimeError without a message')\n"
        "    except BaseException as e:\n"
        "        print(code, 'raised', type(e).__name__, e)\n"
    )
    memory = 2**31

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    done = subprocess.run(
        [sys.executable, "-c", script], preexec_fn=limit, timeout=60, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "", done.stdout


# =============================================================================================
# What the fuzzers found, pinned down against PyTorch
# =============================================================================================

# Each runs in minigrad and in torch (as ``m``); both must give the same values, dtype and shape,
# or the same type of error, and neither may warn.
FOUND_CASES = [
    "m.softmax(m.zeros(2, 0), 1)",
    "m.log_softmax(m.zeros(2, 0), 1)",
    "m.logsumexp(m.zeros(2, 0), 1)",
    "m.logsumexp(m.zeros(0, 3), 0)",
    "m.ones(2, 0).mean(1)",
    "m.ones(2, 3).sum(dim=())",
    "m.ones(2, 3).mean(dim=())",
    "m.ones(2, 3).amax(dim=())",
    "m.flip(m.tensor(1.0), (0,))",
    "m.sign(m.tensor([True, False]))",
    "m.tensor([1, 5]).clamp(0.5, 3.5)",
    "m.tensor([1, 5]).clamp(0, 3)",
    "m.tensor([True, False]) + 1",
    "m.tensor([True, False]) + 1.5",
    "m.ones(2, dtype=m.uint8) * -1",
    "m.ones(2, dtype=m.float16) * 1e6",
    "m.log(m.tensor([-1.0, 0.0]))",
    "m.sqrt(m.tensor([-1.0]))",
    "m.exp(m.tensor([100.0]))",
    "m.tensor([1.0, -1.0, 0.0]) / 0",
    "m.tensor([0.0, 1.0]) // 0",
    "m.tensor([math.nan, math.inf]).long()",
    "m.sin(m.tensor([math.inf]))",
    "m.tensor([-8.0]) ** (1 / 3)",
    "m.sum(5)",
    "m.mean(None)",
    "m.amax(None)",
    "m.equal(m.ones(2), 1)",
    "m.allclose(m.ones(2), 1.0)",
    "m.allclose(m.ones(2), m.ones(3))",
    "m.split(m.tensor(1.0), 1)",
    "m.chunk(m.tensor(1.0), 1)",
    "m.ones(2).split(-1)",
    "m.ones(2).split([1, -1, 2])",
    "m.ones(2).chunk(1.5)",
    "m.tensor(1.0).squeeze(1)",
    "m.ones(2).sum(0, keepdim=None)",
    "m.eye(-1)",
    "m.eye(2.5)",
    "m.randperm('a')",
    "m.randperm(-1)",
    "m.zeros(10**12)",
    "m.ones(2).repeat(10**12)",
    "m.randint(10, (3,)).shape",
    "m.randint(0, 10, (3,)).shape",
    "m.randint(10, 3)",
    "m.gather(m.ones(3), 0, m.tensor([-1]))",
    "m.gather(m.tensor(0.5), 0, m.tensor(0))",
    "m.ones(2, 2) @ m.ones(2, 2, dtype=m.float64)",
    "m.randn_like(m.ones(2, dtype=m.int64))",
    "-m.tensor([True])",
    "m.tensor([True]) - 1",
    "m.tensor([1]) // 0",
    "m.tensor([1]) % m.tensor([0])",
    "m.arange(0, 10, -1)",
    "m.arange(0, math.inf)",
    "m.linspace(0, 1, -1)",
    "m.cat(None)",
    # data, Tensor methods and protocols
    "m.tensor([[1, 2], [3]])",
    "m.tensor([[1.0, 2.0], [3.0]], dtype=m.float64)",
    "m.tensor('a')",
    "m.tensor(['a'])",
    "m.tensor([1e30], dtype=m.float16)",
    "m.dtype(None)",
    "m.from_dlpack(None)",
    "m.ones(2, 3).expand_as(None)",
    "m.ones(2, 3).reshape_as(None)",
    "m.ones(2, 3).view_as(None)",
    "m.ones(2, 3).type_as(None)",
    "int(m.tensor(math.nan))",
    "int(m.tensor(math.inf))",
    "m.tensor(1.0).size(0)",
    "m.tensor(1.0).size(-1)",
    "m.tensor(1.5).transpose(-1, -1)",
    "m.tensor(1.5).unflatten(-1, (1,))",
    "m.ones(2, 3).requires_grad_(m.ones(2))",
    "m.set_grad_enabled(m.ones(2))",
    "m.ones(2).add(None, alpha=None)",
    "m.ones(2).add(1, alpha=None)",
    "m.ones(2).sub_(1, alpha='a')",
    "m.tensor([1, 2]).add(m.tensor([1, 2]), alpha=1.5)",
    "m.tensor([1, 2]).add(m.tensor([1, 2]), alpha=2)",
    "m.tensor([1, 2]).sub(3, alpha=2)",
    # in place
    "m.ones(2, 3).fill_('a')",
    "m.ones(2, 3).fill_(None)",
    "m.ones(2).fill_(1j)",
    "m.tensor([1, 2]).fill_(math.nan)",
    "m.tensor([1, 2]).fill_(1.5)",
    "m.tensor([1, 2], dtype=m.uint8).fill_(300)",
    "m.ones(2).uniform_(None)",
    "m.ones(2).uniform_('a')",
    "m.ones(2).uniform_(math.nan)",
    "m.ones(2).uniform_(0, math.inf)",
    "m.ones(2).uniform_(2, 1)",
    "m.ones(2).uniform_(3, 3)",
    "m.ones(2).normal_('a')",
    "m.ones(2).normal_(0, -1)",
    "m.ones(2).normal_(0, math.nan)",
    "m.ones(2).normal_(1.5, -0.0)",
    "m.tensor([1, 2, 3]).clamp_(0.5)",
    "m.tensor([1, 2, 3]).clamp_(2)",
    "m.tensor([1, 2, 3]).clamp_(m.tensor(2))",
    "m.tensor([1, 2, 3]).clamp_(m.tensor(2.0))",
    "m.ones(2, 3).clamp_(())",
    "m.ones(2, 3).clamp_(m.zeros(3))",
    "m.tensor(1.0).copy_(m.ones(2, 3))",
    "m.ones(2, 3).copy_(m.zeros(3))",
    "m.ones(2, 3).__setitem__((0, slice(1, 3)), m.zeros(3))",
    "m.ones(2, 3).__setitem__(0, object())",
    # nn.functional
    "m.nn.functional.layer_norm(m.ones(2, 3), None)",
    "m.nn.functional.layer_norm(m.ones(2, 3), ())",
    "m.nn.functional.layer_norm(m.ones(2, 3), (4,))",
    "m.nn.functional.layer_norm(m.ones(2, 3), [3.0])",
    "m.nn.functional.cross_entropy(m.ones(2, 3), m.tensor([0, 2]), ignore_index=1.5)",
    "m.nn.functional.cross_entropy(m.ones(2, 3), m.tensor([0, 2]), ignore_index=m.tensor(1.5))",
    "m.nn.functional.cross_entropy(m.ones(2, 3), m.tensor([0, 2]), label_smoothing=None)",
    "m.nn.functional.cross_entropy(m.tensor(1.5), m.tensor(1.5))",
    "m.nn.functional.nll_loss(m.ones(2, 3), m.tensor([0, 2]), ignore_index=m.tensor(2))",
    "m.nn.functional.mse_loss(m.zeros(0), m.zeros(0))",
    "m.nn.functional.one_hot(m.tensor([0, 2]), None)",
    "m.nn.functional.one_hot(m.tensor([0, 2]), 1.5)",
    "m.nn.functional.pad(m.ones(1, 2, 3), (3, 3), mode='reflect')",
    "m.nn.functional.pad(m.ones(1, 2, 3), (4, 4), mode='circular')",
    "m.nn.functional.max_pool2d(m.ones(1, 2, 4, 4), 2, ceil_mode=1)",
    "m.nn.functional.avg_pool2d(m.ones(1, 2, 4, 4), 2, ceil_mode=None)",
    "m.nn.functional.avg_pool2d(m.tensor([[[[math.inf, -math.inf], [1.0, 2.0]]]]), 2)",
    "m.nn.functional.dropout(m.ones(2, 3), training=None)",
    "m.nn.functional.batch_norm(m.ones(4, 3), m.zeros(3), m.ones(3), training=None)",
    "m.nn.functional.batch_norm(m.tensor([[math.inf, 1.0], [2.0, 3.0]]), None, None, None, "
    "None, True)",
    "m.nn.functional.adaptive_avg_pool2d(m.arange(32.0).reshape(1, 4, 8), (2, 4))",
    "m.nn.functional.adaptive_avg_pool2d(m.arange(35.0).reshape(1, 5, 7), (7, 9))",
    "m.logsumexp(m.tensor([1e30, math.nan]), 0)",
    # nn containers and Module methods
    "m.nn.ModuleList(5)",
    "m.nn.ModuleList().extend(None)",
    "m.nn.ModuleDict(-1)",
    "m.nn.ModuleDict().update(None)",
    "m.nn.ModuleDict()[[]]",
    "[] in m.nn.ModuleDict()",
    "m.nn.ModuleList([m.nn.ReLU()]).insert(None, m.nn.ReLU())",
    "m.nn.Sequential(m.nn.ReLU()).insert(None, m.nn.ReLU())",
    "m.nn.Linear(3, 4).apply(None)",
    "m.nn.Linear(3, 4).state_dict(destination='a')",
    "list(m.nn.Linear(3, 4).named_parameters(prefix=-1))",
]


def _outcome(m, code: str):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return eval(code, {"m": m, "math": math})
        except Exception as e:
            return e


@pytest.mark.parametrize("code", FOUND_CASES)
def test_found_cases_match_torch(code):
    torch = pytest.importorskip("torch")
    ours, theirs = _outcome(mg, code), _outcome(torch, code)
    if isinstance(theirs, Exception):
        assert type(ours) is type(theirs), f"{code}: PyTorch raises {theirs!r}, minigrad {ours!r}"
        assert str(ours).strip()
        return
    assert not isinstance(ours, Exception), (
        f"{code}: PyTorch gives {theirs}, minigrad raises {ours!r}"
    )
    if isinstance(theirs, torch.Size):
        assert tuple(ours) == tuple(theirs)
        return
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(np.asarray(ours.tolist()), np.asarray(theirs.tolist()))
