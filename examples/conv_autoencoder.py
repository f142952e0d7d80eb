"""A convolutional autoencoder on Fashion-MNIST: encoder -> code -> decoder, trained to give back
its input.

The encoder halves the picture twice with strided convolutions, (1, 28, 28) -> (16, 14, 14) ->
(32, 7, 7); the decoder doubles it back with transposed convolutions (the first) and nearest
upsampling followed by a convolution (the second), ending in a sigmoid since pixels lie in
[0, 1]. The loss is the mean squared error between picture and reconstruction. Reported: the
test set's reconstruction MSE, next to the MSE of answering every picture with the mean training
picture, and a PNG of test pictures over their reconstructions.

    python examples/conv_autoencoder.py [--epochs 3] [--limit N] [--out reconstructions.png]
"""

from __future__ import annotations

import argparse

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.data import DataLoader, FashionMNIST, Subset


class ConvAutoencoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1),  # (16, 14, 14)
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),  # (32, 7, 7): the code
            nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1),  # (16, 14, 14)
            nn.ReLU(),
            nn.Upsample(scale_factor=2),  # (16, 28, 28)
            nn.Conv2d(16, 1, 3, padding=1),  # (1, 28, 28)
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


def test_mse(model, dataset) -> float:
    model.eval()
    total = 0.0
    with mg.no_grad():
        for x, _ in DataLoader(dataset, batch_size=500):
            total += F.mse_loss(model(x), x, reduction="sum").item()
    return total / (len(dataset) * 28 * 28)


def mean_picture_mse(train_set, test_set) -> float:
    """The MSE of the laziest decoder: every picture is the mean training picture."""
    mean = sum(x.sum(0) for x, _ in DataLoader(train_set, batch_size=1000)) / len(train_set)
    total = sum(((x - mean) ** 2).sum().item() for x, _ in DataLoader(test_set, batch_size=1000))
    return total / (len(test_set) * 28 * 28)


def save_pictures(model, dataset, path: str, n: int = 10) -> None:
    from matplotlib.figure import Figure

    x = mg.stack([dataset[i][0] for i in range(n)])  # (n, 1, 28, 28)
    model.eval()
    with mg.no_grad():
        y = model(x)
    fig = Figure(figsize=(n, 2.3), layout="constrained")
    axes = fig.subplots(2, n)
    for i in range(n):
        for row, pics in enumerate((x, y)):
            axes[row, i].imshow(pics[i, 0].numpy(), cmap="gray", vmin=0, vmax=1)
            axes[row, i].set_axis_off()
    fig.suptitle("test pictures (top) and their reconstructions (bottom)")
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--limit", type=int, help="only the first N samples of each split")
    parser.add_argument("--root", help="directory of the Fashion-MNIST IDX files")
    parser.add_argument("--out", default="reconstructions.png", help="the PNG to write")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    train_set = FashionMNIST(args.root, train=True)  # pixels in [0, 1]
    test_set = FashionMNIST(args.root, train=False)
    if args.limit:
        train_set = Subset(train_set, range(min(args.limit, len(train_set))))
        test_set = Subset(test_set, range(min(args.limit, len(test_set))))
    mg.manual_seed(args.seed)
    model = ConvAutoencoder()
    optimizer = mg.optim.Adam(model.parameters(), lr=2e-3)
    loader = DataLoader(train_set, batch_size=64, shuffle=True, seed=args.seed)
    for epoch in range(1, args.epochs + 1):
        model.train()
        total = 0.0
        for x, _ in loader:
            loss = F.mse_loss(model(x), x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
        mse = test_mse(model, test_set)
        print(f"epoch {epoch}: train MSE {total / len(train_set):.4f}, test MSE {mse:.4f}")
    save_pictures(model, test_set, args.out)
    baseline = mean_picture_mse(train_set, test_set)
    print(f"pictures: {args.out}")
    print(
        f"result: test reconstruction MSE {mse:.4f} (the mean picture for every input: "
        f"{baseline:.4f})"
    )


if __name__ == "__main__":
    main()
