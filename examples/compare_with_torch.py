"""Train the same model with minigrad and with PyTorch, side by side, and compare.

Both start from the same weights (minigrad's initial weights copied into a PyTorch twin of the
model), see the same batches in the same order, drop out the same units (the PyTorch twin
applies the masks minigrad draws) and follow the same recipe -- the one
`python -m minigrad train --data DATA` uses, with the same seed, so minigrad's column is what that
command prints. Batches alternate between the two libraries and each library's steps are timed
on their own. Reported: test accuracy after the last epoch and the median training time per
epoch.

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
        return SharedDropout(module.p)
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


# ---------------------------------------------------------------- dropout with shared masks


class SharedDropout(torch.nn.Module):
    """Dropout on the PyTorch side that applies the very mask its minigrad twin just drew:
    the twin's forward hook leaves its (input, output) here, and the kept elements are those
    with a non-zero output, scaled by 1 / (1 - p)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p
        self.seen = None

    def hook(self, module, args, out) -> None:
        self.seen = (args[0], out)

    def forward(self, x):
        if not self.training:
            return x
        out = torch.from_numpy(self.seen[1].detach().numpy())
        return x * ((out != 0) / (1.0 - self.p))


def share_dropout(model: nn.Module, net: torch.nn.Module) -> None:
    ours = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    theirs = [m for m in net.modules() if isinstance(m, SharedDropout)]
    for a, b in zip(ours, theirs, strict=True):
        a.register_forward_hook(b.hook)


# ---------------------------------------------------------------- training both, batch by batch


def accuracy_of(predict, dataset, to_input) -> float:
    correct = 0
    for x, y in DataLoader(dataset, batch_size=500):
        correct += int((predict(to_input(x)).argmax(1) == to_input(y)).sum().item())
    return correct / len(dataset)


def train_both(model, net, opts, recipe, train_set, test_set, seed) -> dict:
    """Each batch goes through a minigrad step, then the same batch through a PyTorch step;
    each library's steps are timed on their own."""
    mg_opt, t_opt = opts
    loader = DataLoader(train_set, batch_size=recipe["batch_size"], shuffle=True, seed=seed)
    as_torch = lambda t: torch.from_numpy(t.numpy())  # noqa: E731 - shares memory, no copy
    same = lambda t: t  # noqa: E731
    result = {"minigrad": [], "pytorch": [], "minigrad_s": [], "pytorch_s": []}
    for epoch in range(recipe["epochs"]):
        lr = recipe["lr"]
        if recipe["schedule"] == "cosine":
            lr = cosine_lr(lr, epoch, recipe["epochs"])
        for group in mg_opt.param_groups + t_opt.param_groups:
            group["lr"] = lr
        model.train()
        net.train()
        mg_s = t_s = 0.0
        for x, y in loader:
            tick = time.perf_counter()
            loss = mg.nn.functional.cross_entropy(model(x), y)
            mg_opt.zero_grad()
            loss.backward()
            mg_opt.step()
            mid = time.perf_counter()
            t_loss = torch.nn.functional.cross_entropy(net(as_torch(x)), as_torch(y))
            t_opt.zero_grad()
            t_loss.backward()
            t_opt.step()
            t_s += time.perf_counter() - mid
            mg_s += mid - tick
        model.eval()
        net.eval()
        with mg.no_grad(), torch.no_grad():
            ours = accuracy_of(model, test_set, same)
            theirs = accuracy_of(net, test_set, as_torch)
        for key, value in (("minigrad", ours), ("pytorch", theirs)):
            result[key].append(value)
        result["minigrad_s"].append(mg_s)
        result["pytorch_s"].append(t_s)
        print(
            f"  epoch {epoch + 1}: test accuracy minigrad {ours:.2%}, PyTorch {theirs:.2%}; "
            f"seconds minigrad {mg_s:.1f}, PyTorch {t_s:.1f}",
            flush=True,
        )
    return result


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
        "schedule": spec.schedule,
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
    share_dropout(model, net)
    r = train_both(model, net, (mg_opt, t_opt), recipe, train_set, test_set, args.seed)
    mg_acc, t_acc = r["minigrad"][-1], r["pytorch"][-1]
    mg_s, t_s = np.median(r["minigrad_s"]), np.median(r["pytorch_s"])
    print(
        f"| {args.data} | {spec.model} | {recipe['epochs']} | {mg_acc:.2%} | {t_acc:.2%} | "
        f"{mg_s:.1f} s | {t_s:.1f} s |"
    )
    print(
        f"result: minigrad {mg_acc:.2%} vs PyTorch {t_acc:.2%} test accuracy "
        f"(difference {100 * (mg_acc - t_acc):+.2f} points); time per epoch "
        f"{mg_s:.2f} s vs {t_s:.2f} s (median)"
    )


if __name__ == "__main__":
    main()
