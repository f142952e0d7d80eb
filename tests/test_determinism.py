"""Same seed, same numbers: initial weights, dropout masks, DataLoader order and the weights after
a few training steps, run to run in one process and between devices "cpu" and "cuda"."""

from __future__ import annotations

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
