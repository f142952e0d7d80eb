"""The lecture's X-or-O ConvNet, step by step, with minigrad's own conv2d and max_pool2d.

1. Filtering: line a 3x3 feature up with every 3x3 patch of the 9x9 X, multiply pixel by pixel,
   add up and divide by 9 (a perfect match gives 1): a 7x7 map per feature. The maps are printed
   to two decimals by truncation, as the slides do (7/9 shows as 0.77, 5/9 as 0.55).
2. Pooling: the largest value of each 2x2 window, stride 2, the partial windows at the edge
   included (ceil_mode=True): 7x7 -> 4x4.
3. ReLU: every negative value becomes 0. One image has become a stack of filtered images.
4. A fully connected layer: every value gets a weighted vote for X and for O.
5. Learning the features and votes instead: a small ConvNet trained on generated X's and O's
   with translation, scaling, rotation and stroke weight.

    python examples/xo_lecture.py [--epochs 5] [--quick]
"""

from __future__ import annotations

import argparse
import math

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.data import XO, DataLoader
from minigrad.models import XONet


def truncated(v: float) -> str:
    """Two decimals by truncation toward zero, the slides' way: 0.777 -> 0.77, -0.111 -> -0.11."""
    t = math.trunc(round(v * 100, 6)) / 100  # round first: k/9 in float32 is a hair off
    return f"{t:5.2f}".replace("-0.00", " 0.00")


def show(name: str, m) -> None:
    print(name)
    for row in m.tolist():
        print("  " + " ".join(truncated(v) for v in row))


def lecture_walkthrough() -> mg.Tensor:
    """Steps 1-4 on the lecture's X and O; returns the X's stack of pooled, rectified maps."""
    images = XO.lecture_images()
    kernels = XO.lecture_kernels()
    names = list(kernels)
    w = mg.stack([kernels[n] for n in names]).unsqueeze(1)  # (3 features, 1, 3, 3)
    stacks = {}
    for label in ("X", "O"):
        x = images[label].reshape(1, 1, 9, 9)  # (N, C, H, W)
        filtered = F.conv2d(x, w) / 9  # valid cross-correlation / 9: (1, 3, 7, 7)
        pooled = F.max_pool2d(filtered, 2, stride=2, ceil_mode=True)  # (1, 3, 4, 4)
        rectified = F.relu(pooled)
        stacks[label] = rectified[0]
        if label == "X":
            print("1. filtering the lecture's X with each feature (7x7 maps):")
            for i, n in enumerate(names):
                show(f"feature {n}:", filtered[0, i])
            print("\n2. max-pooling, window 2, stride 2, partial windows kept (4x4 maps):")
            for i, n in enumerate(names):
                show(f"pooled {n}:", pooled[0, i])
            print("\n3. ReLU (negatives to 0); the X is now a stack of 3 maps of 4x4:")
            show("rectified diagonal:", rectified[0, 0])
    print("\n4. a fully connected vote: each of the 3*4*4 = 48 values votes for X and for O")
    # a hand-made layer: a value's weight for X is how much stronger it is in the lecture's X
    # than in its O (and the opposite for O); a class's score is the sum of its weighted votes
    difference = stacks["X"].flatten() - stacks["O"].flatten()  # (48,)
    weights = mg.stack([difference, -difference])  # (2 classes, 48 values)
    for label in ("X", "O"):
        values = stacks[label].flatten()  # (48,)
        votes = (weights * values).sum(1)
        probs = votes.softmax(0).tolist()
        print(
            f"  the lecture's {label}: votes X {votes[0].item():.2f}, O {votes[1].item():.2f}"
            f" -> X {probs[0]:.2f}, O {probs[1]:.2f}"
        )
    print("  hand-made votes barely tell the O apart: learned features and votes do far better")
    return stacks["X"]


def train_convnet(epochs: int, n_train: int, n_test: int, seed: int = 0) -> float:
    """Step 5: learn features and votes by backpropagation; returns the test accuracy."""
    mg.manual_seed(seed)
    train_set, test_set = XO(n=n_train, train=True), XO(n=n_test, train=False)
    model = XONet()
    optimizer = mg.optim.Adam(model.parameters(), lr=1e-2)
    loader = DataLoader(train_set, batch_size=50, shuffle=True, seed=seed)
    print(f"\n5. training {type(model).__name__} on {n_train} generated X's and O's")
    for epoch in range(1, epochs + 1):
        model.train()
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        accuracy = evaluate(model, test_set)
        print(f"  epoch {epoch}: loss {loss.item():.4f}, test accuracy {accuracy:.2%}")
    images = XO.lecture_images()
    with mg.no_grad():
        model.eval()
        for label in ("X", "O"):
            probs = model(images[label].reshape(1, 1, 9, 9)).softmax(1)[0].tolist()
            print(f"  the lecture's {label}: P(O) = {probs[0]:.3f}, P(X) = {probs[1]:.3f}")
    return accuracy


def evaluate(model, dataset) -> float:
    model.eval()
    correct = 0
    with mg.no_grad():
        for x, y in DataLoader(dataset, batch_size=500):
            correct += (model(x).argmax(1) == y).sum().item()
    return correct / len(dataset)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="a tiny run: 1 epoch, 400 samples")
    args = parser.parse_args()
    lecture_walkthrough()
    if args.quick:
        accuracy = train_convnet(1, 400, 200)
    else:
        accuracy = train_convnet(args.epochs, 2000, 1000)
    print(f"\nresult: the ConvNet tells X from O with {accuracy:.2%} test accuracy")


if __name__ == "__main__":
    main()
