"""``minigrad evaluate``: a trained checkpoint's loss and accuracy on a test set, per class too;
and the evaluation loop ``train`` runs after every epoch."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from minigrad.autograd import no_grad
from minigrad.cli import checkpoint, report
from minigrad.cli.datasets import DATASETS, load
from minigrad.data import DataLoader
from minigrad.nn import functional as F

EVAL_BATCH = 500


def evaluate(model, dataset, device, stop: Callable[[], bool] | None = None) -> dict | None:
    """``{"loss", "acc", "correct", "n", "preds", "labels"}`` of ``model`` on ``dataset`` (in
    eval mode, without gradients); None when ``stop()`` turns true before the end."""
    model.eval()
    loss_sum, preds, labels = 0.0, [], []
    with no_grad():
        for x, y in DataLoader(dataset, batch_size=EVAL_BATCH, device=device):
            if stop is not None and stop():
                return None
            out = model(x)  # (B, classes) logits
            loss_sum += F.cross_entropy(out, y, reduction="sum").item()
            preds += out.argmax(1).tolist()
            labels += y.tolist()
    n = len(labels)
    correct = sum(p == t for p, t in zip(preds, labels))
    return {
        "loss": loss_sum / n,
        "acc": correct / n,
        "correct": correct,
        "n": n,
        "preds": preds,
        "labels": labels,
    }


def run_evaluate(args: argparse.Namespace) -> int:
    device = checkpoint.open_device(args.device)
    ckpt = checkpoint.read(args.checkpoint, device)
    model = checkpoint.restore_model(ckpt, args.checkpoint, device)
    config = ckpt["config"]
    name = args.data or config["data"]
    test_set = load(DATASETS[name], False, args.root or ckpt.get("root"), args.limit)
    checkpoint.check_data(ckpt, args.checkpoint, name, test_set)
    result = evaluate(model, test_set, device)
    report.say(
        f"{config['model']} from {args.checkpoint} ({report.plural(ckpt['epoch'], 'epoch')} on "
        f"{config['data']})"
        f" on the {name} test set ({result['n']} samples):"
    )
    report.say(
        f"test accuracy {report.percent(result['acc'])} ({result['correct']}/{result['n']}), "
        f"loss {result['loss']:.4f}"
    )
    classes = ckpt["classes"]
    right, total = [0] * len(classes), [0] * len(classes)
    for p, t in zip(result["preds"], result["labels"]):
        total[t] += 1
        right[t] += p == t
    for line in report.per_class_lines(classes, right, total):
        report.say(line)
    return 0
