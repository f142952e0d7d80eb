"""Train the same model with minigrad and with PyTorch, side by side, and compare.

Both start from the same weights (minigrad's initial weights copied into a PyTorch twin of the
model), see the same batches in the same order and follow the same recipe -- the one
`python -m minigrad train --data DATA` uses, with the same seed, so minigrad's column is what that
command prints. Only dropout draws different masks (each library has its own generator).
Reported: test accuracy after the last epoch and training time per epoch.

    python examples/compare_with_torch.py --data digits [--epochs N] [--limit N]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

import minigrad as mg
from minigrad import nn
from minigrad.cli.datasets import DATASETS, load
from minigrad.cli.train import cosine_lr, make_optimizer
from minigrad.data import DataLoader
from minigrad.models import build_model

# ---------------------------------------------------------------- the PyTorch twin


def twin(module: nn.Module) -> torch.nn.Module:
    """The same layers in PyTorch, with the same names (so the state dicts line up)."""
    t = torch.nn
    kind = type(module).__name__
    if kind == "Sequential":
        return t.Sequential(*[twin(m) for m in module])
    if kind in ("Conv1d", "Conv2d"):
        return getattr(t, kind)(
            module.in_channels,
            module.out_channels,
            module.kernel_size,
            stride=module.stride,
            padding=module.padding,
            dilation=module.dilation,
            groups=module.groups,
            bias=module.bias is not None,
        )
    if kind in ("BatchNorm1d", "BatchNorm2d"):
        return getattr(t, kind)(module.num_features, eps=module.eps, momentum=module.momentum)
    if kind in ("MaxPool1d", "MaxPool2d"):
        return getattr(t, kind)(module.kernel_size, module.stride, ceil_mode=module.ceil_mode)
    if kind == "Linear":
        return t.Linear(module.in_features, module.out_features, bias=module.bias is not None)
    if kind == "Dropout":
        return t.Dropout(module.p)
    if kind in ("ReLU", "Flatten"):
        return getattr(t, kind)()
    raise NotImplementedError(f"no PyTorch twin for {kind}")


class Twin(torch.nn.Module):
    """``classifier(features(x))``, as minigrad's models are built."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.features = twin(model.features)
        self.classifier = twin(model.classifier)

    def forward(self, x):
        return self.classifier(self.features(x))


def copy_weights(model: nn.Module, net: torch.nn.Module) -> None:
    state = {k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()}
    net.load_state_dict(state)


def torch_optimizer(name: str, params, lr: float, weight_decay: float):
    o = torch.optim
    if name == "sgd":
        return o.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    if name == "rmsprop":
        return o.RMSprop(params, lr=lr, weight_decay=weight_decay)
    return (o.Adam if name == "adam" else o.AdamW)(params, lr=lr, weight_decay=weight_decay)


# ---------------------------------------------------------------- the two training loops


def fit_minigrad(model, opt, recipe, train_set, test_set, seed) -> tuple[float, list[float]]:
    loader = DataLoader(train_set, batch_size=recipe["batch_size"], shuffle=True, seed=seed)
    seconds = []
    for epoch in range(recipe["epochs"]):
        for group in opt.param_groups:
            group["lr"] = cosine_lr(recipe["lr"], epoch, recipe["epochs"])
        model.train()
        tick = time.perf_counter()
        for x, y in loader:
            loss = mg.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        seconds.append(time.perf_counter() - tick)
        model.eval()
        correct = 0
        with mg.no_grad():
            for x, y in DataLoader(test_set, batch_size=500):
                correct += (model(x).argmax(1) == y).sum().item()
        acc = correct / len(test_set)
        print(f"  minigrad epoch {epoch + 1}: test {acc:.2%}, {seconds[-1]:.1f} s", flush=True)
    return acc, seconds


def fit_torch(net, opt, recipe, train_set, test_set, seed) -> tuple[float, list[float]]:
    # the same batches: a minigrad loader with the same seed, its arrays handed to PyTorch
    loader = DataLoader(train_set, batch_size=recipe["batch_size"], shuffle=True, seed=seed)
    as_torch = lambda t: torch.from_numpy(t.numpy())  # noqa: E731
    seconds = []
    for epoch in range(recipe["epochs"]):
        for group in opt.param_groups:
            group["lr"] = cosine_lr(recipe["lr"], epoch, recipe["epochs"])
        net.train()
        tick = time.perf_counter()
        for x, y in loader:
            loss = torch.nn.functional.cross_entropy(net(as_torch(x)), as_torch(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
        seconds.append(time.perf_counter() - tick)
        net.eval()
        correct = 0
        with torch.no_grad():
            for x, y in DataLoader(test_set, batch_size=500):
                correct += (net(as_torch(x)).argmax(1) == as_torch(y)).sum().item()
        acc = correct / len(test_set)
        print(f"  PyTorch  epoch {epoch + 1}: test {acc:.2%}, {seconds[-1]:.1f} s", flush=True)
    return acc, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", choices=list(DATASETS), default="xo")
    parser.add_argument("--epochs", type=int, help="default: the data set's recipe")
    parser.add_argument("--limit", type=int, help="only the first N samples of each split")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    spec = DATASETS[args.data]
    recipe = {
        "epochs": args.epochs or spec.epochs,
        "batch_size": spec.batch_size,
        "lr": spec.lr,
    }
    train_set, test_set = load(spec, True, None, args.limit), load(spec, False, None, args.limit)
    mg.manual_seed(args.seed)  # as `minigrad train` does: the same initial weights
    shape = list(train_set.sample_shape)
    model = build_model(spec.model, num_classes=len(train_set.classes), in_shape=shape)
    net = Twin(model)
    copy_weights(model, net)
    torch.manual_seed(args.seed)
    print(
        f"{spec.model} on {args.data}: {len(train_set)} train / {len(test_set)} test, "
        f"{recipe['epochs']} epochs, {spec.optimizer} lr {spec.lr:g}, batch {spec.batch_size}; "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads, "
        f"numpy {np.__version__}, {platform.machine()}"
    )
    mg_opt = make_optimizer(spec.optimizer, model.parameters(), spec.lr, spec.weight_decay)
    t_opt = torch_optimizer(spec.optimizer, net.parameters(), spec.lr, spec.weight_decay)
    mg_acc, mg_s = fit_minigrad(model, mg_opt, recipe, train_set, test_set, args.seed)
    t_acc, t_s = fit_torch(net, t_opt, recipe, train_set, test_set, args.seed)
    print(
        f"| {args.data} | {spec.model} | {recipe['epochs']} | {mg_acc:.2%} | {t_acc:.2%} | "
        f"{np.median(mg_s):.1f} s | {np.median(t_s):.1f} s |"
    )
    print(
        f"result: minigrad {mg_acc:.2%} vs PyTorch {t_acc:.2%} test accuracy "
        f"(difference {100 * (mg_acc - t_acc):+.2f} points); time per epoch "
        f"{np.median(mg_s):.2f} s vs {np.median(t_s):.2f} s"
    )


if __name__ == "__main__":
    main()
