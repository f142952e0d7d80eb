"""What the command line shows: tqdm progress bars on stderr (only on a terminal, and only when
tqdm is installed) and the one-line summaries on stdout."""

from __future__ import annotations

import sys


def bars_wanted(quiet: bool) -> bool:
    """Progress bars redraw a terminal line: pointless in a log file or a pipe."""
    return not quiet and sys.stderr.isatty()


class Progress:
    """A progress bar over ``total`` batches that started at ``initial``; does nothing when
    disabled or when tqdm is missing."""

    def __init__(self, total: int, initial: int, desc: str, enabled: bool) -> None:
        self._bar = None
        if not enabled:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        self._bar = tqdm(
            total=total,
            initial=initial,
            desc=desc,
            unit="batch",
            file=sys.stderr,
            leave=False,
            dynamic_ncols=True,
        )

    def update(self, loss: float) -> None:
        if self._bar is not None:
            self._bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def say(*parts: object) -> None:
    print(*parts, flush=True)


def warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def percent(fraction: float) -> str:
    return f"{100.0 * fraction:.2f}%"


def epoch_line(entry: dict, epochs: int) -> str:
    """``epoch 3/5  loss 0.0412  train 98.70%  test 99.40% (loss 0.0213)  1520 img/s``."""
    width = len(str(epochs))
    return (
        f"epoch {entry['epoch']:>{width}}/{epochs}  loss {entry['train_loss']:.4f}  "
        f"train {percent(entry['train_acc'])}  test {percent(entry['test_acc'])} "
        f"(loss {entry['test_loss']:.4f})  {entry['images_per_s']:.0f} img/s"
    )


def per_class_lines(classes, correct: list[int], total: list[int]) -> list[str]:
    """One line per class: its name and how many of its test samples were right."""
    width = max(len(str(c)) for c in classes)
    return [
        f"  {str(name):<{width}}  {percent(c / t) if t else '   n/a'}  ({c}/{t})"
        for name, c, t in zip(classes, correct, total)
    ]
