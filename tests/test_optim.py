"""``minigrad.optim``: SGD, Adam, AdamW and RMSprop follow PyTorch step for step; parameter groups,
state dicts, freezing, learning-rate schedules, gradient clipping and argument errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim
from minigrad.optim import lr_scheduler

torch = pytest.importorskip("torch")


def cnn(lib):
    """conv -> relu -> maxpool -> linear, over (N, 2, 8, 8) input, 3 classes."""
    n = lib.nn
    return n.Sequential(
        n.Conv2d(2, 4, 3), n.ReLU(), n.MaxPool2d(2), n.Flatten(), n.Linear(4 * 3 * 3, 3)
    )


def twins(seed=0, device="cpu"):
    """The same float64 CNN in minigrad (on ``device``) and torch (torch's initial weights
    copied over)."""
    torch.manual_seed(seed)
    theirs = cnn(torch).double()
    ours = cnn(mg).double().to(device)
    ours.load_state_dict({k: mg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def batch(seed=0, n=6):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2, 8, 8)), rng.integers(0, 3, size=n)


def train_step(model, opt, x, y, lib, device="cpu"):
    opt.zero_grad()
    if lib is mg:
        x, y = mg.tensor(x, device=device), mg.tensor(y, device=device)
        loss = nn.functional.cross_entropy(model(x), y)
    else:
        loss = torch.nn.functional.cross_entropy(model(torch.tensor(x)), torch.tensor(y))
    loss.backward()
    opt.step()
    return loss.item()


def host(t):
    return t.detach().cpu().numpy()


def assert_same_params(ours, theirs, rtol=1e-6):
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(host(p), host(tp), rtol=rtol, atol=1e-12, err_msg=name)


def assert_same_as_cpu(ours, on_cpu):
    """Parameters trained on another device against the same training on the CPU: equal up to
    the last bits a different summation order may change (float64)."""
    for (name, p), (_, q) in zip(ours.named_parameters(), on_cpu.named_parameters()):
        assert p.device != "cpu" and q.device == "cpu"
        np.testing.assert_allclose(host(p), host(q), rtol=1e-12, atol=1e-14, err_msg=name)


class OnCpu:
    """For a run on another device: the same model and optimizer on the CPU, stepped alongside
    (a no-op when the device is the CPU)."""

    def __init__(self, device, make_model, make_opt):
        self.active = device != "cpu"
        if self.active:
            self.model = make_model("cpu")
            self.opt = make_opt(self.model)

    def step(self, x, y, loss=None):
        if self.active:
            cpu_loss = train_step(self.model, self.opt, x, y, mg)
            if loss is not None:
                assert loss == pytest.approx(cpu_loss, rel=1e-12)

    def check(self, model):
        if self.active:
            assert_same_as_cpu(model, self.model)


CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "maximize": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.9, "alpha": 0.9}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
]


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS)
def test_twenty_steps_match_pytorch(name, kwargs, device):
    ours, theirs = twins(device=device)
    opt = getattr(optim, name)(ours.parameters(), **kwargs)
    topt = getattr(torch.optim, name)(theirs.parameters(), **kwargs)
    cpu = OnCpu(
        device,
        lambda d: twins(device=d)[0],
        lambda m: getattr(optim, name)(m.parameters(), **kwargs),
    )
    for step in range(20):
        x, y = batch(step)
        loss = train_step(ours, opt, x, y, mg, device)
        tloss = train_step(theirs, topt, x, y, torch)
        assert loss == pytest.approx(tloss, rel=1e-6)
        cpu.step(x, y, loss)
    assert_same_params(ours, theirs)
    cpu.check(ours)
    # the state has PyTorch's names and values
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd["param_groups"][0]["params"] == tsd["param_groups"][0]["params"]
    assert set(sd["param_groups"][0]) <= set(tsd["param_groups"][0])
    assert sorted(sd["state"]) == sorted(tsd["state"])
    for i, state in sd["state"].items():
        assert set(state) == set(tsd["state"][i])
        for key, value in state.items():
            ref = tsd["state"][i][key]
            if key == "step":
                assert value == int(ref.item()) == 20
            else:
                assert value.device == device
                np.testing.assert_allclose(host(value), ref.numpy(), rtol=1e-6, atol=1e-12)


def test_param_groups_with_different_learning_rates_match_pytorch(device):
    ours, theirs = twins(1, device)

    def groups(model):
        return [
            {"params": model[0].parameters(), "lr": 0.1},
            {"params": model[4].parameters(), "momentum": 0.5},
        ]

    opt = optim.SGD(groups(ours), lr=0.02, momentum=0.9)
    topt = torch.optim.SGD(groups(theirs), lr=0.02, momentum=0.9)
    cpu = OnCpu(
        device, lambda d: twins(1, d)[0], lambda m: optim.SGD(groups(m), lr=0.02, momentum=0.9)
    )
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.02]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.5]
    for step in range(10):
        x, y = batch(step)
        cpu.step(x, y, train_step(ours, opt, x, y, mg, device))
        train_step(theirs, topt, x, y, torch)
    assert_same_params(ours, theirs)
    cpu.check(ours)
    assert opt.state_dict()["param_groups"][1]["params"] == [2, 3]


def test_add_param_group_and_group_errors():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    opt = optim.Adam(a.parameters(), lr=0.1)
    opt.add_param_group({"params": b.parameters(), "lr": 0.01})
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="some parameters appear in more than one"):
        opt.add_param_group({"params": [a.weight]})
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        opt.add_param_group({"params": [nn.Parameter(mg.ones(1))], "lr": -1})
    with pytest.raises(TypeError, match="need to be organized in ordered collections"):
        optim.SGD([{"params": {a.weight}}])
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([a.weight, 3.0])
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([a.weight * 2])
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts"):
        optim.SGD(a.weight)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_state_dict_round_trip_continues_identically(name, tmp_path, device):
    kwargs = {"lr": 0.01, "momentum": 0.9} if name in ("SGD", "RMSprop") else {"lr": 0.01}
    model, _ = twins(2, device)
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    cpu = OnCpu(
        device, lambda d: twins(2, d)[0], lambda m: getattr(optim, name)(m.parameters(), **kwargs)
    )
    for step in range(5):
        cpu.step(*batch(step), train_step(model, opt, *batch(step), mg, device))
    mg.save({"model": model.state_dict(), "optim": opt.state_dict(), "step": 5}, tmp_path / "c")
    for step in range(5, 10):
        cpu.step(*batch(step), train_step(model, opt, *batch(step), mg, device))

    ckpt = mg.load(tmp_path / "c")
    assert all(v.device == device for v in ckpt["model"].values())
    resumed = cnn(mg).double().to(device)
    resumed.load_state_dict(ckpt["model"])
    opt2 = getattr(optim, name)(resumed.parameters(), lr=1.0)  # lr comes from the checkpoint
    opt2.load_state_dict(ckpt["optim"])
    assert opt2.param_groups[0]["lr"] == 0.01
    for step in range(ckpt["step"], 10):
        train_step(resumed, opt2, *batch(step), mg, device)
    for p, q in zip(model.parameters(), resumed.parameters()):
        assert p.device == q.device == device
        assert mg.equal(p, q)
    cpu.check(resumed)


def test_load_state_dict_copies_and_places_state(device):
    model = nn.Linear(3, 2).to(device)
    opt = optim.Adam(model.parameters())
    model(mg.ones(1, 3, device=device)).sum().backward()
    opt.step()
    sd = opt.state_dict()
    assert sd["state"][0]["exp_avg"].device == device
    for where in ("cpu", device):  # the state follows the parameters, whatever it was saved on
        other = nn.Linear(3, 2).double().to(where)
        opt2 = optim.Adam(other.parameters())
        opt2.load_state_dict(sd)
        state = opt2.state[other.weight]
        assert state["exp_avg"].dtype is mg.float64 and state["step"] == 1
        assert state["exp_avg"].device == where
        assert state["exp_avg"] is not sd["state"][0]["exp_avg"]
        np.testing.assert_array_equal(host(state["exp_avg"]), host(sd["state"][0]["exp_avg"]))
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt2.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.Adam([other.weight]).load_state_dict(sd)
    with pytest.raises(ValueError, match="has shape \\[2, 3\\], but the parameter has shape"):
        optim.Adam(nn.Linear(4, 2).parameters()).load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt2.load_state_dict({"state": {}})


def test_frozen_parameters_and_missing_grads_are_skipped(device):
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 2)).to(device)
    unused = nn.Parameter(mg.ones(2, device=device))
    model[0].weight.requires_grad_(False)
    opt = optim.Adam([*model.parameters(), unused], lr=0.1)
    frozen, live = model[0].weight.detach().clone(), model[1].weight.detach().clone()
    model(mg.randn(4, 3, device=device)).pow(2).sum().backward()
    opt.step()
    assert mg.equal(model[0].weight, frozen)
    assert not mg.equal(model[1].weight, live)
    assert unused.tolist() == [1.0, 1.0] and unused not in opt.state
    assert len(opt.state) == 3


def test_zero_grad_and_closure(device):
    model = nn.Linear(3, 1).to(device)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x = mg.randn(4, 3, device=device)

    def closure():
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        return loss

    with mg.no_grad():  # the closure still records a graph
        first = opt.step(closure)
    second = opt.step(closure)
    assert second.item() < first.item()
    opt.zero_grad(set_to_none=False)
    assert model.weight.grad.abs().sum().item() == 0
    opt.zero_grad()
    assert model.weight.grad is None


def test_repr_lists_groups():
    opt = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.5)
    assert repr(opt).startswith("SGD (\nParameter Group 0\n    dampening: 0\n    lr: 0.5\n")


def _torch_message(build):
    with pytest.raises((ValueError, TypeError)) as err:
        build(torch)
    return str(err.value)


ERRORS = [
    lambda lib, p: lib.optim.SGD(p, lr=-0.1),
    lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=-0.5),
    lambda lib, p: lib.optim.SGD(p, lr=0.1, weight_decay=-1e-4),
    lambda lib, p: lib.optim.SGD(p, lr=0.1, nesterov=True),
    lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
    lambda lib, p: lib.optim.Adam(p, lr=-1.0),
    lambda lib, p: lib.optim.Adam(p, betas=(1.5, 0.999)),
    lambda lib, p: lib.optim.Adam(p, betas=(0.9, 1.0)),
    lambda lib, p: lib.optim.Adam(p, eps=-1e-8),
    lambda lib, p: lib.optim.AdamW(p, weight_decay=-0.1),
    lambda lib, p: lib.optim.RMSprop(p, alpha=-0.9),
    lambda lib, p: lib.optim.RMSprop(p, momentum=-0.9),
    lambda lib, p: lib.optim.RMSprop(p, eps=-1.0),
]


@pytest.mark.parametrize("build", ERRORS)
def test_argument_errors_match_pytorchs_messages(build):
    with pytest.raises(ValueError) as ours:
        build(mg, [nn.Parameter(mg.ones(1))])
    with pytest.raises(ValueError) as theirs:
        build(torch, [torch.nn.Parameter(torch.ones(1))])
    assert str(ours.value) == str(theirs.value)


def test_empty_parameter_list():
    with pytest.raises(ValueError, match="^optimizer got an empty parameter list$"):
        optim.Adam([])


# ---------------------------------------------------------------- schedules


def _lrs(lib, make, steps=25, device="cpu"):
    """The lr of two parameter groups after each epoch (the parameters on ``device``; torch's
    on the CPU)."""
    ones = (lambda: mg.ones(1, device=device)) if lib is mg else (lambda: torch.ones(1))
    groups = [{"params": [lib.nn.Parameter(ones())]} for _ in range(2)]
    groups[1]["lr"] = 0.05
    opt = lib.optim.SGD(groups, lr=0.1)
    sched = make(lib.optim.lr_scheduler, opt)
    seq = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        seq.append(sched.get_last_lr())
        assert [g["lr"] for g in opt.param_groups] == seq[-1]
    return seq, sched, opt


SCHEDULES = [
    lambda s, o: s.StepLR(o, step_size=4),
    lambda s, o: s.StepLR(o, step_size=3, gamma=0.5),
    lambda s, o: s.MultiStepLR(o, milestones=[3, 7, 7, 12], gamma=0.3),
    lambda s, o: s.ExponentialLR(o, gamma=0.9),
    lambda s, o: s.CosineAnnealingLR(o, T_max=10),
    lambda s, o: s.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
    lambda s, o: s.CosineAnnealingLR(o, T_max=7.5, eta_min=0.01),
    lambda s, o: s.CosineAnnealingLR(o, T_max=2.5),
]


@pytest.mark.parametrize("make", SCHEDULES)
def test_schedules_match_pytorch(make, device):
    ours, _, opt = _lrs(mg, make, device=device)
    theirs, _, _ = _lrs(torch, make)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert all(p.device == device for g in opt.param_groups for p in g["params"])


@pytest.mark.parametrize("make", SCHEDULES)
def test_schedule_state_dict_resumes(make, tmp_path, device):
    full, _, _ = _lrs(mg, make, steps=20, device=device)
    _, sched, opt = _lrs(mg, make, steps=8, device=device)
    mg.save({"sched": sched.state_dict(), "opt": opt.state_dict()}, tmp_path / "s")
    ckpt = mg.load(tmp_path / "s")
    groups = [{"params": [nn.Parameter(mg.ones(1, device=device))]} for _ in range(2)]
    opt2 = optim.SGD(groups, lr=1.0)
    opt2.load_state_dict(ckpt["opt"])
    sched2 = make(lr_scheduler, opt2)
    sched2.load_state_dict(ckpt["sched"])
    assert sched2.last_epoch == 8
    for i in range(9, 21):
        opt2.step()
        sched2.step()
        np.testing.assert_allclose(sched2.get_last_lr(), full[i], rtol=1e-12)


def test_closed_form_step_with_epoch():
    opt = optim.SGD([nn.Parameter(mg.ones(1))], lr=1.0)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.0)
    sched.step(5)
    assert sched.get_last_lr()[0] == pytest.approx(0.5)
    sched = lr_scheduler.MultiStepLR(optim.SGD([nn.Parameter(mg.ones(1))], lr=1.0), [2, 4])
    sched.step(4)
    assert sched.get_last_lr()[0] == pytest.approx(0.01)


def test_scheduler_errors():
    opt = optim.SGD([nn.Parameter(mg.ones(1))], lr=1.0)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR("sgd", 2)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.ExponentialLR(opt, 0.9, last_epoch=3)
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        lr_scheduler.StepLR(opt, 0)
    for bad in (0, -2.5, float("nan"), True, "10"):
        with pytest.raises(
            ValueError, match=f"T_max must be a positive number of epochs, got {bad!r}"
        ):
            lr_scheduler.CosineAnnealingLR(opt, bad)


# ---------------------------------------------------------------- clipping


def _grads_pair(seed=0, device="cpu"):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=s) for s in [(3, 4), (4,), (2, 2, 2)]]
    ours = [nn.Parameter(mg.zeros(a.shape, dtype=mg.float64, device=device)) for a in arrays]
    theirs = [torch.nn.Parameter(torch.zeros(a.shape, dtype=torch.float64)) for a in arrays]
    for p, tp, a in zip(ours, theirs, arrays):
        p.grad = mg.tensor(a, device=device)
        tp.grad = torch.tensor(a)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm, device):
    ours, theirs = _grads_pair(device=device)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, mg.Tensor) and total.ndim == 0 and total.device == device
    assert total.item() == pytest.approx(ref.item(), rel=1e-12)
    for p, tp in zip(ours, theirs):
        assert p.grad.device == device
        np.testing.assert_allclose(host(p.grad), tp.grad.numpy(), rtol=1e-12)
    if max_norm == 0.5:
        assert nn.utils.clip_grad_norm_(ours, 1e9, norm_type).item() == pytest.approx(0.5, rel=1e-5)


def test_clip_grad_norm_edge_cases():
    p = nn.Parameter(mg.ones(3))
    assert nn.utils.clip_grad_norm_([p], 1.0).item() == 0.0  # no gradients at all
    p.grad = mg.tensor([3.0, 4.0, 0.0])
    assert nn.utils.clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)  # a single tensor
    assert np.allclose(p.grad.numpy(), [0.6, 0.8, 0.0], rtol=1e-5)
    p.grad = mg.tensor([float("inf"), 1.0, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="norm_type must be positive"):
        nn.utils.clip_grad_norm_([p], 1.0, norm_type=0)


def test_clip_grad_value_and_vector_conversions_match_pytorch(device):
    ours, theirs = _grads_pair(1, device)
    nn.utils.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, tp in zip(ours, theirs):
        np.testing.assert_array_equal(host(p.grad), tp.grad.numpy())
    vec = nn.utils.parameters_to_vector(ours)
    assert vec.shape == (12 + 4 + 8,) and vec.device == device
    nn.utils.vector_to_parameters(mg.arange(24, dtype=mg.float64, device=device), ours)
    assert ours[1].tolist() == [12.0, 13.0, 14.0, 15.0]
    with pytest.raises(ValueError, match="vec has 3 elements but the parameters hold 24"):
        nn.utils.vector_to_parameters(mg.ones(3), ours)
