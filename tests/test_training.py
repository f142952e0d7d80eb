"""End to end: small models written as in PyTorch train (the loss falls), run backward through
every layer, and survive a save/load round trip."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim
from tests.conftest import DEVICES


def bars(n: int, size: int = 16, seed: int = 0):
    """Images of a horizontal (class 0) or vertical (class 1) bright bar, plus noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.3, size=(n, 1, size, size))
    y = rng.integers(0, 2, size=n)
    for i in range(n):
        k = rng.integers(2, size - 2)
        if y[i] == 0:
            x[i, 0, k - 1 : k + 1, :] += 1.0
        else:
            x[i, 0, :, k - 1 : k + 1] += 1.0
    return mg.tensor(x, dtype=mg.float32), mg.tensor(y)


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 2 * 2, 32)
        self.fc2 = nn.Linear(32, 2)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))  # (N, 6, 8, 8)
        x = self.pool(F.relu(self.conv2(x)))  # (N, 16, 2, 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


@pytest.mark.parametrize("device", DEVICES)
def test_lenet_learns_bars(device):
    mg.manual_seed(0)
    model = LeNet().to(device)
    x, y = bars(48)
    x, y = x.to(device), y.to(device)
    opt = optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
    model.eval()
    with mg.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    assert accuracy >= 0.9


def autoencoder():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=2, padding=1),  # (N, 8, 8, 8)
        nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1),  # (N, 16, 4, 4)
        nn.ReLU(),
        nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1),  # (N, 8, 8, 8)
        nn.ReLU(),
        nn.Upsample(scale_factor=2),  # (N, 8, 16, 16)
        nn.Conv2d(8, 1, 3, padding=1),
        nn.Sigmoid(),
    )


def test_conv_autoencoder_shapes_gradients_and_training():
    mg.manual_seed(1)
    model = autoencoder()
    x = (bars(4, seed=1)[0] > 0.5).float()  # binary images of bars
    shapes = []
    for layer in model:
        layer.register_forward_hook(lambda mod, args, out: shapes.append(tuple(out.shape)))
    out = model(x)
    assert out.shape == x.shape
    assert shapes[3] == (4, 16, 4, 4) and shapes[4] == (4, 8, 8, 8) and shapes[6] == (4, 8, 16, 16)
    loss = F.mse_loss(out, x)
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name
        assert p.grad.abs().sum().item() > 0, name
    opt = optim.Adam(model.parameters(), lr=0.01)
    first = loss.item()
    for _ in range(40):
        opt.zero_grad()
        loss = F.mse_loss(model(x), x)
        loss.backward()
        opt.step()
    assert loss.item() < 0.6 * first


def test_conv1d_net_learns_frequencies():
    rng = np.random.default_rng(2)
    t = np.linspace(0, 1, 40)
    y = rng.integers(0, 2, size=32)
    freq = np.where(y == 0, 2.0, 6.0)[:, None]
    x = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)], axis=1)
    x = x + rng.normal(0, 0.2, size=x.shape)
    mg.manual_seed(2)
    model = nn.Sequential(
        nn.Conv1d(2, 8, 5, padding=2),  # (N, 8, 40)
        nn.ReLU(),
        nn.MaxPool1d(2),  # (N, 8, 20)
        nn.Conv1d(8, 8, 3),  # (N, 8, 18)
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(8 * 18, 2),
    )
    xs, ys = mg.tensor(x, dtype=mg.float32), mg.tensor(y)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        loss = F.cross_entropy(model(xs), ys)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


class Block(nn.Module):
    """A ResNet basic block: conv-bn-relu-conv-bn plus the input, then relu."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + x)


def small_resnet():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        Block(8),
        nn.MaxPool2d(2),
        Block(8),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 2),
    )


def test_small_resnet_trains_with_schedule_and_clipping_and_reloads(tmp_path):
    mg.manual_seed(3)
    model = small_resnet()
    x, y = bars(16, size=12, seed=3)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    sched = optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
    losses = []
    for _ in range(10):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    assert sched.get_last_lr() == [pytest.approx(0.025)]
    assert model[1].num_batches_tracked.item() == 10

    model.eval()
    with mg.no_grad():
        expected = model(x)
    mg.save({"model": model.state_dict(), "optim": opt.state_dict()}, tmp_path / "resnet.mg")
    restored = small_resnet()
    restored.load_state_dict(mg.load(tmp_path / "resnet.mg")["model"])
    restored.eval()
    with mg.no_grad():
        assert mg.equal(restored(x), expected)
        assert not mg.allclose(restored.train()(x), expected)  # batch statistics differ
