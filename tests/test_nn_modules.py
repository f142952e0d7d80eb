"""``minigrad.nn`` modules: the Module API, containers, constructor and call-time errors, default
initialisation, ``nn.init``, and forward/backward parity of every layer with PyTorch."""

from __future__ import annotations

import copy
import itertools
import math
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F
from minigrad.nn import init
from tests.conftest import DEVICES

torch = pytest.importorskip("torch")


def lenet(lib, bn=True):
    """The same LeNet-5 (with batch norm) in minigrad or torch: same names, same shapes."""
    n = lib.nn

    class LeNet(n.Module):
        def __init__(self):
            super().__init__()
            self.features = n.Sequential(
                n.Conv2d(1, 6, 5, padding=2),
                n.BatchNorm2d(6) if bn else n.Identity(),
                n.ReLU(),
                n.MaxPool2d(2),
                n.Conv2d(6, 16, 5),
                n.ReLU(),
                n.AvgPool2d(2),
            )
            self.flatten = n.Flatten()
            self.fc1 = n.Linear(16 * 5 * 5, 120)
            self.fc2 = n.Linear(120, 84)
            self.drop = n.Dropout(0.25)
            self.fc3 = n.Linear(84, 10)

        def forward(self, x):
            x = self.flatten(self.features(x))
            return self.fc3(self.drop(self.fc2(self.fc1(x).relu()).relu()))

    return LeNet()


def to_mg(t, dtype=None):
    return mg.tensor(t.detach().numpy().copy(), dtype=dtype)


def copy_from_torch(module, torch_module, dtype=None):
    """Load torch's state dict into the minigrad module (so names must match)."""
    sd = {k: to_mg(v) for k, v in torch_module.state_dict().items()}
    result = module.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []


def close(a, b, rtol=1e-7, atol=1e-9):
    a = a.detach().cpu().numpy() if isinstance(a, mg.Tensor) else a
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else b
    b = b.detach().cpu().numpy() if isinstance(b, mg.Tensor) else b
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def same_as_cpu(a, b):
    """A result on another device against the same computation on the CPU: equal up to the
    last bits a different summation order may change (float64 throughout)."""
    close(a, b, rtol=1e-12, atol=1e-13)


class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)
        self.scale = nn.Parameter(mg.ones(2))
        self.register_buffer("count", mg.zeros(()))
        self.register_buffer("scratch", mg.zeros(2), persistent=False)
        self.note = "plain attribute"

    def forward(self, x):
        return self.lin(x) * self.scale


# ---------------------------------------------------------------- registration


def test_attributes_register_as_parameters_buffers_and_submodules():
    m = Toy()
    assert [n for n, _ in m.named_parameters()] == ["scale", "lin.weight", "lin.bias"]
    assert [n for n, _ in m.named_buffers()] == ["count", "scratch"]
    assert list(m.state_dict()) == ["scale", "count", "lin.weight", "lin.bias"]
    assert [n for n, _ in m.named_children()] == ["lin"]
    assert [n for n, _ in m.named_modules()] == ["", "lin"]
    assert list(m.parameters(recurse=False)) == [m.scale]
    assert m.note == "plain attribute" and "note" not in m._parameters
    assert "lin" in dir(m) and "scale" in dir(m) and "count" in dir(m)
    del m.lin
    assert [n for n, _ in m.named_parameters()] == ["scale"]
    with pytest.raises(AttributeError, match="'Toy' object has no attribute 'lin'"):
        _ = m.lin


def test_reassignment_rules_follow_pytorch():
    m = Toy()
    with pytest.raises(TypeError, match="cannot assign 'minigrad.tensor.Tensor' as parameter"):
        m.scale = mg.ones(2)
    m.scale = None
    assert "scale" not in m.state_dict()
    with pytest.raises(TypeError, match="as child module 'lin'"):
        m.lin = mg.ones(2)
    with pytest.raises(TypeError, match="as buffer 'count'"):
        m.count = 3.0
    m.count = mg.ones(())
    assert m.state_dict()["count"].item() == 1.0
    m.note = nn.Parameter(mg.zeros(1))  # a plain attribute becomes a parameter
    assert "note" in m._parameters and "note" not in m.__dict__
    with pytest.raises(KeyError, match="must not contain"):
        m.register_buffer("a.b", mg.zeros(1))
    with pytest.raises(KeyError, match="already exists"):
        m.register_parameter("forward", None)
    with pytest.raises(TypeError, match="not a Module subclass"):
        m.add_module("x", 3)

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mg.ones(1))

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Early()


def test_shared_parameters_and_modules_are_listed_once():
    lin = nn.Linear(2, 2)
    m = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(m.parameters())) == 2
    assert [n for n, _ in m.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(m.modules())) == 3  # Sequential, Linear, ReLU
    assert list(m.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_forward_is_required():
    class NoForward(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        NoForward()(mg.ones(1))


# ---------------------------------------------------------------- state dict


def test_state_dict_names_and_shapes_equal_pytorch(device):
    m, t = lenet(mg).to(device), lenet(torch)
    ours, theirs = m.state_dict(), t.state_dict()
    assert all(v.device == device for v in ours.values())
    assert list(ours) == list(theirs)
    assert [tuple(v.shape) for v in ours.values()] == [tuple(v.shape) for v in theirs.values()]
    assert ours["features.1.num_batches_tracked"].dtype is mg.int64
    assert isinstance(ours, OrderedDict)
    assert not any(v.requires_grad for v in ours.values())


def test_state_dict_shares_memory_and_keep_vars():
    m = nn.Linear(2, 2)
    sd = m.state_dict()
    with mg.no_grad():
        m.weight.fill_(3.0)
    assert sd["weight"].tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert m.state_dict(keep_vars=True)["weight"] is m.weight
    deep = nn.Sequential(nn.Linear(2, 2))
    assert deep.state_dict(keep_vars=True)["0.weight"] is deep[0].weight  # children too


def test_load_state_dict_copies_in_place_keeping_dtype_and_identity():
    src, dst = nn.Linear(3, 2), nn.Linear(3, 2)
    w = dst.weight
    sd = {k: v.double() for k, v in src.state_dict().items()}
    assert dst.load_state_dict(sd) == ([], [])
    assert dst.weight is w and dst.weight.dtype is mg.float32 and dst.weight.requires_grad
    assert mg.equal(dst.weight, src.weight) and mg.equal(dst.bias, src.bias)
    with mg.no_grad():
        src.weight.fill_(0.0)
    assert not mg.equal(dst.weight, src.weight)  # a copy, not an alias


def test_load_state_dict_strict_missing_and_unexpected():
    m = Toy()
    sd = m.state_dict()
    del sd["lin.bias"]
    sd["lin.extra"] = mg.zeros(1)
    sd["nothing.weight"] = mg.zeros(1)
    with pytest.raises(RuntimeError) as err:
        m.load_state_dict(sd)
    msg = str(err.value)
    assert msg.startswith("Error(s) in loading state_dict for Toy:")
    assert 'Missing key(s) in state_dict: "lin.bias".' in msg
    assert 'Unexpected key(s) in state_dict: "nothing.weight", "lin.extra".' in msg
    result = m.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["lin.bias"]
    assert result.unexpected_keys == ["nothing.weight", "lin.extra"]  # PyTorch's order
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        m.load_state_dict([1, 2])


def test_load_state_dict_size_mismatch_message():
    class Net(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.fc = nn.Linear(n, 10)

    with pytest.raises(RuntimeError) as err:
        Net(400).load_state_dict(Net(84).state_dict(), strict=False)
    assert (
        "size mismatch for fc.weight: copying a param with shape [10, 84] from checkpoint, "
        "the shape in current model is [10, 400]"
    ) in str(err.value)
    with pytest.raises(RuntimeError, match='parameter named "fc.bias", expected a minigrad'):
        Net(3).load_state_dict({"fc.weight": mg.zeros(10, 3), "fc.bias": [0.0] * 10})


def test_non_persistent_buffers_are_not_loaded_or_saved():
    m = Toy()
    assert "scratch" not in m.state_dict()
    m.load_state_dict(Toy().state_dict())  # no "scratch" needed


# ---------------------------------------------------------------- modes, grads, conversion


def test_train_eval_recurse():
    m = lenet(mg)
    assert m.training and m.features[1].training
    assert m.eval() is m
    assert not any(mod.training for mod in m.modules())
    m.train()
    assert all(mod.training for mod in m.modules())
    with pytest.raises(ValueError, match="boolean"):
        m.train("no")


def test_zero_grad_and_requires_grad_():
    m = nn.Linear(3, 2)
    m(mg.ones(4, 3)).sum().backward()
    g = m.weight.grad
    m.zero_grad(set_to_none=False)
    assert m.weight.grad is g and g.abs().sum().item() == 0
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())
    assert not m(mg.ones(1, 3)).requires_grad


def test_apply_visits_children_first():
    seen = []
    m = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]

    def zero_linear(mod):
        if isinstance(mod, nn.Linear):
            init.zeros_(mod.weight)

    m.apply(zero_linear)
    assert m[0].weight.abs().sum().item() == 0


def test_to_dtype_converts_in_place_keeping_parameter_identity():
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    params = list(m.parameters())
    opt = mg.optim.SGD(m.parameters(), lr=0.1)
    assert m.to(mg.float64) is m
    assert all(a is b for a, b in zip(m.parameters(), params))
    assert all(p.dtype is mg.float64 for p in m.parameters())
    assert m[1].running_mean.dtype is mg.float64
    assert m[1].num_batches_tracked.dtype is mg.int64  # integer buffers keep their dtype
    (m(mg.randn(4, 3, dtype=mg.float64)) ** 2).sum().backward()
    before = m[0].weight.detach().clone()
    opt.step()  # the optimizer built before .to still updates the model
    assert not mg.equal(before, m[0].weight)
    m.float()
    assert params[0].dtype is mg.float32 and params[0].grad.dtype is mg.float32
    m.double()
    assert params[0].dtype is mg.float64
    with pytest.raises(TypeError, match="only accepts floating point"):
        m.to(mg.int64)


@pytest.mark.parametrize("device", DEVICES)
def test_to_device_moves_parameters_buffers_and_grads(device):
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    w = m[0].weight
    m(mg.ones(4, 3)).sum().backward()
    opt = mg.optim.Adam(m.parameters(), lr=0.1)
    m.to(device)
    assert m[0].weight is w and w.device == device and w.grad.device == device
    assert all(b.device == device for b in m.buffers())
    out = m(mg.ones(4, 3, device=device))
    assert out.device == device
    out.sum().backward()
    opt.step()
    assert opt.state[w]["exp_avg"].device == device
    m.cpu()
    assert w.device == "cpu"


def test_to_unknown_device_raises_before_moving_anything():
    m = nn.Linear(2, 2)
    before = m.weight.device
    with pytest.raises(ValueError, match="unknown device"):
        m.to("tpu")
    assert m.weight.device == before


def test_deepcopy_gives_an_independent_model():
    m = lenet(mg)
    twin = copy.deepcopy(m)
    assert str(twin) == str(m) and twin.fc1.weight is not m.fc1.weight
    assert isinstance(twin.fc1.weight, nn.Parameter) and twin.fc1.weight.requires_grad
    for (k, a), (_, b) in zip(m.state_dict().items(), twin.state_dict().items()):
        assert mg.equal(a, b), k
    with mg.no_grad():
        twin.features[1].running_mean.fill_(5.0)
        twin.fc1.weight.zero_()
    assert m.features[1].running_mean.abs().sum().item() == 0
    assert m.fc1.weight.abs().sum().item() > 0


def test_get_submodule():
    m = lenet(mg)
    assert m.get_submodule("features.4") is m.features[4]
    assert m.get_submodule("") is m
    with pytest.raises(AttributeError, match="has no submodule `9`"):
        m.get_submodule("features.9")


# ---------------------------------------------------------------- hooks


def test_forward_hooks_and_removal():
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    maps = {}
    handle = m[1].register_forward_hook(lambda mod, args, out: maps.setdefault("relu", out))
    y = m(mg.randn(5, 3))
    assert maps["relu"].shape == (5, 4) and (maps["relu"] >= 0).all().item()
    handle.remove()
    maps.clear()
    m(mg.randn(5, 3))
    assert maps == {}
    # a forward hook may replace the output, a pre-hook the input
    with m[2].register_forward_hook(lambda mod, args, out: out * 0):
        assert m(mg.randn(5, 3)).abs().sum().item() == 0
    assert m(mg.randn(5, 3)).abs().sum().item() > 0
    pre = m.register_forward_pre_hook(lambda mod, args: mg.zeros(1, 3))
    assert m(mg.randn(5, 3)).shape == (1, 2)
    pre.remove()
    assert y.shape == (5, 2)


# ---------------------------------------------------------------- repr


def test_lenet_repr_equals_pytorch():
    assert str(lenet(mg)) == str(lenet(torch))


REPR_CASES = [
    ("Linear", (3, 4), {"bias": False}),
    ("Conv1d", (2, 4, 3), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}),
    ("Conv2d", (3, 6, (3, 5)), {"padding": "same", "bias": False}),
    ("Conv2d", (3, 6, 3), {"padding": 1, "padding_mode": "reflect"}),
    ("Conv2d", (2, 3, (3, 4)), {"padding": "same", "padding_mode": "reflect"}),
    ("Conv1d", (2, 3, 4), {"padding": "same", "padding_mode": "circular", "bias": False}),
    ("ConvTranspose2d", (4, 2, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}),
    ("MaxPool2d", ((2, 3),), {"ceil_mode": True}),
    ("AvgPool2d", (2,), {"stride": 1}),
    ("AdaptiveAvgPool2d", ((None, 3),), {}),
    ("ReLU", (), {"inplace": True}),
    ("LeakyReLU", (0.2,), {}),
    ("Sigmoid", (), {}),
    ("Tanh", (), {}),
    ("GELU", (), {"approximate": "tanh"}),
    ("Softmax", (), {"dim": 1}),
    ("LogSoftmax", (), {"dim": -1}),
    ("Dropout", (0.3,), {}),
    ("BatchNorm1d", (5,), {"momentum": None, "affine": False}),
    ("BatchNorm2d", (5,), {"eps": 1e-3, "track_running_stats": False}),
    ("Identity", (), {}),
    ("Flatten", (0, 2), {}),
    ("Unflatten", (1, (2, 3)), {}),
    ("Upsample", (), {"scale_factor": 2, "mode": "nearest"}),
    ("Upsample", (), {"size": (4, 5), "mode": "bilinear"}),
    ("CrossEntropyLoss", (), {"label_smoothing": 0.1}),
    ("NLLLoss", (), {}),
    ("MSELoss", (), {"reduction": "sum"}),
    ("BCEWithLogitsLoss", (), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), REPR_CASES)
def test_layer_repr_equals_pytorch(name, args, kwargs, device):
    ours = getattr(nn, name)(*args, **kwargs).to(device)  # the device does not show
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_container_reprs_equal_pytorch():
    def build(lib):
        n = lib.nn
        return n.Sequential(
            OrderedDict(
                [
                    ("blocks", n.ModuleList([n.Linear(2, 2) for _ in range(3)] + [n.ReLU()])),
                    ("heads", n.ModuleDict({"a": n.Linear(2, 1), "b": n.Tanh()})),
                    ("empty", n.ModuleList()),
                ]
            )
        )

    assert repr(build(mg)) == repr(build(torch))


def test_parameter_semantics():
    data = mg.tensor([1.0, 2.0])
    p = nn.Parameter(data)
    assert isinstance(p, mg.Tensor) and p.is_leaf and p.requires_grad
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    with mg.no_grad():
        data.add_(1.0)
    assert p.tolist() == [2.0, 3.0]  # shares memory with data, like PyTorch
    y = p * 2
    assert type(y) is mg.Tensor and not y.is_leaf
    assert not nn.Parameter(mg.ones(1), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(mg.tensor([1, 2]))
    with pytest.raises(TypeError, match="must be a minigrad Tensor"):
        nn.Parameter([1.0])
    m = nn.Module()
    with pytest.raises(TypeError, match="Parameter or None required"):
        m.register_parameter("w", mg.ones(1))


# ---------------------------------------------------------------- containers


def test_sequential_indexing_slicing_and_editing():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    s = nn.Sequential(OrderedDict([("fc", a), ("act", b), ("out", c)]))
    assert list(s.state_dict()) == ["fc.weight", "fc.bias", "out.weight", "out.bias"]
    assert s[0] is a and s[-1] is c and len(s) == 3 and list(s) == [a, b, c]
    assert s.fc is a
    head = s[:2]
    assert isinstance(head, nn.Sequential) and list(head._modules) == ["fc", "act"]
    assert head(mg.ones(4, 2)).shape == (4, 3)
    with pytest.raises(IndexError, match="index 3 is out of range"):
        s[3]
    with pytest.raises(TypeError, match="indices must be integers"):
        s["fc"]
    s.append(nn.Sigmoid())
    assert len(s) == 4 and isinstance(s[3], nn.Sigmoid)
    del s[1]
    assert list(s._modules) == ["0", "1", "2"] and s[1] is c
    s[0] = nn.Linear(2, 3)
    assert s[0] is not a
    assert s(mg.ones(5, 2)).shape == (5, 1)


def test_module_list_and_module_dict():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    layers.append(nn.Linear(2, 1))
    layers.extend([nn.Tanh()])
    layers.insert(0, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Identity", "Linear", "ReLU", "Linear", "Tanh"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    assert len(list(layers.parameters())) == 4
    del layers[0]
    assert list(layers._modules) == ["0", "1", "2", "3"]
    d = nn.ModuleDict({"enc": nn.Linear(2, 2)})
    d["dec"] = nn.Linear(2, 2)
    assert list(d) == ["enc", "dec"] and "dec" in d and len(d) == 2
    assert [n for n, _ in d.named_parameters()][:2] == ["enc.weight", "enc.bias"]
    assert isinstance(d.pop("enc"), nn.Linear) and list(d.keys()) == ["dec"]
    with pytest.raises(ValueError, match="should be a \\(key, module\\) pair"):
        nn.ModuleDict([nn.Linear(1, 1)])


# ---------------------------------------------------------------- constructor errors

CONSTRUCTOR_ERRORS = [
    (lambda: nn.Linear(0, 2), ValueError, r"Linear: in_features must be a positive integer, got 0"),
    (lambda: nn.Linear(3, -1), ValueError, r"out_features must be a positive integer, got -1"),
    (lambda: nn.Linear(2.5, 2), ValueError, r"in_features must be a positive integer, got 2.5"),
    (lambda: nn.Conv2d(0, 2, 3), ValueError, r"Conv2d: in_channels must be a positive"),
    (lambda: nn.Conv2d(3, 0, 3), ValueError, r"out_channels must be a positive integer, got 0"),
    (lambda: nn.Conv2d(3, 6, 0), ValueError, r"kernel_size must be a positive integer .*got 0"),
    (lambda: nn.Conv2d(3, 6, (3, 3, 3)), ValueError, r"tuple of 2 positive integers"),
    (lambda: nn.Conv2d(3, 6, 3, stride=0), ValueError, r"stride must be a positive .*got 0"),
    (lambda: nn.Conv2d(3, 6, 3, padding=-1), ValueError, r"padding must be a non-negative"),
    (lambda: nn.Conv2d(3, 6, 3, dilation=0), ValueError, r"dilation must be a positive"),
    (lambda: nn.Conv2d(3, 6, 3, groups=2), ValueError, r"in_channels \(3\) must be divisible"),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), ValueError, r"out_channels \(6\) must be divisible"),
    (lambda: nn.Conv2d(3, 6, 3, groups=0), ValueError, r"groups must be a positive integer"),
    (lambda: nn.Conv2d(3, 6, 3, padding="full"), ValueError, r"invalid padding string 'full'"),
    (lambda: nn.Conv2d(3, 6, 3, 2, "same"), ValueError, r"not supported for strided"),
    (lambda: nn.Conv2d(3, 6, 3, padding_mode="wrap"), ValueError, r"padding_mode must be one of"),
    (lambda: nn.Conv1d(2, 2, 3, stride=(1, 1)), ValueError, r"Conv1d: stride must be"),
    (
        lambda: nn.ConvTranspose2d(2, 2, 3, stride=2, output_padding=2),
        ValueError,
        r"output padding must be smaller than either stride or dilation",
    ),
    (
        lambda: nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect"),
        ValueError,
        r'only "zeros" padding_mode',
    ),
    (
        lambda: nn.ConvTranspose2d(2, 2, 3, output_padding=1),
        ValueError,
        r"output_padding=\(1, 1\), stride=\(1, 1\), dilation=\(1, 1\)",
    ),
    (lambda: nn.ConvTranspose2d(2, 2, 3, output_padding=-1), ValueError, r"output_padding must"),
    (lambda: nn.ConvTranspose2d(0, 2, 3), ValueError, r"ConvTranspose2d: in_channels must be"),
    (lambda: nn.ConvTranspose2d(2, 0, 3), ValueError, r"out_channels must be a positive"),
    (lambda: nn.ConvTranspose2d(2, 2, (3, 0)), ValueError, r"kernel_size must be a positive"),
    (lambda: nn.ConvTranspose2d(2, 2, 3, stride=0), ValueError, r"stride must be a positive"),
    (lambda: nn.ConvTranspose2d(2, 2, 3, padding=-1), ValueError, r"padding must be a non-neg"),
    (lambda: nn.ConvTranspose2d(2, 2, 3, padding="same"), ValueError, r"not a string"),
    (lambda: nn.ConvTranspose2d(2, 2, 3, dilation=(1,)), ValueError, r"dilation must be"),
    (lambda: nn.ConvTranspose2d(3, 2, 3, groups=2), ValueError, r"in_channels \(3\) must be"),
    (lambda: nn.ConvTranspose2d(2, 3, 3, groups=2), ValueError, r"out_channels \(3\) must"),
    (lambda: nn.ConvTranspose2d(2, 2, 3, groups=0), ValueError, r"groups must be a positive"),
    (lambda: nn.MaxPool2d(0), ValueError, r"MaxPool2d: kernel_size must be a positive"),
    (lambda: nn.MaxPool2d(2, stride=0), ValueError, r"stride must be a positive"),
    (lambda: nn.MaxPool2d(2, padding=2), ValueError, r"pad should be at most half"),
    (lambda: nn.MaxPool2d(3, padding=2, dilation=2), ValueError, r"pad=2 and kernel_size=3"),
    (lambda: nn.MaxPool1d(4, padding=3, dilation=3), ValueError, r"pad should be at most half"),
    (lambda: nn.MaxPool1d(3, dilation=0), ValueError, r"MaxPool1d: dilation must be"),
    (lambda: nn.AvgPool2d(3, padding=2), ValueError, r"pad should be at most half of kernel"),
    (lambda: nn.AvgPool2d(2, divisor_override=0), ValueError, r"divisor_override must be"),
    (lambda: nn.AdaptiveAvgPool2d(0), ValueError, r"output_size must be a positive integer"),
    (lambda: nn.AdaptiveAvgPool2d((2, 2, 2)), ValueError, r"output_size must be"),
    (lambda: nn.Dropout(1.5), ValueError, r"between 0 and 1, but got 1.5"),
    (lambda: nn.Dropout(-0.1), ValueError, r"between 0 and 1, but got -0.1"),
    (lambda: nn.BatchNorm2d(0), ValueError, r"BatchNorm2d: num_features must be a positive"),
    (lambda: nn.BatchNorm1d(4, eps=-1.0), ValueError, r"eps must be a non-negative number"),
    (lambda: nn.BatchNorm1d(4, momentum=2.0), ValueError, r"momentum must be in \[0, 1\]"),
    (lambda: nn.GELU("fast"), ValueError, r"approximate must be 'none' or 'tanh'"),
    (lambda: nn.LeakyReLU("0.1"), TypeError, r"negative_slope must be a number"),
    (lambda: nn.Upsample(), ValueError, r"exactly one of size or scale_factor"),
    (lambda: nn.Upsample(4, 2.0), ValueError, r"exactly one of size or scale_factor"),
    (lambda: nn.Upsample(scale_factor=2, mode="cubic"), ValueError, r"mode must be one of"),
    (lambda: nn.Upsample(scale_factor=-2), ValueError, r"scale_factor must be positive"),
    (lambda: nn.Unflatten(1, (2, 2.5)), TypeError, r"found element of type float at pos 1"),
    (lambda: nn.Flatten(1.0), TypeError, r"start_dim must be an integer"),
    (lambda: nn.MSELoss(reduction="avg"), ValueError, r"reduction must be 'none', 'mean'"),
    (lambda: nn.CrossEntropyLoss(label_smoothing=2.0), ValueError, r"label_smoothing must be"),
    (lambda: nn.CrossEntropyLoss(weight=mg.ones(2, 2)), ValueError, r"weight must be a 1-D"),
    (lambda: nn.NLLLoss(ignore_index=0.5), TypeError, r"ignore_index must be an integer"),
    # flags are bools: an array (whose truth value NumPy refuses) or None is a clear TypeError
    (lambda: nn.Linear(3, 4, bias=np.ones(2)), TypeError, r"Linear.*'bias' must be a bool"),
    (lambda: nn.Conv2d(3, 6, 3, bias=None), TypeError, r"Conv2d.*'bias' must be a bool"),
    (lambda: nn.BatchNorm1d(3, affine=np.ones(2)), TypeError, r"'affine' must be a bool"),
    (lambda: nn.BatchNorm2d(3, track_running_stats="y"), TypeError, r"'track_running_stats'"),
    (lambda: nn.MaxPool2d(2, return_indices=np.ones(2)), TypeError, r"'return_indices' must"),
    (lambda: nn.AvgPool2d(2, ceil_mode=np.ones(2)), TypeError, r"'ceil_mode' must be a bool"),
    (lambda: nn.ReLU(inplace=np.ones(2)), TypeError, r"'inplace' must be a bool"),
    (lambda: nn.Dropout(inplace=None), TypeError, r"'inplace' must be a bool"),
    (lambda: nn.Parameter(mg.ones(2), np.ones(2)), TypeError, r"'requires_grad' must be"),
    (lambda: nn.GELU(np.ones(2)), ValueError, r"approximate must be 'none' or 'tanh'"),
    (lambda: nn.Upsample(scale_factor=2, mode=np.ones(2)), ValueError, r"mode must be one of"),
    (lambda: nn.MSELoss(reduction=np.ones(2)), ValueError, r"reduction must be 'none'"),
    (lambda: nn.MSELoss(size_average=np.ones(2)), TypeError, r"'size_average' must be a bool"),
    (lambda: nn.ModuleList(5), TypeError, r"ModuleList.extend should be called with an iter"),
    (lambda: nn.ModuleDict(-1), TypeError, r"iterable of key/value pairs, but got int"),
]


@pytest.mark.parametrize(("build", "error", "message"), CONSTRUCTOR_ERRORS)
def test_constructor_arguments_are_checked(build, error, message):
    with pytest.raises(error, match=message):
        build()


MODULE_METHOD_ERRORS = [
    (lambda m: m.apply(None), TypeError, r"apply\(\): fn must be callable"),
    (lambda m: list(m.named_parameters(prefix=-1)), TypeError, r"'prefix' must be a str"),
    (lambda m: list(m.parameters(recurse=np.ones(2))), TypeError, r"'recurse' must be a bool"),
    (lambda m: list(m.named_modules(memo=())), TypeError, r"'memo' must be a set"),
    (lambda m: m.state_dict(destination="a"), TypeError, r"destination must be a dict"),
    (lambda m: m.state_dict(prefix=np.ones(2)), TypeError, r"'prefix' must be a str"),
    (lambda m: m.load_state_dict(m.state_dict(), strict=None), TypeError, r"'strict' must be"),
    (lambda m: m.get_submodule(None), TypeError, r"'target' must be a str"),
    (lambda m: m.requires_grad_(np.ones(2)), TypeError, r"'requires_grad' must be a bool"),
    (lambda m: m.insert(None, nn.ReLU()), TypeError, r"Sequential.insert\(\): index must be an"),
    (lambda m: m.extend(None), TypeError, r"extend should be called with an iterable"),
    (lambda m: nn.ModuleDict()[[]], TypeError, r"ModuleDict keys are strings"),
    (lambda m: m[0].register_buffer("b", None, persistent=[]), TypeError, r"'persistent'"),
]


@pytest.mark.parametrize(("call", "error", "message"), MODULE_METHOD_ERRORS)
def test_module_methods_check_their_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call(nn.Sequential(nn.Linear(3, 4), nn.ReLU()))


def test_forward_arguments_are_checked():
    with pytest.raises(TypeError, match="Unflatten expects a minigrad Tensor as input"):
        nn.Unflatten(1, (3, 1))(None)
    up = nn.ConvTranspose2d(2, 3, 3, stride=2)
    x = mg.randn(1, 2, 4, 4)
    assert up(x, output_size=(10, 10)).shape == (1, 3, 10, 10)
    assert up(x, output_size=[1, 3, 9, 9]).shape == (1, 3, 9, 9)
    with pytest.raises(TypeError, match=r"output_size must be a tuple of ints.*got -1"):
        up(x, output_size=-1)
    with pytest.raises(ValueError, match=r"output_size must have 2 or 4 elements"):
        up(x, output_size=(1, 9, 9))
    assert nn.Upsample(scale_factor=[2, 3])(mg.ones(1, 1, 2, 2)).shape == (1, 1, 4, 6)


def test_legacy_reduction_flags_map_to_reduction():
    records = []
    for lib in (nn, torch.nn):
        with pytest.warns(UserWarning, match="please use reduction='sum' instead") as record:
            assert lib.MSELoss(size_average=False).reduction == "sum"
        records.append(record)
        with pytest.warns(UserWarning, match="please use reduction='none' instead"):
            assert lib.NLLLoss(reduce=False).reduction == "none"
        with pytest.warns(UserWarning, match="please use reduction='mean' instead"):
            assert lib.CrossEntropyLoss(None, True, -100, True).reduction == "mean"
    assert records[0][0].filename == __file__  # the warning points at the caller's line
    assert nn.CrossEntropyLoss(reduction="sum").reduction == "sum"


POOL_PADDINGS = list(itertools.product([1, 2, 3, 4, 5], [0, 1, 2, 3], [1, 2, 3]))


@pytest.mark.parametrize("layer", ["MaxPool1d", "MaxPool2d", "AvgPool2d"])
def test_pool_constructors_accept_what_the_functional_op_accepts(layer):
    """The construction-time padding check is the functional op's (and PyTorch's): padding at
    most half the kernel size, whatever the dilation."""
    fn = {"MaxPool1d": F.max_pool1d, "MaxPool2d": F.max_pool2d, "AvgPool2d": F.avg_pool2d}
    x = mg.zeros(1, 1, 20) if layer == "MaxPool1d" else mg.zeros(1, 1, 20, 20)
    for k, p, d in POOL_PADDINGS:
        kw = {"padding": p} if layer == "AvgPool2d" else {"padding": p, "dilation": d}
        try:
            fn[layer](x, k, **kw)
            functional_ok = True
        except RuntimeError as e:
            assert "at most half of kernel size" in str(e)
            functional_ok = False
        try:
            getattr(nn, layer)(k, **kw)(x)
            layer_ok = True
        except ValueError as e:
            assert f"pad={p} and kernel_size={k}" in str(e)
            layer_ok = False
        assert layer_ok == functional_ok == (p <= k // 2), (k, p, d)


# ---------------------------------------------------------------- call-time shape errors


def test_linear_names_the_layer_and_the_fix():
    with pytest.raises(
        RuntimeError,
        match=r"Linear\(in_features=3, out_features=2\) got input with last dimension 5 "
        r"\(shape \(4, 5\)\); expected 3",
    ):
        nn.Linear(3, 2)(mg.ones(4, 5))
    with pytest.raises(TypeError, match="expects a minigrad Tensor"):
        nn.Linear(3, 2)([1.0, 2.0, 3.0])


def test_conv_and_pool_input_errors():
    with pytest.raises(
        RuntimeError,
        match=r"Conv2d\(in_channels=3, out_channels=6, kernel_size=\(5, 5\)\) got input with 1 "
        r"channels \(shape \(8, 1, 28, 28\)\); expected 3",
    ):
        nn.Conv2d(3, 6, 5)(mg.ones(8, 1, 28, 28))
    with pytest.raises(
        RuntimeError, match=r"expects a 3-D \(C, H, W\) or 4-D .*got shape \(28, 28\)"
    ):
        nn.Conv2d(1, 6, 5)(mg.ones(28, 28))
    with pytest.raises(RuntimeError, match=r"Conv1d.*got input with 2 channels"):
        nn.Conv1d(3, 6, 3)(mg.ones(4, 2, 10))
    with pytest.raises(RuntimeError, match=r"ConvTranspose2d.*got input with 4 channels"):
        nn.ConvTranspose2d(8, 4, 3)(mg.ones(1, 4, 5, 5))
    with pytest.raises(RuntimeError, match=r"MaxPool2d expects a 3-D \(C, H, W\) or 4-D"):
        nn.MaxPool2d(2)(mg.ones(2, 1, 1, 4, 4))
    with pytest.raises(RuntimeError, match=r"MaxPool1d expects a 2-D \(C, L\) or 3-D"):
        nn.MaxPool1d(2)(mg.ones(4))


SIZE_ERRORS = [
    (
        lambda: nn.Conv2d(3, 4, 5)(mg.zeros(1, 3, 3, 3)),
        r"Conv2d\(in_channels=3, out_channels=4, kernel_size=\(5, 5\)\) got input of size 3x3, "
        r"smaller than its 5x5 kernel; use a larger input, more padding \(e.g. padding='same'\)",
    ),
    (
        lambda: nn.Conv2d(3, 4, 3, padding=(1, 0), dilation=2)(mg.zeros(3, 2, 6)),
        r"got input of size 2x6 \(4x6 after padding\), smaller than its 5x5 kernel \(3x3 with "
        r"dilation=\(2, 2\)\)",
    ),
    (
        lambda: nn.Conv1d(2, 4, 5)(mg.zeros(1, 2, 4)),
        r"Conv1d\(in_channels=2, out_channels=4, kernel_size=\(5,\)\) got input of length 4, "
        r"smaller than its kernel of length 5",
    ),
    (
        lambda: nn.Conv2d(2, 2, 3, padding=3, padding_mode="reflect")(mg.zeros(1, 2, 3, 8)),
        r"Conv2d\(.*\) with padding_mode='reflect' got input of size 3x8, too small for its "
        r"padding",
    ),
    (
        lambda: nn.Conv1d(2, 2, 9, padding="same", padding_mode="circular")(mg.zeros(1, 2, 3)),
        r"Conv1d\(.*\) with padding_mode='circular' got input of size 3",
    ),
    (
        lambda: nn.MaxPool2d(5)(mg.zeros(1, 1, 3, 3)),
        r"MaxPool2d\(kernel_size=5, stride=5, padding=0, dilation=1, ceil_mode=False\) got input "
        r"of size 3x3, smaller than its pooling window of 5x5; it needs an input of at least 5x5",
    ),
    (
        lambda: nn.MaxPool1d(3, padding=1, dilation=3)(mg.zeros(2, 4)),
        r"MaxPool1d\(.*\) got input of size 4 \(6 after padding\), smaller than its pooling "
        r"window of 7 \(3 with dilation=\(3,\)\); it needs an input of at least 5",
    ),
    (
        lambda: nn.AvgPool2d((2, 4), padding=(0, 1))(mg.zeros(1, 1, 5, 1)),
        r"AvgPool2d\(kernel_size=\(2, 4\), stride=\(2, 4\), padding=\(0, 1\)\) got input of "
        r"size 5x1 \(5x3 after padding\), smaller than its pooling window of 2x4; it needs an "
        r"input of at least 2x2",
    ),
    (
        lambda: nn.ConvTranspose2d(3, 2, 1, padding=1)(mg.zeros(1, 3, 1, 1)),
        r"ConvTranspose2d\(in_channels=3, out_channels=2, kernel_size=\(1, 1\)\) got input of "
        r"size 1x1, which gives an output of 1x1 before padding=\(1, 1\) trims it to -1x-1",
    ),
]


@pytest.mark.parametrize(("call", "message"), SIZE_ERRORS)
def test_inputs_too_small_for_a_layer_name_the_layer_and_the_fix(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


@pytest.mark.parametrize(
    ("layer", "too_small", "large_enough"),
    [
        (lambda lib: lib.nn.Conv2d(3, 4, 5), (1, 3, 3, 5), (1, 3, 5, 5)),
        (lambda lib: lib.nn.Conv2d(3, 4, 5, dilation=2, padding=2), (1, 3, 4, 9), (1, 3, 5, 5)),
        (
            lambda lib: lib.nn.Conv1d(3, 4, 5, padding="same", padding_mode="reflect"),
            (3, 2),
            (3, 3),
        ),
        (lambda lib: lib.nn.MaxPool2d(5), (1, 1, 3, 3), (1, 1, 5, 5)),
        (lambda lib: lib.nn.MaxPool2d(5, stride=1, ceil_mode=True), (1, 1, 4, 6), (1, 1, 5, 6)),
        (lambda lib: lib.nn.MaxPool1d(3, padding=1, dilation=3), (1, 2, 4), (1, 2, 5)),
        (lambda lib: lib.nn.AvgPool2d(4, padding=1), (1, 1, 1, 5), (1, 1, 2, 5)),
        (lambda lib: lib.nn.ConvTranspose2d(3, 2, 1, padding=1), (1, 3, 2, 2), (1, 3, 3, 3)),
    ],
)
def test_layer_size_errors_are_raised_exactly_where_pytorch_raises(layer, too_small, large_enough):
    with pytest.raises(RuntimeError):
        layer(torch)(torch.zeros(too_small))
    with pytest.raises(RuntimeError, match=r"got input of (size|length)"):
        layer(mg)(mg.zeros(too_small))
    expected = layer(torch)(torch.zeros(large_enough)).shape  # just large enough for both
    assert layer(mg)(mg.zeros(large_enough)).shape == tuple(expected)


def test_loading_a_pytorch_state_dict_says_how_to_export_it():
    sd = torch.nn.Linear(3, 2).state_dict()
    with pytest.raises(RuntimeError) as err:
        nn.Linear(3, 2).load_state_dict(sd)
    msg = str(err.value)
    assert msg.startswith("Error(s) in loading state_dict for Linear:")
    assert '2 values ("weight", "bias") are PyTorch tensors, not minigrad Tensors' in msg
    assert "safetensors.torch.save_file" in msg and "minigrad.load(path)" in msg
    converted = {k: mg.tensor(v.detach().cpu().numpy()) for k, v in sd.items()}  # as it says
    assert nn.Linear(3, 2).load_state_dict(converted) == ([], [])


def test_batch_norm_input_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(got 3D input"):
        nn.BatchNorm2d(3)(mg.ones(3, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input \(got 4D"):
        nn.BatchNorm1d(3)(mg.ones(2, 3, 4, 4))
    with pytest.raises(RuntimeError, match=r"BatchNorm1d\(16\) got input with 8 channels"):
        nn.BatchNorm1d(16)(mg.ones(4, 8))


def test_conv_transpose_output_size_errors():
    up = nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1)
    with pytest.raises(ValueError, match="valid sizes for dimension 0 range from 7 to 8"):
        up(mg.ones(1, 2, 4, 4), output_size=(10, 8))


# ---------------------------------------------------------------- default initialisation

INIT_CASES = [
    ("Linear", (400, 120)),
    ("Linear", (3, 500)),
    ("Conv1d", (4, 64, 5)),
    ("Conv2d", (16, 32, 3)),
    ("Conv2d", (6, 8, (3, 5), 1, 0, 1, 2)),
    ("ConvTranspose2d", (32, 16, 4)),
]


@pytest.mark.parametrize(("name", "args"), INIT_CASES)
def test_default_init_matches_pytorch_bounds(name, args, device):
    ours = getattr(nn, name)(*args, device=device)
    theirs = getattr(torch.nn, name)(*args)
    assert ours.weight.device == device
    if device != "cpu":  # drawn on the host from one generator: the same seed, the same values
        mg.manual_seed(0)
        on_cpu = getattr(nn, name)(*args)
        for a, b in ((ours.weight, on_cpu.weight), (ours.bias, on_cpu.bias)):
            assert np.array_equal(a.detach().cpu().numpy(), b.detach().numpy())
        ours = on_cpu
    fan_in, _ = init._calculate_fan_in_and_fan_out(ours.weight)
    assert (fan_in, _) == torch.nn.init._calculate_fan_in_and_fan_out(theirs.weight)
    # kaiming_uniform_(a=sqrt(5)): bound = sqrt(6 / ((1 + 5) * fan_in)) = 1 / sqrt(fan_in)
    bound = 1 / math.sqrt(fan_in)
    for ours_t, theirs_t in ((ours.weight, theirs.weight), (ours.bias, theirs.bias)):
        w = ours_t.detach().numpy()
        assert w.shape == tuple(theirs_t.shape) and w.dtype == np.float32
        assert np.abs(w).max() <= bound
        assert float(theirs_t.detach().abs().max()) <= bound * (1 + 1e-6)
        if w.size >= 1000:  # a uniform's std is bound / sqrt(3); its max comes close to bound
            assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
            assert np.abs(w).max() > 0.95 * bound


def test_init_is_reproducible_from_the_seed():
    mg.manual_seed(7)
    a = nn.Linear(10, 10).weight.detach().clone()
    mg.manual_seed(7)
    b = nn.Linear(10, 10).weight
    c = nn.Linear(10, 10).weight
    assert mg.equal(a, b) and not mg.equal(b, c)


def test_batch_norm_initial_state():
    bn = nn.BatchNorm2d(4)
    assert bn.weight.tolist() == [1.0] * 4 and bn.bias.tolist() == [0.0] * 4
    assert bn.running_mean.tolist() == [0.0] * 4 and bn.running_var.tolist() == [1.0] * 4
    assert bn.num_batches_tracked.item() == 0
    assert nn.BatchNorm1d(3, affine=False).weight is None
    assert nn.BatchNorm1d(3, track_running_stats=False).running_mean is None
    assert nn.BatchNorm1d(3, bias=False).bias is None


# ---------------------------------------------------------------- nn.init


@pytest.mark.parametrize(
    ("nonlinearity", "param"),
    [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("selu", None),
    ],
)
def test_calculate_gain_matches_pytorch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param)
    )


def test_init_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity softsign"):
        init.calculate_gain("softsign")
    with pytest.raises(ValueError, match="negative_slope x not a valid number"):
        init.calculate_gain("leaky_relu", "x")
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_uniform_(mg.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_normal_(mg.empty(3, 4), mode="fan_avg")
    with pytest.raises(TypeError, match="expected a minigrad Tensor"):
        init.zeros_(np.zeros(3))


@pytest.mark.parametrize(
    ("fn", "kwargs", "kind", "scale"),
    [
        ("kaiming_uniform_", {}, "uniform", math.sqrt(2 / (1 + 0.01**2)) * math.sqrt(3 / 200)),
        (
            "kaiming_uniform_",
            {"mode": "fan_out", "nonlinearity": "relu"},
            "uniform",
            math.sqrt(2) * math.sqrt(3 / 300),
        ),
        ("kaiming_normal_", {"nonlinearity": "relu"}, "normal", math.sqrt(2 / 200)),
        ("xavier_uniform_", {"gain": 2.0}, "uniform", 2.0 * math.sqrt(6 / 500)),
        ("xavier_normal_", {}, "normal", math.sqrt(2 / 500)),
        ("uniform_", {"a": -0.5, "b": 1.5}, "uniform", None),
        ("normal_", {"mean": 3.0, "std": 0.5}, "normal", 0.5),
    ],
)
def test_random_init_statistics(fn, kwargs, kind, scale):
    w = nn.Parameter(mg.empty(30, 20, 10))  # fan_in 200, fan_out 300
    out = getattr(init, fn)(w, **kwargs)
    assert out is w and w.is_leaf and w.grad_fn is None
    a = w.detach().numpy()
    if fn == "uniform_":
        assert a.min() >= -0.5 and a.max() <= 1.5 and abs(a.mean() - 0.5) < 0.03
    elif kind == "uniform":
        assert np.abs(a).max() <= scale and np.abs(a).max() > 0.98 * scale
        assert abs(a.std() - scale / math.sqrt(3)) < 0.03 * scale
    else:
        assert abs(a.std() - scale) < 0.03 * scale
        assert abs(a.mean() - kwargs.get("mean", 0.0)) < 0.05 * scale


def test_constant_inits():
    w = nn.Parameter(mg.empty(2, 3))
    assert init.constant_(w, 0.25) is w and w.tolist() == [[0.25] * 3] * 2
    assert init.ones_(w).tolist() == [[1.0] * 3] * 2
    assert init.zeros_(w).tolist() == [[0.0] * 3] * 2


# ---------------------------------------------------------------- parity with torch


def _forward_backward(module, arrays, g, device, kwargs):
    """Output, input gradients and parameter gradients of ``module`` on ``device``."""
    xs = [mg.tensor(a, dtype=mg.float64, device=device, requires_grad=True) for a in arrays]
    out = module(*xs, **kwargs)
    out.backward(mg.tensor(g, dtype=mg.float64, device=device))
    return out, [x.grad for x in xs], [p.grad for _, p in module.named_parameters()]


def _parity(ours, theirs, *shapes, kwargs=None, inputs=None, rtol=1e-7, device="cpu"):
    """Same weights, same float64 input: same output, input gradient and parameter gradients
    as PyTorch; on another device, also the same numbers as a copy of the layer on the CPU."""
    kwargs = kwargs or {}
    ours.double()
    theirs.double()
    copy_from_torch(ours, theirs)
    ours.zero_grad()  # each call compares its own gradients
    theirs.zero_grad()
    on_cpu = copy.deepcopy(ours).cpu() if device != "cpu" else None
    ours.to(device)
    rng = np.random.default_rng(0)
    arrays = inputs if inputs is not None else [rng.normal(size=s) for s in shapes]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    ref = theirs(*ts, **kwargs)
    g = rng.normal(size=tuple(ref.shape))
    ref.backward(torch.tensor(g))
    out, x_grads, p_grads = _forward_backward(ours, arrays, g, device, kwargs)
    assert out.device == device
    close(out, ref, rtol=rtol)
    for gx, t in zip(x_grads, ts):
        close(gx, t.grad, rtol=rtol)
    for (name, _), gp, (_, tp) in zip(ours.named_parameters(), p_grads, theirs.named_parameters()):
        assert gp is not None, name
        close(gp, tp.grad, rtol=rtol)
    if on_cpu is not None:
        expected = _forward_backward(on_cpu, arrays, g, "cpu", kwargs)
        for a, b in zip([out, *x_grads, *p_grads], [expected[0], *expected[1], *expected[2]]):
            same_as_cpu(a, b)
        for a, b in zip(ours.state_dict().values(), on_cpu.state_dict().values()):
            same_as_cpu(a, b)  # running statistics too
    return out


PARITY = [
    ("Linear", (5, 3), {}, [(4, 5)]),
    ("Linear", (5, 3), {"bias": False}, [(2, 6, 5)]),
    ("Conv1d", (4, 6, 3), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}, [(2, 4, 11)]),
    ("Conv2d", (3, 4, 3), {}, [(2, 3, 7, 6)]),
    ("Conv2d", (4, 6, (3, 2)), {"stride": (2, 1), "padding": (1, 2), "groups": 2}, [(2, 4, 7, 6)]),
    ("Conv2d", (2, 4, 3), {"padding": "same", "dilation": 2}, [(1, 2, 6, 6)]),
    ("Conv2d", (2, 3, 3), {"padding": 1, "padding_mode": "reflect"}, [(2, 2, 5, 5)]),
    ("Conv2d", (2, 3, 3), {"padding": 2, "padding_mode": "circular"}, [(2, 2, 5, 5)]),
    ("Conv2d", (2, 3, (3, 4)), {"padding": "same", "padding_mode": "reflect"}, [(2, 2, 5, 6)]),
    (
        "Conv2d",
        (2, 4, (2, 3)),
        {"padding": "same", "padding_mode": "circular", "dilation": (1, 2), "groups": 2},
        [(1, 2, 5, 6)],
    ),
    ("Conv2d", (2, 3, 4), {"padding": "same", "padding_mode": "replicate"}, [(1, 2, 5, 4)]),
    ("Conv2d", (2, 3, 3), {"padding": "valid", "padding_mode": "reflect"}, [(1, 2, 5, 4)]),
    ("Conv1d", (2, 3, 4), {"padding": "same", "padding_mode": "circular"}, [(2, 2, 7)]),
    (
        "Conv1d",
        (2, 3, 3),
        {"padding": "same", "padding_mode": "reflect", "dilation": 2},
        [(2, 2, 7)],
    ),
    ("Conv1d", (2, 3, 5), {"padding": 2, "padding_mode": "replicate", "stride": 2}, [(2, 2, 9)]),
    (
        "ConvTranspose2d",
        (4, 2, 3),
        {"stride": 2, "padding": 1, "output_padding": 1},
        [(2, 4, 4, 5)],
    ),
    ("ConvTranspose2d", (4, 6, 2), {"stride": 2, "groups": 2, "bias": False}, [(1, 4, 3, 3)]),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}, [(2, 3, 10)]),
    ("MaxPool2d", (2,), {}, [(2, 3, 6, 6)]),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, [(1, 2, 7, 7)]),
    ("MaxPool2d", (5,), {"stride": 2, "padding": 2, "dilation": (1, 2)}, [(1, 2, 7, 9)]),
    ("MaxPool1d", (4,), {"padding": 2, "ceil_mode": True}, [(2, 3, 9)]),
    ("AvgPool2d", (2,), {}, [(2, 3, 6, 6)]),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}, [(1, 2, 7, 7)]),
    ("AvgPool2d", ((4, 5),), {"stride": 3, "padding": 2, "ceil_mode": True}, [(1, 2, 8, 9)]),
    ("AdaptiveAvgPool2d", ((3, 2),), {}, [(2, 3, 7, 5)]),
    ("AdaptiveAvgPool2d", (1,), {}, [(2, 3, 4, 4)]),
    ("ReLU", (), {}, [(3, 4)]),
    ("LeakyReLU", (0.2,), {}, [(3, 4)]),
    ("Sigmoid", (), {}, [(3, 4)]),
    ("Tanh", (), {}, [(3, 4)]),
    ("GELU", (), {}, [(3, 4)]),
    ("GELU", ("tanh",), {}, [(3, 4)]),
    ("Softmax", (1,), {}, [(3, 4)]),
    ("LogSoftmax", (-1,), {}, [(2, 3, 4)]),
    ("Flatten", (), {}, [(2, 3, 4, 5)]),
    ("Flatten", (0, 1), {}, [(2, 3, 4)]),
    ("Unflatten", (1, (3, 4)), {}, [(2, 12)]),
    ("Identity", (), {}, [(2, 3)]),
    ("Upsample", (), {"scale_factor": 2}, [(1, 2, 3, 4)]),
    ("Upsample", (), {"size": (5, 7), "mode": "bilinear", "align_corners": False}, [(1, 2, 3, 4)]),
    ("Upsample", (), {"scale_factor": 3, "mode": "linear", "align_corners": True}, [(1, 2, 4)]),
    ("MSELoss", (), {}, [(3, 4), (3, 4)]),
    ("MSELoss", (), {"reduction": "sum"}, [(3, 4), (3, 4)]),
]


@pytest.mark.parametrize(("name", "args", "kwargs", "shapes"), PARITY)
def test_layer_parity_with_pytorch(name, args, kwargs, shapes, device):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    _parity(ours, theirs, *shapes, device=device)


def test_conv_transpose_output_size_parity(device):
    ours, theirs = (
        nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1),
        torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1),
    )
    out = _parity(ours, theirs, (1, 3, 4, 4), kwargs={"output_size": (8, 8)}, device=device)
    assert out.shape == (1, 2, 8, 8)


def _loss_and_grad(loss, x, target, device, log_softmax=False):
    """``loss(x, target)`` and the gradient of its sum in ``x`` (float64, on ``device``)."""
    loss.to(device)
    xm = mg.tensor(x, device=device, requires_grad=True)
    tm = mg.tensor(target, device=device)
    out = loss(xm.log_softmax(1) if log_softmax else xm, tm)
    out.sum().backward()
    return out, xm.grad


CLASSIFICATION_LOSSES = [
    ("CrossEntropyLoss", {}),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "reduction": "sum"}),
    ("CrossEntropyLoss", {"weight": [1.0, 2.0, 0.5, 1.5], "ignore_index": 3}),
    ("NLLLoss", {"weight": [1.0, 2.0, 0.5, 1.5]}),
    ("NLLLoss", {"reduction": "none", "ignore_index": 1}),
]


@pytest.mark.parametrize(("name", "kw"), CLASSIFICATION_LOSSES)
def test_classification_losses_parity(name, kw, device):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(6, 4))
    labels = np.array([0, 3, 1, 1, 2, 3])

    def build(lib):
        dtype = mg.float64 if lib is mg else torch.float64
        kwargs = {k: lib.tensor(v, dtype=dtype) if k == "weight" else v for k, v in kw.items()}
        return getattr(lib.nn, name)(**kwargs)

    ours, theirs = build(mg), build(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    out, grad = _loss_and_grad(ours, logits, labels, device, name == "NLLLoss")
    t = torch.tensor(logits, requires_grad=True)
    ref = theirs(t.log_softmax(1) if name == "NLLLoss" else t, torch.tensor(labels))
    ref.sum().backward()
    close(out, ref)
    close(grad, t.grad)
    if device != "cpu":
        expected = _loss_and_grad(build(mg), logits, labels, "cpu", name == "NLLLoss")
        for a, b in zip((out, grad), expected):
            same_as_cpu(a, b)


def test_bce_with_logits_parity(device):
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(5, 3)), rng.uniform(size=(5, 3))
    w, pw = rng.uniform(size=3), np.array([1.0, 2.0, 3.0])

    def build():
        return nn.BCEWithLogitsLoss(weight=mg.tensor(w), pos_weight=mg.tensor(pw))

    ours = build()
    theirs = torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(pw))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "pos_weight"]
    out, grad = _loss_and_grad(ours, x, y, device)
    b = torch.tensor(x, requires_grad=True)
    ref = theirs(b, torch.tensor(y))
    ref.backward()
    close(out, ref)
    close(grad, b.grad)
    if device != "cpu":
        for a, e in zip((out, grad), _loss_and_grad(build(), x, y, "cpu")):
            same_as_cpu(a, e)


@pytest.mark.parametrize(
    ("name", "kwargs", "shape"),
    [
        ("BatchNorm1d", {}, (8, 3)),
        ("BatchNorm1d", {"momentum": None}, (4, 3, 5)),
        ("BatchNorm2d", {"momentum": 0.3}, (4, 3, 5, 5)),
        ("BatchNorm2d", {"affine": False}, (2, 3, 4, 4)),
        ("BatchNorm2d", {"track_running_stats": False}, (2, 3, 4, 4)),
    ],
)
def test_batch_norm_train_and_eval_parity(name, kwargs, shape, device):
    ours, theirs = getattr(nn, name)(3, **kwargs), getattr(torch.nn, name)(3, **kwargs)
    if ours.affine:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
            theirs.bias.uniform_(-0.5, 0.5)
    for _ in range(2):  # training updates the running statistics (twice)
        _parity(ours, theirs, shape, device=device)
    for (_, v), (_, tv) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert v.device == device
        close(v, tv, rtol=1e-10)
    ours.eval()
    theirs.eval()
    _parity(ours, theirs, shape, device=device)  # eval uses the running statistics (if tracked)


def test_dropout_train_and_eval():
    x = mg.ones(200, 50)
    drop = nn.Dropout(0.3)
    y = drop(x)
    kept = (y != 0).float().mean().item()
    assert abs(kept - 0.7) < 0.02
    assert np.allclose(y.numpy()[y.numpy() != 0], 1 / 0.7)
    drop.eval()
    assert mg.equal(drop(x), x)
    assert mg.equal(nn.Dropout(0.0)(x), x)
    assert nn.Dropout(1.0)(x).abs().sum().item() == 0


@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 3, 4), (2, 3, 4, 2)])
@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax"])
def test_softmax_without_dim_warns_and_picks_pytorchs_dim(name, shape):
    x = np.random.default_rng(0).normal(size=shape)
    with pytest.warns(UserWarning, match="Implicit dimension choice") as record:
        y = getattr(nn, name)()(mg.tensor(x))
    assert record[0].filename == __file__  # the warning points at the caller's line
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        expected = getattr(torch.nn, name)()(torch.tensor(x))
    close(y, expected, rtol=1e-12)


def test_lenet_parity_in_eval_and_train(device):
    ours, theirs = lenet(mg), lenet(torch)
    ours.eval()
    theirs.eval()
    _parity(ours, theirs, (2, 1, 28, 28), rtol=1e-6, device=device)
    ours.drop.p = theirs.drop.p = 0.0  # dropout masks differ between libraries
    ours.train()
    theirs.train()
    _parity(ours, theirs, (3, 1, 28, 28), rtol=1e-6, device=device)
