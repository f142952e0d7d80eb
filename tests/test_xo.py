"""The X-or-O data set: the lecture's exact pictures and kernels, and a generator that is
reproducible, balanced, varied the way the lecture's "trickier cases" are, and learnable."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import LECTURE_KERNELS, LECTURE_O, LECTURE_X, XO
from minigrad.data.xo import render

from .conftest import DEVICES


def _ink(ds: XO) -> np.ndarray:
    return ds.data[:, 0] > 0


# ---------------------------------------------------------------- the lecture's pictures


def test_lecture_x_has_a_blank_border_and_both_diagonals_inked():
    x = LECTURE_X
    assert x.shape == (9, 9) and x.dtype == np.float32
    assert set(np.unique(x)) == {-1.0, 1.0}
    for edge in (x[0], x[8], x[:, 0], x[:, 8]):
        assert (edge == -1).all()
    for i in range(1, 8):
        assert x[i, i] == 1 and x[i, 8 - i] == 1
    assert (x == 1).sum() == 13  # 7 + 7 with the centre shared


def test_lecture_o_is_a_symmetric_ring_inside_the_border():
    o = LECTURE_O
    assert o.shape == (9, 9) and set(np.unique(o)) == {-1.0, 1.0}
    for edge in (o[0], o[8], o[:, 0], o[:, 8]):
        assert (edge == -1).all()
    for same in (o.T, o[::-1], o[:, ::-1]):
        np.testing.assert_array_equal(same, o)
    assert o[4, 4] == -1 and o[1, 4] == 1 and o[4, 1] == 1 and o[2, 2] == 1
    assert (o == 1).sum() == 16


def test_lecture_kernels_are_exactly_the_slides():
    assert LECTURE_KERNELS["diagonal"].tolist() == [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]]
    assert LECTURE_KERNELS["cross"].tolist() == [[1, -1, 1], [-1, 1, -1], [1, -1, 1]]
    assert LECTURE_KERNELS["anti_diagonal"].tolist() == [[-1, -1, 1], [-1, 1, -1], [1, -1, -1]]
    with pytest.raises(ValueError):
        LECTURE_KERNELS["cross"][0, 0] = 5  # the constants are read-only


@pytest.mark.parametrize("device", DEVICES)
def test_lecture_tensors_hold_the_same_values(device):
    images, kernels = XO.lecture_images(device=device), XO.lecture_kernels(device=device)
    assert images["X"].dtype is mg.float32 and images["X"].device == mg.device(device)
    np.testing.assert_array_equal(images["X"].cpu().numpy(), LECTURE_X)
    np.testing.assert_array_equal(images["O"].cpu().numpy(), LECTURE_O)
    for name, k in kernels.items():
        np.testing.assert_array_equal(k.cpu().numpy(), LECTURE_KERNELS[name])


def test_filtering_the_lecture_x_with_the_diagonal_gives_a_perfect_match():
    # the slides: feature times patch, summed, divided by 9 -> 1 where the piece matches
    patch = LECTURE_X[1:4, 1:4]
    assert (patch * LECTURE_KERNELS["diagonal"]).sum() / 9 == 1.0
    assert (LECTURE_X[3:6, 3:6] * LECTURE_KERNELS["cross"]).sum() / 9 == 1.0


def test_the_renderer_draws_the_lecture_pictures_at_the_canonical_pose():
    one = np.ones(2)
    ink = render(np.array([True, False]), 3 * one, 3 * one, 0 * one, 0 * one, 0 * one, one, 9)
    np.testing.assert_array_equal(np.where(ink[0], 1, -1), LECTURE_X)
    np.testing.assert_array_equal(np.where(ink[1], 1, -1), LECTURE_O)


# ---------------------------------------------------------------- the generator


def test_same_seed_same_arrays_other_seed_other_arrays():
    a, b = XO(n=300, seed=1), XO(n=300, seed=1)
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(a.targets, b.targets)
    c = XO(n=300, seed=2)
    assert not np.array_equal(a.data, c.data)


@pytest.mark.parametrize("size", [9, 16])
def test_train_and_test_never_share_a_picture(size):
    train, test = XO(n=1500, size=size), XO(n=1500, size=size, train=False)
    seen = {img.tobytes() for img in _ink(train)}
    assert not any(img.tobytes() in seen for img in _ink(test))
    # whatever the seeds: each split owns its half of all possible pictures
    other = {img.tobytes() for img in _ink(XO(n=1500, size=size, seed=5))}
    assert not any(img.tobytes() in other for img in _ink(test))


@pytest.mark.parametrize("n", [400, 401])
def test_classes_are_balanced_and_shuffled(n):
    ds = XO(n=n)
    assert ds.classes == ("O", "X")
    counts = np.bincount(ds.targets, minlength=2)
    assert counts[0] == (n + 1) // 2 and counts[1] == n // 2
    assert ds.targets.dtype == np.int64
    # shuffled: not alternating and not sorted
    assert 0.3 < np.mean(ds.targets[1:] != ds.targets[:-1]) < 0.7


@pytest.mark.parametrize("size", [9, 16, 28])
def test_pictures_are_plus_minus_one_with_ink_inside_the_frame(size):
    ds = XO(n=200, size=size)
    assert ds.data.shape == (200, 1, size, size) and ds.data.dtype == np.float32
    assert set(np.unique(ds.data)) == {-1.0, 1.0}
    ink = _ink(ds).sum(axis=(1, 2))
    assert ink.min() >= 0.1 * size * size / 9 and ink.max() < 0.6 * size * size


def _centroids(ink: np.ndarray) -> np.ndarray:
    size = ink.shape[-1]
    grid = np.arange(size)
    mass = ink.sum(axis=(1, 2))
    rows = (ink.sum(axis=2) * grid).sum(axis=1) / mass
    cols = (ink.sum(axis=1) * grid).sum(axis=1) / mass
    return np.stack([rows, cols], axis=1)


def test_the_trickier_cases_really_vary():
    ds = XO(n=1000)
    ink = _ink(ds)
    for cls in (0, 1):
        pics = ink[ds.targets == cls]
        centre = _centroids(pics)
        # translation: centroids wander by more than a pixel either way
        assert (np.ptp(centre, axis=0) > 2.0).all() and (centre.std(axis=0) > 0.4).all()
        # scaling and stroke weight: the amount of ink spreads widely
        amount = pics.sum(axis=(1, 2))
        low, high = np.percentile(amount, [5, 95])
        assert high > 1.8 * low
        # no two pictures alike, beyond a few small ones
        assert len({p.tobytes() for p in pics}) > 0.95 * len(pics)
    # ink amounts of X's and O's overlap, so counting ink does not tell them apart
    amount = ink.sum(axis=(1, 2))
    q_o = np.percentile(amount[ds.targets == 0], [25, 75])
    q_x = np.percentile(amount[ds.targets == 1], [25, 75])
    assert q_o[0] < q_x[1] and q_x[0] < q_o[1]


def test_matching_whole_pictures_to_the_lecture_templates_is_not_enough():
    # computers are literal: a pixel-by-pixel match with the reference X and O fails often
    ds = XO(n=1000, train=False)
    flat = ds.data[:, 0].reshape(len(ds), -1)
    guess = (flat @ LECTURE_X.ravel() > flat @ LECTURE_O.ravel()).astype(np.int64)
    accuracy = (guess == ds.targets).mean()
    assert 0.55 < accuracy < 0.9


def _longest_straight_run(pics: np.ndarray) -> np.ndarray:
    """Per picture, the longest horizontal or vertical run of ink pixels."""
    best = np.zeros(len(pics), dtype=np.int64)
    for p in (pics, pics.transpose(0, 2, 1)):
        run = np.zeros(p.shape[:2], dtype=np.int64)
        for col in range(p.shape[2]):
            run = np.where(p[:, :, col], run + 1, 0)
            best = np.maximum(best, run.max(axis=1))
    return best


def test_rotation_turns_some_xs_into_plus_signs():
    # an upright X has no long straight bar; turned by about 45 degrees it becomes a +
    upright, turned = XO(n=400, max_rotation=0.0), XO(n=400, max_rotation=90.0)
    assert _longest_straight_run(_ink(upright)[upright.targets == 1]).max() < 8
    assert np.mean(_longest_straight_run(_ink(turned)[turned.targets == 1]) >= 8) > 0.1


def _isolated_ink(ink: np.ndarray) -> int:
    pad = np.pad(ink, ((0, 0), (1, 1), (1, 1)))
    shifted = [np.roll(pad, (a, b), axis=(1, 2)) for a in (-1, 0, 1) for b in (-1, 0, 1)]
    neighbours = (sum(shifted) - pad)[:, 1:-1, 1:-1]
    return int((ink & (neighbours == 0)).sum())


def test_noise_flips_pixels_and_bad_options_are_refused():
    assert _isolated_ink(_ink(XO(n=200))) == 0  # clean strokes are connected
    noisy = XO(n=200, noise=0.05)
    assert set(np.unique(noisy.data)) == {-1.0, 1.0}
    assert _isolated_ink(_ink(noisy)) > 100
    for bad in (dict(n=0), dict(size=5), dict(noise=0.7), dict(max_rotation=-1), dict(seed=-1)):
        with pytest.raises(ValueError, match="XO: "):
            XO(**bad)


def test_a_small_convnet_learns_it():
    torch = pytest.importorskip("torch")
    train, test = XO(n=1500), XO(n=1000, train=False)
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2, ceil_mode=True),
        torch.nn.Conv2d(8, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveMaxPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(16, 2),
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    x, y = torch.tensor(train.data), torch.tensor(train.targets)
    for _ in range(3):
        for b in torch.randperm(len(x)).split(50):
            loss = torch.nn.functional.cross_entropy(net(x[b]), y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        guess = net(torch.tensor(test.data)).argmax(1).numpy()
    assert (guess == test.targets).mean() >= 0.99
