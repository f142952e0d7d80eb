"""minigrad against PyTorch (CPU) on the same machine, in the same run, side by side.

    python benchmarks/bench.py                 # all workloads, a markdown table of medians
    python benchmarks/bench.py --only B1,B3    # some of them
    python benchmarks/bench.py --profile       # where minigrad's time goes, per op

Both engines get the same float32 data, the same initial weights (copied from minigrad to
PyTorch) and the same number of threads; the first step's losses are checked to agree. Runs
alternate between the engines (warm-up first, then several repeats) and the table reports
medians and the minigrad/PyTorch ratio. The machine's NumPy float32 GEMM rate is measured in the
same run. Noise: other processes on the machine slow PyTorch's threads more than NumPy's, so
the load average is printed with the results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

import minigrad as mg

THREADS = os.cpu_count() or 1


# ---------------------------------------------------------------- models, written once for both


def lenet(nn):
    """LeNet-5 as in the benchmark brief; ``nn`` is ``minigrad.nn`` or ``torch.nn``."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )  # fmt: skip


def tiny_mlp(nn):
    return nn.Sequential(
        nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1)
    )


def fashion_cnn(nn):
    """The Fashion-MNIST ConvNet of the examples (``minigrad.models.FashionCNN``): two
    conv-batchnorm-ReLU-pool blocks, a hidden layer with dropout."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10),
    )  # fmt: skip


def twin(builder):
    """The same architecture in both engines, PyTorch's weights copied from minigrad's."""
    mg.manual_seed(0)
    ours = builder(mg.nn)
    theirs = builder(torch.nn)
    theirs.load_state_dict(
        {k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()}
    )
    return ours, theirs


def arrays(seed, *shapes_and_kinds):
    rng = np.random.default_rng(seed)
    out = []
    for shape, kind in shapes_and_kinds:
        if kind == "labels":
            out.append(rng.integers(0, 10, size=shape).astype(np.int64))
        else:
            out.append(rng.standard_normal(shape).astype(np.float32))
    return out


# ---------------------------------------------------------------- workloads


def train_step_pair(builder, x, y, lr=0.01):
    """One SGD training step (forward, cross-entropy, backward, update) in each engine."""
    ours, theirs = twin(builder)
    opt_m = mg.optim.SGD(ours.parameters(), lr=lr)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=lr)
    xm, ym, xt, yt = mg.tensor(x), mg.tensor(y), torch.from_numpy(x), torch.from_numpy(y)

    def step_m():
        opt_m.zero_grad()
        loss = mg.nn.functional.cross_entropy(ours(xm), ym)
        loss.backward()
        opt_m.step()
        return loss.item()

    def step_t():
        opt_t.zero_grad()
        loss = torch.nn.functional.cross_entropy(theirs(xt), yt)
        loss.backward()
        opt_t.step()
        return loss.item()

    return step_m, step_t


def b1():
    x, y = arrays(1, ((128, 1, 28, 28), "x"), ((128,), "labels"))
    return train_step_pair(lenet, x, y)


def conv_pair(n=32, c=64, hw=32):
    x, g = arrays(2, ((n, c, hw, hw), "x"), ((n, c, hw, hw), "x"))
    mg.manual_seed(0)
    cm = mg.nn.Conv2d(c, c, 3, padding=1)
    ct = torch.nn.Conv2d(c, c, 3, padding=1)
    ct.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in cm.state_dict().items()})
    xm = mg.tensor(x, requires_grad=True)
    xt = torch.from_numpy(x).requires_grad_()
    gm, gt = mg.tensor(g), torch.from_numpy(g)

    def step_m():
        xm.grad = None
        cm.zero_grad()
        out = cm(xm)
        out.backward(gm)
        return float((out.detach() * gm).sum().item())

    def step_t():
        xt.grad = None
        ct.zero_grad()
        out = ct(xt)
        out.backward(gt)
        return float((out.detach() * gt).sum().item())

    flops = 3 * 2 * n * c * hw * hw * c * 9
    return step_m, step_t, flops


def b2():
    step_m, step_t, _ = conv_pair()
    return step_m, step_t


def b3():
    x, t = arrays(3, ((1, 16), "x"), ((1, 1), "x"))
    ours, theirs = twin(tiny_mlp)
    xm, tm, xt, tt = mg.tensor(x), mg.tensor(t), torch.from_numpy(x), torch.from_numpy(t)

    def step_m():
        ours.zero_grad()
        loss = mg.nn.functional.mse_loss(ours(xm), tm)
        loss.backward()
        return loss.item()

    def step_t():
        theirs.zero_grad()
        loss = torch.nn.functional.mse_loss(theirs(xt), tt)
        loss.backward()
        return loss.item()

    return step_m, step_t


def b5():
    x, g = arrays(5, ((128, 16, 28, 28), "x"), ((128, 16, 14, 14), "x"))
    xm = mg.tensor(x, requires_grad=True)
    xt = torch.from_numpy(x).requires_grad_()
    gm, gt = mg.tensor(g), torch.from_numpy(g)

    def step_m():
        xm.grad = None
        out = mg.nn.functional.max_pool2d(xm, 2)
        out.backward(gm)
        return float(out.detach().sum().item())

    def step_t():
        xt.grad = None
        out = torch.nn.functional.max_pool2d(xt, 2)
        out.backward(gt)
        return float(out.detach().sum().item())

    return step_m, step_t


WORKLOADS = {
    "B1": ("LeNet-5 training step, batch 128", b1, 1.5),
    "B2": ("Conv2d 64→64 3×3 pad 1, 32×64×32×32, fwd+bwd", b2, 1.2),
    "B3": ("tiny MLP 16→16→16→1 tanh, batch 1, fwd+bwd", b3, 1.0),
    "B5": ("MaxPool2d 2×2 on 128×16×28×28, fwd+bwd", b5, 1.0),
}


def time_pair(step_m, step_t, repeats, min_seconds=0.2):
    """Median seconds per call of each, alternating engines, after checking they agree."""
    lm, lt = step_m(), step_t()
    if not np.isclose(lm, lt, rtol=1e-3, atol=1e-4):
        raise SystemExit(f"the engines disagree on the first step: minigrad {lm}, PyTorch {lt}")
    for _ in range(2):  # warm-up
        step_m()
        step_t()
    start = time.perf_counter()
    step_m()
    inner = max(1, int(min_seconds / max(time.perf_counter() - start, 1e-7)))
    results = {"m": [], "t": []}
    for _ in range(repeats):
        for key, fn in (("m", step_m), ("t", step_t)):
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            results[key].append((time.perf_counter() - start) / inner)
    return statistics.median(results["m"]), statistics.median(results["t"])


def gemm_rate(n=2048, repeats=5) -> float:
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    a @ a
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ a
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


# ---------------------------------------------------------------- B4: peak memory, fresh process


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_child(engine: str) -> None:
    """Run in a fresh process: RSS growth (MiB) of LeNet steps at batch 512 over the baseline."""
    x, y = arrays(4, ((512, 1, 28, 28), "x"), ((512,), "labels"))
    step_m, step_t = train_step_pair(lenet, x, y)
    step = step_m if engine == "minigrad" else step_t
    with open("/proc/self/clear_refs", "w") as f:  # reset the peak (VmHWM) to the current RSS
        f.write("5")
    base = _rss_kib("VmRSS")
    for _ in range(3):
        step()
    print(json.dumps({"growth_mib": (_rss_kib("VmHWM") - base) / 1024}))


def b4(repeats: int) -> tuple[float, float]:
    growth = {"minigrad": [], "torch": []}
    for _ in range(max(1, repeats // 2)):
        for engine in growth:
            out = subprocess.run(
                [sys.executable, __file__, "--memory-child", engine],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            growth[engine].append(json.loads(out.stdout.strip().splitlines()[-1])["growth_mib"])
    return statistics.median(growth["minigrad"]), statistics.median(growth["torch"])


# ---------------------------------------------------------------- B6: one Fashion-MNIST epoch


def b6(limit: int | None) -> tuple[float, float]:
    """Images per second for one training epoch of the examples' ConvNet (batch 64, SGD)."""
    data = mg.data.FashionMNIST(train=True)
    n = len(data) if limit is None else min(limit, len(data))
    images = (data.data[:n].astype(np.float32) / 255.0)[:, None]
    labels = np.asarray(data.targets[:n], dtype=np.int64)
    ours, theirs = twin(fashion_cnn)
    opt_m = mg.optim.SGD(ours.parameters(), lr=0.05, momentum=0.9)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9)
    order = np.random.default_rng(0).permutation(n)
    batches = [order[i : i + 64] for i in range(0, n, 64)]

    def epoch_m():
        for idx in batches:
            opt_m.zero_grad()
            loss = mg.nn.functional.cross_entropy(
                ours(mg.tensor(images[idx])), mg.tensor(labels[idx])
            )
            loss.backward()
            opt_m.step()

    def epoch_t():
        for idx in batches:
            opt_t.zero_grad()
            loss = torch.nn.functional.cross_entropy(
                theirs(torch.from_numpy(images[idx])), torch.from_numpy(labels[idx])
            )
            loss.backward()
            opt_t.step()

    times = {"m": [], "t": []}
    for key, fn in (("m", epoch_m), ("t", epoch_t), ("m", epoch_m), ("t", epoch_t)):
        start = time.perf_counter()
        fn()
        times[key].append(time.perf_counter() - start)
    return n / statistics.median(times["m"]), n / statistics.median(times["t"])


# ---------------------------------------------------------------- driver


def profile_workloads(names) -> None:
    from minigrad.autograd.profiler import profile

    for name in names:
        if name not in WORKLOADS:
            continue
        title, build, _ = WORKLOADS[name]
        step_m, _ = build()
        step_m()
        with profile() as prof:
            for _ in range(5):
                step_m()
        print(f"\n### {name}: {title} (5 steps)\n")
        print(prof.table())


def main() -> None:
    parser = argparse.ArgumentParser(description="minigrad vs PyTorch, side by side")
    parser.add_argument("--only", default="B1,B2,B3,B4,B5,B6", help="comma-separated workloads")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--b6-limit", type=int, default=None, help="images in the B6 epoch")
    parser.add_argument("--profile", action="store_true", help="per-op profile of minigrad")
    parser.add_argument("--memory-child", choices=["minigrad", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    if args.memory_child:
        memory_child(args.memory_child)
        return
    names = [n.strip().upper() for n in args.only.split(",") if n.strip()]
    if args.profile:
        profile_workloads(names)
        return

    load_before = os.getloadavg()[0]
    gemm = gemm_rate()
    rows = []
    for name in names:
        if name in WORKLOADS:
            title, build, target = WORKLOADS[name]
            m, t = time_pair(*build(), repeats=args.repeats)
            unit, scale = ("µs", 1e6) if name == "B3" else ("ms", 1e3)
            rows.append(
                (name, title, f"{m * scale:.1f} {unit}", f"{t * scale:.1f} {unit}", m / t, target)
            )
            if name == "B2":
                flops = conv_pair()[2]
                rows.append(
                    ("B2", "  as GFLOP/s (share of the GEMM rate)",
                     f"{flops / m / 1e9:.0f} ({flops / m / 1e9 / gemm:.0%})",
                     f"{flops / t / 1e9:.0f} ({flops / t / 1e9 / gemm:.0%})", None, 0.40),
                )  # fmt: skip
        elif name == "B4":
            m, t = b4(args.repeats)
            rows.append(
                (
                    "B4",
                    "LeNet step, batch 512: peak RSS growth",
                    f"{m:.0f} MiB",
                    f"{t:.0f} MiB",
                    m / t,
                    1.0,
                )
            )
        elif name == "B6":
            try:
                m, t = b6(args.b6_limit)
            except FileNotFoundError:
                print(
                    "B6 skipped: no Fashion-MNIST files (apt-get install dataset-fashion-mnist, "
                    "or set MINIGRAD_DATA)",
                    file=sys.stderr,
                )
                continue
            rows.append(
                ("B6", "Fashion-MNIST ConvNet epoch (images/s)", f"{m:.0f}", f"{t:.0f}", t / m, 1.5)
            )
    load_after = os.getloadavg()[0]

    print(f"\n{time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
          f"{THREADS} threads, NumPy {np.__version__}, PyTorch {torch.__version__}; "
          f"NumPy float32 GEMM (2048²): {gemm:.0f} GFLOP/s; load average {load_before:.1f} → "
          f"{load_after:.1f}\n")  # fmt: skip
    print("| | workload | minigrad | PyTorch | ratio | target |")
    print("|---|---|---:|---:|---:|---:|")
    for name, title, m, t, ratio, target in rows:
        if ratio is None:  # the GFLOP/s row: the target is a share of the GEMM rate
            print(f"| {name} | {title} | {m} | {t} | | ≥ {target:.0%} of GEMM |")
        else:
            ok = "✓" if ratio <= target else "✗"
            print(f"| {name} | {title} | {m} | {t} | {ratio:.2f}× {ok} | ≤ {target}× |")
    print("\nratio = minigrad / PyTorch time (B4: memory growth; B6: PyTorch images/s over ours)")


if __name__ == "__main__":
    main()
