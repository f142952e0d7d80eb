"""Training checkpoints: what ``train`` saves (model, optimizer, progress, random state and the
recipe that rebuilds the model) and reading one back with clear errors."""

from __future__ import annotations

import os

from minigrad import backend
from minigrad.cli.errors import CLIError
from minigrad.models import Classifier, build_model
from minigrad.serialization import load, save

KIND = "minigrad train checkpoint"
VERSION = 1
# entries every checkpoint has; see ``Run.checkpoint`` in train.py for what they hold
REQUIRED = ("config", "model_kwargs", "classes", "model", "optimizer", "epoch", "loader", "rng")


def open_device(spec: str | None) -> backend.Device:
    """The device ``spec`` names, checked now: a missing CUDA becomes a ``CLIError`` that says
    why (CuPy not installed, or no GPU)."""
    try:
        dev = backend.device(spec)
        backend.get_xp(dev)
    except (RuntimeError, ValueError) as e:
        raise CLIError(str(e)) from None
    return dev


def write(path: str, state: dict) -> None:
    """Save ``state`` to ``path`` atomically: a crash leaves the previous checkpoint intact."""
    save({"kind": KIND, "version": VERSION, **state}, path)


def read(path: str, device: backend.Device | None = None) -> dict:
    """The checkpoint at ``path`` (tensors on ``device``), or a ``CLIError`` when the file is
    missing, damaged, or not written by ``minigrad train``."""
    if not os.path.isfile(path):
        raise CLIError(f"no checkpoint at {path!r} (expected a file written by minigrad train)")
    try:
        ckpt = load(path, map_location=device)
    except (OSError, ValueError, RuntimeError) as e:
        raise CLIError(f"can't read checkpoint {path!r}: {e}") from None
    if not isinstance(ckpt, dict) or ckpt.get("kind") != KIND:
        raise CLIError(
            f"{path!r} is not a checkpoint written by `minigrad train` (it holds "
            f"{_describe(ckpt)}); to use bare weights, load them with mg.load and "
            "model.load_state_dict in Python"
        )
    if ckpt.get("version") != VERSION:
        raise CLIError(
            f"checkpoint {path!r} has format version {ckpt.get('version')!r}; this minigrad "
            f"reads version {VERSION}"
        )
    missing = [k for k in REQUIRED if k not in ckpt]
    if missing:
        raise CLIError(f"checkpoint {path!r} is incomplete: it lacks {', '.join(missing)}")
    return ckpt


def restore_model(ckpt: dict, path: str, device: backend.Device) -> Classifier:
    """The checkpoint's model, rebuilt from its recipe, with its weights, on ``device``."""
    name = ckpt["config"].get("model")
    try:
        model = build_model(name, **ckpt["model_kwargs"])
    except (ValueError, TypeError) as e:
        raise CLIError(f"checkpoint {path!r} names a model that can't be built: {e}") from None
    try:
        model.load_state_dict(ckpt["model"])
    except (RuntimeError, TypeError) as e:
        raise CLIError(f"checkpoint {path!r} does not match the model {name!r}: {e}") from None
    return model.to(device)


def check_data(ckpt: dict, path: str, name: str, dataset) -> None:
    """A ``CLIError`` unless ``dataset`` has the inputs and classes the checkpoint's model was
    trained for."""
    want_shape = tuple(ckpt["model_kwargs"].get("in_shape", ()))
    want_classes = len(ckpt["classes"])
    shape, classes = tuple(dataset.sample_shape), len(dataset.classes)
    if shape != want_shape or classes != want_classes:
        raise CLIError(
            f"checkpoint {path!r} was trained on {ckpt['config']['data']} (inputs {want_shape}, "
            f"{want_classes} classes), but {name} has inputs {shape} and {classes} classes"
        )


def _describe(obj) -> str:
    if isinstance(obj, dict):
        keys = ", ".join(repr(k) for k in list(obj)[:4])
        return f"a dict with keys {keys}{', ...' if len(obj) > 4 else ''}"
    return f"a {type(obj).__name__}"
