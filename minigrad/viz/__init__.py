"""Pictures of training and of what a network sees, drawn with matplotlib (PNG files, no
display needed). ``import minigrad`` never imports this package: only code that draws does."""

try:
    import matplotlib  # noqa: F401
except ImportError:
    raise ImportError(
        "minigrad.viz needs matplotlib: pip install 'minigrad[viz]' (or pip install matplotlib)"
    ) from None

from minigrad.viz.image import read_png, resize, to_model_input
from minigrad.viz.plots import (
    confusion_matrix,
    save_confusion,
    save_curves,
    save_explanation,
    save_feature_maps,
    save_filters,
    training_pictures,
)
from minigrad.viz.trace import Stage, Trace, Votes, first_layer_weights, trace

__all__ = [
    "Stage",
    "Trace",
    "Votes",
    "confusion_matrix",
    "first_layer_weights",
    "read_png",
    "resize",
    "save_confusion",
    "save_curves",
    "save_explanation",
    "save_feature_maps",
    "save_filters",
    "to_model_input",
    "trace",
    "training_pictures",
]
