"""A ConvNet on scikit-learn's 8x8 handwritten digits (1797 pictures, 10 classes).

Two conv 3x3 -> ReLU -> max-pool stages, dropout and one fully connected layer
(``minigrad.models.DigitsCNN``), trained with Adam and a cosine learning rate on a stratified 75/25
split. The target is 98% test accuracy.

    python examples/digits_cnn.py [--epochs 40] [--limit N]
"""

from __future__ import annotations

import argparse

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.data import DataLoader, Digits, Subset
from minigrad.models import DigitsCNN

TARGET = 0.98


def accuracy(model, dataset) -> float:
    model.eval()
    correct = 0
    with mg.no_grad():
        for x, y in DataLoader(dataset, batch_size=500):
            correct += (model(x).argmax(1) == y).sum().item()
    return correct / len(dataset)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--limit", type=int, help="only the first N samples of each split")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    train_set, test_set = Digits(train=True), Digits(train=False)
    if args.limit:
        train_set = Subset(train_set, range(min(args.limit, len(train_set))))
        test_set = Subset(test_set, range(min(args.limit, len(test_set))))
    mg.manual_seed(args.seed)
    model = DigitsCNN()
    optimizer = mg.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = mg.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    print(f"DigitsCNN, {len(train_set)} training / {len(test_set)} test digits")
    for epoch in range(1, args.epochs + 1):
        model.train()
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
        if epoch % 5 == 0 or epoch == args.epochs:
            acc = accuracy(model, test_set)
            print(f"epoch {epoch}: last batch loss {loss.item():.4f}, test accuracy {acc:.2%}")
    verdict = "met" if acc >= TARGET else "missed"
    print(f"result: test accuracy {acc:.2%} (target {TARGET:.0%}: {verdict})")


if __name__ == "__main__":
    main()
