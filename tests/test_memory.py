"""Nothing leaks: backward frees the graph, long training keeps memory flat, create_graph's
parameter/gradient cycle is warned about and breakable, and the accumulated-loss leak warns."""

from __future__ import annotations

import gc
import json
import os
import pathlib
import subprocess
import sys
import warnings
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import anomaly

ROOT = str(pathlib.Path(__file__).parents[1])


def leaf(values):
    return mg.tensor(values, dtype=mg.float64, device="cpu", requires_grad=True)


# ---------------------------------------------------------------------- freeing the graph
def test_backward_frees_intermediates_only_the_graph_held():
    x = leaf([1.0, 2.0, 3.0])
    h = x.exp()  # saved by Mul below; afterwards only the graph refers to it
    ref = weakref.ref(h)
    node = h.grad_fn
    y = (h * h).sum()
    mul_node = y.grad_fn._edges[0]
    del h
    assert ref() is not None  # the graph keeps it alive before backward
    y.backward()
    assert ref() is None
    assert mul_node.__dict__["_saved"] is None and node.__dict__["_saved"] is None
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0, 3.0]) ** 2)


def test_retain_graph_keeps_intermediates_until_output_is_dropped():
    x = leaf([1.0, 2.0])
    h = x.exp()
    ref = weakref.ref(h)
    y = (h * h).sum()
    del h
    y.backward(retain_graph=True)
    assert ref() is not None
    y.backward()  # the retained graph still works
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp([1.0, 2.0]) ** 2)
    x.grad = None
    y2 = (x.exp() * 2).sum()
    h2_ref = weakref.ref(y2.grad_fn._edges[0])
    y2.backward(retain_graph=True)
    assert h2_ref() is not None
    del y2
    assert h2_ref() is None  # dropped with the output, no gc needed


# ---------------------------------------------------------------------- long runs
# Run in a fresh interpreter: the pytest process's resident size depends on what earlier tests
# allocated and freed, which could move it either way during the loop.
CNN_STEPS = """
import gc, json, os
import numpy as np
import minigrad as mg

def rss():
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

mg.manual_seed(0)
model = mg.nn.Sequential(
    mg.nn.Conv2d(1, 4, 3),
    mg.nn.ReLU(),
    mg.nn.MaxPool2d(2),
    mg.nn.Flatten(),
    mg.nn.Linear(4 * 4 * 4, 3),
)
opt = mg.optim.SGD(model.parameters(), lr=0.01)
rng = np.random.default_rng(0)
x = mg.tensor(rng.standard_normal((8, 1, 10, 10)).astype(np.float32))
target = mg.tensor(rng.integers(0, 3, size=8))
first = running = 0.0
seen = {}
for step in range(1, 2001):
    opt.zero_grad()
    loss = mg.nn.functional.cross_entropy(model(x), target)
    loss.backward()
    opt.step()
    running += loss.item()
    if step == 1:
        first = loss.item()
    if step in (100, 2000):
        seen[step] = rss()
print(json.dumps({"rss_100": seen[100], "rss_2000": seen[2000], "first": first,
                  "last": loss.item(), "finite": bool(np.isfinite(running))}))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm")
def test_two_thousand_cnn_steps_keep_resident_memory_flat():
    env = {k: v for k, v in os.environ.items() if k != "MINIGRAD_DEVICE"}  # on the cpu
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", CNN_STEPS], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    r = json.loads(done.stdout)
    change = r["rss_2000"] - r["rss_100"]
    print(
        f"resident memory after step 100: {r['rss_100'] / 2**20:.2f} MiB, after step 2,000: "
        f"{r['rss_2000'] / 2**20:.2f} MiB, change {change / 2**10:+.0f} KiB "
        f"({100 * change / r['rss_100']:+.2f}%); loss {r['first']:.4f} -> {r['last']:.4f}"
    )
    # one step's graph kept per step (batch-8 activations and the nodes, a few KiB) would add
    # several MiB over 1,900 steps, more than 5% of a process of about 40 MiB
    assert abs(change) < 0.05 * r["rss_100"], f"resident memory changed by {change} bytes"
    assert r["finite"] and r["last"] < r["first"]  # the steps really trained the model


# ---------------------------------------------------------------------- create_graph cycle
def test_backward_with_create_graph_warns_about_the_cycle_and_it_can_be_broken():
    w = leaf([1.0, 2.0])
    loss = (w**3).sum()
    with pytest.warns(UserWarning, match="create_graph=True will create a reference cycle"):
        loss.backward(create_graph=True)
    graph = weakref.ref(w.grad.grad_fn)
    np.testing.assert_allclose(w.grad.detach().numpy(), [3.0, 12.0])
    gc.disable()
    try:
        del loss
        assert graph() is not None  # w -> w.grad -> its graph -> w: the cycle
        w.grad = None
        assert graph() is None  # breaking it frees the graph by reference counting alone
    finally:
        gc.enable()


def test_autograd_grad_with_create_graph_leaves_no_cycle():
    w = leaf([1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (g,) = mg.autograd.grad((w**3).sum(), w, create_graph=True)
    graph = weakref.ref(g.grad_fn)
    gc.disable()
    try:
        del g
        assert graph() is None
    finally:
        gc.enable()


# ---------------------------------------------------------------------- accumulated-loss leak
def _train(steps: int, accumulate):
    w = leaf([0.5, -0.5])
    total = 0.0
    for _ in range(steps):
        loss = ((w * 2.0).exp()).sum()
        loss.backward()
        total = accumulate(total, loss)
        with mg.no_grad():
            w -= 0.01 * w.grad
        w.grad = None
    return total


@pytest.fixture
def fresh_leak_warning():
    anomaly._reset_leak_warning()
    yield
    anomaly._reset_leak_warning()


def test_normal_loop_with_item_never_warns(fresh_leak_warning):
    with warnings.catch_warnings():
        warnings.simplefilter("error")

        def add_item(total, loss):
            total += loss.item()
            return total

        assert isinstance(_train(5, add_item), float)
        _train(3, lambda total, loss: total + loss.detach())


def test_accumulating_the_loss_tensor_warns_exactly_once(fresh_leak_warning):
    def add_tensor(total, loss):
        total += loss
        return total

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        total = _train(4, add_tensor)
    leaks = [w for w in caught if "already freed by backward()" in str(w.message)]
    assert len(leaks) == 1
    assert "loss.item()" in str(leaks[0].message) and "loss.detach()" in str(leaks[0].message)
    assert leaks[0].category is UserWarning
    assert total.requires_grad  # the leak itself: the sum still carries every step's graph


def test_total_equals_total_plus_loss_before_backward_warns(fresh_leak_warning):
    w = leaf([1.0])
    total = mg.zeros(1, dtype=mg.float64, device="cpu")
    with pytest.warns(UserWarning, match=r"loss.item\(\)"):
        for _ in range(3):
            loss = (w * 3.0).sum()
            total = total + loss  # the graph of the previous step is reached one level down
            loss.backward()
