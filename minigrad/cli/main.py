"""The ``minigrad`` command: its arguments, and ``main`` turning user errors into one short line
on stderr and an exit status (1 for errors, 130 for Ctrl-C) instead of a traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from minigrad.cli.datasets import DATASETS
from minigrad.cli.errors import CLIError
from minigrad.cli.evaluate import run_evaluate
from minigrad.cli.predict import run_explain, run_predict
from minigrad.cli.train import OPTIMIZERS, run_train
from minigrad.models import MODELS

DESCRIPTION = """\
Train ConvNets with minigrad on built-in data sets, then evaluate them, classify your own
pictures and see what the network sees. Start with:  python -m minigrad train"""

TRAIN_EPILOG = "defaults per data set:\n" + "\n".join(
    f"  {s.name:<14} --model {s.model} --epochs {s.epochs} --batch-size {s.batch_size} "
    f"--lr {s.lr:g} --optimizer {s.optimizer}"
    + (f" --weight-decay {s.weight_decay:g}" if s.weight_decay else "")
    for s in DATASETS.values()
)


def _count(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {value}")
        return value

    return parse


def _rate(allow_zero: bool):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (value >= 0 if allow_zero else value > 0) or value == float("inf"):
            kind = "a finite number >= 0" if allow_zero else "a finite number > 0"
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text}")
        return value

    return parse


def _common(p: argparse.ArgumentParser, data_help: str) -> None:
    p.add_argument("--data", choices=list(DATASETS), help=data_help)
    p.add_argument("--root", metavar="DIR", help="where data files are (fashion-mnist)")
    p.add_argument(
        "--device",
        choices=["cpu", "cuda"],
        help="where to compute (default: cpu, or $MINIGRAD_DEVICE)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minigrad",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser(
        "train",
        help="train a model on a data set (default: the lecture's X-or-O pictures)",
        description="Train a model, printing a summary per epoch, and write checkpoint.mg, "
        "curves.png, filters.png, feature_maps.png and confusion.png to --out. Ctrl-C saves a "
        "checkpoint that --resume continues.",
        epilog=TRAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(t, "the data set (default: xo)")
    t.add_argument("--model", choices=list(MODELS), help="the model (default: per data set)")
    t.add_argument("--epochs", type=_count(1), metavar="N")
    t.add_argument("--batch-size", type=_count(1), metavar="N")
    t.add_argument("--lr", type=_rate(False), help="the learning rate")
    t.add_argument("--optimizer", choices=OPTIMIZERS)
    t.add_argument("--weight-decay", type=_rate(True), metavar="WD")
    t.add_argument(
        "--schedule",
        choices=["cosine", "constant"],
        help="learning rate per epoch: cosine annealing to 0 (default) or constant",
    )
    t.add_argument("--seed", type=_count(0), help="seed of the weights, batches and dropout")
    t.add_argument("--out", metavar="DIR", help="output directory (default: runs/<data>)")
    t.add_argument(
        "--resume", metavar="CHECKPOINT", help="continue the run saved in this checkpoint"
    )
    t.add_argument(
        "--limit", type=_count(1), metavar="N", help="use only the first N samples of each split"
    )
    t.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    t.add_argument("--no-pictures", action="store_true", help="skip the PNG pictures")

    e = sub.add_parser(
        "evaluate",
        help="test accuracy of a checkpoint, per class too",
        description="Loss and accuracy of a trained checkpoint on a test set.",
    )
    e.add_argument("--checkpoint", required=True, metavar="C", help="a checkpoint.mg")
    _common(e, "the data set (default: the one the checkpoint was trained on)")
    e.add_argument("--limit", type=_count(1), metavar="N", help="only the first N test samples")

    p = sub.add_parser(
        "predict",
        help="classify PNG pictures with a checkpoint",
        description="Classify PNG pictures: each is turned grey, resized to the model's input "
        "and scaled like its training data (a light background is inverted to dark, as in the "
        "data sets); prints the class probabilities, most likely first.",
    )
    p.add_argument("--checkpoint", required=True, metavar="C", help="a checkpoint.mg")
    p.add_argument("images", nargs="+", metavar="IMAGE.png")
    p.add_argument("--device", choices=["cpu", "cuda"], help="where to compute")

    x = sub.add_parser(
        "explain",
        help="picture of one test sample's way through the network",
        description="Draw one test sample going through the network: the input, the feature "
        "maps of every stage, and the last fully connected layer's weighted votes per class.",
    )
    x.add_argument("--checkpoint", required=True, metavar="C", help="a checkpoint.mg")
    x.add_argument("--index", type=_count(0), default=0, help="which test sample (default 0)")
    x.add_argument(
        "--out", metavar="FILE", help="the PNG to write (default: explain_<index>.png next to C)"
    )
    _common(x, "the data set (default: the one the checkpoint was trained on)")
    return parser


COMMANDS = {
    "train": run_train,
    "evaluate": run_evaluate,
    "predict": run_predict,
    "explain": run_explain,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``minigrad COMMAND ...``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except CLIError as e:
        print(f"minigrad {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nminigrad {args.command}: interrupted", file=sys.stderr)
        return 130
