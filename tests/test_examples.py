"""Every example runs in a tiny version and ends by printing its result; the lecture
walk-through prints the slides' own numbers, computed by minigrad's conv2d, relu and max_pool2d,
and the gradient-descent example the lecture's cross-entropies."""

from __future__ import annotations

import importlib.util
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from minigrad.data import fashion_mnist

ROOT = Path(__file__).resolve().parent.parent
HAVE_FASHION = any(
    (fashion_mnist.DEFAULT_ROOT / f"{fashion_mnist.FILES[True][0]}{ext}").is_file()
    for ext in (".gz", "")
)
needs_fashion = pytest.mark.skipif(
    not HAVE_FASHION,
    reason=f"Fashion-MNIST files not in {fashion_mnist.DEFAULT_ROOT} "
    "(apt-get install dataset-fashion-mnist; CI's .ci/run installs it)",
)


def run_example(name: str, *args: str, cwd: Path | None = None) -> list[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("MINIGRAD_FAKE_CUDA", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[-1].startswith("result: "), lines[-3:]
    return lines


def percent(line: str, label: str) -> float:
    return float(re.search(rf"{label} ([\d.]+)%", line).group(1))


# ---------------------------------------------------------------- the lecture's numbers

# the slides: the lecture's X filtered with the diagonal feature, and that map max-pooled
DIAGONAL_MAP = """\
 0.77 -0.11  0.11  0.33  0.55 -0.11  0.33
-0.11  1.00 -0.11  0.33 -0.11  0.11 -0.11
 0.11 -0.11  1.00 -0.33  0.11 -0.11  0.55
 0.33  0.33 -0.33  0.55 -0.33  0.33  0.33
 0.55 -0.11  0.11 -0.33  1.00 -0.11  0.11
-0.11  0.11 -0.11  0.33 -0.11  1.00 -0.11
 0.33 -0.11  0.55  0.33  0.11 -0.11  0.77"""
POOLED_DIAGONAL = """\
1.00 0.33 0.55 0.33
0.33 1.00 0.33 0.55
0.55 0.33 1.00 0.11
0.33 0.55 0.11 0.77"""


def block_after(lines: list[str], title: str, rows: int) -> str:
    i = lines.index(title)
    return "\n".join(" ".join(line.split()) for line in lines[i + 1 : i + 1 + rows])


def numbers(block: str) -> list[list[float]]:
    return [[float(v) for v in row.split()] for row in block.splitlines()]


def test_xo_lecture_prints_the_slides_numbers_then_learns():
    lines = run_example("xo_lecture.py", "--quick")
    squeeze = lambda text: "\n".join(" ".join(r.split()) for r in text.splitlines())  # noqa: E731
    # the lecture's order: filter, then ReLU on the 7x7 map, then pool
    order = ["feature diagonal:", "rectified diagonal:", "pooled diagonal:"]
    assert [lines.index(t) for t in order] == sorted(lines.index(t) for t in order)
    assert block_after(lines, "feature diagonal:", 7) == squeeze(DIAGONAL_MAP)
    # the cross feature matches the X's centre perfectly; the anti-diagonal mirrors the diagonal
    cross = block_after(lines, "feature cross:", 7).splitlines()
    assert cross[3].split()[3] == "1.00" and cross[1].split()[1] == "0.55"
    anti = block_after(lines, "feature anti_diagonal:", 7).splitlines()
    assert anti[0].split() == DIAGONAL_MAP.splitlines()[0].split()[::-1]
    # ReLU: every negative of the filtered 7x7 map (-0.11, -0.33) becomes 0, positives stay
    filtered = numbers(DIAGONAL_MAP)
    rectified = numbers(block_after(lines, "rectified diagonal:", 7))
    negatives = [(r, c) for r, row in enumerate(filtered) for c, v in enumerate(row) if v < 0]
    assert len(negatives) == 20
    for r, row in enumerate(filtered):
        for c, v in enumerate(row):
            assert rectified[r][c] == (0.0 if v < 0 else v), (r, c)
    assert f"the {len(negatives)} negative values of the diagonal map become 0" in "\n".join(lines)
    # pooling the rectified map gives the slides' 4x4 map
    assert block_after(lines, "pooled diagonal:", 4) == squeeze(POOLED_DIAGONAL)
    # stacking: pooling the 4x4 stack again leaves 3 maps of 2x2 = 12 values
    (x_values,) = [line for line in lines if line.startswith("  the lecture's X, 12 values:")]
    twelve = [float(v) for v in x_values.split(":")[1].split()]
    pooled = numbers(POOLED_DIAGONAL)
    assert len(twelve) == 12 and twelve[:4] == [
        max(pooled[r][c] for r in rows for c in cols)
        for rows in ((0, 1), (2, 3))
        for cols in ((0, 1), (2, 3))
    ]
    # the fully connected vote picks the right class for both pictures; error = right - actual
    for label, other in (("X", "O"), ("O", "X")):
        i = next(
            i for i, line in enumerate(lines) if line.startswith(f"  the lecture's {label}: X ")
        )
        vote = re.search(r"X ([\d.]+), O ([\d.]+) -> ([XO])$", lines[i])
        answers = {"X": float(vote[1]), "O": float(vote[2])}
        assert vote[3] == label and answers[label] > answers[other]
        errors = re.findall(r"([XO]) ([01]) - ([\d.]+) = ([+-][\d.]+)", lines[i + 1])
        assert [e[0] for e in errors] == ["X", "O"]
        for name, right, actual, error in errors:
            assert int(right) == (name == label) and float(actual) == answers[name]
            assert float(error) == pytest.approx(int(right) - float(actual), abs=1e-9)
    assert percent(lines[-1], "with") > 60


def test_gradient_descent_prints_the_lecture_errors_and_the_loss_falls():
    lines = run_example("gradient_descent.py", "--quick")
    # the lecture: probabilities 0.6, 0.2, 0.1, 0.7 give 4.8; 0.7, 0.9, 0.8, 0.6 give 1.2
    for name, probs, total in (("worse line", (0.6, 0.2, 0.1, 0.7), "4.8"),
                               ("better line", (0.7, 0.9, 0.8, 0.6), "1.2")):  # fmt: skip
        (line,) = [line for line in lines if line.startswith(f"{name}: ")]
        terms = re.search(r"-sum\(log p\) = ([\d. +]+) = ([\d.]+) = -log\(product\) ([\d.]+)", line)
        assert terms, line
        each = [float(t) for t in terms[1].split(" + ")]
        assert each == [round(-math.log(p), 2) for p in probs]  # a sum of -log p, one per point
        assert terms[2] == terms[3] == total
        product = float(re.search(r"product ([\d.]+)", line)[1])
        assert product == round(math.prod(probs), 4)
    steps = [re.match(r"epoch +(\d+)  cross-entropy ([\d.]+)  accuracy ([\d.]+)%", line)
             for line in lines if line.startswith("epoch")]  # fmt: skip
    epochs = [int(m[1]) for m in steps]
    losses = [float(m[2]) for m in steps]
    assert epochs[0] == 0 and epochs[-1] == 20 and epochs == sorted(epochs)
    assert losses[0] == round(math.log(2), 4)  # zero weights: every probability is 0.5
    assert all(b < a for a, b in zip(losses, losses[1:]))  # every step goes downhill
    assert losses[-1] < 0.5 * losses[0]
    result = re.search(r"puts ([\d.]+)% of the 100 points .* ([\d.]+) -> ([\d.]+) in 20", lines[-1])
    assert result and float(result[1]) > 80
    assert float(result[2]) == losses[0] and float(result[3]) == losses[-1]


# ---------------------------------------------------------------- the data-set examples


def test_digits_cnn_quick():
    lines = run_example("digits_cnn.py", "--epochs", "3", "--limit", "600")
    assert percent(lines[-1], "test accuracy") > 50 and "(target 98%" in lines[-1]


def test_mnist1d_conv1d_quick():
    lines = run_example("mnist1d_conv1d.py", "--epochs", "3", "--limit", "1000")
    assert percent(lines[-1], "test accuracy") > 30 and "the published CNN" in lines[-1]


@needs_fashion
def test_fashion_mnist_cnn_quick():
    lines = run_example("fashion_mnist_cnn.py", "--epochs", "1", "--limit", "600")
    assert percent(lines[-1], "test accuracy") > 40 and "(target 91%" in lines[-1]


@needs_fashion
def test_conv_autoencoder_quick(tmp_path):
    out = tmp_path / "rec.png"
    lines = run_example(
        "conv_autoencoder.py", "--epochs", "1", "--limit", "1000", "--out", str(out)
    )
    mse, baseline = map(float, re.findall(r"(\d\.\d+)", lines[-1]))
    assert mse < baseline  # better than answering the mean picture
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_fashion
def test_transfer_learning_quick():
    lines = run_example(
        "transfer_learning.py", "--epochs", "1", "--limit", "1000", "--per-class", "10",
        "--head-epochs", "3", "--torch-steps", "3",
    )  # fmt: skip
    assert re.search(r"transfer [\d.]+% vs from scratch [\d.]+%", lines[-1])
    (pytorch,) = [line for line in lines if line.startswith("4. ")]
    if importlib.util.find_spec("torch") is None:
        assert "skipped: PyTorch is not installed" in pytorch
    else:
        diff = float(re.search(r"difference over \d+ test pictures is ([\d.e+-]+)", pytorch)[1])
        assert diff < 1e-4 and "agree on 100%" in pytorch


def test_compare_with_torch_quick():
    pytest.importorskip("torch")
    lines = run_example("compare_with_torch.py", "--data", "xo", "--epochs", "1", "--limit", "300")
    row = [line for line in lines if line.startswith("| xo | xonet | 1 |")]
    assert row and re.search(r"minigrad [\d.]+% vs PyTorch [\d.]+%", lines[-1])
    ours, theirs = percent(lines[-1], "minigrad"), percent(lines[-1], "PyTorch")
    assert abs(ours - theirs) <= 2.0  # same weights, same batches: the same learning
