"""Same seed, same numbers: initial weights, dropout masks, DataLoader order and the weights after
a few training steps, run to run in one process, in fresh processes with different hash seeds,
and between devices "cpu" and "cuda"."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import backend, nn
from minigrad.testing import fakecupy


@pytest.fixture
def cuda_ready(monkeypatch):
    """Device "cuda" usable: CuPy when there is a GPU, else the strict CPU stand-in."""
    if not mg.cuda.is_available():
        monkeypatch.setenv("MINIGRAD_FAKE_CUDA", "1")
        monkeypatch.setattr(backend, "_cuda_module", fakecupy)


DEVICES = ["cpu", "cuda"]


def small_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(4 * 4 * 4, 3),
    )


def host(state: dict) -> dict:
    return {k: v.cpu().numpy() for k, v in state.items()}


def init_weights(seed: int, device: str) -> dict:
    mg.manual_seed(seed)
    mg.set_default_device(device)
    model = small_cnn()
    assert all(p.device == device for p in model.parameters())
    return host(model.state_dict())


def dropout_mask(seed: int, device: str) -> np.ndarray:
    mg.manual_seed(seed)
    out = nn.functional.dropout(mg.ones(4, 50, device=device), p=0.5, training=True)
    return out.cpu().numpy()


def loader_order(seed: int, device: str, epochs: int = 2) -> list[list[int]]:
    mg.manual_seed(seed)
    data = mg.data.TensorDataset(mg.arange(20))
    loader = mg.data.DataLoader(data, batch_size=20, shuffle=True, device=device)
    return [next(iter(loader))[0].tolist() for _ in range(epochs)]


def train(seed: int, device: str, steps: int = 2) -> tuple[dict, list[float]]:
    mg.manual_seed(seed)
    mg.set_default_device(device)
    model = small_cnn()
    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    data = mg.data.TensorDataset(mg.randn(24, 1, 8, 8), mg.randint(0, 3, (24,)))
    loader = mg.data.DataLoader(data, batch_size=8, shuffle=True, device=device)
    losses = []
    for _ in range(steps):
        for x, y in loader:
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return host(model.state_dict()), losses


def assert_states_equal(a: dict, b: dict, **tol) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if tol:
            np.testing.assert_allclose(a[k], b[k], err_msg=k, **tol)
        else:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def states_differ(a: dict, b: dict) -> bool:
    return any(not np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("device", DEVICES)
def test_initial_weights_repeat_run_to_run(device, cuda_ready):
    assert_states_equal(init_weights(0, device), init_weights(0, device))
    assert states_differ(init_weights(0, device), init_weights(1, device))


def test_initial_weights_same_on_cpu_and_cuda(cuda_ready):
    assert_states_equal(init_weights(3, "cpu"), init_weights(3, "cuda"))


@pytest.mark.parametrize("device", DEVICES)
def test_dropout_mask_repeats_run_to_run(device, cuda_ready):
    a = dropout_mask(0, device)
    np.testing.assert_array_equal(a, dropout_mask(0, device))
    assert set(np.unique(a)) == {0.0, 2.0}  # kept values are scaled by 1 / (1 - p)
    assert not np.array_equal(a, dropout_mask(1, device))


def test_dropout_mask_same_on_cpu_and_cuda(cuda_ready):
    np.testing.assert_array_equal(dropout_mask(5, "cpu"), dropout_mask(5, "cuda"))


@pytest.mark.parametrize("device", DEVICES)
def test_dataloader_order_repeats_run_to_run(device, cuda_ready):
    a = loader_order(0, device)
    assert a == loader_order(0, device)
    assert sorted(a[0]) == list(range(20)) and a[0] != list(range(20))
    assert a[0] != a[1]  # each epoch draws a fresh permutation
    assert a != loader_order(1, device)


def test_dataloader_order_same_on_cpu_and_cuda(cuda_ready):
    assert loader_order(7, "cpu") == loader_order(7, "cuda")


@pytest.mark.parametrize("device", DEVICES)
def test_training_repeats_run_to_run(device, cuda_ready):
    a, losses_a = train(0, device)
    b, losses_b = train(0, device)
    assert losses_a == losses_b
    assert_states_equal(a, b)
    assert states_differ(a, init_weights(0, device))  # the steps changed the weights
    assert states_differ(a, train(1, device)[0])


def test_training_same_on_cpu_and_cuda(cuda_ready):
    a, losses_a = train(0, "cpu")
    b, losses_b = train(0, "cuda")
    # the same draws and the same batches; only floating-point summation order may differ
    np.testing.assert_allclose(losses_a, losses_b, rtol=1e-5)
    assert_states_equal(a, b, rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------- fresh processes
def whole_run(seed: int, device: str) -> dict[str, np.ndarray]:
    """Everything drawn from one seed, in order: initial weights, a dropout mask, the order in
    which a shuffled loader hands out samples over two epochs, the losses and the final weights."""
    mg.manual_seed(seed)
    mg.set_default_device(device)
    model = small_cnn()
    # copies: on cpu, .numpy() shares memory with the parameters that training then changes
    out = {f"init.{k}": v.copy() for k, v in host(model.state_dict()).items()}
    out["dropout"] = dropout_mask_now(device)
    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    data = mg.data.TensorDataset(mg.randn(24, 1, 8, 8), mg.randint(0, 3, (24,)), mg.arange(24))
    loader = mg.data.DataLoader(data, batch_size=8, shuffle=True, device=device)
    order, losses = [], []
    for _ in range(2):
        for x, y, index in loader:
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            order += index.tolist()
            losses.append(loss.item())
    out["order"] = np.array(order)
    out["losses"] = np.array(losses)
    out.update({f"final.{k}": v for k, v in host(model.state_dict()).items()})
    return out


def dropout_mask_now(device: str) -> np.ndarray:
    return nn.functional.dropout(mg.ones(4, 50, device=device), p=0.5, training=True).cpu().numpy()


def digests(run: dict[str, np.ndarray]) -> dict[str, str]:
    """SHA-256 of each array's dtype, shape and bytes: equal digests mean bitwise equal arrays."""
    out = {}
    for name, a in run.items():
        a = np.ascontiguousarray(a)
        h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
        out[name] = h.hexdigest()
    return out


CHILD = (
    "import json, sys\n"
    "from tests.test_determinism import digests, whole_run\n"
    "print(json.dumps(digests(whole_run(int(sys.argv[1]), sys.argv[2]))))\n"
)


def test_fresh_processes_give_bitwise_identical_runs_on_cpu_and_the_cuda_stand_in():
    root = pathlib.Path(__file__).parents[1]
    base = {
        k: v for k, v in os.environ.items() if k not in ("MINIGRAD_FAKE_CUDA", "MINIGRAD_DEVICE")
    }
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), base.get("PYTHONPATH")]))
    runs = {  # name: (device, extra environment)
        "cpu, hash seed 1": ("cpu", {"PYTHONHASHSEED": "1"}),
        "cpu, hash seed 2": ("cpu", {"PYTHONHASHSEED": "2"}),
        "cuda stand-in, hash seed 3": ("cuda", {"PYTHONHASHSEED": "3", "MINIGRAD_FAKE_CUDA": "1"}),
    }
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-c", CHILD, "0", device],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=root,
            env=dict(base, **extra),
        )
        for name, (device, extra) in runs.items()
    }
    got = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"{name}: {err}"
        got[name] = json.loads(out)
        print(f"{name}: " + " ".join(f"{k}={v[:12]}" for k, v in got[name].items()))
    reference = got["cpu, hash seed 1"]
    assert {"dropout", "order", "losses", "init.0.weight", "final.5.bias"} <= reference.keys()
    assert reference["init.5.weight"] != reference["final.5.weight"]  # training moved them
    for name, d in got.items():
        differ = [k for k in reference if d.get(k) != reference[k]]
        assert d.keys() == reference.keys() and not differ, f"{name} differs in {differ}"
    # this process agrees with its children, and another seed changes every drawn quantity
    assert digests(whole_run(0, "cpu")) == reference
    other = digests(whole_run(1, "cpu"))
    assert all(other[k] != reference[k] for k in ("dropout", "order", "losses", "final.5.weight"))
