"""``minigrad predict`` (class probabilities of PNG pictures) and ``minigrad explain`` (one test
sample drawn on its way through the network, up to the votes of the last layer)."""

from __future__ import annotations

import argparse
import os

from minigrad.autograd import no_grad
from minigrad.cli import checkpoint, report
from minigrad.cli.datasets import DATASETS, load
from minigrad.cli.errors import CLIError
from minigrad.creation import tensor
from minigrad.ops.reduce import softmax


def _viz():
    try:
        from minigrad import viz
    except ImportError as e:
        raise CLIError(str(e)) from None
    return viz


def run_predict(args: argparse.Namespace) -> int:
    viz = _viz()
    device = checkpoint.open_device(args.device)
    ckpt = checkpoint.read(args.checkpoint, device)
    spec = DATASETS.get(ckpt["config"]["data"])
    in_shape = tuple(ckpt["model_kwargs"]["in_shape"])
    if spec is None or spec.pixel_range is None or len(in_shape) != 3:
        raise CLIError(
            f"predict reads pictures, but checkpoint {args.checkpoint!r} holds a model for "
            f"{ckpt['config']['data']} inputs of shape {in_shape}, which are not pictures"
        )
    model = checkpoint.restore_model(ckpt, args.checkpoint, device).eval()
    classes = ckpt["classes"]
    for path in args.images:
        try:
            grey = viz.read_png(path)
        except (OSError, ValueError) as e:
            raise CLIError(f"can't read {path!r}: {e}") from None
        x, inverted = viz.to_model_input(grey, in_shape, spec.pixel_range, spec.normalize)
        with no_grad():
            probs = softmax(model(tensor(x, device=device).unsqueeze(0)), 1)[0].tolist()
        note = ", light background inverted" if inverted else ""
        report.say(f"{path} ({grey.shape[1]}x{grey.shape[0]} -> {in_shape}{note}):")
        width = max(len(str(c)) for c in classes)
        for p, name in sorted(zip(probs, classes), key=lambda pc: -pc[0]):
            report.say(f"  {str(name):<{width}}  {100 * p:6.2f}%")
    return 0


def run_explain(args: argparse.Namespace) -> int:
    viz = _viz()
    device = checkpoint.open_device(args.device)
    ckpt = checkpoint.read(args.checkpoint, device)
    model = checkpoint.restore_model(ckpt, args.checkpoint, device)
    name = args.data or ckpt["config"]["data"]
    test_set = load(DATASETS[name], False, args.root or ckpt.get("root"))
    checkpoint.check_data(ckpt, args.checkpoint, name, test_set)
    if args.index >= len(test_set):
        raise CLIError(
            f"--index {args.index} is out of range: the {name} test set has {len(test_set)} "
            f"samples (0 to {len(test_set) - 1})"
        )
    sample, label = test_set[args.index]
    out = args.out or os.path.join(
        os.path.dirname(args.checkpoint) or ".", f"explain_{args.index}.png"
    )
    classes = ckpt["classes"]
    caption = f"{name} test sample {args.index}\n(class {classes[label]})"
    path, trace = viz.save_explanation(model, sample, classes, out, label, caption)
    guess = max(range(len(classes)), key=lambda c: trace.probs[c])
    report.say(
        f"{name} test sample {args.index} (class {classes[label]}): predicted "
        f"{classes[guess]} with probability {100 * trace.probs[guess]:.2f}%"
    )
    report.say(f"picture: {path}")
    return 0
