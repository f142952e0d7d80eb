"""minigrad.viz: what the pictures show (stages, votes, confusion counts, resized inputs) and
that every picture is a valid PNG of the expected size."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import viz
from minigrad.data import LECTURE_O, LECTURE_X, XO
from minigrad.models import MLP, MNIST1DNet, XONet

ROOT = Path(__file__).resolve().parent.parent


def png_size(path) -> tuple[int, int]:
    """(width, height) from the PNG header, after checking the signature and that matplotlib
    reads back an image of that size."""
    from matplotlib.image import imread

    raw = Path(path).read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and raw[12:16] == b"IHDR"
    width, height = int.from_bytes(raw[16:20], "big"), int.from_bytes(raw[20:24], "big")
    img = imread(path)
    assert img.shape[:2] == (height, width) and img.shape[2] in (3, 4)
    return width, height


@pytest.fixture
def xonet():
    mg.manual_seed(0)
    return XONet()


def test_curves_have_the_documented_size(tmp_path):
    history = [
        {"epoch": e, "train_loss": 1 / e, "test_loss": 1.2 / e, "train_acc": 0.5 + e / 10,
         "test_acc": 0.45 + e / 10}
        for e in (1, 2, 3)
    ]  # fmt: skip
    path = viz.save_curves(history, tmp_path / "c.png")
    assert png_size(path) == tuple(int(s * viz.plots.DPI) for s in viz.plots.CURVES_SIZE)


def test_trace_records_every_stage_of_the_lecture_net(xonet):
    x = mg.tensor(LECTURE_X).reshape(1, 9, 9)
    t = viz.trace(xonet, x)
    got = [(s.label, s.values.shape) for s in t.stages]
    assert got == [
        ("conv 1", (8, 7, 7)),
        ("ReLU 1", (8, 7, 7)),
        ("max pool 1", (8, 4, 4)),
        ("conv 2", (16, 2, 2)),
        ("ReLU 2", (16, 2, 2)),
        ("max pool 2", (16, 1, 1)),
    ]
    conv = xonet.features[0]
    with mg.no_grad():
        expected = F.conv2d(x.unsqueeze(0), conv.weight, conv.bias)[0].numpy()
        logits = xonet.eval()(x.unsqueeze(0))[0].numpy()
    np.testing.assert_allclose(t.stages[0].values, expected, rtol=1e-6)
    np.testing.assert_array_equal(t.stages[1].values, np.maximum(expected, 0))
    # the last layer's votes add up (with the bias) to the model's scores
    v = t.votes
    assert v.votes.shape == (2, 16)
    np.testing.assert_allclose(v.votes.sum(1) + v.bias, logits, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(t.probs, np.exp(logits) / np.exp(logits).sum(), rtol=1e-5)


def test_trace_takes_its_hooks_off_and_keeps_the_mode(xonet):
    xonet.train()
    viz.trace(xonet, np.zeros((1, 9, 9), dtype=np.float32))
    assert xonet.training and all(m.training for m in xonet.modules())
    assert all(not m._forward_hooks for m in xonet.modules())


def test_one_dimensional_models_and_mlps_are_drawn(tmp_path):
    mg.manual_seed(0)
    net = MNIST1DNet()
    t = viz.trace(net, np.linspace(-1, 1, 40, dtype=np.float32).reshape(1, 40))
    assert [s.values.shape for s in t.stages][:4] == [(32, 40), (32, 40), (32, 40), (32, 20)]
    assert t.votes.votes.shape == (10, 320)
    png_size(viz.save_feature_maps(net, np.zeros((1, 40), np.float32), tmp_path / "fm.png"))
    png_size(viz.save_filters(net, tmp_path / "f1.png"))
    mlp = MLP(num_classes=3, in_shape=(1, 8, 8), hidden=(5,))
    assert viz.first_layer_weights(mlp)[1].shape == (5, 64)
    png_size(viz.save_filters(mlp, tmp_path / "f2.png"))
    assert viz.trace(mlp, np.zeros((1, 8, 8), np.float32)).stages == []


def test_training_pictures_are_all_written(xonet, tmp_path):
    test_set = XO(n=20, train=False)
    history = [{"epoch": 1, "train_loss": 0.7, "test_loss": 0.6, "train_acc": 0.5,
                "test_acc": 0.6}]  # fmt: skip
    preds = [0, 1] * 10
    made = viz.training_pictures(
        tmp_path, xonet, history, test_set, XO.classes, preds, test_set.targets.tolist()
    )
    assert made == ["curves.png", "filters.png", "feature_maps.png", "confusion.png"]
    for name in made:
        width, height = png_size(tmp_path / name)
        assert width >= 300 and height >= 150


def test_explanation_picture(xonet, tmp_path):
    path, t = viz.save_explanation(xonet, mg.tensor(LECTURE_O).reshape(1, 9, 9), ["O", "X"],
                                   tmp_path / "e.png", label=0)  # fmt: skip
    width, height = png_size(path)
    assert width == 1200 and height > width  # input, six stages and the votes, one under another
    assert t.probs.shape == (2,) and abs(t.probs.sum() - 1) < 1e-9


# ---------------------------------------------------------------- what the pictures say


@pytest.fixture
def texts(monkeypatch):
    """Every piece of text (titles, labels, legends) of the figures saved while the test runs,
    one list per figure."""
    from matplotlib.text import Text

    drawn: list[list[str]] = []
    save = viz.plots._save

    def keep(fig, path):
        drawn.append([t.get_text() for t in fig.findobj(Text) if t.get_text()])
        return save(fig, path)

    monkeypatch.setattr(viz.plots, "_save", keep)
    return drawn


def test_wide_stages_say_how_many_channels_are_shown():
    caption = viz.plots.stage_caption
    assert caption(viz.Stage("conv 2", np.zeros((16, 2, 2)))) == (
        "conv 2\n16 maps of 2x2\nfirst 8 of 16 channels"
    )
    assert caption(viz.Stage("ReLU 1", np.zeros((8, 7, 7)))) == "ReLU 1\n8 maps of 7x7"
    assert caption(viz.Stage("conv 1", np.zeros((32, 40)))) == "conv 1\n32 channels of 40"


def test_feature_maps_and_explanation_label_every_row(xonet, tmp_path, texts):
    x = mg.tensor(LECTURE_X).reshape(1, 9, 9)
    viz.save_feature_maps(xonet, x, tmp_path / "fm.png", "the lecture's X")
    viz.save_explanation(xonet, x, ["O", "X"], tmp_path / "e.png", label=1, caption="sample 3")
    for drawn in texts:
        assert "conv 1\n8 maps of 7x7" in drawn and "max pool 1\n8 maps of 4x4" in drawn
        assert "conv 2\n16 maps of 2x2\nfirst 8 of 16 channels" in drawn
        assert "max pool 2\n16 maps of 1x1\nfirst 8 of 16 channels" in drawn
        assert any("red: positive, blue: negative" in t for t in drawn)
    feature_maps, explanation = texts
    assert "the lecture's X" in feature_maps and "sample 3" in explanation
    scores = [t for t in explanation if t.strip().startswith("score ")]
    assert len(scores) == 2 and "softmax of the scores" in explanation
    assert any(t.startswith("predicted ") and "true class X\n" in t for t in explanation)


def test_filters_curves_and_confusion_name_what_they_show(xonet, tmp_path, texts):
    viz.save_filters(xonet, tmp_path / "f.png")
    history = [{"epoch": 1, "train_loss": 0.7, "test_loss": 0.6, "train_acc": 0.5,
                "test_acc": 0.6}]  # fmt: skip
    viz.save_curves(history, tmp_path / "c.png")
    viz.save_confusion([0, 1, 1], [0, 1, 0], ["O", "X"], tmp_path / "m.png")
    mlp = MLP(num_classes=3, in_shape=(1, 8, 8), hidden=(5,))
    viz.save_filters(mlp, tmp_path / "f2.png")
    viz.save_feature_maps(mlp, np.zeros((1, 8, 8), np.float32), tmp_path / "fm2.png")
    filters, curves, confusion, mlp_weights, mlp_maps = texts
    assert filters[-1].startswith("the first convolution's learned 3x3 filters (all 8)")
    assert [t for t in filters if t.startswith("filter ")] == [f"filter {i}" for i in range(1, 9)]
    assert "train (mean over the epoch)" in curves and "test (after the epoch)" in curves
    assert {"predicted class", "true class", "test samples"} <= set(confusion)
    assert "confusion matrix: 66.67% of 3 right" in confusion
    assert mlp_weights[-1].startswith("the first layer's weights, one picture per unit (all 5)")
    assert [t for t in mlp_weights if t.startswith("unit ")] == [f"unit {i}" for i in range(1, 6)]
    assert any("no feature maps" in t for t in mlp_maps)


def test_confusion_matrix_counts():
    m = viz.confusion_matrix(preds=[0, 1, 1, 2, 2, 2], labels=[0, 1, 2, 2, 2, 0], num_classes=3)
    assert m.tolist() == [[1, 0, 1], [0, 1, 0], [0, 1, 2]]


def test_confusion_picture(tmp_path):
    classes = [f"class {i}" for i in range(10)]
    png_size(
        viz.save_confusion(list(range(10)) * 3, list(range(10)) * 3, classes, tmp_path / "c.png")
    )


# ---------------------------------------------------------------- pictures as model inputs


def write_png(path, rgba: np.ndarray) -> None:
    from matplotlib.image import imsave

    imsave(path, rgba)


def test_read_png_gives_grey_levels_with_transparency_over_white(tmp_path):
    rgba = np.zeros((2, 3, 4))
    rgba[0, 0] = [1, 0, 0, 1]  # opaque red
    rgba[0, 1] = [0, 0, 1, 1]  # opaque blue
    rgba[0, 2] = [0, 0, 0, 0]  # fully transparent black: shows the white behind
    rgba[1, :] = [0.5, 0.5, 0.5, 1]
    write_png(tmp_path / "p.png", rgba)
    grey = viz.read_png(tmp_path / "p.png")
    expected = [[0.299, 0.114, 1.0], [0.5, 0.5, 0.5]]
    np.testing.assert_allclose(grey, expected, atol=1.5 / 255)


def test_area_resize_undoes_whole_number_upscaling_and_keeps_the_mean():
    rng = np.random.default_rng(0)
    small = rng.random((9, 7))
    big = np.kron(small, np.ones((10, 6)))
    np.testing.assert_allclose(viz.resize(big, 9, 7), small, atol=1e-12)
    odd = viz.resize(small, 4, 5)  # 9x7 -> 4x5: no whole factor
    assert odd.shape == (4, 5) and abs(odd.mean() - small.mean()) < 1e-12
    np.testing.assert_allclose(viz.resize(np.full((13, 11), 0.3), 5, 8), 0.3)


@pytest.mark.parametrize("picture", [LECTURE_X, LECTURE_O])
def test_a_drawing_on_white_becomes_the_lecture_picture(tmp_path, picture):
    ink = np.kron(picture > 0, np.ones((12, 12)))  # black ink on white, 108x108
    write_png(tmp_path / "d.png", np.dstack([np.where(ink, 0.0, 1.0)] * 3 + [np.ones(ink.shape)]))
    x, inverted = viz.to_model_input(viz.read_png(tmp_path / "d.png"), (1, 9, 9), (-1.0, 1.0))
    assert inverted and x.dtype == np.float32 and x.shape == (1, 9, 9)
    np.testing.assert_array_equal(x[0], picture)
    y, inverted = viz.to_model_input(np.where(ink, 1.0, 0.0), (1, 9, 9), (0.0, 1.0), (0.5, 0.25))
    assert not inverted  # already light ink on dark
    np.testing.assert_allclose(y[0], (np.where(picture > 0, 1.0, 0.0) - 0.5) / 0.25)


def test_read_png_refuses_other_files(tmp_path):
    (tmp_path / "x.png").write_bytes(b"GIF89a not a png at all")
    with pytest.raises(ValueError, match="is not a PNG file"):
        viz.read_png(tmp_path / "x.png")


def test_import_minigrad_does_not_need_matplotlib():
    code = (
        "import sys, minigrad, minigrad.models, minigrad.cli; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
