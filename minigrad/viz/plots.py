"""The pictures: training curves, first-layer filters, feature maps ("one image becomes a stack
of filtered images"), the confusion matrix, and one sample explained from input to votes.

Figures are ``matplotlib.figure.Figure`` objects saved as PNG, never pyplot windows: nothing
here needs a display or changes matplotlib's global backend."""

from __future__ import annotations

import math
import os

import matplotlib
from matplotlib.figure import Figure

from minigrad.backend import host as np  # pictures are drawn from host arrays
from minigrad.viz.trace import Stage, Trace, first_layer_weights, trace

DPI = 100
CURVES_SIZE = (10.0, 4.0)  # inches; at DPI this is the PNG's size in pixels / 100
MAX_MAPS = 8  # feature maps drawn per stage
# red positive, blue negative, white zero; grey for the NaN gaps between tiled maps
DIVERGING = matplotlib.colormaps["RdBu_r"].with_extremes(bad="0.8")
COLOURS = "red: positive, blue: negative, white: 0 (each row on its own scale)"


def _save(fig: Figure, path: str | os.PathLike) -> str:
    path = os.fspath(path)
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    fig.savefig(path, dpi=DPI, format="png")
    return path


def _symmetric(values: np.ndarray) -> float:
    m = float(np.nanmax(np.abs(values))) if values.size else 0.0
    return m if m > 0 else 1.0


def _tile(maps: np.ndarray) -> np.ndarray:
    """(C, H, W) -> (H, C*W + C-1): the maps side by side, NaN columns between them."""
    c, h, w = maps.shape
    out = np.full((h, c * (w + 1) - 1), np.nan, dtype=np.float64)
    for i in range(c):
        out[:, i * (w + 1) : i * (w + 1) + w] = maps[i]
    return out


def _bare(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


# ---------------------------------------------------------------- training curves


def save_curves(history: list[dict], path) -> str:
    """Loss and accuracy (train and test) per epoch, side by side."""
    fig = Figure(figsize=CURVES_SIZE, layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    epochs = [h["epoch"] for h in history]
    # the training figures are means over the epoch while the weights changed; the test
    # figures are measured once, after the epoch: early on, test can look better than train
    for key, name in (("train", "train (mean over the epoch)"), ("test", "test (after the epoch)")):
        loss_ax.plot(epochs, [h[f"{key}_loss"] for h in history], "o-", label=name)
        acc_ax.plot(epochs, [100 * h[f"{key}_acc"] for h in history], "o-", label=name)
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    acc_ax.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    if history:
        final = history[-1]["test_acc"] * 100
        acc_ax.set_title(f"accuracy (final test {final:.2f}%)")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.legend()
        if epochs:
            ax.set_xticks(epochs if len(epochs) <= 12 else ax.get_xticks())
    return _save(fig, path)


# ---------------------------------------------------------------- first-layer filters


def save_filters(model, path) -> str:
    """The first layer's learned kernels, red positive and blue negative, like the lecture's
    3x3 features (for a network without convolution: each first-layer unit's weights)."""
    found = first_layer_weights(model)
    if found is None:
        raise ValueError("save_filters: the model has no Conv or Linear layer")
    kind, w = found
    in_shape = tuple(getattr(model, "in_shape", ()))
    if kind == "linear" and len(in_shape) == 3 and w.shape[1] == math.prod(in_shape):
        w = w.reshape((-1,) + in_shape)  # each unit's weights as a picture
    n_out, n_in = w.shape[0], w.shape[1]
    shown = f"the first 64 of {n_out}" if n_out > 64 else f"all {n_out}"
    if w.ndim == 4:  # (O, C, kh, kw): input channel 0 of each kernel (the only one for grey)
        kernels = w[:64, 0]
        cols = min(8, len(kernels))
        rows = math.ceil(len(kernels) / cols)
        fig = Figure(figsize=(1.3 * cols + 0.6, 1.3 * rows + 0.8), layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
        m = _symmetric(kernels)
        small = kernels.shape[-1] * kernels.shape[-2] <= 9
        for i, ax in enumerate(axes):
            _bare(ax)
            if i >= len(kernels):
                ax.set_axis_off()
                continue
            ax.imshow(kernels[i], cmap=DIVERGING, vmin=-m, vmax=m)
            ax.set_title(f"{'filter' if kind == 'conv' else 'unit'} {i + 1}", fontsize=8)
            if small:  # few numbers: print them, as the slides do
                for (r, c), v in np.ndenumerate(kernels[i]):
                    ink = "white" if abs(v) > 0.6 * m else "black"  # readable on dark cells
                    ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=6, color=ink)
    else:  # (O, C, k) 1-D kernels, or a Linear (out, in): one row per filter
        rows = w.reshape(len(w), -1)[:64]
        fig = Figure(figsize=(8, 1.5 + 0.15 * len(rows)), layout="constrained")
        ax = fig.subplots()
        m = _symmetric(rows)
        im = ax.imshow(rows, cmap=DIVERGING, vmin=-m, vmax=m, aspect="auto")
        ax.set(
            xlabel="kernel tap" if kind == "conv" else "input value",
            ylabel="filter" if kind == "conv" else "unit",
        )
        fig.colorbar(im, ax=ax, label="weight")
    if kind == "conv" and w.ndim == 4:
        size = f"{w.shape[2]}x{w.shape[3]}"
        title = f"the first convolution's learned {size} filters ({shown})"
        if n_in > 1:
            title += f", input channel 1 of {n_in}"
    elif kind == "conv":
        title = f"the first convolution's learned filters of {w.shape[-1]} taps ({shown})"
        if n_in > 1:
            title += f", {n_in} input channels one after another"
    else:
        title = f"the first layer's weights, one row per unit ({shown})"
        if w.ndim == 4:
            title = f"the first layer's weights, one picture per unit ({shown})"
    fig.suptitle(f"{title}\nred: positive weight, blue: negative, white: 0")
    return _save(fig, path)


# ---------------------------------------------------------------- feature maps


def _input_row(ax, x: np.ndarray, title: str) -> None:
    if x.ndim == 2 and x.shape[0] == 1:  # a 1-D signal: draw it as a line
        ax.plot(x[0], color="k")
        ax.set_xlim(0, x.shape[1] - 1)
        ax.set_yticks([])
    else:
        ax.imshow(x[0] if x.ndim == 3 else x, cmap="gray", aspect="equal")
        ax.set_anchor("W")
        _bare(ax)
    ax.set_ylabel(title, rotation=0, ha="right", va="center", fontsize=9)


def stage_caption(stage: Stage) -> str:
    """What a row of feature maps shows: ``conv 2`` / ``16 maps of 2x2`` / ``first 8 of 16
    channels`` (only MAX_MAPS maps of a wider stage are drawn)."""
    v = stage.values
    c = v.shape[0]
    if v.ndim == 3:  # (C, H, W)
        lines = [stage.label, f"{c} maps of {v.shape[1]}x{v.shape[2]}"]
        if c > MAX_MAPS:
            lines.append(f"first {MAX_MAPS} of {c} channels")
    else:  # (C, L): every channel, one row each
        lines = [stage.label, f"{c} channels of {v.shape[-1]}"]
    return "\n".join(lines)


def _stage_row(ax, stage: Stage) -> None:
    v = stage.values
    m = _symmetric(v)
    if v.ndim == 3:  # (C, H, W): the first maps side by side
        ax.imshow(_tile(v[:MAX_MAPS]), cmap=DIVERGING, vmin=-m, vmax=m, aspect="equal")
        ax.set_anchor("W")
    else:  # (C, L): channels as rows
        ax.imshow(v, cmap=DIVERGING, vmin=-m, vmax=m, aspect="auto", interpolation="nearest")
    _bare(ax)
    ax.set_ylabel(stage_caption(stage), rotation=0, ha="right", va="center", fontsize=9)


def _draw_stages(fig: Figure, rows, t: Trace, title: str) -> None:
    _input_row(rows[0], t.input, title)
    for ax, stage in zip(rows[1:], t.stages):
        _stage_row(ax, stage)


def save_feature_maps(model, sample, path, caption: str = "input") -> str:
    """One sample through every convolution / ReLU / pooling stage: each row is the stack of
    filtered images that stage makes (red positive, blue negative)."""
    t = trace(model, sample)
    n = 1 + len(t.stages)
    fig = Figure(figsize=(11, 1.3 * n + 0.6), layout="constrained")
    rows = np.atleast_1d(fig.subplots(n, 1, squeeze=False)).ravel()
    _draw_stages(fig, rows, t, caption)
    if t.stages:
        fig.suptitle(f"one input becomes a stack of filtered images at every stage\n{COLOURS}")
    else:
        fig.suptitle("this network has no convolution or pooling: no feature maps, only the input")
    return _save(fig, path)


# ---------------------------------------------------------------- confusion matrix


def confusion_matrix(preds, labels, num_classes: int) -> np.ndarray:
    """(true class, predicted class) counts."""
    m = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(labels, dtype=np.int64), np.asarray(preds, dtype=np.int64)), 1)
    return m


def save_confusion(preds, labels, classes, path) -> str:
    """Rows: the true class; columns: the predicted one; the diagonal is what was right."""
    k = len(classes)
    m = confusion_matrix(preds, labels, k)
    size = 3.0 + 0.5 * k
    fig = Figure(figsize=(size + 1.0, size), layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(m, cmap="Blues")
    names = [str(c) for c in classes]
    ax.set_xticks(range(k), names, rotation=45 if max(map(len, names)) > 2 else 0, ha="right")
    ax.set_yticks(range(k), names)
    ax.set(xlabel="predicted class", ylabel="true class")
    for (r, c), v in np.ndenumerate(m):
        color = "white" if v > m.max() / 2 else "black"
        ax.text(c, r, str(v), ha="center", va="center", fontsize=8, color=color)
    acc = np.trace(m) / max(m.sum(), 1)
    ax.set_title(f"confusion matrix: {100 * acc:.2f}% of {m.sum()} right")
    fig.colorbar(im, ax=ax, shrink=0.8, label="test samples")
    return _save(fig, path)


# ---------------------------------------------------------------- one sample explained


def save_explanation(
    model, sample, classes, path, label: int | None = None, caption: str = "input"
) -> tuple[str, Trace]:
    """The input, each stage's feature maps, and the last fully connected layer's weighted
    votes: ``votes[c, j] = weight[c, j] * value[j]``, summed (plus the bias) into each class's
    score, and the probabilities that the scores give."""
    t = trace(model, sample)
    n = 1 + len(t.stages)
    fig = Figure(figsize=(12, 1.3 * n + 4.2), layout="constrained")
    grid = fig.add_gridspec(n + 1, 2, height_ratios=[1.3] * n + [3.6], width_ratios=[3, 1])
    rows = [fig.add_subplot(grid[i, :]) for i in range(n)]
    _draw_stages(fig, rows, t, caption)
    vote_ax, prob_ax = fig.add_subplot(grid[n, 0]), fig.add_subplot(grid[n, 1])
    names = [str(c) for c in classes]
    if t.votes is not None:
        v = t.votes.votes
        m = _symmetric(v)
        im = vote_ax.imshow(v, cmap=DIVERGING, vmin=-m, vmax=m, aspect="auto")
        vote_ax.set_yticks(range(len(names)), names)
        vote_ax.set(
            xlabel=f"the {v.shape[1]} values entering the last (fully connected) layer; "
            "a class's score is the sum of its votes plus a bias"
        )
        totals = v.sum(axis=1) + t.votes.bias
        vote_ax.set_title("every value gets a weighted vote (weight x value) for each class")
        for r, s in enumerate(totals):
            vote_ax.text(v.shape[1] - 0.5, r, f"  score {s:+.2f}", va="center", fontsize=8)
        fig.colorbar(im, ax=vote_ax, shrink=0.8, label="vote: red for, blue against")
    else:
        vote_ax.set_axis_off()
    order = np.arange(len(names))
    prob_ax.barh(order, 100 * t.probs, color="tab:blue")
    for r, p in enumerate(t.probs):
        prob_ax.text(min(100 * p, 70) + 2, r, f"{100 * p:.1f}%", va="center", fontsize=8)
    prob_ax.set_yticks(order, names)
    prob_ax.invert_yaxis()
    prob_ax.set(xlim=(0, 100), xlabel="probability (%)", title="softmax of the scores")
    guess = int(np.argmax(t.probs))
    truth = "" if label is None else f", true class {names[label]}"
    title = f"predicted {names[guess]} ({100 * t.probs[guess]:.1f}%){truth}"
    fig.suptitle(f"{title}\nfeature maps: {COLOURS}" if t.stages else title)
    return _save(fig, path), t


# ---------------------------------------------------------------- after training


def training_pictures(out, model, history, test_set, classes, preds, labels) -> list[str]:
    """The four pictures ``minigrad train`` writes into ``out``; returns their file names."""
    sample, label = test_set[0]
    caption = f"test sample 0\n(class {classes[label]})"
    made = [
        save_curves(history, os.path.join(out, "curves.png")),
        save_filters(model, os.path.join(out, "filters.png")),
        save_feature_maps(model, sample, os.path.join(out, "feature_maps.png"), caption),
        save_confusion(preds, labels, classes, os.path.join(out, "confusion.png")),
    ]
    return [os.path.basename(p) for p in made]
