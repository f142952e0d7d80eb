"""Reading a PNG picture and turning it into a model input: grey, dark background, resized to
the model's size by area averaging, scaled to the training data's range."""

from __future__ import annotations

import os

from minigrad.backend import host as np  # pictures are drawn from host arrays

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601 weights of R, G, B


def read_png(path: str | os.PathLike) -> np.ndarray:
    """The picture at ``path`` as grey levels (H, W) in [0, 1]; transparent pixels count as
    white. A ``ValueError`` if it is not a PNG file, a ``FileNotFoundError`` if missing."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = f.read(8)
    if head != PNG_SIGNATURE:
        raise ValueError(f"{path!r} is not a PNG file (it starts with {head!r})")
    from matplotlib.image import imread

    try:
        img = np.asarray(imread(path, format="png"), dtype=np.float64)
    except Exception as e:  # Pillow and matplotlib raise their own error types
        raise ValueError(f"{path!r} is a damaged PNG file: {e}") from None
    if img.ndim == 3:
        colour = img.shape[2] >= 3
        grey = img[..., :3] @ LUMA if colour else img[..., 0]
        if img.shape[2] in (2, 4):  # the last channel is alpha: composite over white
            alpha = img[..., -1]
            grey = grey * alpha + (1.0 - alpha)
        img = grey
    return np.clip(img, 0.0, 1.0)


def area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in): output cell ``i`` is the average of the input over the interval
    ``[i, i + 1) * n_in / n_out``, each input pixel weighted by how much of it lies inside."""
    edges = np.linspace(0.0, n_in, n_out + 1)
    lo, hi = edges[:-1, None], edges[1:, None]  # (n_out, 1) cell bounds
    px = np.arange(n_in)[None, :]  # (1, n_in) pixel starts
    overlap = np.clip(np.minimum(hi, px + 1) - np.maximum(lo, px), 0.0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def resize(grey: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W) -> (height, width) by area averaging (exact for whole-number factors)."""
    return area_matrix(grey.shape[0], height) @ grey @ area_matrix(grey.shape[1], width).T


def to_model_input(
    grey: np.ndarray,
    in_shape,
    pixel_range: tuple[float, float],
    normalize: tuple[float, float] | None = None,
) -> tuple[np.ndarray, bool]:
    """A grey picture as the float32 input (C, H, W) a model trained on ``in_shape`` expects,
    and whether it was inverted: the built-in data sets draw light ink on a dark background,
    so a picture whose border is mostly light is flipped first."""
    channels, height, width = in_shape
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    inverted = bool(border.mean() > 0.5)
    if inverted:
        grey = 1.0 - grey
    lo, hi = pixel_range
    x = lo + (hi - lo) * resize(grey, height, width)
    if normalize is not None:
        mean, std = normalize
        x = (x - mean) / std
    return np.repeat(x[None], channels, axis=0).astype(np.float32), inverted
