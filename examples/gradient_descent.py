"""Split the data with a line: one neuron, cross-entropy, and gradient descent.

The lecture's story in code. Counting mistakes is a step function, so we use a smooth error:
each point gets a probability from a sigmoid, the likelihood of the labels is the product of the
probabilities of the right answers, and cross-entropy, -sum(log p), turns that product into a sum.
Gradient descent then walks the line's weights downhill on that error: every epoch is one pass
over all the points and one step along the negative gradient.

    python examples/gradient_descent.py [--epochs 200] [--limit N] [--lr 0.5] [--quick]
"""

from __future__ import annotations

import argparse
import math

import minigrad as mg

N_POINTS = 200


def lecture_numbers() -> None:
    """The slide's two lines: the better line gives the right answers higher probabilities, so
    its error, the sum of -log p over the points, is smaller."""
    for name, probs in (
        ("worse line", [0.6, 0.2, 0.1, 0.7]),
        ("better line", [0.7, 0.9, 0.8, 0.6]),
    ):
        p = mg.tensor(probs, dtype=mg.float64)
        terms = (-p.log()).tolist()  # -log p of each point
        print(
            f"{name}: probabilities {probs} -> product {p.prod().item():.4f}; cross-entropy "
            f"-sum(log p) = {' + '.join(f'{t:.2f}' for t in terms)} = {sum(terms):.1f} "
            f"= -log(product) {-math.log(p.prod().item()):.1f}"
        )


def make_points(n: int = N_POINTS, seed: int = 0):
    """Two clouds of 2-D points, blue (label 0) around (-1, -1) and red (label 1) around (1, 1)."""
    mg.manual_seed(seed)
    labels = mg.randint(0, 2, (n,))
    centres = labels.float().unsqueeze(1) * 2 - 1  # (n, 1): -1 or +1
    points = centres + 0.8 * mg.randn(n, 2)
    return points, labels.float()


def cross_entropy_and_accuracy(x, y, w, b):
    """The mean of -log p(right answer) over the points, and the fraction on the right side."""
    p = (x @ w + b).sigmoid()  # (n,): probability of "red" for every point
    # probability of the RIGHT answer: p for red points, 1 - p for blue ones
    p_right = y * p + (1 - y) * (1 - p)
    accuracy = ((p > 0.5).float() == y).float().mean().item()
    return -p_right.log().mean(), accuracy


def train(epochs: int, lr: float, n: int = N_POINTS, seed: int = 0) -> tuple[float, float, float]:
    """Full-batch gradient descent; returns the cross-entropy before and after, and the final
    accuracy."""
    x, y = make_points(n, seed)
    w = mg.zeros(2, requires_grad=True)  # the line: w . x + b = 0
    b = mg.zeros(1, requires_grad=True)
    every = max(1, epochs // 10)
    start = None
    for epoch in range(epochs):
        loss, accuracy = cross_entropy_and_accuracy(x, y, w, b)
        if start is None:
            start = loss.item()  # w = b = 0: every probability is 0.5, the error is log 2
        if epoch % every == 0:
            print(f"epoch {epoch:4d}  cross-entropy {loss.item():.4f}  accuracy {accuracy:.1%}")
        loss.backward()
        with mg.no_grad():  # one step downhill
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad = None
        b.grad = None
    with mg.no_grad():
        loss, accuracy = cross_entropy_and_accuracy(x, y, w, b)
    final = loss.item()
    print(f"epoch {epochs:4d}  cross-entropy {final:.4f}  accuracy {accuracy:.1%}")
    w0, w1, b0 = w[0].item(), w[1].item(), b.item()
    slope = f"{-w0 / w1:.2f}" if w1 else "vertical"
    print(f"learned line: {w0:.2f}*x + {w1:.2f}*y + {b0:.2f} = 0 (slope {slope})")
    return start if start is not None else final, final, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--epochs", type=int, default=200, help="gradient steps, each over all the points"
    )
    parser.add_argument("--limit", type=int, help=f"use N points (default {N_POINTS})")
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--quick", action="store_true", help="a tiny run: 20 epochs, 100 points")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.limit = 20, 100
    lecture_numbers()
    n = args.limit or N_POINTS
    print(f"\none neuron, {n} points, gradient descent with lr {args.lr:g} on the mean -log p:")
    start, final, accuracy = train(args.epochs, args.lr, n)
    print(
        f"\nresult: the line puts {accuracy:.1%} of the {n} points on the right side "
        f"(cross-entropy {start:.4f} -> {final:.4f} in {args.epochs} epochs)"
    )


if __name__ == "__main__":
    main()
