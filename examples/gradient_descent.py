"""Split the data with a line: one neuron, cross-entropy, and gradient descent.

The lecture's story in code. Counting mistakes is a step function, so we use a smooth error:
each point gets a probability from a sigmoid, the likelihood of the labels is the product of the
probabilities of the right answers, and cross-entropy, -sum(log p), turns that product into a sum.
Gradient descent then walks the line's weights downhill on that error.

    python examples/gradient_descent.py [--steps 200] [--lr 0.5]
"""

from __future__ import annotations

import argparse
import math

import minigrad as mg


def lecture_numbers() -> None:
    """The slide's two lines: the better line gives the right answers higher probabilities."""
    for name, probs in (
        ("worse line", [0.6, 0.2, 0.1, 0.7]),
        ("better line", [0.7, 0.9, 0.8, 0.6]),
    ):
        p = mg.tensor(probs)
        print(
            f"{name}: probabilities {probs} -> product {p.prod().item():.4f}, "
            f"cross-entropy -sum(log p) = {-p.log().sum().item():.1f}"
        )


def make_points(n: int = 200, seed: int = 0):
    """Two clouds of 2-D points, blue (label 0) around (-1, -1) and red (label 1) around (1, 1)."""
    mg.manual_seed(seed)
    labels = mg.randint(0, 2, (n,))
    centres = labels.float().unsqueeze(1) * 2 - 1  # (n, 1): -1 or +1
    points = centres + 0.8 * mg.randn(n, 2)
    return points, labels.float()


def train(steps: int, lr: float, seed: int = 0) -> float:
    x, y = make_points(seed=seed)
    w = mg.zeros(2, requires_grad=True)  # the line: w . x + b = 0
    b = mg.zeros(1, requires_grad=True)
    for step in range(steps + 1):
        p = (x @ w + b).sigmoid()  # probability of "red" for every point
        # probability of the RIGHT answer: p for red points, 1 - p for blue ones
        p_right = y * p + (1 - y) * (1 - p)
        loss = -p_right.log().mean()  # cross-entropy, averaged over points
        loss.backward()
        with mg.no_grad():  # one step downhill
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad = None
        b.grad = None
        if step % max(1, steps // 10) == 0:
            accuracy = ((p > 0.5).float() == y).float().mean().item()
            print(f"step {step:4d}  cross-entropy {loss.item():.4f}  accuracy {accuracy:.1%}")
    slope = -w[0].item() / w[1].item() if w[1].item() else math.inf
    print(
        f"learned line: {w[0].item():.2f}*x + {w[1].item():.2f}*y + {b.item():.2f} = 0 "
        f"(slope {slope:.2f})"
    )
    return accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--lr", type=float, default=0.5)
    args = parser.parse_args()
    lecture_numbers()
    accuracy = train(args.steps, args.lr)
    print(f"final accuracy: {accuracy:.1%}")


if __name__ == "__main__":
    main()
