"""Transfer learning on Fashion-MNIST: features learned on some classes help with new ones.

1. Pretrain a ConvNet on classes 0-4 (T-shirt/top, Trouser, Pullover, Dress, Coat).
2. Keep its convolutional features fixed (``requires_grad_(False)``) and train only a new fully
   connected head on classes 5-9 (Sandal, Shirt, Sneaker, Bag, Ankle boot) from a few labelled
   pictures (50 per class by default).
3. Compare with the same network trained from scratch on the same few pictures.
4. Load weights trained by PyTorch: the same architecture written in PyTorch is trained briefly,
   its state dict exported as .npz, read with ``mg.load`` and ``model.load_state_dict``, and both
   libraries' outputs compared (skipped, with a note, when PyTorch is not installed).

    python examples/transfer_learning.py [--epochs 2] [--per-class 50] [--limit N]
"""

from __future__ import annotations

import argparse
import copy
import os
import tempfile

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.data import DataLoader, FashionMNIST, Normalize, Subset
from minigrad.models import FashionCNN

OLD, NEW = range(0, 5), range(5, 10)
SMALL = {"num_classes": 5, "channels": (16, 32), "hidden": 64}  # a FashionCNN made smaller


def classes_subset(dataset, classes, per_class=None, limit=None) -> Subset:
    """The samples of ``classes`` (the first ``per_class`` of each when given), relabelled
    0..len(classes)-1 by the training loop."""
    picked, seen = [], dict.fromkeys(classes, 0)
    targets = dataset.targets.tolist()[:limit]
    for i, t in enumerate(targets):
        if t in seen and (per_class is None or seen[t] < per_class):
            picked.append(i)
            seen[t] += 1
    return Subset(dataset, picked)


def batches(dataset, shift: int, shuffle=False, seed=0, batch_size=64):
    for x, y in DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, seed=seed):
        yield x, y - shift  # classes 5..9 -> 0..4 for the new head


def fit(model, dataset, shift, epochs, lr, frozen_features=False, seed=0) -> None:
    model.train()
    if frozen_features:  # fixed features: batch norm keeps its statistics too (eval mode)
        model.features.requires_grad_(False)
        model.features.eval()
    optimizer = mg.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    for epoch in range(epochs):
        for x, y in batches(dataset, shift, shuffle=True, seed=seed + epoch):
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def accuracy(model, dataset, shift) -> float:
    model.eval()
    correct = 0
    with mg.no_grad():
        for x, y in batches(dataset, shift, batch_size=500):
            correct += (model(x).argmax(1) == y).sum().item()
    return correct / len(dataset)


def torch_twin():
    """The same architecture written in PyTorch, with the same layer names."""
    import torch.nn as tnn

    c1, c2 = SMALL["channels"]

    class TorchFashionCNN(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = tnn.Sequential(
                tnn.Conv2d(1, c1, 3, padding=1), tnn.BatchNorm2d(c1), tnn.ReLU(), tnn.MaxPool2d(2),
                tnn.Conv2d(c1, c2, 3, padding=1), tnn.BatchNorm2d(c2), tnn.ReLU(), tnn.MaxPool2d(2),
            )  # fmt: skip
            self.classifier = tnn.Sequential(
                tnn.Flatten(), tnn.Linear(c2 * 49, SMALL["hidden"]), tnn.ReLU(), tnn.Dropout(0.3),
                tnn.Linear(SMALL["hidden"], SMALL["num_classes"]),
            )  # fmt: skip

        def forward(self, x):
            return self.classifier(self.features(x))

    return TorchFashionCNN()


def weights_from_pytorch(pretrain, test_old, steps: int) -> None:
    try:
        import numpy as np
        import torch
    except ImportError:
        print("4. skipped: PyTorch is not installed (pip install torch to run this part)")
        return
    torch.manual_seed(0)
    net = torch_twin()
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
    loader = DataLoader(pretrain, batch_size=64, shuffle=True, seed=1)
    for step, (x, y) in enumerate(loader, 1):  # as NumPy arrays, into PyTorch
        logits = net(torch.from_numpy(x.numpy()))
        loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y.numpy()))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step == steps:
            break
    net.eval()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "pytorch_weights.npz")
        np.savez(path, **{k: v.numpy() for k, v in net.state_dict().items()})
        model = FashionCNN(**SMALL)
        model.load_state_dict(mg.load(path))
    model.eval()
    x, _ = next(iter(DataLoader(test_old, batch_size=256)))
    with mg.no_grad(), torch.no_grad():
        ours = model(x).numpy()
        theirs = net(torch.from_numpy(x.numpy())).numpy()
    agree = (ours.argmax(1) == theirs.argmax(1)).mean()
    print(
        f"4. PyTorch-trained weights ({min(steps, len(loader))} steps) loaded into minigrad: the "
        f"largest logit difference over {len(x)} test pictures is "
        f"{np.abs(ours - theirs).max():.2e}; the predicted classes agree on {agree:.0%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=2, help="pretraining epochs")
    parser.add_argument("--per-class", type=int, default=50, help="labels per new class")
    parser.add_argument("--head-epochs", type=int, default=30)
    parser.add_argument("--limit", type=int, help="only the first N samples of each split")
    parser.add_argument("--root", help="directory of the Fashion-MNIST IDX files")
    parser.add_argument("--torch-steps", type=int, default=300)
    args = parser.parse_args()

    normalize = Normalize(FashionMNIST.mean, FashionMNIST.std)
    train = FashionMNIST(args.root, train=True, transform=normalize)
    test = FashionMNIST(args.root, train=False, transform=normalize)
    pretrain = classes_subset(train, OLD, limit=args.limit)
    test_old = classes_subset(test, OLD, limit=args.limit)
    few = classes_subset(train, NEW, per_class=args.per_class)
    test_new = classes_subset(test, NEW, limit=args.limit)

    mg.manual_seed(0)
    base = FashionCNN(**SMALL)
    fit(base, pretrain, 0, args.epochs, 2e-3)
    print(f"1. pretrained on {len(pretrain)} pictures of classes 0-4: "
          f"{accuracy(base, test_old, 0):.2%} test accuracy on them")  # fmt: skip

    transfer = copy.deepcopy(base)
    transfer.classifier[-1] = nn.Linear(SMALL["hidden"], 5)  # a new head for the new classes
    fit(transfer, few, 5, args.head_epochs, 1e-2, frozen_features=True)
    transferred = accuracy(transfer, test_new, 5)
    frozen = sum(p.numel() for p in transfer.features.parameters())
    print(f"2. frozen features ({frozen:,} weights), head trained on {len(few)} pictures of "
          f"classes 5-9: {transferred:.2%} test accuracy")  # fmt: skip

    mg.manual_seed(1)
    scratch = FashionCNN(**SMALL)
    fit(scratch, few, 5, args.head_epochs, 2e-3)
    from_scratch = accuracy(scratch, test_new, 5)
    print(f"3. the same network from scratch on the same {len(few)} pictures: "
          f"{from_scratch:.2%} test accuracy")  # fmt: skip

    weights_from_pytorch(pretrain, test_old, args.torch_steps)
    print(
        f"result: with {args.per_class} labels per class, transfer {transferred:.2%} vs "
        f"from scratch {from_scratch:.2%} on classes 5-9"
    )


if __name__ == "__main__":
    main()
