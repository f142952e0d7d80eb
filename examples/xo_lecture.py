"""The lecture's X-or-O ConvNet, step by step, with minigrad's own conv2d, relu and max_pool2d.

1. Filtering: line a 3x3 feature up with every 3x3 patch of the 9x9 X, multiply pixel by pixel,
   add up and divide by 9 (a perfect match gives 1): a 7x7 map per feature. The maps are printed
   to two decimals by truncation, as the slides do (7/9 shows as 0.77, 5/9 as 0.55).
2. ReLU: every negative value of the filtered maps becomes 0 (-0.11 -> 0), the rest stays.
3. Pooling: the largest value of each 2x2 window, stride 2, the partial windows at the edge
   included (ceil_mode=True): 7x7 -> 4x4. One image has become a stack of 3 smaller images.
4. Stacking: a stage's output is the next stage's input, so the stack shrinks stage by stage;
   pooling once more leaves 3 maps of 2x2, a list of 12 values.
5. A fully connected layer: every value gets a weighted vote for X and for O; the error is the
   right answer minus the actual answer.
6. Learning the features and votes instead: a ConvNet of two conv -> ReLU -> pool stages
   trained by backpropagation on generated X's and O's with translation, scaling, rotation and
   stroke weight.

    python examples/xo_lecture.py [--epochs 5] [--limit N] [--quick]
"""

from __future__ import annotations

import argparse
import math

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.data import XO, DataLoader, Subset
from minigrad.models import XONet


def truncated(v: float) -> str:
    """Two decimals by truncation toward zero, the slides' way: 0.777 -> 0.77, -0.111 -> -0.11."""
    t = math.trunc(round(v * 100, 6)) / 100  # round first: k/9 in float32 is a hair off
    return f"{t:5.2f}".replace("-0.00", " 0.00")


def show(name: str, m) -> None:
    print(name)
    for row in m.tolist():
        print("  " + " ".join(truncated(v) for v in row))


def stage(image, weight):
    """One conv -> ReLU -> pool stage of the lecture on a (9, 9) picture:
    (1, 1, 9, 9) -> filtered (1, 3, 7, 7) -> rectified (1, 3, 7, 7) -> pooled (1, 3, 4, 4)."""
    x = image.reshape(1, 1, 9, 9)  # (N, C, H, W)
    filtered = F.conv2d(x, weight) / 9  # valid cross-correlation / 9
    rectified = F.relu(filtered)
    pooled = F.max_pool2d(rectified, 2, stride=2, ceil_mode=True)
    return filtered, rectified, pooled


def lecture_walkthrough() -> dict:
    """Steps 1-5 on the lecture's X and O; returns, per picture, the 12 values that vote."""
    images = XO.lecture_images()
    kernels = XO.lecture_kernels()
    names = list(kernels)
    w = mg.stack([kernels[n] for n in names]).unsqueeze(1)  # (3 features, 1, 3, 3)
    filtered, rectified, pooled = stage(images["X"], w)
    print("1. filtering the lecture's X with each feature (7x7 maps):")
    for i, n in enumerate(names):
        show(f"feature {n}:", filtered[0, i])

    negatives = int((filtered[0, 0] < 0).sum().item())
    print(
        f"\n2. ReLU: the {negatives} negative values of the diagonal map become 0, the rest stays"
    )
    show("rectified diagonal:", rectified[0, 0])
    print("  (the cross and anti_diagonal maps are rectified the same way)")

    print("\n3. max-pooling the rectified maps, window 2, stride 2, partial windows kept (4x4):")
    for i, n in enumerate(names):
        show(f"pooled {n}:", pooled[0, i])

    print(
        "\n4. stacking: each stage's output stack is the next stage's input (a deep ConvNet"
        "\n   repeats conv -> ReLU -> pool); pooling the 4x4 stack again gives 3 maps of 2x2:"
    )
    values = {}
    for label in ("X", "O"):
        p = pooled if label == "X" else stage(images[label], w)[2]
        deeper = F.max_pool2d(p, 2, stride=2, ceil_mode=True)  # (1, 3, 4, 4) -> (1, 3, 2, 2)
        values[label] = deeper.flatten()  # (12,): 3 maps of 2x2, one after another
        listed = " ".join(truncated(v).strip() for v in values[label].tolist())
        print(f"  the lecture's {label}, 12 values: {listed}")

    print(
        "\n5. a fully connected layer: each of the 12 values gets a weighted vote for X and O."
        "\n   Hand-made weights: a value's weight for X is its value in the lecture's X (for O,"
        "\n   in the lecture's O); a class's answer is the weighted average of the values"
    )
    weights = mg.stack([values["X"], values["O"]])  # (2 classes, 12 values)
    for label in ("X", "O"):
        answers = F.linear(values[label], weights) / weights.sum(1)  # (2,): X, O in [0, 1]
        x_ans, o_ans = (round(a, 2) for a in answers.tolist())
        right_x, right_o = (1, 0) if label == "X" else (0, 1)
        print(
            f"  the lecture's {label}: X {x_ans:.2f}, O {o_ans:.2f} -> "
            f"{'X' if x_ans > o_ans else 'O'}\n    error = right answer - actual answer: "
            f"X {right_x} - {x_ans:.2f} = {right_x - x_ans:+.2f}, "
            f"O {right_o} - {o_ans:.2f} = {right_o - o_ans:+.2f}"
        )
    print("  learning (step 6) chooses the features and weights that make these errors small")
    return values


def train_convnet(epochs: int, limit: int | None, seed: int = 0) -> float:
    """Step 6: learn features and votes by backpropagation; returns the test accuracy."""
    mg.manual_seed(seed)
    train_set, test_set = XO(n=2000, train=True), XO(n=1000, train=False)
    if limit is not None:  # the first `limit` samples of each split
        train_set = Subset(train_set, range(min(limit, len(train_set))))
        test_set = Subset(test_set, range(min(limit, len(test_set))))
    model = XONet()
    n_weights = sum(p.numel() for p in model.parameters())
    optimizer = mg.optim.Adam(model.parameters(), lr=1e-2)
    loader = DataLoader(train_set, batch_size=50, shuffle=True, seed=seed)
    print(
        f"\n6. training {type(model).__name__} (conv 3x3 -> ReLU -> max pool, twice, then a"
        f" fully connected vote;\n   {n_weights:,} weights) on {len(train_set)} generated X's"
        " and O's"
    )
    for epoch in range(1, epochs + 1):
        model.train()
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        accuracy = evaluate(model, test_set)
        print(f"  epoch {epoch}: last batch loss {loss.item():.4f}, test accuracy {accuracy:.2%}")
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
    parser.add_argument("--limit", type=int, help="only the first N samples of each split")
    parser.add_argument("--quick", action="store_true", help="a tiny run: 2 epochs, 400 samples")
    args = parser.parse_args()
    lecture_walkthrough()
    if args.quick:
        args.epochs, args.limit = 2, 400
    accuracy = train_convnet(args.epochs, args.limit)
    print(f"\nresult: the ConvNet tells X from O with {accuracy:.2%} test accuracy")


if __name__ == "__main__":
    main()
