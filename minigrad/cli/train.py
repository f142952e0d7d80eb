"""``minigrad train``: fit a model to a built-in data set with progress bars, a checkpoint after
every epoch and on Ctrl-C (resumable mid-epoch, to the same final weights), and pictures."""

from __future__ import annotations

import argparse
import math
import os
import signal
import time

from minigrad import backend, optim
from minigrad.cli import checkpoint, report
from minigrad.cli.datasets import DATASETS, DataSpec, load
from minigrad.cli.errors import CLIError
from minigrad.cli.evaluate import evaluate
from minigrad.creation import manual_seed
from minigrad.data import DataLoader
from minigrad.models import build_model
from minigrad.nn import functional as F

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
# what a resumed run takes from its checkpoint; giving a different value is an error
RECIPE = "data model batch_size lr optimizer weight_decay schedule seed limit".split()
PICTURES = ("curves.png", "filters.png", "feature_maps.png", "confusion.png")


def make_optimizer(name: str, params, lr: float, weight_decay: float) -> optim.Optimizer:
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, weight_decay=weight_decay)
    cls = optim.Adam if name == "adam" else optim.AdamW
    return cls(params, lr=lr, weight_decay=weight_decay)


def cosine_lr(lr: float, epoch: int, epochs: int) -> float:
    """The learning rate of epoch ``epoch`` (from 0) when annealed from ``lr`` towards 0."""
    return lr * (1.0 + math.cos(math.pi * epoch / epochs)) / 2.0


class StopRequest:
    """While active, Ctrl-C (SIGINT) only sets ``requested``: the step under way completes and
    the loop saves a checkpoint. A second Ctrl-C interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __enter__(self) -> StopRequest:
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: Ctrl-C keeps its usual meaning
            self._previous = None
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def __call__(self) -> bool:
        return self.requested


def fresh_stats() -> dict:
    return {"loss_sum": 0.0, "correct": 0, "seen": 0, "seconds": 0.0}


class Run:
    """One training run: the model, optimizer, data and progress, and its checkpoint."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.device = checkpoint.open_device(args.device)
        ckpt = checkpoint.read(args.resume, self.device) if args.resume else None
        self.config = config = _config(args, ckpt)
        self.spec: DataSpec = DATASETS[config["data"]]
        self.root = args.root if args.root is not None else (ckpt or {}).get("root")
        self.train_set = load(self.spec, True, self.root, config["limit"])
        self.test_set = load(self.spec, False, self.root, config["limit"])
        self.classes = list(self.train_set.classes)
        default_out = os.path.dirname(args.resume) if ckpt else os.path.join("runs", config["data"])
        self.out = args.out or default_out or "."
        self.path = os.path.join(self.out, "checkpoint.mg")
        self.model_kwargs = {
            "num_classes": len(self.classes),
            "in_shape": list(self.train_set.sample_shape),
        }
        if ckpt is None:
            manual_seed(config["seed"])
            try:
                self.model = build_model(config["model"], **self.model_kwargs).to(self.device)
            except ValueError as e:
                raise CLIError(
                    f"--model {config['model']} does not fit {config['data']}: {e}"
                ) from None
        else:
            checkpoint.check_data(ckpt, args.resume, config["data"], self.train_set)
            self.model = checkpoint.restore_model(ckpt, args.resume, self.device)
        self.optimizer = make_optimizer(
            config["optimizer"], self.model.parameters(), config["lr"], config["weight_decay"]
        )
        self.loader = DataLoader(
            self.train_set,
            batch_size=config["batch_size"],
            shuffle=True,
            seed=config["seed"],
            device=self.device,
        )
        self.epoch, self.history, self.stats = 0, [], fresh_stats()
        self.pending_eval, self.first_loss, self.last_eval = False, None, None
        if ckpt is not None:
            self._restore(ckpt)
        self.stop = StopRequest()

    def _restore(self, ckpt: dict) -> None:
        try:
            self.optimizer.load_state_dict(ckpt["optimizer"])
            self.loader.load_state_dict(ckpt["loader"])
            backend.set_rng_state(ckpt["rng"])
        except (ValueError, TypeError, KeyError) as e:
            raise CLIError(f"checkpoint {self.args.resume!r} can't be resumed: {e}") from None
        self.epoch = ckpt["epoch"]
        self.history = list(ckpt.get("history", []))
        self.stats = dict(ckpt.get("epoch_stats") or fresh_stats())
        self.pending_eval = bool(ckpt.get("pending_eval", False))
        self.first_loss = ckpt.get("first_loss")

    def state(self) -> dict:
        """What the checkpoint holds: enough to rebuild the model and to go on exactly where
        the run stands (the loader's position in its epoch and every random generator)."""
        return {
            "config": self.config,
            "model_kwargs": self.model_kwargs,
            "classes": self.classes,
            "root": self.root,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "epoch": self.epoch,
            "loader": self.loader.state_dict(),
            "rng": backend.get_rng_state(),
            "epoch_stats": self.stats,
            "pending_eval": self.pending_eval,
            "first_loss": self.first_loss,
            "history": self.history,
        }

    def save(self) -> None:
        os.makedirs(self.out, exist_ok=True)
        checkpoint.write(self.path, self.state())

    # ---------------------------------------------------------------- the loop

    def fit(self) -> int:
        """Train up to ``config["epochs"]``; 130 when stopped by Ctrl-C, else 0."""
        epochs = self.config["epochs"]
        self._banner()
        with self.stop:
            if self.pending_eval and not self._end_epoch():
                return self._interrupted()
            while self.epoch < epochs:
                if not self._train_epoch():
                    return self._interrupted()
                self.epoch += 1
                self.pending_eval = True
                if not self._end_epoch():
                    return self._interrupted()
        self._finish()
        return 0

    def _train_epoch(self) -> bool:
        """One epoch (or the rest of one); False when stopped with batches left to do."""
        config, stats = self.config, self.stats
        lr = config["lr"]
        if config["schedule"] == "cosine":
            lr = cosine_lr(lr, self.epoch, config["epochs"])
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.model.train()
        start = self.loader.state_dict()["position"]
        desc = f"epoch {self.epoch + 1}/{config['epochs']}"
        bar = report.Progress(len(self.loader), start, desc, report.bars_wanted(self.args.quiet))
        try:
            tick = time.perf_counter()
            for done, (x, y) in enumerate(self.loader, start + 1):
                out = self.model(x)  # (B, classes) logits
                loss = F.cross_entropy(out, y)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                value = loss.item()
                if self.first_loss is None:
                    self.first_loss = value
                stats["loss_sum"] += value * len(y)
                stats["correct"] += int((out.argmax(1) == y).sum().item())
                stats["seen"] += len(y)
                bar.update(value)
                if self.stop.requested and done < len(self.loader):
                    stats["seconds"] += time.perf_counter() - tick
                    return False
            stats["seconds"] += time.perf_counter() - tick
        finally:
            bar.close()
        return True

    def _end_epoch(self) -> bool:
        """Evaluate the epoch just trained, record it and save; False when stopped first."""
        if self.stop.requested:
            return False
        result = evaluate(self.model, self.test_set, self.device, self.stop)
        if result is None:
            return False
        stats, seen = self.stats, max(self.stats["seen"], 1)
        entry = {
            "epoch": self.epoch,
            "train_loss": stats["loss_sum"] / seen,
            "train_acc": stats["correct"] / seen,
            "test_loss": result["loss"],
            "test_acc": result["acc"],
            "images_per_s": stats["seen"] / max(stats["seconds"], 1e-9),
            "seconds": stats["seconds"],
        }
        self.history.append(entry)
        self.stats, self.pending_eval, self.last_eval = fresh_stats(), False, result
        self.save()
        if not self.args.quiet:
            report.say(report.epoch_line(entry, self.config["epochs"]))
        return True

    def _interrupted(self) -> int:
        self.save()
        position = self.loader.state_dict()["position"]
        where = (
            f"epoch {self.epoch + 1}, batch {position}/{len(self.loader)}"
            if position
            else f"the end of epoch {self.epoch}"
        )
        report.warn(
            f"\ninterrupted at {where}; checkpoint saved to {self.path}\n"
            f"resume with: python -m minigrad train --resume {self.path}"
        )
        return 130

    # ---------------------------------------------------------------- messages and pictures

    def _banner(self) -> None:
        if self.args.quiet:
            return
        c = self.config
        n_params = sum(p.numel() for p in self.model.parameters())
        limited = f" (first {c['limit']} of each split)" if c["limit"] else ""
        report.say(
            f"{'resuming' if self.args.resume else 'training'} {c['model']} ({n_params:,} "
            f"parameters) on {self.spec.title}: {len(self.train_set)} train / "
            f"{len(self.test_set)} test samples{limited}"
        )
        report.say(
            f"{report.plural(c['epochs'], 'epoch')}, {c['optimizer']} lr {c['lr']:g} "
            f"({c['schedule']}), batch {c['batch_size']}, seed {c['seed']}, device {self.device}; "
            f"writing to {self.out}/"
        )
        if self.epoch >= c["epochs"] and not self.pending_eval:
            report.say(
                f"the checkpoint has already trained {report.plural(self.epoch, 'epoch')}; "
                f"pass --epochs N (more than {self.epoch}) to train longer"
            )

    def _finish(self) -> None:
        result = self.last_eval or evaluate(self.model, self.test_set, self.device)
        report.say(
            f"final test accuracy {report.percent(result['acc'])} "
            f"({result['correct']}/{result['n']}) after {report.plural(self.epoch, 'epoch')}; "
            f"checkpoint: {self.path}"
        )
        if self.args.no_pictures:
            return
        try:
            from minigrad import viz
        except ImportError as e:
            report.warn(f"pictures skipped: {e}")
            return
        made = viz.training_pictures(
            self.out,
            self.model,
            self.history,
            self.test_set,
            self.classes,
            result["preds"],
            result["labels"],
        )
        if made:
            report.say(f"pictures: {', '.join(made)} in {self.out}/")


def _config(args: argparse.Namespace, ckpt: dict | None) -> dict:
    """The recipe: the checkpoint's when resuming (a different value given is an error, except
    ``--epochs`` to train longer), else the command line's over the data set's defaults."""
    if ckpt is not None:
        config = dict(ckpt["config"])
        for key in RECIPE:
            given = getattr(args, key)
            if given is not None and given != config.get(key):
                flag = "--" + key.replace("_", "-")
                raise CLIError(
                    f"{flag} {given} differs from the checkpoint's {config.get(key)}: a resumed "
                    "run keeps its recipe (start a new run without --resume to change it)"
                )
        if args.epochs is not None:
            if args.epochs < ckpt["epoch"]:
                raise CLIError(
                    f"--epochs {args.epochs} is fewer than the "
                    f"{report.plural(ckpt['epoch'], 'epoch')} the checkpoint has already trained"
                )
            config["epochs"] = args.epochs
        return config
    spec = DATASETS[args.data or "xo"]

    def pick(key: str, default):
        given = getattr(args, key)
        return default if given is None else given

    return {
        "data": spec.name,
        "model": pick("model", spec.model),
        "epochs": pick("epochs", spec.epochs),
        "batch_size": pick("batch_size", spec.batch_size),
        "lr": pick("lr", spec.lr),
        "optimizer": pick("optimizer", spec.optimizer),
        "weight_decay": pick("weight_decay", spec.weight_decay),
        "schedule": pick("schedule", spec.schedule),
        "seed": pick("seed", 0),
        "limit": args.limit,
    }


def run_train(args: argparse.Namespace) -> int:
    return Run(args).fit()
